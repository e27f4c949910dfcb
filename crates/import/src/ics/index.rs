//! The first pass over a calendar (see the `ics` module documentation):
//! the time zones the file defines, and the UIDs whose components must be
//! read together (a *group*: overrides, or several copies of an event).
//!
//! # Several threads on a large file
//!
//! The pass reads every line of the file, so on a large file it takes
//! about a second during which nothing else can start. Such a file is
//! therefore cut into parts of about [`PART_BYTES`], each beginning at a
//! `BEGIN:VEVENT` line, and the parts are scanned a few at a time, one
//! thread each. A part scan assumes it begins inside the VCALENDAR with
//! nothing else open; the scan of the part before checks that assumption
//! (it ends where the next begins). If any part fails it, or anything in a
//! part is wrong, the file is read again the plain way, which finds the
//! same things and reports errors with their exact lines.
//!
//! A part cannot know which UIDs the parts before it hold. It records, for
//! each UID, its first component there (a *first*: the UID itself and
//! where the component is) and, as a group of its own, the components
//! after that and its overrides. Parts are then folded into the whole in
//! file order: a first whose UID the file's filter has seen already joins
//! that UID's group, exactly as the plain pass would have recorded it.
//! Memory is a few parts' firsts at a time, not the file's.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use calcard::common::timezone::Tz;
use calcard::{Entry, Parser};

use super::Source;
use super::scan::{Item, Keep, State, finish, scan_part};
use crate::diag::{Diagnostic, FileError};

/// Where a component is, for reading it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Loc {
    pub(super) offset: u64,
    pub(super) len: u64,
    pub(super) line: usize,
}

/// What the first pass learns.
pub(super) struct Index {
    pub(super) floating: Tz,
    pub(super) zones: HashMap<String, Tz>,
    /// UIDs with overrides or several copies → their components (all but
    /// possibly the first).
    pub(super) groups: HashMap<Vec<u8>, Vec<Loc>>,
}

/// Files from this size are indexed in parts, on several threads.
const PARALLEL_MIN_BYTES: u64 = 64 << 20;
/// About how long a part is: it ends at the first event after this many
/// bytes. Small enough that a few parts' firsts take little memory, large
/// enough that starting a thread for each costs nothing in comparison.
const PART_BYTES: u64 = 16 << 20;
/// Threads the pass uses at most.
const MAX_THREADS: usize = 8;

/// The first pass: in parts on several threads for a large file (see the
/// module documentation), else in one go.
pub(super) fn index(path: &Path, source: &Source<'_>) -> Result<Index, FileError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(MAX_THREADS);
    index_with(path, source, PARALLEL_MIN_BYTES, PART_BYTES, threads)
}

/// [`index`], with its sizes given.
fn index_with(
    path: &Path,
    source: &Source<'_>,
    parallel_min: u64,
    part_bytes: u64,
    threads: usize,
) -> Result<Index, FileError> {
    if let Source::File(_) = source
        && threads > 1
        && source.len() >= parallel_min
        && let Some(index) = in_parts(path, source.len(), part_bytes, threads)
    {
        return Ok(index);
    }
    whole(path, source)
}

/// The first pass in one go.
fn whole(path: &Path, source: &Source<'_>) -> Result<Index, FileError> {
    let reader = source
        .reader()
        .map_err(|e| FileError(Diagnostic::new(path, format!("cannot read the file: {e}"))))?;
    let mut found = Found::new(source.len());
    let end = scan_part(path, reader, State::start(), &keep, |item| {
        match item {
            Item::CalendarProperty { name, value } => found.calendar_property(name, value),
            Item::Component(c) if *c.kind == *b"VTIMEZONE" => {
                // Exporters may repeat a VTIMEZONE before every event.
                let id = c.tzid.clone().unwrap_or_default();
                found.zone(id, || parse_zone(&c.raw));
            }
            Item::Component(c) if *c.kind == *b"VEVENT" => {
                if let Some(uid) = &c.uid {
                    found.event(uid, loc_of(c), c.recurrence_id);
                }
            }
            Item::Component(_) => {}
        }
        Ok(())
    })?;
    finish(path, &end)?;
    Ok(found.into_index())
}

/// How much of each component the pass keeps: VTIMEZONEs, to be parsed.
fn keep(kind: &[u8]) -> Keep {
    if kind == b"VTIMEZONE" {
        Keep::All
    } else {
        Keep::Nothing
    }
}

