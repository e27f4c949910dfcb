//! Alerts: the leaders' list, and one alert with its evidence — the
//! records behind the number, linked to their pages — its trend, and the
//! way to a review.

use accord_domain::id::{
    AccessRequestId, AlertId, CommitmentId, ExceptionId, MeetingId, RequestId,
};
use accord_domain::signal::{AlertState, SignalStatus};
use accord_store::PageRequest;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::WebState;
use crate::charts::{self, Spec, Trend};
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, render};
use crate::names::Names;
use crate::pages::dashboard::{AlertRow, Subjects, alert_row, thresholds, value_text};
use crate::session::Viewer;

/// Parses an id from a path, or the page is not found.
pub(crate) fn parse_id(s: &str, what: &str) -> Result<uuid::Uuid, WebError> {
    s.parse::<uuid::Uuid>()
        .map_err(|_| WebError::NotFound(what.to_owned()))
}

/// The web page for an API path the service put in an alert's evidence
/// (`/api/v1/access/{id}` → `/access/{id}`); the dashboard for a report.
pub(crate) fn web_path(api: &str) -> String {
    let path = api.strip_prefix("/api/v1").unwrap_or(api);
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    match (parts.next(), parts.next()) {
        (
            Some(kind @ ("access" | "requests" | "meetings" | "commitments" | "exceptions")),
            Some(id),
        ) => {
            format!("/{kind}/{}", id.split(['?', '/']).next().unwrap_or(id))
        }
        _ => "/dashboard".to_owned(),
    }
}

/// One record behind an alert.
pub(crate) struct Evidence {
    pub(crate) href: String,
    pub(crate) label: String,
    pub(crate) detail: String,
}

/// Says what an evidence link is, from the record it points at.
pub(crate) async fn describe(
    state: &WebState,
    v: &Viewer,
    names: &mut Names,
    api: &str,
) -> Evidence {
    let href = web_path(api);
    let id = href
        .rsplit('/')
        .next()
        .and_then(|s| s.parse::<uuid::Uuid>().ok());
    let (svc, who) = (&state.service, &v.principal);
    let (label, detail) = match (href.split('/').nth(1), id) {
        (Some("access"), Some(id)) => match svc.get_access(who, AccessRequestId(id)).await {
            Ok(a) => (
                format!(
                    "Access request to {}",
                    names.account_name(svc, who, a.account).await
                ),
                format!(
                    "{} asked; {} {}{}",
                    names.name(a.pm),
                    names.name_or(a.answered_by.or(a.owner), "the owner"),
                    fmt::words(a.state.as_str()),
                    a.reason.map(|r| format!(": “{r}”")).unwrap_or_default()
                ),
            ),
            Err(_) => ("Access request".into(), String::new()),
        },
        (Some("requests"), Some(id)) => match svc.get_request(who, RequestId(id)).await {
            Ok(r) => {
                let r = r.request;
                (
                    format!(
                        "Request for {} at {}",
                        fmt::words(r.engagement_type.as_str()),
                        names.account_name(svc, who, r.account).await
                    ),
                    format!(
                        "asked by {}, needed {}, {}",
                        names.name(r.requester),
                        fmt::when(r.needed_at, v.tz),
                        fmt::words(r.state.as_str())
                    ),
                )
            }
            Err(_) => ("Engagement request".into(), String::new()),
        },
        (Some("meetings"), Some(id)) => match svc.get_meeting(who, MeetingId(id)).await {
            Ok(m) => (
                format!("Customer contact: {}", m.meeting.title),
                format!(
                    "{}{}",
                    fmt::when(m.meeting.starts_at, v.tz),
                    if m.flags.owner_present {
                        ""
                    } else {
                        ", without the relationship owner"
                    }
                ),
            ),
            Err(_) => ("Customer contact".into(), String::new()),
        },
        (Some("commitments"), Some(id)) => match svc.get_commitment(who, CommitmentId(id)).await {
            Ok(c) => (
                format!(
                    "Commitment to {}",
                    names.account_name(svc, who, c.account).await
                ),
                format!(
                    "“{}” by {}, {}",
                    c.text,
                    names.name(c.said_by),
                    c.state.as_str()
                ),
            ),
            Err(_) => ("Commitment".into(), String::new()),
        },
        (Some("exceptions"), Some(id)) => match svc.get_exception(who, ExceptionId(id)).await {
            Ok(e) => (
                format!("Exception to {}", e.rule),
                format!(
                    "asked by {}: “{}”, {}",
                    names.name(e.requested_by),
                    e.reason,
                    e.state.as_str()
                ),
            ),
            Err(_) => ("Exception".into(), String::new()),
        },
        _ => ("The report for the day".into(), String::new()),
    };
    Evidence {
        href,
        label,
        detail,
    }
}

#[derive(Template)]
#[template(path = "leaders/alerts.html")]
struct ListPage {
    layout: Layout,
    alerts: Vec<AlertRow>,
    closed: bool,
    mine: bool,
    can_review: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    closed: Option<String>,
    #[serde(default)]
    mine: Option<String>,
}

