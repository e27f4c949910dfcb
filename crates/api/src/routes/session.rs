//! Signing in and out with a password (browsers and scripts), and who am I.

use accord_domain::people::Person;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Via, clear_cookie, session_cookie};
use crate::error::{ApiResult, Problem};
use crate::{ApiState, Body};

pub(crate) fn routes(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    r.routes(routes!(login, logout)).routes(routes!(me))
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Login {
    /// Email address.
    email: String,
    /// Password.
    password: String,
}

/// A signed-in person, with the CSRF token their changes must send.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SignedIn {
    /// Who.
    person: Person,
    /// Send as `X-CSRF-Token` on changes made with the session cookie.
    csrf: Option<String>,
}

/// Sign in: sets the session cookie. Failed attempts are rate-limited per
/// account and per client, and audited.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = Login,
    responses((status = 200, body = SignedIn), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn login(
    State(s): State<ApiState>,
    connect: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    Body(b): Body<Login>,
) -> ApiResult<Response> {
    let client = connect
        .map(|c| c.0.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let who = s.service.login(&b.email, &b.password, &client).await?;
    let (id, csrf) = s.service.start_session(&who).await?;
    let ttl = s.service.settings().session_ttl.num_seconds();
    let cookie = session_cookie(&id, s.secure_cookies, ttl);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(SignedIn {
            person: who.person,
            csrf: Some(csrf),
        }),
    )
        .into_response())
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 401, body = Problem)))]
async fn logout(State(s): State<ApiState>, auth: Auth) -> ApiResult<Response> {
    if let Via::Session { id, .. } = &auth.via {
        s.service.end_session(id).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_cookie(s.secure_cookies))],
    )
        .into_response())
}

/// The signed-in person.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = SignedIn), (status = 401, body = Problem)))]
async fn me(auth: Auth, _headers: HeaderMap) -> Json<SignedIn> {
    let csrf = match auth.via {
        Via::Session { csrf, .. } => Some(csrf),
        Via::Token => None,
    };
    Json(SignedIn {
        person: auth.principal.person,
        csrf,
    })
}
