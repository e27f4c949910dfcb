//! Records that exist only in storage (the audit log, the decision log,
//! tokens, webhooks, the outbox) and the small types the storage interface
//! speaks in (pages, filters, upsert outcomes).

use accord_domain::id::{AccountId, DecisionId, MeetingId, PersonId, RuleId, TeamId};
use accord_domain::meeting::Meeting;
use accord_domain::people::Role;
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::rules::Decision;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Upserted {
    /// A new record.
    Inserted,
    /// An existing record, changed.
    Updated,
    /// An existing record, already as given: nothing written.
    Unchanged,
    /// An existing record that is newer than the one given (a calendar
    /// event with a higher SEQUENCE): kept as it is.
    Stale,
}

/// One page of a list, newest or first by the list's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Where a page starts and how long it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// At most this many items (clamped to 1..=500; 50 when zero).
    pub limit: u32,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    /// The effective limit.
    pub fn effective_limit(&self) -> i64 {
        match self.limit {
            0 => 50,
            n => i64::from(n.min(500)),
        }
    }
}

/// Who did something, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    /// The person, when it was one.
    pub id: Option<PersonId>,
    /// A label: their email, or `system`, `import`, `cli`.
    pub label: String,
}

impl Actor {
    /// The system itself (signal runs, the delivery worker).
    pub fn system() -> Self {
        Self {
            id: None,
            label: "system".into(),
        }
    }

    /// A person.
    pub fn person(id: PersonId, email: &str) -> Self {
        Self {
            id: Some(id),
            label: email.to_owned(),
        }
    }

    /// A named process acting without a person (`import`, `cli`).
    pub fn process(label: &str) -> Self {
        Self {
            id: None,
            label: label.to_owned(),
        }
    }
}

/// An audit entry to append.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAudit {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What (`request.created`, `exception.approved`, `login.failed`).
    pub action: String,
    /// The kind of record (`request`, `person`, `playbook`).
    pub record_kind: String,
    /// Its id.
    pub record_id: String,
    /// The record before, if it existed.
    pub before: Option<serde_json::Value>,
    /// The record after, if it still exists.
    pub after: Option<serde_json::Value>,
}

/// An entry of the append-only audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: String,
    /// The kind of record.
    pub record_kind: String,
    /// Its id.
    pub record_id: String,
    /// Before.
    pub before: Option<serde_json::Value>,
    /// After.
    pub after: Option<serde_json::Value>,
    /// The previous entry's hash (zeros for the first).
    pub prev_hash: String,
    /// SHA-256 of the previous hash and this entry's content.
    pub hash: String,
}

/// Filters for the audit log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    /// Only this record kind.
    pub record_kind: Option<String>,
    /// Only this record.
    pub record_id: Option<String>,
    /// Only this actor.
    pub actor: Option<PersonId>,
    /// Only actions starting with this.
    pub action_prefix: Option<String>,
    /// From (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// To (exclusive).
    pub to: Option<DateTime<Utc>>,
}

/// A stored rule decision: what the playbook said about one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRecord {
    /// Stable id.
    pub id: DecisionId,
    /// The record.
    pub record: RecordRef,
    /// The decision.
    pub decision: Decision,
    /// The playbook version it was made under.
    pub playbook_version: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Filters for the decision log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecisionFilter {
    /// Only this record kind.
    pub kind: Option<RecordKind>,
    /// Only this record.
    pub record: Option<Uuid>,
    /// Only where this rule matched.
    pub rule: Option<RuleId>,
    /// Only with this overall effect.
    pub effect: Option<accord_domain::rules::Effect>,
    /// From (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// To (exclusive).
    pub to: Option<DateTime<Utc>>,
}

/// A stored playbook version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaybookVersion {
    /// 1, 2, 3, ...
    pub version: i64,
    /// The full TOML text.
    pub toml: String,
    /// Who uploaded it (none for the built-in default).
    pub author: Option<PersonId>,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What the contact rules and signals need to know about a meeting,
