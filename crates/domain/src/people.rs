//! People, their roles and teams.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::{Email, ExternalRef, InvalidValue, PersonId, TeamId};

/// What a person does in the relationship; it decides what they may do in
/// accord and which side of the relationship they count on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Product manager.
    Pm,
    /// Leads a PM team; approves commitments.
    PmLead,
    /// Sales representative; the relationship owner of their accounts.
    SalesRep,
    /// Leads a sales team.
    SalesManager,
    /// Sales engineering: where demos and troubleshooting belong.
    SalesEngineer,
    /// Maintains the playbook, people, imports, tokens and webhooks.
    Admin,
    /// A cross-functional constituent (engineering, marketing, support, ...)
    /// who comments on and endorses the charter.
    Constituent,
}

impl Role {
    /// Every role, in the order the documentation lists them.
    pub const ALL: [Role; 7] = [
        Role::Pm,
        Role::PmLead,
        Role::SalesRep,
        Role::SalesManager,
        Role::SalesEngineer,
        Role::Admin,
        Role::Constituent,
    ];

    /// The role's name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pm => "pm",
            Role::PmLead => "pm_lead",
            Role::SalesRep => "sales_rep",
            Role::SalesManager => "sales_manager",
            Role::SalesEngineer => "sales_engineer",
            Role::Admin => "admin",
            Role::Constituent => "constituent",
        }
    }

    /// PMs and PM leads: a meeting they attend is a PM contact.
    pub fn is_product(self) -> bool {
        matches!(self, Role::Pm | Role::PmLead)
    }

    /// The sales side: reps, managers and sales engineers.
    pub fn is_sales(self) -> bool {
        matches!(
            self,
            Role::SalesRep | Role::SalesManager | Role::SalesEngineer
        )
    }

    /// The team leaders who receive alerts and hold reviews.
    pub fn is_leader(self) -> bool {
        matches!(self, Role::PmLead | Role::SalesManager)
    }

    /// The function a person of this role belongs to, for charter
    /// endorsements, when none is given explicitly.
    pub fn default_function(self) -> Option<&'static str> {
        match self {
            Role::Pm | Role::PmLead => Some("product"),
            Role::SalesRep | Role::SalesManager | Role::SalesEngineer => Some("sales"),
            Role::Admin | Role::Constituent => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| {
                InvalidValue::new(
                    "role",
                    s,
                    "expected pm, pm_lead, sales_rep, sales_manager, sales_engineer, admin or constituent",
                )
            })
    }
}

/// Which side of the relationship a team is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TeamKind {
    /// A product management team, led by a PM lead.
    Product,
    /// A sales team, led by a sales manager.
    Sales,
    /// Anything else (sales engineering, marketing, ...).
    Other,
}

impl TeamKind {
    /// The kind's name as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamKind::Product => "product",
            TeamKind::Sales => "sales",
            TeamKind::Other => "other",
        }
    }
}

/// A team: the unit signals are aggregated over, with its leader.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    /// Stable id.
    pub id: TeamId,
    /// Display name, unique in the organisation ("EMEA Enterprise").
    pub name: String,
    /// Product, sales or other.
    pub kind: TeamKind,
    /// The team leader (PM lead or sales manager), when known.
    pub lead: Option<PersonId>,
}

/// A person in the organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Stable id.
    pub id: PersonId,
    /// Lower-case address: the key calendars and CRMs are matched on.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// What they do in the relationship.
    pub role: Role,
    /// Their team, if any.
    pub team: Option<TeamId>,
    /// Their manager, if any.
    pub manager: Option<PersonId>,
    /// The function they speak for when endorsing the charter
    /// (`sales`, `engineering`, `marketing`, `support`, ...).
    pub function: Option<String>,
    /// Whether they can still act; people who left keep their history.
    pub active: bool,
    /// The CRM record this person was imported from.
    pub external: Option<ExternalRef>,
}

impl Person {
    /// The function this person endorses for: the explicit one, or their
    /// role's default.
    pub fn function(&self) -> Option<&str> {
        self.function
            .as_deref()
            .or_else(|| self.role.default_function())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_forgivingly_but_only_known_ones() {
        assert_eq!("PM Lead".parse::<Role>().unwrap(), Role::PmLead);
        assert_eq!("sales-rep".parse::<Role>().unwrap(), Role::SalesRep);
        assert!("ceo".parse::<Role>().is_err());
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
    }
}
