//! Engagement requests: a rep asks for a PM on an opportunity, and the
//! lifecycle the request goes through.
//!
//! ```text
//! requested ──accept──▶ accepted ──schedule──▶ scheduled ──complete──▶ done
//!     │  ▲                 │                      │
//!     │  └─exception ok─┐  └──────cancel──────────┴──▶ cancelled
//!     │                 │
//!     ├─ (rules say exception) needs_exception ─exception denied─▶ declined
//!     ├─decline──▶ declined
//!     ├─redirect─▶ redirected
//!     └─cancel───▶ cancelled
//! ```
//!
//! `declined`, `redirected`, `done` and `cancelled` are final. A redirect to
//! another PM or engagement type is a new request that points back to this
//! one (`redirected_from`), so each request keeps one clean history.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{
    AccountId, EngagementTypeId, InvalidValue, OpportunityId, PersonId, RequestId, TeamId,
};

/// Why a PM is asked in, in the essay's words: "clarification, direction
/// and vision".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Clarify what the product does or how it fits.
    Clarification,
    /// Where the product is heading (roadmap, direction).
    Direction,
    /// The long-term vision.
    Vision,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 3] = [Purpose::Clarification, Purpose::Direction, Purpose::Vision];

    /// The name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Clarification => "clarification",
            Purpose::Direction => "direction",
            Purpose::Vision => "vision",
        }
    }
}

impl FromStr for Purpose {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| {
                InvalidValue::new("purpose", s, "expected clarification, direction or vision")
            })
    }
}

/// Whether an engagement type is product work or sales support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Vision or direction presentations, roadmap briefings, RFP sections,
    /// presentation development, discovery: what a PM is for.
    Product,
    /// Demos, pricing, troubleshooting, generic proposals: work that belongs
    /// to sales engineering or sales operations.
    SalesSupport,
}

impl Category {
    /// The name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Product => "product",
            Category::SalesSupport => "sales_support",
        }
    }
}

/// Where an engagement request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Waiting for the PM's answer.
    Requested,
    /// The rules want an approved exception before the PM is asked.
    NeedsException,
    /// The PM said yes.
    Accepted,
    /// The PM (or the exception approver) said no. Final.
    Declined,
    /// Sent elsewhere: another type, person, or sales engineering. Final.
    Redirected,
    /// A date is set.
    Scheduled,
    /// It happened; outcome and hours recorded. Final.
    Done,
    /// Called off. Final.
    Cancelled,
}

impl RequestState {
    /// Every state.
    pub const ALL: [RequestState; 8] = [
        RequestState::Requested,
        RequestState::NeedsException,
        RequestState::Accepted,
        RequestState::Declined,
        RequestState::Redirected,
        RequestState::Scheduled,
        RequestState::Done,
        RequestState::Cancelled,
    ];

    /// The name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Requested => "requested",
            RequestState::NeedsException => "needs_exception",
            RequestState::Accepted => "accepted",
            RequestState::Declined => "declined",
            RequestState::Redirected => "redirected",
            RequestState::Scheduled => "scheduled",
            RequestState::Done => "done",
            RequestState::Cancelled => "cancelled",
        }
    }

    /// Whether nothing can happen to the request any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestState::Declined
                | RequestState::Redirected
                | RequestState::Done
                | RequestState::Cancelled
        )
    }

    /// The state an action leads to from this one, or why it cannot.
    pub fn next(self, action: RequestAction) -> Result<RequestState, TransitionError> {
        use RequestAction as A;
        use RequestState as S;
        let to = match (self, action) {
            (S::Requested, A::Accept) => S::Accepted,
            (S::Requested, A::Decline) => S::Declined,
            (S::Requested, A::Redirect) => S::Redirected,
            (S::NeedsException, A::ExceptionApproved) => S::Requested,
            (S::NeedsException, A::ExceptionDenied) => S::Declined,
            (S::Accepted, A::Schedule) => S::Scheduled,
            // Moving a date is scheduling again.
            (S::Scheduled, A::Schedule) => S::Scheduled,
            (S::Scheduled, A::Complete) => S::Done,
            (S::Requested | S::NeedsException | S::Accepted | S::Scheduled, A::Cancel) => {
                S::Cancelled
            }
            (from, action) => return Err(TransitionError { from, action }),
        };
        Ok(to)
    }

    /// The actions allowed from this state, for the UI and error messages.
    pub fn allowed_actions(self) -> Vec<RequestAction> {
        RequestAction::ALL
            .into_iter()
            .filter(|a| self.next(*a).is_ok())
            .collect()
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RequestState {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RequestState::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim())
            .ok_or_else(|| InvalidValue::new("request state", s, "not a request state"))
    }
}

/// What someone does to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestAction {
    /// The assigned PM accepts.
    Accept,
    /// The assigned PM declines, with a reason.
    Decline,
    /// The PM sends it elsewhere.
    Redirect,
    /// A date is set (or moved).
    Schedule,
    /// It happened: outcome and hours.
    Complete,
    /// Called off by the requester or the PM.
    Cancel,
    /// The exception it needed was granted.
    ExceptionApproved,
    /// The exception it needed was refused.
    ExceptionDenied,
}

impl RequestAction {
    /// Every action.
    pub const ALL: [RequestAction; 8] = [
        RequestAction::Accept,
        RequestAction::Decline,
        RequestAction::Redirect,
        RequestAction::Schedule,
        RequestAction::Complete,
        RequestAction::Cancel,
        RequestAction::ExceptionApproved,
        RequestAction::ExceptionDenied,
    ];

    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::Accept => "accept",
            RequestAction::Decline => "decline",
            RequestAction::Redirect => "redirect",
            RequestAction::Schedule => "schedule",
            RequestAction::Complete => "complete",
            RequestAction::Cancel => "cancel",
            RequestAction::ExceptionApproved => "exception_approved",
            RequestAction::ExceptionDenied => "exception_denied",
        }
    }
}

