//! A CSV file read whole, with every way it can be malformed turned into a
//! located [`FileError`].

use std::path::Path;

use crate::diag::{Diagnostic, FileError};

/// A CSV file's header and rows.
#[derive(Debug)]
pub(crate) struct Table {
    /// The header cells, as written (trimmed, BOM removed).
    pub(crate) headers: Vec<String>,
    /// The rows that hold anything, with their 1-based line.
    pub(crate) rows: Vec<(usize, csv::StringRecord)>,
}

impl Table {
    /// Reads a whole CSV file.
    pub(crate) fn read(path: &Path, delimiter: u8) -> Result<Table, FileError> {
        let bytes = std::fs::read(path)
            .map_err(|e| FileError(Diagnostic::new(path, format!("cannot read the file: {e}"))))?;
        Table::parse(path, &bytes, delimiter)
    }

    /// Parses CSV bytes; `path` is for messages.
    pub(crate) fn parse(path: &Path, bytes: &[u8], delimiter: u8) -> Result<Table, FileError> {
        // Excel and Salesforce's data export start UTF-8 files with a BOM.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(FileError(Diagnostic::new(
                path,
                "the file is empty: expected a header row naming the columns",
            )));
        }
        if let Some(pos) = bytes.iter().position(|b| *b == 0) {
            let line = bytes[..pos].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(FileError(
                Diagnostic::new(path, "this is not a CSV text file (it holds binary data)")
                    .line(line),
            ));
        }
        check_quotes(path, bytes, delimiter)?;

        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let mut lines = LineCounter::new(bytes);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(path, &e, &mut lines))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut rows = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {
                    // Spreadsheets leave rows of empty cells behind: not records.
                    if record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let line = lines.line_of(record.position());
                    rows.push((line, record.clone()));
                }
                Ok(false) => break,
                Err(e) => return Err(csv_error(path, &e, &mut lines)),
            }
        }
        Ok(Table { headers, rows })
    }

    /// The indexes of the headers among `names` present in the file, in the
    /// order of `names`; compared case-insensitively.
    pub(crate) fn find(&self, names: &[String]) -> Vec<usize> {
        names
            .iter()
            .filter_map(|n| {
                let n = n.to_lowercase();
                self.headers.iter().position(|h| h.to_lowercase() == n)
            })
            .collect()
    }
}

/// The line a record starts on. The csv crate's own line numbers are one
/// short in CRLF files (a record's position falls on the `\n` that ends the
/// previous line), so lines are counted here from byte offsets, past any
/// line ending the position falls on.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, pos: Option<&csv::Position>) -> usize {
        let Some(pos) = pos else { return self.line };
        let mut target = usize::try_from(pos.byte())
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while matches!(self.bytes.get(target), Some(b'\r' | b'\n')) {
            target += 1;
        }
        if target < self.offset {
            // Positions only move forward; recount from the start otherwise.
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.offset..target]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.offset = target;
        self.line
    }
}

fn csv_error(path: &Path, e: &csv::Error, lines: &mut LineCounter<'_>) -> FileError {
    let d = match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => {
            let line = lines.line_of(pos.as_ref());
            Diagnostic::new(
                path,
                "this text is not UTF-8: save the export as \"CSV UTF-8\"",
            )
            .at(line, err.field() + 1)
        }
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            let line = lines.line_of(pos.as_ref());
            Diagnostic::new(
                path,
                format!(
                    "this row has {len} fields but the header has {expected_len}: a missing or extra delimiter, or an unquoted delimiter inside a value"
                ),
            )
            .line(line)
        }
        csv::ErrorKind::Io(io) => Diagnostic::new(path, format!("cannot read the file: {io}")),
        _ => Diagnostic::new(path, format!("malformed CSV: {e}")),
    };
    FileError(d)
}

/// The csv crate reads an unbalanced quote as a field running to the end of
/// the file; this pass finds it and says where the quote opened.
fn check_quotes(path: &Path, bytes: &[u8], delimiter: u8) -> Result<(), FileError> {
    #[derive(Clone, Copy)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let (mut line, mut column) = (1usize, 1usize);
    let mut opened = (1usize, 1usize);
    for &b in bytes {
        state = match (state, b) {
            (State::FieldStart, b'"') => {
                opened = (line, column);
                State::Quoted
            }
            (State::FieldStart | State::Unquoted | State::QuoteInQuoted, b'\n') => {
                State::FieldStart
            }
            (State::FieldStart | State::Unquoted | State::QuoteInQuoted, d) if d == delimiter => {
                State::FieldStart
            }
            (State::FieldStart | State::Unquoted, _) => State::Unquoted,
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::QuoteInQuoted, _) => State::Unquoted,
        };
        if b == b'\n' {
            line += 1;
            column = 1;
        } else if b == delimiter && !matches!(state, State::Quoted) {
            column += 1;
        }
    }
    if matches!(state, State::Quoted) {
        return Err(FileError(
            Diagnostic::new(
                path,
                "unbalanced quote: this quoted value is never closed, so it swallows the rest of the file",
            )
            .at(opened.0, opened.1),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table, FileError> {
        Table::parse(Path::new("t.csv"), text.as_bytes(), b',')
    }

    #[test]
    fn quotes_and_positions() {
        let t = parse("\u{feff}a,b\n1,\"x,\"\"y\"\"\nz\"\n\n,\n3,4\n").unwrap();
        assert_eq!(t.headers, ["a", "b"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].0, 2);
        assert_eq!(&t.rows[0].1[1], "x,\"y\"\nz");
        assert_eq!(t.rows[1].0, 6);
    }

    #[test]
    fn lines_in_crlf_files() {
        let t = Table::parse(
            Path::new("x"),
            b"a,b\r\n1,2\r\n\r\n3,\"4\r\n4\"\r\n5,6\r\n",
            b',',
        )
        .unwrap();
        let lines: Vec<usize> = t.rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 4, 6]);
        let e = Table::parse(Path::new("x"), b"a,b\r\n1,2\r\n3\r\n", b',').unwrap_err();
        assert_eq!(e.0.line, Some(3));
    }

    #[test]
    fn unbalanced_quote_is_located() {
        let e = parse("a,b,c\n1,2,3\n4,\"five,6\n7,8,9\n").unwrap_err();
        assert_eq!((e.0.line, e.0.column), (Some(3), Some(2)));
    }

    #[test]
    fn ragged_rows_and_empty_files() {
        let e = parse("a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(e.0.line, Some(3));
        assert!(parse("").is_err());
        assert!(parse("\u{feff}\n  \n").is_err());
        assert!(parse("a,b\n").is_ok_and(|t| t.rows.is_empty()));
    }
}
