//! One VEVENT (or one UID's group of VEVENTs: a recurring master, its
//! RECURRENCE-ID overrides, and any duplicate copies) → occurrences.
//!
//! calcard parses each component and expands its recurrence
//! (`ICalendar::expand_dates`: RRULE, RDATE, EXDATE); plain ORGANIZER and
//! ATTENDEE lines are read here instead (`plain_addresses`). Each master is
//! expanded on its own and the overrides are applied here, by UID, because
//! calcard's own override matching keys on (SEQUENCE, RECURRENCE-ID) only:
//! across a whole file it would let one event's override replace another
//! event's occurrence, and an override whose SEQUENCE differs from its
//! master's (Outlook bumps it) would not replace anything.

use std::borrow::Cow;
use std::collections::HashMap;

use accord_domain::id::Email;
use accord_domain::meeting::ResponseStatus;
use calcard::common::timezone::Tz;
use calcard::icalendar::dates::{CalendarErrorType, TimeOrDelta};
use calcard::icalendar::{
    ICalendar, ICalendarComponentType, ICalendarParameterName, ICalendarParameterValue,
    ICalendarProperty, ICalendarStatus, ICalendarUserTypes, ICalendarValue,
};
use calcard::{Entry, Parser};
use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};

use super::{EventAttendee, Occurrence, Window};

/// Reasons an event or attendee is left out, counted with a few examples.
#[derive(Debug, Default)]
pub(crate) struct Skips {
    pub(crate) list: Vec<(String, usize, Vec<String>)>,
}

impl Skips {
    pub(crate) fn add(&mut self, reason: &str, example: impl FnOnce() -> String) {
        match self.list.iter_mut().find(|(r, _, _)| r == reason) {
            Some((_, n, examples)) => {
                *n += 1;
                if examples.len() < 3 {
                    examples.push(example());
                }
            }
            None => self.list.push((reason.to_owned(), 1, vec![example()])),
        }
    }

    /// Adds another tally (of later events) to this one.
    pub(crate) fn merge(&mut self, other: Skips) {
        for (reason, n, examples) in other.list {
            match self.list.iter_mut().find(|(r, _, _)| *r == reason) {
                Some((_, count, mine)) => {
                    *count += n;
                    let room = 3usize.saturating_sub(mine.len());
                    mine.extend(examples.into_iter().take(room));
                }
                None => self.list.push((reason, n, examples)),
            }
        }
    }
}

/// What every event of a file is read against.
pub(crate) struct Context<'a> {
    pub(crate) window: &'a Window,
    /// The zone of floating times: the calendar's X-WR-TIMEZONE, else UTC.
    pub(crate) floating: Tz,
    /// TZIDs defined by the file's VTIMEZONEs that calcard maps to a zone.
    pub(crate) zones: &'a HashMap<String, Tz>,
    /// How ORGANIZER and ATTENDEE lines are read.
    pub(crate) addresses: Addresses,
}

/// Who reads an event's ORGANIZER and ATTENDEE lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Addresses {
    /// This module, when every one of them is a plain address (see
    /// `plain_addresses`); calcard, when any is not.
    Plain,
    /// calcard, always: what the plain reading is tested against.
    #[cfg_attr(not(test), allow(dead_code))]
    Calcard,
}

/// Recurrences are expanded from their first occurrence; this many at
/// first, more when the window lies further out, up to `MAX_INSTANCES`
/// (an hourly series over thirty years): enough for any real meeting, and
/// a bound on the memory a hostile RRULE can take.
const FIRST_LIMIT: usize = 1024;
const MAX_INSTANCES: usize = 1 << 18;

/// A VEVENT, parsed and checked.
pub(crate) struct Parsed {
    line: usize,
    ical: ICalendar,
    uid: String,
    rid: Option<DateTime<Utc>>,
    sequence: i64,
    last_modified: Option<DateTime<Utc>>,
    cancelled: bool,
    title: String,
    attendees: Vec<EventAttendee>,
    all_day: bool,
    floating: bool,
    /// No DTEND and no DURATION on a timed event: RFC 5545 says it ends
    /// when it starts (calcard would run it to the end of the day).
    zero_length: bool,
}

impl Parsed {
    fn version(&self) -> (i64, Option<DateTime<Utc>>) {
        (self.sequence, self.last_modified)
    }
}

