//! Engagement requests (and their history), meetings (and attendees),
//! access requests, commitments, insights and exceptions.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use accord_domain::access::{AccessPurpose, AccessRequest, AccessState};
use accord_domain::commitment::{Commitment, CommitmentKind, CommitmentState};
use accord_domain::exception::{Exception, ExceptionState};
use accord_domain::id::{
    AccessRequestId, AccountId, CommitmentId, Email, EngagementTypeId, ExceptionId, InsightId,
    MeetingId, OpportunityId, PersonId, RequestId, RuleId,
};
use accord_domain::insight::{Insight, InsightKind};
use accord_domain::meeting::{Attendee, Meeting, MeetingSource, ResponseStatus};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::request::{
    EngagementRequest, Purpose, RedirectTarget, RequestState, StateChange,
};
use serde::Deserialize;
use sqlx::QueryBuilder;

use super::{
    Dialect, ROWS_PER_STATEMENT, RowExt, SqlTx, Stamp, encode_cursor, from_json, id_cursor, json,
    now, page_of, parse_enum, parse_with, pipelined, shaped_chunks, sql_impl,
};
use crate::model::{
    ContactFlags, MeetingFilter, NoLongerContact, Page, PageRequest, StoredMeeting, Upserted,
    Withdrawn,
};
use crate::ops::{GovOps, RequestFilter, WorkOps};
use crate::{Result, StoreError, micros};

const REQUEST_COLS: &str = "id, opportunity_id, account_id, requester_id, pm_id, engagement_type, purpose, briefing, needed_at, created_at, state, scheduled_at, reason, redirect, redirected_from, outcome, hours, completed_at";
const MEETING_COLS: &str = "id, account_id, title, starts_at, ends_at, source, cal_uid, cal_occurrence, cal_sequence, cal_modified, request_id, owner_id, owner_present, pm_count, customer_count, internal_count, attendees";
const ACCESS_COLS: &str = "id, pm_id, account_id, owner_id, purpose, agenda, wanted_at, created_at, state, conditions, reason, answered_by, answered_at";
const COMMITMENT_COLS: &str = "id, account_id, meeting_id, kind, text, to_whom, said_by, present, said_at, state, decided_by, decided_at, decision_note";
const INSIGHT_COLS: &str =
    "id, account_id, meeting_id, pm_id, kind, product_area, text, created_at";
const EXCEPTION_COLS: &str = "id, rule_id, record_kind, record_id, reason, requested_by, requested_at, expires_at, state, decided_by, decided_at, decision_note";

fn request(r: &impl RowExt) -> Result<EngagementRequest> {
    Ok(EngagementRequest {
        id: RequestId(r.uuid("id")?),
        opportunity: OpportunityId(r.uuid("opportunity_id")?),
        account: AccountId(r.uuid("account_id")?),
        requester: PersonId(r.uuid("requester_id")?),
        pm: r.opt_uuid("pm_id")?.map(PersonId),
        engagement_type: parse_with(
            &r.text("engagement_type")?,
            "engagement type",
            EngagementTypeId::parse,
        )?,
        purpose: parse_enum::<Purpose>(&r.text("purpose")?, "purpose")?,
        briefing: r.text("briefing")?,
        needed_at: r.time("needed_at")?,
        created_at: r.time("created_at")?,
        state: parse_enum::<RequestState>(&r.text("state")?, "request state")?,
        scheduled_at: r.opt_time("scheduled_at")?,
        reason: r.opt_text("reason")?,
        redirect: r
            .opt_text("redirect")?
            .map(|s| from_json::<RedirectTarget>(&s))
            .transpose()?,
        redirected_from: r.opt_uuid("redirected_from")?.map(RequestId),
        outcome: r.opt_text("outcome")?,
        hours: r.opt_float("hours")?,
        completed_at: r.opt_time("completed_at")?,
    })
}

/// A meeting's attendees as the meetings table keeps them: bytes, most of
/// an imported meeting's row. After a leading [`ATTENDEES_V1`], each
/// attendee is
///
/// - a flags byte: the response in bits 0–2 ([`response_code`]), the
///   organiser in bit 3, and in bit 4 whether a person's id follows;
/// - the address's length, one byte (an [`Email`] has at most 254), and
///   the address;
/// - the internal person's id, 16 bytes, if bit 4 is set.
///
/// Rows written before hold JSON text, which begins with `[`: a short form
/// (`{"e": address, "p": person, "r": response, "o": organiser}`, the
/// usual values left out) or the domain type's full form. They read back
/// as well. The JSON took twice the bytes, the person ids as 36-character
/// text, and was formatted for every row of an import.
const ATTENDEES_V1: u8 = 1;
const ORGANIZER: u8 = 1 << 3;
const PERSON: u8 = 1 << 4;
const RESPONSE: u8 = 0b111;

fn response_code(r: ResponseStatus) -> u8 {
    match r {
        ResponseStatus::Accepted => 0,
        ResponseStatus::Tentative => 1,
        ResponseStatus::Declined => 2,
        ResponseStatus::NeedsAction => 3,
        ResponseStatus::Delegated => 4,
        ResponseStatus::Unknown => 5,
    }
}

fn response_of(code: u8) -> Option<ResponseStatus> {
    Some(match code {
        0 => ResponseStatus::Accepted,
        1 => ResponseStatus::Tentative,
        2 => ResponseStatus::Declined,
        3 => ResponseStatus::NeedsAction,
        4 => ResponseStatus::Delegated,
        5 => ResponseStatus::Unknown,
        _ => return None,
    })
}

/// A meeting's attendees as stored (see [`ATTENDEES_V1`]).
pub(crate) fn attendees_bytes(list: &[Attendee]) -> Result<Vec<u8>> {
    let size = list
        .iter()
        .map(|a| 2 + a.email.as_str().len() + 16)
        .sum::<usize>();
    let mut out = Vec::with_capacity(1 + size);
    out.push(ATTENDEES_V1);
    for a in list {
        let email = a.email.as_str().as_bytes();
        let len = u8::try_from(email.len()).map_err(|_| {
            StoreError::Invalid(format!(
                "the address {} is longer than 255 bytes",
                a.email.as_str()
            ))
        })?;
        let mut flags = response_code(a.response);
        if a.organizer {
            flags |= ORGANIZER;
        }
        if a.person.is_some() {
            flags |= PERSON;
        }
        out.push(flags);
        out.push(len);
        out.extend_from_slice(email);
        if let Some(p) = a.person {
            out.extend_from_slice(p.0.as_bytes());
        }
    }
    Ok(out)
}

