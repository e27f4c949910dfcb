//! Access requests: a PM asks the relationship owner for time with a
//! customer.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AccessRequestId, AccountId, PersonId};

/// What the PM wants the customer time for: the essay's "context on the use
/// of their products, input on futures and feedback on performance".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessPurpose {
    /// Learn how the customer uses the product.
    Discovery,
    /// Hear how the product performs for them.
    Feedback,
    /// Test an idea or a design with them.
    Validation,
}

impl AccessPurpose {
    /// The name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessPurpose::Discovery => "discovery",
            AccessPurpose::Feedback => "feedback",
            AccessPurpose::Validation => "validation",
        }
    }
}

/// Where an access request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    /// Waiting for the owner (or their manager).
    Pending,
    /// Granted as asked.
    Granted,
    /// Granted with conditions (e.g. "after the renewal closes").
    GrantedWithConditions,
    /// Denied, with a reason.
    Denied,
    /// The PM withdrew it.
    Withdrawn,
}

impl AccessState {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessState::Pending => "pending",
            AccessState::Granted => "granted",
            AccessState::GrantedWithConditions => "granted_with_conditions",
            AccessState::Denied => "denied",
            AccessState::Withdrawn => "withdrawn",
        }
    }

    /// Whether the owner has answered.
    pub fn is_answered(self) -> bool {
        matches!(
            self,
            AccessState::Granted | AccessState::GrantedWithConditions | AccessState::Denied
        )
    }

    /// The state an answer leads to; only a pending request can be
    /// answered or withdrawn.
    pub fn answer(self, to: AccessState) -> Result<AccessState, AnswerError> {
        match (self, to) {
            (AccessState::Pending, AccessState::Pending) => Err(AnswerError { from: self, to }),
            (AccessState::Pending, to) => Ok(to),
            (from, to) => Err(AnswerError { from, to }),
        }
    }
}

impl fmt::Display for AccessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An answer that the request's state does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an access request that is {from} cannot become {to}")]
pub struct AnswerError {
    /// Where it was.
    pub from: AccessState,
    /// What was asked.
    pub to: AccessState,
}

/// A PM's request for time with a customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessRequest {
    /// Stable id.
    pub id: AccessRequestId,
    /// Who asks.
    pub pm: PersonId,
    /// The customer.
    pub account: AccountId,
    /// The relationship owner who answers (or their manager).
    pub owner: Option<PersonId>,
    /// What for.
    pub purpose: AccessPurpose,
    /// What the PM wants to cover.
    pub agenda: String,
    /// When the PM would like to meet.
    pub wanted_at: Option<DateTime<Utc>>,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: AccessState,
    /// The conditions of a conditional grant.
    pub conditions: Option<String>,
    /// The reason of a denial.
    pub reason: Option<String>,
    /// Who answered.
    pub answered_by: Option<PersonId>,
    /// When.
    pub answered_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_requests_are_answered() {
        assert_eq!(
            AccessState::Pending.answer(AccessState::Denied).unwrap(),
            AccessState::Denied
        );
        assert!(AccessState::Pending.answer(AccessState::Pending).is_err());
        assert!(AccessState::Denied.answer(AccessState::Granted).is_err());
        assert!(AccessState::Withdrawn.answer(AccessState::Granted).is_err());
    }
}
