//! The line layer of iCalendar files (RFC 5545 §3.1), and no more: content
//! lines unfolded from their physical lines, with the line number and byte
//! range each came from, and the split of a content line into name and
//! value. Parsing the properties themselves is calcard's job; this layer
//! exists because calcard only takes a whole text at once, and the reader
//! must cut a file of a million events into one component at a time.

use std::io::{self, BufRead};

/// One content line: a physical line and its continuation lines.
#[derive(Debug)]
pub(crate) struct ContentLine<'a> {
    /// 1-based number of its first physical line.
    pub(crate) line: usize,
    /// Byte offset of its first physical line in the file.
    pub(crate) offset: u64,
    /// The unfolded text, without line terminators.
    pub(crate) text: &'a [u8],
    /// The physical lines as they are in the file, terminators included.
    pub(crate) raw: &'a [u8],
}

/// Reads content lines from a buffered reader.
pub(crate) struct Lines<R> {
    reader: R,
    /// The physical line read ahead (to see whether it continues the
    /// current one), with its number and offset.
    ahead: Vec<u8>,
    ahead_ok: bool,
    ahead_line: usize,
    ahead_offset: u64,
    text: Vec<u8>,
    raw: Vec<u8>,
    started: bool,
}

impl<R: BufRead> Lines<R> {
    /// Reads from the start of a file (`offset` 0, line 1), or from the
    /// start of a component found earlier.
    pub(crate) fn new(reader: R, first_line: usize, offset: u64) -> Self {
        Self {
            reader,
            ahead: Vec::with_capacity(256),
            ahead_ok: false,
            ahead_line: first_line,
            ahead_offset: offset,
            text: Vec::with_capacity(256),
            raw: Vec::with_capacity(256),
            started: false,
        }
    }

    fn read_ahead(&mut self) -> io::Result<()> {
        self.ahead.clear();
        let n = self.reader.read_until(b'\n', &mut self.ahead)?;
        self.ahead_ok = n > 0;
        Ok(())
    }

    /// The next content line, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<ContentLine<'_>>> {
        if !self.started {
            self.started = true;
            self.read_ahead()?;
        }
        if !self.ahead_ok {
            return Ok(None);
        }
        let line = self.ahead_line;
        let offset = self.ahead_offset;
        std::mem::swap(&mut self.raw, &mut self.ahead);
        let mut next_line = line + 1;
        let mut next_offset = offset + self.raw.len() as u64;
        // Most lines are not folded: their text is the physical line, and
        // is only copied for the lines that are.
        let mut folded = false;
        loop {
            self.read_ahead()?;
            if !(self.ahead_ok && matches!(self.ahead.first(), Some(b' ' | b'\t'))) {
                break;
            }
            if !folded {
                folded = true;
                self.text.clear();
                self.text.extend_from_slice(trim_eol(&self.raw));
            }
            // A continuation: its first character (the fold's space) goes.
            self.text
                .extend_from_slice(trim_eol(self.ahead.get(1..).unwrap_or(&[])));
            self.raw.extend_from_slice(&self.ahead);
            next_line += 1;
            next_offset += self.ahead.len() as u64;
        }
        self.ahead_line = next_line;
        self.ahead_offset = next_offset;
        Ok(Some(ContentLine {
            line,
            offset,
            text: if folded {
                &self.text
            } else {
                trim_eol(&self.raw)
            },
            raw: &self.raw,
        }))
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A content line's name (as written) and value: the value starts after
/// the first colon that is not inside a quoted parameter value. `None` for
/// a line without a colon.
pub(crate) fn split(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let name_end = text.iter().position(|b| *b == b';' || *b == b':')?;
    let name = &text[..name_end];
    let mut quoted = false;
    for (i, b) in text.iter().enumerate().skip(name_end) {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some((name, &text[i + 1..])),
            _ => {}
        }
    }
    None
}

/// A content line's property name, as written (up to the first `;` or
/// `:`; the whole line when it has neither).
pub(crate) fn name_of(text: &[u8]) -> &[u8] {
    let end = text
        .iter()
        .position(|b| *b == b';' || *b == b':')
        .unwrap_or(text.len());
    &text[..end]
}

/// Whether a content line's name is `name` (ASCII, upper case), without
/// allocating.
#[cfg(test)]
pub(crate) fn name_is(text: &[u8], name: &[u8]) -> bool {
    text.len() > name.len() && name_of(text).eq_ignore_ascii_case(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_locates() {
        let input = b"BEGIN:VCALENDAR\r\nSUMMARY:a lo\r\n ng one\r\n\tand more\nX:1\n";
        let mut lines = Lines::new(&input[..], 1, 0);
        let mut got = Vec::new();
        while let Some(l) = lines.next_line().unwrap() {
            got.push((l.line, l.offset, l.text.to_vec(), l.raw.len()));
        }
        assert_eq!(got[0], (1, 0, b"BEGIN:VCALENDAR".to_vec(), 17));
        assert_eq!(got[1].0, 2);
        assert_eq!(got[1].1, 17);
        assert_eq!(got[1].2, b"SUMMARY:a long oneand more".to_vec());
        assert_eq!(got[2].0, 5);
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn splits_past_quoted_colons() {
        let (name, value) = split(b"attendee;CN=\"Doe: Jane\";X=1:mailto:j@x.com").unwrap();
        assert_eq!(name, b"attendee");
        assert_eq!(value, b"mailto:j@x.com");
        assert!(split(b"no colon here").is_none());
        assert!(name_is(b"begin:VEVENT", b"BEGIN"));
        assert!(!name_is(b"BEGINNING:x", b"BEGIN"));
    }
}