/// A meeting's attendees from their stored form (either: see
/// [`ATTENDEES_V1`]).
pub(crate) fn attendees_from(stored: &[u8]) -> Result<Vec<Attendee>> {
    let Some((&ATTENDEES_V1, mut rest)) = stored.split_first() else {
        let text = std::str::from_utf8(stored).map_err(|_| {
            StoreError::Other("stored attendees are neither bytes of version 1 nor JSON".into())
        })?;
        return attendees_from_json(text);
    };
    let at = |rest: &[u8]| stored.len() - rest.len();
    let bad = |offset: usize, what: &str| {
        StoreError::Other(format!(
            "stored attendees are not valid at byte {offset}: {what}"
        ))
    };
    let mut out = Vec::new();
    while let Some((&flags, tail)) = rest.split_first() {
        let response = response_of(flags & RESPONSE)
            .filter(|_| flags & !(RESPONSE | ORGANIZER | PERSON) == 0)
            .ok_or_else(|| bad(at(rest), "unknown flags"))?;
        let (address, tail) = tail
            .split_first()
            .and_then(|(&len, tail)| tail.split_at_checked(usize::from(len)))
            .ok_or_else(|| bad(at(tail), "the address is cut short"))?;
        let email = std::str::from_utf8(address)
            .ok()
            .and_then(|e| Email::parse(e).ok())
            .ok_or_else(|| bad(at(tail) - address.len(), "not an email address"))?;
        let (person, tail) = if flags & PERSON == 0 {
            (None, tail)
        } else {
            let (id, tail) = tail
                .split_first_chunk::<16>()
                .ok_or_else(|| bad(at(tail), "the person's id is cut short"))?;
            (Some(PersonId(uuid::Uuid::from_bytes(*id))), tail)
        };
        out.push(Attendee {
            email,
            person,
            response,
            organizer: flags & ORGANIZER != 0,
        });
        rest = tail;
    }
    Ok(out)
}

/// The short JSON form's attendee (see [`ATTENDEES_V1`]); the long keys
/// are the full form's.
#[derive(Deserialize)]
struct AttendeeIn {
    #[serde(rename = "e", alias = "email")]
    email: Email,
    #[serde(rename = "p", alias = "person", default)]
    person: Option<PersonId>,
    #[serde(rename = "r", alias = "response", default = "accepted")]
    response: ResponseStatus,
    #[serde(rename = "o", alias = "organizer", default)]
    organizer: bool,
}

fn accepted() -> ResponseStatus {
    ResponseStatus::Accepted
}

/// A meeting's attendees from JSON written before [`ATTENDEES_V1`].
fn attendees_from_json(text: &str) -> Result<Vec<Attendee>> {
    let list: Vec<AttendeeIn> = from_json(text)?;
    Ok(list
        .into_iter()
        .map(|a| Attendee {
            email: a.email,
            person: a.person,
            response: a.response,
            organizer: a.organizer,
        })
        .collect())
}

fn meeting_row(r: &impl RowExt) -> Result<StoredMeeting> {
    let source = match r.text("source")?.as_str() {
        "planned" => MeetingSource::Planned,
        "logged" => MeetingSource::Logged,
        "calendar" => MeetingSource::Calendar {
            uid: r.opt_text("cal_uid")?.unwrap_or_default(),
            occurrence: r.opt_text("cal_occurrence")?.unwrap_or_default(),
        },
        other => {
            return Err(StoreError::Other(format!(
                "stored meeting source {other:?} is not valid"
            )));
        }
    };
    Ok(StoredMeeting {
        meeting: Meeting {
            id: MeetingId(r.uuid("id")?),
            account: r.opt_uuid("account_id")?.map(AccountId),
            title: r.text("title")?,
            starts_at: r.stamp("starts_at")?,
            ends_at: r.stamp("ends_at")?,
            source,
            attendees: attendees_from(&r.bytes("attendees")?)?,
            request: r.opt_uuid("request_id")?.map(RequestId),
        },
        flags: ContactFlags {
            owner: r.opt_uuid("owner_id")?.map(PersonId),
            owner_present: r.flag("owner_present")?,
            pm_count: r.int("pm_count")?,
            customer_count: r.int("customer_count")?,
            internal_count: r.int("internal_count")?,
        },
        cal_sequence: r.opt_int("cal_sequence")?,
        cal_modified: r.opt_stamp("cal_modified")?,
    })
}

fn access(r: &impl RowExt) -> Result<AccessRequest> {
    Ok(AccessRequest {
        id: AccessRequestId(r.uuid("id")?),
        pm: PersonId(r.uuid("pm_id")?),
        account: AccountId(r.uuid("account_id")?),
        owner: r.opt_uuid("owner_id")?.map(PersonId),
        purpose: parse_enum::<AccessPurpose>(&r.text("purpose")?, "access purpose")?,
        agenda: r.text("agenda")?,
        wanted_at: r.opt_time("wanted_at")?,
        created_at: r.time("created_at")?,
        state: parse_enum::<AccessState>(&r.text("state")?, "access state")?,
        conditions: r.opt_text("conditions")?,
        reason: r.opt_text("reason")?,
        answered_by: r.opt_uuid("answered_by")?.map(PersonId),
        answered_at: r.opt_time("answered_at")?,
    })
}

fn commitment(r: &impl RowExt) -> Result<Commitment> {
    Ok(Commitment {
        id: CommitmentId(r.uuid("id")?),
        account: AccountId(r.uuid("account_id")?),
        meeting: r.opt_uuid("meeting_id")?.map(MeetingId),
        kind: parse_enum::<CommitmentKind>(&r.text("kind")?, "commitment kind")?,
        text: r.text("text")?,
        to_whom: r.text("to_whom")?,
        said_by: PersonId(r.uuid("said_by")?),
        present: from_json(&r.text("present")?)?,
        said_at: r.time("said_at")?,
        state: parse_enum::<CommitmentState>(&r.text("state")?, "commitment state")?,
        decided_by: r.opt_uuid("decided_by")?.map(PersonId),
        decided_at: r.opt_time("decided_at")?,
        decision_note: r.opt_text("decision_note")?,
    })
}

fn insight(r: &impl RowExt) -> Result<Insight> {
    Ok(Insight {
        id: InsightId(r.uuid("id")?),
        account: AccountId(r.uuid("account_id")?),
        meeting: r.opt_uuid("meeting_id")?.map(MeetingId),
        pm: PersonId(r.uuid("pm_id")?),
        kind: parse_enum::<InsightKind>(&r.text("kind")?, "insight kind")?,
        product_area: r.text("product_area")?,
        text: r.text("text")?,
        created_at: r.time("created_at")?,
    })
}

fn exception(r: &impl RowExt) -> Result<Exception> {
    Ok(Exception {
        id: ExceptionId(r.uuid("id")?),
        rule: parse_with(&r.text("rule_id")?, "rule id", RuleId::parse)?,
        record: RecordRef {
            kind: parse_enum::<RecordKind>(&r.text("record_kind")?, "record kind")?,
            id: r.uuid("record_id")?,
        },
        reason: r.text("reason")?,
        requested_by: PersonId(r.uuid("requested_by")?),
        requested_at: r.time("requested_at")?,
        expires_at: r.opt_time("expires_at")?,
        state: parse_enum::<ExceptionState>(&r.text("state")?, "exception state")?,
        decided_by: r.opt_uuid("decided_by")?.map(PersonId),
        decided_at: r.opt_time("decided_at")?,
        decision_note: r.opt_text("decision_note")?,
    })
}

