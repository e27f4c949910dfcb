//! The playbook as a sales leader reads it: the charter, the sales process
//! model as a stage × engagement-type matrix, and each rule in plain
//! English. Plain text, 100 columns at most.

use std::fmt::Write;

use crate::people::Role;
use crate::playbook::{Playbook, PmEngagement};
use crate::record::RecordKind;
use crate::request::Category;
use crate::rules::Effect;
use crate::rules::facts;

fn role_phrase(role: Role) -> &'static str {
    match role {
        Role::Pm => "a PM",
        Role::PmLead => "a PM lead",
        Role::SalesRep => "a sales rep",
        Role::SalesManager => "a sales manager",
        Role::SalesEngineer => "a sales engineer",
        Role::Admin => "an admin",
        Role::Constituent => "a constituent",
    }
}

/// What an effect means, for a record kind.
pub fn effect_phrase(effect: Effect, kind: RecordKind) -> &'static str {
    match (effect, kind) {
        (Effect::Deny, RecordKind::Meeting | RecordKind::Commitment) => {
            "refused when planned through accord; a violation when it already happened"
        }
        (Effect::Deny, _) => "refused",
        (Effect::Exception, _) => "held until an exception is approved",
        (Effect::Warn, _) => "allowed, with a warning",
        (Effect::Audit, _) => "allowed, and recorded",
        (Effect::Allow, _) => "allowed",
    }
}

fn wrap(text: &str, indent: &str, width: usize, out: &mut String) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

/// The charter section.
pub fn charter(p: &Playbook) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "THE PRODUCT MANAGEMENT CHARTER\n");
    wrap(&p.charter.mission, "  ", 96, &mut out);
    let _ = writeln!(out, "\n  Key accountabilities:");
    for a in &p.charter.accountabilities {
        let _ = writeln!(out, "  - {} [{}]", a.title, a.id);
        wrap(&a.text, "      ", 96, &mut out);
    }
    if !p.charter.required_endorsements.is_empty() {
        let _ = writeln!(
            out,
            "\n  Ratified when endorsed by the leads of: {}.",
            p.charter.required_endorsements.join(", ")
        );
    }
    out
}

/// The sales process model: a matrix of engagement types (rows) by stages
/// (columns), then each stage's expectation.
pub fn model(p: &Playbook) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "THE SALES PROCESS MODEL\n");
    // 24 + 9 + 7 stages × 9 fits in 100 columns; longer names are cut.
    let name_w = p
        .engagement_types
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 24);
    const COL: usize = 8;
    let cut = |s: &str| -> String { s.chars().take(COL).collect() };
    let _ = write!(out, "  {:<name_w$} {:<8}", "", "");
    for s in &p.stages {
        let _ = write!(out, " {:^COL$}", cut(s.id.as_str()));
    }
    let _ = writeln!(out);
    let _ = write!(out, "  {:<name_w$} {:<8}", "engagement type", "category");
    for s in &p.stages {
        let e = match s.engagement {
            PmEngagement::None => "-",
            PmEngagement::OnRequest => "request",
            PmEngagement::Expected => "expected",
        };
        let _ = write!(out, " {:^COL$}", e);
    }
    let _ = writeln!(out);
    for t in &p.engagement_types {
        let name: String = t.name.chars().take(name_w).collect();
        let cat = match t.category {
            Category::Product => "product",
            Category::SalesSupport => "support",
        };
        let _ = write!(out, "  {name:<name_w$} {cat:<8}");
        for s in &p.stages {
            let mark = if s.allows(&t.id) { "✓" } else { "·" };
            let _ = write!(out, " {mark:^COL$}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "\n  ✓ the stage allows the type; PM engagement per stage: - none, request on request, expected."
    );
    let redirects: Vec<String> = p
        .engagement_types
        .iter()
        .filter_map(|t| t.redirect_to.as_ref().map(|r| format!("{} → {r}", t.name)))
        .collect();
    if !redirects.is_empty() {
        wrap(
            &format!("Redirected: {}.", redirects.join("; ")),
            "  ",
            96,
            &mut out,
        );
    }
    let _ = writeln!(out, "\n  What is expected of the PM at each stage:");
    for s in &p.stages {
        let head = format!("  {}. {}", s.order, s.name);
        if s.engagement == PmEngagement::None {
            let _ = writeln!(out, "{head}: PMs are not engaged.");
        } else if s.expectation.trim().is_empty() {
            let _ = writeln!(out, "{head}: nothing stated (a gap in the model).");
        } else {
            let _ = writeln!(out, "{head}");
            wrap(&s.expectation, "       ", 96, &mut out);
            if let Some(d) = &s.deliverable {
                wrap(&format!("Deliverable: {d}"), "       ", 96, &mut out);
            }
        }
    }
    out
}

/// Each rule in plain English.
pub fn rules(p: &Playbook) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "THE RULES\n");
    for r in &p.rules {
        wrap(
            &format!(
                "{} — for {}: {} ({}).",
                r.id,
                r.applies_to.describe(),
                effect_phrase(r.effect, r.applies_to),
                r.effect
            ),
            "  ",
            96,
            &mut out,
        );
        if let Some(d) = &r.description {
            wrap(d, "      ", 96, &mut out);
        }
        wrap(
            &format!("When {}.", r.condition.describe()),
            "      ",
            96,
            &mut out,
        );
        wrap(
            &format!("It says: \"{}\"", r.message_text),
            "      ",
            96,
            &mut out,
        );
        if r.effect.is_blocking() {
            let _ = writeln!(
                out,
                "      Can be set aside by an exception approved by {}.",
                role_phrase(r.approver)
            );
        }
        if let Some(c) = &r.cites {
            let title = p
                .charter
                .accountabilities
                .iter()
                .find(|a| &a.id == c)
                .map(|a| a.title.as_str())
                .unwrap_or("");
            let _ = writeln!(out, "      Charter: {title} [{c}].");
        }
        let _ = writeln!(out);
    }
    out
}

