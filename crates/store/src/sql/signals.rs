//! The queries signals are computed from, and the roll-ups they read,
//! maintained as meetings, insights and decisions are written.

use std::collections::{BTreeMap, HashMap, HashSet};

use accord_domain::access::AccessState;
use accord_domain::commitment::CommitmentState;
use accord_domain::id::{AccountId, PersonId};
use accord_domain::record::{RecordKind, RecordRef};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{RowExt, SqlTx, parse_enum, pipelined, shaped_chunks, sql_impl};
use crate::Result;
use crate::model::{DecisionRecord, StoredMeeting};
use crate::ops::SignalOps;
use crate::rollup::*;

/// The owner key of an unowned account in `contact_days`.
const NO_OWNER: Uuid = Uuid::nil();

sql_impl!(SignalOps, SqlTx {
    async fn contact_aggregates(&mut self, first: NaiveDate, last: NaiveDate) -> Result<Vec<ContactAggregate>> {
        // Whole months from the monthly roll-up, the days around them from
        // the daily one.
        let rows = match whole_months(first, last) {
            Some((m1, m2, before, after)) => sqlx::query("SELECT pm_id, owner_id, CAST(SUM(contacts) AS BIGINT) AS contacts, CAST(SUM(owner_present) AS BIGINT) AS owner_present, CAST(SUM(with_insight) AS BIGINT) AS with_insight FROM (SELECT pm_id, owner_id, contacts, owner_present, with_insight FROM contact_months WHERE month >= $1 AND month <= $2 UNION ALL SELECT pm_id, owner_id, contacts, owner_present, with_insight FROM contact_days WHERE day >= $3 AND day < $4 UNION ALL SELECT pm_id, owner_id, contacts, owner_present, with_insight FROM contact_days WHERE day > $5 AND day <= $6) c GROUP BY pm_id, owner_id")
                .bind(m1)
                .bind(m2)
                .bind(first)
                .bind(before)
                .bind(after)
                .bind(last)
                .fetch_all(self.conn().await?)
                .await?,
            None => sqlx::query("SELECT pm_id, owner_id, CAST(SUM(contacts) AS BIGINT) AS contacts, CAST(SUM(owner_present) AS BIGINT) AS owner_present, CAST(SUM(with_insight) AS BIGINT) AS with_insight FROM contact_days WHERE day >= $1 AND day <= $2 GROUP BY pm_id, owner_id")
                .bind(first)
                .bind(last)
                .fetch_all(self.conn().await?)
                .await?,
        };
        rows.iter()
            .map(|r| {
                let owner = r.uuid("owner_id")?;
                Ok(ContactAggregate {
                    pm: PersonId(r.uuid("pm_id")?),
                    owner: (owner != NO_OWNER).then_some(PersonId(owner)),
                    contacts: r.int("contacts")?,
                    owner_present: r.int("owner_present")?,
                    with_insight: r.int("with_insight")?,
                })
            })
            .collect()
    }

    async fn contact_totals(&mut self, first: NaiveDate, last: NaiveDate) -> Result<ContactTotals> {
        let r = sqlx::query("SELECT CAST(COALESCE(SUM(customer_contacts), 0) AS BIGINT) AS c, CAST(COALESCE(SUM(pm_contacts), 0) AS BIGINT) AS p FROM meeting_days WHERE day >= $1 AND day <= $2")
            .bind(first)
            .bind(last)
            .fetch_one(self.conn().await?)
            .await?;
        Ok(ContactTotals { customer_contacts: r.int("c")?, pm_contacts: r.int("p")? })
    }

    async fn done_requests(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<DoneAggregate>> {
        let rows = sqlx::query("SELECT pm_id, requester_id, engagement_type, COUNT(*) AS n, COALESCE(SUM(hours), 0.0) AS hours FROM engagement_requests WHERE state = 'done' AND completed_at >= $1 AND completed_at < $2 GROUP BY pm_id, requester_id, engagement_type")
            .bind(start)
            .bind(end)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DoneAggregate {
                    pm: r.opt_uuid("pm_id")?.map(PersonId),
                    requester: PersonId(r.uuid("requester_id")?),
                    engagement_type: r.text("engagement_type")?,
                    count: r.int("n")?,
                    hours: r.float("hours")?,
                })
            })
            .collect()
    }

    async fn created_requests(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, flagged_by: &str) -> Result<Vec<CreatedAggregate>> {
        let rows = sqlx::query("SELECT r.requester_id, r.pm_id, o.stage, COUNT(*) AS n FROM engagement_requests r JOIN opportunities o ON o.id = r.opportunity_id WHERE r.created_at >= $1 AND r.created_at < $2 GROUP BY r.requester_id, r.pm_id, o.stage")
            .bind(start)
            .bind(end)
            .fetch_all(self.conn().await?)
            .await?;
        let mut out: Vec<CreatedAggregate> = rows
            .iter()
            .map(|r| {
                Ok(CreatedAggregate {
                    requester: PersonId(r.uuid("requester_id")?),
                    pm: r.opt_uuid("pm_id")?.map(PersonId),
                    stage: r.text("stage")?,
                    count: r.int("n")?,
                    flagged: 0,
                })
            })
            .collect::<Result<_>>()?;
        // The flagged ones: decisions where the rule matched, for requests
        // created in the window (decisions on a request are made at its
        // creation or redirection, inside the same window).
        let rows = sqlx::query("SELECT r.requester_id, r.pm_id, o.stage, COUNT(DISTINCT r.id) AS n FROM decision_rules dr JOIN decisions d ON d.id = dr.decision_id JOIN engagement_requests r ON r.id = d.record_id JOIN opportunities o ON o.id = r.opportunity_id WHERE dr.rule_id = $1 AND dr.at >= $2 AND dr.at < $3 AND d.record_kind = 'request' AND r.created_at >= $2 AND r.created_at < $3 GROUP BY r.requester_id, r.pm_id, o.stage")
            .bind(flagged_by)
            .bind(start)
            .bind(end)
            .fetch_all(self.conn().await?)
            .await?;
        for r in &rows {
            let key = (PersonId(r.uuid("requester_id")?), r.opt_uuid("pm_id")?.map(PersonId), r.text("stage")?);
            let n = r.int("n")?;
            if let Some(a) = out.iter_mut().find(|a| (a.requester, a.pm, a.stage.clone()) == key) {
                a.flagged += n;
            }
        }
        Ok(out)
    }

    async fn answered_access(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<AccessAggregate>> {
        let rows = sqlx::query("SELECT pm_id, owner_id, state, COUNT(*) AS n FROM access_requests WHERE answered_at >= $1 AND answered_at < $2 GROUP BY pm_id, owner_id, state")
            .bind(start)
            .bind(end)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessAggregate {
                    pm: PersonId(r.uuid("pm_id")?),
                    owner: r.opt_uuid("owner_id")?.map(PersonId),
                    state: parse_enum::<AccessState>(&r.text("state")?, "access state")?,
                    count: r.int("n")?,
                })
            })
            .collect()
    }

    async fn commitments_made(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<CommitmentRow>> {
        let rows = sqlx::query("SELECT c.id, c.said_by, a.owner_id, c.state, c.said_at FROM commitments c JOIN accounts a ON a.id = c.account_id WHERE c.said_at >= $1 AND c.said_at < $2 ORDER BY c.said_at")
            .bind(start)
            .bind(end)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CommitmentRow {
                    id: r.uuid("id")?,
                    said_by: PersonId(r.uuid("said_by")?),
                    owner: r.opt_uuid("owner_id")?.map(PersonId),
                    state: parse_enum::<CommitmentState>(&r.text("state")?, "commitment state")?,
                    said_at: r.time("said_at")?,
                })
            })
            .collect()
    }

    async fn rule_aggregates(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<RuleAggregate>> {
        let mut by: BTreeMap<String, RuleAggregate> = BTreeMap::new();
        let rows = sqlx::query("SELECT rule_id, COUNT(*) AS n FROM decision_rules WHERE at >= $1 AND at < $2 AND effect IN ('deny', 'exception') GROUP BY rule_id")
            .bind(start)
            .bind(end)
            .fetch_all(self.conn().await?)
            .await?;
        for r in &rows {
            let rule = r.text("rule_id")?;
            by.entry(rule.clone()).or_insert(RuleAggregate { rule, blocking: 0, excepted: 0 }).blocking = r.int("n")?;
        }
        let rows = sqlx::query("SELECT rule_id, COUNT(*) AS n FROM exceptions WHERE requested_at >= $1 AND requested_at < $2 AND state = 'approved' GROUP BY rule_id")
            .bind(start)
            .bind(end)
            .fetch_all(self.conn().await?)
            .await?;
        for r in &rows {
            let rule = r.text("rule_id")?;
            by.entry(rule.clone()).or_insert(RuleAggregate { rule, blocking: 0, excepted: 0 }).excepted = r.int("n")?;
        }
        Ok(by.into_values().collect())
    }

    async fn violations(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, limit: i64) -> Result<(Vec<ViolationRow>, i64)> {
        let total = sqlx::query("SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) AS n FROM violation_days WHERE day >= $1 AND day <= $2")
            .bind(start.date_naive())
            .bind((end - chrono::Duration::microseconds(1)).date_naive())
            .fetch_one(self.conn().await?)
            .await?
            .int("n")?;
        let rows = sqlx::query("SELECT dr.rule_id, d.record_kind, d.record_id, dr.at FROM decision_rules dr JOIN decisions d ON d.id = dr.decision_id WHERE dr.applied = 'deny' AND dr.at >= $1 AND dr.at < $2 ORDER BY dr.at DESC LIMIT $3")
            .bind(start)
            .bind(end)
            .bind(limit)
            .fetch_all(self.conn().await?)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind = parse_enum::<RecordKind>(&r.text("record_kind")?, "record kind")?;
            out.push(ViolationRow {
                rule: r.text("rule_id")?,
                record: RecordRef { kind, id: r.uuid("record_id")? },
                at: r.time("at")?,
                account: None,
                account_name: None,
                person: None,
            });
        }
        // Who and which account, by kind, a query per kind.
        let pms: HashSet<Uuid> = sqlx::query("SELECT id FROM people WHERE role IN ('pm', 'pm_lead')")
            .fetch_all(self.conn().await?)
            .await?
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<Result<_>>()?;
        for (kind, sql) in [
            (RecordKind::Meeting, "SELECT r.id, r.account_id, a.name AS account_name, r.attendees AS who FROM meetings r LEFT JOIN accounts a ON a.id = r.account_id WHERE r.id IN ("),
            (RecordKind::Request, "SELECT r.id, r.account_id, a.name AS account_name, r.requester_id AS who FROM engagement_requests r LEFT JOIN accounts a ON a.id = r.account_id WHERE r.id IN ("),
            (RecordKind::Commitment, "SELECT r.id, r.account_id, a.name AS account_name, r.said_by AS who FROM commitments r LEFT JOIN accounts a ON a.id = r.account_id WHERE r.id IN ("),
            (RecordKind::Access, "SELECT r.id, r.account_id, a.name AS account_name, r.pm_id AS who FROM access_requests r LEFT JOIN accounts a ON a.id = r.account_id WHERE r.id IN ("),
        ] {
            let ids: Vec<Uuid> = out.iter().filter(|v| v.record.kind == kind).map(|v| v.record.id).collect();
            if ids.is_empty() {
                continue;
            }
            let mut q = QueryBuilder::<DB>::new(sql);
            let mut sep = q.separated(", ");
            for id in &ids {
                sep.push_bind(*id);
            }
            q.push(")");
            let rows = q.build().fetch_all(self.conn().await?).await?;
            let mut found: HashMap<Uuid, (Option<AccountId>, Option<String>, Option<PersonId>)> = HashMap::new();
            for r in &rows {
                let person = if kind == RecordKind::Meeting {
                    let attendees = super::work::attendees_from(&r.bytes("who")?)?;
                    attendees
                        .iter()
                        .filter(|a| a.response.attended())
                        .filter_map(|a| a.person)
                        .find(|p| pms.contains(&p.0))
                } else {
                    Some(PersonId(r.uuid("who")?))
                };
                found.insert(r.uuid("id")?, (r.opt_uuid("account_id")?.map(AccountId), r.opt_text("account_name")?, person));
            }
            for v in out.iter_mut().filter(|v| v.record.kind == kind) {
                if let Some((a, name, p)) = found.get(&v.record.id) {
                    v.account = *a;
                    v.account_name.clone_from(name);
                    v.person = *p;
                }
            }
        }
        Ok((out, total))
    }
});

