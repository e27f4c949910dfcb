//! Exceptions: the common sense to set a rule aside for one record, with a
//! reason and an approver — the approver the playbook names for the rule —
//! and always audited.

use accord_domain::exception::{Exception, ExceptionState};
use accord_domain::id::{ExceptionId, RuleId};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::request::{RequestAction, RequestState, StateChange};
use accord_store::{Page, PageRequest, Tx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::{Action, Principal};
use crate::error::{Result, ServiceError};
use crate::{Service, record};

/// An exception asked for.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewException {
    /// The rule to set aside.
    pub rule: String,
    /// The record it is set aside for.
    pub record: RecordRef,
    /// Why the rule should not apply here.
    pub reason: String,
    /// When it stops applying, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Whether a record exists, by kind.
async fn record_exists(tx: &mut dyn Tx, r: RecordRef) -> Result<bool> {
    use accord_domain::id::*;
    let found = match r.kind {
        RecordKind::Request => tx.get_request(RequestId(r.id)).await.is_ok(),
        RecordKind::Meeting => tx.get_meeting(MeetingId(r.id)).await.is_ok(),
        RecordKind::Commitment => tx.get_commitment(CommitmentId(r.id)).await.is_ok(),
        RecordKind::Access => tx.get_access(AccessRequestId(r.id)).await.is_ok(),
    };
    Ok(found)
}

impl Service {
    /// Asks for a rule to be set aside for one record. The record may not
    /// exist yet: a request refused by a `deny` is created again with the
    /// same id once its exception is approved.
    pub async fn request_exception(&self, who: &Principal, new: NewException) -> Result<Exception> {
        who.require(Action::RequestException)?;
        let now = self.now();
        let active = self.playbook();
        let rule = active.playbook.rule(&new.rule).ok_or_else(|| {
            ServiceError::invalid("rule", format!("the playbook has no rule {:?}", new.rule))
        })?;
        if rule.applies_to != new.record.kind {
            return Err(ServiceError::invalid(
                "record.kind",
                format!(
                    "rule {} applies to {}, not {}",
                    rule.id, rule.applies_to, new.record.kind
                ),
            ));
        }
        if !rule.effect.is_blocking() {
            return Err(ServiceError::invalid(
                "rule",
                format!(
                    "rule {} only {}s: there is nothing to set aside",
                    rule.id, rule.effect
                ),
            ));
        }
        if new.reason.trim().chars().count() < 10 {
            return Err(ServiceError::invalid(
                "reason",
                "say why the rule should not apply here (at least 10 characters)",
            ));
        }
        if new.expires_at.is_some_and(|e| e <= now) {
            return Err(ServiceError::invalid("expires_at", "must be in the future"));
        }
        let mut tx = self.store().write().await?;
        let open = tx.exceptions_for(new.record).await?.into_iter().any(|e| {
            e.rule == rule.id && (e.state == ExceptionState::Requested || e.in_force(now))
        });
        if open {
            return Err(ServiceError::Conflict(format!(
                "an exception to {} for this record is already open or granted",
                rule.id
            )));
        }
        let e = Exception {
            id: ExceptionId::new(),
            rule: rule.id.clone(),
            record: new.record,
            reason: new.reason.trim().to_owned(),
            requested_by: who.person.id,
            requested_at: now,
            expires_at: new.expires_at.map(accord_store::micros),
            state: ExceptionState::Requested,
            decided_by: None,
            decided_at: None,
            decision_note: None,
        };
        tx.insert_exception(&e).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "exception.requested",
            "exception",
            e.id,
            None::<&()>,
            Some(&e),
        )
        .await?;
        let exists = record_exists(tx.as_mut(), new.record).await?;
        record::emit(
            tx.as_mut(),
            "exception.requested",
            serde_json::json!({
                "exception": record::to_json(&e),
                "approver": rule.approver,
                "exists": exists,
                "link": format!("{}/exceptions/{}", self.settings().base_url, e.id),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Grants or refuses an exception. Only a person whose role is the
    /// rule's approver, and not the person who asked. Granting the last
    /// exception a waiting request needs lets it through; refusing one
    /// declines it.
    pub async fn decide_exception(
        &self,
        who: &Principal,
        id: ExceptionId,
        approve: bool,
        note: Option<String>,
    ) -> Result<Exception> {
        who.require(Action::DecideException)?;
        let now = self.now();
        let active = self.playbook();
        let mut tx = self.store().write().await?;
        let before = tx.get_exception(id).await?;
        let approver = active
            .playbook
            .rule(before.rule.as_str())
            .map(|r| r.approver);
        if approver != Some(who.role()) {
            return Err(ServiceError::forbidden(match approver {
                Some(r) => format!("exceptions to {} are granted by a {r}", before.rule),
                None => format!("rule {} is no longer in the playbook", before.rule),
            }));
        }
        if before.requested_by == who.person.id {
            return Err(ServiceError::forbidden(
                "you cannot grant your own exception",
            ));
        }
        let state = before.decide(approve).map_err(|s| {
            ServiceError::Conflict(format!("the exception is already {}", s.as_str()))
        })?;
        let after = Exception {
            state,
            decided_by: Some(who.person.id),
            decided_at: Some(now),
            decision_note: note.filter(|n| !n.trim().is_empty()),
            ..before.clone()
        };
        tx.update_exception(&after, before.state).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            if approve {
                "exception.approved"
            } else {
                "exception.denied"
            },
            "exception",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "exception.decided",
            serde_json::json!({
                "exception": record::to_json(&after),
                "approved": approve,
                "by": who.person.email,
            }),
            now,
        )
        .await?;
        if after.record.kind == RecordKind::Request {
            self.settle_request(tx.as_mut(), who, after.record, approve, now)
                .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Moves a request waiting for exceptions once they are decided.
    async fn settle_request(
        &self,
        tx: &mut dyn Tx,
        who: &Principal,
        record: RecordRef,
        approved: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Ok(request) = tx
            .get_request(accord_domain::id::RequestId(record.id))
            .await
        else {
            return Ok(());
        };
        if request.state != RequestState::NeedsException {
            return Ok(());
        }
        let exceptions = tx.exceptions_for(record).await?;
        let action = if !approved {
            RequestAction::ExceptionDenied
        } else if exceptions
            .iter()
            .all(|e| e.state == ExceptionState::Approved)
        {
            RequestAction::ExceptionApproved
        } else {
            return Ok(());
        };
        let next = request
            .state
            .next(action)
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let mut after = request.clone();
        after.state = next;
        if !approved {
            after.reason = Some("an exception it needed was refused".into());
        }
        tx.update_request(&after, request.state).await?;
        tx.append_history(&StateChange {
            request: request.id,
            from: Some(request.state),
            to: next,
            by: Some(who.person.id),
            at: now,
            note: Some(action.as_str().replace('_', " ")),
        })
        .await?;
        record::audit(
            tx,
            now,
            &who.actor(),
            &format!("request.{}", action.as_str()),
            "request",
            request.id,
            Some(&request),
            Some(&after),
        )
        .await?;
        record::emit(
            tx,
            "request.decided",
            serde_json::json!({ "request": record::to_json(&after), "action": action }),
            now,
        )
        .await?;
        Ok(())
    }

    /// An exception by id.
    pub async fn get_exception(&self, who: &Principal, id: ExceptionId) -> Result<Exception> {
        who.require(Action::ReadExceptions)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.get_exception(id).await?)
    }

    /// Exceptions, newest first.
    pub async fn list_exceptions(
        &self,
        who: &Principal,
        pending_only: bool,
        rule: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Exception>> {
        who.require(Action::ReadExceptions)?;
        let rule = rule
            .map(RuleId::parse)
            .transpose()
            .map_err(|e| ServiceError::invalid("rule", e.to_string()))?;
        let mut tx = self.store().read().await?;
        Ok(tx
            .list_exceptions(pending_only, rule.as_ref(), page)
            .await?)
    }
}
