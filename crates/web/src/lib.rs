//! accord's web UI: server-rendered pages for every person in the
//! relationship — reps, PMs, their leaders, admins — over the same service
//! layer as the API. Plain HTML forms do everything; the little JavaScript
//! there is only sets the time-zone cookie and confirms destructive
//! buttons.
//!
//! Each page is an askama template with one typed struct (`pages::*`);
//! handlers turn requests into service calls and service results into those
//! structs, and nothing else: the rules live in the service and the domain.

mod charts;
mod error;
mod fmt;
mod layout;
mod names;
mod pages;
mod session;

use accord_service::Service;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

pub use error::WebError;
pub use session::{FLASH_COOKIE, TZ_COOKIE};

/// What every page handler needs.
#[derive(Clone, Debug)]
pub struct WebState {
    /// The use cases.
    pub service: Service,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
}

/// The web UI's routes (everything outside `/api`), with its CSRF guard
/// and a 404 page for the rest.
pub fn router(state: WebState) -> Router {
    pages::routes()
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::csrf_guard,
        ))
        .with_state(state)
}

async fn css() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../static/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../static/app.js"),
    )
}
