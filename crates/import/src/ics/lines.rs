//! The line layer of iCalendar files (RFC 5545 §3.1), and no more: content
//! lines unfolded from their physical lines, with the line number and byte
//! range each came from, and the split of a content line into name and
//! value. Parsing the properties themselves is calcard's job; this layer
//! exists because calcard only takes a whole text at once, and the reader
//! must cut a file of a million events into one component at a time.

use std::io::{self, Read};

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

/// Bytes read from the file at a time. A longer line grows the buffer.
const CHUNK: usize = 1 << 16;

/// The longest content line read, folds included: 64 MiB. Exporters fold
/// lines at 75 bytes, and the longest real ones are inline attachments
/// (mail servers refuse much over 25 MB); a longer line is a file that is
/// not iCalendar (a binary file, or text with no line breaks), which would
/// otherwise be read into memory whole.
const MAX_LINE: usize = 64 << 20;

/// A content line longer than [`MAX_LINE`], which begins at `line`: the
/// error `next_line` fails with (kind `InvalidData`).
#[derive(Debug)]
pub(crate) struct LineTooLong {
    pub(crate) line: usize,
    pub(crate) limit: usize,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a line longer than {} MiB (folds included): not an iCalendar file",
            self.limit >> 20
        )
    }
}

impl std::error::Error for LineTooLong {}

/// Reads content lines from a file through a buffer of its own, and hands
/// them out as slices of it: a line is not copied on its way (a calendar
/// of a million events has some 25 million of them, read twice).
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    /// The bytes of `buf` not handed out yet: `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// Number and offset of the next line.
    line: usize,
    offset: u64,
    /// The unfolded text of a folded line.
    text: Vec<u8>,
    /// The longest content line read (`MAX_LINE`).
    limit: usize,
}

impl<R: Read> Lines<R> {
    /// Reads from the start of a file (`offset` 0, line 1), or from the
    /// start of a component found earlier.
    pub(crate) fn new(reader: R, first_line: usize, offset: u64) -> Self {
        Self {
            reader,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            line: first_line,
            offset,
            text: Vec::new(),
            limit: MAX_LINE,
        }
    }

