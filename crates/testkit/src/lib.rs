//! The test kit: a [`TestDb`] per test — a fresh SQLite file or a fresh
//! PostgreSQL database, removed afterwards — and fixtures to fill it.
//!
//! PostgreSQL is found at `ACCORD_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`. When it cannot be reached,
//! PostgreSQL tests print a notice and pass — unless `CI=true`, where a
//! missing PostgreSQL fails them: CI must test both engines.

// The test kit exists to fail tests loudly: panicking on a broken fixture
// or an unreachable database is its job, not a defect.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod fixtures;

use std::path::PathBuf;
use std::sync::Arc;

use accord_store::{EngineKind, Store};

/// The engines a test can run on.
pub const ENGINES: [EngineKind; 2] = [EngineKind::Sqlite, EngineKind::Postgres];

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    store: Arc<dyn Store>,
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    File(PathBuf),
    Database { admin_url: String, name: String },
    Done,
}

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var("ACCORD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl TestDb {
    /// A fresh database on `engine`; `None` when PostgreSQL is not
    /// reachable outside CI (the test then skips, with a notice).
    pub async fn new(engine: EngineKind) -> Option<TestDb> {
        match engine {
            EngineKind::Sqlite => Some(TestDb::sqlite().await),
            EngineKind::Postgres => TestDb::postgres().await,
        }
    }

    /// A fresh SQLite file in the system's temporary directory.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("accord-test-{}.db", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}", path.display());
        let opened = match accord_store_sqlite::open(&url).await {
            Ok(o) => o,
            Err(e) => panic!("cannot create the test database {url}: {e}"),
        };
        TestDb {
            store: opened.store,
            url,
            cleanup: Cleanup::File(path),
        }
    }

    /// A fresh PostgreSQL database, or `None` (outside CI) when the server
    /// is not reachable.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = postgres_url();
        let admin = match sqlx::PgPool::connect(&admin_url).await {
            Ok(p) => p,
            Err(e) => {
                if in_ci() {
                    panic!("PostgreSQL is required in CI but {admin_url} cannot be reached: {e}");
                }
                eprintln!(
                    "notice: skipping a PostgreSQL test: {admin_url} cannot be reached ({e})"
                );
                return None;
            }
        };
        let name = format!("accord_test_{}", uuid::Uuid::now_v7().simple());
        let create = format!("CREATE DATABASE {name}");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&admin)
            .await
        {
            panic!("cannot create the test database {name}: {e}");
        }
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let opened = match accord_store_postgres::open(&url).await {
            Ok(o) => o,
            Err(e) => panic!("cannot open the test database {url}: {e}"),
        };
        Some(TestDb {
            store: opened.store,
            url,
            cleanup: Cleanup::Database { admin_url, name },
        })
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Another store on the same database, as another process would open
    /// it (the caller closes it).
    pub async fn open_again(&self) -> Arc<dyn Store> {
        let opened = match self.engine() {
            EngineKind::Sqlite => accord_store_sqlite::open(&self.url).await.map(|o| o.store),
            EngineKind::Postgres => accord_store_postgres::open(&self.url)
                .await
                .map(|o| o.store),
        };
        match opened {
            Ok(s) => s,
            Err(e) => panic!("cannot open {} again: {e}", self.url),
        }
    }

    /// The database's URL (for spawning a server or the CLI on it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The engine.
    pub fn engine(&self) -> EngineKind {
        self.store.engine()
    }

    /// Runs raw SQL (several statements allowed) on a connection of its
    /// own, beside the store: for tests that must reach under the storage
    /// interface, say to make the database refuse a row with a trigger.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match self.engine() {
            EngineKind::Sqlite => match sqlx::SqlitePool::connect(&self.url).await {
                Ok(pool) => {
                    let r = sqlx::raw_sql(sql).execute(&pool).await.map(drop);
                    pool.close().await;
                    r
                }
                Err(e) => Err(e),
            },
            EngineKind::Postgres => match sqlx::PgPool::connect(&self.url).await {
                Ok(pool) => {
                    let r = sqlx::raw_sql(sql).execute(&pool).await.map(drop);
                    pool.close().await;
                    r
                }
                Err(e) => Err(e),
            },
        };
        if let Err(e) = result {
            panic!("cannot run SQL on the test database {}: {e}", self.url);
        }
    }

    /// Waits until a session on this PostgreSQL database waits for a lock
    /// another holds: for tests that interleave two writers and must know
    /// that the second has reached its wait before the first goes on.
    /// Panics after `within` with none seen, and on SQLite (whose writers
    /// take turns before they lock anything).
    pub async fn until_a_session_waits_for_a_lock(&self, within: std::time::Duration) {
        assert_eq!(
            self.engine(),
            EngineKind::Postgres,
            "only PostgreSQL sessions wait for one another's locks"
        );
        let pool = match sqlx::PgPool::connect(&self.url).await {
            Ok(p) => p,
            Err(e) => panic!("cannot connect to the test database {}: {e}", self.url),
        };
        let started = std::time::Instant::now();
        loop {
            let waiting: i64 = match sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&pool)
            .await
            {
                Ok(n) => n,
                Err(e) => panic!("cannot read pg_stat_activity on {}: {e}", self.url),
            };
            if waiting > 0 {
                break;
            }
            if started.elapsed() > within {
                panic!(
                    "no session on {} waited for a lock within {within:?}",
                    self.url
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        pool.close().await;
    }

    /// Closes the database and removes it.
    pub async fn finish(mut self) {
        self.store.close().await;
        let cleanup = std::mem::replace(&mut self.cleanup, Cleanup::Done);
        remove(cleanup).await;
    }
}

async fn remove(cleanup: Cleanup) {
    match cleanup {
        Cleanup::File(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        Cleanup::Database { admin_url, name } => {
            if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&admin).await;
                admin.close().await;
            }
        }
        Cleanup::Done => {}
    }
}

impl Drop for TestDb {
    /// A test that panicked before `finish` still leaves nothing behind:
    /// clean up on a thread of its own (Drop cannot await).
    fn drop(&mut self) {
        let cleanup = std::mem::replace(&mut self.cleanup, Cleanup::Done);
        if matches!(cleanup, Cleanup::Done) {
            return;
        }
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(remove(cleanup));
            }
        })
        .join();
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs a test body on both engines (PostgreSQL skipped with a notice when
/// it is absent outside CI), each on a fresh database removed afterwards.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
