//! The team leaders' relationship health dashboard: every signal per team
//! and per (PM team, sales team) pair, worst first, in words; trend charts
//! from the stored daily values; the open alerts. One report and one read
//! of trends per request.

use std::collections::HashMap;

use accord_domain::id::AlertId;
use accord_domain::playbook::{Metric, SignalDef, Unit};
use accord_domain::signal::{Alert, Direction, SignalStatus};
use accord_service::signals::SignalLine;
use accord_service::{Caller, ServiceError};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::WebState;
use crate::charts::{self, Spec, Trend};
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, render_status};
use crate::names::Names;
use crate::pages::requests::{Choice, field_errors};
use crate::session::Viewer;

/// Days of history a trend chart shows (the demo stores 121).
const TREND_DAYS: i64 = 120;
/// Lines in one chart at most: the worst subjects.
const LINES_PER_CHART: usize = 4;

/// How people read a subject: names, not emails.
pub(crate) struct Subjects {
    by_email: HashMap<String, String>,
}

impl Subjects {
    /// From the page's name book.
    pub(crate) fn new(names: &Names) -> Self {
        Self {
            by_email: names
                .people()
                .into_iter()
                .map(|p| (p.email.as_str().to_owned(), p.name.clone()))
                .collect(),
        }
    }

    /// `victor@…` → "Victor Vance"; `A / B` → "A × B".
    pub(crate) fn name(&self, kind: &str, subject: &str) -> String {
        match kind {
            "person" => self
                .by_email
                .get(subject)
                .cloned()
                .unwrap_or_else(|| subject.to_owned()),
            "pair" => subject.replace(" / ", " × "),
            "rule" => format!("rule {subject}"),
            "organisation" => "the whole organisation".into(),
            _ => subject.to_owned(),
        }
    }
}

/// A status as a leader reads it.
pub(crate) fn status_words(s: SignalStatus) -> &'static str {
    match s {
        SignalStatus::Act => "Act: time to talk",
        SignalStatus::Watch => "Watch",
        SignalStatus::Ok => "Healthy",
        SignalStatus::InsufficientData => "Too little data",
    }
}

/// A signal's value, in its unit.
pub(crate) fn value_text(def: Option<&SignalDef>, v: f64) -> String {
    match def.map(|d| d.metric.info().unit) {
        Some(Unit::PerMonth) => format!("{v:.1} a month"),
        _ => fmt::pct(v),
    }
}

/// What was counted: "6 of 8 access requests denied".
fn counted(def: Option<&SignalDef>, num: f64, den: f64, window: u32) -> String {
    let (n, d) = (num.round() as i64, den.round() as i64);
    let Some(def) = def else {
        return format!("{n} of {d}");
    };
    match def.metric {
        Metric::SalesSupportShare => {
            format!("{num:.1} of {den:.1} engagement hours were sales support")
        }
        Metric::OwnerPresence => format!("the owner was at {n} of {d} PM customer contacts"),
        Metric::AccessDenialRate => format!("{n} of {d} access requests denied"),
        Metric::UnapprovedCommitments => format!("{n} of {d} commitments not approved"),
        Metric::AmbushRate => format!("{n} of {d} requests at short notice or without a briefing"),
        Metric::ExceptionRate => format!("{n} of {d} blocked records excepted"),
        Metric::CustomerContactsPerMonth => format!("{n} customer contacts in {window} days"),
        Metric::InsightCapture => format!("insights from {n} of {d} customer contacts"),
        Metric::ModelGaps => format!("{n} of {d} requests at stages with no PM role"),
    }
}

/// The thresholds in words: "watch from 20%, act from 40%".
pub(crate) fn thresholds(def: &SignalDef) -> String {
    let t = |v: f64| value_text(Some(def), v);
    match def.direction {
        Direction::Above => format!("watch from {}, act from {}", t(def.watch), t(def.act)),
        Direction::Below => format!(
            "watch at {} or less, act at {} or less",
            t(def.watch),
            t(def.act)
        ),
    }
}

/// One signal for one subject.
pub(crate) struct Line {
    pub(crate) signal: String,
    pub(crate) subject: String,
    pub(crate) value: String,
    pub(crate) counted: String,
    pub(crate) thresholds: String,
    pub(crate) status_key: &'static str,
    pub(crate) status: &'static str,
    pub(crate) alert: Option<String>,
}

/// The lines of one team or pair.
pub(crate) struct Group {
    rank: SignalStatus,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) worst_key: &'static str,
    pub(crate) worst: &'static str,
    pub(crate) act: usize,
    pub(crate) watch: usize,
    pub(crate) lines: Vec<Line>,
}

/// A trend chart, with its text alternative.
pub(crate) struct ChartView {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) caption: String,
    pub(crate) svg: String,
    pub(crate) numbers: Vec<String>,
}

/// An alert as a row.
pub(crate) struct AlertRow {
    pub(crate) id: String,
    pub(crate) signal: String,
    pub(crate) subject: String,
    pub(crate) value: String,
    pub(crate) opened: String,
    pub(crate) state: String,
    pub(crate) state_key: &'static str,
    pub(crate) mine: bool,
    pub(crate) evidence: usize,
}