/// computed once when it is stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactFlags {
    /// The account's relationship owner when the meeting was recorded.
    pub owner: Option<PersonId>,
    /// Whether they attended.
    pub owner_present: bool,
    /// PMs and PM leads who attended.
    pub pm_count: i64,
    /// Customer people who attended.
    pub customer_count: i64,
    /// Internal people who attended.
    pub internal_count: i64,
}

/// A calendar occurrence that is not a customer contact (cancelled, or
/// without customers or our people any more), in the version a calendar
/// now shows: a stored meeting for it, older than this, did not happen as
/// stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoLongerContact {
    /// The occurrence's meeting id (`MeetingId::from_calendar`).
    pub id: MeetingId,
    /// The event's SEQUENCE now.
    pub sequence: i64,
    /// The event's LAST-MODIFIED now.
    pub modified: Option<DateTime<Utc>>,
}

/// What became of a stored meeting a calendar says is no longer a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawn {
    /// Removed, with its roll-ups and its recorded violations.
    Removed,
    /// The stored version is newer: kept.
    Stale,
    /// Kept: insights, commitments or exceptions refer to it, so people
    /// recorded that it took place.
    Referenced,
}

/// A meeting as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredMeeting {
    /// The meeting.
    pub meeting: Meeting,
    /// Its contact flags.
    pub flags: ContactFlags,
    /// For calendar events: SEQUENCE.
    pub cal_sequence: Option<i64>,
    /// For calendar events: LAST-MODIFIED.
    pub cal_modified: Option<DateTime<Utc>>,
}

/// Filters for meetings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MeetingFilter {
    /// With this account.
    pub account: Option<AccountId>,
    /// Attended (or invited) by this person.
    pub person: Option<PersonId>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
    /// Only customer contacts with a PM present.
    pub pm_contacts_only: bool,
}

/// Filters for people.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeopleFilter {
    /// With this role.
    pub role: Option<Role>,
    /// In this team.
    pub team: Option<TeamId>,
    /// Whose name or email contains this (case-insensitive).
    pub search: Option<String>,
    /// Include people who left.
    pub include_inactive: bool,
}

/// An API token (its hash is stored, never the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Stable id.
    pub id: Uuid,
    /// Whose it is.
    pub person: PersonId,
    /// A label ("ci", "crm sync").
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A webhook subscription.
///
/// The secret signs every delivery: it is never serialized (no API response,
/// audit entry or log carries it) and `Debug` hides it; it is shown once,
/// when the subscription is created.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    /// Stable id.
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// The HMAC secret.
    #[serde(skip_serializing, default)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub secret: String,
    /// The event types it wants (`request.created`, ...; `*` for all).
    pub events: Vec<String>,
    /// `json` (the envelope) or `slack` (`{"text": ...}`).
    pub format: String,
    /// Whether events are delivered to it.
    pub active: bool,
    /// Who registered it.
    pub created_by: Option<PersonId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"***")
            .field("events", &self.events)
            .field("format", &self.format)
            .field("active", &self.active)
            .field("created_by", &self.created_by)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Webhook {
    /// Whether it wants events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

/// An event in the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEvent {
    /// Stable id (the envelope's `id`).
    pub id: Uuid,
    /// `request.created`, `alert.opened`, ...
    pub event_type: String,
    /// The event's data.
    pub payload: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Where one event's delivery to one webhook stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// Received with a 2xx.
    Delivered,
    /// Given up on; an admin may redeliver it.
    Dead,
}

impl DeliveryState {
    /// The name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }
}

/// One event's delivery to one webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Stable id.
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The subscription.
    pub webhook_id: Uuid,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: DateTime<Utc>,
    /// The last HTTP status, if any.
    pub last_status: Option<i64>,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the current run of attempts began (its creation, or the last
    /// redelivery): the dead-after bound counts from here.
    pub retry_from: DateTime<Utc>,
}

/// The result of one delivery attempt, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Delivered, pending again (a retry at `next_attempt_at`), or dead.
    pub state: DeliveryState,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<i64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// When to try again (for a pending delivery).
    pub next_attempt_at: DateTime<Utc>,
    /// When the attempt was made.
    pub at: DateTime<Utc>,
}