/// Text of a component: UTF-8, or else Latin-1 (what old exporters write),
/// which never fails.
fn decode(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(raw.iter().map(|&b| char::from(b)).collect()),
    }
}

/// An event's text without its ORGANIZER and ATTENDEE lines, and the
/// attendees they name, when every one of them is a plain address:
/// `mailto:`, no parameter but PARTSTAT, nothing calcard would unquote,
/// unescape or split, and a valid ASCII email. `None` when there is no
/// address line, or any other: calcard reads the event whole, and an
/// attendee it cannot use (a room, an address that is not an email) is
/// left out and counted.
///
/// Address lines are about half of an event's text, and calcard parses
/// some 100 bytes a microsecond; a plain line takes a scan for its
/// delimiters and the address check.
pub(super) fn plain_addresses(raw: &[u8]) -> Option<(Vec<u8>, Vec<EventAttendee>)> {
    // Each line with its line break, found by memchr.
    let lines = || {
        let mut rest = raw;
        std::iter::from_fn(move || {
            let len = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
            let (line, after) = rest.split_at(len);
            rest = after;
            (!line.is_empty()).then_some(line)
        })
    };
    // ASCII only: the text of an event that is not UTF-8 is read as
    // Latin-1, and other bytes would be read differently then.
    fn ascii(bytes: &[u8]) -> Option<&str> {
        std::str::from_utf8(bytes).ok().filter(|s| s.is_ascii())
    }
    fn address_name(line: &[u8]) -> Option<&[u8]> {
        let name = super::lines::name_of(line);
        (name.len() < line.len() && super::scan::is_address(name)).then_some(name)
    }
    // As calcard's entries are read below: the organisers, then the
    // attendees, each in file order.
    let mut organizers = Vec::new();
    let mut attendees = Vec::new();
    for line in lines() {
        let Some(name) = address_name(line) else {
            continue;
        };
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if memchr::memchr3(b'"', b'\\', b',', text).is_some() {
            return None;
        }
        let colon = memchr::memchr(b':', text)?;
        let (head, value) = (&text[..colon], &text[colon + 1..]);
        let mut partstat = None;
        for param in head.split(|b| *b == b';').skip(1) {
            let (key, answer) = param.split_at_checked(9)?;
            if answer.is_empty() || !key.eq_ignore_ascii_case(b"PARTSTAT=") {
                return None;
            }
            // calcard, like `parameter`, goes by the first.
            partstat = partstat.or(Some(ascii(answer)?));
        }
        let (scheme, address) = value.split_at_checked(7)?;
        if !scheme.eq_ignore_ascii_case(b"mailto:") || memchr::memchr(b';', address).is_some() {
            return None;
        }
        let email = Email::parse(ascii(address)?).ok()?;
        if name.eq_ignore_ascii_case(b"ORGANIZER") {
            organizers.push((true, email, partstat));
        } else {
            attendees.push((false, email, partstat));
        }
    }
    if organizers.is_empty() && attendees.is_empty() {
        return None;
    }
    let text = lines()
        .filter(|l| address_name(l).is_none())
        .collect::<Vec<_>>()
        .concat();
    Some((
        text,
        merge_attendees(organizers.into_iter().chain(attendees)),
    ))
}

