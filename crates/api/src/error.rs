//! Errors as `application/problem+json` (RFC 9457), mapped once from the
//! service's error. A 500 says nothing to the client and everything to the
//! log.

use accord_service::{FieldError, ServiceError};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem, as the API reports it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem (`/problems/invalid`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for this request.
    pub detail: String,
    /// Fields at fault, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Rules that refused the record, for playbook refusals.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub decision: Option<accord_domain::rules::Decision>,
    /// Located diagnostics, for a refused playbook upload.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<DiagnosticDto>,
    /// Failing playbook tests, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_tests: Vec<String>,
}

/// A located playbook diagnostic.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosticDto {
    /// `error` or `warning`.
    pub severity: String,
    /// A stable code (`playbook::condition`).
    pub code: String,
    /// The item at fault (`rule owner-present`).
    pub item: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// `file:line:col: severity[code]: item: message`.
    pub text: String,
}

impl From<&accord_domain::playbook::Diagnostic> for DiagnosticDto {
    fn from(d: &accord_domain::playbook::Diagnostic) -> Self {
        let loc = d.location();
        DiagnosticDto {
            severity: match d.severity {
                accord_domain::playbook::Severity::Error => "error".into(),
                accord_domain::playbook::Severity::Warning => "warning".into(),
            },
            code: d.code.to_owned(),
            item: d.item.clone(),
            message: d.message.clone(),
            help: d.help.clone(),
            line: loc.map(|l| l.0),
            column: loc.map(|l| l.1),
            text: d.one_line(),
        }
    }
}

/// Every error an API handler returns.
#[derive(Debug)]
pub enum ApiError {
    /// A use case refused.
    Service(ServiceError),
    /// The request itself is malformed (bad JSON, bad query string).
    Malformed(String),
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError::Service(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::Malformed(e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::Malformed(e.body_text())
    }
}

fn problem(status: StatusCode, kind: &str, title: &str, detail: String) -> Problem {
    Problem {
        kind: format!("/problems/{kind}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        decision: None,
        diagnostics: Vec::new(),
        failed_tests: Vec::new(),
    }
}

impl ApiError {
    /// The problem document and its status.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Malformed(m) => problem(
                StatusCode::BAD_REQUEST,
                "malformed",
                "Malformed request",
                m.clone(),
            ),
            ApiError::Service(e) => match e {
                ServiceError::Unauthenticated => problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Sign in first",
                    "send a bearer token or sign in".into(),
                ),
                ServiceError::Forbidden(m) => {
                    problem(StatusCode::FORBIDDEN, "forbidden", "Not allowed", m.clone())
                }
                ServiceError::NotFound { what } => problem(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    format!("{what} not found"),
                ),
                ServiceError::Invalid(fields) => Problem {
                    errors: fields.clone(),
                    ..problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid",
                        "Invalid input",
                        e.to_string(),
                    )
                },
                ServiceError::Conflict(m) => {
                    problem(StatusCode::CONFLICT, "conflict", "Conflict", m.clone())
                }
                ServiceError::Denied(d) => Problem {
                    decision: Some((**d).clone()),
                    ..problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "denied",
                        "Refused by the playbook",
                        e.to_string(),
                    )
                },
                ServiceError::PlaybookRefused {
                    diagnostics,
                    failed_tests,
                } => Problem {
                    diagnostics: diagnostics.iter().map(DiagnosticDto::from).collect(),
                    failed_tests: failed_tests.clone(),
                    ..problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "playbook-refused",
                        "The playbook was refused",
                        e.to_string(),
                    )
                },
                ServiceError::RateLimited(s) => problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many attempts",
                    format!("try again in {s} s"),
                ),
                ServiceError::Unavailable(_) => problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Unavailable",
                    "the database cannot be reached; try again shortly".into(),
                ),
                ServiceError::Internal(_) => problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "something went wrong on our side; it has been logged".into(),
                ),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let p = self.problem();
        match &self {
            ApiError::Service(ServiceError::Internal(m)) => {
                tracing::error!(error = %m, "internal error")
            }
            ApiError::Service(ServiceError::Unavailable(m)) => {
                tracing::warn!(error = %m, "database unavailable")
            }
            _ => {}
        }
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&p).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::Service(ServiceError::RateLimited(s)) = &self
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
