//! accord's JSON API, under `/api/v1`: axum handlers over the service layer,
//! errors as problem+json, and an OpenAPI 3.1 document generated from the
//! handlers (`/api/v1/openapi.json`, browsable at `/api/v1/docs`).
//!
//! Handlers are thin: extract, call one use case, shape the response. The
//! permission matrix lives in the service (`accord_service::authz`); the
//! table [`ENDPOINTS`] ties every route to the action it performs, so that a
//! test can walk every endpoint with every role.

pub mod auth;
pub mod error;
mod extract;
mod routes;

use accord_service::{Action, Service};
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Auth, Via};
pub use error::{ApiError, ApiResult, Problem};
pub use extract::{At, Body, Params};

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct ApiState {
    /// The use cases.
    pub service: Service,
    /// Mark cookies `Secure` (the server is behind TLS).
    pub secure_cookies: bool,
}

/// The OpenAPI document's frame; paths are added by the handlers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "accord",
        description = "The rules of engagement between product management and sales: engagement requests, customer contacts, access requests, commitments, insights, exceptions, the playbook and the charter.\n\nAuthenticate with `Authorization: Bearer <token>` (`accord token create --user EMAIL`), or with the session cookie set by `POST /api/v1/session` plus an `X-CSRF-Token` header on changes. Errors are `application/problem+json`.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "session", description = "Signing in"),
        (name = "requests", description = "Engagement requests: a rep asks for a PM"),
        (name = "evaluate", description = "Dry runs of the playbook"),
        (name = "meetings", description = "Customer contacts"),
        (name = "access", description = "PM requests for customer time"),
        (name = "commitments", description = "Commitments made to customers"),
        (name = "insights", description = "What PMs learn from customers"),
        (name = "exceptions", description = "Rules set aside for one record"),
        (name = "playbook", description = "The playbook and its versions"),
        (name = "charter", description = "The PM charter"),
        (name = "org", description = "People, teams, accounts, opportunities"),
        (name = "logs", description = "The audit log and the decision log"),
        (name = "tokens", description = "API tokens"),
        (name = "signals", description = "The report, signals, alerts and reviews"),
        (name = "webhooks", description = "Webhook subscriptions and deliveries (admins)"),
    )
)]
pub struct ApiDoc;

/// One route and the action it performs (`None`: any signed-in person, or
/// no sign-in at all for `public`).
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The OpenAPI path (`/api/v1/requests/{id}`).
    pub path: &'static str,
    /// The action the permission matrix checks.
    pub action: Option<Action>,
    /// Whether it needs no sign-in.
    pub public: bool,
}

const fn e(method: &'static str, path: &'static str, action: Action) -> Endpoint {
    Endpoint {
        method,
        path,
        action: Some(action),
        public: false,
    }
}

const fn any(method: &'static str, path: &'static str) -> Endpoint {
    Endpoint {
        method,
        path,
        action: None,
        public: false,
    }
}

const fn public(method: &'static str, path: &'static str) -> Endpoint {
    Endpoint {
        method,
        path,
        action: None,
        public: true,
    }
}

