//! How a PM's time splits between product work and sales support over the
//! window of the sales-support signal: hours of completed requests by
//! category and type, as bars with the numbers written beside them, and
//! where the share stands against the playbook's thresholds.

use accord_domain::id::PersonId;
use accord_domain::playbook::{Metric, SubjectKind};
use accord_domain::request::Category;
use accord_domain::signal::{Direction, SignalStatus, classify};
use accord_service::Action;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::requests::Choice;
use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, render};
use crate::names::Names;
use crate::session::Viewer;

/// One bar: a label, its hours and share, and its width in percent.
struct Bar {
    label: String,
    /// `product` or `support` (the bar's colour, and a word beside it).
    category: &'static str,
    category_label: &'static str,
    requests: i64,
    /// "1 request", "3 requests".
    requests_text: String,
    hours: String,
    share: String,
    width: String,
}

fn requests_text(n: i64) -> String {
    if n == 1 {
        "1 request".into()
    } else {
        format!("{n} requests")
    }
}

#[derive(Template)]
#[template(path = "time/split.html")]
struct TimePage {
    layout: Layout,
    /// Whose time ("your" or a PM's name).
    whose: String,
    own: bool,
    window: String,
    window_days: u32,
    requests: i64,
    /// "8 h on 3 completed requests".
    headline: String,
    product: Bar,
    support: Bar,
    types: Vec<Bar>,
    /// The sales-support signal's thresholds, in words.
    thresholds: String,
    status: Option<(String, &'static str)>,
    /// Leaders choose a PM.
    pms: Vec<Choice>,
}

#[derive(Deserialize, Default)]
pub(crate) struct TimeQuery {
    pm: Option<String>,
}

fn hours(h: f64) -> String {
    if (h - h.round()).abs() < 0.05 {
        format!("{h:.0} h")
    } else {
        format!("{h:.1} h")
    }
}

fn bar(label: String, category: Category, requests: i64, h: f64, total: f64) -> Bar {
    let share = if total > 0.0 { h / total } else { 0.0 };
    Bar {
        label,
        category: match category {
            Category::Product => "product",
            Category::SalesSupport => "support",
        },
        category_label: match category {
            Category::Product => "product work",
            Category::SalesSupport => "sales support",
        },
        requests,
        requests_text: requests_text(requests),
        hours: hours(h),
        share: fmt::pct(share),
        width: format!("{:.1}", share * 100.0),
    }
}

pub(crate) async fn page(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<TimeQuery>,
) -> Result<Response, WebError> {
    let leader = v.principal.require(Action::ReadReport).is_ok();
    let me = v.principal.person.id;
    let chosen =
        q.pm.as_deref()
            .and_then(|p| p.parse::<uuid::Uuid>().ok())
            .map(PersonId);
    let pm = match chosen {
        Some(p) if leader => p,
        _ if v.role().is_product() => me,
        _ if leader => me,
        _ => {
            return Err(WebError::Forbidden(
                "How PMs' time splits is for PMs and their leaders".into(),
            ));
        }
    };
    let names = Names::load(&state.service, &v.principal).await?;
    let active = state.service.playbook();
    let def = active
        .playbook
        .signals
        .iter()
        .find(|s| s.metric == Metric::SalesSupportShare && s.subject == SubjectKind::Pm);
    let window_days = def.map(|d| d.window_days).unwrap_or(90);
    // Days as the signals count them (UTC), so the numbers match the
    // leaders' report.
    let today = state.service.now().date_naive();
    let pms: Vec<Choice> = if leader {
        names
            .people()
            .into_iter()
            .filter(|p| p.active && p.role.is_product())
            .map(|p| Choice {
                value: p.id.to_string(),
                label: format!("{} ({})", p.name, names.team(p.team)),
                selected: p.id == pm,
            })
            .collect()
    } else {
        Vec::new()
    };
    let own = pm == me;
    // A leader who is not a PM has no time of their own here: they choose.
    let split = if own && !v.role().is_product() {
        None
    } else {
        Some(
            state
                .service
                .time_split(&v.principal, pm, today, window_days)
                .await?,
        )
    };
    let total = split.as_ref().map(|s| s.total_hours()).unwrap_or(0.0);
    let (product_h, support_h, requests) = split
        .as_ref()
        .map(|s| (s.product_hours, s.support_hours, s.requests))
        .unwrap_or((0.0, 0.0, 0));
    let product_n = split
        .as_ref()
        .map(|s| {
            s.by_type
                .iter()
                .filter(|t| t.category == Category::Product)
                .map(|t| t.requests)
                .sum()
        })
        .unwrap_or(0);
    let types = split
        .as_ref()
        .map(|s| {
            s.by_type
                .iter()
                .map(|t| bar(t.name.clone(), t.category, t.requests, t.hours, total))
                .collect()
        })
        .unwrap_or_default();
    let (first, last) = split.as_ref().map(|s| (s.first, s.last)).unwrap_or((
        today - chrono::Duration::days(i64::from(window_days) - 1),
        today,
    ));
    let (thresholds, status) = match (def, split.as_ref().and_then(|s| s.support_share())) {
        (Some(d), share) => {
            let more = match d.direction {
                Direction::Above => "or more",
                Direction::Below => "or less",
            };
            let words = format!(
                "The playbook watches a PM's sales-support share at {} {more} and acts at {} {more}, from {} hours of completed work.",
                fmt::pct(d.watch),
                fmt::pct(d.act),
                d.min_sample
            );
            let status = share.map(|s| {
                let st = classify(s, total, d.min_sample, d.direction, d.watch, d.act);
                let word = match st {
                    SignalStatus::Ok => "Healthy".to_owned(),
                    SignalStatus::Watch => "Worth a look: past the watch line".to_owned(),
                    SignalStatus::Act => {
                        "Past the act line: the leaders will want to talk about it".to_owned()
                    }
                    SignalStatus::InsufficientData => {
                        format!("Too few hours to say (the signal needs {})", d.min_sample)
                    }
                };
                (word, st.as_str())
            });
            (words, status)
        }
        (None, _) => (String::new(), None),
    };
    let whose = if own {
        "Your".to_owned()
    } else {
        format!("{}'s", names.name(pm))
    };
    render(
        &v,
        &TimePage {
            layout: Layout::new(&v, "How my time splits", "/time"),
            whose,
            own: own && v.role().is_product(),
            window: format!("{} – {}", fmt::day(first), fmt::day(last)),
            window_days,
            requests,
            headline: format!(
                "{} on {}",
                hours(total),
                if requests == 1 {
                    "1 completed request".to_owned()
                } else {
                    format!("{requests} completed requests")
                }
            ),
            product: bar(
                "Product work".into(),
                Category::Product,
                product_n,
                product_h,
                total,
            ),
            support: bar(
                "Sales support".into(),
                Category::SalesSupport,
                requests - product_n,
                support_h,
                total,
            ),
            types,
            thresholds,
            status,
            pms,
        },
    )
}
