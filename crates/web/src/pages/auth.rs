//! Signing in and out, and the start page of each role.

use accord_api::auth::{clear_cookie, session_cookie};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::WebState;
use crate::error::WebError;
use crate::layout::home as start_of;
use crate::session::{Viewer, viewer};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Only paths on this site: never an open redirect.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

/// The start page: the signed-in person's own work, or the sign-in page.
pub(crate) async fn home(
    State(state): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    Ok(match viewer(&state, &headers).await? {
        Some(v) => Redirect::to(start_of(v.role())).into_response(),
        None => Redirect::to("/login").into_response(),
    })
}

fn login_html(page: LoginPage, status: StatusCode) -> Response {
    match page.render() {
        Ok(h) => (status, Html(h)).into_response(),
        Err(e) => {
            WebError::Service(accord_service::ServiceError::Internal(e.to_string())).into_response()
        }
    }
}

pub(crate) async fn login_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = safe_next(q.next.as_deref().unwrap_or("/")).to_owned();
    if viewer(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(login_html(
        LoginPage {
            email: String::new(),
            next,
            error: None,
        },
        StatusCode::OK,
    ))
}

pub(crate) async fn login(
    State(state): State<WebState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(&f.next).to_owned();
    let again = |error: String, status| {
        login_html(
            LoginPage {
                email: f.email.clone(),
                next: next.clone(),
                error: Some(error),
            },
            status,
        )
    };
    let principal = match state
        .service
        .login(&f.email, &f.password, &addr.ip().to_string())
        .await
    {
        Ok(p) => p,
        Err(accord_service::ServiceError::RateLimited(secs)) => {
            return again(
                format!("Too many attempts. Wait {secs} seconds and try again."),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(
            accord_service::ServiceError::Unauthenticated
            | accord_service::ServiceError::Invalid(_),
        ) => {
            return again(
                "That email and password do not match an account.".into(),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return WebError::from(e).into_response(),
    };
    let (id, _csrf) = match state.service.start_session(&principal).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let to = if next == "/" {
        start_of(principal.person.role).to_owned()
    } else {
        next
    };
    let mut r = Redirect::to(&to).into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&id, state.secure_cookies, 12 * 3600)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub(crate) async fn logout(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    state.service.end_session(&v.session).await?;
    let mut r = Redirect::to("/login").into_response();
    if let Ok(c) = HeaderValue::from_str(&clear_cookie(state.secure_cookies)) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/requests/1"), "/requests/1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
    }
}
