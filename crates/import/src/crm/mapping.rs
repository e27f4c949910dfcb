//! A user-written TOML mapping for CRM exports whose layout accord does not
//! know: which file is which record kind, which column holds which field,
//! what their stage names and job titles mean, how their dates are
//! written, and defaults for what the export lacks. A mapping turns into
//! the same [`Layout`] the built-in formats use, so an unusual export
//! imports without code.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use accord_domain::id::{Domain, Email, StageId};
use accord_domain::people::Role;
use serde::Deserialize;
use toml::Spanned;

use super::layout::{Field, FileRule, Layout};
use super::values::{norm_key, parse_amount, parse_date, parse_datetime, valid_strftime};
use super::{CrmFormat, FileKind};
use crate::diag::{Diagnostic, FileError};

/// A validated mapping file.
#[derive(Clone, Debug)]
pub struct Mapping {
    path: PathBuf,
    name: Option<String>,
    base: Option<CrmFormat>,
    delimiter: Option<u8>,
    decimal_comma: bool,
    date_formats: Vec<String>,
    files: Vec<(String, FileRule)>,
    columns: Vec<(FileKind, String, Field)>,
    defaults: Vec<(FileKind, Field, String)>,
    stages: HashMap<String, String>,
    roles: HashMap<String, Role>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    name: Option<Spanned<String>>,
    base: Option<Spanned<String>>,
    delimiter: Option<Spanned<String>>,
    decimal_separator: Option<Spanned<String>>,
    #[serde(default)]
    date_formats: Vec<Spanned<String>>,
    files: Option<RawFiles>,
    people: Option<RawKind>,
    accounts: Option<RawKind>,
    opportunities: Option<RawKind>,
    #[serde(default)]
    stages: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    roles: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFiles {
    #[serde(default)]
    people: Vec<Spanned<String>>,
    #[serde(default)]
    accounts: Vec<Spanned<String>>,
    #[serde(default)]
    opportunities: Vec<Spanned<String>>,
    #[serde(default)]
    skip: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKind {
    /// Their column → accord's field.
    #[serde(default)]
    columns: BTreeMap<String, Spanned<String>>,
    /// accord's field → the value to use when the column is absent or blank.
    #[serde(default)]
    defaults: BTreeMap<String, Spanned<String>>,
}

/// Locates errors in the mapping's text.
struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> FileError {
        let mut d = Diagnostic::new(self.path, message);
        if let Some(span) = span {
            let (line, column) = line_col(self.text, span.start);
            d = d.at(line, column);
            if let Some(v) = self.text.get(span) {
                d = d.value(v);
            }
        }
        FileError(d)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

impl Mapping {
    /// Reads and validates a mapping file.
    pub fn read(path: &Path) -> Result<Mapping, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            FileError(Diagnostic::new(
                path,
                format!("cannot read the mapping file: {e}"),
            ))
        })?;
        Mapping::parse(path, &text)
    }

