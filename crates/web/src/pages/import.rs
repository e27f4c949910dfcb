//! An admin's imports: CRM exports (CSV: people and teams, accounts,
//! opportunities) and calendar exports (`.ics`: customer contacts, checked
//! against the playbook), uploaded from a form, imported by the same use
//! cases as `accord import`, and summed up file by file.
//!
//! Uploads are written to a folder of their own under the system's
//! temporary directory, under their own (cleaned) names — the CRM reader
//! tells a people file from an accounts file by its name — and the folder
//! is removed when the import is done.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};

use accord_service::import::{CrmFormat, FileReport, ImportReport, Mapping, Progress, Window};
use accord_service::{Action, Caller, ServiceError};
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use tokio::io::AsyncWriteExt;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, render_status};
use crate::pages::playbook_admin::upload_error;
use crate::pages::requests::Choice;
use crate::session::Viewer;

/// One file's summary, for the page.
struct FileView {
    name: String,
    kind: String,
    status: String,
    status_key: &'static str,
    counts: Vec<String>,
    problem: String,
    unresolved: Vec<String>,
    calendar: String,
    skipped: Vec<String>,
}

/// The name a person recognises: the file's own, not the temporary path.
fn base_name(p: &FsPath) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_view(f: &FileReport) -> FileView {
    let counts = f
        .records
        .iter()
        .map(|(kind, c)| {
            let mut parts = vec![
                format!("{} new", c.inserted),
                format!("{} changed", c.updated),
                format!("{} unchanged", c.unchanged),
            ];
            if c.stale > 0 {
                parts.push(format!("{} older than stored", c.stale));
            }
            if c.left_out > 0 {
                parts.push(format!("{} left out", c.left_out));
            }
            if c.removed > 0 {
                parts.push(format!(
                    "{} removed (no longer a customer contact)",
                    c.removed
                ));
            }
            format!("{}: {}", fmt::words(kind), parts.join(", "))
        })
        .collect();
    let problem = match (&f.error, &f.reason) {
        (Some(e), _) => {
            let at = match (e.line, e.column) {
                (Some(l), Some(c)) => format!("line {l}, column {c}: "),
                (Some(l), None) => format!("line {l}: "),
                _ => String::new(),
            };
            let what = match (&e.field, &e.value) {
                (Some(field), Some(value)) => format!(" ({field}: “{value}”)"),
                (Some(field), None) => format!(" ({field})"),
                _ => String::new(),
            };
            format!("{}: {at}{}{what}", base_name(&e.path), e.message)
        }
        (None, Some(reason)) => reason.clone(),
        _ => String::new(),
    };
    let unresolved = f
        .unresolved
        .iter()
        .map(|u| {
            let examples = u
                .examples
                .iter()
                .map(|e| format!("line {}: “{}” — {}", e.line, e.value, e.reason))
                .collect::<Vec<_>>()
                .join("; ");
            format!(
                "{} unknown {} ({}): {examples}",
                u.count,
                u.what,
                if u.left_out {
                    "rows left out"
                } else {
                    "kept without it"
                }
            )
        })
        .collect();
    let (calendar, skipped) = match &f.calendar {
        Some(c) => (
            match c.kept_note() {
                Some(kept) => format!("{c}; {kept}"),
                None => c.to_string(),
            },
            c.skipped
                .iter()
                .map(|s| {
                    if s.examples.is_empty() {
                        format!("{} × {}", s.count, s.reason)
                    } else {
                        format!(
                            "{} × {} (e.g. {})",
                            s.count,
                            s.reason,
                            s.examples.join(", ")
                        )
                    }
                })
                .collect(),
        ),
        None => (String::new(), Vec::new()),
    };
    FileView {
        name: base_name(&f.path),
        kind: fmt::words(f.kind),
        status: f.status.to_string(),
        status_key: match f.status {
            accord_service::import::FileStatus::Imported => "ok",
            accord_service::import::FileStatus::Failed => "act",
            accord_service::import::FileStatus::Skipped => "none",
        },
        counts,
        problem,
        unresolved,
        calendar,
        skipped,
    }
}

/// An import's summary, for the page.
struct ReportView {
    kind: &'static str,
    imported: usize,
    failed: usize,
    skipped: usize,
    changed: bool,
    files: Vec<FileView>,
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    layout: Layout,
    kind: String,
    formats: Vec<Choice>,
    from: String,
    to: String,
    report: Option<ReportView>,
    errors: HashMap<String, String>,
}

