//! Signals, alerts and reviews: the numbers team leaders trust, the alerts
//! when a line is crossed, and what the leaders decided.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AlertId, PersonId, ReviewId, SignalId};

/// How a measured value compares with its signal's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignalStatus {
    /// Too few records in the window to say anything.
    InsufficientData,
    /// Within the healthy range.
    Ok,
    /// Past the watch threshold: worth a look.
    Watch,
    /// Past the act threshold: the leaders should sit down.
    Act,
}

impl SignalStatus {
    /// The name as written in reports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalStatus::InsufficientData => "insufficient_data",
            SignalStatus::Ok => "ok",
            SignalStatus::Watch => "watch",
            SignalStatus::Act => "act",
        }
    }
}

impl fmt::Display for SignalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a signal goes bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is worse (sales-support share, denial rate).
    Above,
    /// Lower is worse (owner presence, customer exposure).
    Below,
}

/// Classifies a value against thresholds. `value` is compared inclusively:
/// a value exactly at a threshold has crossed it.
pub fn classify(
    value: f64,
    sample: f64,
    min_sample: f64,
    direction: Direction,
    watch: f64,
    act: f64,
) -> SignalStatus {
    if sample < min_sample || !value.is_finite() {
        return SignalStatus::InsufficientData;
    }
    let crossed = |t: f64| match direction {
        Direction::Above => value >= t,
        Direction::Below => value <= t,
    };
    if crossed(act) {
        SignalStatus::Act
    } else if crossed(watch) {
        SignalStatus::Watch
    } else {
        SignalStatus::Ok
    }
}

/// A signal measured for one subject over one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalValue {
    /// The playbook signal.
    pub signal: SignalId,
    /// `person`, `team`, `pair`, `rule` or `organisation`.
    pub subject_kind: String,
    /// The subject: an email, a team name, `pm team / sales team`, a rule id.
    pub subject: String,
    /// The value (numerator / denominator, or a rate per month).
    pub value: f64,
    /// What was counted.
    pub numerator: f64,
    /// What it was counted out of.
    pub denominator: f64,
    /// Against the thresholds.
    pub status: SignalStatus,
    /// The last day of the window.
    pub as_of: NaiveDate,
    /// The window's length in days.
    pub window_days: u32,
}

/// One day of a signal's trend: what a chart draws.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalPoint {
    /// The day (the last of its window).
    pub as_of: NaiveDate,
    /// The value on that day.
    pub value: f64,
    /// Against the thresholds.
    pub status: SignalStatus,
}

impl From<&SignalValue> for SignalPoint {
    fn from(v: &SignalValue) -> Self {
        SignalPoint {
            as_of: v.as_of,
            value: v.value,
            status: v.status,
        }
    }
}

/// Where an alert stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The signal is at `act` (or has not recovered for a full window).
    Open,
    /// In a review.
    InReview,
    /// Closed: recovered, or ended by a review.
    Closed,
}

impl AlertState {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::InReview => "in_review",
            AlertState::Closed => "closed",
        }
    }
}

/// A signal at `act` for one subject, addressed to the two team leaders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// Stable id.
    pub id: AlertId,
    /// The signal.
    pub signal: SignalId,
    /// `person`, `team`, `pair`, `rule` or `organisation`.
    pub subject_kind: String,
    /// The subject.
    pub subject: String,
    /// The leaders it is addressed to.
    pub addressed_to: Vec<PersonId>,
    /// Where it stands.
    pub state: AlertState,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it closed ("recovered", "ended by review").
    pub closed_reason: Option<String>,
    /// The value when it opened.
    pub value: f64,
    /// Links to the records behind the number (API paths).
    pub evidence: Vec<String>,
}

/// What a review decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The rules stand; the pattern is explained or will be fixed.
    RulesKept,
    /// The playbook was changed (a new version is linked).
    PlaybookChanged,
    /// How exceptions are granted was changed.
    ExceptionPolicyChanged,
    /// Something else, in the notes.
    Other,
}

impl ReviewOutcome {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::RulesKept => "rules_kept",
            ReviewOutcome::PlaybookChanged => "playbook_changed",
            ReviewOutcome::ExceptionPolicyChanged => "exception_policy_changed",
            ReviewOutcome::Other => "other",
        }
    }
}

/// The rules-of-engagement review the essay asks for: "it is time for the
/// respective team leaders to sit down and revisit their rules of
/// engagement".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    /// Stable id.
    pub id: ReviewId,
    /// The alerts it was opened from.
    pub alerts: Vec<AlertId>,
    /// Who takes part.
    pub attendees: Vec<PersonId>,
    /// The agenda, prefilled with the evidence.
    pub agenda: String,
    /// What was said.
    pub notes: String,
    /// What was decided, once held.
    pub outcome: Option<ReviewOutcome>,
    /// The playbook version it led to, if the playbook changed.
    pub playbook_version: Option<i64>,
    /// Who opened it.
    pub opened_by: PersonId,
    /// When.
    pub opened_at: DateTime<Utc>,
    /// When its outcome was recorded.
    pub closed_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_and_directional() {
        use Direction::*;
        use SignalStatus::*;
        assert_eq!(classify(0.10, 20.0, 10.0, Above, 0.15, 0.25), Ok);
        assert_eq!(classify(0.15, 20.0, 10.0, Above, 0.15, 0.25), Watch);
        assert_eq!(classify(0.25, 20.0, 10.0, Above, 0.15, 0.25), Act);
        assert_eq!(classify(0.90, 20.0, 10.0, Below, 0.8, 0.6), Ok);
        assert_eq!(classify(0.80, 20.0, 10.0, Below, 0.8, 0.6), Watch);
        assert_eq!(classify(0.60, 20.0, 10.0, Below, 0.8, 0.6), Act);
        assert_eq!(
            classify(0.99, 9.0, 10.0, Above, 0.15, 0.25),
            InsufficientData
        );
        assert_eq!(
            classify(f64::NAN, 20.0, 10.0, Above, 0.15, 0.25),
            InsufficientData
        );
    }
}
