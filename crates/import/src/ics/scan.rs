//! The component structure of an iCalendar file: BEGIN/END nesting checked
//! line by line, and each top-level component of a calendar (VEVENT,
//! VTIMEZONE, VTODO, ...) handed over whole, with where it is in the file,
//! its own UID and whether it is a RECURRENCE-ID override. Memory is one
//! component at a time.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use super::lines::{LineTooLong, Lines, name_of, split};
use crate::diag::{Diagnostic, FileError};

/// Components may nest (VEVENT > VALARM), but not without end: a file
/// nesting deeper than this is broken or hostile.
const MAX_DEPTH: usize = 32;

/// Components that may stand in a file without a VCALENDAR around them
/// (some tools export bare VEVENTs).
const BARE_COMPONENTS: &[&[u8]] = &[b"VEVENT", b"VTODO", b"VJOURNAL", b"VFREEBUSY", b"VTIMEZONE"];

/// The room first made for a component's text kept for `Keep::Meeting`:
/// an exported event with a handful of attendees keeps 400 to 700 bytes.
const MEETING_TEXT: usize = 1024;

/// How much of a component's text to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// None: the caller only needs where it is.
    Nothing,
    /// All of it, byte for byte.
    All,
    /// Its BEGIN and END and the properties an occurrence is made of:
    /// descriptions, alarms and vendor properties (often most of an
    /// Outlook or Google event) are not worth parsing.
    Meeting,
}

/// The properties `Keep::Meeting` keeps. Asked of every line of every
/// event: the name is upper-cased on the stack and matched once, instead
/// of compared without case to each name in turn.
fn is_meeting_property(name: &[u8]) -> bool {
    // Room for the longest name kept (13 bytes); a longer one is not kept.
    let mut buf = [0u8; 16];
    let Some(upper) = buf.get_mut(..name.len()) else {
        return false;
    };
    for (u, b) in upper.iter_mut().zip(name) {
        *u = b.to_ascii_uppercase();
    }
    matches!(
        &*upper,
        b"UID"
            | b"DTSTART"
            | b"DTEND"
            | b"DURATION"
            | b"RRULE"
            | b"RDATE"
            | b"EXDATE"
            | b"RECURRENCE-ID"
            | b"SEQUENCE"
            | b"LAST-MODIFIED"
            | b"STATUS"
            | b"SUMMARY"
            | b"ORGANIZER"
            | b"ATTENDEE"
    )
}

/// The parameters of ORGANIZER and ATTENDEE an occurrence uses: the
/// answer, rooms and resources (left out), and RFC 7986's address for
/// attendees named by URN.
const ADDRESS_PARAMETERS: &[&[u8]] = &[b"PARTSTAT", b"CUTYPE", b"EMAIL"];

/// Of those, the values that say what leaving them out says: RFC 5545's
/// default, which Google writes on every attendee.
const DEFAULT_PARAMETERS: &[&[u8]] = &[b"CUTYPE=INDIVIDUAL"];

