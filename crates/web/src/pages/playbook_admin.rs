//! An admin's playbook versions: who changed what, when and why; the
//! differences between two versions; and a new version uploaded as TOML —
//! pasted or as a file — which takes effect only if it checks and passes
//! its own tests. A refused upload shows where and why, line and column.

use std::collections::HashMap;

use accord_domain::playbook::{Diagnostic, Severity};
use accord_service::{Action, Caller, ServiceError};
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render_status};
use crate::names::Names;
use crate::pages::requests::{Choice, field_errors};
use crate::session::Viewer;

/// A version as a row.
struct VersionRow {
    version: i64,
    author: String,
    created: String,
    reason: String,
    in_force: bool,
}

/// A located problem, as the page shows it.
pub(crate) struct DiagView {
    pub(crate) position: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) severity: &'static str,
    pub(crate) code: String,
    pub(crate) item: String,
    pub(crate) message: String,
    pub(crate) help: String,
    /// The line at fault and a caret under the column.
    pub(crate) excerpt: String,
}

fn diag_view(d: &Diagnostic) -> DiagView {
    let (line, column) = d.location().unwrap_or((0, 0));
    let excerpt = if line > 0 {
        let text = d.source.text().lines().nth(line - 1).unwrap_or("");
        let gutter = format!("{line} | ");
        format!(
            "{gutter}{text}\n{}^ {}",
            " ".repeat(gutter.chars().count() + column.saturating_sub(1)),
            d.label
        )
    } else {
        String::new()
    };
    DiagView {
        position: d.position(),
        line,
        column,
        severity: match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        code: d.code.to_owned(),
        item: d.item.clone().unwrap_or_default(),
        message: d.message.clone(),
        help: d.help.clone().unwrap_or_default(),
        excerpt,
    }
}

/// A line of a diff, with how it changed.
struct DiffLine {
    class: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "admin/playbook.html")]
struct PlaybookPage {
    layout: Layout,
    versions: Vec<VersionRow>,
    from: Vec<Choice>,
    to: Vec<Choice>,
    diff: Option<(String, Vec<DiffLine>)>,
    toml: String,
    reason: String,
    refused: bool,
    diagnostics: Vec<DiagView>,
    failed_tests: Vec<String>,
    errors: HashMap<String, String>,
}

impl PlaybookPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct DiffQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// What an upload left to show again.
#[derive(Default)]
struct Upload {
    toml: Option<String>,
    reason: String,
    diagnostics: Vec<DiagView>,
    failed_tests: Vec<String>,
    refused: bool,
}

async fn page(
    state: &WebState,
    v: &Viewer,
    q: &DiffQuery,
    upload: Upload,
    mut errors: HashMap<String, String>,
) -> Result<PlaybookPage, WebError> {
    v.principal.require(Action::UploadPlaybook)?;
    let names = Names::load(&state.service, &v.principal).await?;
    let infos = state.service.playbook_versions(&v.principal).await?;
    let current = infos
        .iter()
        .find(|i| i.in_force)
        .map(|i| i.version)
        .unwrap_or_default();
    let pick = |s: &str| s.trim().parse::<i64>().ok();
    let (from, to) = (pick(&q.from), pick(&q.to));
    let diff = match (from, to) {
        (Some(a), Some(b)) => match state.service.diff_playbooks(&v.principal, a, b).await {
            Ok(d) => {
                let title = format!(
                    "Version {a} → version {b}: {} line(s) added, {} removed",
                    d.added, d.removed
                );
                let lines = d
                    .diff
                    .lines()
                    .map(|l| DiffLine {
                        class: if l.starts_with("+++") || l.starts_with("---") {
                            "head"
                        } else if l.starts_with('+') {
                            "add"
                        } else if l.starts_with('-') {
                            "del"
                        } else if l.starts_with("@@") {
                            "hunk"
                        } else {
                            ""
                        },
                        text: l.to_owned(),
                    })
                    .collect();
                Some((title, lines))
            }
            Err(ServiceError::NotFound { .. }) => {
                errors.insert(
                    "diff".to_owned(),
                    "Choose two versions that exist.".to_owned(),
                );
                None
            }
            Err(e) => return Err(e.into()),
        },
        (None, None) => None,
        _ => {
            errors.insert(
                "diff".to_owned(),
                "Choose two versions to compare.".to_owned(),
            );
            None
        }
    };
    let toml = match upload.toml {
        Some(t) => t,
        None => state.service.current_playbook(&v.principal).await?.toml,
    };
    let choices = |chosen: Option<i64>, default: i64| -> Vec<Choice> {
        infos
            .iter()
            .map(|i| Choice {
                value: i.version.to_string(),
                label: format!(
                    "Version {}{}",
                    i.version,
                    if i.in_force { " (in force)" } else { "" }
                ),
                selected: chosen.unwrap_or(default) == i.version,
            })
            .collect()
    };
    Ok(PlaybookPage {
        layout: Layout::new(v, "Playbook versions", "/admin/playbook"),
        from: choices(from, (current - 1).max(1)),
        to: choices(to, current),
        versions: infos
            .iter()
            .map(|i| VersionRow {
                version: i.version,
                author: names.name_or(i.author, "accord (the built-in default)"),
                created: fmt::when(i.created_at, v.tz),
                reason: i.reason.clone(),
                in_force: i.in_force,
            })
            .collect(),
        diff,
        toml,
        reason: upload.reason,
        refused: upload.refused,
        diagnostics: upload.diagnostics,
        failed_tests: upload.failed_tests,
        errors,
    })
}

