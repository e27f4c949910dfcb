//! Customer contacts logged or planned by hand, access requests,
//! commitments and insights.

use accord_domain::access::{AccessPurpose, AccessRequest, AccessState};
use accord_domain::commitment::{Commitment, CommitmentKind, CommitmentState};
use accord_domain::id::{
    AccessRequestId, AccountId, CommitmentId, Email, InsightId, MeetingId, PersonId, RequestId,
};
use accord_domain::insight::{Insight, InsightKind};
use accord_domain::meeting::{Attendee, Meeting, MeetingSource, ResponseStatus};
use accord_domain::people::Person;
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::rules::input::{Input, MeetingOrigin};
use accord_domain::rules::{Decision, Effect};
use accord_store::{ContactFlags, MeetingFilter, Page, PageRequest, StoredMeeting, Tx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::{Action, Principal};
use crate::error::{FieldError, Result, ServiceError};
use crate::requests::in_force;
use crate::{Service, facts, record};

/// An attendee as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAttendee {
    /// Their address.
    pub email: String,
    /// Their answer (accepted when not given).
    #[serde(default)]
    pub response: Option<ResponseStatus>,
}

/// A customer contact logged after it happened, or planned before.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMeeting {
    /// An id chosen by the client (to ask for an exception first).
    pub id: Option<MeetingId>,
    /// The customer account; inferred from the attendees when not given.
    pub account: Option<AccountId>,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Who is invited.
    pub attendees: Vec<NewAttendee>,
    /// Planned through accord (a `deny` refuses it), or logged after the
    /// fact (a `deny` is recorded as a violation).
    #[serde(default)]
    pub planned: bool,
    /// The engagement request it fulfils.
    pub request: Option<RequestId>,
}

/// A stored record with what the playbook said about it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decided<T> {
    /// The record.
    pub record: T,
    /// The decision.
    pub decision: Decision,
}

/// Who attended, resolved against the organisation.
pub(crate) struct Resolved {
    pub(crate) attendees: Vec<Attendee>,
    pub(crate) account: accord_domain::account::Account,
    pub(crate) flags: ContactFlags,
    pub(crate) sales: i64,
}