/// The calendar key of a meeting, if it came from a calendar.
fn cal_key(m: &Meeting) -> Option<(&str, &str)> {
    match &m.source {
        MeetingSource::Calendar { uid, occurrence } => Some((uid.as_str(), occurrence.as_str())),
        _ => None,
    }
}

/// A meeting normalised as stored: a calendar occurrence's id derived from
/// its natural key, times in microseconds, attendees by email (each once).
/// Borrowed when it already is (the bulk paths hand over thousands of
/// meetings built that way: copying them would cost as much as encoding).
fn normalised(m: &StoredMeeting) -> Cow<'_, StoredMeeting> {
    let id = match cal_key(&m.meeting) {
        Some((uid, occ)) => MeetingId::from_calendar(uid, occ),
        None => m.meeting.id,
    };
    let is_micros = |t: &chrono::DateTime<chrono::Utc>| micros(*t) == *t;
    let done = m.meeting.id == id
        && is_micros(&m.meeting.starts_at)
        && is_micros(&m.meeting.ends_at)
        && m.cal_modified.as_ref().is_none_or(is_micros)
        && m.meeting
            .attendees
            .windows(2)
            .all(|w| w[0].email < w[1].email);
    if done {
        return Cow::Borrowed(m);
    }
    let mut m = m.clone();
    m.meeting.id = id;
    m.meeting.starts_at = micros(m.meeting.starts_at);
    m.meeting.ends_at = micros(m.meeting.ends_at);
    m.cal_modified = m.cal_modified.map(micros);
    m.meeting.attendees.sort_by(|a, b| a.email.cmp(&b.email));
    m.meeting.attendees.dedup_by(|a, b| a.email == b.email);
    Cow::Owned(m)
}

/// Whether an incoming calendar version is older than a stored one.
fn is_older(incoming: &StoredMeeting, stored: &StoredMeeting) -> bool {
    older_than(version_of(incoming), version_of(stored))
}

/// A calendar event's version: its SEQUENCE and LAST-MODIFIED.
type Version = (i64, Option<chrono::DateTime<chrono::Utc>>);

fn version_of(m: &StoredMeeting) -> Version {
    (m.cal_sequence.unwrap_or(0), m.cal_modified)
}

/// Whether an event's version is older than another (the stored one's).
fn older_than((sequence, modified): Version, (stored_sequence, stored_modified): Version) -> bool {
    match sequence.cmp(&stored_sequence) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => match (modified, stored_modified) {
            (Some(i), Some(s)) => i < s,
            (None, Some(_)) => true,
            _ => false,
        },
    }
}