/// An alert's row.
pub(crate) fn alert_row(state: &WebState, v: &Viewer, subjects: &Subjects, a: &Alert) -> AlertRow {
    let active = state.service.playbook();
    let def = active.playbook.signal(a.signal.as_str());
    AlertRow {
        id: a.id.to_string(),
        signal: def
            .map(|d| d.name.clone())
            .unwrap_or_else(|| a.signal.to_string()),
        subject: subjects.name(&a.subject_kind, &a.subject),
        value: value_text(def, a.value),
        opened: fmt::when(a.opened_at, v.tz),
        state: fmt::words(a.state.as_str()),
        state_key: match a.state {
            accord_domain::signal::AlertState::Open => "act",
            accord_domain::signal::AlertState::InReview => "watch",
            accord_domain::signal::AlertState::Closed => "none",
        },
        mine: a.addressed_to.contains(&v.principal.person.id),
        evidence: a.evidence.len(),
    }
}

/// A signal's meaning, for the page's glossary.
pub(crate) struct Meaning {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) thresholds: String,
    pub(crate) window: u32,
}

#[derive(Template)]
#[template(path = "leaders/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    as_of: String,
    window_days: u32,
    teams: Vec<Choice>,
    team: String,
    errors: HashMap<String, String>,
    act: usize,
    watch: usize,
    healthy: usize,
    too_little: usize,
    groups: Vec<Group>,
    charts: Vec<ChartView>,
    alerts: Vec<AlertRow>,
    contacts: String,
    meanings: Vec<Meaning>,
}

impl DashboardPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct DashboardQuery {
    #[serde(default)]
    team: String,
}

/// How bad a line is, for ordering: status first, then distance past the
/// thresholds in the signal's bad direction.
fn badness(l: &SignalLine) -> (SignalStatus, i64) {
    let signed = match l.direction {
        Direction::Above => l.value,
        Direction::Below => -l.value,
    };
    (l.status, (signed * 10_000.0) as i64)
}

