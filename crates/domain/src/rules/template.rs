//! Rule messages: plain text with `{var.field}` placeholders, checked
//! against the record kind's schema when the playbook loads.
//!
//! `"{type.name} is sales support: ask {type.redirect_to}"` renders as
//! `"Product demo is sales support: ask sales_engineering"`. `{{` and `}}`
//! write literal braces.

use std::ops::Range;

use crate::record::RecordKind;
use crate::rules::facts::{self, FactSource};

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Field(&'static str, &'static str),
}

/// A checked message template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    /// A guess at the rendered length, so rendering allocates once.
    capacity: usize,
}

/// Why a template was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// Where, as a byte range of the template.
    pub span: Range<usize>,
}

impl Template {
    /// Parses `text` for records of `kind`.
    pub fn parse(kind: RecordKind, text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text.char_indices().peekable();
        while let Some((i, c)) = rest.next() {
            match c {
                '{' if rest.peek().map(|p| p.1) == Some('{') => {
                    rest.next();
                    lit.push('{');
                }
                '}' if rest.peek().map(|p| p.1) == Some('}') => {
                    rest.next();
                    lit.push('}');
                }
                '}' => {
                    return Err(TemplateError {
                        message: "a `}` without its `{` (write `}}` for a literal brace)".into(),
                        span: i..i + 1,
                    });
                }
                '{' => {
                    let Some(close) = text[i..].find('}').map(|j| i + j) else {
                        return Err(TemplateError {
                            message: "a `{` that is never closed (write `{{` for a literal brace)"
                                .into(),
                            span: i..text.len(),
                        });
                    };
                    let name = text[i + 1..close].trim();
                    let span = i..close + 1;
                    let (var, field) = name.split_once('.').ok_or_else(|| TemplateError {
                        message: format!("`{{{name}}}` should name a field, like {{account.name}}"),
                        span: span.clone(),
                    })?;
                    let v = facts::var(kind, var).ok_or_else(|| TemplateError {
                        message: format!("unknown name `{var}` in a {kind} rule's message"),
                        span: span.clone(),
                    })?;
                    let f = v.field(field).ok_or_else(|| TemplateError {
                        message: format!("`{var}` has no field `{field}`"),
                        span: span.clone(),
                    })?;
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Field(v.name, f.name));
                    while rest.peek().is_some_and(|(j, _)| *j <= close) {
                        rest.next();
                    }
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        let capacity = parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.len(),
                Part::Field(..) => 24,
            })
            .sum();
        Ok(Self { parts, capacity })
    }

    /// The message for one record.
    pub fn render(&self, facts: &dyn FactSource) -> String {
        let mut out = String::with_capacity(self.capacity);
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(v, f) => match facts.get(v, f) {
                    Some(fact) => fact.render(&mut out),
                    None => out.push('?'),
                },
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::input::{MeetingFacts, MeetingInput};

    #[test]
    fn renders_fields_and_escapes() {
        let t = Template::parse(
            RecordKind::Meeting,
            "{account.name}: {meeting.pm_attendees} PM(s), owner there: {meeting.owner_present} {{ok}}",
        )
        .unwrap();
        let input = MeetingInput {
            account: crate::rules::input::AccountFacts {
                name: "Acme".into(),
                ..Default::default()
            },
            ..MeetingInput::default()
        };
        assert_eq!(
            t.render(&MeetingFacts::new(&input)),
            "Acme: 1 PM(s), owner there: yes {ok}"
        );
    }

    #[test]
    fn unknown_fields_and_stray_braces_are_located() {
        let e = Template::parse(RecordKind::Meeting, "hi {meeting.nope} there").unwrap_err();
        assert_eq!(e.span, 3..17);
        assert!(e.message.contains("no field `nope`"));
        assert!(Template::parse(RecordKind::Meeting, "{request.type}").is_err());
        assert!(Template::parse(RecordKind::Meeting, "oops {").is_err());
        assert!(Template::parse(RecordKind::Meeting, "oops }").is_err());
        assert!(Template::parse(RecordKind::Meeting, "{account}").is_err());
    }
}
