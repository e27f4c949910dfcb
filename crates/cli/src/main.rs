//! `accord`: the rules of engagement between product management and sales.
//!
//! The binary is thin: clap parses, each command module validates its
//! arguments and calls into the library crates. Exit codes: 0 success,
//! 1 a failure the user asked about (a failing playbook test), 2 invalid
//! input (a playbook that does not check), 3 anything else.

mod cmd;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// accord — make the rules of engagement between product managers and the
/// sales force explicit, checked and measured.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, check and test playbooks.
    #[command(subcommand)]
    Playbook(cmd::playbook::PlaybookCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Playbook(c) => cmd::playbook::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}