sql_impl!(WorkOps, SqlTx {
    async fn insert_request(&mut self, r: &EngagementRequest) -> Result<()> {
        let redirect = r.redirect.as_ref().map(json).transpose()?;
        self.defer(|q| {
            q.push("INSERT INTO engagement_requests (id, opportunity_id, account_id, requester_id, pm_id, engagement_type, purpose, briefing, needed_at, created_at, state, scheduled_at, reason, redirect, redirected_from, outcome, hours, completed_at, updated_at) ");
            q.push_values([r], |mut b, r| {
                b.push_bind(r.id.0)
                    .push_bind(r.opportunity.0)
                    .push_bind(r.account.0)
                    .push_bind(r.requester.0)
                    .push_bind(r.pm.map(|p| p.0))
                    .push_bind(r.engagement_type.as_str())
                    .push_bind(r.purpose.as_str())
                    .push_bind(r.briefing.as_str())
                    .push_bind(micros(r.needed_at))
                    .push_bind(micros(r.created_at))
                    .push_bind(r.state.as_str())
                    .push_bind(r.scheduled_at.map(micros))
                    .push_bind(r.reason.as_deref())
                    .push_bind(redirect.as_deref())
                    .push_bind(r.redirected_from.map(|i| i.0))
                    .push_bind(r.outcome.as_deref())
                    .push_bind(r.hours)
                    .push_bind(r.completed_at.map(micros))
                    .push_bind(now());
            });
        })
        .await
    }

    async fn update_request(&mut self, r: &EngagementRequest, expected: RequestState) -> Result<()> {
        let redirect = r.redirect.as_ref().map(json).transpose()?;
        let at = now();
        let done = sqlx::query("UPDATE engagement_requests SET pm_id = $3, engagement_type = $4, purpose = $5, briefing = $6, needed_at = $7, state = $8, scheduled_at = $9, reason = $10, redirect = $11, outcome = $12, hours = $13, completed_at = COALESCE(completed_at, $15), updated_at = $14 WHERE id = $1 AND state = $2 RETURNING 1 AS affected")
            .bind(r.id.0)
            .bind(expected.as_str())
            .bind(r.pm.map(|p| p.0))
            .bind(r.engagement_type.as_str())
            .bind(r.purpose.as_str())
            .bind(r.briefing.as_str())
            .bind(micros(r.needed_at))
            .bind(r.state.as_str())
            .bind(r.scheduled_at.map(micros))
            .bind(r.reason.as_deref())
            .bind(redirect)
            .bind(r.outcome.as_deref())
            .bind(r.hours)
            .bind(at)
            .bind(r.completed_at.map(micros))
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            // Missing, or moved by someone else since it was read.
            let current = self.get_request(r.id).await?;
            return Err(StoreError::Conflict(format!(
                "request {} is {} now, not {expected}",
                r.id, current.state
            )));
        }
        Ok(())
    }

    async fn get_request(&mut self, id: RequestId) -> Result<EngagementRequest> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {REQUEST_COLS} FROM engagement_requests WHERE id = $1")))
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("request", id))?;
        request(&row)
    }

    async fn list_requests(&mut self, f: &RequestFilter, page: &PageRequest) -> Result<Page<EngagementRequest>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {REQUEST_COLS} FROM engagement_requests WHERE 1 = 1"));
        if let Some(pm) = f.pm {
            q.push(" AND pm_id = ").push_bind(pm.0);
        }
        if let Some(r) = f.requester {
            q.push(" AND requester_id = ").push_bind(r.0);
        }
        if let Some(a) = f.account {
            q.push(" AND account_id = ").push_bind(a.0);
        }
        if !f.states.is_empty() {
            q.push(" AND state IN (");
            let mut sep = q.separated(", ");
            for s in &f.states {
                sep.push_bind(s.as_str());
            }
            q.push(")");
        }
        if let Some(from) = f.from {
            q.push(" AND created_at >= ").push_bind(from);
        }
        if let Some(to) = f.to {
            q.push(" AND created_at < ").push_bind(to);
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(request).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |r| encode_cursor(&r.id.0.to_string())))
    }

    async fn append_history(&mut self, c: &StateChange) -> Result<()> {
        self.defer(|q| {
            q.push("INSERT INTO request_history (request_id, from_state, to_state, by_id, at, note) ");
            q.push_values([c], |mut b, c| {
                b.push_bind(c.request.0)
                    .push_bind(c.from.map(|s| s.as_str()))
                    .push_bind(c.to.as_str())
                    .push_bind(c.by.map(|p| p.0))
                    .push_bind(micros(c.at))
                    .push_bind(c.note.as_deref());
            });
        })
        .await
    }

    async fn history(&mut self, id: RequestId) -> Result<Vec<StateChange>> {
        let rows = sqlx::query("SELECT request_id, from_state, to_state, by_id, at, note FROM request_history WHERE request_id = $1 ORDER BY seq")
            .bind(id.0)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StateChange {
                    request: RequestId(r.uuid("request_id")?),
                    from: r.opt_text("from_state")?.map(|s| parse_enum(&s, "request state")).transpose()?,
                    to: parse_enum(&r.text("to_state")?, "request state")?,
                    by: r.opt_uuid("by_id")?.map(PersonId),
                    at: r.time("at")?,
                    note: r.opt_text("note")?,
                })
            })
            .collect()
    }

    async fn insert_meeting(&mut self, m: &StoredMeeting) -> Result<()> {
        self.insert_meetings(std::slice::from_ref(m)).await
    }

    async fn insert_meetings(&mut self, ms: &[StoredMeeting]) -> Result<()> {
        let ms: Vec<Cow<'_, StoredMeeting>> = ms.iter().map(normalised).collect();
        let refs: Vec<&StoredMeeting> = ms.iter().map(|m| &**m).collect();
        MeetingRows::insert_rows(self, &refs).await
    }

    async fn upsert_calendar_meeting(&mut self, m: &StoredMeeting) -> Result<(MeetingId, Upserted)> {
        let done = self.upsert_calendar_meetings(std::slice::from_ref(m)).await?;
        done.into_iter()
            .next()
            .ok_or_else(|| StoreError::Other("an upsert of one meeting returned no outcome".into()))
    }

    async fn upsert_calendar_meetings(&mut self, ms: &[StoredMeeting]) -> Result<Vec<(MeetingId, Upserted)>> {
        let ms: Vec<Cow<'_, StoredMeeting>> = ms.iter().map(normalised).collect();
        if ms.iter().any(|m| cal_key(&m.meeting).is_none()) {
            return Err(StoreError::Invalid("only calendar meetings are upserted by their UID".into()));
        }
        // The same occurrence twice in one batch: the newest copy is the
        // one that counts, as if they had come one after the other.
        let mut winner: HashMap<MeetingId, usize> = HashMap::with_capacity(ms.len());
        let mut outcome: Vec<Option<Upserted>> = vec![None; ms.len()];
        for (i, m) in ms.iter().enumerate() {
            match winner.get(&m.meeting.id).copied() {
                None => {
                    winner.insert(m.meeting.id, i);
                }
                Some(w) if ms[w] == *m => outcome[i] = Some(Upserted::Unchanged),
                Some(w) if is_older(m, &ms[w]) => outcome[i] = Some(Upserted::Stale),
                Some(w) => {
                    outcome[w] = Some(Upserted::Stale);
                    winner.insert(m.meeting.id, i);
                }
            }
        }
        let ids: Vec<MeetingId> = ms
            .iter()
            .enumerate()
            .filter(|(i, _)| outcome[*i].is_none())
            .map(|(_, m)| m.meeting.id)
            .collect();
        let mut stored = MeetingRows::existing(self, &ids).await?;
        let fresh: Vec<MeetingId> = ids.iter().filter(|id| !stored.contains_key(id)).copied().collect();
        let withdrawn = MeetingRows::withdrawn(self, &fresh).await?;
        let mut new: Vec<&StoredMeeting> = Vec::new();
        let mut back: Vec<MeetingId> = Vec::new();
        let mut changed: Vec<(StoredMeeting, &StoredMeeting)> = Vec::new();
        for (i, m) in ms.iter().enumerate() {
            if outcome[i].is_some() {
                continue;
            }
            outcome[i] = Some(match stored.remove(&m.meeting.id) {
                // Withdrawn by a newer version of the event than this one.
                None if withdrawn.get(&m.meeting.id).is_some_and(|v| older_than(version_of(m), *v)) => Upserted::Stale,
                None => {
                    if withdrawn.contains_key(&m.meeting.id) {
                        back.push(m.meeting.id);
                    }
                    new.push(m);
                    Upserted::Inserted
                }
                Some(old) if old == **m => Upserted::Unchanged,
                Some(old) if is_older(m, &old) => Upserted::Stale,
                Some(old) => {
                    changed.push((old, m));
                    Upserted::Updated
                }
            });
        }
        MeetingRows::insert_rows(self, &new).await?;
        MeetingRows::unmark_withdrawn(self, &back).await?;
        // Calendars change few meetings between two exports: one by one.
        for (old, m) in changed {
            MeetingRows::replace(self, &old, m).await?;
        }
        Ok(ms
            .iter()
            .zip(outcome)
            .map(|(m, o)| (m.meeting.id, o.unwrap_or(Upserted::Unchanged)))
            .collect())
    }

    async fn has_calendar_meetings(&mut self) -> Result<bool> {
        let any = sqlx::query("SELECT 1 AS one FROM meetings WHERE source = 'calendar' UNION ALL SELECT 1 AS one FROM withdrawn_meetings LIMIT 1")
            .fetch_optional(self.conn().await?)
            .await?;
        Ok(any.is_some())
    }

    async fn withdraw_calendar_meetings(&mut self, gone: &[NoLongerContact]) -> Result<Vec<(MeetingId, Withdrawn)>> {
        let ids: Vec<MeetingId> = gone.iter().map(|g| g.id).collect();
        // Few of them were ever stored (most occurrences that are not
        // contacts never were): one query a chunk finds those.
        let stored = MeetingRows::existing(self, &ids).await?;
        if stored.is_empty() {
            return Ok(Vec::new());
        }
        let mut referenced = HashSet::new();
        let found: Vec<MeetingId> = stored.keys().copied().collect();
        for chunk in shaped_chunks(&found, ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<DB>::new("");
            for (i, (col, from)) in [
                ("meeting_id", "insights WHERE"),
                ("meeting_id", "commitments WHERE"),
                ("record_id", "exceptions WHERE record_kind = 'meeting' AND"),
            ]
            .into_iter()
            .enumerate()
            {
                if i > 0 {
                    q.push(" UNION ");
                }
                q.push(format!("SELECT {col} AS id FROM {from} {col} IN ("));
                let mut sep = q.separated(", ");
                for id in chunk {
                    sep.push_bind(id.0);
                }
                q.push(")");
            }
            for row in q.build().fetch_all(self.conn().await?).await? {
                referenced.insert(MeetingId(row.uuid("id")?));
            }
        }
        let mut out = Vec::new();
        for g in gone {
            let Some(old) = stored.get(&g.id) else {
                continue;
            };
            if out.iter().any(|(id, _)| *id == g.id) {
                continue;
            }
            let how = if older_than((g.sequence, g.modified), version_of(old)) {
                Withdrawn::Stale
            } else if referenced.contains(&g.id) {
                Withdrawn::Referenced
            } else {
                MeetingRows::remove(self, old).await?;
                MeetingRows::mark_withdrawn(self, g).await?;
                Withdrawn::Removed
            };
            out.push((g.id, how));
        }
        Ok(out)
    }

    async fn get_meeting(&mut self, id: MeetingId) -> Result<StoredMeeting> {
        let row = sqlx::query("SELECT id, account_id, title, starts_at, ends_at, source, cal_uid, cal_occurrence, cal_sequence, cal_modified, request_id, owner_id, owner_present, pm_count, customer_count, internal_count, attendees FROM meetings WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("meeting", id))?;
        meeting_row(&row)
    }

    async fn list_meetings(&mut self, f: &MeetingFilter, page: &PageRequest) -> Result<Page<StoredMeeting>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {MEETING_COLS} FROM meetings WHERE 1 = 1"));
        if let Some(a) = f.account {
            q.push(" AND account_id = ").push_bind(a.0);
        }
        if let Some(p) = f.person {
            q.push(" AND id IN (SELECT meeting_id FROM meeting_people WHERE person_id = ").push_bind(p.0).push(")");
        }
        let dialect = self.dialect;
        if let Some(from) = f.from {
            q.push(" AND starts_at >= ").push_bind(dialect.stamp(from));
        }
        if let Some(to) = f.to {
            q.push(" AND starts_at < ").push_bind(dialect.stamp(to));
        }
        if f.pm_contacts_only {
            q.push(" AND pm_count > 0 AND customer_count > 0");
        }
        if let Some(c) = &page.after {
            let (starts, id) = super::parse_name_cursor(c)?;
            let starts: chrono::DateTime<chrono::Utc> = starts
                .parse()
                .map_err(|_| StoreError::Invalid(format!("malformed page cursor {c:?}")))?;
            q.push(" AND (starts_at < ").push_bind(dialect.stamp(starts));
            q.push(" OR (starts_at = ").push_bind(dialect.stamp(starts)).push(" AND id < ").push_bind(id).push("))");
        }
        q.push(" ORDER BY starts_at DESC, id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(meeting_row).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |m| {
            super::name_cursor(&m.meeting.starts_at.to_rfc3339(), m.meeting.id.0)
        }))
    }

    async fn insert_access(&mut self, a: &AccessRequest) -> Result<()> {
        sqlx::query("INSERT INTO access_requests (id, pm_id, account_id, owner_id, purpose, agenda, wanted_at, created_at, state, conditions, reason, answered_by, answered_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
            .bind(a.id.0)
            .bind(a.pm.0)
            .bind(a.account.0)
            .bind(a.owner.map(|o| o.0))
            .bind(a.purpose.as_str())
            .bind(a.agenda.as_str())
            .bind(a.wanted_at.map(micros))
            .bind(micros(a.created_at))
            .bind(a.state.as_str())
            .bind(a.conditions.as_deref())
            .bind(a.reason.as_deref())
            .bind(a.answered_by.map(|p| p.0))
            .bind(a.answered_at.map(micros))
            .bind(now())
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn update_access(&mut self, a: &AccessRequest, expected: AccessState) -> Result<()> {
        let done = sqlx::query("UPDATE access_requests SET owner_id = $3, agenda = $4, wanted_at = $5, state = $6, conditions = $7, reason = $8, answered_by = $9, answered_at = $10, updated_at = $11 WHERE id = $1 AND state = $2 RETURNING 1 AS affected")
            .bind(a.id.0)
            .bind(expected.as_str())
            .bind(a.owner.map(|o| o.0))
            .bind(a.agenda.as_str())
            .bind(a.wanted_at.map(micros))
            .bind(a.state.as_str())
            .bind(a.conditions.as_deref())
            .bind(a.reason.as_deref())
            .bind(a.answered_by.map(|p| p.0))
            .bind(a.answered_at.map(micros))
            .bind(now())
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            let current = self.get_access(a.id).await?;
            return Err(StoreError::Conflict(format!(
                "access request {} is {} now, not {expected}",
                a.id, current.state
            )));
        }
        Ok(())
    }

    async fn get_access(&mut self, id: AccessRequestId) -> Result<AccessRequest> {
        let row = sqlx::query("SELECT id, pm_id, account_id, owner_id, purpose, agenda, wanted_at, created_at, state, conditions, reason, answered_by, answered_at FROM access_requests WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("access request", id))?;
        access(&row)
    }

    async fn list_access(&mut self, pm: Option<PersonId>, owner: Option<PersonId>, page: &PageRequest) -> Result<Page<AccessRequest>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {ACCESS_COLS} FROM access_requests WHERE 1 = 1"));
        if let Some(p) = pm {
            q.push(" AND pm_id = ").push_bind(p.0);
        }
        if let Some(o) = owner {
            q.push(" AND owner_id = ").push_bind(o.0);
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(access).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |a| encode_cursor(&a.id.0.to_string())))
    }

    async fn insert_commitment(&mut self, c: &Commitment) -> Result<()> {
        let at = now();
        sqlx::query("INSERT INTO commitments (id, account_id, meeting_id, kind, text, to_whom, said_by, present, said_at, state, decided_by, decided_at, decision_note, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)")
            .bind(c.id.0)
            .bind(c.account.0)
            .bind(c.meeting.map(|m| m.0))
            .bind(c.kind.as_str())
            .bind(c.text.as_str())
            .bind(c.to_whom.as_str())
            .bind(c.said_by.0)
            .bind(json(&c.present)?)
            .bind(micros(c.said_at))
            .bind(c.state.as_str())
            .bind(c.decided_by.map(|p| p.0))
            .bind(c.decided_at.map(micros))
            .bind(c.decision_note.as_deref())
            .bind(at)
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn update_commitment(&mut self, c: &Commitment, expected: CommitmentState) -> Result<()> {
        let done = sqlx::query("UPDATE commitments SET state = $3, decided_by = $4, decided_at = $5, decision_note = $6, updated_at = $7 WHERE id = $1 AND state = $2 RETURNING 1 AS affected")
            .bind(c.id.0)
            .bind(expected.as_str())
            .bind(c.state.as_str())
            .bind(c.decided_by.map(|p| p.0))
            .bind(c.decided_at.map(micros))
            .bind(c.decision_note.as_deref())
            .bind(now())
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            let current = self.get_commitment(c.id).await?;
            return Err(StoreError::Conflict(format!(
                "commitment {} is {} now, not {}",
                c.id,
                current.state.as_str(),
                expected.as_str()
            )));
        }
        Ok(())
    }

    async fn get_commitment(&mut self, id: CommitmentId) -> Result<Commitment> {
        let row = sqlx::query("SELECT id, account_id, meeting_id, kind, text, to_whom, said_by, present, said_at, state, decided_by, decided_at, decision_note FROM commitments WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("commitment", id))?;
        commitment(&row)
    }

    async fn list_commitments(&mut self, account: Option<AccountId>, pending_only: bool, page: &PageRequest) -> Result<Page<Commitment>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {COMMITMENT_COLS} FROM commitments WHERE 1 = 1"));
        if let Some(a) = account {
            q.push(" AND account_id = ").push_bind(a.0);
        }
        if pending_only {
            q.push(" AND state = ").push_bind(CommitmentState::Pending.as_str());
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(commitment).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |c| encode_cursor(&c.id.0.to_string())))
    }

    async fn insert_insight(&mut self, i: &Insight) -> Result<()> {
        if let Some(m) = i.meeting {
            let meeting = self.get_meeting(m).await?;
            super::signals::rollup_insight(self, &meeting, i.pm).await?;
        }
        sqlx::query("INSERT INTO insights (id, account_id, meeting_id, pm_id, kind, product_area, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(i.id.0)
            .bind(i.account.0)
            .bind(i.meeting.map(|m| m.0))
            .bind(i.pm.0)
            .bind(i.kind.as_str())
            .bind(i.product_area.as_str())
            .bind(i.text.as_str())
            .bind(micros(i.created_at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn get_insight(&mut self, id: InsightId) -> Result<Insight> {
        let row = sqlx::query("SELECT id, account_id, meeting_id, pm_id, kind, product_area, text, created_at FROM insights WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("insight", id))?;
        insight(&row)
    }

    async fn list_insights(&mut self, account: Option<AccountId>, pm: Option<PersonId>, page: &PageRequest) -> Result<Page<Insight>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {INSIGHT_COLS} FROM insights WHERE 1 = 1"));
        if let Some(a) = account {
            q.push(" AND account_id = ").push_bind(a.0);
        }
        if let Some(p) = pm {
            q.push(" AND pm_id = ").push_bind(p.0);
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(insight).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |i| encode_cursor(&i.id.0.to_string())))
    }

    async fn insert_exception(&mut self, e: &Exception) -> Result<()> {
        sqlx::query("INSERT INTO exceptions (id, rule_id, record_kind, record_id, reason, requested_by, requested_at, expires_at, state, decided_by, decided_at, decision_note, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
            .bind(e.id.0)
            .bind(e.rule.as_str())
            .bind(e.record.kind.as_str())
            .bind(e.record.id)
            .bind(e.reason.as_str())
            .bind(e.requested_by.0)
            .bind(micros(e.requested_at))
            .bind(e.expires_at.map(micros))
            .bind(e.state.as_str())
            .bind(e.decided_by.map(|p| p.0))
            .bind(e.decided_at.map(micros))
            .bind(e.decision_note.as_deref())
            .bind(now())
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn update_exception(&mut self, e: &Exception, expected: ExceptionState) -> Result<()> {
        let done = sqlx::query("UPDATE exceptions SET state = $3, expires_at = $4, decided_by = $5, decided_at = $6, decision_note = $7, updated_at = $8 WHERE id = $1 AND state = $2 RETURNING 1 AS affected")
            .bind(e.id.0)
            .bind(expected.as_str())
            .bind(e.state.as_str())
            .bind(e.expires_at.map(micros))
            .bind(e.decided_by.map(|p| p.0))
            .bind(e.decided_at.map(micros))
            .bind(e.decision_note.as_deref())
            .bind(now())
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            let current = self.get_exception(e.id).await?;
            return Err(StoreError::Conflict(format!(
                "exception {} is {} now, not {}",
                e.id,
                current.state.as_str(),
                expected.as_str()
            )));
        }
        Ok(())
    }

    async fn get_exception(&mut self, id: ExceptionId) -> Result<Exception> {
        let row = sqlx::query("SELECT id, rule_id, record_kind, record_id, reason, requested_by, requested_at, expires_at, state, decided_by, decided_at, decision_note FROM exceptions WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("exception", id))?;
        exception(&row)
    }

    async fn exceptions_for(&mut self, record: RecordRef) -> Result<Vec<Exception>> {
        let rows = sqlx::query("SELECT id, rule_id, record_kind, record_id, reason, requested_by, requested_at, expires_at, state, decided_by, decided_at, decision_note FROM exceptions WHERE record_kind = $1 AND record_id = $2 ORDER BY id")
            .bind(record.kind.as_str())
            .bind(record.id)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(exception).collect()
    }

    async fn list_exceptions(&mut self, pending_only: bool, rule: Option<&RuleId>, page: &PageRequest) -> Result<Page<Exception>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {EXCEPTION_COLS} FROM exceptions WHERE 1 = 1"));
        if pending_only {
            q.push(" AND state = ").push_bind(ExceptionState::Requested.as_str());
        }
        if let Some(r) = rule {
            q.push(" AND rule_id = ").push_bind(r.as_str().to_owned());
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(exception).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |e| encode_cursor(&e.id.0.to_string())))
    }
});

/// The meeting rows behind the bulk paths, shared by `insert_meetings` and
/// `upsert_calendar_meetings`. Meetings given here are already normalised.
#[async_trait::async_trait]
trait MeetingRows {
    /// The stored meetings among `ids`.
    async fn existing(&mut self, ids: &[MeetingId]) -> Result<HashMap<MeetingId, StoredMeeting>>;
    /// Inserts new meetings and their `meeting_people` rows.
    async fn insert_rows(&mut self, ms: &[&StoredMeeting]) -> Result<()>;
    /// Replaces a stored calendar meeting by a newer version of it.
    async fn replace(&mut self, old: &StoredMeeting, new: &StoredMeeting) -> Result<()>;
    /// Deletes a stored meeting's `meeting_people` rows.
    async fn delete_people(&mut self, old: &StoredMeeting) -> Result<()>;
    /// Removes a stored meeting with its attendance, its contact roll-ups,
    /// its decisions and the violations they counted.
    async fn remove(&mut self, old: &StoredMeeting) -> Result<()>;
    /// The versions that withdrew meetings among `ids` (see
    /// `withdrawn_meetings` in the schema).
    async fn withdrawn(&mut self, ids: &[MeetingId]) -> Result<HashMap<MeetingId, Version>>;
    /// Remembers the version of an event that withdrew its meeting.
    async fn mark_withdrawn(&mut self, g: &NoLongerContact) -> Result<()>;
    /// Forgets the withdrawals of meetings stored again.
    async fn unmark_withdrawn(&mut self, ids: &[MeetingId]) -> Result<()>;
}

sql_impl!(MeetingRows, SqlTx {
    async fn withdrawn(&mut self, ids: &[MeetingId]) -> Result<HashMap<MeetingId, Version>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        // Most databases have withdrawn nothing: one probe spares a large
        // import the lookup of every new meeting.
        let any = sqlx::query("SELECT 1 AS one FROM withdrawn_meetings LIMIT 1")
            .fetch_optional(self.conn().await?)
            .await?;
        if any.is_none() {
            return Ok(out);
        }
        let rows = self.rows_for_ids("SELECT id, cal_sequence, cal_modified FROM withdrawn_meetings WHERE id IN (", ids.iter().map(|id| id.0)).await?;
        for row in &rows {
            out.insert(MeetingId(row.uuid("id")?), (row.int("cal_sequence")?, row.opt_time("cal_modified")?));
        }
        Ok(out)
    }

    async fn mark_withdrawn(&mut self, g: &NoLongerContact) -> Result<()> {
        let at = now();
        self.defer(|q| {
            q.push("INSERT INTO withdrawn_meetings (id, cal_sequence, cal_modified, withdrawn_at) VALUES (")
                .push_bind(g.id.0)
                .push(", ")
                .push_bind(g.sequence)
                .push(", ")
                .push_bind(g.modified.map(micros))
                .push(", ")
                .push_bind(at)
                .push(") ON CONFLICT (id) DO UPDATE SET cal_sequence = excluded.cal_sequence, cal_modified = excluded.cal_modified, withdrawn_at = excluded.withdrawn_at");
        })
        .await
    }

    async fn unmark_withdrawn(&mut self, ids: &[MeetingId]) -> Result<()> {
        for chunk in shaped_chunks(ids, ROWS_PER_STATEMENT) {
            self.defer(|q| {
                q.push("DELETE FROM withdrawn_meetings WHERE id IN (");
                let mut sep = q.separated(", ");
                for id in chunk {
                    sep.push_bind(id.0);
                }
                sep.push_unseparated(")");
            })
            .await?;
        }
        Ok(())
    }

    async fn existing(&mut self, ids: &[MeetingId]) -> Result<HashMap<MeetingId, StoredMeeting>> {
        let rows = self.rows_for_ids(&format!("SELECT {MEETING_COLS} FROM meetings WHERE id IN ("), ids.iter().map(|id| id.0)).await?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in &rows {
            let m = meeting_row(row)?;
            out.insert(m.meeting.id, m);
        }
        Ok(out)
    }

    async fn insert_rows(&mut self, ms: &[&StoredMeeting]) -> Result<()> {
        let dialect = self.dialect;
        let at = dialect.stamp(now());
        // In the order of the indexes' keys: each statement then fills
        // index pages one after the other instead of all over the tree,
        // which keeps a large import within the page cache.
        let mut ms = ms.to_vec();
        ms.sort_unstable_by_key(|m| m.meeting.id);
        let ms = ms.as_slice();
        let mut people = people_rows(ms.iter().copied());
        people.sort_unstable_by_key(|r| (r.0, r.1, r.2));
        let mut jobs: Vec<Job<'_>> = shaped_chunks(ms, ROWS_PER_STATEMENT).into_iter().map(Job::Meetings).collect();
        // 4 values a row: four times as many rows fit a statement.
        jobs.extend(shaped_chunks(&people, ROWS_PER_STATEMENT * 4).into_iter().map(Job::People));
        pipelined(self.conn().await?, &jobs, |job| match job {
            Job::Meetings(chunk) => {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO meetings (id, account_id, title, starts_at, ends_at, source, cal_uid, cal_occurrence, cal_sequence, cal_modified, request_id, owner_id, owner_present, pm_count, customer_count, internal_count, attendees, created_at, updated_at) ");
                let mut bad = None;
                q.push_values(chunk.iter(), |mut b, m| {
                    let (uid, occ) = cal_key(&m.meeting).map_or((None, None), |(u, o)| (Some(u), Some(o)));
                    let attendees = attendees_bytes(&m.meeting.attendees).unwrap_or_else(|e| {
                        bad = Some(e);
                        Vec::new()
                    });
                    b.push_bind(m.meeting.id.0)
                        .push_bind(m.meeting.account.map(|a| a.0))
                        .push_bind(m.meeting.title.as_str())
                        .push_bind(dialect.stamp(m.meeting.starts_at))
                        .push_bind(dialect.stamp(m.meeting.ends_at))
                        .push_bind(m.meeting.source.kind())
                        .push_bind(uid)
                        .push_bind(occ)
                        .push_bind(m.cal_sequence)
                        .push_bind(dialect.stamp(m.cal_modified))
                        .push_bind(m.meeting.request.map(|r| r.0))
                        .push_bind(m.flags.owner.map(|o| o.0))
                        .push_bind(m.flags.owner_present)
                        .push_bind(m.flags.pm_count)
                        .push_bind(m.flags.customer_count)
                        .push_bind(m.flags.internal_count)
                        .push_bind(attendees)
                        .push_bind(at)
                        .push_bind(at);
                });
                match bad {
                    Some(e) => Err(e),
                    None => Ok(q),
                }
            }
            Job::People(chunk) => Ok(insert_people(dialect, chunk)),
        })
        .await?;
        // The daily contact roll-ups, in the same transaction.
        super::signals::rollup_meetings(self, ms, 1).await
    }

    async fn replace(&mut self, old: &StoredMeeting, new: &StoredMeeting) -> Result<()> {
        let id = new.meeting.id;
        sqlx::query("UPDATE meetings SET account_id = $2, title = $3, starts_at = $4, ends_at = $5, cal_sequence = $6, cal_modified = $7, owner_id = $8, owner_present = $9, pm_count = $10, customer_count = $11, internal_count = $12, updated_at = $13, attendees = $14 WHERE id = $1")
            .bind(id.0)
            .bind(new.meeting.account.map(|a| a.0))
            .bind(new.meeting.title.as_str())
            .bind(self.dialect.stamp(new.meeting.starts_at))
            .bind(self.dialect.stamp(new.meeting.ends_at))
            .bind(new.cal_sequence)
            .bind(self.dialect.stamp(new.cal_modified))
            .bind(new.flags.owner.map(|o| o.0))
            .bind(new.flags.owner_present)
            .bind(new.flags.pm_count)
            .bind(new.flags.customer_count)
            .bind(new.flags.internal_count)
            .bind(self.dialect.stamp(now()))
            .bind(attendees_bytes(&new.meeting.attendees)?)
            .execute(self.conn().await?)
            .await?;
        MeetingRows::delete_people(self, old).await?;
        let rows = people_rows(std::iter::once(new));
        if !rows.is_empty() {
            insert_people::<DB>(self.dialect, &rows).build().execute(self.conn().await?).await?;
        }
        super::signals::rollup_meetings(self, &[old], -1).await?;
        super::signals::rollup_meetings(self, &[new], 1).await
    }

    async fn delete_people(&mut self, old: &StoredMeeting) -> Result<()> {
        // By the index's own key (person, start, meeting): the table has
        // no other index to find a meeting's rows by.
        let before = people_rows(std::iter::once(old));
        if !before.is_empty() {
            let mut q = QueryBuilder::<DB>::new("DELETE FROM meeting_people WHERE starts_at = ");
            q.push_bind(self.dialect.stamp(old.meeting.starts_at)).push(" AND meeting_id = ").push_bind(old.meeting.id.0).push(" AND person_id IN (");
            let mut sep = q.separated(", ");
            for (p, ..) in &before {
                sep.push_bind(p.0);
            }
            q.push(")");
            q.build().execute(self.conn().await?).await?;
        }
        Ok(())
    }

    async fn remove(&mut self, old: &StoredMeeting) -> Result<()> {
        let record = RecordRef { kind: RecordKind::Meeting, id: old.meeting.id.0 };
        let decisions = self.decisions_for(record).await?;
        super::signals::rollup_decisions(self, &decisions, -1).await?;
        // Its decision_rules rows go with them (ON DELETE CASCADE).
        sqlx::query("DELETE FROM decisions WHERE record_kind = $1 AND record_id = $2")
            .bind(record.kind.as_str())
            .bind(record.id)
            .execute(self.conn().await?)
            .await?;
        MeetingRows::delete_people(self, old).await?;
        sqlx::query("DELETE FROM meetings WHERE id = $1")
            .bind(old.meeting.id.0)
            .execute(self.conn().await?)
            .await?;
        super::signals::rollup_meetings(self, &[old], -1).await
    }
});

