//! The playbook in force, for everyone: the sales process model as a
//! stage × engagement-type matrix with what is expected of the PM at each
//! stage, every rule in plain English (the domain's own phrasing, as
//! `accord playbook show` prints it), and the signals with their lines.

use accord_domain::playbook::show::effect_phrase;
use accord_domain::playbook::{PmEngagement, Unit};
use accord_domain::request::Category;
use accord_domain::signal::Direction;
use accord_service::Action;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, render, role_label};
use crate::session::Viewer;

struct StageCol {
    id: String,
    name: String,
    engagement: &'static str,
    engagement_key: &'static str,
}

struct TypeRow {
    id: String,
    name: String,
    category: &'static str,
    category_key: &'static str,
    purpose: String,
    redirect: String,
    /// Per stage: whether it allows the type.
    cells: Vec<Cell>,
}

struct Cell {
    fit: bool,
}

struct StageView {
    order: i64,
    name: String,
    engagement: &'static str,
    expectation: String,
    deliverable: String,
    types: String,
    gap: bool,
}

struct RuleView {
    id: String,
    applies_to: &'static str,
    effect: String,
    effect_phrase: &'static str,
    description: String,
    condition: String,
    message: String,
    approver: String,
    cites: String,
}

struct SignalView {
    id: String,
    name: String,
    description: String,
    measure: String,
    lines: String,
}

#[derive(Template)]
#[template(path = "playbook/show.html")]
struct PlaybookPage {
    layout: Layout,
    version: i64,
    since: String,
    name: String,
    description: String,
    stages: Vec<StageCol>,
    types: Vec<TypeRow>,
    stage_views: Vec<StageView>,
    rules: Vec<RuleView>,
    signals: Vec<SignalView>,
}

fn engagement(e: PmEngagement) -> (&'static str, &'static str) {
    match e {
        PmEngagement::None => ("PMs not engaged", "none"),
        PmEngagement::OnRequest => ("PM on request", "watch"),
        PmEngagement::Expected => ("PM expected", "ok"),
    }
}

/// "a sales manager".
fn a_role(r: accord_domain::people::Role) -> String {
    let label = role_label(r).to_lowercase();
    let article = if label.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {label}")
}

pub(crate) async fn show(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    v.principal.require(Action::ReadPlaybook)?;
    let active = state.service.playbook();
    let p = &active.playbook;
    let stages = p
        .stages
        .iter()
        .map(|s| {
            let (engagement, engagement_key) = engagement(s.engagement);
            StageCol {
                id: s.id.to_string(),
                name: s.name.clone(),
                engagement,
                engagement_key,
            }
        })
        .collect();
    let types = p
        .engagement_types
        .iter()
        .map(|t| TypeRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            category: match t.category {
                Category::Product => "product",
                Category::SalesSupport => "sales support",
            },
            category_key: match t.category {
                Category::Product => "product",
                Category::SalesSupport => "support",
            },
            purpose: fmt::words(t.purpose.as_str()),
            redirect: t.redirect_to.as_deref().map(fmt::words).unwrap_or_default(),
            cells: p
                .stages
                .iter()
                .map(|s| Cell {
                    fit: s.allows(&t.id),
                })
                .collect(),
        })
        .collect();
    let stage_views = p
        .stages
        .iter()
        .map(|s| StageView {
            order: s.order,
            name: s.name.clone(),
            engagement: engagement(s.engagement).0,
            expectation: s.expectation.trim().to_owned(),
            deliverable: s.deliverable.clone().unwrap_or_default(),
            types: s
                .allowed_types
                .iter()
                .map(|t| {
                    p.engagement_type(t.as_str())
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| t.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            gap: s.engagement != PmEngagement::None && s.is_gap(),
        })
        .collect();
    let rules = p
        .rules
        .iter()
        .map(|r| RuleView {
            id: r.id.to_string(),
            applies_to: r.applies_to.describe(),
            effect: r.effect.as_str().to_owned(),
            effect_phrase: effect_phrase(r.effect, r.applies_to),
            description: r.description.clone().unwrap_or_default(),
            condition: r.condition.describe(),
            message: r.message_text.clone(),
            approver: if r.effect.is_blocking() {
                a_role(r.approver)
            } else {
                String::new()
            },
            cites: r
                .cites
                .as_ref()
                .map(|c| {
                    p.charter
                        .accountabilities
                        .iter()
                        .find(|a| &a.id == c)
                        .map(|a| a.title.clone())
                        .unwrap_or_else(|| c.to_string())
                })
                .unwrap_or_default(),
        })
        .collect();
    let signals = p
        .signals
        .iter()
        .map(|s| {
            let info = s.metric.info();
            let val = |x: f64| match info.unit {
                Unit::Rate => fmt::pct(x),
                Unit::PerMonth => format!("{x} a month"),
            };
            let more = match s.direction {
                Direction::Above => "or more",
                Direction::Below => "or less",
            };
            SignalView {
                id: s.id.to_string(),
                name: s.name.clone(),
                description: s.description.clone(),
                measure: format!(
                    "{}, out of {} — per {}, over {} days.",
                    info.numerator,
                    info.denominator,
                    fmt::words(s.subject.as_str()),
                    s.window_days
                ),
                lines: format!(
                    "Watch at {} {more}; act at {} {more}; from a sample of {}.",
                    val(s.watch),
                    val(s.act),
                    s.min_sample
                ),
            }
        })
        .collect();
    render(
        &v,
        &PlaybookPage {
            layout: Layout::new(&v, "The rules of engagement", "/playbook"),
            version: active.version,
            since: fmt::when(active.created_at, v.tz),
            name: p.name.clone(),
            description: p.description.clone(),
            stages,
            types,
            stage_views,
            rules,
            signals,
        },
    )
}
