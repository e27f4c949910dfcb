//! Calendar `.ics` exports → meeting occurrences, streamed.
//!
//! Files as real exporters write them: Google, Outlook/Exchange (Windows
//! time-zone names, VTIMEZONE blocks), Apple and others; folded lines,
//! quoted parameters, a BOM, CRLF or LF, UTF-8 or Latin-1 text (UTF-16 is
//! transcoded); TZIDs by IANA name, Windows name or an in-file VTIMEZONE;
//! UTC, floating and all-day times; RRULE, RDATE and EXDATE expanded within
//! a [`Window`]; RECURRENCE-ID overrides replacing their occurrence; and
//! cancelled events and occurrences (`STATUS:CANCELLED`) marked.
//!
//! # Streaming, and overrides anywhere in the file
//!
//! calcard's incremental parser (`Parser::entry`) yields one whole object
//! at a time: for an export, that is the one VCALENDAR, holding every event
//! of the file in memory at once. Given a text that begins with
//! BEGIN:VEVENT, though, it parses just that event. So the reader cuts the
//! file into its top-level components itself (the `scan` module, which
//! knows content lines and BEGIN/END and nothing else) and gives calcard
//! one VEVENT at a time. The catch is that a
//! RECURRENCE-ID override may come anywhere after (or before) its master,
//! and two copies of one event may both be in the file. The reader
//! therefore makes two passes:
//!
//! 1. **Index** (cheap: no property parsing beyond UID): VTIMEZONEs are
//!    read (they are few), and every VEVENT's UID goes into a fixed-size
//!    Bloom filter. A UID becomes a *group* when a component has a
//!    RECURRENCE-ID or the filter says the UID was seen before; from then
//!    on, the byte range of each of its components is recorded. Only its
//!    first component can precede that moment, and the second pass meets
//!    that one first. Memory: the filter (sized by the file, 8 MiB at most)
//!    plus the groups, which grow with the overrides and duplicates, not
//!    with the events. A large file is read in parts on several threads,
//!    folded together in file order to the same result (the `index`
//!    module).
//! 2. **Emit**: events outside any group are parsed, expanded and emitted
//!    at once. At the first component of a group, its other components are
//!    read back by byte range, the group is resolved (the highest SEQUENCE,
//!    then the latest LAST-MODIFIED, wins among copies; overrides replace
//!    their occurrences) and its occurrences are emitted there; its later
//!    components are passed over.
//!
//! Structural faults (not iCalendar, a truncated file) are found by the
//! first pass, before anything is emitted. Occurrences reach the callback
//! in file order (a group's at its first component), each group's sorted
//! by start. calcard parses about 100 bytes a microsecond, so the second
//! pass hands events to worker threads and puts their results back in
//! file order (the `work` module).
//!
//! # Times
//!
//! - A TZID must name a zone — IANA, Windows, or a VTIMEZONE of the file
//!   that calcard maps to one (by its TZID, X-LIC-LOCATION or
//!   X-MICROSOFT-CDO-TZID). An event with any other TZID is left out and
//!   counted: reading it as UTC would move it by hours.
//! - Floating times (no zone) and all-day dates are wall-clock times of the
//!   calendar's X-WR-TIMEZONE (what Google writes), else UTC.
//! - A timed event without DTEND or DURATION lasts no time (RFC 5545).
//! - An override's RANGE=THISANDFUTURE is read as an override of its one
//!   occurrence: Google and Outlook split a series changed "from here on"
//!   into two series instead of writing that range.

mod event;
mod index;
mod lines;
mod scan;
mod work;

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use accord_domain::id::Email;
use accord_domain::meeting::ResponseStatus;
use chrono::{DateTime, Utc};

use crate::diag::{Diagnostic, FileError};
use event::{Addresses, Context, Skips};
use index::{Loc, index};
use scan::{Item, Keep, scan};

/// The span of time occurrences are wanted for: those starting in
/// `[from, to)`. Recurrences are expanded up to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

/// Someone invited: the organiser, or an attendee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventAttendee {
    /// Lower-case address (`mailto:` dropped).
    pub email: Email,
    /// Their answer (`PARTSTAT`); the organiser's is `Accepted` unless they
    /// answer otherwise as an attendee.
    pub response: ResponseStatus,
    /// Whether they organised the meeting.
    pub organizer: bool,
}

