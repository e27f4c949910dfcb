//! Located diagnostics for import files: which file, which line and column,
//! which field, which value, and what is wrong with it.

use std::fmt;
use std::path::{Path, PathBuf};

/// Longest value kept in a diagnostic: enough to recognise it, short enough
/// to keep a report on one line when a cell holds a whole document.
const MAX_VALUE_CHARS: usize = 120;

/// One finding about an import file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when the finding has one.
    pub line: Option<usize>,
    /// 1-based column: the CSV column (field number) for CSV files.
    pub column: Option<usize>,
    /// The field at fault (`email`, `Amount`, `DTSTART`, ...).
    pub field: Option<String>,
    /// The value at fault, as written (cut when very long).
    pub value: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl Diagnostic {
    /// A finding about a whole file.
    pub fn new(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            line: None,
            column: None,
            field: None,
            value: None,
            message: message.into(),
        }
    }

    /// At a line.
    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// At a line and column.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// About a field.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// About a value.
    pub fn value(mut self, value: impl AsRef<str>) -> Self {
        let value = value.as_ref();
        let mut cut: String = value.chars().take(MAX_VALUE_CHARS).collect();
        if cut.len() < value.len() {
            cut.push('…');
        }
        self.value = Some(cut);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        match (&self.field, &self.value) {
            (Some(field), Some(value)) => write!(f, " (field `{field}`, value {value:?})"),
            (Some(field), None) => write!(f, " (field `{field}`)"),
            (None, Some(value)) => write!(f, " (value {value:?})"),
            (None, None) => Ok(()),
        }
    }
}

/// A file that cannot be imported at all. Import files are atomic: either
/// every record of a file is read, or the file is refused with this error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub Diagnostic);

impl FileError {
    /// The diagnostic.
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.0
    }
}

impl From<Diagnostic> for FileError {
    fn from(d: Diagnostic) -> Self {
        Self(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_place_field_and_value() {
        let d = Diagnostic::new("crm/people.csv", "not an email")
            .at(4, 2)
            .field("email")
            .value("ana(at)example.com");
        assert_eq!(
            d.to_string(),
            "crm/people.csv:4:2: not an email (field `email`, value \"ana(at)example.com\")"
        );
        let d = Diagnostic::new("cal.ics", "truncated").line(9);
        assert_eq!(d.to_string(), "cal.ics:9: truncated");
        assert_eq!(
            Diagnostic::new("x.csv", "empty").to_string(),
            "x.csv: empty"
        );
    }

    #[test]
    fn long_values_are_cut() {
        let d = Diagnostic::new("x", "m").value("é".repeat(500));
        let v = d.value.unwrap_or_default();
        assert_eq!(v.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(v.ends_with('…'));
    }
}
