//! One error type for every storage engine. Database errors are mapped here
//! once: a unique violation is a `Conflict` (never a raw database error), a
//! dropped connection is `Unavailable`, and so on.

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// The kind of record ("person", "request").
        what: &'static str,
        /// Its id, as given.
        id: String,
    },
    /// The change conflicts with what is stored (a duplicate natural key, a
    /// record changed by someone else).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The change is not valid (a reference to a missing record, a value the
    /// schema refuses).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database cannot be reached, or is busy beyond the timeout.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the details are for the log.
    #[error("storage error: {0}")]
    Other(String),
}

impl StoreError {
    /// A `NotFound` for `what` and `id`.
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound {
                what: "record",
                id: String::new(),
            },
            sqlx::Error::Database(db) => {
                let msg = db.message().to_owned();
                match db.kind() {
                    ErrorKind::UniqueViolation => StoreError::Conflict(msg),
                    ErrorKind::ForeignKeyViolation => {
                        StoreError::Invalid(format!("a referenced record does not exist ({msg})"))
                    }
                    ErrorKind::NotNullViolation | ErrorKind::CheckViolation => {
                        StoreError::Invalid(msg)
                    }
                    _ => {
                        // SQLite reports a locked database as an error, not a
                        // kind: busy beyond the timeout is unavailability.
                        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                        if code == "5" || code == "6" || msg.contains("database is locked") {
                            StoreError::Unavailable(msg)
                        } else if code.len() == 5 && code.starts_with("22") {
                            // PostgreSQL's class 22, data exceptions: the
                            // input cannot be stored (a NUL in a text, a
                            // number out of range) — the caller's fault.
                            StoreError::Invalid(msg)
                        } else if code == "40001" || code == "40P01" {
                            StoreError::Conflict(format!("concurrent update, try again ({msg})"))
                        } else {
                            StoreError::Other(msg)
                        }
                    }
                }
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(one_line(&e)),
            sqlx::Error::Configuration(_) => StoreError::Invalid(one_line(&e)),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Other(format!("stored data could not be read: {}", one_line(&e)))
            }
            _ => StoreError::Other(one_line(&e)),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Other(format!("stored JSON could not be read: {e}"))
    }
}

/// sqlx errors can span lines; keep the first.
pub(crate) fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or("").to_owned()
}
