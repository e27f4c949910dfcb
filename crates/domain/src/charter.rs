//! The PM charter: the PM role and its key accountabilities, built with
//! cross-functional constituents, ratified by their leads and acknowledged
//! by every PM.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{CharterVersionId, ClauseId, PersonId};

/// One accountability of the PM role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accountability {
    /// The clause id rules cite (`customer-insight`).
    pub id: ClauseId,
    /// Short title.
    pub title: String,
    /// What it means in practice.
    pub text: String,
}

/// The charter's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Charter {
    /// One paragraph on what the PM team is for.
    pub mission: String,
    /// The key accountabilities.
    pub accountabilities: Vec<Accountability>,
    /// The functions whose leads must endorse it (`sales`, `engineering`,
    /// `marketing`, `support`).
    pub required_endorsements: Vec<String>,
}

/// Where a charter version stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CharterState {
    /// Open for comments and endorsements.
    Draft,
    /// Endorsed by every required function: the version in force.
    Ratified,
    /// Replaced by a later ratified version.
    Superseded,
}

impl CharterState {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CharterState::Draft => "draft",
            CharterState::Ratified => "ratified",
            CharterState::Superseded => "superseded",
        }
    }
}

/// A constituent's comment on a draft.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CharterComment {
    /// Who.
    pub author: PersonId,
    /// The clause it is about, if any.
    pub clause: Option<ClauseId>,
    /// What they said.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A function lead's endorsement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endorsement {
    /// Who.
    pub person: PersonId,
    /// The function they endorse for.
    pub function: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A PM's acknowledgment of the version in force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Acknowledgment {
    /// Who.
    pub person: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// One version of the charter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CharterVersion {
    /// Stable id.
    pub id: CharterVersionId,
    /// 1, 2, 3, ...
    pub number: i64,
    /// The content.
    pub charter: Charter,
    /// Where it stands.
    pub state: CharterState,
    /// Who drafted it.
    pub author: PersonId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was ratified.
    pub ratified_at: Option<DateTime<Utc>>,
    /// Comments on the draft.
    pub comments: Vec<CharterComment>,
    /// Endorsements.
    pub endorsements: Vec<Endorsement>,
    /// Acknowledgments by PMs.
    pub acknowledgments: Vec<Acknowledgment>,
}

impl CharterVersion {
    /// The required functions that have not endorsed yet.
    pub fn missing_endorsements(&self) -> Vec<&str> {
        let endorsed: BTreeSet<&str> = self
            .endorsements
            .iter()
            .map(|e| e.function.as_str())
            .collect();
        self.charter
            .required_endorsements
            .iter()
            .map(String::as_str)
            .filter(|f| !endorsed.contains(f))
            .collect()
    }

    /// Whether every required function has endorsed it.
    pub fn can_ratify(&self) -> bool {
        self.state == CharterState::Draft && self.missing_endorsements().is_empty()
    }

    /// Whether `person` has acknowledged it.
    pub fn acknowledged_by(&self, person: PersonId) -> bool {
        self.acknowledgments.iter().any(|a| a.person == person)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratification_waits_for_every_required_function() {
        let mut v = CharterVersion {
            id: CharterVersionId::new(),
            number: 1,
            charter: Charter {
                mission: "m".into(),
                accountabilities: vec![],
                required_endorsements: vec!["sales".into(), "engineering".into()],
            },
            state: CharterState::Draft,
            author: PersonId::new(),
            created_at: Utc::now(),
            ratified_at: None,
            comments: vec![],
            endorsements: vec![],
            acknowledgments: vec![],
        };
        assert_eq!(v.missing_endorsements(), vec!["sales", "engineering"]);
        v.endorsements.push(Endorsement {
            person: PersonId::new(),
            function: "sales".into(),
            at: Utc::now(),
        });
        assert!(!v.can_ratify());
        v.endorsements.push(Endorsement {
            person: PersonId::new(),
            function: "engineering".into(),
            at: Utc::now(),
        });
        assert!(v.can_ratify());
    }
}