pub(crate) async fn dashboard(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, WebError> {
    v.principal.require(accord_service::Action::ReadReport)?;
    let names = Names::load(&state.service, &v.principal).await?;
    let subjects = Subjects::new(&names);
    let today = state.service.now().date_naive();
    let caller = Caller::Person(v.principal.clone());
    let team = q.team.trim().to_owned();
    let mut errors = HashMap::new();
    let report = match state
        .service
        .report(
            &caller,
            today,
            None,
            Some(team.as_str()).filter(|t| !t.is_empty()),
        )
        .await
    {
        Ok(r) => r,
        Err(ServiceError::Invalid(fe)) => {
            errors = field_errors(&fe);
            state.service.report(&caller, today, None, None).await?
        }
        Err(e) => return Err(e.into()),
    };
    let active = state.service.playbook();
    let defs: HashMap<&str, &SignalDef> = active
        .playbook
        .signals
        .iter()
        .map(|s| (s.id.as_str(), s))
        .collect();
    let alert_for: HashMap<(&str, &str, &str), AlertId> = report
        .alerts
        .iter()
        .map(|a| {
            (
                (
                    a.signal.as_str(),
                    a.subject_kind.as_str(),
                    a.subject.as_str(),
                ),
                a.id,
            )
        })
        .collect();

    // The table: grouped by team or pair, worst first.
    let mut grouped: Vec<(String, Vec<&SignalLine>)> = Vec::new();
    for l in &report.signals {
        match grouped.last_mut() {
            Some((g, lines)) if *g == l.group => lines.push(l),
            _ => grouped.push((l.group.clone(), vec![l])),
        }
    }
    let mut groups: Vec<Group> = grouped
        .into_iter()
        .map(|(name, mut lines)| {
            lines.sort_by(|a, b| badness(b).cmp(&badness(a)).then(a.signal.cmp(&b.signal)));
            let worst = lines
                .first()
                .map(|l| l.status)
                .unwrap_or(SignalStatus::InsufficientData);
            let count = |s: SignalStatus| lines.iter().filter(|l| l.status == s).count();
            Group {
                rank: worst,
                id: format!(
                    "group-{}",
                    name.to_lowercase()
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                ),
                name: match name.as_str() {
                    "organisation" => "The whole organisation".to_owned(),
                    n if n.contains(" / ") => {
                        format!("{} (PM team × sales team)", n.replace(" / ", " × "))
                    }
                    n => n.to_owned(),
                },
                worst_key: worst.as_str(),
                worst: status_words(worst),
                act: count(SignalStatus::Act),
                watch: count(SignalStatus::Watch),
                lines: lines
                    .into_iter()
                    .map(|l| {
                        let def = defs.get(l.signal.as_str()).copied();
                        Line {
                            signal: def
                                .map(|d| d.name.clone())
                                .unwrap_or_else(|| l.signal.clone()),
                            subject: subjects.name(&l.subject_kind, &l.subject),
                            value: if l.status == SignalStatus::InsufficientData
                                && l.denominator == 0.0
                            {
                                "—".into()
                            } else {
                                value_text(def, l.value)
                            },
                            counted: counted(def, l.numerator, l.denominator, l.window_days),
                            thresholds: def.map(thresholds).unwrap_or_default(),
                            status_key: l.status.as_str(),
                            status: status_words(l.status),
                            alert: alert_for
                                .get(&(
                                    l.signal.as_str(),
                                    l.subject_kind.as_str(),
                                    l.subject.as_str(),
                                ))
                                .map(ToString::to_string),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.rank
            .cmp(&a.rank)
            .then(b.act.cmp(&a.act))
            .then(b.watch.cmp(&a.watch))
            .then(a.name.cmp(&b.name))
    });
    let count = |s: SignalStatus| report.signals.iter().filter(|l| l.status == s).count();

    // The charts: per signal, its worst subjects with enough data, from
    // the stored daily values, read in one go.
    let from = today - chrono::Duration::days(TREND_DAYS);
    let mut picks: Vec<(&SignalDef, Vec<&SignalLine>)> = Vec::new();
    for def in &active.playbook.signals {
        let mut lines: Vec<&SignalLine> = report
            .signals
            .iter()
            .filter(|l| l.signal == def.id.as_str() && l.status != SignalStatus::InsufficientData)
            .collect();
        if lines.is_empty() {
            continue;
        }
        lines.sort_by_key(|l| std::cmp::Reverse(badness(l)));
        lines.truncate(LINES_PER_CHART);
        picks.push((def, lines));
    }
    // Signals at act first, then watch.
    picks.sort_by_key(|(_, lines)| std::cmp::Reverse(lines.first().map(|l| l.status)));
    let series: Vec<(String, String, String)> = picks
        .iter()
        .flat_map(|(_, lines)| {
            lines
                .iter()
                .map(|l| (l.signal.clone(), l.subject_kind.clone(), l.subject.clone()))
        })
        .collect();
    let mut stored = state
        .service
        .signal_trends(&v.principal, &series, from, today)
        .await?
        .into_iter();
    let days: Vec<NaiveDate> = (0..=TREND_DAYS)
        .map(|i| from + chrono::Duration::days(i))
        .collect();
    let mut charts_out = Vec::new();
    for (i, (def, lines)) in picks.iter().enumerate() {
        let percent = def.metric.info().unit == Unit::Rate;
        let trends: Vec<Trend> = lines
            .iter()
            .map(|l| Trend {
                name: subjects.name(&l.subject_kind, &l.subject),
                points: stored
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|h| h.status != SignalStatus::InsufficientData)
                    .map(|h| (h.as_of, h.value))
                    .collect(),
            })
            .collect();
        let id = format!("chart-{i}");
        let Some(svg) = charts::line_svg(
            &Spec {
                days: &days,
                trends: &trends,
                watch: def.watch,
                act: def.act,
                percent,
            },
            &format!("{id}-caption"),
        ) else {
            continue;
        };
        let numbers = trends
            .iter()
            .map(|t| match (t.points.first(), t.points.last()) {
                (Some(a), Some(b)) => format!(
                    "{}: {} on {}, {} on {}",
                    t.name,
                    value_text(Some(def), a.1),
                    fmt::day(a.0),
                    value_text(Some(def), b.1),
                    fmt::day(b.0)
                ),
                _ => format!("{}: no stored values with enough data yet", t.name),
            })
            .collect();
        charts_out.push(ChartView {
            id,
            title: def.name.clone(),
            caption: format!(
                "{} over the last {TREND_DAYS} days, each day over the {} days before it. Dashed lines: {} (amber: watch, red: act).",
                def.name,
                def.window_days,
                thresholds(def)
            ),
            svg,
            numbers,
        });
    }

    let mut teams: Vec<Choice> = names
        .teams()
        .into_iter()
        .map(|t| Choice {
            value: t.name.clone(),
            label: t.name.clone(),
            selected: t.name == team,
        })
        .collect();
    teams.insert(
        0,
        Choice {
            value: String::new(),
            label: "Every team".into(),
            selected: team.is_empty(),
        },
    );
    let mut alerts: Vec<AlertRow> = report
        .alerts
        .iter()
        .map(|a| alert_row(&state, &v, &subjects, a))
        .collect();
    alerts.sort_by_key(|a| !a.mine);
    let page = DashboardPage {
        layout: Layout::new(&v, "Relationship health", "/dashboard"),
        as_of: fmt::day(report.as_of),
        window_days: report.window_days,
        teams,
        team,
        act: count(SignalStatus::Act),
        watch: count(SignalStatus::Watch),
        healthy: count(SignalStatus::Ok),
        too_little: count(SignalStatus::InsufficientData),
        groups,
        charts: charts_out,
        alerts,
        contacts: format!(
            "{} customer contacts in the last {} days, {} of them with a PM",
            report.contacts.customer_contacts, report.window_days, report.contacts.pm_contacts
        ),
        meanings: active
            .playbook
            .signals
            .iter()
            .map(|d| Meaning {
                name: d.name.clone(),
                description: d.description.clone(),
                thresholds: thresholds(d),
                window: d.window_days,
            })
            .collect(),
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(&v, status, &page)
}