/// The signals and their thresholds.
pub fn signals(p: &Playbook) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "THE SIGNALS\n");
    for s in &p.signals {
        let (more, unit) = match s.direction {
            crate::signal::Direction::Above => ("or more", s.metric.info().unit),
            crate::signal::Direction::Below => ("or less", s.metric.info().unit),
        };
        let fmt = |v: f64| match unit {
            crate::playbook::Unit::Rate => format!("{:.0}%", v * 100.0),
            crate::playbook::Unit::PerMonth => format!("{v} a month"),
        };
        let _ = writeln!(out, "  {} — {}", s.id, s.name);
        wrap(
            &format!(
                "{} per {} over {} days: watch at {} {more}, act at {} {more}; needs a sample of {} or more.",
                s.metric,
                s.subject,
                s.window_days,
                fmt(s.watch),
                fmt(s.act),
                s.min_sample
            ),
            "      ",
            96,
            &mut out,
        );
        if !s.description.is_empty() {
            wrap(&s.description, "      ", 96, &mut out);
        }
    }
    out
}

/// The fields conditions and messages can use, per record kind.
pub fn fields() -> String {
    let mut out = String::new();
    for kind in RecordKind::ALL {
        let _ = writeln!(out, "{} rules (applies_to = \"{kind}\"):", kind.describe());
        for v in facts::schema(kind) {
            for f in v.fields {
                let _ = writeln!(
                    out,
                    "  {:<36} {:<13} {}",
                    format!("{}.{}", v.name, f.name),
                    f.ty.cel_name(),
                    f.doc
                );
            }
        }
        let _ = writeln!(out);
    }
    out
}

/// Everything: charter, model, rules, signals.
pub fn all(p: &Playbook) -> String {
    format!("{}\n{}\n{}\n{}", charter(p), model(p), rules(p), signals(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_playbook_reads_well() {
        let p = Playbook::default_playbook();
        let text = all(&p);
        assert!(text.contains("THE PRODUCT MANAGEMENT CHARTER"));
        assert!(text.contains("Product demo"));
        assert!(text.contains("owner-present — for a customer contact: refused when planned"));
        assert!(text.contains("approved by a sales manager"));
        assert!(text.contains("Qualification: PMs are not engaged."));
        // The matrix marks a fit and a misfit.
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with("RFP product section"))
            .unwrap();
        assert_eq!(row.matches('✓').count(), 1, "{row}");
    }
}
