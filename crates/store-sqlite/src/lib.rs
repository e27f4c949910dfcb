//! accord on SQLite: an embedded file, nothing to install. WAL for
//! concurrent readers, foreign keys on, a busy timeout so that writers
//! queue instead of failing, `synchronous=NORMAL` (safe with WAL).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use accord_store::sql::{Dialect, SqlStore};
use accord_store::{EngineKind, Store, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Row};

/// The schema's migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

static DIALECT: Dialect = Dialect {
    engine: EngineKind::Sqlite,
    begin_read: "BEGIN",
    begin_write: "BEGIN IMMEDIATE",
    claim_lock: "",
    batch_writes: true,
    webhook_events: "json_each(w.events)",
    delivery_id: (
        "unhex(substr(hex(",
        "), 1, 28) || printf('%04x', (row_number() OVER (ORDER BY w.id) - 1) & 65535))",
    ),
    schema_query: "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY 1, 2",
};

/// An open database and what opening it did.
#[derive(Debug)]
pub struct Opened {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Migrations applied now (empty when it was up to date).
    pub applied: Vec<i64>,
    /// The schema version.
    pub version: i64,
}

/// Rows a query may run ahead of its reader: enough for the longest
/// result a page reads (a dashboard's trend histories), bounded so that a
/// runaway query cannot fill memory.
const ROW_BUFFER: usize = 8192;

/// Connections that read at the same time (WAL: readers do not block the
/// writer or each other).
const READERS: usize = 6;

/// Opens (creating it if absent) the SQLite database at `url`
/// (`sqlite://PATH`) and brings its schema up to date.
pub async fn open(url: &str) -> Result<Opened, StoreError> {
    let where_ = accord_store::redact(url);
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Invalid(format!("{where_}: {}", first_line(&e))))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .synchronous(SqliteSynchronous::Normal)
        // Pages stay at SQLite's 4 KiB: a commit writes every page it
        // changes to the WAL, some 17 for an engagement request, and with
        // 16 KiB pages the server wrote four times the bytes and took
        // about 30 % fewer requests a second.
        // 64 MiB of page cache per reader (the default is 2 MiB): window
        // scans stay in memory. The writer's is smaller (see below).
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
        // Checkpoint the WAL every ~40 MiB rather than every 4 MiB: a bulk
        // import rewrites the same index pages less often.
        .pragma("wal_autocheckpoint", "10000")
        // Rows cross from SQLite's worker thread to the task through a
        // bounded channel; at the default of 50, a long result makes the
        // worker wait on the reader row after row (a futex wake-up each).
        .row_buffer_size(ROW_BUFFER);
    // The pool migrates and answers health checks; transactions run on the
    // store's own connections (see `SqlStore::with_connections`).
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(15))
        .connect_with(opts.clone())
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot open {where_}: {}", first_line(&e)))
        })?;
    let before = applied_versions(&pool).await;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| StoreError::Other(format!("cannot migrate {where_}: {}", first_line(&e))))?;
    let after = applied_versions(&pool).await;
    let applied = after
        .iter()
        .filter(|v| !before.contains(v))
        .copied()
        .collect();
    let where_ = &where_;
    let connect = |opts: SqliteConnectOptions| async move {
        SqliteConnection::connect_with(&opts).await.map_err(|e| {
            StoreError::Unavailable(format!("cannot open {where_}: {}", first_line(&e)))
        })
    };
    // The writer's cache holds what a transaction changes. A large import
    // inserts into its indexes (meeting start, attendance by person, daily
    // roll-ups) all over their trees: with less cache than those indexes'
    // working set, SQLite spills their pages to the WAL in mid-transaction
    // and reads them back, and with 16 MiB an import of a million events
    // took a fifth longer. The cache is a bound (128 MiB), not a share of
    // the file: an import's memory stops growing once it is full.
    let writer = connect(opts.clone().pragma("cache_size", "-131072")).await?;
    let mut readers = Vec::with_capacity(READERS);
    for _ in 0..READERS {
        readers.push(connect(opts.clone()).await?);
    }
    Ok(Opened {
        store: Arc::new(SqlStore::with_connections(pool, &DIALECT, writer, readers)),
        applied,
        version: after.last().copied().unwrap_or(0),
    })
}

async fn applied_versions(pool: &sqlx::SqlitePool) -> Vec<i64> {
    match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .collect(),
        // No table yet: a fresh database.
        Err(_) => Vec::new(),
    }
}

fn first_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or("").to_owned()
}
