//! `accord serve`: the web UI and the JSON API.

use std::process::ExitCode;
use std::sync::Arc;

use accord_server::{ServerOptions, router, serve, shutdown_signal, spawn_workers};
use accord_service::{Service, SystemClock};
use anyhow::{Context, Result};

use crate::config::Config;
use crate::db;

pub(crate) async fn run(cfg: &Config) -> Result<ExitCode> {
    let db = db::open(&cfg.database_url).await?;
    if !db.applied.is_empty() {
        tracing::info!(applied = ?db.applied, version = db.version, "database migrated");
    }
    let service = Service::open(db.store, Arc::new(SystemClock), cfg.settings()).await?;
    let opts = ServerOptions {
        secure_cookies: cfg.secure_cookies,
        request_timeout: std::time::Duration::from_secs(cfg.request_timeout_secs.max(1)),
        deliver_webhooks: cfg.webhook_delivery,
        ..ServerOptions::default()
    };
    let listener = tokio::net::TcpListener::bind(&cfg.bind)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.bind))?;
    let addr = listener.local_addr()?;
    // Before saying it serves: from then on, SIGTERM means a graceful stop.
    let signalled = shutdown_signal();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = spawn_workers(service.clone(), &opts, stop_rx);
    tracing::info!(%addr, db = %accord_store::redact(&cfg.database_url), playbook = service.playbook().version, "accord is serving");
    println!(
        "accord is serving on http://{addr} (database {})",
        accord_store::redact(&cfg.database_url)
    );
    let app = router(service.clone(), &opts);
    serve(listener, app, async move {
        signalled.await;
        tracing::info!("shutting down: finishing requests in flight");
    })
    .await?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    service.store().close().await;
    Ok(ExitCode::SUCCESS)
}
