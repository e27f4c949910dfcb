//! accord's storage: the [`Store`] interface, [`StoreError`], engine
//! selection from a URL, and the SQL both engines share.
//!
//! The engines (`accord-store-sqlite`, `accord-store-postgres`) each bring
//! a connection pool, their migrations and their dialect; the queries are
//! written once, here, generic over sqlx's `Database` (lldap's "one code
//! path for several databases"), with `$n` placeholders that both accept.
//! Only the binary and the test kit name an engine.

pub mod audit;
mod error;
pub mod model;
pub mod ops;
pub mod rollup;
pub mod sql;
mod url;

use std::fmt::Debug;

use async_trait::async_trait;

pub use error::StoreError;
pub use model::*;
pub use ops::{AuthOps, GovOps, OrgOps, OutboxOps, RequestFilter, Result, SignalOps, Tx, WorkOps};
pub use url::{DEFAULT_URL, EngineKind, redact};

/// A database accord runs on.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// Which engine.
    fn engine(&self) -> EngineKind;
    /// A transaction for reading (several may run at once).
    async fn read(&self) -> Result<Box<dyn Tx>>;
    /// A read of a single statement, with no transaction around it: both
    /// engines give one statement a consistent view of its own, and the
    /// BEGIN and ROLLBACK a transaction adds are a round trip (on SQLite a
    /// hand-off to the connection's thread) each. For what reads once — a
    /// list page, one record by id; a use case that reads twice takes
    /// [`Store::read`], or its two reads may see different data. Debug
    /// builds stop at a second statement.
    async fn read_single(&self) -> Result<Box<dyn Tx>>;
    /// A transaction for changing things.
    async fn write(&self) -> Result<Box<dyn Tx>>;
    /// A transaction for changing many things, for long (a file's import, a
    /// signal run). On SQLite, where writers that come one after the other
    /// share a COMMIT, the writes before it are committed before it begins:
    /// they are not held back for its length.
    async fn write_long(&self) -> Result<Box<dyn Tx>> {
        self.write().await
    }
    /// Whether the database answers.
    async fn ping(&self) -> Result<()>;
    /// Closes every connection.
    async fn close(&self);
    /// The tables and their columns, sorted: what the schema test compares
    /// across engines.
    async fn schema(&self) -> Result<Vec<(String, Vec<String>)>>;
}

/// Verifies the whole audit chain; returns the number of entries checked,
/// or where it breaks.
pub async fn verify_audit(
    store: &dyn Store,
) -> Result<std::result::Result<i64, audit::ChainBreak>> {
    let mut tx = store.read().await?;
    let mut prev = (audit::GENESIS.to_owned(), 0i64);
    loop {
        let run = tx.audit_after(prev.1, 1000).await?;
        if run.is_empty() {
            return Ok(Ok(prev.1));
        }
        match audit::verify_run((&prev.0, prev.1), &run) {
            Ok(next) => prev = next,
            Err(b) => return Ok(Err(b)),
        }
    }
}

/// Truncates a time to the microsecond: what both engines store exactly,
/// so a record reads back equal to what was written.
pub fn micros(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Timelike};
    let t = t.trunc_subsecs(6);
    debug_assert!(t.nanosecond().is_multiple_of(1000));
    t
}