    /// Parses and validates a mapping; `path` is for messages.
    pub fn parse(path: &Path, text: &str) -> Result<Mapping, FileError> {
        let loc = Locator { path, text };
        let raw: RawMapping = toml::from_str(text)
            .map_err(|e| loc.error(e.span(), format!("invalid mapping: {}", e.message().trim())))?;

        let name = match raw.name {
            Some(n) if n.get_ref().trim().is_empty() => {
                return Err(loc.error(
                    Some(n.span()),
                    "`name` must not be empty: it is the source of the imported ids",
                ));
            }
            Some(n) => Some(n.into_inner().trim().to_owned()),
            None => None,
        };
        let base = match raw.base {
            Some(b) => Some(CrmFormat::from_str(b.get_ref()).map_err(|_| {
                loc.error(
                    Some(b.span()),
                    "unknown `base`: expected generic, salesforce or hubspot",
                )
            })?),
            None => None,
        };
        let delimiter = match raw.delimiter {
            Some(d) => {
                let s = d.get_ref();
                let byte = match s.as_bytes() {
                    [b] if b.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => *b,
                    _ if s == "\\t" => b'\t',
                    _ => {
                        return Err(loc.error(
                            Some(d.span()),
                            "`delimiter` must be one ASCII character, such as \",\", \";\" or \"\\t\"",
                        ));
                    }
                };
                Some(byte)
            }
            None => None,
        };
        let decimal_comma = match raw.decimal_separator {
            Some(d) => match d.get_ref().as_str() {
                "." => false,
                "," => true,
                _ => {
                    return Err(
                        loc.error(Some(d.span()), "`decimal_separator` must be \".\" or \",\"")
                    );
                }
            },
            None => false,
        };
        let mut date_formats = Vec::new();
        for f in raw.date_formats {
            if !valid_strftime(f.get_ref()) {
                return Err(loc.error(
                    Some(f.span()),
                    "not a chrono strftime format (for example \"%d.%m.%Y\" or \"%m/%d/%Y %H:%M\")",
                ));
            }
            date_formats.push(f.into_inner());
        }

        let mut files = Vec::new();
        if let Some(f) = raw.files {
            let groups = [
                (f.people, FileRule::Kind(FileKind::People)),
                (f.accounts, FileRule::Kind(FileKind::Accounts)),
                (f.opportunities, FileRule::Kind(FileKind::Opportunities)),
                (
                    f.skip,
                    FileRule::Skip("the mapping's [files] skip list names it".to_owned()),
                ),
            ];
            for (patterns, rule) in groups {
                for p in patterns {
                    if p.get_ref().trim().is_empty() {
                        return Err(loc.error(Some(p.span()), "an empty file-name pattern"));
                    }
                    files.push((p.into_inner().trim().to_lowercase(), rule.clone()));
                }
            }
        }

        let mut columns = Vec::new();
        let mut defaults = Vec::new();
        for (kind, raw_kind) in [
            (FileKind::People, raw.people),
            (FileKind::Accounts, raw.accounts),
            (FileKind::Opportunities, raw.opportunities),
        ] {
            let Some(raw_kind) = raw_kind else { continue };
            for (column, field) in raw_kind.columns {
                let f = Field::parse(kind, field.get_ref())
                    .ok_or_else(|| loc.error(Some(field.span()), unknown_field(kind)))?;
                if column.trim().is_empty() {
                    return Err(loc.error(Some(field.span()), "an empty column name"));
                }
                columns.push((kind, column, f));
            }
            for (field, value) in raw_kind.defaults {
                let f = Field::parse(kind, &field)
                    .ok_or_else(|| loc.error(Some(value.span()), unknown_field(kind)))?;
                check_default(f, value.get_ref(), &date_formats, decimal_comma)
                    .map_err(|why| loc.error(Some(value.span()), why))?;
                defaults.push((kind, f, value.into_inner()));
            }
        }

        let mut stages = HashMap::new();
        for (theirs, stage) in raw.stages {
            StageId::parse(stage.get_ref()).map_err(|e| {
                loc.error(
                    Some(stage.span()),
                    format!("not a playbook stage id: {}", e.why),
                )
            })?;
            stages.insert(norm_key(&theirs), stage.get_ref().trim().to_owned());
        }
        let mut roles = HashMap::new();
        for (theirs, role) in raw.roles {
            let r = Role::from_str(role.get_ref()).map_err(|e| {
                loc.error(Some(role.span()), format!("not an accord role: {}", e.why))
            })?;
            roles.insert(norm_key(&theirs), r);
        }

        Ok(Mapping {
            path: path.to_path_buf(),
            name,
            base,
            delimiter,
            decimal_comma,
            date_formats,
            files,
            columns,
            defaults,
            stages,
            roles,
        })
    }

    /// The mapping's `name`: the source of the ids it imports.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The file the mapping was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The layout it describes, over its `base` (or `format` when it names
    /// none): its patterns, columns and value maps come first, the base's
    /// built-in ones after.
    pub(crate) fn layout(&self, format: CrmFormat) -> Layout {
        let base = self.base.unwrap_or(format);
        let mut layout = Layout::builtin(base);
        if let Some(name) = &self.name {
            layout.source.clone_from(name);
        }
        if let Some(d) = self.delimiter {
            layout.delimiter = d;
        }
        layout.decimal_comma = self.decimal_comma;
        layout.date_formats.clone_from(&self.date_formats);
        let mut files = self.files.clone();
        files.append(&mut layout.files);
        layout.files = files;
        for (kind, column, field) in &self.columns {
            layout.kind_mut(*kind).prefer(*field, column);
        }
        for (kind, field, value) in &self.defaults {
            layout
                .kind_mut(*kind)
                .defaults
                .insert(*field, value.clone());
        }
        for (k, v) in &self.stages {
            layout.stage_map.insert(k.clone(), v.clone());
        }
        layout.role_map.clone_from(&self.roles);
        layout
    }
}

