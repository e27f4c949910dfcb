//! Who is looking: the signed-in person from the session cookie, their
//! time zone and one-time message; and the CSRF guard every form post
//! passes.
//!
//! Forms carry the session's CSRF token in a hidden `_csrf` field. The
//! guard checks it for URL-encoded posts before any handler runs;
//! multipart posts (file uploads) are checked by their handler, which
//! reads the parts anyway ([`Viewer::check_csrf`]). Posts from another
//! origin are refused outright.

use accord_api::auth::{SESSION_COOKIE, cookie};
use accord_service::Principal;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;

use crate::WebState;
use crate::error::WebError;

/// The cookie with a message for the next page ("Request sent.").
pub const FLASH_COOKIE: &str = "accord_flash";

/// The cookie with the browser's IANA time zone, set by `app.js`.
pub const TZ_COOKIE: &str = "accord_tz";

/// The largest form the guard reads (uploads are multipart, not read here).
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// The signed-in person looking at a page.
#[derive(Clone, Debug)]
pub(crate) struct Viewer {
    /// Who.
    pub(crate) principal: Principal,
    /// Their session's CSRF token, for the forms on the page.
    pub(crate) csrf: String,
    /// Their session id.
    pub(crate) session: String,
    /// Their time zone (UTC until the browser says).
    pub(crate) tz: Tz,
    /// A message left by the previous step, shown once.
    pub(crate) flash: Option<String>,
}

impl Viewer {
    /// Refuses a multipart form whose `_csrf` part is not the session's.
    pub(crate) fn check_csrf(&self, sent: Option<&str>) -> Result<(), WebError> {
        if sent == Some(self.csrf.as_str()) {
            Ok(())
        } else {
            Err(WebError::Expired)
        }
    }

    /// The person's role.
    pub(crate) fn role(&self) -> accord_domain::people::Role {
        self.principal.person.role
    }
}

/// The viewer, if the request carries a live session.
pub(crate) async fn viewer(
    state: &WebState,
    headers: &HeaderMap,
) -> Result<Option<Viewer>, WebError> {
    let Some(id) = cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let Some((principal, csrf)) = state.service.session(&id).await? else {
        return Ok(None);
    };
    let tz = cookie(headers, TZ_COOKIE)
        .and_then(|v| decode(&v).parse::<Tz>().ok())
        .unwrap_or(Tz::UTC);
    let flash = cookie(headers, FLASH_COOKIE)
        .map(|v| decode(&v))
        .filter(|v| !v.is_empty());
    Ok(Some(Viewer {
        principal,
        csrf,
        session: id,
        tz,
        flash,
    }))
}

/// A cookie value, URL-decoded.
fn decode(v: &str) -> String {
    form_urlencoded::parse(format!("v={v}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl FromRequestParts<WebState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        match viewer(state, &parts.headers).await? {
            Some(v) => Ok(v),
            None => Err(WebError::SignIn {
                next: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into()),
            }),
        }
    }
}

/// Whether the request's `Origin` (when sent) is this server.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

/// Checks every form post: same origin, and (URL-encoded forms) the
/// session's CSRF token in `_csrf`.
pub(crate) async fn csrf_guard(
    State(state): State<WebState>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    if !same_origin(req.headers()) {
        return WebError::Forbidden("This form was sent from another site.".into()).into_response();
    }
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    // Signing in has no session yet; uploads are checked by their handler.
    if req.uri().path() == "/login" || multipart {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
        Ok(b) => b,
        Err(_) => return WebError::TooLarge.into_response(),
    };
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.into_owned());
    let v = match viewer(&state, &parts.headers).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return WebError::SignIn { next: "/".into() }.into_response();
        }
        Err(e) => return e.into_response(),
    };
    if let Err(e) = v.check_csrf(sent.as_deref()) {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
