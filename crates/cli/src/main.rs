//! `accord`: the rules of engagement between product management and sales.
//!
//! The binary is thin: clap parses, each command module validates its
//! arguments and calls into the library crates. Exit codes: 0 success,
//! 1 a failure the user asked about (a failing playbook test), 2 invalid
//! input (a playbook that does not check), 3 anything else.

mod cmd;
mod db;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// accord — make the rules of engagement between product managers and the
/// sales force explicit, checked and measured.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, max_term_width = 100)]
struct Cli {
    /// The database: sqlite://PATH (created if absent) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "ACCORD_DATABASE_URL", default_value = accord_store::DEFAULT_URL, hide_env_values = true)]
    db: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, check and test playbooks.
    #[command(subcommand)]
    Playbook(cmd::playbook::PlaybookCommand),
    /// Create or update the database schema (also done on every start).
    Migrate,
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Playbook(c) => cmd::playbook::run(c),
        Command::Migrate => block_on(cmd::migrate::run(&cli.db)),
        Command::Audit(c) => block_on(cmd::audit::run(c, &cli.db)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}

/// Runs an async command on a multi-threaded runtime.
fn block_on<F: std::future::Future<Output = anyhow::Result<ExitCode>>>(
    f: F,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(f)
}
