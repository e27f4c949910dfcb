//! Business days, for lead times: "at least 2 business days' notice".

use chrono::{Datelike, NaiveDate, Weekday};

/// The business days from `from` (exclusive) to `to` (inclusive): a request
/// made on Monday for Wednesday has 2 days' notice, one made on Friday for
/// Monday has 1. Zero or negative when `to` is not after `from`.
pub fn business_days_between(from: NaiveDate, to: NaiveDate, workweek: &[Weekday]) -> i64 {
    if to == from {
        return 0;
    }
    if to < from {
        return -(business_days_between(to, from, workweek));
    }
    let days = (to - from).num_days();
    let per_week = workweek.len() as i64;
    let (weeks, rest) = (days / 7, days % 7);
    let mut n = weeks * per_week;
    // The remaining days are the last `rest` days up to `to`.
    let mut d = to;
    for _ in 0..rest {
        if workweek.contains(&d.weekday()) {
            n += 1;
        }
        d = d.pred_opt().unwrap_or(d);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WEEK: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekends_do_not_count() {
        // 2026-03-02 is a Monday.
        assert_eq!(
            business_days_between(d("2026-03-02"), d("2026-03-04"), &WEEK),
            2
        );
        assert_eq!(
            business_days_between(d("2026-03-06"), d("2026-03-09"), &WEEK),
            1
        );
        assert_eq!(
            business_days_between(d("2026-03-06"), d("2026-03-08"), &WEEK),
            0
        );
        assert_eq!(
            business_days_between(d("2026-03-02"), d("2026-03-02"), &WEEK),
            0
        );
        assert_eq!(
            business_days_between(d("2026-03-02"), d("2026-03-16"), &WEEK),
            10
        );
        assert_eq!(
            business_days_between(d("2026-03-04"), d("2026-03-02"), &WEEK),
            -2
        );
    }

    proptest! {
        #[test]
        fn matches_counting_day_by_day(start in 0i64..3000, len in 0i64..400) {
            let from = d("2020-01-01") + chrono::Duration::days(start);
            let to = from + chrono::Duration::days(len);
            let mut n = 0;
            let mut x = from;
            while x < to {
                x = x.succ_opt().unwrap();
                if WEEK.contains(&x.weekday()) { n += 1; }
            }
            prop_assert_eq!(business_days_between(from, to, &WEEK), n);
        }
    }
}
