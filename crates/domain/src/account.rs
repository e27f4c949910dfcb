//! Customer accounts and their opportunities.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AccountId, Domain, ExternalRef, OpportunityId, PersonId, StageId};

/// A customer account, owned by a sales rep: the relationship owner who
/// should attend every PM contact with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    /// Stable id.
    pub id: AccountId,
    /// Display name.
    pub name: String,
    /// The email domains of the customer's people; a calendar attendee at
    /// one of them (or a subdomain) makes a meeting customer-facing.
    pub domains: Vec<Domain>,
    /// The relationship owner (a sales rep), when known.
    pub owner: Option<PersonId>,
    /// The CRM record this account was imported from.
    pub external: Option<ExternalRef>,
}

impl Account {
    /// Whether an email domain belongs to this account.
    pub fn owns_host(&self, host: &str) -> bool {
        self.domains.iter().any(|d| d.matches(host))
    }
}

/// A deal on an account, at a stage of the sales process model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Opportunity {
    /// Stable id.
    pub id: OpportunityId,
    /// The account it is for.
    pub account: AccountId,
    /// Display name.
    pub name: String,
    /// The playbook stage it is at.
    pub stage: StageId,
    /// Value in the organisation's currency, if known.
    pub amount: Option<f64>,
    /// The rep who owns the deal.
    pub owner: Option<PersonId>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// Expected close date.
    pub close_date: Option<NaiveDate>,
    /// The CRM record this opportunity was imported from.
    pub external: Option<ExternalRef>,
}
