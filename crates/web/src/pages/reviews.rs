//! Rules-of-engagement reviews: the leaders open one from alerts (its
//! agenda prefilled with their evidence), hold it, and record what they
//! decided — which closes its alerts.

use std::collections::HashMap;

use accord_domain::id::{AlertId, PersonId, ReviewId};
use accord_domain::people::Role;
use accord_domain::signal::{AlertState, Review, ReviewOutcome};
use accord_service::ServiceError;
use accord_store::PageRequest;
use askama::Template;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render, render_status};
use crate::names::Names;
use crate::pages::alerts::{describe, parse_id};
use crate::pages::dashboard::{Subjects, alert_row, value_text};
use crate::pages::requests::{Choice, field_errors};
use crate::session::Viewer;

/// An outcome as people say it.
fn outcome_words(o: ReviewOutcome) -> &'static str {
    match o {
        ReviewOutcome::RulesKept => "Rules kept",
        ReviewOutcome::PlaybookChanged => "Playbook changed",
        ReviewOutcome::ExceptionPolicyChanged => "Exception policy changed",
        ReviewOutcome::Other => "Other",
    }
}

const OUTCOMES: [ReviewOutcome; 4] = [
    ReviewOutcome::RulesKept,
    ReviewOutcome::PlaybookChanged,
    ReviewOutcome::ExceptionPolicyChanged,
    ReviewOutcome::Other,
];

/// A review as a row.
struct ReviewRow {
    id: String,
    opened: String,
    opened_by: String,
    about: String,
    outcome: String,
    closed: String,
}

fn review_row(v: &Viewer, names: &Names, r: &Review) -> ReviewRow {
    ReviewRow {
        id: r.id.to_string(),
        opened: fmt::when(r.opened_at, v.tz),
        opened_by: names.name(r.opened_by),
        about: format!(
            "{} alert{}, {} attendee{}",
            r.alerts.len(),
            if r.alerts.len() == 1 { "" } else { "s" },
            r.attendees.len(),
            if r.attendees.len() == 1 { "" } else { "s" }
        ),
        outcome: match (r.outcome, r.playbook_version) {
            (Some(ReviewOutcome::PlaybookChanged), Some(n)) => {
                format!("Playbook changed (version {n})")
            }
            (Some(o), _) => outcome_words(o).to_owned(),
            (None, _) => String::new(),
        },
        closed: r.closed_at.map(|t| fmt::when(t, v.tz)).unwrap_or_default(),
    }
}

/// An alert to pick.
struct Pick {
    id: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "leaders/reviews.html")]
struct ListPage {
    layout: Layout,
    can_open: bool,
    alerts: Vec<Pick>,
    leaders: Vec<Pick>,
    others: Vec<Choice>,
    open: Vec<ReviewRow>,
    past: Vec<ReviewRow>,
    errors: HashMap<String, String>,
}

impl ListPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

/// The values of a repeated field (`alert=a&alert=b`).
fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

