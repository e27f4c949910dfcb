//! Commitments: anything about the product's future said to a customer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AccountId, CommitmentId, MeetingId, PersonId};

/// What was promised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    /// A feature or capability.
    Feature,
    /// A delivery date.
    Date,
    /// A price or discount.
    Price,
    /// Anything else about the product's future.
    Other,
}

impl CommitmentKind {
    /// The name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentKind::Feature => "feature",
            CommitmentKind::Date => "date",
            CommitmentKind::Price => "price",
            CommitmentKind::Other => "other",
        }
    }
}

/// Where a commitment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommitmentState {
    /// Said, not yet approved by a PM lead.
    Pending,
    /// Approved by a PM lead: the organisation stands behind it.
    Approved,
    /// Rejected: someone has to walk it back with the customer.
    Rejected,
}

impl CommitmentState {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentState::Pending => "pending",
            CommitmentState::Approved => "approved",
            CommitmentState::Rejected => "rejected",
        }
    }

    /// Only a pending commitment is decided.
    pub fn decide(self, approve: bool) -> Result<CommitmentState, AlreadyDecided> {
        match self {
            CommitmentState::Pending if approve => Ok(CommitmentState::Approved),
            CommitmentState::Pending => Ok(CommitmentState::Rejected),
            other => Err(AlreadyDecided(other)),
        }
    }
}

/// A decision on something already decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("already decided: {}", .0.as_str())]
pub struct AlreadyDecided(pub CommitmentState);

/// Something about the product's future said to a customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commitment {
    /// Stable id.
    pub id: CommitmentId,
    /// The customer it was made to.
    pub account: AccountId,
    /// The contact it was made in, if logged with one.
    pub meeting: Option<MeetingId>,
    /// Feature, date, price or other.
    pub kind: CommitmentKind,
    /// What was said, in the words of the person logging it.
    pub text: String,
    /// The customer people it was said to.
    pub to_whom: String,
    /// Who said it.
    pub said_by: PersonId,
    /// Who else from our side was there.
    pub present: Vec<PersonId>,
    /// When it was said.
    pub said_at: DateTime<Utc>,
    /// Where it stands.
    pub state: CommitmentState,
    /// The PM lead who decided.
    pub decided_by: Option<PersonId>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Their note.
    pub decision_note: Option<String>,
}

impl Commitment {
    /// Whether `person` said it or was present.
    pub fn involved(&self, person: PersonId) -> bool {
        self.said_by == person || self.present.contains(&person)
    }
}
