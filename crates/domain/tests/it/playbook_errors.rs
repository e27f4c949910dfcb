//! Every kind of playbook error is refused with its location, its code and
//! the item at fault.

use accord_domain::playbook::{DEFAULT_TOML, Playbook};

/// The default playbook with one textual change.
fn mutate(from: &str, to: &str) -> String {
    assert!(
        DEFAULT_TOML.contains(from),
        "the default playbook has no {from:?}"
    );
    DEFAULT_TOML.replacen(from, to, 1)
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
    text[..at].matches('\n').count() + 1
}

/// Parses and returns the first error's (code, line, column, item, message).
fn first_error(text: &str) -> (String, usize, usize, String, String) {
    let err = Playbook::parse("p.toml", text).expect_err("the playbook should be refused");
    let d = err.errors().next().expect("at least one error");
    let (line, col) = d.location().expect("located");
    (
        d.code.to_owned(),
        line,
        col,
        d.item.clone().unwrap_or_default(),
        d.message.clone(),
    )
}

#[test]
fn toml_syntax_errors_are_located() {
    let text = mutate("[settings]", "[settings");
    let (code, line, _, _, msg) = first_error(&text);
    assert_eq!(code, "playbook::toml");
    assert_eq!(line, line_of(&text, "[settings"));
    assert!(msg.contains("expected `]`"), "{msg}");
}

#[test]
fn unknown_keys_are_refused() {
    let text = mutate(
        "pm_engagement = \"none\"\nexpectation = \"\"",
        "pm_engagement = \"none\"\nexpectations = \"\"",
    );
    let (code, line, col, _, msg) = first_error(&text);
    assert_eq!(code, "playbook::unknown-key");
    assert_eq!((line, col), (line_of(&text, "expectations ="), 1));
    assert!(msg.contains("unknown field `expectations`"), "{msg}");
}

#[test]
fn unknown_enum_values_are_refused() {
    let text = mutate("effect = \"deny\"", "effect = \"forbid\"");
    let (code, line, _, _, msg) = first_error(&text);
    assert_eq!(code, "playbook::invalid-value");
    assert_eq!(line, line_of(&text, "\"forbid\""));
    assert!(msg.contains("forbid"), "{msg}");
}

