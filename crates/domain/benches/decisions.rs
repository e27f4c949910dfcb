//! Decisions per second against the default playbook, for an engagement
//! request and for a meeting, beside the same rules written as plain Rust
//! functions: the floor an interpreter cannot beat.
//!
//! Run: `cargo bench -p accord-domain --bench decisions`
//! Target: ≤ 5 µs per decision (p50) and ≤ 5× the plain-Rust floor.

// Test and bench code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use accord_domain::id::RuleId;
use accord_domain::playbook::Playbook;
use accord_domain::request::Category;
use accord_domain::rules::input::{
    AccountFacts, Input, MeetingFacts, MeetingInput, RequestFacts, RequestInput,
};
use accord_domain::rules::{Decision, Effect, RuleMatch, evaluate_facts};
use criterion::{Criterion, criterion_group, criterion_main};

fn request() -> RequestInput {
    RequestInput {
        engagement_type: "demo".into(),
        stage: "discovery".into(),
        briefing: "call me".into(),
        lead_time_hours: 20.0,
        lead_time_business_days: Some(1),
        account: AccountFacts {
            name: "Acme Corporation".into(),
            owner_email: "dana@example.com".into(),
            owner_name: "Dana Reyes".into(),
            has_owner: None,
        },
        ..RequestInput::default()
    }
}

fn meeting() -> MeetingInput {
    MeetingInput {
        title: "Quarterly business review".into(),
        customer_attendees: 3,
        pm_attendees: 1,
        owner_present: false,
        account: AccountFacts {
            name: "Acme Corporation".into(),
            owner_email: "dana@example.com".into(),
            owner_name: "Dana Reyes".into(),
            has_owner: None,
        },
        ..MeetingInput::default()
    }
}

fn rule(id: &str) -> RuleId {
    RuleId::parse(id).unwrap()
}

/// The default playbook's request rules, hand-written: same inputs, same
/// messages, same decision.
fn request_native(p: &Playbook, i: &RequestInput, excepted: &[RuleId]) -> Decision {
    let ty = p.engagement_type(&i.engagement_type).unwrap();
    let stage = p.stage(&i.stage).unwrap();
    let purpose = i.purpose.unwrap_or(ty.purpose);
    let days = i
        .lead_time_business_days
        .unwrap_or((i.lead_time_hours / 24.0) as i64);
    let has_briefing = i.briefing.trim().chars().count() >= p.settings.min_briefing_chars;
    let mut matched = Vec::new();
    let mut push = |id: &str, effect: Effect, message: String| {
        let id = rule(id);
        let exc = effect.is_blocking() && excepted.contains(&id);
        matched.push(RuleMatch {
            rule: id,
            effect,
            applied: if exc { Effect::Audit } else { effect },
            message,
            cites: None,
            excepted: exc,
            approver: None,
        });
    };
    if ty.category == Category::Product && !stage.allows(&ty.id) {
        push(
            "stage-fit",
            Effect::Exception,
            format!(
                "The {} stage does not call for a {}: the sales process model allows {} there.",
                stage.name,
                ty.name,
                stage.allowed_type_names.join(", ")
            ),
        );
    }
    if ty.category == Category::SalesSupport {
        push(
            "pm-not-sales-support",
            Effect::Exception,
            format!(
                "A {} is sales support, not product management: send it to {}.",
                ty.name,
                ty.redirect_to.as_deref().unwrap_or("")
            ),
        );
    }
    if days < 2 || !has_briefing {
        push(
            "no-ambush",
            Effect::Warn,
            format!(
                "Give the PM at least 2 business days and a briefing (notice: {days} business days; briefing: {}).",
                if has_briefing { "yes" } else { "no" }
            ),
        );
    }
    if purpose.as_str() == "vision" {
        push(
            "vision-on-record",
            Effect::Audit,
            format!(
                "Vision shared with {}: recorded so the PM lead sees what customers hear about the future.",
                i.account.name
            ),
        );
    }
    let effect = matched
        .iter()
        .map(|m| m.applied)
        .max()
        .unwrap_or(Effect::Allow);
    Decision {
        kind: accord_domain::record::RecordKind::Request,
        effect,
        matched,
    }
}

fn meeting_native(i: &MeetingInput, excepted: &[RuleId]) -> Decision {
    let mut matched = Vec::new();
    let customer_facing = i.customer_attendees > 0 && i.internal_attendees > 0;
    if customer_facing && i.pm_attendees > 0 && !i.owner_present {
        let id = rule("owner-present");
        let exc = excepted.contains(&id);
        matched.push(RuleMatch {
            rule: id,
            effect: Effect::Deny,
            applied: if exc { Effect::Audit } else { Effect::Deny },
            message: format!(
                "A PM meets {} without the relationship owner ({}): customer visits and calls are attended by the owner from sales.",
                i.account.name, i.account.owner_name
            ),
            cites: None,
            excepted: exc,
            approver: None,
        });
    }
    let effect = matched
        .iter()
        .map(|m| m.applied)
        .max()
        .unwrap_or(Effect::Allow);
    Decision {
        kind: accord_domain::record::RecordKind::Meeting,
        effect,
        matched,
    }
}

fn bench(c: &mut Criterion) {
    let p = Playbook::default_playbook();
    let req = request();
    let meet = meeting();

    // The two paths must agree, or the comparison means nothing.
    let facts = RequestFacts::new(&req, &p).unwrap();
    let cel = evaluate_facts(&p, &facts, &[]);
    let native = request_native(&p, &req, &[]);
    assert_eq!(cel.effect, native.effect);
    assert_eq!(
        cel.matched
            .iter()
            .map(|m| (&m.rule, &m.message))
            .collect::<Vec<_>>(),
        native
            .matched
            .iter()
            .map(|m| (&m.rule, &m.message))
            .collect::<Vec<_>>()
    );
    let cel = evaluate_facts(&p, &MeetingFacts::new(&meet), &[]);
    let native = meeting_native(&meet, &[]);
    assert_eq!(cel.effect, native.effect);
    assert_eq!(cel.matched[0].message, native.matched[0].message);

    let mut g = c.benchmark_group("decision");
    g.bench_function("request/cel", |b| {
        b.iter(|| {
            let facts = RequestFacts::new(black_box(&req), &p).unwrap();
            evaluate_facts(&p, &facts, &[])
        })
    });
    g.bench_function("request/native", |b| {
        b.iter(|| request_native(&p, black_box(&req), &[]))
    });
    g.bench_function("meeting/cel", |b| {
        b.iter(|| evaluate_facts(&p, &MeetingFacts::new(black_box(&meet)), &[]))
    });
    g.bench_function("meeting/native", |b| {
        b.iter(|| meeting_native(black_box(&meet), &[]))
    });
    // The public entry point, with the catalog join, as the service calls it.
    let input = Input::Request(req.clone());
    g.bench_function("request/evaluate", |b| {
        b.iter(|| accord_domain::evaluate(&p, black_box(&input), &[]).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