/// One occurrence of a meeting.
#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    /// The event's UID.
    pub uid: String,
    /// Which occurrence: its RECURRENCE-ID, or the start of a single event
    /// or of this expanded instance. With `uid`, the natural key.
    pub occurrence: DateTime<Utc>,
    /// The event's SEQUENCE (0 when absent).
    pub sequence: i64,
    /// The event's LAST-MODIFIED.
    pub last_modified: Option<DateTime<Utc>>,
    /// SUMMARY.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (the start, for a timed event without end or duration).
    pub ends_at: DateTime<Utc>,
    /// A whole-day event (DTSTART is a date).
    pub all_day: bool,
    /// `STATUS:CANCELLED` on the event or on this occurrence's override.
    pub cancelled: bool,
    /// The organiser and attendees.
    pub attendees: Vec<EventAttendee>,
    /// 1-based line where the VEVENT that defines it begins.
    pub line: usize,
}

/// What reading a calendar found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalendarSummary {
    /// VEVENT components read (masters, overrides and copies).
    pub events_read: usize,
    /// Occurrences passed to the callback.
    pub occurrences_in_window: usize,
    /// Of those, how many are cancelled.
    pub cancelled: usize,
    /// What was left out: (reason, count, up to 3 examples).
    pub skipped: Vec<(String, usize, Vec<String>)>,
}

/// Expands folders into the `.ics` files under them (recursively, sorted,
/// hidden entries skipped); files named directly are kept.
pub fn collect_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FileError> {
    crate::paths::expand(paths, "ics")
}

/// The bytes of a calendar: the file itself, or (for UTF-16 files, which
/// are transcoded) a copy in memory.
enum Source<'a> {
    File(&'a Path),
    Memory(Vec<u8>),
}

impl Source<'_> {
    /// Unbuffered: the line reader has a buffer of its own.
    fn reader(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Source::File(path) => Box::new(File::open(path)?),
            Source::Memory(bytes) => Box::new(bytes.as_slice()),
        })
    }

    fn len(&self) -> u64 {
        match self {
            Source::File(path) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            Source::Memory(bytes) => bytes.len() as u64,
        }
    }
}

/// Reads back components by byte range.
struct Fetch<'a> {
    source: &'a Source<'a>,
    file: Option<File>,
}

impl Fetch<'_> {
    fn read(&mut self, loc: Loc) -> std::io::Result<Vec<u8>> {
        let len = usize::try_from(loc.len).unwrap_or(usize::MAX);
        match self.source {
            Source::Memory(bytes) => {
                let start = usize::try_from(loc.offset).unwrap_or(usize::MAX);
                Ok(bytes
                    .get(start..start.saturating_add(len))
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default())
            }
            Source::File(path) => {
                let file = match &mut self.file {
                    Some(f) => f,
                    None => self.file.insert(File::open(path)?),
                };
                file.seek(SeekFrom::Start(loc.offset))?;
                let mut buf = Vec::with_capacity(len.min(1 << 20));
                file.by_ref().take(loc.len).read_to_end(&mut buf)?;
                Ok(buf)
            }
        }
    }
}

/// Reads a calendar file and calls `each` with every occurrence that
/// starts in the window, in file order, as they are produced. Memory stays
/// flat whatever the number of events (see the module documentation).
///
/// A file that is not iCalendar, or is broken beyond what the parser
/// tolerates (an END that closes the wrong BEGIN, a truncated file), is a
/// [`FileError`] with its line, and nothing is emitted. Events that cannot
/// be used (no start, an unknown time zone, no UID) are left out and
/// counted in [`CalendarSummary::skipped`].
pub fn read_calendar(
    path: &Path,
    window: &Window,
    each: impl FnMut(Occurrence),
) -> Result<CalendarSummary, FileError> {
    read(path, window, Addresses::Plain, each)
}