pub(crate) async fn show(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<DiffQuery>,
) -> Result<Response, WebError> {
    let p = page(&state, &v, &q, Upload::default(), HashMap::new()).await?;
    let status = if p.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(&v, status, &p)
}

/// A multipart body that cannot be read: too large, or cut short.
pub(crate) fn upload_error(e: axum::extract::multipart::MultipartError) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::TooLarge
    } else {
        WebError::BadRequest(format!("The upload could not be read ({})", e.body_text()))
    }
}

/// Uploads a new version from the textarea or the file (the file wins
/// when one is chosen).
pub(crate) async fn upload(
    State(state): State<WebState>,
    v: Viewer,
    mut form: Multipart,
) -> Result<Response, WebError> {
    v.principal.require(Action::UploadPlaybook)?;
    let (mut csrf, mut text, mut file, mut reason) =
        (None, String::new(), None::<Vec<u8>>, String::new());
    let bad_form = upload_error;
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        match field.name().unwrap_or_default() {
            "_csrf" => csrf = Some(field.text().await.map_err(bad_form)?),
            "toml" => text = field.text().await.map_err(bad_form)?,
            "reason" => reason = field.text().await.map_err(bad_form)?,
            "file" => {
                let chosen = field.file_name().is_some_and(|n| !n.is_empty());
                let bytes = field.bytes().await.map_err(bad_form)?;
                if chosen && !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    v.check_csrf(csrf.as_deref())?;
    let mut errors = HashMap::new();
    let toml = match file {
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => {
                errors.insert(
                    "file".to_owned(),
                    "The file is not UTF-8 text: save it as UTF-8 TOML and choose it again."
                        .to_owned(),
                );
                text.clone()
            }
        },
        None => text.clone(),
    };
    if toml.trim().is_empty() && errors.is_empty() {
        errors.insert(
            "toml".to_owned(),
            "Paste the playbook's TOML, or choose a file.".to_owned(),
        );
    }
    let mut upload = Upload {
        toml: Some(toml.clone()),
        reason: reason.clone(),
        ..Upload::default()
    };
    if errors.is_empty() {
        match state
            .service
            .upload_playbook(&Caller::Person(v.principal.clone()), &toml, &reason)
            .await
        {
            Ok(pv) => {
                return Ok(done(
                    "/admin/playbook",
                    &format!("Version {} is in force.", pv.version),
                ));
            }
            Err(ServiceError::Invalid(fe)) => errors = field_errors(&fe),
            Err(ServiceError::PlaybookRefused {
                diagnostics,
                failed_tests,
            }) => {
                upload.refused = true;
                upload.diagnostics = diagnostics.iter().map(diag_view).collect();
                upload.failed_tests = failed_tests;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let p = page(&state, &v, &DiffQuery::default(), upload, errors).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &p)
}
