//! The `accord` binary's integration tests: one binary, one module per
//! command.

// Test and bench code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod database;
mod import;
mod playbook;
mod report;
mod serve;
mod webhooks;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `accord` with `args`.
pub fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("accord runs")
}

/// A file under the test scratch directory, written with `text`.
pub fn scratch(name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-it");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `body` with the URL of a fresh database on each engine
/// (PostgreSQL skipped with a notice when absent outside CI).
pub fn on_both_engines(body: impl Fn(&str)) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for engine in accord_testkit::ENGINES {
        let Some(db) = rt.block_on(accord_testkit::TestDb::new(engine)) else {
            continue;
        };
        body(db.url());
        rt.block_on(db.finish());
    }
}
