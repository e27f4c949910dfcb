//! accord on PostgreSQL: for organisations that run several servers or want
//! their own database operations. Several accord servers share one database:
//! sessions, rate limits and the outbox live in it, and deliveries are
//! claimed with `FOR UPDATE SKIP LOCKED`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use accord_store::sql::{Dialect, SqlStore};
use accord_store::{EngineKind, Store, StoreError};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, Row};

/// The schema's migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

static DIALECT: Dialect = Dialect {
    engine: EngineKind::Postgres,
    begin_read: "BEGIN",
    begin_write: "BEGIN",
    claim_lock: " FOR UPDATE SKIP LOCKED",
    batch_writes: false,
    webhook_events: "json_array_elements_text(w.events::json) AS j(value)",
    delivery_id: (
        "CAST(left(CAST(",
        " AS text), 32) || lpad(to_hex((row_number() OVER (ORDER BY w.id) - 1) & 65535), 4, '0') AS uuid)",
    ),
    schema_query: "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1, 2",
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

/// Connects to the PostgreSQL database at `url` and brings its schema up
/// to date (several servers starting at once take turns: sqlx holds an
/// advisory lock while it migrates).
pub async fn open(url: &str) -> Result<Opened, StoreError> {
    let where_ = accord_store::redact(url);
    let opts = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Invalid(format!("{where_}: {}", first_line(&e))))?;
    // One connection first, so an unreachable server is reported as what it
    // is ("connection refused") rather than as a pool timeout.
    let probe = tokio_timeout(Duration::from_secs(10), PgConnection::connect_with(&opts))
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to {where_}: {e}")))?;
    probe.close().await.map_err(|e| {
        StoreError::Unavailable(format!("cannot connect to {where_}: {}", first_line(&e)))
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot connect to {where_}: {}", first_line(&e)))
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
    Ok(Opened {
        store: Arc::new(SqlStore::new(pool, &DIALECT)),
        applied,
        version: after.last().copied().unwrap_or(0),
    })
}

async fn applied_versions(pool: &sqlx::PgPool) -> Vec<i64> {
    match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn first_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or("").to_owned()
}

/// Runs a connection attempt with a deadline; errors become one line.
async fn tokio_timeout<F, T>(d: Duration, f: F) -> Result<T, String>
where
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    match tokio::time::timeout(d, f).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(first_line(&e)),
        Err(_) => Err(format!("no answer within {} s", d.as_secs())),
    }
}