/// A bulk statement to build.
enum Job<'a> {
    Meetings(&'a [&'a StoredMeeting]),
    People(&'a [PersonRow]),
}

/// A row of `meeting_people`.
type PersonRow = (PersonId, chrono::DateTime<chrono::Utc>, MeetingId, bool);

/// One statement inserting `meeting_people` rows (at least one).
///
/// SQLite journals every index page a multi-row statement changes, so that
/// the statement alone can be undone when a row breaks a constraint: for
/// an index written all over (this one, keyed by person), a page copied per
/// row. `OR FAIL` stops at a bad row without undoing the rows before it,
/// which needs no journal; the error fails the whole transaction anyway (it
/// is never committed after an error). PostgreSQL has no such journal, nor
/// the syntax.
fn insert_people<DB>(dialect: &Dialect, rows: &[PersonRow]) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    for<'q> uuid::Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Stamp: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new(match dialect.engine {
        crate::EngineKind::Sqlite => {
            "INSERT OR FAIL INTO meeting_people (person_id, starts_at, meeting_id, attended) "
        }
        crate::EngineKind::Postgres => {
            "INSERT INTO meeting_people (person_id, starts_at, meeting_id, attended) "
        }
    });
    q.push_values(rows.iter(), |mut b, (p, at, m, attended)| {
        b.push_bind(p.0)
            .push_bind(dialect.stamp(*at))
            .push_bind(m.0)
            .push_bind(*attended);
    });
    q
}