/// The first day of `d`'s month.
fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The whole calendar months inside `first ..= last`, as (first month,
/// last month, the first day of the first month, the last day of the last
/// month); `None` when no month is whole.
fn whole_months(
    first: NaiveDate,
    last: NaiveDate,
) -> Option<(NaiveDate, NaiveDate, NaiveDate, NaiveDate)> {
    let m1 = if first.day() == 1 {
        first
    } else {
        month_of(first).checked_add_months(Months::new(1))?
    };
    let next = last.succ_opt()?;
    let m2_end = month_of(next); // the first day after the last whole month
    if m2_end <= m1 {
        return None;
    }
    let m2 = m2_end.checked_sub_months(Months::new(1))?;
    Some((m1, m2, m1, m2_end.pred_opt()?))
}

/// Roll-up changes per (day, PM, owner): (contacts, contacts with the owner).
type ContactDeltas = BTreeMap<(NaiveDate, Uuid, Uuid), (i64, i64)>;
/// Roll-up changes per day: (customer meetings, with a PM).
type DayDeltas = BTreeMap<NaiveDate, (i64, i64)>;

/// The roll-up changes of some meetings, given who is a PM.
fn contact_deltas(
    ms: &[&StoredMeeting],
    pms: &HashSet<Uuid>,
    sign: i64,
) -> (ContactDeltas, DayDeltas) {
    let mut contacts = ContactDeltas::new();
    let mut days = DayDeltas::new();
    for m in ms.iter().copied() {
        if m.flags.customer_count <= 0 || m.flags.internal_count <= 0 {
            continue;
        }
        let day = m.meeting.starts_at.date_naive();
        let d = days.entry(day).or_default();
        d.0 += sign;
        if m.flags.pm_count > 0 {
            d.1 += sign;
        }
        let owner = m.flags.owner.map(|o| o.0).unwrap_or(NO_OWNER);
        let mut seen: Vec<Uuid> = Vec::new();
        for a in m.meeting.attendees.iter().filter(|a| a.response.attended()) {
            let Some(p) = a.person else { continue };
            if !pms.contains(&p.0) || seen.contains(&p.0) {
                continue;
            }
            seen.push(p.0);
            let e = contacts.entry((day, p.0, owner)).or_default();
            e.0 += sign;
            if m.flags.owner_present {
                e.1 += sign;
            }
        }
    }
    (contacts, days)
}

/// Adds (`sign` 1) or removes (-1) meetings from the contact roll-ups, in
/// the caller's transaction.
pub(crate) async fn rollup_meetings<DB>(
    tx: &mut SqlTx<DB>,
    ms: &[&StoredMeeting],
    sign: i64,
) -> Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Row: RowExt,
{
    if ms.is_empty() {
        return Ok(());
    }
    let pms: HashSet<Uuid> = sqlx::query("SELECT id FROM people WHERE role IN ('pm', 'pm_lead')")
        .fetch_all(tx.conn().await?)
        .await?
        .iter()
        .map(|r| r.uuid("id"))
        .collect::<Result<_>>()?;
    let (contacts, days) = contact_deltas(ms, &pms, sign);
    let mut months = ContactDeltas::new();
    for ((day, pm, owner), (n, present)) in &contacts {
        let e = months.entry((month_of(*day), *pm, *owner)).or_default();
        e.0 += n;
        e.1 += present;
    }
    let contacts: Vec<_> = contacts.into_iter().collect();
    let months: Vec<_> = months.into_iter().collect();
    let days: Vec<_> = days.into_iter().collect();
    // A large import adds up to tens of thousands of roll-up rows a batch:
    // in statements of a few shapes (kept prepared), built while the
    // previous one runs.
    let mut jobs: Vec<Rollup<'_>> = Vec::new();
    jobs.extend(
        shaped_chunks(&contacts, ROLLUP_ROWS)
            .into_iter()
            .map(Rollup::Days),
    );
    jobs.extend(
        shaped_chunks(&months, ROLLUP_ROWS)
            .into_iter()
            .map(Rollup::Months),
    );
    jobs.extend(
        shaped_chunks(&days, ROLLUP_ROWS)
            .into_iter()
            .map(Rollup::MeetingDays),
    );
    pipelined(tx.conn().await?, &jobs, |job| {
        Ok(match job {
            Rollup::Days(chunk) => contact_upsert("contact_days", "day", chunk),
            Rollup::Months(chunk) => contact_upsert("contact_months", "month", chunk),
            Rollup::MeetingDays(chunk) => {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO meeting_days (day, customer_contacts, pm_contacts) ",
                );
                q.push_values(chunk.iter(), |mut b, (day, (c, p))| {
                    b.push_bind(*day).push_bind(*c).push_bind(*p);
                });
                q.push(" ON CONFLICT (day) DO UPDATE SET customer_contacts = meeting_days.customer_contacts + excluded.customer_contacts, pm_contacts = meeting_days.pm_contacts + excluded.pm_contacts");
                q
            }
        })
    })
    .await
}