fn unknown_field(kind: FileKind) -> String {
    let names: Vec<&str> = Field::of_kind(kind).iter().map(|f| f.name()).collect();
    format!(
        "unknown field for {}: expected one of {}",
        kind.as_str(),
        names.join(", ")
    )
}

/// A default is written once and used for every row: check it now rather
/// than on each row.
fn check_default(
    field: Field,
    value: &str,
    date_formats: &[String],
    decimal_comma: bool,
) -> Result<(), String> {
    match field {
        Field::Id => Err("an id cannot have a default: every record needs its own".into()),
        Field::Email | Field::OwnerEmail | Field::ManagerEmail => Email::parse(value)
            .map(|_| ())
            .map_err(|e| format!("not an email: {}", e.why)),
        Field::Role => Role::from_str(value)
            .map(|_| ())
            .map_err(|e| format!("not an accord role: {}", e.why)),
        Field::Stage => StageId::parse(value)
            .map(|_| ())
            .map_err(|e| format!("not a playbook stage id: {}", e.why)),
        Field::Amount => parse_amount(value, decimal_comma).map(|_| ()),
        Field::Created => parse_datetime(value, date_formats).map(|_| ()),
        Field::CloseDate => parse_date(value, date_formats).map(|_| ()),
        Field::Domains | Field::Website => Domain::parse(value)
            .map(|_| ())
            .map_err(|e| format!("not a domain: {}", e.why)),
        _ if value.trim().is_empty() => Err("an empty default".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Mapping, FileError> {
        Mapping::parse(Path::new("map.toml"), text)
    }

    #[test]
    fn a_complete_mapping_reads() {
        let m = parse(
            r#"
name = "acme-crm"
base = "generic"
delimiter = ";"
date_formats = ["%d.%m.%Y"]

[files]
people = ["staff*.csv"]
skip = ["notes*.csv"]

[people.columns]
"E-Mail" = "email"

[people.defaults]
role = "sales_rep"

[stages]
"Erstgespräch" = "qualification"

[roles]
"Vertriebsleiter" = "sales_manager"
"#,
        )
        .unwrap();
        assert_eq!(m.name(), Some("acme-crm"));
        let l = m.layout(CrmFormat::Salesforce);
        assert_eq!(l.base, CrmFormat::Generic);
        assert_eq!(l.source, "acme-crm");
        assert_eq!(l.delimiter, b';');
        assert_eq!(
            l.rule_for("Staff-2024.csv"),
            FileRule::Kind(FileKind::People)
        );
        assert!(matches!(l.rule_for("notes-1.csv"), FileRule::Skip(_)));
        assert_eq!(
            l.stage_map.get("erstgespräch").map(String::as_str),
            Some("qualification")
        );
    }

    #[test]
    fn errors_are_located() {
        let e = parse("name = \"x\"\n[people.columns]\n\"Mail\" = \"emial\"\n").unwrap_err();
        assert_eq!((e.0.line, e.0.column), (Some(3), Some(10)));
        assert!(e.0.message.contains("unknown field"), "{e}");

        let e = parse("name = \"x\"\nbase = \"pipedrive\"\n").unwrap_err();
        assert_eq!(e.0.line, Some(2));

        let e = parse("[roles]\nBoss = \"ceo\"\n").unwrap_err();
        assert_eq!(e.0.line, Some(2));

        let e = parse("date_formats = [\"%Q\"]\n").unwrap_err();
        assert_eq!(e.0.line, Some(1));

        let e = parse("[people]\ncolums = {}\n").unwrap_err();
        assert_eq!(e.0.line, Some(2));

        let e = parse("name = \n").unwrap_err();
        assert_eq!(e.0.line, Some(1));

        let e = parse("[opportunities.defaults]\nstage = \"Closed Won\"\n").unwrap_err();
        assert_eq!(e.0.line, Some(2));
    }
}
