//! `accord playbook default|check|test|show`.

use std::path::PathBuf;
use std::process::ExitCode;

use accord_domain::playbook::{DEFAULT_TOML, Playbook, PlaybookError, show, testing};
use anyhow::Context;
use clap::{Args, Subcommand};

use crate::render;

#[derive(Debug, Subcommand)]
pub(crate) enum PlaybookCommand {
    /// Print the default playbook (the essay's rules), to start your own from.
    Default,
    /// Check a playbook: syntax, ids, references, thresholds, conditions.
    /// Exits with 2 when it is invalid.
    Check(FileArg),
    /// Run a playbook's [[tests]]: one line per test, then a summary.
    /// Exits with 1 when a test fails, 2 when the playbook is invalid.
    Test(FileArg),
    /// Show a playbook as people read it: the charter, the sales process
    /// model as a stage × engagement-type matrix, the rules in plain English.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FileArg {
    /// The playbook file (TOML). Without it, the default playbook.
    file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    file: FileArg,
    /// Only this part.
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// List the fields rule conditions and messages can use, per record kind.
    #[arg(long, conflicts_with = "only")]
    fields: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Part {
    Charter,
    Model,
    Rules,
    Signals,
}

/// Loads the playbook named (or the default); prints diagnostics and
/// returns the exit code when it is invalid.
fn load(file: &FileArg) -> anyhow::Result<Result<Playbook, ExitCode>> {
    let (name, text) = match &file.file {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let text = match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    eprintln!(
                        "{}: error: the file is not UTF-8 text (invalid byte at offset {at})",
                        path.display()
                    );
                    return Ok(Err(ExitCode::from(2)));
                }
            };
            (path.display().to_string(), text)
        }
        None => ("default.toml".to_owned(), DEFAULT_TOML.to_owned()),
    };
    match Playbook::parse(&name, &text) {
        Ok(p) => {
            for w in &p.warnings {
                eprint!("{}", render::diagnostic(w));
            }
            Ok(Ok(p))
        }
        Err(e) => {
            report(&name, &e);
            Ok(Err(ExitCode::from(2)))
        }
    }
}

fn report(name: &str, e: &PlaybookError) {
    for d in &e.diagnostics {
        eprint!("{}", render::diagnostic(d));
    }
    let n = e.errors().count();
    eprintln!(
        "{name}: invalid playbook: {n} error{}",
        if n == 1 { "" } else { "s" }
    );
}

pub(crate) fn run(cmd: PlaybookCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PlaybookCommand::Default => {
            print!("{DEFAULT_TOML}");
            Ok(ExitCode::SUCCESS)
        }
        PlaybookCommand::Check(f) => Ok(match load(&f)? {
            Ok(p) => {
                println!("{}: ok — {p}", p.source().name());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        }),
        PlaybookCommand::Test(f) => Ok(match load(&f)? {
            Ok(p) => {
                let outcomes = testing::run(&p);
                for o in &outcomes {
                    println!("{o}");
                }
                println!("{}", testing::summary(&outcomes));
                if outcomes.iter().all(|o| o.passed()) {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(code) => code,
        }),
        PlaybookCommand::Show(s) => {
            if s.fields {
                print!("{}", show::fields());
                return Ok(ExitCode::SUCCESS);
            }
            Ok(match load(&s.file)? {
                Ok(p) => {
                    let text = match s.only {
                        None => show::all(&p),
                        Some(Part::Charter) => show::charter(&p),
                        Some(Part::Model) => show::model(&p),
                        Some(Part::Rules) => show::rules(&p),
                        Some(Part::Signals) => show::signals(&p),
                    };
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(code) => code,
            })
        }
    }
}