/// Parses one VEVENT's text; `None` when it is skipped (the reason is
/// counted in `skips`).
pub(crate) fn parse(
    raw: &[u8],
    line: usize,
    ctx: &Context<'_>,
    skips: &mut Skips,
) -> Option<Parsed> {
    let plain = match ctx.addresses {
        Addresses::Plain => plain_addresses(raw),
        Addresses::Calcard => None,
    };
    let text = decode(plain.as_ref().map_or(raw, |(text, _)| text));
    let mut ical = match Parser::new(&text).entry() {
        Entry::ICalendar(ical)
            if ical
                .components
                .first()
                .is_some_and(|c| c.component_type == ICalendarComponentType::VEvent) =>
        {
            ical
        }
        _ => {
            skips.add("the event could not be parsed", || format!("line {line}"));
            return None;
        }
    };
    let comp = ical.components.first_mut()?;

    let Some(uid) = comp
        .uid()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
    else {
        skips.add(
            "no UID (the event could not be matched on a re-import)",
            || format!("line {line}"),
        );
        return None;
    };

    // Every TZID must name a zone: calcard would quietly read an unknown
    // one as the default zone, and the meeting would move by hours.
    // Known zones are rewritten to their IANA name so calcard resolves them
    // without the file's VTIMEZONEs.
    for entry in &mut comp.entries {
        if !matches!(
            entry.name,
            ICalendarProperty::Dtstart
                | ICalendarProperty::Dtend
                | ICalendarProperty::RecurrenceId
                | ICalendarProperty::Exdate
                | ICalendarProperty::Rdate
        ) {
            continue;
        }
        for param in &mut entry.params {
            if param.name != ICalendarParameterName::Tzid {
                continue;
            }
            let Some(name) = param.value.as_text() else {
                continue;
            };
            match resolve_zone(name, ctx) {
                Some(tz) => {
                    if let Some(iana) = tz.name() {
                        param.value = ICalendarParameterValue::Text(iana.into_owned());
                    }
                }
                None => {
                    let name = name.to_owned();
                    skips.add("unknown time zone (not an IANA or Windows zone name, and no VTIMEZONE in the file maps it to one)", || {
                        format!("line {line}: TZID {name:?}")
                    });
                    return None;
                }
            }
        }
    }
    localise_until(comp, ctx);
    let rrule_unreadable = comp.entries.iter().any(|e| {
        e.name == ICalendarProperty::Rrule
            && !matches!(e.values.first(), Some(ICalendarValue::RecurrenceRule(_)))
    });
    if rrule_unreadable {
        skips.add("recurrence rule not understood", || format!("line {line}"));
        return None;
    }

    let mut sequence = 0;
    let mut last_modified = None;
    let mut cancelled = false;
    let mut title = String::new();
    let mut rid = None;
    let mut all_day = false;
    let mut floating = false;
    let mut has_start = false;
    let mut has_end = false;
    for entry in &comp.entries {
        let value = entry.values.first();
        match (&entry.name, value) {
            (ICalendarProperty::Sequence, Some(ICalendarValue::Integer(n))) => sequence = *n,
            (ICalendarProperty::LastModified, Some(ICalendarValue::PartialDateTime(dt))) => {
                last_modified = dt
                    .to_date_time()
                    .and_then(|d| d.to_date_time_with_tz(Tz::UTC))
                    .map(|d| d.with_timezone(&Utc));
            }
            (
                ICalendarProperty::Status,
                Some(ICalendarValue::Status(ICalendarStatus::Cancelled)),
            ) => {
                cancelled = true;
            }
            (ICalendarProperty::Summary, Some(v)) => {
                title = v.as_text().unwrap_or_default().trim().to_owned();
            }
            (ICalendarProperty::Dtstart, Some(ICalendarValue::PartialDateTime(dt)))
                if dt.to_date_time().is_some() =>
            {
                has_start = true;
                all_day = !dt.has_time();
                floating = !dt.has_zone() && entry.tz_id().is_none();
            }
            (ICalendarProperty::Dtstart, _) => {
                skips.add("DTSTART is not a valid date or date-time", || {
                    format!("line {line}")
                });
                return None;
            }
            (ICalendarProperty::Dtend | ICalendarProperty::Duration, Some(_)) => has_end = true,
            (ICalendarProperty::RecurrenceId, Some(ICalendarValue::PartialDateTime(dt))) => {
                let tz = match entry.tz_id() {
                    Some(name) => resolve_zone(name, ctx).unwrap_or(ctx.floating),
                    None => ctx.floating,
                };
                rid = dt
                    .to_date_time()
                    .and_then(|d| d.to_date_time_with_tz(tz))
                    .map(|d| d.with_timezone(&Utc));
                if rid.is_none() {
                    skips.add("RECURRENCE-ID is not a date", || format!("line {line}"));
                    return None;
                }
            }
            _ => {}
        }
    }
    if !has_start && rid.is_none() {
        skips.add("no start time (DTSTART)", || format!("line {line}"));
        return None;
    }
    let attendees = match plain {
        Some((_, attendees)) => attendees,
        None => attendees(comp, line, skips),
    };
    Some(Parsed {
        line,
        uid,
        rid,
        sequence,
        last_modified,
        cancelled,
        title,
        attendees,
        all_day,
        floating,
        zero_length: has_start && !has_end && !all_day,
        ical,
    })
}

