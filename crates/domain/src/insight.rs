//! Insights: what a PM learned from a customer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AccountId, InsightId, MeetingId, PersonId};

/// The essay's three reasons a PM needs customers: "context on the use of
/// their products, input on futures and feedback on performance".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InsightKind {
    /// How and where the product is used.
    ContextOfUse,
    /// What the customer wants next.
    Futures,
    /// How the product performs for them.
    Performance,
}

impl InsightKind {
    /// Every kind.
    pub const ALL: [InsightKind; 3] = [
        InsightKind::ContextOfUse,
        InsightKind::Futures,
        InsightKind::Performance,
    ];

    /// The name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::ContextOfUse => "context_of_use",
            InsightKind::Futures => "futures",
            InsightKind::Performance => "performance",
        }
    }
}

/// What a PM learned from a customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insight {
    /// Stable id.
    pub id: InsightId,
    /// The customer.
    pub account: AccountId,
    /// The contact it came from, if any.
    pub meeting: Option<MeetingId>,
    /// The PM who captured it.
    pub pm: PersonId,
    /// Context of use, futures or performance.
    pub kind: InsightKind,
    /// The product area it concerns ("reporting", "billing").
    pub product_area: String,
    /// What was learned.
    pub text: String,
    /// When it was captured.
    pub created_at: DateTime<Utc>,
}