impl fmt::Display for RequestAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action that the request's state does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a request that is {from}")]
pub struct TransitionError {
    /// The state the request was in.
    pub from: RequestState,
    /// What was attempted.
    pub action: RequestAction,
}

/// Where a redirected request was sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum RedirectTarget {
    /// A better-fitting engagement type (e.g. a demo → sales engineering).
    Type {
        /// The type it should have been.
        engagement_type: EngagementTypeId,
    },
    /// Another PM.
    Person {
        /// Who should take it.
        person: PersonId,
    },
    /// A team, such as sales engineering.
    Team {
        /// The team that should take it.
        team: TeamId,
    },
    /// Sales engineering, without naming a team.
    SalesEngineering,
}

/// A rep's request for a PM on an opportunity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngagementRequest {
    /// Stable id.
    pub id: RequestId,
    /// The deal it is for.
    pub opportunity: OpportunityId,
    /// The deal's account (kept here so contacts and signals need no join).
    pub account: AccountId,
    /// Who asked (usually the rep who owns the deal).
    pub requester: PersonId,
    /// The PM asked for, once assigned.
    pub pm: Option<PersonId>,
    /// What kind of help, from the catalog.
    pub engagement_type: EngagementTypeId,
    /// Why: clarification, direction or vision.
    pub purpose: Purpose,
    /// Customer context, agenda, what the PM is expected to say.
    pub briefing: String,
    /// When the PM is needed.
    pub needed_at: DateTime<Utc>,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: RequestState,
    /// When a date was set.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Why it was declined or cancelled.
    pub reason: Option<String>,
    /// Where it was sent, if redirected.
    pub redirect: Option<RedirectTarget>,
    /// The request this one continues, if it came from a redirect.
    pub redirected_from: Option<RequestId>,
    /// What came of it, once done.
    pub outcome: Option<String>,
    /// PM hours spent, once done: the unit of the sales-support share.
    pub hours: Option<f64>,
    /// When it was done (the signals' window counts completions by it).
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

/// One step in a request's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateChange {
    /// The request.
    pub request: RequestId,
    /// Before.
    pub from: Option<RequestState>,
    /// After.
    pub to: RequestState,
    /// Who did it (none for the system).
    pub by: Option<PersonId>,
    /// When.
    pub at: DateTime<Utc>,
    /// The reason or note given.
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestAction as A;
    use RequestState as S;

    #[test]
    fn the_happy_path_is_allowed() {
        let s = S::Requested.next(A::Accept).unwrap();
        let s = s.next(A::Schedule).unwrap();
        let s = s.next(A::Schedule).unwrap();
        assert_eq!(s.next(A::Complete).unwrap(), S::Done);
    }

    #[test]
    fn exceptions_gate_the_request() {
        assert_eq!(
            S::NeedsException.next(A::ExceptionApproved).unwrap(),
            S::Requested
        );
        assert_eq!(
            S::NeedsException.next(A::ExceptionDenied).unwrap(),
            S::Declined
        );
        assert!(S::NeedsException.next(A::Accept).is_err());
    }

    #[test]
    fn final_states_allow_nothing() {
        for s in S::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(s.allowed_actions().is_empty(), "{s} should be final");
        }
    }

    #[test]
    fn refused_transitions_say_what_and_from_where() {
        let err = S::Done.next(A::Cancel).unwrap_err();
        assert_eq!(err.to_string(), "cannot cancel a request that is done");
        assert!(S::Requested.next(A::Complete).is_err());
        assert!(S::Accepted.next(A::Accept).is_err());
        assert!(S::Accepted.next(A::Decline).is_err());
        assert!(S::Scheduled.next(A::Redirect).is_err());
    }

    #[test]
    fn every_non_final_state_can_be_cancelled() {
        for s in S::ALL.into_iter().filter(|s| !s.is_final()) {
            assert_eq!(s.next(A::Cancel).unwrap(), S::Cancelled);
        }
    }

    #[test]
    fn the_full_transition_table_is_what_we_document() {
        // Every (state, action) pair, so that a change to the lifecycle is a
        // deliberate change to this table.
        let allowed: Vec<(S, A, S)> = S::ALL
            .into_iter()
            .flat_map(|s| A::ALL.into_iter().map(move |a| (s, a)))
            .filter_map(|(s, a)| s.next(a).ok().map(|t| (s, a, t)))
            .collect();
        let expected = vec![
            (S::Requested, A::Accept, S::Accepted),
            (S::Requested, A::Decline, S::Declined),
            (S::Requested, A::Redirect, S::Redirected),
            (S::Requested, A::Cancel, S::Cancelled),
            (S::NeedsException, A::Cancel, S::Cancelled),
            (S::NeedsException, A::ExceptionApproved, S::Requested),
            (S::NeedsException, A::ExceptionDenied, S::Declined),
            (S::Accepted, A::Schedule, S::Scheduled),
            (S::Accepted, A::Cancel, S::Cancelled),
            (S::Scheduled, A::Schedule, S::Scheduled),
            (S::Scheduled, A::Complete, S::Done),
            (S::Scheduled, A::Cancel, S::Cancelled),
        ];
        assert_eq!(allowed, expected);
    }
}