/// calcard expands a recurrence in the wall-clock time of its DTSTART but
/// compares a UTC `UNTIL` (which RFC 5545 requires when DTSTART has a zone,
/// and which Google and Outlook always write) as if it were wall-clock
/// time too: east of Greenwich the last occurrence goes missing, west of
/// it one too many appears. Rewriting UNTIL into DTSTART's wall-clock
/// time makes the comparison right.
fn localise_until(comp: &mut calcard::icalendar::ICalendarComponent, ctx: &Context<'_>) {
    let zone = comp
        .entries
        .iter()
        .find_map(|e| match (&e.name, e.values.first()) {
            (ICalendarProperty::Dtstart, Some(ICalendarValue::PartialDateTime(dt)))
                if !dt.has_zone() =>
            {
                Some(match e.tz_id() {
                    Some(name) => resolve_zone(name, ctx).unwrap_or(ctx.floating),
                    None => ctx.floating,
                })
            }
            _ => None,
        });
    let Some(zone) = zone.filter(|z| !z.is_utc()) else {
        return;
    };
    for entry in comp
        .entries
        .iter_mut()
        .filter(|e| e.name == ICalendarProperty::Rrule)
    {
        for value in &mut entry.values {
            let ICalendarValue::RecurrenceRule(rule) = value else {
                continue;
            };
            let Some(until) = rule.until.as_mut().filter(|u| u.has_zone() && u.has_time()) else {
                continue;
            };
            let Some(utc) = until
                .to_date_time()
                .and_then(|d| d.to_date_time_with_tz(Tz::UTC))
            else {
                continue;
            };
            let local = utc.with_timezone(&zone).naive_local();
            until.year = u16::try_from(local.year()).ok();
            until.month = u8::try_from(local.month()).ok();
            until.day = u8::try_from(local.day()).ok();
            until.hour = u8::try_from(local.hour()).ok();
            until.minute = u8::try_from(local.minute()).ok();
            until.second = u8::try_from(local.second()).ok();
            until.tz_hour = None;
            until.tz_minute = None;
            until.tz_minus = false;
        }
    }
}

fn resolve_zone(name: &str, ctx: &Context<'_>) -> Option<Tz> {
    ctx.zones
        .get(name)
        .copied()
        .or_else(|| name.parse::<Tz>().ok())
        .filter(|tz| !tz.is_floating())
}

/// ORGANIZER and ATTENDEEs as calcard read them: rooms and resources are
/// not people; addresses that are not emails cannot be matched to anyone.
fn attendees(
    comp: &calcard::icalendar::ICalendarComponent,
    line: usize,
    skips: &mut Skips,
) -> Vec<EventAttendee> {
    let entries = comp
        .entries
        .iter()
        .filter(|e| e.name == ICalendarProperty::Organizer)
        .chain(
            comp.entries
                .iter()
                .filter(|e| e.name == ICalendarProperty::Attendee),
        );
    let addresses = entries.filter_map(|entry| {
        let cutype = entry.parameter(&ICalendarParameterName::Cutype);
        if matches!(
            cutype,
            Some(ICalendarParameterValue::Cutype(
                ICalendarUserTypes::Room | ICalendarUserTypes::Resource
            ))
        ) {
            skips.add("room or resource attendee", || format!("line {line}"));
            return None;
        }
        let address = entry.calendar_address().unwrap_or_default();
        let email = Email::parse(address).ok().or_else(|| {
            // RFC 7986: `ATTENDEE;EMAIL=ana@x.com:urn:uuid:...`
            entry
                .parameter(&ICalendarParameterName::Email)
                .and_then(|v| v.as_text())
                .and_then(|e| Email::parse(e).ok())
        });
        let Some(email) = email else {
            let shown = address.chars().take(60).collect::<String>();
            skips.add("attendee that is not an email", || {
                format!("line {line}: {shown:?}")
            });
            return None;
        };
        let partstat = entry
            .parameter(&ICalendarParameterName::Partstat)
            .and_then(|v| v.as_text());
        Some((entry.name == ICalendarProperty::Organizer, email, partstat))
    });
    merge_attendees(addresses)
}

