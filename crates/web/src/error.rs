//! What the web UI shows when a page cannot be: a sign-in redirect, a
//! clear page for 403 and 404, a page that says a form expired, and a 500
//! that says what to do (the details go to the log). Validation errors are
//! not here: forms show those next to their fields.

use accord_service::ServiceError;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// A page that cannot be shown.
#[derive(Debug)]
pub enum WebError {
    /// Nobody is signed in: to the sign-in page, then back to `next`.
    SignIn {
        /// Where to return.
        next: String,
    },
    /// The signed-in person may not see or do this.
    Forbidden(String),
    /// No such page or record.
    NotFound(String),
    /// The form's CSRF token is not the session's (an old tab).
    Expired,
    /// The form is larger than allowed.
    TooLarge,
    /// The form could not be read (an upload cut short, a broken body).
    BadRequest(String),
    /// A use case failed in a way the page does not handle itself.
    Service(ServiceError),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Unauthenticated => WebError::SignIn { next: "/".into() },
            ServiceError::Forbidden(m) => WebError::Forbidden(m),
            ServiceError::NotFound { what } => WebError::NotFound(what),
            other => WebError::Service(other),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
}

fn page(status: StatusCode, title: &str, message: String) -> Response {
    let p = ErrorPage {
        status: status.as_u16(),
        title: title.to_owned(),
        message,
    };
    match p.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the error page");
            (status, title.to_owned()).into_response()
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn { next } => {
                let to = format!(
                    "/login?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Redirect::to(&to).into_response()
            }
            WebError::Forbidden(m) => page(
                StatusCode::FORBIDDEN,
                "Not for your role",
                format!("{m}. If you think you should be able to, ask an admin."),
            ),
            WebError::NotFound(what) => page(
                StatusCode::NOT_FOUND,
                "Not found",
                format!("There is no {what} here: it may have been removed, or the link is mistyped."),
            ),
            WebError::Expired => page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The page was open from an earlier session. Go back, reload it and send the form again.".into(),
            ),
            WebError::TooLarge => page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The form is larger than the server accepts.".into(),
            ),
            WebError::BadRequest(m) => page(
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                format!("{m}. Go back and send it again."),
            ),
            WebError::Service(ServiceError::Unavailable(e)) => {
                tracing::error!(error = %e, "database unavailable");
                let mut r = page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is not answering",
                    "accord cannot reach its database just now. Try again in a minute.".into(),
                );
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                r
            }
            WebError::Service(ServiceError::RateLimited(secs)) => page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!("Wait {secs} seconds and try again."),
            ),
            WebError::Service(ServiceError::Conflict(m)) => page(
                StatusCode::CONFLICT,
                "Someone got there first",
                format!("{m}. Go back and reload the page to see where things stand."),
            ),
            WebError::Service(e) => {
                tracing::error!(error = ?e, "page failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error is in the server's log. Go back and try again; if it keeps happening, tell an admin.".into(),
                )
            }
        }
    }
}

/// The 404 page for any other path.
pub(crate) async fn not_found() -> Response {
    WebError::NotFound("page".into()).into_response()
}