#[test]
fn duplicate_ids_name_the_first_use() {
    let text = mutate("id = \"pm-not-sales-support\"", "id = \"stage-fit\"");
    let (code, line, col, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::duplicate-id");
    let second = text.match_indices("id = \"stage-fit\"").nth(1).unwrap().0;
    assert_eq!(line, text[..second].matches('\n').count() + 1);
    assert_eq!(col, 6);
    assert_eq!(item, "rule stage-fit");
    assert!(
        msg.contains(&format!("line {}", line_of(&text, "id = \"stage-fit\""))),
        "{msg}"
    );
}

#[test]
fn references_to_missing_types_and_stages_are_refused() {
    let text = mutate(
        "allowed_types = [\"rfp-section\", \"presentation-development\", \"roadmap-briefing\"]",
        "allowed_types = [\"rfp-section\", \"presentation-dev\", \"roadmap-briefing\"]",
    );
    let (code, line, col, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::unknown-reference");
    assert_eq!(line, line_of(&text, "\"presentation-dev\""));
    assert_eq!(col, 33);
    assert_eq!(item, "stage proposal");
    assert!(msg.contains("presentation-dev"), "{msg}");

    // A test record naming a stage the model does not have.
    let text = mutate(
        "stage = \"negotiation\", lead_time_business_days = 3",
        "stage = \"haggling\", lead_time_business_days = 3",
    );
    let (code, line, _, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::unknown-reference");
    assert_eq!(line, line_of(&text, "\"haggling\""));
    assert!(item.starts_with("test 8"), "{item}");
    assert!(msg.contains("haggling"), "{msg}");
}

#[test]
fn citations_must_name_a_charter_clause() {
    let text = mutate("cites = \"owner-present\"", "cites = \"owner-presence\"");
    let (code, line, _, item, _) = first_error(&text);
    assert_eq!(code, "playbook::unknown-reference");
    assert_eq!(line, line_of(&text, "cites = \"owner-presence\""));
    assert_eq!(item, "rule owner-present");
}

#[test]
fn watch_must_not_exceed_act() {
    let text = mutate("watch = 0.2\nact = 0.4", "watch = 0.5\nact = 0.4");
    let (code, line, col, item, _) = first_error(&text);
    assert_eq!(code, "playbook::threshold-order");
    assert_eq!((line, col), (line_of(&text, "watch = 0.5"), 9));
    assert_eq!(item, "signal restricted-access");
}

#[test]
fn lower_is_worse_signals_invert_the_order() {
    let text = mutate("watch = 0.9\nact = 0.75", "watch = 0.7\nact = 0.75");
    let (code, _, _, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::threshold-order");
    assert_eq!(item, "signal owner-presence");
    assert!(msg.contains("must not be below"), "{msg}");
}

#[test]
fn rates_must_be_between_zero_and_one() {
    let text = mutate("watch = 0.15\nact = 0.25", "watch = 15\nact = 25");
    let (code, line, _, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::out-of-range");
    assert_eq!(line, line_of(&text, "watch = 15"));
    assert_eq!(item, "signal sales-support-share");
    assert!(msg.contains("between 0 and 1"), "{msg}");
}

#[test]
fn unknown_fields_in_conditions_are_refused_at_check_time() {
    let text = mutate("!meeting.owner_present\"", "!meeting.owner_presnt\"");
    let (code, line, col, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::condition");
    let l = line_of(&text, "owner_presnt");
    assert_eq!(line, l);
    // The column points at the misspelt field (after its dot).
    let line_text = text.lines().nth(l - 1).unwrap();
    assert_eq!(col, line_text.find(".owner_presnt").unwrap() + 1);
    assert_eq!(item, "rule owner-present");
    assert!(msg.contains("has no field `owner_presnt`"), "{msg}");
}

#[test]
fn type_errors_in_conditions_are_refused_at_check_time() {
    let text = mutate(
        "when = \"request.lead_time_business_days < 2 || !request.has_briefing\"",
        "when = \"request.lead_time_business_days < '2' || !request.has_briefing\"",
    );
    let (code, line, _, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::condition");
    assert_eq!(line, line_of(&text, "< '2'"));
    assert_eq!(item, "rule no-ambush");
    assert!(msg.contains("cannot be compared"), "{msg}");
}

#[test]
fn syntax_errors_in_conditions_are_refused() {
    let text = mutate(
        "when = 'type.category == \"sales_support\"'",
        "when = 'type.category == '",
    );
    let (code, line, _, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::condition");
    assert_eq!(line, line_of(&text, "when = 'type.category == '"));
    assert_eq!(item, "rule pm-not-sales-support");
    assert!(msg.starts_with("in its condition: syntax error"), "{msg}");
}

#[test]
fn conditions_of_the_wrong_record_kind_are_refused() {
    // owner-present's condition on an access request.
    let text = mutate("applies_to = \"meeting\"", "applies_to = \"access\"");
    let (code, _, _, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::condition");
    assert_eq!(item, "rule owner-present");
    assert!(msg.contains("unknown name `meeting`"), "{msg}");
}

#[test]
fn message_templates_are_checked() {
    let text = mutate(
        "send it to {type.redirect_to}.",
        "send it to {type.redirect}.",
    );
    let (code, line, _, item, msg) = first_error(&text);
    assert_eq!(code, "playbook::message");
    assert_eq!(line, line_of(&text, "{type.redirect}"));
    assert_eq!(item, "rule pm-not-sales-support");
    assert!(msg.contains("no field `redirect`"), "{msg}");
}

#[test]
fn every_error_is_reported_at_once() {
    let text = mutate("watch = 0.2\nact = 0.4", "watch = 0.5\nact = 0.4")
        .replacen("cites = \"owner-present\"", "cites = \"nope\"", 1)
        .replacen("!meeting.owner_present\"", "!meeting.x\"", 1);
    let err = Playbook::parse("p.toml", &text).unwrap_err();
    let codes: Vec<&str> = err.errors().map(|d| d.code).collect();
    assert_eq!(codes.len(), 3, "{err}");
    assert!(err.to_string().contains("p.toml:"), "{err}");
}

#[test]
fn a_stage_without_an_expectation_is_a_warning_not_an_error() {
    let text = mutate(
        "expectation = \"Hear feedback on performance and share direction with the customer who already uses the product.\"",
        "",
    );
    let p = Playbook::parse("p.toml", &text).unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.warnings[0].code, "playbook::model-gap");
    assert_eq!(p.warnings[0].item.as_deref(), Some("stage renewal"));
}

#[test]
fn a_minimal_playbook_is_enough() {
    let text = r#"
[charter]
mission = "We own the product's direction."

[[engagement_types]]
id = "roadmap"
name = "Roadmap"
purpose = "direction"
category = "product"

[[stages]]
id = "deal"
name = "Deal"
order = 1
pm_engagement = "on_request"
allowed_types = ["roadmap"]
expectation = "Share the roadmap."
"#;
    let p = Playbook::parse("min.toml", text).unwrap();
    assert_eq!(p.stages.len(), 1);
    assert!(p.rules.is_empty());
    // No accountabilities is worth a warning.
    assert_eq!(p.warnings.len(), 1);
}
