//! Who is calling: a bearer API token, or a browser session cookie.
//! Cookie-authenticated changes must carry the session's CSRF token (an
//! `X-CSRF-Token` header from scripts, a `_csrf` form field from the web
//! UI); bearer tokens are not sent by browsers on their own, so they need
//! none.

use accord_service::{Principal, ServiceError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use crate::ApiState;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "accord_session";

/// The CSRF header's name.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The `Set-Cookie` value for a session (HttpOnly, SameSite=Lax, Secure
/// behind TLS).
pub fn session_cookie(id: &str, secure: bool, max_age_secs: i64) -> String {
    format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// How the caller signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A bearer API token.
    Token,
    /// A browser session, with its id and CSRF token.
    Session {
        /// The session id (from the cookie).
        id: String,
        /// Its CSRF token.
        csrf: String,
    },
}

/// The signed-in person, from a bearer token or a session cookie.
#[derive(Clone, Debug)]
pub struct Auth {
    /// Who.
    pub principal: Principal,
    /// How.
    pub via: Via,
}

/// Resolves the caller without enforcing CSRF (the web UI checks its form
/// field itself).
pub async fn authenticate(
    state: &ApiState,
    headers: &HeaderMap,
) -> Result<Option<Auth>, ServiceError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().map_err(|_| ServiceError::Unauthenticated)?;
        let Some(token) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        else {
            return Err(ServiceError::Unauthenticated);
        };
        let principal = state.service.principal_for_token(token.trim()).await?;
        return Ok(Some(Auth {
            principal,
            via: Via::Token,
        }));
    }
    if let Some(id) = cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty())
        && let Some((principal, csrf)) = state.service.session(&id).await?
    {
        return Ok(Some(Auth {
            principal,
            via: Via::Session { id, csrf },
        }));
    }
    Ok(None)
}

/// Whether a method changes things.
fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<ApiState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let auth = authenticate(state, &parts.headers)
            .await?
            .ok_or(ApiError::Service(ServiceError::Unauthenticated))?;
        if let Via::Session { csrf, .. } = &auth.via
            && unsafe_method(&parts.method)
        {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(ApiError::Service(ServiceError::forbidden(
                    "a change made with a session cookie needs the session's X-CSRF-Token header",
                )));
            }
        }
        Ok(auth)
    }
}
