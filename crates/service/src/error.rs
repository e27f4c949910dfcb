//! The one error type of accord's use cases. The API maps it once to
//! problem+json, the web UI once to HTML.

use accord_domain::playbook::Diagnostic;
use accord_domain::rules::Decision;
use accord_store::StoreError;
use serde::Serialize;

/// A field that failed validation, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field, as the API names it (`needed_at`, `attendees[2].email`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Nobody is signed in.
    #[error("sign in first")]
    Unauthenticated,
    /// The signed-in person may not do this.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The record does not exist (or the person may not know it exists).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The input is not valid: each field and why.
    #[error("invalid input: {}", .0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The change conflicts with the record's state (an illegal transition,
    /// a concurrent change, a duplicate).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The playbook refuses it: the decision lists the rules.
    #[error("refused by the playbook: {}", .0.matched.iter().filter(|m| m.applied == accord_domain::Effect::Deny).map(|m| m.rule.as_str()).collect::<Vec<_>>().join(", "))]
    Denied(Box<Decision>),
    /// An uploaded playbook does not check, or its tests fail.
    #[error("the playbook was refused: {} problem(s)", .diagnostics.len() + .failed_tests.len())]
    PlaybookRefused {
        /// Located diagnostics.
        diagnostics: Vec<Diagnostic>,
        /// Tests that failed, one line each.
        failed_tests: Vec<String>,
    },
    /// Too many attempts; try again after this many seconds.
    #[error("too many attempts; try again in {0} s")]
    RateLimited(u64),
    /// The database cannot be reached.
    #[error("the database is unavailable")]
    Unavailable(String),
    /// Anything else: details for the log, not the client.
    #[error("internal error")]
    Internal(String),
}

impl ServiceError {
    /// An `Invalid` with one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid(vec![FieldError::new(field, message)])
    }

    /// A `NotFound`.
    pub fn not_found(what: impl Into<String>) -> Self {
        ServiceError::NotFound { what: what.into() }
    }

    /// A `Forbidden`.
    pub fn forbidden(why: impl Into<String>) -> Self {
        ServiceError::Forbidden(why.into())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => {
                if id.is_empty() {
                    ServiceError::not_found(what)
                } else {
                    ServiceError::not_found(format!("{what} {id}"))
                }
            }
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            StoreError::Invalid(m) => ServiceError::Invalid(vec![FieldError::new("", m)]),
            StoreError::Unavailable(m) => ServiceError::Unavailable(m),
            StoreError::Other(m) => ServiceError::Internal(m),
        }
    }
}

/// Shorthand.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