/// Appends a content line kept for `Keep::Meeting`, as calcard reads it
/// fastest: unfolded, and for ORGANIZER and ATTENDEE without the
/// parameters nothing reads (CN, ROLE, RSVP, X-NUM-GUESTS and the like are
/// often half of an exported event, and parsing is the reader's cost).
fn keep_line(out: &mut Vec<u8>, prop: &[u8], text: &[u8]) {
    let start = out.len();
    if !(is_address(prop) && slim_address(out, prop.len(), text)) {
        out.truncate(start);
        out.extend_from_slice(text);
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether a property names a calendar user: ORGANIZER or ATTENDEE.
pub(crate) fn is_address(prop: &[u8]) -> bool {
    prop.eq_ignore_ascii_case(b"ATTENDEE") || prop.eq_ignore_ascii_case(b"ORGANIZER")
}

/// Writes an address line with only `ADDRESS_PARAMETERS`; false (with
/// some of it written) when the line has no value, to be kept whole.
fn slim_address(out: &mut Vec<u8>, name_len: usize, text: &[u8]) -> bool {
    out.extend_from_slice(&text[..name_len]);
    let mut quoted = false;
    // Each parameter runs from its `;` to the next `;` or the value's `:`,
    // neither inside a quoted value.
    let mut param = name_len;
    // From one of the three characters that matter to the next: most of a
    // line is parameter values (names, roles), not worth looking at.
    let delimiters =
        memchr::memchr3_iter(b'"', b';', b':', &text[name_len..]).map(|i| name_len + i);
    for i in delimiters {
        match text[i] {
            b'"' => quoted = !quoted,
            b';' | b':' if !quoted => {
                if i > param {
                    // With its `;`, which is written back; without it, compared.
                    let p = &text[param..i];
                    let whole = p.get(1..).unwrap_or_default();
                    let name =
                        &whole[..whole.iter().position(|c| *c == b'=').unwrap_or(whole.len())];
                    if ADDRESS_PARAMETERS
                        .iter()
                        .any(|k| name.eq_ignore_ascii_case(k))
                        && !DEFAULT_PARAMETERS
                            .iter()
                            .any(|d| whole.eq_ignore_ascii_case(d))
                    {
                        out.extend_from_slice(p);
                    }
                }
                if text[i] == b':' {
                    out.extend_from_slice(&text[i..]);
                    return true;
                }
                param = i;
            }
            _ => {}
        }
    }
    false
}

/// A complete top-level component of a calendar.
#[derive(Debug, Default)]
pub(crate) struct Component {
    /// Its name, upper case (`VEVENT`).
    pub(crate) kind: Cow<'static, [u8]>,
    /// 1-based line of its BEGIN.
    pub(crate) line: usize,
    /// Byte offset of its BEGIN line.
    pub(crate) offset: u64,
    /// Its length in bytes, up to and including its END line.
    pub(crate) len: u64,
    /// Its text, as much as the caller asked for.
    pub(crate) raw: Vec<u8>,
    /// Its own UID (not one of a VALARM's), as written.
    pub(crate) uid: Option<Vec<u8>>,
    /// Whether it has a RECURRENCE-ID: an override of one occurrence.
    pub(crate) recurrence_id: bool,
    /// A VTIMEZONE's TZID.
    pub(crate) tzid: Option<Vec<u8>>,
}

/// What the scan finds, in file order.
pub(crate) enum Item<'a> {
    /// A property of a calendar itself (name as written).
    CalendarProperty { name: &'a [u8], value: &'a [u8] },
    /// A complete top-level component (the visitor may take its text).
    Component(&'a mut Component),
}

/// The open components and the place a scan is at: where a scan of a
/// whole file starts ([`State::start`]), and where a scan of a part of one
/// ends (and the next part's scan starts).
#[derive(Clone, Debug)]
pub(crate) struct State {
    /// The components open, outermost first: name and 1-based line of the
    /// BEGIN.
    pub(crate) stack: Vec<(Cow<'static, [u8]>, usize)>,
    /// 1-based number of the next physical line.
    pub(crate) line: usize,
    /// Byte offset of the next physical line.
    pub(crate) offset: u64,
    /// Whether a content line has been read (a BOM is only looked for
    /// before that).
    pub(crate) seen_content: bool,
    /// Line of the last content line read (0 before any).
    pub(crate) last_line: usize,
}

impl State {
    /// The start of a file.
    pub(crate) fn start() -> Self {
        Self {
            stack: Vec::new(),
            line: 1,
            offset: 0,
            seen_content: false,
            last_line: 0,
        }
    }

    /// Inside a VCALENDAR at `offset` (lines counted from 1 there), with no
    /// component open: where the text of a calendar between two events is.
    pub(crate) fn calendar_level(offset: u64) -> Self {
        Self {
            stack: vec![(Cow::Borrowed(b"VCALENDAR".as_slice()), 0)],
            line: 1,
            offset,
            seen_content: true,
            last_line: 0,
        }
    }

    /// Whether this is inside a VCALENDAR with nothing else open, as
    /// [`State::calendar_level`] assumes.
    pub(crate) fn at_calendar_level(&self) -> bool {
        matches!(self.stack.as_slice(), [(name, _)] if **name == *b"VCALENDAR")
    }
}

/// Walks a whole file; `keep` says how much text to keep of which
/// component kinds. Structural faults (not iCalendar, an END that closes the
/// wrong BEGIN, a truncated file) are `FileError`s.
pub(crate) fn scan<R: Read>(
    path: &Path,
    reader: R,
    keep: &dyn Fn(&[u8]) -> Keep,
    visit: impl FnMut(Item<'_>) -> Result<(), FileError>,
) -> Result<(), FileError> {
    let end = scan_part(path, reader, State::start(), keep, visit)?;
    finish(path, &end)
}

/// The faults only the end of a file shows: nothing in it, or components
/// left open.
pub(crate) fn finish(path: &Path, end: &State) -> Result<(), FileError> {
    if !end.seen_content {
        return Err(FileError(Diagnostic::new(
            path,
            "the file is empty: not an iCalendar file",
        )));
    }
    if let Some((open, open_line)) = end.stack.last() {
        return Err(FileError(
            Diagnostic::new(
                path,
                format!(
                    "the file ends inside the {} begun at line {open_line}: it is truncated",
                    String::from_utf8_lossy(open)
                ),
            )
            .line(end.last_line),
        ));
    }
    Ok(())
}

/// Walks the text `reader` gives, which begins in `state` (the start of a
/// file, or a place between components found earlier), and returns the
/// state it ends in. A component still open at the end is not visited.
pub(crate) fn scan_part<R: Read>(
    path: &Path,
    reader: R,
    state: State,
    keep: &dyn Fn(&[u8]) -> Keep,
    mut visit: impl FnMut(Item<'_>) -> Result<(), FileError>,
) -> Result<State, FileError> {
    let io_error = |e: std::io::Error| {
        FileError(
            match e.get_ref().and_then(|e| e.downcast_ref::<LineTooLong>()) {
                Some(long) => Diagnostic::new(path, long.to_string()).line(long.line),
                None => Diagnostic::new(path, format!("cannot read the file: {e}")),
            },
        )
    };
    let mut lines = Lines::new(reader, state.line, state.offset);
    let State {
        mut stack,
        mut seen_content,
        mut last_line,
        ..
    } = state;
    let mut current: Option<(Component, usize, Keep)> = None;

    while let Some(cl) = lines.next_line().map_err(io_error)? {
        last_line = cl.line;
        let mut text = cl.text;
        if !seen_content {
            text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            if let Some((c, _, Keep::All)) = &mut current {
                c.raw.extend_from_slice(cl.raw);
            }
            continue;
        }
        let first = !seen_content;
        seen_content = true;
        let prop = name_of(text);
        let has_value = prop.len() < text.len();

        if has_value && prop.eq_ignore_ascii_case(b"BEGIN") {
            let name = component_name(text);
            if stack.len() >= MAX_DEPTH {
                return Err(FileError(
                    Diagnostic::new(path, format!("components nest more than {MAX_DEPTH} deep"))
                        .line(cl.line),
                ));
            }
            let at_calendar_level = match stack.as_slice() {
                [] => {
                    if *name == *b"VCALENDAR" {
                        false
                    } else if BARE_COMPONENTS.contains(&name.as_ref()) {
                        true
                    } else {
                        return Err(outside(path, cl.line, text, first));
                    }
                }
                [(top, _)] => **top == *b"VCALENDAR",
                _ => false,
            };
            stack.push((name.clone(), cl.line));
            if current.is_none() && at_calendar_level {
                let keep = keep(&name);
                // An event's kept text is some hundreds of bytes: room for
                // it at once rather than growing there in a few steps.
                let raw = match keep {
                    Keep::Meeting => Vec::with_capacity(MEETING_TEXT),
                    Keep::All | Keep::Nothing => Vec::new(),
                };
                current = Some((
                    Component {
                        kind: name,
                        line: cl.line,
                        offset: cl.offset,
                        raw,
                        ..Component::default()
                    },
                    stack.len(),
                    keep,
                ));
            }
            if let Some((c, depth, keep)) = &mut current {
                match keep {
                    Keep::All => c.raw.extend_from_slice(cl.raw),
                    Keep::Meeting if stack.len() == *depth => keep_line(&mut c.raw, prop, text),
                    _ => {}
                }
            }
        } else if has_value && prop.eq_ignore_ascii_case(b"END") {
            let name = component_name(text);
            let Some((open, open_line)) = stack.pop() else {
                return Err(FileError(
                    Diagnostic::new(
                        path,
                        format!(
                            "END:{} without a matching BEGIN",
                            String::from_utf8_lossy(&name)
                        ),
                    )
                    .line(cl.line),
                ));
            };
            if open != name {
                return Err(FileError(
                    Diagnostic::new(
                        path,
                        format!(
                            "END:{} does not close BEGIN:{} of line {open_line}: the file is broken (a missing END, or a truncated component)",
                            String::from_utf8_lossy(&name),
                            String::from_utf8_lossy(&open),
                        ),
                    )
                    .line(cl.line),
                ));
            }
            if let Some((c, depth, keep)) = &mut current {
                let own = stack.len() + 1 == *depth;
                match keep {
                    Keep::All => c.raw.extend_from_slice(cl.raw),
                    Keep::Meeting if own => keep_line(&mut c.raw, prop, text),
                    _ => {}
                }
                if own {
                    c.len = cl.offset + cl.raw.len() as u64 - c.offset;
                    visit(Item::Component(c))?;
                    current = None;
                }
            }
        } else if let Some((c, depth, keep)) = &mut current {
            let own = stack.len() == *depth;
            match keep {
                Keep::All => c.raw.extend_from_slice(cl.raw),
                Keep::Meeting if own && is_meeting_property(prop) => {
                    keep_line(&mut c.raw, prop, text);
                }
                _ => {}
            }
            if own && has_value {
                own_property(c, prop, text);
            }
        } else {
            match stack.as_slice() {
                [] => return Err(outside(path, cl.line, text, first)),
                [(top, _)] if **top == *b"VCALENDAR" => {
                    if let Some((name, value)) = split(text) {
                        visit(Item::CalendarProperty {
                            name,
                            value: trim(value),
                        })?;
                    }
                }
                _ => {}
            }
        }
    }

    let (line, offset) = lines.position();
    Ok(State {
        stack,
        line,
        offset,
        seen_content,
        last_line,
    })
}

/// The names components have in practice, shared rather than allocated
/// for each BEGIN and END line.
const KNOWN_COMPONENTS: &[&[u8]] = &[
    b"VEVENT",
    b"VALARM",
    b"VCALENDAR",
    b"VTIMEZONE",
    b"STANDARD",
    b"DAYLIGHT",
    b"VTODO",
    b"VJOURNAL",
    b"VFREEBUSY",
];

fn component_name(text: &[u8]) -> Cow<'static, [u8]> {
    let value = trim(split(text).map(|(_, v)| v).unwrap_or(&[]));
    match KNOWN_COMPONENTS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(value))
    {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(value.to_ascii_uppercase()),
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end]
}

fn own_property(c: &mut Component, prop: &[u8], text: &[u8]) {
    if prop.eq_ignore_ascii_case(b"UID") {
        if let Some((_, v)) = split(text) {
            c.uid = Some(trim(v).to_vec());
        }
    } else if prop.eq_ignore_ascii_case(b"RECURRENCE-ID") {
        c.recurrence_id = true;
    } else if prop.eq_ignore_ascii_case(b"TZID")
        && let Some((_, v)) = split(text)
    {
        c.tzid = Some(trim(v).to_vec());
    }
}

fn outside(path: &Path, line: usize, text: &[u8], first: bool) -> FileError {
    let shown: String = String::from_utf8_lossy(text).chars().take(60).collect();
    let message = if first && text.len() >= 11 && text[..11].eq_ignore_ascii_case(b"BEGIN:VCARD") {
        "this is a vCard (contacts), not an iCalendar file".to_owned()
    } else if first {
        "not an iCalendar file: it must begin with BEGIN:VCALENDAR".to_owned()
    } else {
        "text outside BEGIN:VCALENDAR … END:VCALENDAR".to_owned()
    };
    FileError(Diagnostic::new(path, message).line(line).value(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (kind, line, uid, is an override) of each component.
    type Found = Vec<(String, usize, Option<String>, bool)>;

    fn run(text: &str) -> Result<Found, FileError> {
        let mut out = Vec::new();
        scan(
            Path::new("t.ics"),
            text.as_bytes(),
            &|_| Keep::All,
            |item| {
                if let Item::Component(c) = item {
                    assert_eq!(c.raw.len() as u64, c.len);
                    assert_eq!(
                        &text.as_bytes()[c.offset as usize..(c.offset + c.len) as usize],
                        &c.raw[..]
                    );
                    out.push((
                        String::from_utf8_lossy(&c.kind).into_owned(),
                        c.line,
                        c.uid
                            .as_ref()
                            .map(|u| String::from_utf8_lossy(u).into_owned()),
                        c.recurrence_id,
                    ));
                }
                Ok(())
            },
        )?;
        Ok(out)
    }

    #[test]
    fn meeting_properties_by_name_whatever_the_case() {
        for name in [
            "UID",
            "summary",
            "Attendee",
            "recurrence-id",
            "Last-Modified",
        ] {
            assert!(is_meeting_property(name.as_bytes()), "{name}");
        }
        for name in [
            "",
            "X-SUMMARY",
            "SUMMARYX",
            "DESCRIPTION",
            "DTSTAMP",
            "VERY-LONG-PROPERTY-NAME-X",
        ] {
            assert!(!is_meeting_property(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn components_with_their_own_uid() {
        let got = run("\u{feff}BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nBEGIN:VALARM\r\nUID:alarm\r\nEND:VALARM\r\nUID:ev\r\n ent-1\r\nRECURRENCE-ID:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").unwrap();
        assert_eq!(
            got,
            vec![("VEVENT".to_owned(), 2, Some("event-1".to_owned()), true)]
        );
    }

    #[test]
    fn structural_faults_are_located() {
        let e = run("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n").unwrap_err();
        assert_eq!(e.0.line, Some(3));
        let e = run("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\n").unwrap_err();
        assert_eq!(e.0.line, Some(3));
        assert!(e.0.message.contains("truncated"));
        let e = run("hello\n").unwrap_err();
        assert!(e.0.message.contains("not an iCalendar"));
        let e = run("BEGIN:VCARD\nEND:VCARD\n").unwrap_err();
        assert!(e.0.message.contains("vCard"));
        assert!(run("").is_err());
        assert!(run("BEGIN:VCALENDAR\nEND:VCALENDAR\njunk\n").is_err());
        assert!(
            run("\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn meeting_text_only() {
        let text = "BEGIN:VEVENT\r\nUID:a\r\nDESCRIPTION:long\r\n text\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nSUMMARY:Call\r\nEND:VEVENT\r\n";
        let mut raw = Vec::new();
        scan(
            Path::new("t.ics"),
            text.as_bytes(),
            &|_| Keep::Meeting,
            |item| {
                if let Item::Component(c) = item {
                    raw = c.raw.clone();
                    assert_eq!(c.len as usize, text.len());
                }
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Call\r\nEND:VEVENT\r\n"
        );
    }

    #[test]
    fn addresses_keep_only_what_occurrences_use() {
        let text = "BEGIN:VEVENT\r\nATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=\"Patel; Raj: sales\";X-NUM-GUESTS=0:mailto:raj@x.com\r\nATTENDEE;CN=Room 4;CUTYPE=ROOM:mailto:r4@x.com\r\nORGANIZER;CN=Ana:mailto:ana@x.com\r\nattendee;email=b@x.com;RSVP=TRUE:urn:uuid:1\r\nATTENDEE;CN=Lo\r\n ng Name;PARTSTAT=ACCEPTED:mailto:l@x.com\r\nATTENDEE;CN=\"broken\r\nEND:VEVENT\r\n";
        let mut raw = Vec::new();
        scan(
            Path::new("t.ics"),
            text.as_bytes(),
            &|_| Keep::Meeting,
            |item| {
                if let Item::Component(c) = item {
                    raw = c.raw.clone();
                }
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "BEGIN:VEVENT\r\nATTENDEE;PARTSTAT=DECLINED:mailto:raj@x.com\r\nATTENDEE;CUTYPE=ROOM:mailto:r4@x.com\r\nORGANIZER:mailto:ana@x.com\r\nattendee;email=b@x.com:urn:uuid:1\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:l@x.com\r\nATTENDEE;CN=\"broken\r\nEND:VEVENT\r\n"
        );
    }

    #[test]
    fn bare_events_are_accepted() {
        let got =
            run("BEGIN:VEVENT\nUID:a\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nEND:VEVENT\n").unwrap();
        assert_eq!(got.len(), 2);
    }
}