impl ImportPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

/// The form as sent (files aside).
#[derive(Default)]
struct ImportForm {
    kind: String,
    format: String,
    from: String,
    to: String,
}

const FORMATS: [(CrmFormat, &str); 3] = [
    (CrmFormat::Generic, "accord's own columns"),
    (
        CrmFormat::Salesforce,
        "Salesforce (Data Loader or data export)",
    ),
    (CrmFormat::Hubspot, "HubSpot export"),
];

fn page(
    state: &WebState,
    v: &Viewer,
    f: &ImportForm,
    report: Option<ReportView>,
    errors: HashMap<String, String>,
) -> ImportPage {
    let today = state.service.now().with_timezone(&v.tz).date_naive();
    ImportPage {
        layout: Layout::new(v, "Import", "/admin/import"),
        kind: if f.kind.is_empty() {
            "crm".into()
        } else {
            f.kind.clone()
        },
        formats: FORMATS
            .iter()
            .map(|(fm, label)| Choice {
                value: fm.as_str().to_owned(),
                label: (*label).to_owned(),
                selected: f.format == fm.as_str(),
            })
            .collect(),
        from: if f.from.is_empty() {
            (today - Duration::days(365)).to_string()
        } else {
            f.from.clone()
        },
        to: if f.to.is_empty() {
            today.to_string()
        } else {
            f.to.clone()
        },
        report,
        errors,
    }
}

pub(crate) async fn show(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    v.principal.require(Action::Import)?;
    let p = page(&state, &v, &ImportForm::default(), None, HashMap::new());
    render_status(&v, StatusCode::OK, &p)
}

/// A file name safe to write in our folder: its last component, in plain
/// characters.
fn clean_name(raw: &str, n: usize) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        format!("upload-{n}")
    } else {
        cleaned
    }
}

/// A folder of its own for one import's files, removed when dropped.
struct UploadDir(PathBuf);

impl UploadDir {
    async fn new() -> Result<UploadDir, WebError> {
        let dir = std::env::temp_dir().join(format!("accord-upload-{}", uuid::Uuid::now_v7()));
        tokio::fs::create_dir_all(&dir).await.map_err(|e| {
            WebError::Service(ServiceError::Internal(format!(
                "cannot create {}: {e}",
                dir.display()
            )))
        })?;
        Ok(UploadDir(dir))
    }
}

impl Drop for UploadDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(dir = %self.0.display(), error = %e, "cannot remove an upload folder");
        }
    }
}

/// Runs an import on a thread of its own: the import use cases report
/// progress to a callback that is not `Send` (the CLI's progress bar), and
/// a long import should not hold one of the server's async threads.
async fn off_thread<F>(run: F) -> Result<ImportReport, WebError>
where
    F: AsyncFnOnce(&mut dyn FnMut(Progress)) -> accord_service::Result<ImportReport>
        + Send
        + 'static,
{
    let handle = tokio::runtime::Handle::current();
    let joined =
        tokio::task::spawn_blocking(move || handle.block_on(async move { run(&mut |_| {}).await }))
            .await;
    match joined {
        Ok(r) => Ok(r?),
        Err(e) => Err(WebError::Service(ServiceError::Internal(format!(
            "the import stopped: {e}"
        )))),
    }
}

