//! `accord`: the rules of engagement between product management and sales.
//!
//! The binary is thin: clap parses, each command module validates its
//! arguments and calls into the library crates. Exit codes: 0 success,
//! 1 a failure the user asked about (a failing playbook test), 2 invalid
//! input (a playbook that does not check), 3 anything else.

mod cmd;
mod config;
mod db;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc for Rust's allocations: the server's tasks and the importer's
/// threads allocate and free many small blocks at once, and glibc's
/// allocator took some 15 % of a list read's CPU time (perf). With mimalloc
/// `bench/load.sh`'s reads went from 4,900-5,500 to 5,900-6,300 requests/s
/// on the same database (2 cores).
///
/// The `override` feature gives mimalloc C's `malloc` and `free` too, the
/// ones SQLite calls (for every row it hands over and every statement it
/// runs): glibc's `malloc_consolidate`, `_int_malloc` and `_int_free` were
/// still ~15 % of a list read. Reads went from 10,700-14,900 to
/// 16,200-16,700 requests/s (A/B on one database); an import's peak memory
/// rises by a constant ~40 MB (1M events: 216 MB against 178 MB).
///
/// `no_thp`: mimalloc asks the kernel for transparent huge pages on its
/// arenas, and each page it frees and takes again is then 2 MiB zeroed by
/// the kernel (`clear_page_erms`, 4 % of an import's CPU time). Without
/// them, an import of 1,000,000 events took 13.3 s against 14.0 s (median
/// of 4) and 350 MB at its peak against 405 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// accord — make the rules of engagement between product managers and the
/// sales force explicit, checked and measured.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, max_term_width = 100)]
struct Cli {
    /// The database: sqlite://PATH (created if absent) or postgres://USER@HOST/DB.
    /// Default: ACCORD_DATABASE_URL, else database_url in accord.toml, else
    /// sqlite://accord.db.
    #[arg(long, global = true)]
    db: Option<String>,

    /// The configuration file (default: ./accord.toml when it exists).
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,

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
    /// Serve the web UI and the JSON API.
    Serve {
        /// Where to listen (default: bind in the configuration, 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(cmd::user::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(cmd::user::TokenCommand),
    /// Manage webhook subscriptions and their deliveries.
    #[command(subcommand)]
    Webhook(cmd::webhook::WebhookCommand),
    /// Import CRM and calendar exports.
    #[command(subcommand)]
    Import(cmd::import::ImportCommand),
    /// The signals, open alerts and violations.
    Report(cmd::report::ReportArgs),
    /// Create a demo organisation with six months of history, and serve it.
    Demo(cmd::demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let bind = match &cli.command {
        Command::Serve { bind } => bind.clone(),
        _ => None,
    };
    let explicit_db = cli.db.is_some();
    let cfg = || {
        config::Config::load(
            cli.config.as_deref(),
            config::Overrides {
                database_url: cli.db.clone(),
                bind: bind.clone(),
            },
        )
    };
    let result = match cli.command {
        Command::Playbook(c) => cmd::playbook::run(c),
        command => cfg().and_then(|cfg| {
            init_logging(
                &cfg,
                matches!(command, Command::Serve { .. } | Command::Demo(_)),
            );
            match command {
                Command::Migrate => block_on(cmd::migrate::run(&cfg.database_url)),
                Command::Audit(c) => block_on(cmd::audit::run(c, &cfg.database_url)),
                Command::Serve { .. } => block_on(cmd::serve::run(&cfg)),
                Command::User(c) => block_on(cmd::user::user(c, &cfg)),
                Command::Token(c) => block_on(cmd::user::token(c, &cfg)),
                Command::Webhook(c) => block_on(cmd::webhook::run(c, &cfg)),
                Command::Report(a) => block_on(cmd::report::run(a, &cfg)),
                Command::Demo(a) => block_on(cmd::demo::run(a, &cfg, explicit_db)),
                Command::Import(c) => block_on(cmd::import::run(c, &cfg)),
                Command::Playbook(_) => Ok(ExitCode::SUCCESS),
            }
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}

/// The log filter when `RUST_LOG` is not set: the configured one for the
/// server, warnings only for one-shot commands (whose output is their
/// result). Their slow statements are not among those warnings: sqlx warns
/// of any statement over a second, and the commit of a large import takes
/// longer by nature (a server's slow statements are still reported).
fn default_log_filter(cfg: &config::Config, server: bool) -> &str {
    if server {
        cfg.log.as_str()
    } else {
        "warn,sqlx::query=error"
    }
}

/// Structured logs on stderr (see `default_log_filter`). `RUST_LOG` wins.
fn init_logging(cfg: &config::Config, server: bool) {
    let default = default_log_filter(cfg, server);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(default))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a filter lets a warning from `target` through.
    fn warns(filter: &str, target: &str) -> bool {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(subscriber, || match target {
            "sqlx::query" => tracing::enabled!(target: "sqlx::query", tracing::Level::WARN),
            _ => tracing::enabled!(target: "accord_service", tracing::Level::WARN),
        })
    }

    #[test]
    fn one_shot_commands_keep_warnings_but_not_slow_statements() {
        let cfg = config::Config::load(None, config::Overrides::default()).unwrap();
        let command = default_log_filter(&cfg, false);
        assert!(warns(command, "accord_service"));
        assert!(!warns(command, "sqlx::query"));
        // The server reports its slow statements.
        assert!(warns(default_log_filter(&cfg, true), "sqlx::query"));
    }
}