/// Resolves attendees: internal people by email, customers by their
/// account's domains (or subdomains).
pub(crate) async fn resolve(
    tx: &mut dyn Tx,
    account: Option<AccountId>,
    list: &[NewAttendee],
) -> Result<Resolved> {
    let mut errors = Vec::new();
    let mut attendees: Vec<(Attendee, Option<Person>, Option<AccountId>)> = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let email = match Email::parse(&a.email) {
            Ok(e) => e,
            Err(e) => {
                errors.push(FieldError::new(format!("attendees[{i}].email"), e.why));
                continue;
            }
        };
        if attendees.iter().any(|(x, _, _)| x.email == email) {
            continue;
        }
        let person = tx.person_by_email(&email).await?;
        let acct = match person {
            Some(_) => None,
            None => tx.account_by_host(email.domain()).await?.map(|a| a.id),
        };
        attendees.push((
            Attendee {
                email,
                person: person.as_ref().map(|p| p.id),
                response: a.response.unwrap_or(ResponseStatus::Accepted),
                organizer: false,
            },
            person,
            acct,
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    // The account: the one given, else the one most customer attendees are from.
    let account_id = match account {
        Some(a) => a,
        None => {
            let mut counts: std::collections::BTreeMap<AccountId, usize> = Default::default();
            for (_, _, a) in &attendees {
                if let Some(a) = a {
                    *counts.entry(*a).or_default() += 1;
                }
            }
            match counts
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            {
                Some((a, _)) => a,
                None => {
                    return Err(ServiceError::invalid(
                        "attendees",
                        "nobody from a customer account is invited: give the account, or an attendee at one of its domains",
                    ));
                }
            }
        }
    };
    let account = tx
        .get_account(account_id)
        .await
        .map_err(|_| ServiceError::invalid("account", "no such account"))?;
    let mut flags = ContactFlags {
        owner: account.owner,
        ..ContactFlags::default()
    };
    let mut sales = 0;
    for (a, person, acct) in &attendees {
        if !a.response.attended() {
            continue;
        }
        match person {
            Some(p) => {
                flags.internal_count += 1;
                if p.role.is_product() {
                    flags.pm_count += 1;
                }
                if p.role.is_sales() {
                    sales += 1;
                }
                if Some(p.id) == account.owner {
                    flags.owner_present = true;
                }
            }
            None => {
                if *acct == Some(account.id) {
                    flags.customer_count += 1;
                }
            }
        }
    }
    Ok(Resolved {
        attendees: attendees.into_iter().map(|(a, _, _)| a).collect(),
        account,
        flags,
        sales,
    })
}

impl Service {
    /// Logs a customer contact after the fact, or plans one. Planned
    /// contacts that the playbook denies are refused; logged ones are
    /// stored with the violation.
    pub async fn log_meeting(
        &self,
        who: &Principal,
        new: NewMeeting,
    ) -> Result<Decided<StoredMeeting>> {
        who.require(Action::LogMeeting)?;
        let now = self.now();
        let mut errors = Vec::new();
        if new.title.trim().is_empty() {
            errors.push(FieldError::new("title", "give the contact a title"));
        }
        if new.ends_at < new.starts_at {
            errors.push(FieldError::new("ends_at", "ends before it starts"));
        }
        if new.planned && new.starts_at <= now {
            errors.push(FieldError::new(
                "starts_at",
                "a planned contact starts in the future (log past ones with planned = false)",
            ));
        }
        if !new.planned && new.starts_at > now {
            errors.push(FieldError::new(
                "starts_at",
                "a logged contact already happened (plan future ones with planned = true)",
            ));
        }
        if new.attendees.is_empty() {
            errors.push(FieldError::new("attendees", "who was there?"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let active = self.playbook();
        let mut tx = self.store().write().await?;
        let r = resolve(tx.as_mut(), new.account, &new.attendees).await?;
        if r.flags.internal_count == 0 {
            return Err(ServiceError::invalid(
                "attendees",
                "nobody from our side attends",
            ));
        }
        if let Some(req) = new.request {
            tx.get_request(req)
                .await
                .map_err(|_| ServiceError::invalid("request", "no such request"))?;
        }
        let id = new.id.unwrap_or_default();
        let record_ref = RecordRef {
            kind: RecordKind::Meeting,
            id: id.0,
        };
        let excepted = in_force(tx.as_mut(), record_ref, now).await?;
        let origin = if new.planned {
            MeetingOrigin::Planned
        } else {
            MeetingOrigin::Logged
        };
        let account_facts = facts::account_facts(tx.as_mut(), &r.account).await?;
        let minutes = (new.ends_at - new.starts_at).num_minutes();
        let input = facts::meeting_input(
            &new.title,
            origin,
            &r.flags,
            r.sales,
            minutes,
            account_facts,
        );
        let decision = accord_domain::evaluate(&active.playbook, &Input::Meeting(input), &excepted)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        if new.planned && decision.effect == Effect::Deny {
            // Refused before it happened: audited with its decision; the
            // decision log holds decisions about records that exist.
            record::audit(
                tx.as_mut(),
                now,
                &who.actor(),
                "meeting.refused",
                "meeting",
                id,
                None::<&()>,
                Some(&decision),
            )
            .await?;
            tx.commit().await?;
            return Err(ServiceError::Denied(Box::new(decision)));
        }
        let stored = StoredMeeting {
            meeting: Meeting {
                id,
                account: Some(r.account.id),
                title: new.title.trim().to_owned(),
                starts_at: new.starts_at,
                ends_at: new.ends_at,
                source: if new.planned {
                    MeetingSource::Planned
                } else {
                    MeetingSource::Logged
                },
                attendees: r.attendees,
                request: new.request,
            },
            flags: r.flags,
            cal_sequence: None,
            cal_modified: None,
        };
        tx.insert_meeting(&stored).await?;
        let stored = tx.get_meeting(id).await?;
        // A contact logged after the fact broke (or kept) the rules when it
        // happened: its decision counts in the windows of that day.
        let decided_at = if new.planned {
            now
        } else {
            stored.meeting.starts_at.min(now)
        };
        record::decision(
            tx.as_mut(),
            record_ref,
            &decision,
            active.version,
            decided_at,
        )
        .await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "meeting.logged",
            "meeting",
            id,
            None::<&()>,
            Some(&stored),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "meeting.logged",
            serde_json::json!({
                "meeting": record::to_json(&stored),
                "decision": record::to_json(&decision),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Decided {
            record: stored,
            decision,
        })
    }

    /// A meeting by id.
    pub async fn get_meeting(&self, who: &Principal, id: MeetingId) -> Result<StoredMeeting> {
        who.require(Action::ReadMeetings)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.get_meeting(id).await?)
    }

    /// Meetings, latest first.
    pub async fn list_meetings(
        &self,
        who: &Principal,
        filter: &MeetingFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredMeeting>> {
        who.require(Action::ReadMeetings)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.list_meetings(filter, page).await?)
    }
}

/// A PM's request for customer time.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAccess {
    /// The customer.
    pub account: AccountId,
    /// What for.
    pub purpose: AccessPurpose,
    /// What the PM wants to cover.
    pub agenda: String,
    /// When the PM would like to meet.
    pub wanted_at: Option<DateTime<Utc>>,
}

/// The owner's answer to an access request.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum AccessAnswer {
    /// Yes.
    Grant,
    /// Yes, with conditions.
    GrantWithConditions {
        /// The conditions.
        conditions: String,
    },
    /// No, with a reason.
    Deny {
        /// Why.
        reason: String,
    },
}

impl Service {
    /// A PM asks the relationship owner for time with a customer.
    pub async fn create_access(
        &self,
        who: &Principal,
        new: NewAccess,
    ) -> Result<Decided<AccessRequest>> {
        who.require(Action::CreateAccess)?;
        let now = self.now();
        if new.agenda.len() > 20_000 {
            return Err(ServiceError::invalid("agenda", "at most 20,000 characters"));
        }
        if new.wanted_at.is_some_and(|w| w <= now) {
            return Err(ServiceError::invalid("wanted_at", "must be in the future"));
        }
        let active = self.playbook();
        let mut tx = self.store().write().await?;
        let account = tx
            .get_account(new.account)
            .await
            .map_err(|_| ServiceError::invalid("account", "no such account"))?;
        if account.owner.is_none() {
            return Err(ServiceError::invalid(
                "account",
                "the account has no relationship owner to ask",
            ));
        }
        let a = AccessRequest {
            id: AccessRequestId::new(),
            pm: who.person.id,
            account: account.id,
            owner: account.owner,
            purpose: new.purpose,
            agenda: new.agenda.trim().to_owned(),
            wanted_at: new.wanted_at.map(accord_store::micros),
            created_at: now,
            state: AccessState::Pending,
            conditions: None,
            reason: None,
            answered_by: None,
            answered_at: None,
        };
        let input =
            facts::access_input(tx.as_mut(), &active.playbook, &a, &who.person, &account).await?;
        let decision = accord_domain::evaluate(&active.playbook, &Input::Access(input), &[])
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record_ref = RecordRef {
            kind: RecordKind::Access,
            id: a.id.0,
        };
        if decision.effect == Effect::Deny {
            record::audit(
                tx.as_mut(),
                now,
                &who.actor(),
                "access.refused",
                "access",
                a.id,
                None::<&()>,
                Some(&decision),
            )
            .await?;
            tx.commit().await?;
            return Err(ServiceError::Denied(Box::new(decision)));
        }
        tx.insert_access(&a).await?;
        record::decision(tx.as_mut(), record_ref, &decision, active.version, now).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "access.requested",
            "access",
            a.id,
            None::<&()>,
            Some(&a),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "access.requested",
            serde_json::json!({
                "access": record::to_json(&a),
                "account": account.name,
                "pm": who.person.email,
                "link": format!("{}/access/{}", self.settings().base_url, a.id),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Decided {
            record: a,
            decision,
        })
    }

    /// The owner (or their manager) answers an access request.
    pub async fn answer_access(
        &self,
        who: &Principal,
        id: AccessRequestId,
        answer: AccessAnswer,
    ) -> Result<AccessRequest> {
        who.require(Action::AnswerAccess)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let before = tx.get_access(id).await?;
        let owner = before.owner;
        let is_owner = owner == Some(who.person.id);
        let is_manager = match owner {
            Some(o) => facts::manages(tx.as_mut(), who.person.id, o).await?,
            None => false,
        };
        if !is_owner && !is_manager {
            return Err(ServiceError::forbidden(
                "only the account's relationship owner or their manager answers an access request",
            ));
        }
        let (state, conditions, reason) = match answer {
            AccessAnswer::Grant => (AccessState::Granted, None, None),
            AccessAnswer::GrantWithConditions { conditions } => {
                if conditions.trim().is_empty() {
                    return Err(ServiceError::invalid(
                        "conditions",
                        "say what the conditions are",
                    ));
                }
                (
                    AccessState::GrantedWithConditions,
                    Some(conditions.trim().to_owned()),
                    None,
                )
            }
            AccessAnswer::Deny { reason } => {
                if reason.trim().is_empty() {
                    return Err(ServiceError::invalid("reason", "say why"));
                }
                (AccessState::Denied, None, Some(reason.trim().to_owned()))
            }
        };
        let next = before
            .state
            .answer(state)
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let after = AccessRequest {
            state: next,
            conditions,
            reason,
            answered_by: Some(who.person.id),
            answered_at: Some(now),
            ..before.clone()
        };
        tx.update_access(&after, before.state).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            &format!("access.{}", next.as_str()),
            "access",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "access.decided",
            serde_json::json!({
                "access": record::to_json(&after),
                "by": who.person.email,
                "link": format!("{}/access/{}", self.settings().base_url, id),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// An access request by id.
    pub async fn get_access(&self, who: &Principal, id: AccessRequestId) -> Result<AccessRequest> {
        who.require(Action::ReadAccess)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.get_access(id).await?)
    }

    /// Access requests, newest first.
    pub async fn list_access(
        &self,
        who: &Principal,
        pm: Option<PersonId>,
        owner: Option<PersonId>,
        page: &PageRequest,
    ) -> Result<Page<AccessRequest>> {
        who.require(Action::ReadAccess)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.list_access(pm, owner, page).await?)
    }
}

/// A commitment, as logged.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCommitment {
    /// The customer.
    pub account: AccountId,
    /// The contact it was made in.
    pub meeting: Option<MeetingId>,
    /// Feature, date, price or other.
    pub kind: CommitmentKind,
    /// What was said.
    pub text: String,
    /// To whom.
    pub to_whom: String,
    /// Who said it (the person logging it when not given).
    pub said_by: Option<PersonId>,
    /// Who else from our side was there.
    #[serde(default)]
    pub present: Vec<PersonId>,
    /// When (now when not given).
    pub said_at: Option<DateTime<Utc>>,
}

/// A captured insight.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInsight {
    /// The customer.
    pub account: AccountId,
    /// The contact it came from.
    pub meeting: Option<MeetingId>,
    /// Context of use, futures or performance.
    pub kind: InsightKind,
    /// The product area.
    pub product_area: String,
    /// What was learned.
    pub text: String,
}

impl Service {
    /// Logs something about the product's future said to a customer. It is
    /// stored whatever the rules say (it was said); a `deny` is recorded as
    /// a violation.
    pub async fn log_commitment(
        &self,
        who: &Principal,
        new: NewCommitment,
    ) -> Result<Decided<Commitment>> {
        who.require(Action::LogCommitment)?;
        let now = self.now();
        let mut errors = Vec::new();
        if new.text.trim().is_empty() {
            errors.push(FieldError::new("text", "say what was promised"));
        }
        if new.to_whom.trim().is_empty() {
            errors.push(FieldError::new("to_whom", "say to whom"));
        }
        let said_at = new.said_at.unwrap_or(now);
        if said_at > now + chrono::Duration::minutes(5) {
            errors.push(FieldError::new(
                "said_at",
                "a commitment is logged after it was made",
            ));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let active = self.playbook();
        let mut tx = self.store().write().await?;
        let account = tx
            .get_account(new.account)
            .await
            .map_err(|_| ServiceError::invalid("account", "no such account"))?;
        if let Some(m) = new.meeting {
            tx.get_meeting(m)
                .await
                .map_err(|_| ServiceError::invalid("meeting", "no such meeting"))?;
        }
        let said_by = new.said_by.unwrap_or(who.person.id);
        tx.get_person(said_by)
            .await
            .map_err(|_| ServiceError::invalid("said_by", "no such person"))?;
        for (i, p) in new.present.iter().enumerate() {
            tx.get_person(*p)
                .await
                .map_err(|_| ServiceError::invalid(format!("present[{i}]"), "no such person"))?;
        }
        let c = Commitment {
            id: CommitmentId::new(),
            account: account.id,
            meeting: new.meeting,
            kind: new.kind,
            text: new.text.trim().to_owned(),
            to_whom: new.to_whom.trim().to_owned(),
            said_by,
            present: new.present,
            said_at: accord_store::micros(said_at),
            state: CommitmentState::Pending,
            decided_by: None,
            decided_at: None,
            decision_note: None,
        };
        let input = facts::commitment_input(tx.as_mut(), &c, &account).await?;
        let decision = accord_domain::evaluate(&active.playbook, &Input::Commitment(input), &[])
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        tx.insert_commitment(&c).await?;
        let record_ref = RecordRef {
            kind: RecordKind::Commitment,
            id: c.id.0,
        };
        record::decision(
            tx.as_mut(),
            record_ref,
            &decision,
            active.version,
            c.said_at.min(now),
        )
        .await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "commitment.logged",
            "commitment",
            c.id,
            None::<&()>,
            Some(&c),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "commitment.logged",
            serde_json::json!({
                "commitment": record::to_json(&c),
                "account": account.name,
                "decision": record::to_json(&decision),
                "link": format!("{}/commitments/{}", self.settings().base_url, c.id),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Decided {
            record: c,
            decision,
        })
    }

    /// A PM lead approves or rejects a commitment.
    pub async fn decide_commitment(
        &self,
        who: &Principal,
        id: CommitmentId,
        approve: bool,
        note: Option<String>,
    ) -> Result<Commitment> {
        who.require(Action::DecideCommitment)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let before = tx.get_commitment(id).await?;
        if before.said_by == who.person.id {
            return Err(ServiceError::forbidden(
                "another PM lead decides on your own commitments",
            ));
        }
        let state = before
            .state
            .decide(approve)
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let after = Commitment {
            state,
            decided_by: Some(who.person.id),
            decided_at: Some(now),
            decision_note: note.filter(|n| !n.trim().is_empty()),
            ..before.clone()
        };
        tx.update_commitment(&after, before.state).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            &format!("commitment.{}", state.as_str()),
            "commitment",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "commitment.decided",
            serde_json::json!({
                "commitment": record::to_json(&after),
                "approved": approve,
                "by": who.person.email,
                "link": format!("{}/commitments/{}", self.settings().base_url, id),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A commitment by id.
    pub async fn get_commitment(&self, who: &Principal, id: CommitmentId) -> Result<Commitment> {
        who.require(Action::ReadCommitments)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.get_commitment(id).await?)
    }

    /// Commitments, newest first.
    pub async fn list_commitments(
        &self,
        who: &Principal,
        account: Option<AccountId>,
        pending_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Commitment>> {
        who.require(Action::ReadCommitments)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.list_commitments(account, pending_only, page).await?)
    }

    /// A PM captures what they learned from a customer.
    pub async fn create_insight(&self, who: &Principal, new: NewInsight) -> Result<Insight> {
        who.require(Action::CreateInsight)?;
        let now = self.now();
        let mut errors = Vec::new();
        if new.text.trim().is_empty() {
            errors.push(FieldError::new("text", "say what you learned"));
        }
        if new.product_area.trim().is_empty() {
            errors.push(FieldError::new(
                "product_area",
                "which part of the product is it about?",
            ));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let mut tx = self.store().write().await?;
        tx.get_account(new.account)
            .await
            .map_err(|_| ServiceError::invalid("account", "no such account"))?;
        if let Some(m) = new.meeting {
            tx.get_meeting(m)
                .await
                .map_err(|_| ServiceError::invalid("meeting", "no such meeting"))?;
        }
        let i = Insight {
            id: InsightId::new(),
            account: new.account,
            meeting: new.meeting,
            pm: who.person.id,
            kind: new.kind,
            product_area: new.product_area.trim().to_lowercase(),
            text: new.text.trim().to_owned(),
            created_at: now,
        };
        tx.insert_insight(&i).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "insight.created",
            "insight",
            i.id,
            None::<&()>,
            Some(&i),
        )
        .await?;
        record::emit(tx.as_mut(), "insight.created", record::to_json(&i), now).await?;
        tx.commit().await?;
        Ok(i)
    }

    /// Insights, newest first.
    pub async fn list_insights(
        &self,
        who: &Principal,
        account: Option<AccountId>,
        pm: Option<PersonId>,
        page: &PageRequest,
    ) -> Result<Page<Insight>> {
        who.require(Action::ReadInsights)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.list_insights(account, pm, page).await?)
    }
}

/// A customer contact with everything attached to it: what the playbook
/// said, the exceptions asked for it, and the insights and commitments
/// logged from it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactView {
    /// The contact.
    pub meeting: StoredMeeting,
    /// The playbook's decisions about it.
    pub decisions: Vec<accord_store::DecisionRecord>,
    /// Exceptions asked for it.
    pub exceptions: Vec<accord_domain::exception::Exception>,
    /// Insights captured from it, newest first.
    pub insights: Vec<Insight>,
    /// Commitments made in it, newest first.
    pub commitments: Vec<Commitment>,
}

impl Service {
    /// A contact with its decisions, exceptions, insights and commitments,
    /// read in one transaction.
    pub async fn contact(&self, who: &Principal, id: MeetingId) -> Result<ContactView> {
        who.require(Action::ReadMeetings)?;
        let mut tx = self.store().read().await?;
        let meeting = tx.get_meeting(id).await?;
        let record = RecordRef {
            kind: RecordKind::Meeting,
            id: id.0,
        };
        let decisions = tx.decisions_for(record).await?;
        let exceptions = tx.exceptions_for(record).await?;
        // Insights and commitments are indexed by account; one account has
        // tens of them, not thousands.
        let (insights, commitments) = match meeting.meeting.account {
            Some(a) => {
                let page = PageRequest::first(500);
                let insights = tx.list_insights(Some(a), None, &page).await?.items;
                let commitments = tx.list_commitments(Some(a), false, &page).await?.items;
                (
                    insights
                        .into_iter()
                        .filter(|i| i.meeting == Some(id))
                        .collect(),
                    commitments
                        .into_iter()
                        .filter(|c| c.meeting == Some(id))
                        .collect(),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        Ok(ContactView {
            meeting,
            decisions,
            exceptions,
            insights,
            commitments,
        })
    }
}
