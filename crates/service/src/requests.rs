//! Engagement requests: a rep asks for a PM; the PM answers; the request is
//! scheduled, done or cancelled. Every step is checked against the record
//! (who may do it) and the lifecycle (what may happen next), and leaves
//! history, an audit entry and an event.

use accord_domain::exception::{Exception, ExceptionState};
use accord_domain::id::{
    EngagementTypeId, ExceptionId, OpportunityId, PersonId, RequestId, RuleId,
};
use accord_domain::people::{Person, Role};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::request::{
    EngagementRequest, Purpose, RedirectTarget, RequestAction, RequestState, StateChange,
};
use accord_domain::rules::input::Input;
use accord_domain::rules::{Decision, Effect};
use accord_store::{Page, PageRequest, RequestFilter, Tx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::{Action, Principal};
use crate::error::{FieldError, Result, ServiceError};
use crate::{Service, facts, record};

/// A new engagement request, as the requester writes it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRequest {
    /// An id chosen by the client, so that an exception can be asked for
    /// the request before it exists (after a `deny`).
    pub id: Option<RequestId>,
    /// The deal.
    pub opportunity: OpportunityId,
    /// The PM asked for, if the requester knows whom to ask.
    pub pm: Option<PersonId>,
    /// The engagement type's id, from the playbook's catalog.
    pub engagement_type: String,
    /// Why; defaults to the type's purpose.
    pub purpose: Option<Purpose>,
    /// Customer context, agenda, what the PM is expected to say.
    pub briefing: String,
    /// When the PM is needed.
    pub needed_at: DateTime<Utc>,
    /// Why the rules that want an exception should be set aside, if the
    /// requester already knows they will (used as the exceptions' reason).
    pub exception_reason: Option<String>,
}

/// What happened to a request, with what the playbook said.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestOutcome {
    /// The request as stored.
    pub request: EngagementRequest,
    /// The playbook's decision (on creation and redirection).
    pub decision: Option<Decision>,
    /// Exceptions opened for it (when the rules want one).
    pub exceptions: Vec<Exception>,
}

/// A request with everything around it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestView {
    /// The request.
    pub request: EngagementRequest,
    /// Its history, oldest first.
    pub history: Vec<StateChange>,
    /// The playbook's decisions about it, oldest first.
    pub decisions: Vec<accord_store::DecisionRecord>,
    /// Its exceptions.
    pub exceptions: Vec<Exception>,
    /// What may happen next.
    pub allowed_actions: Vec<RequestAction>,
}

/// Something done to a request.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RequestCommand {
    /// The PM says yes.
    Accept,
    /// The PM says no.
    Decline {
        /// Why.
        reason: String,
    },
    /// The PM sends it elsewhere.
    Redirect {
        /// Where.
        target: RedirectTarget,
        /// A note for the requester.
        #[serde(default)]
        note: Option<String>,
    },
    /// A date is set.
    Schedule {
        /// When.
        at: DateTime<Utc>,
    },
    /// It happened.
    Complete {
        /// What came of it.
        outcome: String,
        /// PM hours spent.
        hours: f64,
    },
    /// Called off.
    Cancel {
        /// Why.
        reason: String,
    },
}

