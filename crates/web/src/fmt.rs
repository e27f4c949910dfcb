//! How values read on a page: times in the viewer's zone, shares as
//! percentages, record states as words.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// A moment in the viewer's time zone: "Tue 3 Mar 2026, 10:00 CET".
pub(crate) fn when(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

/// A day: "3 Mar 2026".
pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// The value of a `datetime-local` input for a moment in the viewer's zone.
pub(crate) fn local_input(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// A `datetime-local` input's value, read in the viewer's zone.
pub(crate) fn parse_local(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    naive
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// A share as a percentage: "27%".
pub(crate) fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// A snake_case state as words: "needs exception".
pub(crate) fn words(s: &str) -> String {
    s.replace(['_', '-'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_read_in_the_viewers_zone_and_round_trip() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 3, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        assert_eq!(when(t, berlin), "Tue 3 Mar 2026, 10:00 CET");
        assert_eq!(local_input(t, berlin), "2026-03-03T10:00");
        assert_eq!(parse_local("2026-03-03T10:00", berlin), Some(t));
        assert_eq!(parse_local("tomorrow", berlin), None);
        assert_eq!(pct(0.254), "25%");
        assert_eq!(words("needs_exception"), "needs exception");
    }
}