    /// With another longest line than `MAX_LINE`.
    #[cfg(test)]
    fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Reads more of the file after the bytes not handed out yet (moved to
    /// the front of the buffer); false at the end of the file.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // The buffer is full of the line being read.
            if self.end >= self.limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    LineTooLong {
                        line: self.line,
                        limit: self.limit,
                    },
                ));
            }
            self.buf.resize((self.buf.len() * 2).min(self.limit), 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The byte `at` bytes past the next line's start, if the file has it.
    fn peek(&mut self, at: usize) -> io::Result<Option<u8>> {
        while self.start + at >= self.end {
            if !self.fill()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.start + at]))
    }

    /// Where the physical line that begins `from` bytes past the next
    /// line's start ends (after its `\n`, or at the end of the file), as
    /// an offset from that start.
    fn line_end(&mut self, from: usize) -> io::Result<usize> {
        let mut searched = from;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.start + searched..self.end]) {
                return Ok(searched + i + 1);
            }
            searched = self.end - self.start;
            if !self.fill()? {
                return Ok(searched);
            }
        }
    }

    /// Number and byte offset of the next physical line.
    pub(crate) fn position(&self) -> (usize, u64) {
        (self.line, self.offset)
    }

    /// The next content line, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<ContentLine<'_>>> {
        if self.peek(0)?.is_none() {
            return Ok(None);
        }
        // Offsets from the line's start: reading more moves the buffer.
        let first = self.line_end(0)?;
        let mut len = first;
        let mut physical = 1;
        // Most lines are not folded: their text is the physical line, and
        // is only copied for the lines that are.
        let mut folded = false;
        while matches!(self.peek(len)?, Some(b' ' | b'\t')) {
            let end = self.line_end(len)?;
            if !folded {
                folded = true;
                self.text.clear();
                self.text
                    .extend_from_slice(trim_eol(&self.buf[self.start..self.start + first]));
            }
            // A continuation: its first character (the fold's space) goes.
            self.text
                .extend_from_slice(trim_eol(&self.buf[self.start + len + 1..self.start + end]));
            len = end;
            physical += 1;
        }
        let (line, offset, at) = (self.line, self.offset, self.start);
        self.start += len;
        self.line += physical;
        self.offset += len as u64;
        let raw = &self.buf[at..at + len];
        Ok(Some(ContentLine {
            line,
            offset,
            text: if folded { &self.text } else { trim_eol(raw) },
            raw,
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

    /// Hands out at most a few bytes a read, so that lines, their
    /// terminators and their folds end up cut across reads.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.step = self.step % 7 + 1;
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn trickle(data: &[u8]) -> Trickle<'_> {
        Trickle { data, step: 0 }
    }

    /// What the lines of `input` are, worked out the plain way: split
    /// after each `\n`, continuations joined to the line before.
    fn reference(input: &[u8]) -> Vec<(usize, u64, Vec<u8>, Vec<u8>)> {
        let mut out: Vec<(usize, u64, Vec<u8>, Vec<u8>)> = Vec::new();
        let (mut line, mut offset) = (1, 0u64);
        for physical in input.split_inclusive(|b| *b == b'\n') {
            match out.last_mut() {
                Some(last) if matches!(physical.first(), Some(b' ' | b'\t')) => {
                    last.2.extend_from_slice(trim_eol(&physical[1..]));
                    last.3.extend_from_slice(physical);
                }
                _ => out.push((line, offset, trim_eol(physical).to_vec(), physical.to_vec())),
            }
            line += 1;
            offset += physical.len() as u64;
        }
        out
    }

    fn read_all(reader: impl Read) -> Vec<(usize, u64, Vec<u8>, Vec<u8>)> {
        let mut lines = Lines::new(reader, 1, 0);
        let mut got = Vec::new();
        while let Some(l) = lines.next_line().unwrap() {
            got.push((l.line, l.offset, l.text.to_vec(), l.raw.to_vec()));
        }
        got
    }

    #[test]
    fn lines_cut_across_reads_and_longer_than_the_buffer() {
        let long = "x".repeat(CHUNK * 2 + 17);
        let input = format!(
            "BEGIN:VCALENDAR\r\nSUMMARY:a\r\n b\r\n\r\n c\nDESCRIPTION:{long}\r\n  {long}\r\n\t\r\nX:1\n\nEND:VCALENDAR"
        );
        let input = input.as_bytes();
        let expected = reference(input);
        assert_eq!(expected.len(), 7, "{expected:?}");
        assert_eq!(expected[1].2, b"SUMMARY:ab");
        assert_eq!(
            expected[3].2.len(),
            "DESCRIPTION:".len() + 2 * long.len() + 1
        );
        assert_eq!(read_all(input), expected);
        assert_eq!(read_all(trickle(input)), expected);
        // No line at all, and a file of one unterminated line.
        assert!(read_all(&b""[..]).is_empty());
        assert_eq!(read_all(trickle(b"X:1")), reference(b"X:1"));
    }

    #[test]
    fn a_line_longer_than_the_limit_fails_with_its_number() {
        let limit = CHUNK * 2;
        let fits = format!(
            "X:1\r\nDESCRIPTION:{}\r\n {}\r\nY:2\r\n",
            "a".repeat(CHUNK),
            "b".repeat(CHUNK / 2)
        );
        let mut lines = Lines::new(fits.as_bytes(), 1, 0).limit(limit);
        let mut n = 0;
        while lines.next_line().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 3);

        // Folds count: the line is its physical lines together.
        let long = format!(
            "X:1\r\nDESCRIPTION:{}\r\n {}\r\nY:2\r\n",
            "a".repeat(CHUNK),
            "b".repeat(CHUNK + 10)
        );
        for reader in [
            Box::new(long.as_bytes()) as Box<dyn Read>,
            Box::new(trickle(long.as_bytes())),
        ] {
            let mut lines = Lines::new(reader, 1, 0).limit(limit);
            let first = lines.next_line().unwrap().unwrap();
            assert_eq!(first.text, b"X:1");
            let err = lines.next_line().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            let too_long = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<LineTooLong>())
                .unwrap();
            assert_eq!(too_long.line, 2);
        }
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
