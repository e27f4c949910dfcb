//! What signals are computed from: daily roll-ups of customer contacts and
//! window aggregates of requests, access requests, commitments and rules.
//! Each is a handful of rows per subject, whatever the size of the history.

use accord_domain::access::AccessState;
use accord_domain::commitment::CommitmentState;
use accord_domain::id::{AccountId, PersonId};
use accord_domain::record::RecordRef;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A PM's customer contacts with one owner's accounts over a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAggregate {
    /// The PM (or PM lead) who attended.
    pub pm: PersonId,
    /// The accounts' relationship owner (none when unowned).
    pub owner: Option<PersonId>,
    /// Contacts.
    pub contacts: i64,
    /// Of which the owner attended.
    pub owner_present: i64,
    /// Of which the PM captured at least one insight.
    pub with_insight: i64,
}

/// Completed engagement requests over a window, by PM, requester and type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoneAggregate {
    /// The PM.
    pub pm: Option<PersonId>,
    /// Who asked.
    pub requester: PersonId,
    /// The engagement type's id.
    pub engagement_type: String,
    /// How many.
    pub count: i64,
    /// PM hours spent.
    pub hours: f64,
}

/// Engagement requests created over a window, by requester, PM and the
/// opportunity's stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAggregate {
    /// Who asked.
    pub requester: PersonId,
    /// The PM asked for.
    pub pm: Option<PersonId>,
    /// The opportunity's stage.
    pub stage: String,
    /// How many.
    pub count: i64,
    /// Of which a given rule flagged.
    pub flagged: i64,
}

/// Access requests answered over a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessAggregate {
    /// The PM who asked.
    pub pm: PersonId,
    /// The owner asked.
    pub owner: Option<PersonId>,
    /// The answer.
    pub state: AccessState,
    /// How many.
    pub count: i64,
}

/// A commitment made in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentRow {
    /// The commitment.
    pub id: uuid::Uuid,
    /// Who made it.
    pub said_by: PersonId,
    /// The account's owner.
    pub owner: Option<PersonId>,
    /// Where it stands.
    pub state: CommitmentState,
    /// When it was made.
    pub said_at: DateTime<Utc>,
}

/// One rule's blocking matches and exceptions over a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleAggregate {
    /// The rule.
    pub rule: String,
    /// Records where it matched with a deny or exception effect.
    pub blocking: i64,
    /// Exceptions to it granted.
    pub excepted: i64,
}

/// A rule violation: a `deny` recorded for a record that exists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViolationRow {
    /// The rule.
    pub rule: String,
    /// The record.
    pub record: RecordRef,
    /// When (the record's time: a meeting's start).
    pub at: DateTime<Utc>,
    /// Its account.
    pub account: Option<AccountId>,
    /// The account's name.
    pub account_name: Option<String>,
    /// The person at fault (the PM who met alone, the requester, ...).
    pub person: Option<PersonId>,
}

/// Contacts in a window, all and with a PM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactTotals {
    /// Customer contacts.
    pub customer_contacts: i64,
    /// Of which a PM attended.
    pub pm_contacts: i64,
}

/// The days `(from, to]` and times `[start, end)` of a window of `days`
/// days ending with `as_of`.
pub fn window(as_of: NaiveDate, days: u32) -> (NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let days = i64::from(days.max(1));
    let first = as_of - chrono::Duration::days(days - 1);
    let start = first.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = (as_of + chrono::Duration::days(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    (first, as_of, start, end)
}