/// Rows per roll-up statement (at most 6 values a row).
const ROLLUP_ROWS: usize = 2048;

/// A contact roll-up row: ((day or month, PM, owner), (contacts, with the
/// owner)).
type ContactRow = ((NaiveDate, Uuid, Uuid), (i64, i64));

/// One roll-up statement's rows.
enum Rollup<'a> {
    /// `contact_days` rows.
    Days(&'a [ContactRow]),
    /// `contact_months` rows, keyed by the month's first day.
    Months(&'a [ContactRow]),
    /// `meeting_days` rows: (day, (customer meetings, with a PM)).
    MeetingDays(&'a [(NaiveDate, (i64, i64))]),
}

/// Adds contact counts to `contact_days` or `contact_months` (whose key
/// column is `period`).
fn contact_upsert<DB>(table: &str, period: &str, rows: &[ContactRow]) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new(format!(
        "INSERT INTO {table} ({period}, pm_id, owner_id, contacts, owner_present, with_insight) "
    ));
    q.push_values(rows.iter(), |mut b, ((day, pm, owner), (n, present))| {
        b.push_bind(*day)
            .push_bind(*pm)
            .push_bind(*owner)
            .push_bind(*n)
            .push_bind(*present)
            .push_bind(0i64);
    });
    q.push(format!(" ON CONFLICT ({period}, pm_id, owner_id) DO UPDATE SET contacts = {table}.contacts + excluded.contacts, owner_present = {table}.owner_present + excluded.owner_present"));
    q
}

/// Counts a PM's first insight from a meeting they attended, in the
/// caller's transaction (before the insight row is written).
pub(crate) async fn rollup_insight<DB>(
    tx: &mut SqlTx<DB>,
    meeting: &StoredMeeting,
    pm: PersonId,
) -> Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Row: RowExt,
{
    let attended = meeting
        .meeting
        .attendees
        .iter()
        .any(|a| a.person == Some(pm) && a.response.attended());
    if !attended || meeting.flags.customer_count <= 0 {
        return Ok(());
    }
    let already =
        sqlx::query("SELECT id FROM insights WHERE meeting_id = $1 AND pm_id = $2 LIMIT 1")
            .bind(meeting.meeting.id.0)
            .bind(pm.0)
            .fetch_optional(tx.conn().await?)
            .await?;
    if already.is_some() {
        return Ok(());
    }
    let owner = meeting.flags.owner.map(|o| o.0).unwrap_or(NO_OWNER);
    let day = meeting.meeting.starts_at.date_naive();
    sqlx::query("UPDATE contact_days SET with_insight = with_insight + 1 WHERE day = $1 AND pm_id = $2 AND owner_id = $3")
        .bind(day)
        .bind(pm.0)
        .bind(owner)
        .execute(tx.conn().await?)
        .await?;
    sqlx::query("UPDATE contact_months SET with_insight = with_insight + 1 WHERE month = $1 AND pm_id = $2 AND owner_id = $3")
        .bind(month_of(day))
        .bind(pm.0)
        .bind(owner)
        .execute(tx.conn().await?)
        .await?;
    Ok(())
}

/// Counts the violations (rules applied as deny) of new decisions (`sign`
/// 1) or of removed ones (-1), in the caller's transaction.
pub(crate) async fn rollup_decisions<DB>(
    tx: &mut SqlTx<DB>,
    ds: &[DecisionRecord],
    sign: i64,
) -> Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut by: BTreeMap<(NaiveDate, &str), i64> = BTreeMap::new();
    for d in ds {
        for m in &d.decision.matched {
            if m.applied == accord_domain::rules::Effect::Deny {
                *by.entry((d.at.date_naive(), m.rule.as_str())).or_default() += sign;
            }
        }
    }
    let rows: Vec<_> = by.into_iter().collect();
    // In a few shapes, as the contact roll-ups (see `rollup_meetings`).
    for chunk in shaped_chunks(&rows, ROLLUP_ROWS) {
        let mut q = QueryBuilder::<DB>::new("INSERT INTO violation_days (day, rule_id, count) ");
        q.push_values(chunk.iter(), |mut b, ((day, rule), n)| {
            b.push_bind(*day).push_bind(*rule).push_bind(*n);
        });
        q.push(" ON CONFLICT (day, rule_id) DO UPDATE SET count = violation_days.count + excluded.count");
        q.build().execute(tx.conn().await?).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContactFlags;
    use accord_domain::id::MeetingId;
    use accord_domain::meeting::{Attendee, Meeting, MeetingSource, ResponseStatus};

    #[test]
    fn whole_months_are_those_inside_the_window() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 2 April ..= 30 June: May and June are whole; April's days come
        // from the daily roll-up.
        assert_eq!(
            whole_months(d("2026-04-02"), d("2026-06-30")),
            Some((
                d("2026-05-01"),
                d("2026-06-01"),
                d("2026-05-01"),
                d("2026-06-30")
            ))
        );
        // 1 January ..= 31 March: three whole months, no days.
        assert_eq!(
            whole_months(d("2026-01-01"), d("2026-03-31")),
            Some((
                d("2026-01-01"),
                d("2026-03-01"),
                d("2026-01-01"),
                d("2026-03-31")
            ))
        );
        // 2 January ..= 1 April: February and March.
        assert_eq!(
            whole_months(d("2026-01-02"), d("2026-04-01")),
            Some((
                d("2026-02-01"),
                d("2026-03-01"),
                d("2026-02-01"),
                d("2026-03-31")
            ))
        );
        // Inside one month, or across two without a whole one: days only.
        assert_eq!(whole_months(d("2026-03-02"), d("2026-03-31")), None);
        assert_eq!(whole_months(d("2026-03-15"), d("2026-04-14")), None);
        assert_eq!(
            whole_months(d("2026-02-01"), d("2026-02-28")),
            Some((
                d("2026-02-01"),
                d("2026-02-01"),
                d("2026-02-01"),
                d("2026-02-28")
            ))
        );
        // Leap day.
        assert_eq!(whole_months(d("2028-02-01"), d("2028-02-28")), None);
    }

    #[test]
    fn deltas_count_each_attending_pm_once_and_skip_internal_meetings() {
        let pm = PersonId::new();
        let owner = PersonId::new();
        let att = |p: Option<PersonId>, r| Attendee {
            email: accord_domain::id::Email::parse(&format!(
                "x{}@e.com",
                uuid::Uuid::now_v7().simple()
            ))
            .unwrap(),
            person: p,
            response: r,
            organizer: false,
        };
        let m = |customer: i64, present: bool, attendees: Vec<Attendee>| StoredMeeting {
            meeting: Meeting {
                id: MeetingId::new(),
                account: None,
                title: String::new(),
                starts_at: chrono::Utc::now(),
                ends_at: chrono::Utc::now(),
                source: MeetingSource::Logged,
                attendees,
                request: None,
            },
            flags: ContactFlags {
                owner: Some(owner),
                owner_present: present,
                pm_count: 1,
                customer_count: customer,
                internal_count: 2,
            },
            cal_sequence: None,
            cal_modified: None,
        };
        let pms: HashSet<Uuid> = [pm.0].into();
        let owned = [
            m(
                1,
                true,
                vec![
                    att(Some(pm), ResponseStatus::Accepted),
                    att(Some(pm), ResponseStatus::Accepted),
                ],
            ),
            m(1, false, vec![att(Some(pm), ResponseStatus::Accepted)]),
            m(1, false, vec![att(Some(pm), ResponseStatus::Declined)]),
            m(0, false, vec![att(Some(pm), ResponseStatus::Accepted)]),
        ];
        let ms: Vec<&StoredMeeting> = owned.iter().collect();
        let (c, d) = contact_deltas(&ms, &pms, 1);
        let (n, present) = c.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
        assert_eq!((n, present), (2, 1));
        let (cc, pc) = d.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
        assert_eq!((cc, pc), (3, 3));
        let (c, _) = contact_deltas(&ms, &pms, -1);
        assert_eq!(c.values().map(|v| v.0).sum::<i64>(), -2);
    }
}
