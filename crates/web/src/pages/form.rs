//! What forms share: a posted form read as name/value pairs (so repeated
//! checkboxes and numbered rows read as they were sent), and field errors
//! as a template shows them next to their fields.

use std::collections::HashMap;

use accord_service::FieldError;

/// A posted form, as sent.
#[derive(Debug, Default)]
pub(crate) struct Fields(pub(crate) Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed ("" when absent).
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// Every value of `name` (checkboxes), trimmed.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// Messages by field, for a form shown again.
#[derive(Debug, Default, Clone)]
pub(crate) struct Errors(HashMap<String, String>);

impl Errors {
    /// One message for one field.
    pub(crate) fn one(field: &str, message: &str) -> Self {
        let mut e = Errors::default();
        e.add(field, message);
        e
    }

    /// The service's field errors (its messages start lower-case: they
    /// read as sentences here).
    pub(crate) fn from_service(errors: &[FieldError]) -> Self {
        let mut e = Errors::default();
        for f in errors {
            e.add(&f.field, &f.message);
        }
        e
    }

    /// Adds a message (the first one for a field stays).
    pub(crate) fn add(&mut self, field: &str, message: &str) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| sentence(message));
    }

    /// Whether a field has a message.
    pub(crate) fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// A field's message ("" when none).
    pub(crate) fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or("")
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Messages for fields the form does not show (the page lists them at
    /// the top, so no message is lost).
    pub(crate) fn others(&self, shown: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| !shown.iter().any(|s| s == k))
            .map(|(_, m)| m.clone())
            .collect();
        v.sort();
        v
    }
}

/// A message as a sentence: capital first letter, final full stop.
fn sentence(m: &str) -> String {
    let m = m.trim();
    let mut chars = m.chars();
    let mut s = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => return String::new(),
    };
    if !s.ends_with(['.', '?', '!']) {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_messages_read_as_sentences() {
        let e = Errors::from_service(&[FieldError::new("reason", "say why")]);
        assert!(e.has("reason"));
        assert_eq!(e.get("reason"), "Say why.");
        assert_eq!(e.get("other"), "");
        assert_eq!(e.others(&["reason"]), Vec::<String>::new());
        let f = Fields(vec![("a".into(), " 1 ".into()), ("a".into(), "2".into())]);
        assert_eq!(f.get("a"), "1");
        assert_eq!(f.all("a"), vec!["1", "2"]);
        assert_eq!(f.get("b"), "");
    }
}
