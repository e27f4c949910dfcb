//! A rep's or a PM's own record: each signal of the playbook measured for
//! them — the value, what was counted out of what, where it stands against
//! the watch and act lines — in words the person it is about understands.

use accord_domain::playbook::{Metric, SignalDef, SubjectKind, Unit};
use accord_domain::signal::{Direction, SignalStatus, SignalValue};
use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, render};
use crate::session::Viewer;

/// One signal about the viewer.
struct SignalCard {
    id: String,
    name: String,
    status: &'static str,
    status_key: &'static str,
    sentence: String,
    value: String,
    thresholds: String,
    counts: String,
    description: String,
}

#[derive(Template)]
#[template(path = "me/record.html")]
struct MePage {
    layout: Layout,
    as_of: String,
    cards: Vec<SignalCard>,
    /// Whether the viewer is on the sales side.
    sales: bool,
}

/// A count as people say it: whole numbers without decimals.
fn count(n: f64) -> String {
    if (n - n.round()).abs() < 1e-9 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

fn value_text(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Rate => fmt::pct(v),
        Unit::PerMonth => format!("{v:.1} a month"),
    }
}

/// What the numbers say, addressed to the person they are about.
fn sentence(metric: Metric, subject: SubjectKind, v: &SignalValue) -> String {
    let (n, d) = (count(v.numerator), count(v.denominator));
    let pm = subject == SubjectKind::Pm;
    match metric {
        Metric::SalesSupportShare if pm => {
            format!("{n} of your {d} hours on completed requests were sales support.")
        }
        Metric::SalesSupportShare => {
            format!("{n} of the {d} PM hours you asked for were sales support.")
        }
        Metric::OwnerPresence if pm => {
            format!("The account's owner was at {n} of your {d} customer contacts.")
        }
        Metric::OwnerPresence => {
            format!("You were at {n} of the {d} PM contacts with your customers.")
        }
        Metric::AccessDenialRate => {
            format!("You denied {n} of the {d} access requests you answered.")
        }
        Metric::UnapprovedCommitments if pm => format!(
            "{n} of the {d} commitments you made were not approved (rejected, or still waiting after 14 days)."
        ),
        Metric::UnapprovedCommitments => {
            format!("{n} of the {d} commitments made to your customers were not approved.")
        }
        Metric::AmbushRate => {
            format!("{n} of your {d} requests for a PM came at short notice or without a briefing.")
        }
        Metric::CustomerContactsPerMonth => format!(
            "You had {n} customer contacts in {} days: {:.1} a month.",
            v.window_days, v.value
        ),
        Metric::InsightCapture => {
            format!("You wrote down what you learned from {n} of your {d} customer contacts.")
        }
        Metric::ModelGaps => format!(
            "{n} of your {d} requests were at stages where the sales process model gives PMs no role."
        ),
        Metric::ExceptionRate => format!("{n} of {d}."),
    }
}

fn status_words(s: SignalStatus) -> &'static str {
    match s {
        SignalStatus::Ok => "healthy",
        SignalStatus::Watch => "worth a look",
        SignalStatus::Act => "past the line: your leaders will want to talk",
        SignalStatus::InsufficientData => "too few to say",
    }
}

fn card(def: &SignalDef, v: &SignalValue) -> SignalCard {
    let info = def.metric.info();
    let more = match def.direction {
        Direction::Above => "or more",
        Direction::Below => "or less",
    };
    let sentence = if v.status == SignalStatus::InsufficientData && v.denominator == 0.0 {
        "Nothing to count yet in this window.".to_owned()
    } else {
        sentence(def.metric, def.subject, v)
    };
    SignalCard {
        id: def.id.to_string(),
        name: def.name.clone(),
        status: status_words(v.status),
        status_key: v.status.as_str(),
        sentence,
        value: value_text(v.value, info.unit),
        thresholds: format!(
            "Watch at {} {more}, act at {} {more}, over {} days; it needs {} or more to count.",
            value_text(def.watch, info.unit),
            value_text(def.act, info.unit),
            v.window_days,
            count(def.min_sample)
        ),
        counts: format!("Counted: {}, out of {}.", info.numerator, info.denominator),
        description: def.description.clone(),
    }
}

pub(crate) async fn page(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    let role = v.role();
    if !role.is_product() && !role.is_sales() {
        return Err(WebError::Forbidden(
            "A record is kept for PMs and the sales force".into(),
        ));
    }
    // Days as the signals count them (UTC), so the numbers match the
    // leaders' report.
    let today = state.service.now().date_naive();
    let values = state.service.my_signals(&v.principal, today).await?;
    let active = state.service.playbook();
    let mut cards: Vec<(SignalStatus, SignalCard)> = values
        .iter()
        .filter_map(|val| {
            let def = active.playbook.signal(val.signal.as_str())?;
            Some((val.status, card(def, val)))
        })
        .collect();
    // What needs attention first.
    cards.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    render(
        &v,
        &MePage {
            layout: Layout::new(&v, "My record", "/me"),
            as_of: fmt::day(today),
            cards: cards.into_iter().map(|(_, c)| c).collect(),
            sales: role.is_sales(),
        },
    )
}