pub(crate) async fn list(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let closed = q.closed.is_some_and(|s| !s.is_empty());
    let mine = q.mine.is_some_and(|s| !s.is_empty());
    let page = state
        .service
        .alerts(&v.principal, closed, mine, &PageRequest::first(200))
        .await?;
    let names = Names::load(&state.service, &v.principal).await?;
    let subjects = Subjects::new(&names);
    let alerts = page
        .items
        .iter()
        .map(|a| alert_row(&state, &v, &subjects, a))
        .collect();
    render(
        &v,
        &ListPage {
            layout: Layout::new(&v, "Alerts", "/alerts"),
            alerts,
            closed,
            mine,
            can_review: v
                .principal
                .require(accord_service::Action::ManageReviews)
                .is_ok(),
        },
    )
}

#[derive(Template)]
#[template(path = "leaders/alert.html")]
struct ShowPage {
    layout: Layout,
    row: AlertRow,
    description: String,
    thresholds: String,
    addressed_to: Vec<String>,
    closed: String,
    closed_reason: String,
    evidence: Vec<Evidence>,
    chart: Option<String>,
    numbers: String,
    open: bool,
    review: Option<String>,
    can_review: bool,
}

pub(crate) async fn show(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = AlertId(parse_id(&id, "alert")?);
    let a = state.service.alert(&v.principal, id).await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let subjects = Subjects::new(&names);
    let active = state.service.playbook();
    let def = active.playbook.signal(a.signal.as_str());
    let mut evidence = Vec::with_capacity(a.evidence.len());
    for e in &a.evidence {
        evidence.push(describe(&state, &v, &mut names, e).await);
    }
    let today = state.service.now().date_naive();
    let from = today - chrono::Duration::days(120);
    let history = state
        .service
        .signal_history(
            &v.principal,
            a.signal.as_str(),
            &a.subject_kind,
            &a.subject,
            from,
            today,
        )
        .await?;
    let points: Vec<(chrono::NaiveDate, f64)> = history
        .iter()
        .filter(|h| h.status != SignalStatus::InsufficientData)
        .map(|h| (h.as_of, h.value))
        .collect();
    let numbers = match (points.first(), points.last()) {
        (Some(f), Some(l)) => format!(
            "{} on {}, {} on {}",
            value_text(def, f.1),
            fmt::day(f.0),
            value_text(def, l.1),
            fmt::day(l.0)
        ),
        _ => String::new(),
    };
    let days: Vec<chrono::NaiveDate> = (0..=120)
        .map(|i| from + chrono::Duration::days(i))
        .collect();
    let chart = def.and_then(|d| {
        charts::line_svg(
            &Spec {
                days: &days,
                trends: &[Trend {
                    name: subjects.name(&a.subject_kind, &a.subject),
                    points,
                }],
                watch: d.watch,
                act: d.act,
                percent: d.metric.info().unit == accord_domain::playbook::Unit::Rate,
            },
            "trend-caption",
        )
    });
    let review = if a.state == AlertState::InReview {
        state
            .service
            .reviews(&v.principal, &PageRequest::first(200))
            .await?
            .items
            .into_iter()
            .find(|r| r.alerts.contains(&a.id))
            .map(|r| r.id.to_string())
    } else {
        None
    };
    let page = ShowPage {
        layout: Layout::new(
            &v,
            def.map(|d| d.name.clone())
                .unwrap_or_else(|| "Alert".into()),
            "/alerts",
        ),
        description: def.map(|d| d.description.clone()).unwrap_or_default(),
        thresholds: def.map(thresholds).unwrap_or_default(),
        addressed_to: a.addressed_to.iter().map(|p| names.name(*p)).collect(),
        closed: a.closed_at.map(|t| fmt::when(t, v.tz)).unwrap_or_default(),
        closed_reason: a.closed_reason.clone().unwrap_or_default(),
        evidence,
        chart,
        numbers,
        open: a.state == AlertState::Open,
        review,
        can_review: v
            .principal
            .require(accord_service::Action::ManageReviews)
            .is_ok(),
        row: alert_row(&state, &v, &subjects, &a),
    };
    render(&v, &page)
}

#[cfg(test)]
mod tests {
    use super::web_path;

    #[test]
    fn evidence_links_go_to_the_web_pages() {
        assert_eq!(web_path("/api/v1/access/0190"), "/access/0190");
        assert_eq!(web_path("/api/v1/requests/ab"), "/requests/ab");
        assert_eq!(web_path("/api/v1/meetings/x"), "/meetings/x");
        assert_eq!(web_path("/api/v1/commitments/c"), "/commitments/c");
        assert_eq!(web_path("/api/v1/exceptions/e"), "/exceptions/e");
        assert_eq!(web_path("/api/v1/report?as_of=2026-03-01"), "/dashboard");
        assert_eq!(web_path("/somewhere/else"), "/dashboard");
    }
}