/// The attendee list of (organiser?, email, PARTSTAT) addresses, organisers
/// first: the (first) organiser attends, accepted, unless they answer
/// otherwise as an attendee; anyone listed twice counts once.
fn merge_attendees<'a>(
    addresses: impl IntoIterator<Item = (bool, Email, Option<&'a str>)>,
) -> Vec<EventAttendee> {
    let mut out: Vec<EventAttendee> = Vec::new();
    let mut has_organizer = false;
    for (is_organizer, email, partstat) in addresses {
        if is_organizer {
            if !has_organizer {
                has_organizer = true;
                out.push(EventAttendee {
                    email,
                    response: ResponseStatus::Accepted,
                    organizer: true,
                });
            }
            continue;
        }
        if let Some(existing) = out.iter_mut().find(|a| a.email == email) {
            // The organiser listed as an attendee answers for themselves;
            // a second listing of anyone else adds nothing.
            if existing.organizer
                && let Some(p) = partstat
            {
                existing.response = ResponseStatus::from_partstat(p);
            }
            continue;
        }
        out.push(EventAttendee {
            email,
            // RFC 5545: no PARTSTAT means NEEDS-ACTION.
            response: partstat.map_or(ResponseStatus::NeedsAction, ResponseStatus::from_partstat),
            organizer: false,
        });
    }
    out
}

