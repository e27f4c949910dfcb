//! `accord playbook ...`

use crate::{accord, scratch, stderr, stdout};

fn default_toml() -> String {
    let o = accord(&["playbook", "default"]);
    assert!(o.status.success());
    stdout(&o)
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

/// Checks a mutated default playbook: exit 2, and the error located at
/// `file:line:col` with its code.
fn refused(name: &str, from: &str, to: &str, needle: &str, col: usize, code: &str) {
    let text = default_toml().replacen(from, to, 1);
    assert_ne!(text, default_toml(), "{from:?} not found");
    let path = scratch(name, &text);
    let o = accord(&["playbook", "check", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let at = format!("{}:{}:{}", path.display(), line_of(&text, needle), col);
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    assert!(err.contains(code), "expected {code} in:\n{err}");
    assert!(err.contains("invalid playbook: "), "{err}");
}

#[test]
fn the_default_playbook_checks_and_passes_its_tests() {
    let path = scratch("default.toml", default_toml());
    let o = accord(&["playbook", "check", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("ok — accord default"));

    let o = accord(&["playbook", "test"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let last = out.lines().last().unwrap();
    assert!(last.ends_with("passed, 0 failed"), "{last}");
    let n: usize = last.split_whitespace().next().unwrap().parse().unwrap();
    assert!(n >= 20);
    assert_eq!(out.lines().filter(|l| l.starts_with("ok ")).count(), n);
}

#[test]
fn toml_syntax_error() {
    refused(
        "syntax.toml",
        "[settings]",
        "[settings",
        "[settings",
        10,
        "playbook::toml",
    );
}

#[test]
fn unknown_key() {
    refused(
        "key.toml",
        "min_briefing_chars = 40",
        "min_briefing_chars = 40\ncolour = 1",
        "colour",
        1,
        "playbook::unknown-key",
    );
}

#[test]
fn duplicate_id() {
    let from = "id = \"pricing\"";
    let text = default_toml().replacen(from, "id = \"demo\"", 1);
    let path = scratch("dup.toml", &text);
    let o = accord(&["playbook", "check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let second = text.match_indices("id = \"demo\"").nth(1).unwrap().0;
    let line = text[..second].matches('\n').count() + 1;
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}:{line}:6", path.display())),
        "{err}"
    );
    assert!(
        err.contains("duplicate engagement type id \"demo\""),
        "{err}"
    );
}

#[test]
fn unknown_stage_or_type_reference() {
    refused(
        "ref.toml",
        "allowed_types = [\"discovery-call\", \"roadmap-briefing\"]",
        "allowed_types = [\"discovery-call\", \"roadmap-brefing\"]",
        "roadmap-brefing",
        36,
        "playbook::unknown-reference",
    );
}

#[test]
fn threshold_out_of_order_or_range() {
    refused(
        "order.toml",
        "watch = 0.2\nact = 0.4",
        "watch = 0.5\nact = 0.4",
        "watch = 0.5",
        9,
        "playbook::threshold-order",
    );
    refused(
        "range.toml",
        "watch = 0.15\nact = 0.25",
        "watch = 0.15\nact = 2.5",
        "act = 2.5",
        7,
        "playbook::out-of-range",
    );
}

#[test]
fn cel_errors_name_the_rule() {
    let text = default_toml().replacen("!meeting.owner_present\"", "!meeting.owner_presnt\"", 1);
    let path = scratch("cel.toml", &text);
    let o = accord(&["playbook", "check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let line = line_of(&text, "owner_presnt");
    let col = text
        .lines()
        .nth(line - 1)
        .unwrap()
        .find(".owner_presnt")
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("{}:{line}:{col}", path.display())),
        "{err}"
    );
    assert!(err.contains("rule owner-present"), "{err}");
    assert!(
        err.contains("`meeting` has no field `owner_presnt`"),
        "{err}"
    );
    assert!(err.contains("help:"), "{err}");
}

#[test]
fn a_failing_test_exits_1_and_says_why() {
    let text = default_toml().replacen(
        "when = \"meeting.customer_facing && meeting.pm_present && !meeting.owner_present\"",
        "when = \"meeting.customer_facing && !meeting.owner_present\"",
        1,
    );
    let path = scratch("failing.toml", &text);
    let o = accord(&["playbook", "test", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("a rep meeting a customer without a PM is not the rule's business: expected allow, got deny"), "{out}");
    assert!(out.lines().last().unwrap().ends_with("1 failed"), "{out}");
}

#[test]
fn an_invalid_playbook_is_exit_2_for_test_and_show_too() {
    let path = scratch("invalid.toml", "this is not toml");
    for cmd in ["check", "test", "show"] {
        let o = accord(&["playbook", cmd, path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
    }
}

#[test]
fn binary_and_missing_files_are_clear_errors() {
    let path = scratch("binary.toml", [0xff, 0xfe, 0x00, 0x01]);
    let o = accord(&["playbook", "check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));

    let o = accord(&["playbook", "check", "/nonexistent/playbook.toml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("cannot read /nonexistent/playbook.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn show_reads_like_a_playbook() {
    let o = accord(&["playbook", "show"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for needle in [
        "THE PRODUCT MANAGEMENT CHARTER",
        "THE SALES PROCESS MODEL",
        "THE RULES",
        "THE SIGNALS",
        "no-ambush — for an engagement request: allowed, with a warning (warn).",
    ] {
        assert!(out.contains(needle), "{needle}");
    }
    assert!(
        out.lines().all(|l| l.chars().count() <= 100),
        "lines fit in 100 columns"
    );
    let o = accord(&["playbook", "show", "--fields"]);
    assert!(stdout(&o).contains("meeting.owner_present"));
}
