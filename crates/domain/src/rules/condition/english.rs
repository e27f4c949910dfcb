//! Conditions read aloud: a plain-English rendering of a condition's AST for
//! `accord playbook show` and the web UI's rules page.

use cel::common::ast::{Expr, IdedExpr, LiteralValue, SourceInfo, operators};

use crate::record::RecordKind;
use crate::rules::facts::{self, FieldType};

pub(super) fn describe(
    kind: RecordKind,
    e: &IdedExpr,
    _source: &str,
    _info: &SourceInfo,
) -> String {
    phrase(kind, e, false)
}

/// A field reference as `(var, field)`, when `e` is one.
fn field_ref(e: &IdedExpr) -> Option<(&str, &str)> {
    match &e.expr {
        Expr::Select(sel) if !sel.test => match &sel.operand.expr {
            Expr::Ident(var) => Some((var.as_str(), sel.field.as_str())),
            _ => None,
        },
        _ => None,
    }
}

/// The phrase of a bool field ("someone from a customer account attends"),
/// from its documentation.
fn bool_phrase(kind: RecordKind, var: &str, field: &str) -> Option<String> {
    let f = facts::var(kind, var)?.field(field)?;
    if f.ty != FieldType::Bool {
        return None;
    }
    let doc = f.doc.strip_prefix("whether ").unwrap_or(f.doc);
    // Drop a parenthesised aside: "attends (declined = absent)".
    let doc = doc.split(" (").next().unwrap_or(doc);
    Some(doc.to_owned())
}

fn literal(l: &LiteralValue) -> String {
    match l {
        LiteralValue::Boolean(b) => if *b.inner() { "true" } else { "false" }.to_owned(),
        LiteralValue::Int(i) => i.inner().to_string(),
        LiteralValue::UInt(u) => u.inner().to_string(),
        LiteralValue::Double(d) => {
            let v = *d.inner();
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                v.to_string()
            }
        }
        LiteralValue::String(s) => format!("\"{}\"", s.inner()),
        LiteralValue::Bytes(_) => "bytes".to_owned(),
        LiteralValue::Null => "nothing".to_owned(),
    }
}

fn phrase(kind: RecordKind, e: &IdedExpr, nested: bool) -> String {
    let wrap = |s: String| if nested { format!("({s})") } else { s };
    match &e.expr {
        Expr::Literal(l) => literal(l),
        Expr::Ident(name) => name.clone(),
        Expr::Select(sel) => {
            if let Some((var, field)) = field_ref(e) {
                if let Some(p) = bool_phrase(kind, var, field) {
                    return p;
                }
                return format!("{var}.{field}");
            }
            let base = phrase(kind, &sel.operand, true);
            if sel.test {
                format!("{base} has {}", sel.field)
            } else {
                format!("{base}.{}", sel.field)
            }
        }
        Expr::List(list) => {
            let items: Vec<String> = list
                .elements
                .iter()
                .map(|i| phrase(kind, i, true))
                .collect();
            format!("[{}]", items.join(", "))
        }
        Expr::Call(call) => {
            let a = |i: usize| {
                call.args
                    .get(i)
                    .map(|x| phrase(kind, x, true))
                    .unwrap_or_default()
            };
            let name = call.func_name.as_str();
            match name {
                operators::LOGICAL_AND => wrap(format!(
                    "{}, and {}",
                    phrase_and(kind, &call.args[0]),
                    phrase_and(kind, &call.args[1])
                )),
                operators::LOGICAL_OR => wrap(format!("{}, or {}", a(0), a(1))),
                operators::LOGICAL_NOT => {
                    let inner = &call.args[0];
                    if let Some((var, field)) = field_ref(inner)
                        && let Some(p) = bool_phrase(kind, var, field)
                    {
                        return format!("not: {p}");
                    }
                    if let Expr::Call(c) = &inner.expr
                        && c.func_name == operators::IN
                    {
                        return format!(
                            "{} is not one of {}",
                            phrase(kind, &c.args[0], true),
                            phrase(kind, &c.args[1], true)
                        );
                    }
                    format!("not {}", phrase(kind, inner, true))
                }
                operators::EQUALS => format!("{} is {}", a(0), a(1)),
                operators::NOT_EQUALS => format!("{} is not {}", a(0), a(1)),
                operators::LESS => format!("{} is less than {}", a(0), a(1)),
                operators::LESS_EQUALS => format!("{} is at most {}", a(0), a(1)),
                operators::GREATER => format!("{} is more than {}", a(0), a(1)),
                operators::GREATER_EQUALS => format!("{} is at least {}", a(0), a(1)),
                operators::IN => format!("{} is one of {}", a(0), a(1)),
                operators::ADD => format!("{} + {}", a(0), a(1)),
                operators::SUBSTRACT => format!("{} - {}", a(0), a(1)),
                operators::MULTIPLY => format!("{} × {}", a(0), a(1)),
                operators::DIVIDE => format!("{} / {}", a(0), a(1)),
                operators::MODULO => format!("{} mod {}", a(0), a(1)),
                operators::NEGATE => format!("-{}", a(0)),
                operators::CONDITIONAL => format!("if {} then {} else {}", a(0), a(1), a(2)),
                operators::INDEX => format!("{}[{}]", a(0), a(1)),
                _ => {
                    let target = call.target.as_ref().map(|t| phrase(kind, t, true));
                    let args: Vec<String> = (0..call.args.len()).map(a).collect();
                    match (name, target) {
                        ("contains", Some(t)) => format!("{t} contains {}", a(0)),
                        ("startsWith", Some(t)) => format!("{t} starts with {}", a(0)),
                        ("endsWith", Some(t)) => format!("{t} ends with {}", a(0)),
                        ("matches", Some(t)) => format!("{t} matches {}", a(0)),
                        ("size", None) => format!("the length of {}", a(0)),
                        ("size", Some(t)) => format!("the length of {t}"),
                        (n, Some(t)) => format!("{t}.{n}({})", args.join(", ")),
                        (n, None) => format!("{n}({})", args.join(", ")),
                    }
                }
            }
        }
        Expr::Comprehension(_) => "a condition over a list".to_owned(),
        Expr::Map(_) => "a map".to_owned(),
        Expr::Struct(_) | Expr::Unspecified => "?".to_owned(),
    }
}

/// An operand of `&&`: chains of `&&` read without parentheses.
fn phrase_and(kind: RecordKind, e: &IdedExpr) -> String {
    match &e.expr {
        Expr::Call(c) if c.func_name == operators::LOGICAL_AND => phrase(kind, e, false),
        _ => phrase(kind, e, true),
    }
}

#[cfg(test)]
mod tests {
    use crate::record::RecordKind;
    use crate::rules::condition::Condition;

    #[test]
    fn conditions_read_as_english() {
        let c = Condition::compile(
            RecordKind::Meeting,
            "meeting.customer_facing && meeting.pm_present && !meeting.owner_present",
        )
        .unwrap();
        assert_eq!(
            c.describe(),
            "someone from a customer account attends, and at least one PM or PM lead attends, and not: the account's relationship owner attends"
        );
        let c = Condition::compile(
            RecordKind::Request,
            "type.category == \"product\" && !(request.type in stage.allowed_types)",
        )
        .unwrap();
        assert_eq!(
            c.describe(),
            "type.category is \"product\", and request.type is not one of stage.allowed_types"
        );
        let c = Condition::compile(
            RecordKind::Request,
            "request.lead_time_business_days < 2 || !request.has_briefing",
        )
        .unwrap();
        assert!(c.describe().starts_with("request.lead_time_business_days is less than 2, or not: the briefing says something"), "{}", c.describe());
    }
}