/// One instance: (occurrence, start, end).
type Instance = (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

/// The instances of a parsed event: its recurrence expanded up to the
/// window's end, or its single time.
fn instances(p: &Parsed, ctx: &Context<'_>, skips: &mut Skips) -> Option<Vec<Instance>> {
    let exdates: usize = p
        .ical
        .components
        .first()
        .map(|c| {
            c.entries
                .iter()
                .filter(|e| e.name == ICalendarProperty::Exdate)
                .map(|e| e.values.len())
                .sum()
        })
        .unwrap_or(0);
    let mut limit = FIRST_LIMIT;
    loop {
        // Times without a zone are read as UTC here and moved to the
        // floating zone below: calcard places a UTC DTSTART's recurrences
        // in the default zone, so the default must be UTC.
        let expanded = p.ical.expand_dates(Tz::UTC, limit);
        if let Some(err) = expanded.errors.first() {
            let reason = match &err.error {
                CalendarErrorType::MissingDtStart => "no start time (DTSTART)",
                CalendarErrorType::InvalidDtStart => "start time is not a valid time in its zone",
                CalendarErrorType::InvalidDtEnd => "end time is not a valid time in its zone",
                CalendarErrorType::InvalidDuration => "DURATION is not a duration",
                CalendarErrorType::RRule(_) => "recurrence rule is invalid",
            };
            let line = p.line;
            let detail = err.error.to_string();
            skips.add(reason, || format!("line {line}: {detail}"));
            return None;
        }
        let mut out = Vec::with_capacity(expanded.events.len());
        for ev in &expanded.events {
            let start = ev.start.with_timezone(&Utc);
            let end = match ev.end {
                TimeOrDelta::Time(t) => t.with_timezone(&Utc),
                TimeOrDelta::Delta(d) => start.checked_add_signed(d).unwrap_or(start),
            };
            let (start, end) = if p.floating && !ctx.floating.is_utc() {
                (
                    to_floating(start, ctx.floating),
                    to_floating(end, ctx.floating),
                )
            } else {
                (start, end)
            };
            let end = if p.zero_length { start } else { end.max(start) };
            out.push((start, start, end));
        }
        let recurring =
            p.rid.is_none() && p.ical.components.first().is_some_and(|c| c.is_recurrent());
        let last = out.iter().map(|i| i.1).max();
        let cut_short = recurring
            && expanded.events.len() + exdates >= limit
            && last.is_some_and(|l| l < ctx.window.to);
        if !cut_short {
            return Some(out);
        }
        if limit >= MAX_INSTANCES {
            let line = p.line;
            skips.add(
                "recurrence too dense to expand to the window (later occurrences left out)",
                || format!("line {line}"),
            );
            return Some(out);
        }
        limit = (limit * 16).min(MAX_INSTANCES);
    }
}

/// A time read as UTC that was really a wall-clock time in `zone`.
fn to_floating(t: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    zone.from_local_datetime(&t.naive_utc())
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(t)
}

/// One UID's components (or a lone event) → its occurrences in the
/// window, sorted by start.
pub(crate) fn occurrences(
    parts: Vec<Parsed>,
    ctx: &Context<'_>,
    skips: &mut Skips,
) -> Vec<Occurrence> {
    // The same UID and occurrence twice: the higher SEQUENCE wins, then the
    // later LAST-MODIFIED, then the later in the file.
    const SUPERSEDED: &str =
        "superseded by a newer copy of the same event (SEQUENCE, LAST-MODIFIED)";
    let mut master: Option<Parsed> = None;
    let mut overrides: Vec<Parsed> = Vec::new();
    for p in parts {
        match p.rid {
            None => {
                if let Some(m) = &master
                    && m.version() > p.version()
                {
                    let line = p.line;
                    skips.add(SUPERSEDED, || format!("line {line}"));
                    continue;
                }
                if let Some(old) = master.replace(p) {
                    let line = old.line;
                    skips.add(SUPERSEDED, || format!("line {line}"));
                }
            }
            Some(rid) => match overrides.iter_mut().find(|o| o.rid == Some(rid)) {
                Some(o) => {
                    let loser_line = if o.version() > p.version() {
                        p.line
                    } else {
                        std::mem::replace(o, p).line
                    };
                    skips.add(SUPERSEDED, || format!("line {loser_line}"));
                }
                None => overrides.push(p),
            },
        }
    }

    let in_window = |start: &DateTime<Utc>| *start >= ctx.window.from && *start < ctx.window.to;
    let mut out: Vec<Occurrence> = Vec::new();
    let mut used = vec![false; overrides.len()];
    if let Some(m) = master {
        let list = instances(&m, ctx, skips).unwrap_or_default();
        if overrides.is_empty() && list.len() == 1 {
            // The common case, a single event: its fields move, not copy.
            if let Some(&(occurrence, start, end)) = list.first()
                && in_window(&start)
            {
                out.push(occurrence_from(m, occurrence, start, end));
            }
        } else {
            for (occurrence, start, end) in list {
                // A RECURRENCE-ID override replaces the occurrence it names.
                if let Some(i) = overrides.iter().position(|o| o.rid == Some(occurrence)) {
                    if let (Some(o), Some(u)) = (overrides.get(i), used.get_mut(i)) {
                        *u = true;
                        if let Some((_, s, e)) =
                            instances(o, ctx, skips).and_then(|v| v.into_iter().next())
                            && in_window(&s)
                        {
                            out.push(occurrence_of(o, occurrence, s, e));
                        }
                    }
                    continue;
                }
                if in_window(&start) {
                    out.push(occurrence_of(&m, occurrence, start, end));
                }
            }
        }
    }
    // Overrides of no occurrence of a master in the file (an invitation to
    // one instance only, or an instance outside the expanded range) stand
    // on their own.
    for (o, used) in overrides.iter().zip(used) {
        if used {
            continue;
        }
        if let (Some(rid), Some((_, s, e))) = (
            o.rid,
            instances(o, ctx, skips).and_then(|v| v.into_iter().next()),
        ) && in_window(&s)
        {
            out.push(occurrence_of(o, rid, s, e));
        }
    }
    out.sort_by_key(|o| (o.starts_at, o.occurrence));
    // One occurrence once, even when a recurrence lists it twice (an RDATE
    // on an instance of the RRULE): an occurrence is a meeting's key.
    out.dedup_by(|a, b| a.occurrence == b.occurrence);
    out
}

fn occurrence_from(
    p: Parsed,
    occurrence: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Occurrence {
    Occurrence {
        uid: p.uid,
        occurrence,
        sequence: p.sequence,
        last_modified: p.last_modified,
        title: p.title,
        starts_at: start,
        ends_at: end.max(start),
        all_day: p.all_day,
        cancelled: p.cancelled,
        attendees: p.attendees,
        line: p.line,
    }
}

fn occurrence_of(
    p: &Parsed,
    occurrence: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Occurrence {
    Occurrence {
        uid: p.uid.clone(),
        occurrence,
        sequence: p.sequence,
        last_modified: p.last_modified,
        title: p.title.clone(),
        starts_at: start,
        ends_at: end.max(start),
        all_day: p.all_day,
        cancelled: p.cancelled,
        attendees: p.attendees.clone(),
        line: p.line,
    }
}