fn loc_of(c: &super::scan::Component) -> Loc {
    Loc {
        offset: c.offset,
        len: c.len,
        line: c.line,
    }
}

/// A VTIMEZONE's zone as calcard reads it: the name it goes by, and the zone.
type Zone = Option<(String, Tz)>;

/// A VTIMEZONE's zone.
fn parse_zone(raw: &[u8]) -> Zone {
    let text = String::from_utf8_lossy(raw);
    // As for events (see `work`): a parser panic on a VTIMEZONE leaves the
    // zone unknown, not the import dead.
    std::panic::catch_unwind(|| match Parser::new(&text).entry() {
        Entry::ICalendar(ical) => ical
            .components
            .first()
            .and_then(|tz| tz.timezone())
            .map(|(name, tz)| (name.to_owned(), tz)),
        _ => None,
    })
    .ok()
    .flatten()
}

/// Keeps the first X-WR-TIMEZONE (Google's zone for floating times).
fn wr_timezone(first: &mut Option<String>, name: &[u8], value: &[u8]) {
    if first.is_none() && name.eq_ignore_ascii_case(b"X-WR-TIMEZONE") {
        *first = Some(String::from_utf8_lossy(value).into_owned());
    }
}

/// What the pass has gathered so far, in file order.
struct Found {
    bloom: Bloom,
    groups: HashMap<Vec<u8>, Vec<Loc>>,
    zones: HashMap<String, Tz>,
    seen_zones: HashSet<Vec<u8>>,
    wr_timezone: Option<String>,
}

impl Found {
    fn new(file_len: u64) -> Self {
        Self {
            bloom: Bloom::for_file(file_len),
            groups: HashMap::new(),
            zones: HashMap::new(),
            seen_zones: HashSet::new(),
            wr_timezone: None,
        }
    }

    fn calendar_property(&mut self, name: &[u8], value: &[u8]) {
        wr_timezone(&mut self.wr_timezone, name, value);
    }

    /// A VTIMEZONE: the first of each TZID counts.
    fn zone(&mut self, tzid: Vec<u8>, parsed: impl FnOnce() -> Zone) {
        if self.seen_zones.insert(tzid)
            && let Some((name, tz)) = parsed()
        {
            self.zones.insert(name, tz);
        }
    }

    /// A VEVENT: it starts a group when it is an override or its UID was
    /// seen before, and joins its UID's group once there is one.
    fn event(&mut self, uid: &[u8], loc: Loc, recurrence_id: bool) {
        let seen = self.bloom.check_and_set(uid);
        // Only a UID the filter has seen can be a group already.
        let known = if seen { self.groups.get_mut(uid) } else { None };
        if let Some(locs) = known {
            locs.push(loc);
        } else if seen || recurrence_id {
            self.groups.insert(uid.to_vec(), vec![loc]);
        }
    }

    /// A part scanned on its own, whose lines are counted from `base` + 1.
    fn fold(&mut self, part: Part, base: usize) {
        let shift = |loc: Loc| Loc {
            line: loc.line + base,
            ..loc
        };
        if self.wr_timezone.is_none() {
            self.wr_timezone = part.wr_timezone;
        }
        for (tzid, zone) in part.zones {
            self.zone(tzid, || zone);
        }
        let mut start = 0;
        for (end, loc) in part.firsts {
            let uid = part.uids.get(start..end).unwrap_or_default();
            start = end;
            // Seen in an earlier part: the plain pass would have recorded
            // this component, as a new group or into its UID's group.
            if self.bloom.check_and_set(uid) {
                self.groups
                    .entry(uid.to_vec())
                    .or_default()
                    .push(shift(loc));
            }
        }
        // Each of these comes after its UID's first in the part, if any
        // (which the loop above has placed), or is an override.
        for (uid, locs) in part.groups {
            self.bloom.check_and_set(&uid);
            self.groups
                .entry(uid)
                .or_default()
                .extend(locs.into_iter().map(shift));
        }
    }

    fn into_index(self) -> Index {
        let zones = self.zones;
        let floating = self
            .wr_timezone
            .and_then(|name| {
                zones
                    .get(&name)
                    .copied()
                    .or_else(|| name.parse::<Tz>().ok())
            })
            .filter(|tz| !tz.is_floating())
            .unwrap_or(Tz::UTC);
        Index {
            floating,
            zones,
            groups: self.groups,
        }
    }
}

