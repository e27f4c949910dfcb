//! The storage interface, by area. A [`Tx`] is a unit of work on one
//! engine: everything written through it commits or rolls back together.
//!
//! An operation that fails may leave the transaction unusable (PostgreSQL
//! aborts it; SQLite does not): never commit after an error — drop the
//! transaction (which rolls it back) and start again, as `?` does.
//!
//! Reads and writes share the same methods; open a transaction with
//! [`crate::Store::read`] for reads (on SQLite it does not block writers) and
//! [`crate::Store::write`] for changes (on SQLite it takes the write lock up
//! front, so two writers never deadlock upgrading a read lock).

use accord_domain::access::AccessRequest;
use accord_domain::account::{Account, Opportunity};
use accord_domain::charter::{
    Acknowledgment, CharterComment, CharterState, CharterVersion, Endorsement,
};
use accord_domain::commitment::Commitment;
use accord_domain::exception::Exception;
use accord_domain::id::{
    AccessRequestId, AccountId, AlertId, CharterVersionId, CommitmentId, Email, ExceptionId,
    ExternalRef, InsightId, MeetingId, OpportunityId, PersonId, RequestId, ReviewId, RuleId,
    TeamId,
};
use accord_domain::insight::Insight;
use accord_domain::people::{Person, Team};
use accord_domain::record::RecordRef;
use accord_domain::request::{EngagementRequest, RequestState, StateChange};
use accord_domain::signal::{Alert, Review, SignalPoint, SignalValue};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::StoreError;
use crate::model::*;

/// Shorthand for results of storage operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// People, teams, accounts and opportunities: the organisation.
#[async_trait]
pub trait OrgOps: Send {
    /// Inserts or updates a team by id.
    async fn put_team(&mut self, team: &Team) -> Result<Upserted>;
    /// A team by id.
    async fn get_team(&mut self, id: TeamId) -> Result<Team>;
    /// A team by its (unique) name.
    async fn team_by_name(&mut self, name: &str) -> Result<Option<Team>>;
    /// Every team, by name.
    async fn list_teams(&mut self) -> Result<Vec<Team>>;

    /// Inserts or updates a person, matched by external ref when it has
    /// one, else by email; returns the stored id (an existing person keeps
    /// theirs).
    async fn upsert_person(&mut self, person: &Person) -> Result<(PersonId, Upserted)>;
    /// A person by id.
    async fn get_person(&mut self, id: PersonId) -> Result<Person>;
    /// A person by email.
    async fn person_by_email(&mut self, email: &Email) -> Result<Option<Person>>;
    /// A person by their CRM id.
    async fn person_by_external(&mut self, ext: &ExternalRef) -> Result<Option<Person>>;
    /// People, by name.
    async fn list_people(
        &mut self,
        filter: &PeopleFilter,
        page: &PageRequest,
    ) -> Result<Page<Person>>;
    /// Every active person's email, id and role (for matching calendars).
    async fn person_directory(
        &mut self,
    ) -> Result<Vec<(Email, PersonId, accord_domain::people::Role)>>;

    /// Inserts or updates an account (and replaces its domains), matched by
    /// external ref when it has one, else by id. A domain already owned by
    /// another account is a `Conflict`.
    async fn upsert_account(&mut self, account: &Account) -> Result<(AccountId, Upserted)>;
    /// An account by id.
    async fn get_account(&mut self, id: AccountId) -> Result<Account>;
    /// The accounts among `ids` that exist, in no particular order (a page
    /// naming many accounts asks once).
    async fn accounts_by_ids(&mut self, ids: &[AccountId]) -> Result<Vec<Account>>;
    /// An account by its CRM id.
    async fn account_by_external(&mut self, ext: &ExternalRef) -> Result<Option<Account>>;
    /// The account an email host belongs to (the domain or a parent of it).
    async fn account_by_host(&mut self, host: &str) -> Result<Option<Account>>;
    /// Accounts, by name; `search` matches names case-insensitively.
    async fn list_accounts(
        &mut self,
        owner: Option<PersonId>,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Account>>;
    /// Every account's id, domains and owner (for matching calendars).
    async fn account_directory(&mut self) -> Result<Vec<Account>>;

    /// Inserts or updates an opportunity, matched by external ref when it
    /// has one, else by id.
    async fn upsert_opportunity(&mut self, opp: &Opportunity) -> Result<(OpportunityId, Upserted)>;
    /// An opportunity by id.
    async fn get_opportunity(&mut self, id: OpportunityId) -> Result<Opportunity>;
    /// The opportunities among `ids` that exist, in no particular order.
    async fn opportunities_by_ids(&mut self, ids: &[OpportunityId]) -> Result<Vec<Opportunity>>;
    /// An opportunity by its CRM id.
    async fn opportunity_by_external(&mut self, ext: &ExternalRef) -> Result<Option<Opportunity>>;
    /// Opportunities, newest first, optionally of one account or owner.
    async fn list_opportunities(
        &mut self,
        account: Option<AccountId>,
        owner: Option<PersonId>,
        page: &PageRequest,
    ) -> Result<Page<Opportunity>>;
}

/// Filters for engagement requests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestFilter {
    /// Asked of this PM.
    pub pm: Option<PersonId>,
    /// Asked by this person.
    pub requester: Option<PersonId>,
    /// On this account.
    pub account: Option<AccountId>,
    /// In one of these states (any when empty).
    pub states: Vec<RequestState>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
}

