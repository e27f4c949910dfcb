//! `accord migrate` and `accord audit verify`, on both engines.

use accord_store::{Actor, NewAudit};
use accord_testkit::{TestDb, postgres_url, with_database};

use crate::{accord, stderr, stdout};

/// The version a fresh database reaches: the newest migration's (the
/// engines' migrations are paired, so either folder tells).
fn latest_version() -> u32 {
    std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../store-sqlite/migrations"
    ))
    .unwrap()
    .filter_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        name.split('_').next()?.parse::<u32>().ok()
    })
    .max()
    .unwrap()
}

#[test]
fn migrate_creates_a_sqlite_file_and_is_a_no_op_the_second_time() {
    let path = std::env::temp_dir().join(format!("accord-cli-{}.db", uuid_like()));
    let url = format!("sqlite://{}", path.display());
    let o = accord(&["migrate", "--db", &url]);
    assert!(o.status.success(), "{}", stderr(&o));
    let latest = latest_version();
    assert!(
        stdout(&o).contains("applied migration")
            && stdout(&o).contains(&format!("; schema version {latest}")),
        "{}",
        stdout(&o)
    );
    assert!(path.exists());
    let o = accord(&["migrate", "--db", &url]);
    assert!(
        stdout(&o).contains(&format!("schema version {latest}, up to date")),
        "{}",
        stdout(&o)
    );
    // The environment variable works as well as the flag.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("migrate")
        .env("ACCORD_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("up to date"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn migrate_creates_a_postgres_schema_and_is_a_no_op_the_second_time() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let admin = postgres_url();
    let Ok(pool) = rt.block_on(sqlx::PgPool::connect(&admin)) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "PostgreSQL is required in CI"
        );
        eprintln!("notice: skipping: PostgreSQL not reachable at {admin}");
        return;
    };
    let name = format!("accord_cli_{}", uuid_like());
    rt.block_on(sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool))
        .unwrap();
    let url = with_database(&admin, &name);
    let o = accord(&["migrate", "--db", &url]);
    let second = accord(&["migrate", "--db", &url]);
    rt.block_on(
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&pool),
    )
    .unwrap();
    assert!(
        stdout(&o).contains("applied migration")
            && stdout(&o).contains(&format!("; schema version {}", latest_version())),
        "{} {}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stdout(&second).contains("up to date"),
        "{}",
        stdout(&second)
    );
}

#[test]
fn bad_database_urls_are_one_line_errors() {
    let o = accord(&["migrate", "--db", "mysql://root:pw@127.0.0.1/x"]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown database scheme \"mysql\""), "{err}");
    assert!(!err.contains("pw"), "{err}");
    let o = accord(&["migrate", "--db", "postgres://u:secret@127.0.0.1:1/x"]);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Connection refused") && !err.contains("secret"),
        "{err}"
    );
}

#[test]
fn audit_verify_reports_the_first_broken_link() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for engine in accord_testkit::ENGINES {
        let Some(db) = rt.block_on(TestDb::new(engine)) else {
            continue;
        };
        rt.block_on(async {
            let store = db.store();
            for i in 0..5 {
                let mut tx = store.write().await.unwrap();
                tx.append_audit(&NewAudit {
                    at: chrono::Utc::now(),
                    actor: Actor::process("test"),
                    action: "x.changed".into(),
                    record_kind: "x".into(),
                    record_id: i.to_string(),
                    before: None,
                    after: Some(serde_json::json!({ "i": i })),
                })
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        });
        let o = accord(&["audit", "verify", "--db", db.url()]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert!(stdout(&o).contains("5 entries"), "{}", stdout(&o));

        // Remove entry 3 behind accord's back.
        rt.block_on(async {
            let q = "DELETE FROM audit_log WHERE seq = 3";
            match engine {
                accord_store::EngineKind::Sqlite => {
                    let p = sqlx::SqlitePool::connect(db.url()).await.unwrap();
                    sqlx::query(q).execute(&p).await.unwrap();
                }
                accord_store::EngineKind::Postgres => {
                    let p = sqlx::PgPool::connect(db.url()).await.unwrap();
                    sqlx::query(q).execute(&p).await.unwrap();
                }
            }
        });
        let o = accord(&["audit", "verify", "--db", db.url()]);
        assert_eq!(o.status.code(), Some(1), "{engine}");
        assert!(
            stdout(&o).contains("BROKEN: entry 3 is missing"),
            "{engine}: {}",
            stdout(&o)
        );
        rt.block_on(db.finish());
    }
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
