//! `accord demo`: a fresh database with a realistic organisation and six
//! months of history, then the server, with a login for each role.

use std::process::ExitCode;
use std::sync::Arc;

use accord_server::{ServerOptions, router, serve, shutdown_signal, spawn_workers};
use accord_service::{FixedClock, Service, SystemClock};
use anyhow::{Context, Result};
use clap::Args;

use crate::config::Config;
use crate::db;

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The seed: the same seed gives the same organisation and history.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to listen.
    #[arg(long)]
    bind: Option<String>,
    /// Create the database and exit, without serving.
    #[arg(long)]
    no_serve: bool,
    /// The last day of the six months of history (default: today).
    #[arg(long, value_name = "DATE")]
    today: Option<chrono::NaiveDate>,
}

/// The demo's own database, recreated on every run, unless `--db` names
/// another.
const DEMO_DB: &str = "accord-demo.db";

pub(crate) async fn run(args: DemoArgs, cfg: &Config, explicit_db: bool) -> Result<ExitCode> {
    let url = if explicit_db {
        cfg.database_url.clone()
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{DEMO_DB}{suffix}");
            if std::path::Path::new(&path).exists() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove the old {path}"))?;
            }
        }
        format!("sqlite://{DEMO_DB}")
    };
    let db = db::open(&url).await?;
    let today = args
        .today
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let clock = Arc::new(FixedClock::at(chrono::Utc::now()));
    let seeding = Service::open(db.store.clone(), clock.clone(), cfg.settings()).await?;
    let started = std::time::Instant::now();
    eprintln!(
        "creating the demo organisation (seed {}) in {} ...",
        args.seed,
        accord_store::redact(&url)
    );
    let summary = seeding.seed_demo(&clock, args.seed, today).await?;
    eprintln!(
        "done in {:.1} s: {} people in {} teams, {} accounts, {} opportunities, {} meetings, {} requests, {} access requests, {} commitments, {} insights, {} exceptions; {} days of signals, {} open alerts",
        started.elapsed().as_secs_f64(),
        summary.people,
        summary.teams,
        summary.accounts,
        summary.opportunities,
        summary.meetings,
        summary.requests,
        summary.access_requests,
        summary.commitments,
        summary.insights,
        summary.exceptions,
        summary.signal_days,
        summary.open_alerts
    );
    let bind = args.bind.clone().unwrap_or_else(|| cfg.bind.clone());
    let base = cfg
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{bind}"));
    println!("\nSign in at {base}/ as any of these (one per role):\n");
    for l in &summary.logins {
        println!(
            "  {:<15} {:<34} password {:<28} {}",
            l.role.as_str(),
            l.email,
            l.password,
            l.name
        );
        println!("  {:<15} {}", "", l.try_this);
    }
    println!("\nThe report: accord report --db {url}");
    if args.no_serve {
        db.store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    // Serve on the wall clock.
    let service = Service::open(db.store, Arc::new(SystemClock), cfg.settings()).await?;
    let opts = ServerOptions {
        secure_cookies: cfg.secure_cookies,
        ..ServerOptions::default()
    };
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    println!("\naccord is serving the demo on http://{addr} — Ctrl-C to stop.");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = spawn_workers(service.clone(), &opts, stop_rx);
    serve(listener, router(service.clone(), &opts), shutdown_signal()).await?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    service.store().close().await;
    Ok(ExitCode::SUCCESS)
}