/// The internal people invited to meetings, once each per meeting.
fn people_rows<'a>(ms: impl Iterator<Item = &'a StoredMeeting>) -> Vec<PersonRow> {
    let mut rows: Vec<PersonRow> = Vec::new();
    for m in ms {
        let first = rows.len();
        for a in &m.meeting.attendees {
            if let Some(p) = a.person
                && !rows[first..].iter().any(|r| r.0 == p)
            {
                rows.push((p, m.meeting.starts_at, m.meeting.id, a.response.attended()));
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::enum_str;

    #[test]
    fn enum_names_match_as_str() {
        for s in RequestState::ALL {
            assert_eq!(enum_str(&s), s.as_str());
        }
    }

    fn attendee(
        email: &str,
        person: Option<PersonId>,
        response: ResponseStatus,
        organizer: bool,
    ) -> Attendee {
        Attendee {
            email: Email::parse(email).unwrap(),
            person,
            response,
            organizer,
        }
    }

    #[test]
    fn attendees_are_stored_as_bytes_and_read_back_in_every_form() {
        let ana = PersonId::new();
        let raj = PersonId::new();
        let list = vec![
            attendee("cfo@acme.example", None, ResponseStatus::Accepted, false),
            attendee(
                "ana@ourco.example",
                Some(ana),
                ResponseStatus::Accepted,
                true,
            ),
            attendee(
                "raj@ourco.example",
                Some(raj),
                ResponseStatus::Declined,
                false,
            ),
            attendee("cto@acme.example", None, ResponseStatus::NeedsAction, false),
            attendee("it@acme.example", None, ResponseStatus::Tentative, true),
            attendee("ops@acme.example", None, ResponseStatus::Delegated, false),
            attendee(
                "x@acme.example",
                Some(PersonId::new()),
                ResponseStatus::Unknown,
                true,
            ),
        ];
        let bytes = attendees_bytes(&list).unwrap();
        assert_eq!(bytes[0], ATTENDEES_V1);
        // Two bytes and the address each, and 16 for each person.
        let addresses: usize = list.iter().map(|a| a.email.as_str().len()).sum();
        assert_eq!(bytes.len(), 1 + 2 * list.len() + addresses + 3 * 16);
        assert_eq!(attendees_from(&bytes).unwrap(), list);
        assert_eq!(
            attendees_from(&attendees_bytes(&[]).unwrap()).unwrap(),
            vec![]
        );

        // Rows written before hold JSON: the short form, and before it the
        // full form of the domain type.
        let short = format!(
            r#"[{{"e":"cfo@acme.example"}},{{"e":"ana@ourco.example","p":"{ana}","o":true}},{{"e":"raj@ourco.example","p":"{raj}","r":"declined"}}]"#,
            ana = ana.0,
            raj = raj.0
        );
        assert_eq!(attendees_from(short.as_bytes()).unwrap(), list[..3]);
        let full = serde_json::to_vec(&list).unwrap();
        assert_eq!(attendees_from(&full).unwrap(), list);
        // An attendee without an address is not one.
        assert!(attendees_from(br#"[{"p":null}]"#).is_err());

        // Damaged bytes are errors, never a panic or a wrong list: cut
        // anywhere, the bytes read back as the attendees before the cut or
        // fail.
        for n in 1..bytes.len() {
            if let Ok(read) = attendees_from(&bytes[..n]) {
                assert_eq!(read, list[..read.len()], "cut at {n}");
                assert_eq!(attendees_bytes(&read).unwrap().len(), n, "cut at {n}");
            }
        }
        let error = |b: &[u8]| attendees_from(b).unwrap_err().to_string();
        assert!(error(&[ATTENDEES_V1, 0x80, 0]).contains("byte 1: unknown flags"));
        assert!(error(&[ATTENDEES_V1, 6, 0]).contains("byte 1: unknown flags"));
        assert!(
            error(&[ATTENDEES_V1, 0, 3, b'a', b'b', b'c']).contains("byte 3: not an email address")
        );
        assert!(error(&[ATTENDEES_V1, 0, 9, b'a']).contains("the address is cut short"));
        assert!(error(&[0xFF, 0xFE]).contains("neither bytes of version 1 nor JSON"));
    }
}