fn read(
    path: &Path,
    window: &Window,
    addresses: Addresses,
    mut each: impl FnMut(Occurrence),
) -> Result<CalendarSummary, FileError> {
    let io_error =
        |e: std::io::Error| FileError(Diagnostic::new(path, format!("cannot read the file: {e}")));
    let source = open(path)?;
    let index = index(path, &source)?;
    let ctx = Context {
        window,
        floating: index.floating,
        zones: &index.zones,
        addresses,
    };

    let mut summary = CalendarSummary::default();
    let mut skips = Skips::default();
    let mut events_read = 0usize;
    let mut done: HashSet<Vec<u8>> = HashSet::new();
    let mut fetch = Fetch {
        source: &source,
        file: None,
    };
    let keep = |kind: &[u8]| {
        if kind == b"VEVENT" {
            Keep::Meeting
        } else {
            Keep::Nothing
        }
    };
    let reader = source.reader().map_err(io_error)?;
    let mut other_kinds = Skips::default();
    let workers = if source.len() < PARALLEL_MIN_BYTES {
        1
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(MAX_WORKERS)
    };
    work::run(
        workers,
        &ctx,
        |submit| {
            scan(path, reader, &keep, |item| {
                let Item::Component(c) = item else {
                    return Ok(());
                };
                match c.kind.as_ref() {
                    b"VEVENT" => {}
                    b"VTIMEZONE" => return Ok(()),
                    other => {
                        let kind = String::from_utf8_lossy(other).into_owned();
                        let line = c.line;
                        other_kinds
                            .add(&format!("not an event ({kind})"), || format!("line {line}"));
                        return Ok(());
                    }
                }
                events_read += 1;
                let group = c
                    .uid
                    .as_ref()
                    .and_then(|u| index.groups.get(u).map(|g| (u, g)));
                match group {
                    Some((uid, _)) if done.contains(uid) => {}
                    Some((uid, locs)) => {
                        let mut job = vec![(std::mem::take(&mut c.raw), c.line)];
                        for loc in locs.iter().filter(|l| l.offset != c.offset) {
                            let raw = fetch.read(*loc).map_err(io_error)?;
                            job.push((meeting_text(path, &raw)?, loc.line));
                        }
                        done.insert(uid.clone());
                        submit(job);
                    }
                    None => submit(vec![(std::mem::take(&mut c.raw), c.line)]),
                }
                Ok(())
            })
        },
        |result| {
            summary.occurrences_in_window += result.occurrences.len();
            summary.cancelled += result.occurrences.iter().filter(|o| o.cancelled).count();
            skips.merge(result.skips);
            for o in result.occurrences {
                each(o);
            }
        },
    )?;
    skips.merge(other_kinds);
    summary.events_read = events_read;
    summary.skipped = skips.list;
    Ok(summary)
}

/// Files smaller than this are read on one thread: starting workers costs
/// more than it saves.
const PARALLEL_MIN_BYTES: u64 = 1 << 20;
/// Beyond this many workers the scanning thread is the bottleneck.
const MAX_WORKERS: usize = 8;