/// What the scan of one part finds (lines counted from its start).
#[derive(Default)]
struct Part {
    /// The state it ends in.
    end: Option<State>,
    /// Its first X-WR-TIMEZONE.
    wr_timezone: Option<String>,
    /// Its VTIMEZONEs, the first of each TZID, parsed.
    zones: Vec<(Vec<u8>, Zone)>,
    /// The UIDs of `firsts`, end to end.
    uids: Vec<u8>,
    /// The first component of each UID in the part (overrides aside): the
    /// end of its UID in `uids`, and where it is.
    firsts: Vec<(usize, Loc)>,
    /// Every other component of those UIDs, and the overrides.
    groups: HashMap<Vec<u8>, Vec<Loc>>,
}

/// The first pass over the file at `path` (`len` bytes) in parts,
/// `threads` at a time; `None` when a part does not begin where the one
/// before ends, or anything in the file is wrong (the plain pass then
/// finds out what).
fn in_parts(path: &Path, len: u64, part_bytes: u64, threads: usize) -> Option<Index> {
    let starts = part_starts(path, len, part_bytes).ok()?;
    let ranges: Vec<(u64, u64)> = starts
        .iter()
        .zip(starts.iter().skip(1).chain(std::iter::once(&len)))
        .map(|(a, b)| (*a, *b))
        .collect();
    let mut found = Found::new(len);
    let mut next_line = 1usize;
    let mut last: Option<State> = None;
    for round in ranges.chunks(threads.max(1)) {
        let parts: Vec<Option<Part>> = std::thread::scope(|scope| {
            let running: Vec<_> = round
                .iter()
                .map(|&(start, end)| scope.spawn(move || scan_one(path, start, end).ok()))
                .collect();
            running
                .into_iter()
                .map(|r| r.join().ok().flatten())
                .collect()
        });
        for part in parts {
            let mut part = part?;
            let end = part.end.take()?;
            // The part before must end where this one was assumed to begin.
            if let Some(before) = &last
                && !before.at_calendar_level()
            {
                return None;
            }
            let base = next_line - 1;
            next_line = end.line + base;
            found.fold(part, base);
            last = Some(end);
        }
    }
    // The end of the file: the plain pass reports what is wrong there.
    match last {
        Some(end) if end.seen_content && end.stack.is_empty() => Some(found.into_index()),
        _ => None,
    }
}

/// Scans the bytes `start..end` of the file at `path` as one part: from
/// the start of the file, or inside its VCALENDAR.
fn scan_one(path: &Path, start: u64, end: u64) -> Result<Part, FileError> {
    let io_error =
        |e: io::Error| FileError(Diagnostic::new(path, format!("cannot read the file: {e}")));
    let mut f = File::open(path).map_err(io_error)?;
    f.seek(SeekFrom::Start(start)).map_err(io_error)?;
    let state = if start == 0 {
        State::start()
    } else {
        State::calendar_level(start)
    };
    let mut part = Part::default();
    // Which UIDs the part has had, by a 64-bit hash: a collision only makes
    // a lone event a group of one, as a false "seen" of the filter does.
    let mut seen: foldhash::HashSet<u64> = foldhash::HashSet::default();
    let mut seen_zones: HashSet<Vec<u8>> = HashSet::new();
    let state = scan_part(path, f.take(end - start), state, &keep, |item| {
        match item {
            Item::CalendarProperty { name, value } => {
                wr_timezone(&mut part.wr_timezone, name, value);
            }
            Item::Component(c) if *c.kind == *b"VTIMEZONE" => {
                let id = c.tzid.clone().unwrap_or_default();
                if seen_zones.insert(id.clone()) {
                    part.zones.push((id, parse_zone(&c.raw)));
                }
            }
            Item::Component(c) if *c.kind == *b"VEVENT" => {
                if let Some(uid) = &c.uid {
                    let loc = loc_of(c);
                    let fresh = seen.insert(uid_hash(uid));
                    if fresh && !c.recurrence_id {
                        part.uids.extend_from_slice(uid);
                        part.firsts.push((part.uids.len(), loc));
                    } else {
                        part.groups.entry(uid.clone()).or_default().push(loc);
                    }
                }
            }
            Item::Component(_) => {}
        }
        Ok(())
    })?;
    part.end = Some(state);
    Ok(part)
}

