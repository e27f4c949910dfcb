//! Webhooks over HTTP: the client deliveries and pings are sent with, and
//! the delivery worker each server runs.
//!
//! What is sent, and what an answer means, is decided in the service
//! (`accord_service::webhooks`); this module only moves bytes. TLS is
//! rustls with the ring provider (installed once per process), so that no C
//! crypto library is built.

use std::sync::Arc;
use std::time::Duration;

use accord_service::Service;
use accord_service::webhooks::{Answer, Outgoing, Transport};

/// The most of a receiver's answer kept (for `accord webhook test` and
/// the error recorded on a failed delivery).
const BODY_LIMIT: usize = 4096;

/// Sends webhook requests with an HTTP client that follows no redirects (a
/// 3xx is the receiver's answer, not a new place to send signed events).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A client with the system's trusted certificates.
    pub fn new() -> Result<HttpTransport, String> {
        // Another part of the process may have installed it first: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {}", chain(&e)))?;
        Ok(HttpTransport { client })
    }
}

/// An error with its causes, on one line ("timed out", "connection
/// refused", a TLS failure): what an admin reads on a failed delivery.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    out
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else {
        // reqwest's own words ("error sending request for url (...)") add
        // nothing the admin does not know; its causes say what happened.
        let mut s = String::new();
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            let t = c.to_string();
            if !s.contains(&t) {
                if !s.is_empty() {
                    s.push_str(": ");
                }
                s.push_str(&t);
            }
            cause = c.source();
        }
        if s.is_empty() { e.to_string() } else { s }
    }
}

#[async_trait::async_trait]
impl Transport for HttpTransport {
    async fn post(&self, req: Outgoing) -> Result<Answer, String> {
        let mut rb = self
            .client
            .post(&req.url)
            .timeout(req.timeout)
            .body(req.body);
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let mut resp = rb.send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // The answer counts from its status; the body is read only as far
        // as it is kept, and a body cut short does not change the answer.
        let mut body = Vec::new();
        while body.len() < BODY_LIMIT {
            match resp.chunk().await {
                Ok(Some(c)) => body.extend_from_slice(&c),
                Ok(None) | Err(_) => break,
            }
        }
        body.truncate(BODY_LIMIT);
        Ok(Answer {
            status,
            retry_after,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// Installs the HTTP client on the service unless it has one.
pub(crate) fn install(service: &Service) {
    if service.transport().is_ok() {
        return;
    }
    match HttpTransport::new() {
        Ok(t) => service.set_transport(Arc::new(t)),
        Err(e) => tracing::error!(error = %e, "webhooks cannot be sent"),
    }
}

/// The delivery worker: delivers what is due, back to back while there is
/// work, else looks again every `poll`. Stops between passes when
/// `shutdown` changes; a pass in flight finishes first (each attempt is
/// bounded by the delivery timeout), and what it had not recorded is left
/// to its lease.
pub(crate) async fn worker(service: Service, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let poll = service.delivery_policy().poll;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let busy = match service.deliver_due().await {
            Ok(run) if run.claimed > 0 => {
                tracing::info!(
                    claimed = run.claimed,
                    delivered = run.delivered,
                    retried = run.retried,
                    dead = run.dead,
                    stale = run.stale,
                    "webhook deliveries"
                );
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot deliver webhooks");
                false
            }
        };
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => break,
            }
        }
    }
}
