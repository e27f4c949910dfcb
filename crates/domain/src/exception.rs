//! Exceptions: the essay's "good commonsense about when to throw the rules
//! out", made explicit — one rule set aside for one record, with a reason
//! and an approver, always audited.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{ExceptionId, PersonId, RuleId};
use crate::record::RecordRef;

/// Where an exception stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    /// Asked, waiting for the approver.
    Requested,
    /// Granted: the rule is set aside for the record until it expires.
    Approved,
    /// Refused.
    Denied,
}

impl ExceptionState {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Requested => "requested",
            ExceptionState::Approved => "approved",
            ExceptionState::Denied => "denied",
        }
    }
}

/// A named rule set aside for one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exception {
    /// Stable id.
    pub id: ExceptionId,
    /// The rule set aside.
    pub rule: RuleId,
    /// The record it is set aside for.
    pub record: RecordRef,
    /// Why the rule should not apply here.
    pub reason: String,
    /// Who asked.
    pub requested_by: PersonId,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// When it stops applying, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where it stands.
    pub state: ExceptionState,
    /// Who decided.
    pub decided_by: Option<PersonId>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Their note.
    pub decision_note: Option<String>,
}

impl Exception {
    /// Whether the exception sets its rule aside at `now`: approved and not
    /// expired.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.state == ExceptionState::Approved && self.expires_at.is_none_or(|e| now < e)
    }

    /// Decides a requested exception; anything else is already decided.
    pub fn decide(&self, approve: bool) -> Result<ExceptionState, ExceptionState> {
        match self.state {
            ExceptionState::Requested if approve => Ok(ExceptionState::Approved),
            ExceptionState::Requested => Ok(ExceptionState::Denied),
            other => Err(other),
        }
    }
}
