//! `accord migrate`: bring the database's schema up to date.

use std::process::ExitCode;

use anyhow::Result;

use crate::db;

pub(crate) async fn run(url: &str) -> Result<ExitCode> {
    let db = db::open(url).await?;
    let where_ = accord_store::redact(url);
    if db.applied.is_empty() {
        println!("{where_}: schema version {}, up to date", db.version);
    } else {
        let list: Vec<String> = db.applied.iter().map(ToString::to_string).collect();
        println!(
            "{where_}: applied migration{} {}; schema version {}",
            if db.applied.len() == 1 { "" } else { "s" },
            list.join(", "),
            db.version
        );
    }
    db.store.close().await;
    Ok(ExitCode::SUCCESS)
}