/// Where the parts of a file begin: at 0, and then at the first
/// `BEGIN:VEVENT` line at least `part_bytes` after the last start.
fn part_starts(file: &Path, len: u64, part_bytes: u64) -> io::Result<Vec<u64>> {
    let mut f = File::open(file)?;
    let mut starts = vec![0];
    let mut buf = vec![0u8; 1 << 16];
    let mut from = part_bytes.max(1);
    while from < len {
        match next_event(&mut f, from, &mut buf)? {
            Some(start) => {
                starts.push(start);
                from = start + part_bytes.max(1);
            }
            None => break,
        }
    }
    Ok(starts)
}

/// The offset of the first line `BEGIN:VEVENT` that starts at or after
/// `from` (> 0). A line that begins with `B` cannot continue a folded one.
fn next_event(f: &mut File, from: u64, buf: &mut [u8]) -> io::Result<Option<u64>> {
    const NEEDLE: &[u8] = b"\nBEGIN:VEVENT";
    // From the byte before, so that a line beginning at `from` is found.
    let mut at = from - 1;
    loop {
        f.seek(SeekFrom::Start(at))?;
        let mut n = 0;
        while n < buf.len() {
            match f.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let hay = &buf[..n];
        for i in memchr::memmem::find_iter(hay, NEEDLE) {
            match hay.get(i + NEEDLE.len()) {
                Some(b'\r' | b'\n') => return Ok(Some(at + i as u64 + 1)),
                Some(_) => {}
                // Cut by the end of what was read: read on from there.
                None => break,
            }
        }
        if n < buf.len() {
            return Ok(None);
        }
        at += (n - NEEDLE.len() - 1) as u64;
    }
}

/// FNV-1a, then a multiply to spread the bits: fast on short keys, and the
/// same on every run.
fn uid_hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A fixed-size Bloom filter of UIDs: "seen before?" without storing them.
/// Blocked: a key's four bits all sit in one 64-bit word, so each lookup
/// costs one cache miss in a filter much larger than the cache. A false
/// "seen" only makes a lone event a group of one (a few dozen bytes, and
/// no re-read); at the 8 MiB cap that stays under one event in a thousand
/// up to about three million events.
struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    const MAX_WORDS: u64 = 1 << 20;

    fn for_file(len: u64) -> Bloom {
        // A word per 32 bytes of file (a VEVENT is rarely under 200 bytes):
        // a small calendar gets a small filter.
        let words = (len / 32).clamp(64, Self::MAX_WORDS).next_power_of_two();
        Bloom {
            words: vec![0; usize::try_from(words).unwrap_or(1 << 16)],
        }
    }

    /// Records `key`; whether it may have been recorded before.
    fn check_and_set(&mut self, key: &[u8]) -> bool {
        let h = uid_hash(key);
        let index = usize::try_from(h >> 40).unwrap_or(0) & (self.words.len() - 1);
        let mask = (1u64 << (h & 63))
            | (1u64 << ((h >> 6) & 63))
            | (1u64 << ((h >> 12) & 63))
            | (1u64 << ((h >> 18) & 63));
        match self.words.get_mut(index) {
            Some(w) => {
                let seen = *w & mask == mask;
                *w |= mask;
                seen
            }
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::PathBuf;

    use super::*;

    /// A file under the temporary folder, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> Self {
            let path = std::env::temp_dir()
                .join(format!("accord-index-{}-{name}.ics", std::process::id()));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

    /// A calendar of `n` events, with copies and overrides of UIDs both
    /// before and after their masters and far from them, VTIMEZONEs
    /// between events, folded lines and alarms.
    fn calendar(n: usize) -> String {
        let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
        out.push_str(BERLIN);
        for i in 0..n {
            // A UID again (a copy), an override of a master further on or
            // further back, or a UID of its own.
            let (uid, override_of) = match i % 13 {
                3 => (format!("u{}", i / 3), false),
                5 => ("u1".to_owned(), false),
                7 => (format!("u{}", (i * 7 + 50) % n), true),
                11 => (format!("u{}", i / 2), true),
                _ => (format!("u{i}"), false),
            };
            if i == n / 2 {
                out.push_str("X-WR-TIMEZONE:Europe/Berlin\r\n");
                out.push_str(BERLIN);
                out.push_str(&BERLIN.replace("Europe/Berlin", "Custom"));
            }
            write!(
                out,
                "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;TZID=Europe/Berlin:20260105T{:02}0000\r\nATTENDEE;CN=\"A very long name, folded\";PARTSTAT=ACCEPTED:mailto:someone-{i}\r\n @example.com\r\n",
                i % 24
            )
            .unwrap();
            if override_of {
                out.push_str("RECURRENCE-ID;TZID=Europe/Berlin:20260112T100000\r\n");
            }
            if i % 5 == 0 {
                out.push_str("BEGIN:VALARM\r\nUID:alarm\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n");
            }
            out.push_str("END:VEVENT\r\n");
        }
        out.push_str("END:VCALENDAR\r\n");
        out
    }

    /// An index as comparable data: zones, floating zone and groups.
    type Seen = (Vec<String>, String, Vec<(String, Vec<Loc>)>);

    fn seen(index: &Index) -> Seen {
        let mut zones: Vec<String> = index.zones.keys().cloned().collect();
        zones.sort();
        let mut groups: Vec<(String, Vec<Loc>)> = index
            .groups
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone()))
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        (
            zones,
            index.floating.name().unwrap_or_default().into_owned(),
            groups,
        )
    }

    #[test]
    fn parts_find_what_one_pass_finds() {
        let file = TempFile::new("parts", &calendar(400));
        let source = Source::File(&file.0);
        let one = seen(&whole(&file.0, &source).unwrap());
        // The file has groups of every kind, and the zones.
        assert!(one.2.len() > 60, "{}", one.2.len());
        assert!(one.2.iter().any(|(_, locs)| locs.len() >= 3));
        assert!(one.0.contains(&"Europe/Berlin".to_owned()), "{:?}", one.0);
        assert_eq!(one.1, "Europe/Berlin");
        let len = source.len();
        for part_bytes in [1, 150, 700, 4000, len / 3, len] {
            for threads in [2, 3] {
                let starts = part_starts(&file.0, len, part_bytes).unwrap();
                let index = in_parts(&file.0, len, part_bytes, threads)
                    .unwrap_or_else(|| panic!("parts of {part_bytes} bytes fell back"));
                assert_eq!(
                    seen(&index),
                    one,
                    "parts of {part_bytes} bytes ({} parts), {threads} threads",
                    starts.len()
                );
            }
        }
        // Through the entry point, whatever the size.
        let index = index_with(&file.0, &source, 0, 500, 2).unwrap();
        assert_eq!(seen(&index), one);
    }

    #[test]
    fn parts_begin_at_events() {
        let text = calendar(60).replace("\r\n", "\n");
        let file = TempFile::new("starts", &text);
        let len = text.len() as u64;
        let starts = part_starts(&file.0, len, 300).unwrap();
        assert!(starts.len() > 10, "{starts:?}");
        assert_eq!(starts[0], 0);
        for pair in starts.windows(2) {
            assert!(pair[1] >= pair[0] + 300, "{starts:?}");
        }
        for s in &starts[1..] {
            let at = usize::try_from(*s).unwrap();
            assert!(text[at..].starts_with("BEGIN:VEVENT\n"), "{s}");
            assert_eq!(&text[at - 1..at], "\n");
        }
        // Read in pieces smaller than the file, the line cut between two
        // reads is still found; a longer name is not the line.
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENTS\nX:1\nBEGIN:VEVENT\r\nEND:VEVENT\n";
        let file = TempFile::new("cut", text);
        let mut f = File::open(&file.0).unwrap();
        let found = next_event(&mut f, 1, &mut [0u8; 16]).unwrap();
        assert_eq!(found, Some(text.find("BEGIN:VEVENT\r").unwrap() as u64));
        assert_eq!(
            next_event(&mut f, found.unwrap() + 1, &mut [0u8; 16]).unwrap(),
            None
        );
    }

    #[test]
    fn a_part_that_does_not_begin_between_events_falls_back() {
        // An event inside another component: a part may begin there, and
        // the part before then ends with that component open.
        let mut text = calendar(30);
        let at = text.find("BEGIN:VEVENT\r\nUID:u21\r\n").unwrap();
        text.insert_str(at, "BEGIN:X-WRAPPER\r\n");
        let end = at + text[at..].find("END:VEVENT\r\n").unwrap() + "END:VEVENT\r\n".len();
        text.insert_str(end, "END:X-WRAPPER\r\n");
        let file = TempFile::new("wrapped", &text);
        let source = Source::File(&file.0);
        let one = seen(&whole(&file.0, &source).unwrap());
        let fell_back = (1..text.len() as u64)
            .step_by(37)
            .filter(|bytes| in_parts(&file.0, source.len(), *bytes, 2).is_none())
            .count();
        assert!(fell_back > 0);
        for bytes in (1..text.len() as u64).step_by(37) {
            assert_eq!(
                seen(&index_with(&file.0, &source, 0, bytes, 2).unwrap()),
                one,
                "{bytes}"
            );
        }
    }

    #[test]
    fn bare_events_then_a_calendar_are_indexed_as_one_pass_does() {
        // Events without a VCALENDAR, then a calendar: a part that begins
        // in the bare events is wrongly assumed inside a calendar, and
        // reads the calendar as one component.
        let mut text = String::new();
        let event = |uid: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:20260105T100000Z\r\nSUMMARY:A meeting with a long enough title\r\nEND:VEVENT\r\n"
            )
        };
        for i in 0..10 {
            text.push_str(&event(&format!("u{i}")));
        }
        text.push_str("BEGIN:VCALENDAR\r\n");
        for i in 10..40 {
            text.push_str(&event(&format!("u{}", if i % 4 == 0 { i / 4 } else { i })));
        }
        text.push_str("END:VCALENDAR\r\n");
        let file = TempFile::new("bare", &text);
        let source = Source::File(&file.0);
        let one = seen(&whole(&file.0, &source).unwrap());
        assert!(one.2.len() >= 7, "{one:?}");
        for bytes in (1..text.len() as u64).step_by(29) {
            for threads in [2, 3] {
                let got = seen(&index_with(&file.0, &source, 0, bytes, threads).unwrap());
                assert_eq!(got, one, "parts of {bytes}, {threads} threads");
            }
        }
    }

    #[test]
    fn faults_in_a_later_part_are_reported_as_one_pass_reports_them() {
        let good = calendar(40);
        let broken_end = good.replacen(
            "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:u30",
            "END:VTODO\r\nBEGIN:VEVENT\r\nUID:u30",
            1,
        );
        let truncated = &good[..good.len() - 200];
        for (name, text) in [("end", broken_end.as_str()), ("truncated", truncated)] {
            let file = TempFile::new(name, text);
            let source = Source::File(&file.0);
            let Err(expected) = whole(&file.0, &source) else {
                panic!("{name}: no error")
            };
            assert!(expected.0.line.unwrap_or(0) > 100, "{name}: {expected:?}");
            for bytes in [1, 200, 1000] {
                let Err(got) = index_with(&file.0, &source, 0, bytes, 2) else {
                    panic!("{name}: no error in parts of {bytes}")
                };
                assert_eq!(got.0.to_string(), expected.0.to_string(), "{name}, {bytes}");
                assert_eq!(got.0.line, expected.0.line);
            }
        }
    }

    /// Real exporters' files (Google, Outlook, Apple, broken ones), when
    /// the shared data folder is there: read in parts of a few hundred
    /// bytes, each finds what one pass finds, or fails as it does.
    #[test]
    fn real_calendars_in_parts_as_in_one_pass() {
        let dir = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/ics"
        ));
        if !dir.is_dir() {
            eprintln!("notice: {} is not there; nothing to read", dir.display());
            return;
        }
        let files = super::super::collect_paths(&[dir]).unwrap();
        assert!(!files.is_empty());
        let mut compared = 0;
        for file in &files {
            let source = super::super::open(file).unwrap();
            if !matches!(source, Source::File(_)) {
                continue;
            }
            let one = whole(file, &source).map(|i| seen(&i));
            for bytes in [97, 400] {
                let parts = index_with(file, &source, 0, bytes, 2).map(|i| seen(&i));
                match (&one, &parts) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{}, parts of {bytes}", file.display()),
                    (Err(a), Err(b)) => {
                        assert_eq!(a.0.to_string(), b.0.to_string(), "{}", file.display());
                    }
                    _ => panic!("{}: {one:?} against {parts:?}", file.display()),
                }
            }
            compared += 1;
        }
        assert!(compared > 50, "{compared}");
    }

    #[test]
    fn bloom_remembers() {
        let mut b = Bloom::for_file(1 << 20);
        assert!(!b.check_and_set(b"a"));
        assert!(b.check_and_set(b"a"));
        let fresh = (0..1000)
            .filter(|i| !b.check_and_set(format!("uid-{i}").as_bytes()))
            .count();
        assert!(fresh > 950, "{fresh}");
    }
}