async fn list_page(
    state: &WebState,
    v: &Viewer,
    chosen_alerts: &[String],
    chosen_people: &[String],
    errors: HashMap<String, String>,
) -> Result<ListPage, WebError> {
    let names = Names::load(&state.service, &v.principal).await?;
    let subjects = Subjects::new(&names);
    let reviews = state
        .service
        .reviews(&v.principal, &PageRequest::first(200))
        .await?
        .items;
    let can_open = v
        .principal
        .require(accord_service::Action::ManageReviews)
        .is_ok();
    let alerts = if can_open {
        state
            .service
            .alerts(&v.principal, false, false, &PageRequest::first(200))
            .await?
            .items
            .into_iter()
            .filter(|a| a.state == AlertState::Open)
            .map(|a| {
                let row = alert_row(state, v, &subjects, &a);
                Pick {
                    checked: chosen_alerts.contains(&row.id),
                    label: format!(
                        "{}: {} at {} (opened {})",
                        row.signal, row.subject, row.value, row.opened
                    ),
                    id: row.id,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let me = v.principal.person.id;
    let active: Vec<_> = names
        .people()
        .into_iter()
        .filter(|p| p.active && p.id != me)
        .collect();
    let leaders = active
        .iter()
        .filter(|p| p.role.is_leader())
        .map(|p| Pick {
            id: p.id.to_string(),
            label: format!(
                "{} ({}, {})",
                p.name,
                crate::layout::role_label(p.role),
                names.team(p.team)
            ),
            checked: chosen_people.contains(&p.id.to_string()),
        })
        .collect();
    let others = active
        .iter()
        .filter(|p| !p.role.is_leader() && p.role != Role::Constituent)
        .map(|p| Choice {
            value: p.id.to_string(),
            label: format!("{} ({})", p.name, crate::layout::role_label(p.role)),
            selected: chosen_people.contains(&p.id.to_string()),
        })
        .collect();
    let (open, past): (Vec<&Review>, Vec<&Review>) =
        reviews.iter().partition(|r| r.outcome.is_none());
    Ok(ListPage {
        layout: Layout::new(v, "Reviews", "/reviews"),
        can_open,
        alerts,
        leaders,
        others,
        open: open.into_iter().map(|r| review_row(v, &names, r)).collect(),
        past: past.into_iter().map(|r| review_row(v, &names, r)).collect(),
        errors,
    })
}

pub(crate) async fn list(
    State(state): State<WebState>,
    v: Viewer,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    v.principal.require(accord_service::Action::ReadReport)?;
    let q = pairs(q.unwrap_or_default().as_bytes());
    let page = list_page(&state, &v, &all(&q, "alert"), &[], HashMap::new()).await?;
    render(&v, &page)
}

pub(crate) async fn open(
    State(state): State<WebState>,
    v: Viewer,
    body: Bytes,
) -> Result<Response, WebError> {
    v.principal.require(accord_service::Action::ManageReviews)?;
    let form = pairs(&body);
    let chosen_alerts = all(&form, "alert");
    let chosen_people = all(&form, "attendee");
    let mut errors = HashMap::new();
    let alerts: Vec<AlertId> = chosen_alerts
        .iter()
        .filter_map(|s| s.parse().ok().map(AlertId))
        .collect();
    let people: Vec<PersonId> = chosen_people
        .iter()
        .filter_map(|s| s.parse().ok().map(PersonId))
        .collect();
    if alerts.is_empty() {
        errors.insert(
            "alerts".to_owned(),
            "Choose the alerts the review is about.".to_owned(),
        );
    }
    if errors.is_empty() {
        match state
            .service
            .open_review(&v.principal, &alerts, &people)
            .await
        {
            Ok(r) => {
                return Ok(done(
                    &format!("/reviews/{}", r.id),
                    "Review opened: its agenda lists the evidence. Record the outcome here once you have met.",
                ));
            }
            Err(ServiceError::Invalid(fe)) => errors = field_errors(&fe),
            Err(ServiceError::Conflict(m)) => {
                errors.insert(
                    "alerts".to_owned(),
                    format!("{m}: choose open alerts only."),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let page = list_page(&state, &v, &chosen_alerts, &chosen_people, errors).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// A line of the agenda, with a link when it names a record.
struct AgendaLine {
    indent: bool,
    text: String,
    href: String,
}

/// An alert in a review.
struct AlertLink {
    id: String,
    label: String,
    state: String,
    state_key: &'static str,
}

#[derive(Template)]
#[template(path = "leaders/review.html")]
struct ShowPage {
    layout: Layout,
    row: ReviewRow,
    agenda: Vec<AgendaLine>,
    alerts: Vec<AlertLink>,
    attendees: Vec<String>,
    notes: String,
    recorded: bool,
    can_record: bool,
    outcomes: Vec<Choice>,
    versions: Vec<Choice>,
    errors: HashMap<String, String>,
}

impl ShowPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct RecordForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    playbook_version: String,
    #[serde(default)]
    notes: String,
}

async fn show_page(
    state: &WebState,
    v: &Viewer,
    id: ReviewId,
    f: &RecordForm,
    errors: HashMap<String, String>,
) -> Result<ShowPage, WebError> {
    let r = state.service.review(&v.principal, id).await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let subjects = Subjects::new(&names);
    let active = state.service.playbook();
    let mut agenda = Vec::new();
    for line in r.agenda.lines().filter(|l| !l.trim().is_empty()) {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if trimmed.starts_with("/api/") {
            let e = describe(state, v, &mut names, trimmed).await;
            let text = if e.detail.is_empty() {
                e.label
            } else {
                format!("{} — {}", e.label, e.detail)
            };
            agenda.push(AgendaLine {
                indent: true,
                text,
                href: e.href,
            });
        } else {
            agenda.push(AgendaLine {
                indent: false,
                text: trimmed.to_owned(),
                href: String::new(),
            });
        }
    }
    let mut alerts = Vec::new();
    for a in &r.alerts {
        if let Ok(a) = state.service.alert(&v.principal, *a).await {
            let def = active.playbook.signal(a.signal.as_str());
            let row = alert_row(state, v, &subjects, &a);
            alerts.push(AlertLink {
                label: format!(
                    "{}: {} at {}",
                    row.signal,
                    row.subject,
                    value_text(def, a.value)
                ),
                id: row.id,
                state: row.state,
                state_key: row.state_key,
            });
        }
    }
    let versions = state
        .service
        .playbook_versions(&v.principal)
        .await?
        .into_iter()
        .map(|p| Choice {
            selected: f.playbook_version == p.version.to_string(),
            value: p.version.to_string(),
            label: format!(
                "Version {}{} — {} ({})",
                p.version,
                if p.in_force { ", in force" } else { "" },
                p.reason,
                fmt::when(p.created_at, v.tz)
            ),
        })
        .collect();
    Ok(ShowPage {
        layout: Layout::new(v, "Rules-of-engagement review", "/reviews"),
        row: review_row(v, &names, &r),
        agenda,
        alerts,
        attendees: r.attendees.iter().map(|p| names.name(*p)).collect(),
        notes: if r.outcome.is_some() {
            r.notes.clone()
        } else {
            f.notes.clone()
        },
        recorded: r.outcome.is_some(),
        can_record: r.outcome.is_none()
            && v.principal
                .require(accord_service::Action::ManageReviews)
                .is_ok(),
        outcomes: OUTCOMES
            .iter()
            .map(|o| Choice {
                value: o.as_str().to_owned(),
                label: outcome_words(*o).to_owned(),
                selected: f.outcome == o.as_str(),
            })
            .collect(),
        versions,
        errors,
    })
}

pub(crate) async fn show(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = ReviewId(parse_id(&id, "review")?);
    let page = show_page(&state, &v, id, &RecordForm::default(), HashMap::new()).await?;
    render(&v, &page)
}

pub(crate) async fn record(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<RecordForm>,
) -> Result<Response, WebError> {
    let id = ReviewId(parse_id(&id, "review")?);
    v.principal.require(accord_service::Action::ManageReviews)?;
    let mut errors = HashMap::new();
    let outcome = OUTCOMES.into_iter().find(|o| o.as_str() == f.outcome);
    if outcome.is_none() {
        errors.insert(
            "outcome".to_owned(),
            "Choose what the review decided.".to_owned(),
        );
    }
    let version = match f.playbook_version.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.insert(
                    "playbook_version".to_owned(),
                    "Choose a playbook version.".to_owned(),
                );
                None
            }
        },
    };
    if let (Some(outcome), true) = (outcome, errors.is_empty()) {
        // A version only means something when the playbook changed.
        let version = version.filter(|_| outcome == ReviewOutcome::PlaybookChanged);
        match state
            .service
            .record_review(&v.principal, id, &f.notes, outcome, version)
            .await
        {
            Ok(_) => {
                return Ok(done(
                    &format!("/reviews/{id}"),
                    "Outcome recorded; the review's alerts are closed.",
                ));
            }
            Err(ServiceError::Invalid(fe)) => errors = field_errors(&fe),
            Err(e) => return Err(e.into()),
        }
    }
    let page = show_page(&state, &v, id, &f, errors).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
}