/// Engagement requests, meetings, access requests, commitments, insights
/// and exceptions: the work between PMs and sales.
#[async_trait]
pub trait WorkOps: Send {
    /// Stores a new request.
    async fn insert_request(&mut self, r: &EngagementRequest) -> Result<()>;
    /// Updates a request, if it is still in `expected` (else `Conflict`:
    /// someone else moved it first).
    async fn update_request(&mut self, r: &EngagementRequest, expected: RequestState)
    -> Result<()>;
    /// A request by id.
    async fn get_request(&mut self, id: RequestId) -> Result<EngagementRequest>;
    /// Requests, newest first.
    async fn list_requests(
        &mut self,
        filter: &RequestFilter,
        page: &PageRequest,
    ) -> Result<Page<EngagementRequest>>;
    /// Appends to a request's history.
    async fn append_history(&mut self, change: &StateChange) -> Result<()>;
    /// A request's history, oldest first.
    async fn history(&mut self, id: RequestId) -> Result<Vec<StateChange>>;

    /// Stores a new meeting with its attendees.
    async fn insert_meeting(&mut self, m: &StoredMeeting) -> Result<()>;
    /// Stores many new meetings with their attendees, many rows per
    /// statement: the bulk path of imports and the demo.
    async fn insert_meetings(&mut self, ms: &[StoredMeeting]) -> Result<()>;
    /// Stores a calendar occurrence by its natural key (UID, occurrence):
    /// a new one is inserted; an existing one is replaced when the given
    /// one is newer (SEQUENCE, then LAST-MODIFIED) and differs, kept when
    /// it is the same (`Unchanged`) or newer (`Stale`). A calendar
    /// meeting's id is always `MeetingId::from_calendar(uid, occurrence)`,
    /// whatever id it is given; that id is returned.
    async fn upsert_calendar_meeting(&mut self, m: &StoredMeeting)
    -> Result<(MeetingId, Upserted)>;
    /// [`WorkOps::upsert_calendar_meeting`] for many occurrences at once:
    /// one query finds the stored ones, the new ones are inserted many rows
    /// a statement, changed ones are replaced one by one. Returns each
    /// meeting's id and outcome, in the order given. When one occurrence
    /// is given twice, its newest copy counts and the other is `Stale`
    /// (`Unchanged` when the two are the same).
    async fn upsert_calendar_meetings(
        &mut self,
        ms: &[StoredMeeting],
    ) -> Result<Vec<(MeetingId, Upserted)>>;
    /// Whether any calendar meeting is stored, or any was withdrawn. When
    /// none is, every occurrence of a calendar is new: a first import
    /// stores them with [`WorkOps::insert_meetings`] and withdraws nothing,
    /// instead of looking each one up.
    async fn has_calendar_meetings(&mut self) -> Result<bool>;
    /// Withdraws the stored calendar meetings among `gone`, whose events
    /// now say they are not customer contacts: a meeting whose stored
    /// version is not newer is removed, with its attendance, its contact
    /// roll-ups and its decisions (and the violations they counted);
    /// one that insights, commitments or exceptions refer to is kept.
    /// Returns what became of each one that was stored, in the order given.
    async fn withdraw_calendar_meetings(
        &mut self,
        gone: &[NoLongerContact],
    ) -> Result<Vec<(MeetingId, Withdrawn)>>;
    /// A meeting by id.
    async fn get_meeting(&mut self, id: MeetingId) -> Result<StoredMeeting>;
    /// Meetings, latest start first.
    async fn list_meetings(
        &mut self,
        filter: &MeetingFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredMeeting>>;

    /// Stores a new access request.
    async fn insert_access(&mut self, a: &AccessRequest) -> Result<()>;
    /// Updates an access request if it is still in `expected` state.
    async fn update_access(
        &mut self,
        a: &AccessRequest,
        expected: accord_domain::access::AccessState,
    ) -> Result<()>;
    /// An access request by id.
    async fn get_access(&mut self, id: AccessRequestId) -> Result<AccessRequest>;
    /// Access requests, newest first, asked by `pm` and/or answered by `owner`.
    async fn list_access(
        &mut self,
        pm: Option<PersonId>,
        owner: Option<PersonId>,
        page: &PageRequest,
    ) -> Result<Page<AccessRequest>>;

    /// Stores a new commitment.
    async fn insert_commitment(&mut self, c: &Commitment) -> Result<()>;
    /// Updates a commitment if it is still in `expected` state.
    async fn update_commitment(
        &mut self,
        c: &Commitment,
        expected: accord_domain::commitment::CommitmentState,
    ) -> Result<()>;
    /// A commitment by id.
    async fn get_commitment(&mut self, id: CommitmentId) -> Result<Commitment>;
    /// Commitments, newest first, optionally only pending ones.
    async fn list_commitments(
        &mut self,
        account: Option<AccountId>,
        pending_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Commitment>>;

    /// Stores an insight.
    async fn insert_insight(&mut self, i: &Insight) -> Result<()>;
    /// An insight by id.
    async fn get_insight(&mut self, id: InsightId) -> Result<Insight>;
    /// Insights, newest first.
    async fn list_insights(
        &mut self,
        account: Option<AccountId>,
        pm: Option<PersonId>,
        page: &PageRequest,
    ) -> Result<Page<Insight>>;

    /// Stores an exception request.
    async fn insert_exception(&mut self, e: &Exception) -> Result<()>;
    /// Updates an exception if it is still in `expected` state.
    async fn update_exception(
        &mut self,
        e: &Exception,
        expected: accord_domain::exception::ExceptionState,
    ) -> Result<()>;
    /// An exception by id.
    async fn get_exception(&mut self, id: ExceptionId) -> Result<Exception>;
    /// Exceptions for one record.
    async fn exceptions_for(&mut self, record: RecordRef) -> Result<Vec<Exception>>;
    /// Exceptions, newest first, optionally only those waiting for a decision.
    async fn list_exceptions(
        &mut self,
        pending_only: bool,
        rule: Option<&RuleId>,
        page: &PageRequest,
    ) -> Result<Page<Exception>>;
}

/// Decisions, the audit log, playbook and charter versions, signals,
/// alerts and reviews: how the relationship is governed.
#[async_trait]
pub trait GovOps: Send {
    /// Stores a decision (and one row per matched rule).
    async fn insert_decision(&mut self, d: &DecisionRecord) -> Result<()>;
    /// Stores many decisions (and their matched rules), many rows a
    /// statement: the bulk path of imports.
    async fn insert_decisions(&mut self, ds: &[DecisionRecord]) -> Result<()>;
    /// The decisions about one record, oldest first.
    async fn decisions_for(&mut self, record: RecordRef) -> Result<Vec<DecisionRecord>>;
    /// Decisions, newest first.
    async fn list_decisions(
        &mut self,
        filter: &DecisionFilter,
        page: &PageRequest,
    ) -> Result<Page<DecisionRecord>>;

    /// Appends to the audit log, chaining the entry to the one before.
    async fn append_audit(&mut self, entry: &NewAudit) -> Result<AuditEntry>;
    /// Audit entries, newest first.
    async fn list_audit(
        &mut self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>>;
    /// Audit entries after `seq`, oldest first, for verifying the chain.
    async fn audit_after(&mut self, seq: i64, limit: i64) -> Result<Vec<AuditEntry>>;

    /// Stores a playbook version; its number is the next one.
    async fn insert_playbook_version(
        &mut self,
        toml: &str,
        author: Option<PersonId>,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<PlaybookVersion>;
    /// A playbook version by number.
    async fn get_playbook_version(&mut self, version: i64) -> Result<PlaybookVersion>;
    /// The latest version, if any.
    async fn latest_playbook_version(&mut self) -> Result<Option<PlaybookVersion>>;
    /// Every version, newest first, without their text.
    async fn list_playbook_versions(&mut self) -> Result<Vec<PlaybookVersion>>;

    /// Stores a new charter version (a draft, usually).
    async fn insert_charter_version(&mut self, v: &CharterVersion) -> Result<()>;
    /// Sets a charter version's state (and ratification time).
    async fn set_charter_state(
        &mut self,
        id: CharterVersionId,
        state: CharterState,
        ratified_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// A charter version with its comments, endorsements and acknowledgments.
    async fn get_charter_version(&mut self, id: CharterVersionId) -> Result<CharterVersion>;
    /// Every charter version, newest first.
    async fn list_charter_versions(&mut self) -> Result<Vec<CharterVersion>>;
    /// Comments on a draft.
    async fn add_charter_comment(&mut self, id: CharterVersionId, c: &CharterComment)
    -> Result<()>;
    /// A function lead's endorsement (one per function: `Conflict` for a second).
    async fn add_endorsement(&mut self, id: CharterVersionId, e: &Endorsement) -> Result<()>;
    /// A PM's acknowledgment (idempotent).
    async fn add_acknowledgment(&mut self, id: CharterVersionId, a: &Acknowledgment) -> Result<()>;

    /// Stores computed signal values (replacing those of the same signal,
    /// subject and day).
    async fn put_signal_values(&mut self, values: &[SignalValue], at: DateTime<Utc>) -> Result<()>;
    /// The values computed for one day.
    async fn signal_values_on(&mut self, as_of: NaiveDate) -> Result<Vec<SignalValue>>;
    /// One subject's history of one signal, oldest first.
    async fn signal_history(
        &mut self,
        signal: &str,
        subject_kind: &str,
        subject: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SignalValue>>;
    /// Several trends in one go: for each `(signal, subject_kind,
    /// subject)` of `series`, its daily points from `from` to `to`, oldest
    /// first.
    async fn signal_trends(
        &mut self,
        series: &[(String, String, String)],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Vec<SignalPoint>>>;

    /// Stores a new alert (`Conflict` when one is already open for the
    /// same signal and subject).
    async fn insert_alert(&mut self, a: &Alert) -> Result<()>;
    /// Updates an alert.
    async fn update_alert(&mut self, a: &Alert) -> Result<()>;
    /// An alert by id.
    async fn get_alert(&mut self, id: AlertId) -> Result<Alert>;
    /// The alert not yet closed for a signal and subject, if any.
    async fn open_alert_for(
        &mut self,
        signal: &str,
        subject_kind: &str,
        subject: &str,
    ) -> Result<Option<Alert>>;
    /// Alerts, newest first; only those not closed unless `include_closed`.
    async fn list_alerts(
        &mut self,
        include_closed: bool,
        addressed_to: Option<PersonId>,
        page: &PageRequest,
    ) -> Result<Page<Alert>>;

    /// Stores a new review.
    async fn insert_review(&mut self, r: &Review) -> Result<()>;
    /// Updates a review.
    async fn update_review(&mut self, r: &Review) -> Result<()>;
    /// A review by id.
    async fn get_review(&mut self, id: ReviewId) -> Result<Review>;
    /// Reviews, newest first.
    async fn list_reviews(&mut self, page: &PageRequest) -> Result<Page<Review>>;
}

/// Sign-in: password hashes, API tokens, sessions, shared rate limits.
#[async_trait]
pub trait AuthOps: Send {
    /// Sets (or replaces) a person's password hash.
    async fn set_password_hash(
        &mut self,
        person: PersonId,
        hash: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// A person's password hash, if they have one.
    async fn password_hash(&mut self, person: PersonId) -> Result<Option<String>>;

    /// Stores a token by the hash of its secret.
    async fn insert_token(&mut self, token: &ApiToken, hash: &str) -> Result<()>;
    /// The token with this hash, if it exists (revoked or not).
    async fn token_by_hash(&mut self, hash: &str) -> Result<Option<ApiToken>>;
    /// Records a use.
    async fn touch_token(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<()>;
    /// Revokes a token.
    async fn revoke_token(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<()>;
    /// Tokens, newest first, optionally of one person.
    async fn list_tokens(&mut self, person: Option<PersonId>) -> Result<Vec<ApiToken>>;

    /// A session's data, if it exists and has not expired at `now`.
    async fn load_session(&mut self, id: &str, now: DateTime<Utc>) -> Result<Option<String>>;
    /// Creates or replaces a session.
    async fn save_session(&mut self, id: &str, data: &str, expires_at: DateTime<Utc>)
    -> Result<()>;
    /// Deletes a session.
    async fn delete_session(&mut self, id: &str) -> Result<()>;
    /// Deletes expired sessions; returns how many.
    async fn delete_expired_sessions(&mut self, now: DateTime<Utc>) -> Result<u64>;

    /// Counts a hit on `key` in a fixed window of `window` starting when the
    /// current one started (a new window when it has passed); returns the
    /// count in the current window, this hit included.
    async fn hit_rate_limit(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<i64>;
    /// Forgets a key (after a successful login).
    async fn clear_rate_limit(&mut self, key: &str) -> Result<()>;
}

/// Webhook subscriptions, the outbox and deliveries.
#[async_trait]
pub trait OutboxOps: Send {
    /// Stores a subscription.
    async fn insert_webhook(&mut self, w: &Webhook) -> Result<()>;
    /// Updates a subscription.
    async fn update_webhook(&mut self, w: &Webhook) -> Result<()>;
    /// Removes a subscription (and its pending deliveries).
    async fn delete_webhook(&mut self, id: Uuid) -> Result<()>;
    /// A subscription by id.
    async fn get_webhook(&mut self, id: Uuid) -> Result<Webhook>;
    /// Every subscription.
    async fn list_webhooks(&mut self) -> Result<Vec<Webhook>>;

    /// Writes an event to the outbox, with a pending delivery for every
    /// active subscription that wants it. Call it in the transaction of the
    /// change that caused the event.
    async fn insert_event(&mut self, e: &OutboxEvent) -> Result<()>;
    /// An event by id.
    async fn get_event(&mut self, id: Uuid) -> Result<OutboxEvent>;
    /// Claims up to `limit` deliveries due at `now` for `lease`, oldest
    /// first, with their event and subscription, under the claim token
    /// `lease_id`. Other servers skip them until the lease runs out (on
    /// PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so two
    /// servers claiming at once get different rows); a server killed
    /// mid-delivery leaves its claims to be taken again when it does.
    /// Call it in a write transaction of its own and commit at once.
    async fn claim_deliveries(
        &mut self,
        lease_id: Uuid,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<(Delivery, OutboxEvent, Webhook)>>;
    /// Records an attempt's result, if the claim `lease_id` still holds the
    /// delivery; returns whether it did. A server whose lease ran out (and
    /// whose delivery another server took over) records nothing, so an
    /// outcome is never overwritten by a stale one.
    async fn finish_delivery(
        &mut self,
        id: Uuid,
        lease_id: Uuid,
        attempt: &Attempt,
    ) -> Result<bool>;
    /// A delivery by id.
    async fn get_delivery(&mut self, id: Uuid) -> Result<Delivery>;
    /// Deliveries, newest first, optionally in one state.
    async fn list_deliveries(
        &mut self,
        state: Option<DeliveryState>,
        page: &PageRequest,
    ) -> Result<Page<Delivery>>;
    /// Puts a dead (or delivered) delivery back to pending, due at `now`;
    /// its dead-after bound counts from `now` again.
    async fn redeliver(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
}

/// What signals are computed from: roll-ups and window aggregates. Days are
/// inclusive (`first..=last`), times half-open (`[start, end)`).
#[async_trait]
pub trait SignalOps: Send {
    /// PM customer contacts by PM and owner, summed over the days.
    async fn contact_aggregates(
        &mut self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<crate::rollup::ContactAggregate>>;
    /// Customer contacts (all, and with a PM) over the days.
    async fn contact_totals(
        &mut self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<crate::rollup::ContactTotals>;
    /// Requests completed in `[start, end)`, by PM, requester and type.
    async fn done_requests(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<crate::rollup::DoneAggregate>>;
    /// Requests created in `[start, end)`, by requester, PM and stage, with
    /// how many `flagged_by` matched.
    async fn created_requests(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        flagged_by: &str,
    ) -> Result<Vec<crate::rollup::CreatedAggregate>>;
    /// Access requests answered in `[start, end)`.
    async fn answered_access(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<crate::rollup::AccessAggregate>>;
    /// Commitments made in `[start, end)`.
    async fn commitments_made(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<crate::rollup::CommitmentRow>>;
    /// Each rule's blocking matches and granted exceptions in `[start, end)`.
    async fn rule_aggregates(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<crate::rollup::RuleAggregate>>;
    /// Recorded `deny`s in `[start, end)`, latest first, at most `limit`, and
    /// how many there are.
    async fn violations(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        limit: i64,
    ) -> Result<(Vec<crate::rollup::ViolationRow>, i64)>;
}

/// A unit of work: every area's operations, committed or rolled back
/// together.
#[async_trait]
pub trait Tx: OrgOps + WorkOps + GovOps + AuthOps + OutboxOps + SignalOps + Send {
    /// Makes every change permanent.
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Discards every change (dropping the transaction does too).
    async fn rollback(self: Box<Self>) -> Result<()>;
}
