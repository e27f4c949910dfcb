//! No input makes the playbook reader or the rules engine panic.

use accord_domain::playbook::{DEFAULT_TOML, Playbook};
use accord_domain::record::RecordKind;
use accord_domain::rules::condition::Condition;
use accord_domain::rules::template::Template;
use proptest::prelude::*;

fn check(text: &str) {
    // Whatever happens, it is a value, not a panic; errors are located
    // within the text.
    match Playbook::parse("fuzz.toml", text) {
        Ok(p) => {
            let _ = accord_domain::playbook::testing::run(&p);
            let _ = accord_domain::playbook::show::all(&p);
        }
        Err(e) => {
            for d in &e.diagnostics {
                if let Some(span) = &d.span {
                    assert!(span.start <= text.len(), "{d:?}");
                }
                let _ = d.one_line();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_toml_like_text_never_panics(text in "[\\[\\]a-z_=\"'{}., 0-9\\n#-]{0,400}") {
        check(&text);
    }

    #[test]
    fn mutated_default_playbooks_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..40, "[a-z\"'{}\\[\\]=.!&|<>0-9 \\n]{0,12}"), 1..6)
    ) {
        let mut text = DEFAULT_TOML.to_owned();
        for (at, len, with) in edits {
            let mut start = at.index(text.len());
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(start..end, &with);
        }
        check(&text);
    }

    #[test]
    fn mutated_lines_never_panic(drop in proptest::collection::vec(any::<prop::sample::Index>(), 1..8)) {
        let mut lines: Vec<&str> = DEFAULT_TOML.lines().collect();
        for d in drop {
            if lines.is_empty() { break; }
            let i = d.index(lines.len());
            lines.remove(i);
        }
        check(&lines.join("\n"));
    }

    #[test]
    fn arbitrary_conditions_never_panic(src in "[a-z_.!&|()<>=\"' 0-9\\[\\],+*/%-]{0,80}") {
        for kind in RecordKind::ALL {
            if let Ok(c) = Condition::compile(kind, &src) {
                let _ = c.describe();
            }
        }
    }

    #[test]
    fn arbitrary_templates_never_panic(src in "[a-z_.{} é]{0,60}") {
        let _ = Template::parse(RecordKind::Meeting, &src);
    }
}

#[test]
fn deeply_nested_conditions_are_refused_not_overflowed() {
    let deep = format!("{}true{}", "(".repeat(500), ")".repeat(500));
    assert!(Condition::compile(RecordKind::Meeting, &deep).is_err());
    let deep = format!("{}meeting.pm_present", "!".repeat(2000));
    let _ = Condition::compile(RecordKind::Meeting, &deep);
}

#[test]
fn deeply_nested_toml_is_refused_not_overflowed() {
    for text in [
        format!("name = {}", "[".repeat(100_000)),
        format!("name = {}1{}", "[".repeat(5_000), "]".repeat(5_000)),
        format!("name = {}", "{a=".repeat(50_000)),
    ] {
        assert!(Playbook::parse("deep.toml", &text).is_err());
    }
}