/// A day from a date input, as the start of that day in the viewer's zone.
fn start_of(day: NaiveDate, tz: Tz) -> Option<chrono::DateTime<chrono::Utc>> {
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

pub(crate) async fn upload(
    State(state): State<WebState>,
    v: Viewer,
    mut form: Multipart,
) -> Result<Response, WebError> {
    v.principal.require(Action::Import)?;
    let dir = UploadDir::new().await?;
    let mut f = ImportForm::default();
    let mut csrf = None;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut mapping: Option<PathBuf> = None;
    let io = |e: std::io::Error| {
        WebError::Service(ServiceError::Internal(format!(
            "cannot store an upload: {e}"
        )))
    };
    while let Some(mut field) = form.next_field().await.map_err(upload_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "_csrf" => csrf = Some(field.text().await.map_err(upload_error)?),
            "kind" => f.kind = field.text().await.map_err(upload_error)?,
            "format" => f.format = field.text().await.map_err(upload_error)?,
            "from" => f.from = field.text().await.map_err(upload_error)?,
            "to" => f.to = field.text().await.map_err(upload_error)?,
            "files" | "mapping" => {
                let Some(raw) = field
                    .file_name()
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                else {
                    continue;
                };
                // The CSRF token comes first in the form: nothing is written
                // for a form from elsewhere.
                v.check_csrf(csrf.as_deref())?;
                let sub = dir.0.join(if name == "mapping" {
                    "mapping".to_owned()
                } else {
                    format!("{}", files.len())
                });
                tokio::fs::create_dir_all(&sub).await.map_err(io)?;
                let mut clean = clean_name(&raw, files.len());
                if name == "files" && files.iter().any(|p| base_name(p) == clean) {
                    clean = format!("{}-{clean}", files.len());
                }
                let path = sub.join(clean);
                let mut out = tokio::fs::File::create(&path).await.map_err(io)?;
                let mut size = 0usize;
                while let Some(chunk) = field.chunk().await.map_err(upload_error)? {
                    size += chunk.len();
                    out.write_all(&chunk).await.map_err(io)?;
                }
                out.flush().await.map_err(io)?;
                if size == 0 {
                    continue;
                }
                if name == "mapping" {
                    mapping = Some(path);
                } else {
                    files.push(path);
                }
            }
            _ => {}
        }
    }
    v.check_csrf(csrf.as_deref())?;
    let mut errors = HashMap::new();
    if files.is_empty() {
        errors.insert("files".to_owned(), "Choose the files to import.".to_owned());
    }
    let caller = Caller::Person(v.principal.clone());
    let report: Option<ImportReport> = match f.kind.as_str() {
        "crm" => {
            let format = FORMATS
                .iter()
                .find(|(fm, _)| fm.as_str() == f.format)
                .map(|(fm, _)| *fm);
            if format.is_none() {
                errors.insert(
                    "format".to_owned(),
                    "Choose the CRM the files come from.".to_owned(),
                );
            }
            let mapping = match &mapping {
                Some(p) => match Mapping::read(p) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        let msg = e.to_string();
                        let msg = msg.replace(&format!("{}", p.display()), &base_name(p));
                        errors.insert("mapping".to_owned(), msg);
                        None
                    }
                },
                None => None,
            };
            match (format, errors.is_empty()) {
                (Some(format), true) => {
                    let (svc, files) = (state.service.clone(), files.clone());
                    Some(
                        off_thread(async move |progress| {
                            svc.import_crm(&caller, &files, format, mapping.as_ref(), progress)
                                .await
                        })
                        .await?,
                    )
                }
                _ => None,
            }
        }
        "calendar" => {
            let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
            let from = day(&f.from).and_then(|d| start_of(d, v.tz));
            let to = day(&f.to).and_then(|d| start_of(d + Duration::days(1), v.tz));
            if from.is_none() {
                errors.insert(
                    "from".to_owned(),
                    "Give the first day of the window.".to_owned(),
                );
            }
            if to.is_none() {
                errors.insert(
                    "to".to_owned(),
                    "Give the last day of the window.".to_owned(),
                );
            }
            match (from, to) {
                (Some(from), Some(to)) if from >= to => {
                    errors.insert(
                        "to".to_owned(),
                        "The last day must not be before the first.".to_owned(),
                    );
                    None
                }
                (Some(from), Some(to)) if errors.is_empty() => {
                    let (svc, files) = (state.service.clone(), files.clone());
                    Some(
                        off_thread(async move |progress| {
                            svc.import_calendar(&caller, &files, Window { from, to }, progress)
                                .await
                        })
                        .await?,
                    )
                }
                _ => None,
            }
        }
        _ => {
            errors.insert(
                "kind".to_owned(),
                "Choose what the files are: CRM exports or calendars.".to_owned(),
            );
            None
        }
    };
    drop(dir);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = report.map(|r| ReportView {
        kind: if r.kind == "crm" { "CRM" } else { "calendar" },
        imported: r.imported(),
        failed: r.failed(),
        skipped: r.skipped(),
        changed: r.changed(),
        files: r.files.iter().map(file_view).collect(),
    });
    let p = page(&state, &v, &f, view, errors);
    render_status(&v, status, &p)
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn upload_names_stay_in_their_folder() {
        assert_eq!(clean_name("people.csv", 0), "people.csv");
        assert_eq!(clean_name("C:\\exports\\accounts.csv", 1), "accounts.csv");
        assert_eq!(clean_name("../../etc/passwd", 2), "passwd");
        assert_eq!(clean_name("..", 3), "upload-3");
        assert_eq!(clean_name("my cal (1).ics", 4), "my_cal__1_.ics");
    }
}
