//! The kinds of record the rules apply to, and references to one record.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::id::InvalidValue;

/// The records a playbook rule can apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// An engagement request (a rep asking for a PM).
    Request,
    /// A customer contact (meeting or call).
    Meeting,
    /// A commitment made to a customer.
    Commitment,
    /// A PM's access request.
    Access,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Request,
        RecordKind::Meeting,
        RecordKind::Commitment,
        RecordKind::Access,
    ];

    /// The name as written in playbooks and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Request => "request",
            RecordKind::Meeting => "meeting",
            RecordKind::Commitment => "commitment",
            RecordKind::Access => "access",
        }
    }

    /// A phrase for plain-English output ("an engagement request").
    pub fn describe(self) -> &'static str {
        match self {
            RecordKind::Request => "an engagement request",
            RecordKind::Meeting => "a customer contact",
            RecordKind::Commitment => "a commitment",
            RecordKind::Access => "an access request",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                InvalidValue::new(
                    "record kind",
                    s,
                    "expected request, meeting, commitment or access",
                )
            })
    }
}

/// One record, by kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordRef {
    /// What kind of record.
    pub kind: RecordKind,
    /// Its id.
    pub id: Uuid,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}
