//! Located diagnostics for playbooks: what is wrong, where (file, line,
//! column, with a snippet), which item it concerns (rule, stage, signal,
//! test) and what to do about it. They render as miette reports.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The playbook can be used, but something deserves a look (a stage
    /// with no PM expectation is a gap in the sales process model).
    Warning,
    /// The playbook cannot be used.
    Error,
}

/// The source a diagnostic points into: a file name and its text.
#[derive(Clone, Debug)]
pub struct Source {
    name: Arc<str>,
    text: Arc<str>,
}

impl Source {
    /// A named text.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // Clamp to a char boundary so that slicing never panics.
        let mut at = offset;
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

/// One finding about a playbook.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code (`playbook::duplicate-id`), for tests and searching.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The item at fault, when there is one: `rule owner-present`,
    /// `stage discovery`, `signal restricted-access`, `test 3`.
    pub item: Option<String>,
    /// The text the label points at.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Where, as a byte range of the source.
    pub span: Option<Range<usize>>,
    /// The source.
    pub source: Source,
}

impl Diagnostic {
    /// An error at `span`.
    pub(crate) fn error(
        source: &Source,
        code: &'static str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            item: None,
            label: "here".into(),
            help: None,
            span,
            source: source.clone(),
        }
    }

    /// A warning at `span`.
    pub(crate) fn warning(
        source: &Source,
        code: &'static str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(source, code, span, message)
        }
    }

    /// Names the item at fault.
    pub(crate) fn item(mut self, item: impl Into<String>) -> Self {
        self.item = Some(item.into());
        self
    }

    /// Adds advice.
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// 1-based line and column, when located.
    pub fn location(&self) -> Option<(usize, usize)> {
        self.span.as_ref().map(|s| self.source.line_col(s.start))
    }

    /// `file:line:col` (or just the file).
    pub fn position(&self) -> String {
        match self.location() {
            Some((l, c)) => format!("{}:{l}:{c}", self.source.name()),
            None => self.source.name().to_owned(),
        }
    }
}

impl Diagnostic {
    /// One line for logs and plain output:
    /// `file:line:col: error[code]: item: message`.
    pub fn one_line(&self) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{}: {sev}[{}]: {self}", self.position(), self.code)
    }
}

impl fmt::Display for Diagnostic {
    /// `item: message` (the location is rendered apart).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(item) = &self.item {
            write!(f, "{item}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        let len = span.end.saturating_sub(span.start).max(1);
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(self.label.clone()),
            span.start,
            len,
        ))))
    }
}

impl SourceCode for Diagnostic {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner =
            self.source
                .text()
                .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.source.name().to_owned(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// A playbook that cannot be used, with everything found wrong in it.
#[derive(Clone, Debug)]
pub struct PlaybookError {
    /// Errors first, then warnings, each in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl PlaybookError {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for PlaybookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors().count();
        write!(
            f,
            "the playbook has {n} error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for d in self.errors() {
            write!(f, "\n{}", d.one_line())?;
        }
        Ok(())
    }
}

impl std::error::Error for PlaybookError {}

/// A `NamedSource` for callers who want to render outside this module.
pub fn named_source(source: &Source) -> NamedSource<String> {
    NamedSource::new(source.name(), source.text().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let s = Source::new("p.toml", "a = 1\nbé = \"x\"\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        // 'é' is two bytes: the '=' after it is the 4th character.
        assert_eq!(s.line_col(10), (2, 4));
        // Inside a multi-byte character, and past the end: no panic.
        assert_eq!(s.line_col(8), (2, 2));
        assert_eq!(s.line_col(999).0, 3);
    }
}
