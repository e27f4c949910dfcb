//! `accord audit verify`: check the audit log's hash chain.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::db;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify the hash chain of the audit log; report the first broken link.
    /// Exits with 1 when the chain is broken.
    Verify,
}

pub(crate) async fn run(cmd: AuditCommand, url: &str) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Verify => {
            let db = db::open(url).await?;
            let result = accord_store::verify_audit(db.store.as_ref()).await?;
            db.store.close().await;
            Ok(match result {
                Ok(n) => {
                    println!("audit log intact: {n} entries, every link verified");
                    ExitCode::SUCCESS
                }
                Err(brk) => {
                    println!("audit log BROKEN: {brk}");
                    ExitCode::from(1)
                }
            })
        }
    }
}