impl RequestCommand {
    fn action(&self) -> RequestAction {
        match self {
            RequestCommand::Accept => RequestAction::Accept,
            RequestCommand::Decline { .. } => RequestAction::Decline,
            RequestCommand::Redirect { .. } => RequestAction::Redirect,
            RequestCommand::Schedule { .. } => RequestAction::Schedule,
            RequestCommand::Complete { .. } => RequestAction::Complete,
            RequestCommand::Cancel { .. } => RequestAction::Cancel,
        }
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// The PM a request may be asked of.
async fn pm_of(tx: &mut dyn Tx, id: PersonId, field: &str) -> Result<Person> {
    let p = tx
        .get_person(id)
        .await
        .map_err(|_| ServiceError::invalid(field, "no such person"))?;
    if !p.role.is_product() {
        return Err(ServiceError::invalid(
            field,
            format!("{} is a {}, not a PM", p.email, p.role),
        ));
    }
    if !p.active {
        return Err(ServiceError::invalid(
            field,
            format!("{} has left", p.email),
        ));
    }
    Ok(p)
}

/// Whether `who` leads the team of `person`.
async fn leads_team_of(tx: &mut dyn Tx, who: &Person, person: PersonId) -> Result<bool> {
    let p = tx.get_person(person).await?;
    match p.team {
        Some(t) => Ok(tx.get_team(t).await?.lead == Some(who.id) || p.manager == Some(who.id)),
        None => Ok(p.manager == Some(who.id)),
    }
}

impl Service {
    /// A rep asks for a PM. The playbook decides: `deny` refuses it (422,
    /// unless an approved exception for the request's id is in force),
    /// `exception` stores it as `needs_exception` with an exception per rule
    /// for the approver, `warn` and `audit` store it with the findings.
    pub async fn create_request(&self, who: &Principal, new: NewRequest) -> Result<RequestOutcome> {
        who.require(Action::CreateRequest)?;
        let now = self.now();
        let active = self.playbook();
        let playbook = &active.playbook;
        let mut errors = Vec::new();
        if blank(&new.briefing) {
            // An empty briefing is allowed (the no-ambush rule flags it);
            // only its length is bounded.
        }
        if new.briefing.len() > 20_000 {
            errors.push(FieldError::new("briefing", "at most 20,000 characters"));
        }
        if new.needed_at <= now {
            errors.push(FieldError::new("needed_at", "must be in the future"));
        }
        let ty = match playbook.engagement_type(&new.engagement_type) {
            Some(t) => Some(t.id.clone()),
            None => {
                let known: Vec<&str> = playbook
                    .engagement_types
                    .iter()
                    .map(|t| t.id.as_str())
                    .collect();
                errors.push(FieldError::new(
                    "engagement_type",
                    format!(
                        "not in the playbook's catalog (one of: {})",
                        known.join(", ")
                    ),
                ));
                None
            }
        };
        // What the rules see is read first, on a connection of its own:
        // the writer's turn (one at a time on SQLite) is taken only to
        // store the outcome. The rules judge the records as they were a
        // moment before it: as if the request had come in then.
        let mut tx = self.store().read().await?;
        let opportunity = match tx.get_opportunity(new.opportunity).await {
            Ok(o) => Some(o),
            Err(accord_store::StoreError::NotFound { .. }) => {
                errors.push(FieldError::new("opportunity", "no such opportunity"));
                None
            }
            Err(e) => return Err(e.into()),
        };
        let pm = match new.pm {
            Some(id) => match pm_of(tx.as_mut(), id, "pm").await {
                Ok(p) => Some(p),
                Err(ServiceError::Invalid(mut f)) => {
                    errors.append(&mut f);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let (Some(ty), Some(opportunity), true) = (ty, opportunity, errors.is_empty()) else {
            return Err(ServiceError::Invalid(errors));
        };
        if playbook.stage(opportunity.stage.as_str()).is_none() {
            return Err(ServiceError::invalid(
                "opportunity",
                format!(
                    "its stage {:?} is not in the playbook's sales process model",
                    opportunity.stage.as_str()
                ),
            ));
        }
        // A rep asks on their own deals; a manager on their reps' deals.
        let account = tx.get_account(opportunity.account).await?;
        let owns = opportunity.owner == Some(who.person.id) || account.owner == Some(who.person.id);
        let manages = match (who.role(), opportunity.owner.or(account.owner)) {
            (Role::SalesManager, Some(owner)) => {
                facts::manages(tx.as_mut(), who.person.id, owner).await?
            }
            _ => false,
        };
        if !owns && !manages {
            return Err(ServiceError::forbidden(
                "you can ask for a PM on your own opportunities (or, as a manager, your reps')",
            ));
        }
        let input = facts::request_input(
            tx.as_mut(),
            playbook,
            ty.as_str(),
            new.purpose,
            &new.briefing,
            now,
            new.needed_at,
            RequestState::Requested,
            &opportunity,
            &account,
            &who.person,
            pm.as_ref(),
        )
        .await?;
        drop(tx);
        let input = Input::Request(input);

        let mut tx = self.store().write().await?;
        // A fresh id names nothing yet. An id the client chose may name a
        // request already, or have exceptions asked for it in advance:
        // looked up in the writer's turn, so that two requests with the
        // same id cannot both pass.
        let id = new.id.unwrap_or_default();
        let record = RecordRef {
            kind: RecordKind::Request,
            id: id.0,
        };
        let excepted = match new.id {
            Some(id) => {
                if tx.get_request(id).await.is_ok() {
                    return Err(ServiceError::Conflict(format!(
                        "request {id} already exists"
                    )));
                }
                in_force(tx.as_mut(), record, now).await?
            }
            None => Vec::new(),
        };
        let decision = accord_domain::evaluate(playbook, &input, &excepted)
            .map_err(|e| ServiceError::invalid("engagement_type", e.to_string()))?;
        if decision.effect == Effect::Deny {
            // Refused: audited with its decision (a refusal is a fact the
            // leaders see); the decision log holds decisions about records
            // that exist.
            record::audit(
                tx.as_mut(),
                now,
                &who.actor(),
                "request.refused",
                "request",
                id,
                None::<&()>,
                Some(&decision),
            )
            .await?;
            tx.commit().await?;
            return Err(ServiceError::Denied(Box::new(decision)));
        }
        let state = if decision.effect == Effect::Exception {
            RequestState::NeedsException
        } else {
            RequestState::Requested
        };
        let purpose = new.purpose.unwrap_or_else(|| {
            playbook
                .engagement_type(ty.as_str())
                .map(|t| t.purpose)
                .unwrap_or(Purpose::Clarification)
        });
        let request = EngagementRequest {
            id,
            opportunity: opportunity.id,
            account: opportunity.account,
            requester: who.person.id,
            pm: pm.as_ref().map(|p| p.id),
            engagement_type: ty,
            purpose,
            briefing: new.briefing.trim().to_owned(),
            needed_at: accord_store::micros(new.needed_at),
            created_at: now,
            state,
            scheduled_at: None,
            reason: None,
            redirect: None,
            redirected_from: None,
            outcome: None,
            hours: None,
            completed_at: None,
        };
        tx.insert_request(&request).await?;
        tx.append_history(&StateChange {
            request: id,
            from: None,
            to: state,
            by: Some(who.person.id),
            at: now,
            note: None,
        })
        .await?;
        record::decision(tx.as_mut(), record, &decision, active.version, now).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "request.created",
            "request",
            id,
            None::<&()>,
            Some(&request),
        )
        .await?;
        let mut exceptions = Vec::new();
        for m in decision.with_effect(Effect::Exception) {
            let e = Exception {
                id: ExceptionId::new(),
                rule: m.rule.clone(),
                record,
                reason: new
                    .exception_reason
                    .clone()
                    .filter(|r| !blank(r))
                    .unwrap_or_else(|| m.message.clone()),
                requested_by: who.person.id,
                requested_at: now,
                expires_at: None,
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
            record::emit(
                tx.as_mut(),
                "exception.requested",
                serde_json::json!({
                    "exception": record::to_json(&e),
                    "approver": m.approver,
                    "message": m.message,
                    "link": format!("{}/requests/{}", self.settings().base_url, id),
                }),
                now,
            )
            .await?;
            exceptions.push(e);
        }
        record::emit(
            tx.as_mut(),
            "request.created",
            serde_json::json!({
                "request": record::to_json(&request),
                "decision": record::to_json(&decision),
                "link": format!("{}/requests/{}", self.settings().base_url, id),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::debug!(request = %id, effect = %decision.effect, "request created");
        Ok(RequestOutcome {
            request,
            decision: Some(decision),
            exceptions,
        })
    }

    /// A request with its history, decisions and exceptions.
    pub async fn get_request(&self, who: &Principal, id: RequestId) -> Result<RequestView> {
        who.require(Action::ReadRequests)?;
        let mut tx = self.store().read().await?;
        let request = tx.get_request(id).await?;
        let record = RecordRef {
            kind: RecordKind::Request,
            id: id.0,
        };
        Ok(RequestView {
            history: tx.history(id).await?,
            decisions: tx.decisions_for(record).await?,
            exceptions: tx.exceptions_for(record).await?,
            allowed_actions: request.state.allowed_actions(),
            request,
        })
    }

    /// Requests, newest first.
    pub async fn list_requests(
        &self,
        who: &Principal,
        filter: &RequestFilter,
        page: &PageRequest,
    ) -> Result<Page<EngagementRequest>> {
        who.require(Action::ReadRequests)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.list_requests(filter, page).await?)
    }

    /// Accept, decline, redirect, schedule, complete or cancel a request.
    pub async fn act_on_request(
        &self,
        who: &Principal,
        id: RequestId,
        cmd: RequestCommand,
    ) -> Result<RequestOutcome> {
        let action = cmd.action();
        who.require(match action {
            RequestAction::Accept | RequestAction::Decline | RequestAction::Redirect => {
                Action::AnswerRequest
            }
            RequestAction::Schedule => Action::ScheduleRequest,
            RequestAction::Complete => Action::CompleteRequest,
            _ => Action::CancelRequest,
        })?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let before = tx.get_request(id).await?;
        let next = before
            .state
            .next(action)
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;

        // Who may do it, on this record.
        let me = who.person.id;
        let is_pm = before.pm == Some(me);
        let is_requester = before.requester == me;
        let leads_pm = match before.pm {
            Some(pm) => leads_team_of(tx.as_mut(), &who.person, pm).await?,
            None => false,
        };
        let leads_requester = leads_team_of(tx.as_mut(), &who.person, before.requester).await?;
        let allowed = match action {
            // Only the assigned PM accepts; an unassigned request may be
            // taken by any PM.
            RequestAction::Accept => is_pm || (before.pm.is_none() && who.role().is_product()),
            RequestAction::Decline | RequestAction::Redirect => {
                is_pm || leads_pm || (before.pm.is_none() && who.role() == Role::PmLead)
            }
            RequestAction::Complete => is_pm,
            RequestAction::Schedule | RequestAction::Cancel => {
                is_pm || is_requester || leads_pm || leads_requester
            }
            _ => false,
        };
        if !allowed {
            return Err(ServiceError::forbidden(match action {
                RequestAction::Accept => "only the PM the request is assigned to can accept it",
                RequestAction::Decline | RequestAction::Redirect => {
                    "only the assigned PM (or their PM lead) can answer this request"
                }
                RequestAction::Complete => "only the request's PM can record its outcome",
                _ => "only the request's requester or its PM can do that",
            }));
        }

        let mut after = before.clone();
        after.state = next;
        let mut note = None;
        let mut follow_up = None;
        match &cmd {
            RequestCommand::Accept => {
                after.pm = Some(me);
            }
            RequestCommand::Decline { reason } | RequestCommand::Cancel { reason } => {
                if blank(reason) {
                    return Err(ServiceError::invalid("reason", "say why"));
                }
                after.reason = Some(reason.trim().to_owned());
                note = after.reason.clone();
            }
            RequestCommand::Redirect { target, note: n } => {
                after.redirect = Some(target.clone());
                note = n.clone();
                follow_up = match target {
                    RedirectTarget::Type { engagement_type } => {
                        Some((Some(engagement_type.clone()), before.pm))
                    }
                    RedirectTarget::Person { person } => {
                        pm_of(tx.as_mut(), *person, "target.person").await?;
                        Some((None, Some(*person)))
                    }
                    RedirectTarget::Team { team } => {
                        tx.get_team(*team)
                            .await
                            .map_err(|_| ServiceError::invalid("target.team", "no such team"))?;
                        None
                    }
                    RedirectTarget::SalesEngineering => None,
                };
                if let Some((Some(ty), _)) = &follow_up
                    && self
                        .playbook()
                        .playbook
                        .engagement_type(ty.as_str())
                        .is_none()
                {
                    return Err(ServiceError::invalid(
                        "target.engagement_type",
                        "not in the playbook's catalog",
                    ));
                }
            }
            RequestCommand::Schedule { at } => {
                if *at <= now {
                    return Err(ServiceError::invalid("at", "must be in the future"));
                }
                after.scheduled_at = Some(accord_store::micros(*at));
            }
            RequestCommand::Complete { outcome, hours } => {
                if blank(outcome) {
                    return Err(ServiceError::invalid("outcome", "say what came of it"));
                }
                if !hours.is_finite() || *hours < 0.0 || *hours > 1000.0 {
                    return Err(ServiceError::invalid("hours", "between 0 and 1000"));
                }
                after.outcome = Some(outcome.trim().to_owned());
                after.hours = Some(*hours);
                after.completed_at = Some(now);
            }
        }
        tx.update_request(&after, before.state).await?;
        tx.append_history(&StateChange {
            request: id,
            from: Some(before.state),
            to: next,
            by: Some(me),
            at: now,
            note,
        })
        .await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            &format!("request.{}", action.as_str()),
            "request",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        let event = match action {
            RequestAction::Accept | RequestAction::Decline | RequestAction::Redirect => {
                "request.decided"
            }
            _ => "request.updated",
        };
        record::emit(
            tx.as_mut(),
            event,
            serde_json::json!({
                "request": record::to_json(&after),
                "action": action,
                "by": who.person.email,
                "link": format!("{}/requests/{}", self.settings().base_url, id),
            }),
            now,
        )
        .await?;

        // A redirect to another type or PM continues as a new request that
        // points back to this one, evaluated like any new request.
        let mut decision = None;
        let mut exceptions = Vec::new();
        if let Some((ty, pm)) = follow_up {
            let ty: EngagementTypeId = ty.unwrap_or_else(|| before.engagement_type.clone());
            let (new, d, ex) = self
                .redirected(tx.as_mut(), who, &before, ty, pm, now)
                .await?;
            decision = Some(d);
            exceptions = ex;
            tracing::debug!(request = %id, follow_up = %new.id, "request redirected");
        }
        tx.commit().await?;
        Ok(RequestOutcome {
            request: after,
            decision,
            exceptions,
        })
    }

    /// The follow-up of a redirect.
    async fn redirected(
        &self,
        tx: &mut dyn Tx,
        who: &Principal,
        from: &EngagementRequest,
        ty: EngagementTypeId,
        pm: Option<PersonId>,
        now: DateTime<Utc>,
    ) -> Result<(EngagementRequest, Decision, Vec<Exception>)> {
        let active = self.playbook();
        let playbook = &active.playbook;
        let opportunity = tx.get_opportunity(from.opportunity).await?;
        let requester = tx.get_person(from.requester).await?;
        let pm_person = match pm {
            Some(p) => Some(tx.get_person(p).await?),
            None => None,
        };
        let account = tx.get_account(opportunity.account).await?;
        let input = facts::request_input(
            tx,
            playbook,
            ty.as_str(),
            None,
            &from.briefing,
            now,
            from.needed_at.max(now + chrono::Duration::hours(1)),
            RequestState::Requested,
            &opportunity,
            &account,
            &requester,
            pm_person.as_ref(),
        )
        .await?;
        let decision = accord_domain::evaluate(playbook, &Input::Request(input), &[])
            .map_err(|e| ServiceError::invalid("target", e.to_string()))?;
        let state = match decision.effect {
            Effect::Deny | Effect::Exception => RequestState::NeedsException,
            _ => RequestState::Requested,
        };
        let new = EngagementRequest {
            id: RequestId::new(),
            pm,
            purpose: playbook
                .engagement_type(ty.as_str())
                .map(|t| t.purpose)
                .unwrap_or(from.purpose),
            engagement_type: ty,
            created_at: now,
            state,
            scheduled_at: None,
            reason: None,
            redirect: None,
            redirected_from: Some(from.id),
            outcome: None,
            hours: None,
            completed_at: None,
            ..from.clone()
        };
        let record = RecordRef {
            kind: RecordKind::Request,
            id: new.id.0,
        };
        tx.insert_request(&new).await?;
        tx.append_history(&StateChange {
            request: new.id,
            from: None,
            to: state,
            by: Some(who.person.id),
            at: now,
            note: Some(format!("redirected from {}", from.id)),
        })
        .await?;
        record::decision(tx, record, &decision, active.version, now).await?;
        record::audit(
            tx,
            now,
            &who.actor(),
            "request.created",
            "request",
            new.id,
            None::<&()>,
            Some(&new),
        )
        .await?;
        let mut exceptions = Vec::new();
        for m in decision.matched.iter().filter(|m| m.applied.is_blocking()) {
            let e = Exception {
                id: ExceptionId::new(),
                rule: m.rule.clone(),
                record,
                reason: m.message.clone(),
                requested_by: who.person.id,
                requested_at: now,
                expires_at: None,
                state: ExceptionState::Requested,
                decided_by: None,
                decided_at: None,
                decision_note: None,
            };
            tx.insert_exception(&e).await?;
            record::emit(tx, "exception.requested", serde_json::json!({ "exception": record::to_json(&e), "approver": m.approver, "message": m.message }), now).await?;
            exceptions.push(e);
        }
        record::emit(tx, "request.created", serde_json::json!({ "request": record::to_json(&new), "decision": record::to_json(&decision) }), now).await?;
        Ok((new, decision, exceptions))
    }
}

/// The rules set aside for a record by approved exceptions in force.
pub(crate) async fn in_force(
    tx: &mut dyn Tx,
    record: RecordRef,
    now: DateTime<Utc>,
) -> Result<Vec<RuleId>> {
    Ok(tx
        .exceptions_for(record)
        .await?
        .into_iter()
        .filter(|e| e.in_force(now))
        .map(|e| e.rule)
        .collect())
}
