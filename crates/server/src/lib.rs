//! accord's HTTP server: one router for the JSON API and the web UI, the
//! middleware around it (request ids, tracing, timeouts, body limits, panics
//! turned into 500s), health checks, background workers, and `serve` with a
//! graceful shutdown.
//!
//! [`router`] is apart from [`serve`] so that most tests drive the router
//! with `oneshot` and a few spawn the real server on port 0.

mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use accord_api::ApiState;
use accord_service::Service;
use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use webhooks::HttpTransport;

/// How the server behaves.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Largest request body, in bytes (playbooks and imports are the big ones).
    pub body_limit: usize,
    /// How often to pick up a playbook stored by another server.
    pub playbook_refresh: Duration,
    /// Run the webhook delivery worker (several servers may; each claims
    /// different deliveries).
    pub deliver_webhooks: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            request_timeout: Duration::from_secs(30),
            body_limit: 16 * 1024 * 1024,
            playbook_refresh: Duration::from_secs(5),
            deliver_webhooks: true,
        }
    }
}

/// What the router's own handlers need.
#[derive(Clone, Debug)]
struct AppState {
    service: Service,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API, health checks, middleware.
pub fn router(service: Service, opts: &ServerOptions) -> Router {
    // `POST /api/v1/webhooks/{id}/test` sends a ping from this server.
    webhooks::install(&service);
    let (api, _doc) = accord_api::router(ApiState {
        service: service.clone(),
        secure_cookies: opts.secure_cookies,
    });
    let web = accord_web::router(accord_web::WebState {
        service: service.clone(),
        secure_cookies: opts.secure_cookies,
    });
    let health = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState { service });
    health
        .merge(api)
        .merge(web)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(RequestBodyLimitLayer::new(opts.body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, opts.request_timeout))
        .layer(CatchPanicLayer::new())
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The database answers.
async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    match s.service.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(
                serde_json::json!({ "status": "ready", "playbook_version": s.service.playbook().version }),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "database unavailable" })),
            )
        }
    }
}

/// Runs the background work of one server until `shutdown` resolves:
/// picking up playbook versions stored by other servers, the daily signal
/// run, delivering webhooks, removing expired sessions.
pub fn spawn_workers(
    service: Service,
    opts: &ServerOptions,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut handles = Vec::new();
    let every = opts.playbook_refresh;
    let mut stop = shutdown.clone();
    let svc = service.clone();
    handles.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match svc.refresh_playbook().await {
                        Ok(true) => tracing::info!(version = svc.playbook().version, "playbook changed on another server"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(error = %e, "cannot refresh the playbook"),
                    }
                }
                _ = stop.changed() => break,
            }
        }
    }));
    // The daily signal run (for yesterday, once it is whole), checked
    // hourly so a server started mid-day or down at midnight catches up.
    let mut stop = shutdown.clone();
    let svc = service.clone();
    handles.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match svc.run_signals_if_due().await {
                        Ok(Some(run)) => tracing::info!(as_of = ?run.as_of, values = run.values, opened = run.opened.len(), closed = run.closed.len(), "signals computed"),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "cannot compute the signals"),
                    }
                }
                _ = stop.changed() => break,
            }
        }
    }));
    if opts.deliver_webhooks {
        webhooks::install(&service);
        handles.push(tokio::spawn(webhooks::worker(
            service.clone(),
            shutdown.clone(),
        )));
    }
    let mut stop = shutdown;
    handles.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Ok(mut tx) = service.store().write().await {
                        let removed = tx.delete_expired_sessions(service.now()).await;
                        if tx.commit().await.is_ok() && matches!(removed, Ok(n) if n > 0) {
                            tracing::debug!("expired sessions removed");
                        }
                    }
                }
                _ = stop.changed() => break,
            }
        }
    }));
    handles
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes
/// the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are registered when this
/// is called, not when the future is first polled: a SIGTERM that arrives
/// right after the server says it is serving still stops it gracefully
/// (instead of the default action, which kills the process).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {}
                _ = wait(int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
