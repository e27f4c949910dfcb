//! Opening the database a URL names: the one place the binary picks an
//! engine.

use std::sync::Arc;

use accord_store::{EngineKind, Store};
use anyhow::Result;

/// An open database.
#[derive(Debug)]
pub(crate) struct Db {
    pub(crate) store: Arc<dyn Store>,
    /// Migrations applied while opening.
    pub(crate) applied: Vec<i64>,
    /// The schema version.
    pub(crate) version: i64,
}

/// Opens `url` (creating a SQLite file if absent) and migrates it.
pub(crate) async fn open(url: &str) -> Result<Db> {
    // StoreError messages are one line and name the (redacted) URL.
    let db = match EngineKind::from_url(url)? {
        EngineKind::Sqlite => {
            let o = accord_store_sqlite::open(url).await?;
            Db {
                store: o.store,
                applied: o.applied,
                version: o.version,
            }
        }
        EngineKind::Postgres => {
            let o = accord_store_postgres::open(url).await?;
            Db {
                store: o.store,
                applied: o.applied,
                version: o.version,
            }
        }
    };
    Ok(db)
}