/// Every route of the API.
pub const ENDPOINTS: &[Endpoint] = &[
    public("POST", "/api/v1/session"),
    any("DELETE", "/api/v1/session"),
    any("GET", "/api/v1/me"),
    e("GET", "/api/v1/requests", Action::ReadRequests),
    e("POST", "/api/v1/requests", Action::CreateRequest),
    e("GET", "/api/v1/requests/{id}", Action::ReadRequests),
    any("POST", "/api/v1/requests/{id}/actions"),
    e("POST", "/api/v1/evaluate", Action::Evaluate),
    e("GET", "/api/v1/meetings", Action::ReadMeetings),
    e("POST", "/api/v1/meetings", Action::LogMeeting),
    e("GET", "/api/v1/meetings/{id}", Action::ReadMeetings),
    e("GET", "/api/v1/access", Action::ReadAccess),
    e("POST", "/api/v1/access", Action::CreateAccess),
    e("GET", "/api/v1/access/{id}", Action::ReadAccess),
    e("POST", "/api/v1/access/{id}/answer", Action::AnswerAccess),
    e("GET", "/api/v1/commitments", Action::ReadCommitments),
    e("POST", "/api/v1/commitments", Action::LogCommitment),
    e("GET", "/api/v1/commitments/{id}", Action::ReadCommitments),
    e(
        "POST",
        "/api/v1/commitments/{id}/decision",
        Action::DecideCommitment,
    ),
    e("GET", "/api/v1/insights", Action::ReadInsights),
    e("POST", "/api/v1/insights", Action::CreateInsight),
    e("GET", "/api/v1/exceptions", Action::ReadExceptions),
    e("POST", "/api/v1/exceptions", Action::RequestException),
    e("GET", "/api/v1/exceptions/{id}", Action::ReadExceptions),
    e(
        "POST",
        "/api/v1/exceptions/{id}/decision",
        Action::DecideException,
    ),
    e("GET", "/api/v1/playbook", Action::ReadPlaybook),
    e("POST", "/api/v1/playbook/versions", Action::UploadPlaybook),
    e("GET", "/api/v1/playbook/versions", Action::ReadPlaybook),
    e(
        "GET",
        "/api/v1/playbook/versions/{version}",
        Action::ReadPlaybook,
    ),
    e("GET", "/api/v1/playbook/diff", Action::ReadPlaybook),
    e("GET", "/api/v1/charter", Action::ReadCharter),
    e("GET", "/api/v1/charter/versions", Action::ReadCharter),
    e("POST", "/api/v1/charter/versions", Action::DraftCharter),
    e("GET", "/api/v1/charter/versions/{id}", Action::ReadCharter),
    e(
        "POST",
        "/api/v1/charter/versions/{id}/comments",
        Action::CommentCharter,
    ),
    e(
        "POST",
        "/api/v1/charter/versions/{id}/endorsements",
        Action::EndorseCharter,
    ),
    e(
        "POST",
        "/api/v1/charter/versions/{id}/ratification",
        Action::RatifyCharter,
    ),
    e(
        "POST",
        "/api/v1/charter/versions/{id}/acknowledgments",
        Action::AcknowledgeCharter,
    ),
    e("GET", "/api/v1/people", Action::ReadOrg),
    e("POST", "/api/v1/people", Action::WriteOrg),
    e("GET", "/api/v1/people/{id}", Action::ReadOrg),
    e("GET", "/api/v1/teams", Action::ReadOrg),
    e("POST", "/api/v1/teams", Action::WriteOrg),
    e("GET", "/api/v1/accounts", Action::ReadOrg),
    e("POST", "/api/v1/accounts", Action::WriteOrg),
    e("GET", "/api/v1/accounts/{id}", Action::ReadOrg),
    e("GET", "/api/v1/opportunities", Action::ReadOrg),
    e("POST", "/api/v1/opportunities", Action::WriteOrg),
    e("GET", "/api/v1/opportunities/{id}", Action::ReadOrg),
    e("GET", "/api/v1/audit", Action::ReadLogs),
    e("GET", "/api/v1/decisions", Action::ReadLogs),
    e("GET", "/api/v1/report", Action::ReadReport),
    any("GET", "/api/v1/signals/mine"),
    any("GET", "/api/v1/signals/history"),
    e("GET", "/api/v1/alerts", Action::ReadReport),
    e("GET", "/api/v1/alerts/{id}", Action::ReadReport),
    e("GET", "/api/v1/reviews", Action::ReadReport),
    e("POST", "/api/v1/reviews", Action::ManageReviews),
    e("GET", "/api/v1/reviews/{id}", Action::ReadReport),
    e(
        "POST",
        "/api/v1/reviews/{id}/outcome",
        Action::ManageReviews,
    ),
    e("GET", "/api/v1/webhooks", Action::ManageWebhooks),
    e("POST", "/api/v1/webhooks", Action::ManageWebhooks),
    e("GET", "/api/v1/webhooks/{id}", Action::ManageWebhooks),
    e("DELETE", "/api/v1/webhooks/{id}", Action::ManageWebhooks),
    e("POST", "/api/v1/webhooks/{id}/test", Action::ManageWebhooks),
    e("GET", "/api/v1/deliveries", Action::ManageWebhooks),
    e("GET", "/api/v1/deliveries/{id}", Action::ManageWebhooks),
    e(
        "POST",
        "/api/v1/deliveries/{id}/redeliver",
        Action::ManageWebhooks,
    ),
    any("GET", "/api/v1/tokens"),
    any("POST", "/api/v1/tokens"),
    any("DELETE", "/api/v1/tokens/{id}"),
];

/// The API's routes (full paths under `/api/v1`) and its OpenAPI document.
pub fn router(state: ApiState) -> (Router, utoipa::openapi::OpenApi) {
    let (router, mut doc) = routes::all(OpenApiRouter::with_openapi(ApiDoc::openapi()))
        .with_state(state)
        .split_for_parts();
    describe_responses(&mut doc);
    let doc_json = doc.clone();
    let router = router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc_json.clone();
                async move { axum::Json(doc) }
            }),
        )
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
                .url("/api/v1/docs/openapi.json", doc.clone())
                // The page must need no network: not even swagger.io's
                // online validator badge.
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        // An unknown API path is a problem+json 404 like any other; a route
        // rather than a fallback, so that the web UI keeps its own fallback
        // when the server merges both.
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async {
                ApiError::Service(accord_service::ServiceError::not_found("API route"))
            }),
        );
    (router, doc)
}

/// OpenAPI requires a description on every response; utoipa leaves it out
/// when a handler's `responses(...)` gives none, so the status's name stands
/// in for it.
fn describe_responses(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            for (code, response) in op.responses.responses.iter_mut() {
                if let utoipa::openapi::RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = code
                        .parse::<u16>()
                        .ok()
                        .and_then(|c| axum::http::StatusCode::from_u16(c).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
            }
        }
    }
}
