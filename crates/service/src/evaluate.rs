//! Dry runs: what the playbook would say about a draft, without storing it
//! (forms use it to warn before submitting).

use accord_domain::access::{AccessPurpose, AccessRequest, AccessState};
use accord_domain::commitment::{Commitment, CommitmentKind, CommitmentState};
use accord_domain::id::{AccessRequestId, AccountId, CommitmentId, OpportunityId, PersonId};
use accord_domain::request::{Purpose, RequestState};
use accord_domain::rules::Decision;
use accord_domain::rules::input::{Input, MeetingOrigin};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::{Action, Principal};
use crate::contacts::{NewAttendee, resolve};
use crate::error::{Result, ServiceError};
use crate::{Service, facts};

/// A draft record to evaluate.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Draft {
    /// An engagement request.
    Request {
        /// The deal.
        opportunity: OpportunityId,
        /// The engagement type.
        engagement_type: String,
        /// Why.
        #[serde(default)]
        purpose: Option<Purpose>,
        /// The briefing.
        #[serde(default)]
        briefing: String,
        /// When the PM is needed.
        needed_at: DateTime<Utc>,
        /// The PM asked for.
        #[serde(default)]
        pm: Option<PersonId>,
    },
    /// A customer contact.
    Meeting {
        /// The account.
        #[serde(default)]
        account: Option<AccountId>,
        /// Title.
        #[serde(default)]
        title: String,
        /// Start.
        starts_at: DateTime<Utc>,
        /// End.
        ends_at: DateTime<Utc>,
        /// Who is invited.
        attendees: Vec<NewAttendee>,
        /// Planned (true) or logged.
        #[serde(default)]
        planned: bool,
    },
    /// A commitment.
    Commitment {
        /// The customer.
        account: AccountId,
        /// What.
        kind: CommitmentKind,
        /// Said.
        #[serde(default)]
        text: String,
        /// Who said it (me when absent).
        #[serde(default)]
        said_by: Option<PersonId>,
        /// Who else was there.
        #[serde(default)]
        present: Vec<PersonId>,
    },
    /// An access request.
    Access {
        /// The customer.
        account: AccountId,
        /// What for.
        purpose: AccessPurpose,
        /// The agenda.
        #[serde(default)]
        agenda: String,
        /// When.
        #[serde(default)]
        wanted_at: Option<DateTime<Utc>>,
    },
}

impl Service {
    /// What the playbook in force would say about `draft`.
    pub async fn evaluate_draft(&self, who: &Principal, draft: Draft) -> Result<Decision> {
        who.require(Action::Evaluate)?;
        let now = self.now();
        let active = self.playbook();
        let playbook = &active.playbook;
        let mut tx = self.store().read().await?;
        let input = match draft {
            Draft::Request {
                opportunity,
                engagement_type,
                purpose,
                briefing,
                needed_at,
                pm,
            } => {
                let opp = tx
                    .get_opportunity(opportunity)
                    .await
                    .map_err(|_| ServiceError::invalid("opportunity", "no such opportunity"))?;
                if playbook.engagement_type(&engagement_type).is_none() {
                    return Err(ServiceError::invalid(
                        "engagement_type",
                        "not in the playbook's catalog",
                    ));
                }
                let pm = match pm {
                    Some(p) => Some(
                        tx.get_person(p)
                            .await
                            .map_err(|_| ServiceError::invalid("pm", "no such person"))?,
                    ),
                    None => None,
                };
                let account = tx.get_account(opp.account).await?;
                Input::Request(
                    facts::request_input(
                        tx.as_mut(),
                        playbook,
                        &engagement_type,
                        purpose,
                        &briefing,
                        now,
                        needed_at,
                        RequestState::Requested,
                        &opp,
                        &account,
                        &who.person,
                        pm.as_ref(),
                    )
                    .await?,
                )
            }
            Draft::Meeting {
                account,
                title,
                starts_at,
                ends_at,
                attendees,
                planned,
            } => {
                let r = resolve(tx.as_mut(), account, &attendees).await?;
                let account_facts = facts::account_facts(tx.as_mut(), &r.account).await?;
                let origin = if planned {
                    MeetingOrigin::Planned
                } else {
                    MeetingOrigin::Logged
                };
                Input::Meeting(facts::meeting_input(
                    &title,
                    origin,
                    &r.flags,
                    r.sales,
                    (ends_at - starts_at).num_minutes(),
                    account_facts,
                ))
            }
            Draft::Commitment {
                account,
                kind,
                text,
                said_by,
                present,
            } => {
                let acct = tx
                    .get_account(account)
                    .await
                    .map_err(|_| ServiceError::invalid("account", "no such account"))?;
                let c = Commitment {
                    id: CommitmentId::new(),
                    account,
                    meeting: None,
                    kind,
                    text,
                    to_whom: String::new(),
                    said_by: said_by.unwrap_or(who.person.id),
                    present,
                    said_at: now,
                    state: CommitmentState::Pending,
                    decided_by: None,
                    decided_at: None,
                    decision_note: None,
                };
                Input::Commitment(facts::commitment_input(tx.as_mut(), &c, &acct).await?)
            }
            Draft::Access {
                account,
                purpose,
                agenda,
                wanted_at,
            } => {
                let acct = tx
                    .get_account(account)
                    .await
                    .map_err(|_| ServiceError::invalid("account", "no such account"))?;
                let a = AccessRequest {
                    id: AccessRequestId::new(),
                    pm: who.person.id,
                    account,
                    owner: acct.owner,
                    purpose,
                    agenda,
                    wanted_at,
                    created_at: now,
                    state: AccessState::Pending,
                    conditions: None,
                    reason: None,
                    answered_by: None,
                    answered_at: None,
                };
                Input::Access(
                    facts::access_input(tx.as_mut(), playbook, &a, &who.person, &acct).await?,
                )
            }
        };
        accord_domain::evaluate(playbook, &input, &[])
            .map_err(|e| ServiceError::invalid("draft", e.to_string()))
    }
}