/// A component read back by byte range, cut to what an occurrence needs
/// (as the second pass cuts the components it meets).
fn meeting_text(path: &Path, raw: &[u8]) -> Result<Vec<u8>, FileError> {
    let mut out = Vec::new();
    scan(path, raw, &|_| Keep::Meeting, |item| {
        if let Item::Component(c) = item {
            out.clone_from(&c.raw);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Opens a calendar; UTF-16 files (some Windows tools write them) are
/// transcoded to UTF-8 in memory.
fn open(path: &Path) -> Result<Source<'_>, FileError> {
    let mut head = [0u8; 2];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| FileError(Diagnostic::new(path, format!("cannot read the file: {e}"))))?;
    let little = match &head[..n] {
        [0xFF, 0xFE] => true,
        [0xFE, 0xFF] => false,
        _ => return Ok(Source::File(path)),
    };
    let bytes = std::fs::read(path)
        .map_err(|e| FileError(Diagnostic::new(path, format!("cannot read the file: {e}"))))?;
    let units = bytes
        .get(2..)
        .unwrap_or_default()
        .chunks(2)
        .map(|c| match c {
            [a, b] if little => u16::from_le_bytes([*a, *b]),
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => 0xFFFD,
        });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Ok(Source::Memory(text.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Address lines an event may have: plain ones, in every form the
    /// plain reading takes, and every kind it must leave to calcard.
    const ADDRESS_LINES: &[&str] = &[
        "ORGANIZER;CN=Ana Pérez:mailto:ana@ourco.example",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Raj\r\n  Patel;X-NUM-GUESTS=0:mailto:Raj.Patel@OURCO.example",
        "ATTENDEE;PARTSTAT=DECLINED:MAILTO:lee@ourco.example",
        "attendee;partstat=tentative:mailto:Lee@OurCo.example",
        "ATTENDEE:mailto:sam@partner.example",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:buyer@acme.example",
        "ATTENDEE;PARTSTAT=declined:mailto:cto@eu.acme.example",
        "ATTENDEE;PARTSTAT=X-UNHEARD-OF:mailto:kim@acme.example",
        "ATTENDEE;PARTSTAT=DECLINED;PARTSTAT=ACCEPTED:mailto:buyer@acme.example",
        "ATTENDEE;PARTSTAT=:mailto:eve@ourco.example",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:mailto:twice@acme.example",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto: spaced@acme.example ",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:émile@acme.example",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a:b@acme.example",
        "ORGANIZER:mailto:vp@acme.example",
        "ORGANIZER;PARTSTAT=DECLINED:mailto:lee@ourco.example",
        "ATTENDEE;CUTYPE=ROOM;CN=Room 4:mailto:room4@ourco.example",
        "ATTENDEE;CUTYPE=RESOURCE:mailto:beamer@ourco.example",
        "ATTENDEE:mailto:not-an-address",
        "ATTENDEE;EMAIL=kim@acme.example:urn:uuid:3f1c",
        "ATTENDEE;CN=\"Lo, Mei\":mailto:mei@ourco.example",
        "ATTENDEE:mailto:a\\,b@ourco.example",
        "ATTENDEE;PARTSTAT=TENTATIVE:mailto:ana@ourco.example",
        "ATTENDEE;PARTSTAT=DECLINED:mailto:ANA@ourco.example",
        "ATTENDEE:urn:uuid:9",
        "ATTENDEE:",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@acmeother.example",
    ];

    fn event_with(uid: &str, day: usize, extra: &[u8], lines: &[usize]) -> Vec<u8> {
        let mut text = format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:202503{day:02}T090000Z\r\nDTEND:202503{day:02}T100000Z\r\n"
        )
        .into_bytes();
        text.extend_from_slice(extra);
        for i in lines {
            text.extend_from_slice(ADDRESS_LINES[*i].as_bytes());
            text.extend_from_slice(b"\r\n");
        }
        text.extend_from_slice(b"END:VEVENT\r\n");
        text
    }

    fn march_2025() -> Window {
        Window {
            from: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
            to: Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap(),
        }
    }

    /// Reads `text` as a file, with addresses read as `addresses` says.
    fn read_text(
        text: &[u8],
        addresses: Addresses,
    ) -> (Result<CalendarSummary, FileError>, Vec<Occurrence>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "accord-ics-{}-{}.ics",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text).unwrap();
        let mut list = Vec::new();
        let summary = read(&path, &march_2025(), addresses, |o| list.push(o));
        let _ = std::fs::remove_file(&path);
        (summary, list)
    }

    proptest::proptest! {
        /// A calendar read with its plain addresses read here gives what
        /// calcard gives: the same occurrences, attendees and answers
        /// included, and the same skips.
        #[test]
        fn plain_addresses_are_read_as_calcard_reads_them(
            events in proptest::collection::vec(
                (
                    proptest::collection::vec(0..ADDRESS_LINES.len(), 0..6),
                    0usize..4,
                    proptest::collection::vec(0..ADDRESS_LINES.len(), 0..4),
                ),
                1..12,
            ),
        ) {
            let mut text = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n".to_vec();
            for (n, (lines, kind, override_lines)) in events.iter().enumerate() {
                let uid = format!("e{n}");
                let day = 2 + n;
                match kind {
                    // A weekly series with an override of its second week.
                    0 => {
                        text.extend(event_with(&uid, day, b"RRULE:FREQ=WEEKLY;COUNT=3\r\n", lines));
                        let rid = format!("RECURRENCE-ID:202503{:02}T090000Z\r\nSEQUENCE:1\r\n", day + 7);
                        text.extend(event_with(&uid, day + 7, rid.as_bytes(), override_lines));
                    }
                    1 => text.extend(event_with(&uid, day, b"STATUS:CANCELLED\r\n", lines)),
                    // A title in Latin-1, as old exporters write it.
                    2 => text.extend(event_with(&uid, day, b"SUMMARY:Caf\xe9\r\n", lines)),
                    _ => text.extend(event_with(&uid, day, b"SUMMARY:Call\r\n", lines)),
                }
            }
            text.extend_from_slice(b"END:VCALENDAR\r\n");

            let (plain_summary, plain) = read_text(&text, Addresses::Plain);
            let (calcard_summary, calcard) = read_text(&text, Addresses::Calcard);
            proptest::prop_assert_eq!(plain_summary.unwrap(), calcard_summary.unwrap());
            proptest::prop_assert_eq!(plain, calcard);
        }
    }

    #[test]
    fn plain_address_lines_are_left_out_of_what_calcard_parses() {
        let event = "BEGIN:VEVENT\r\nUID:x\r\nORGANIZER:mailto:ana@ourco.example\r\nATTENDEE;PARTSTAT=DECLINED:mailto:Buyer@Acme.example\r\nATTENDEE:mailto:ana@ourco.example\r\nSUMMARY:Call\r\nEND:VEVENT\r\n";
        let (text, attendees) = event::plain_addresses(event.as_bytes()).unwrap();
        assert_eq!(
            text,
            b"BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Call\r\nEND:VEVENT\r\n".to_vec()
        );
        let got: Vec<_> = attendees
            .iter()
            .map(|a| (a.email.as_str(), a.response, a.organizer))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ana@ourco.example", ResponseStatus::Accepted, true),
                ("buyer@acme.example", ResponseStatus::Declined, false),
            ]
        );

        // Any other address line, and the event goes to calcard whole.
        let room = event.replace(
            "SUMMARY",
            "ATTENDEE;CUTYPE=ROOM:mailto:r@ourco.example\r\nSUMMARY",
        );
        assert!(event::plain_addresses(room.as_bytes()).is_none());
        let none = "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n";
        assert!(event::plain_addresses(none.as_bytes()).is_none());
    }
}
