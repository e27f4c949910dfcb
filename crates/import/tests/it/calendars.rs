//! Calendar exports as Google and Outlook write them, and the corners of
//! iCalendar the reader must get right.

use accord_domain::meeting::ResponseStatus;
use accord_import::ics::{Occurrence, Window, read_calendar};

use crate::common::{TempDir, fixture, march_2025, read_all, utc};

/// (uid, start, cancelled) in emission order.
fn keys(list: &[Occurrence]) -> Vec<(String, chrono::DateTime<chrono::Utc>, bool)> {
    list.iter()
        .map(|o| (o.uid.clone(), o.starts_at, o.cancelled))
        .collect()
}

#[test]
fn google_export() {
    let (list, summary) = read_all(&fixture("calendars/google.ics"), &march_2025());
    assert_eq!(summary.events_read, 13);
    assert_eq!(summary.occurrences_in_window, 16);
    assert_eq!(summary.cancelled, 2);
    assert_eq!(list.len(), 16);
    let g = |u: &str| format!("{u}@google.com");
    let expected = vec![
        (g("g1-acme-discovery"), utc("2025-03-03T09:00"), false),
        (g("g2-globex-roadmap"), utc("2025-03-05T13:00"), false),
        // The weekly series: 18 March is an EXDATE, 11 March a cancelled
        // override, 25 March moved to the 26th at 15:00 Berlin; 1 April is
        // outside the window.
        (g("g3-initech-weekly"), utc("2025-03-04T09:00"), false),
        (g("g3-initech-weekly"), utc("2025-03-11T09:00"), true),
        (g("g3-initech-weekly"), utc("2025-03-26T14:00"), false),
        (g("g4-acme-pricing"), utc("2025-03-06T15:00"), true),
        (g("g5-standup"), utc("2025-03-10T08:30"), false),
        (g("g5-standup"), utc("2025-03-11T08:30"), false),
        (g("g5-standup"), utc("2025-03-12T08:30"), false),
        (g("g5-standup"), utc("2025-03-13T08:30"), false),
        // UNTIL=20250314T083000Z is 09:30 in Berlin: the last one counts.
        (g("g5-standup"), utc("2025-03-14T08:30"), false),
        // All day on 20 March, in the calendar's zone (X-WR-TIMEZONE).
        (g("g6-acme-workshop"), utc("2025-03-19T23:00"), false),
        (g("g7-partner"), utc("2025-03-07T10:00"), false),
        // Floating 12:00 in the calendar's zone.
        (g("g8-initech-lunch"), utc("2025-03-10T11:00"), false),
        (g("g9-acme-design"), utc("2025-03-12T14:00"), false),
        (g("g11-globex-intro"), utc("2025-03-17T15:00"), false),
    ];
    assert_eq!(keys(&list), expected);

    let weekly: Vec<&Occurrence> = list.iter().filter(|o| o.uid.starts_with("g3-")).collect();
    // The occurrence key is the RECURRENCE-ID, not the moved start.
    assert_eq!(weekly[2].occurrence, utc("2025-03-25T09:00"));
    assert_eq!(weekly[2].title, "Initech weekly sync (moved)");
    assert_eq!(weekly[2].ends_at, utc("2025-03-26T14:30"));
    assert_eq!(weekly[2].sequence, 1);
    assert_eq!(weekly[2].line, 362);
    assert_eq!(weekly[0].line, 84);
    assert_eq!(weekly[0].occurrence, weekly[0].starts_at);
    assert_eq!(weekly[0].ends_at, utc("2025-03-04T09:30"));

    let workshop = list.iter().find(|o| o.uid.starts_with("g6-")).unwrap();
    assert!(workshop.all_day);
    assert_eq!(workshop.ends_at, utc("2025-03-20T23:00"));

    // Attendees: the organiser first (accepted), mixed case normalised,
    // the organiser's own ATTENDEE line merged into theirs.
    let first = &list[0];
    let emails: Vec<&str> = first.attendees.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "raj.patel@northwind.example",
            "ana.lopez@northwind.example",
            "bo.buyer@acme.example"
        ]
    );
    assert!(first.attendees[0].organizer);
    assert_eq!(first.attendees[0].response, ResponseStatus::Accepted);
    assert_eq!(first.last_modified, Some(utc("2025-02-25T12:00")));
    let declined = &list[1].attendees[1];
    assert_eq!(
        (declined.email.as_str(), declined.response),
        ("sara.kim@northwind.example", ResponseStatus::Declined)
    );

    // A room and a non-email attendee are left out, and counted.
    let design = list.iter().find(|o| o.uid.starts_with("g9-")).unwrap();
    assert_eq!(design.attendees.len(), 3);
    let reasons: Vec<(&str, usize)> = summary
        .skipped
        .iter()
        .map(|(r, n, _)| (r.as_str(), *n))
        .collect();
    assert_eq!(
        reasons,
        [
            ("room or resource attendee", 1),
            ("attendee that is not an email", 1)
        ]
    );
    assert_eq!(
        summary.skipped[1].2,
        ["line 249: \"urn:uuid:3c5a8d2e-7f41-4bb4-9b61-2d1f0a0e7c11\""]
    );
}

#[test]
fn outlook_export() {
    let (list, summary) = read_all(&fixture("calendars/outlook.ics"), &march_2025());
    assert_eq!(summary.events_read, 6);
    assert_eq!(summary.occurrences_in_window, 5);
    assert_eq!(summary.cancelled, 0);
    let expected = vec![
        // 09:00 "Pacific Standard Time", daylight time since 9 March.
        (list[0].uid.clone(), utc("2025-03-11T16:00"), false),
        (
            "o2-acme-steering".to_owned(),
            utc("2025-03-05T08:00"),
            false,
        ),
        // The moved occurrence: its override has a higher SEQUENCE than
        // its master, as Outlook writes them.
        (
            "o2-acme-steering".to_owned(),
            utc("2025-03-19T13:00"),
            false,
        ),
        (
            "o3-acme-deep-dive".to_owned(),
            utc("2025-03-13T10:00"),
            false,
        ),
        ("o4-initech-prep".to_owned(), utc("2025-03-20T09:00"), false),
    ];
    assert_eq!(keys(&list), expected);
    assert!(list[0].uid.starts_with("040000008200E00074C5B7101A82E008"));
    assert_eq!(list[0].uid.len(), 112);
    assert_eq!(list[0].ends_at, utc("2025-03-11T17:30"));
    assert_eq!(list[0].title, "Globex QBR");
    assert_eq!(
        list[0].attendees[0].email.as_str(),
        "sara.kim@northwind.example"
    );
    assert_eq!(list[0].attendees[3].response, ResponseStatus::NeedsAction);
    assert_eq!(list[2].occurrence, utc("2025-03-19T08:00"));
    assert_eq!(list[2].sequence, 3);
    // Two copies of one event: SEQUENCE 2 wins over the later SEQUENCE 1.
    assert_eq!(list[4].title, "Initech renewal prep (v2)");
    assert_eq!(list[4].sequence, 2);
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(summary.skipped[0].1, 1);
    assert!(summary.skipped[0].0.starts_with("superseded"));
}

#[test]
fn reading_twice_gives_the_same_occurrences() {
    for cal in ["calendars/google.ics", "calendars/outlook.ics"] {
        let a = read_all(&fixture(cal), &march_2025());
        let b = read_all(&fixture(cal), &march_2025());
        assert_eq!(a, b, "{cal}");
    }
}

fn calendar(body: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n")
}

#[test]
fn overrides_before_their_master_and_duplicate_overrides() {
    let dir = TempDir::new("override-first");
    let path = dir.file(
        "c.ics",
        calendar(
            "BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20250305T100000Z\r\nDTSTART:20250305T120000Z\r\nDTEND:20250305T130000Z\r\nSEQUENCE:1\r\nLAST-MODIFIED:20250301T000000Z\r\nSUMMARY:moved (old copy)\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:other\r\nDTSTART:20250304T100000Z\r\nSUMMARY:other\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20250303T100000Z\r\nDTEND:20250303T110000Z\r\nRRULE:FREQ=DAILY;COUNT=4\r\nSUMMARY:series\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20250305T100000Z\r\nDTSTART:20250305T150000Z\r\nDTEND:20250305T160000Z\r\nSEQUENCE:1\r\nLAST-MODIFIED:20250302T000000Z\r\nSUMMARY:moved (new copy)\r\nEND:VEVENT\r\n",
        ),
    );
    let (list, summary) = read_all(&path, &march_2025());
    let got: Vec<(&str, chrono::DateTime<chrono::Utc>)> = list
        .iter()
        .map(|o| (o.title.as_str(), o.starts_at))
        .collect();
    // The group is emitted where its first component is; the later
    // LAST-MODIFIED wins between two copies of one override.
    assert_eq!(
        got,
        [
            ("series", utc("2025-03-03T10:00")),
            ("series", utc("2025-03-04T10:00")),
            ("moved (new copy)", utc("2025-03-05T15:00")),
            ("series", utc("2025-03-06T10:00")),
            ("other", utc("2025-03-04T10:00")),
        ]
    );
    assert_eq!(summary.events_read, 4);
    assert_eq!(summary.skipped[0].1, 1);
}

#[test]
fn an_override_without_its_master_stands_alone() {
    let dir = TempDir::new("orphan");
    let path = dir.file(
        "c.ics",
        calendar(
            "BEGIN:VEVENT\r\nUID:only-one\r\nRECURRENCE-ID;TZID=America/New_York:20250312T090000\r\nDTSTART;TZID=America/New_York:20250312T100000\r\nDTEND;TZID=America/New_York:20250312T110000\r\nSUMMARY:the instance I was invited to\r\nEND:VEVENT\r\n",
        ),
    );
    let (list, _) = read_all(&path, &march_2025());
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].occurrence, utc("2025-03-12T13:00"));
    assert_eq!(list[0].starts_at, utc("2025-03-12T14:00"));
}

#[test]
fn an_endless_series_is_expanded_to_the_window_only() {
    let dir = TempDir::new("endless");
    let path = dir.file(
        "c.ics",
        calendar(
            "BEGIN:VEVENT\r\nUID:daily\r\nDTSTART;TZID=Europe/Paris:20150105T080000\r\nDURATION:PT15M\r\nRRULE:FREQ=DAILY\r\nSUMMARY:daily since 2015\r\nEND:VEVENT\r\n",
        ),
    );
    let (list, _) = read_all(&path, &march_2025());
    assert_eq!(list.len(), 31);
    assert_eq!(list[0].starts_at, utc("2025-03-01T07:00"));
    assert_eq!(list[0].ends_at, utc("2025-03-01T07:15"));
    // Summer time from 30 March.
    assert_eq!(list[30].starts_at, utc("2025-03-31T06:00"));
}

#[test]
fn zones_from_vtimezone_floating_times_and_missing_ends() {
    let dir = TempDir::new("zones");
    // A VTIMEZONE whose TZID is no zone name, but whose X-LIC-LOCATION is
    // (Thunderbird, Apple); floating times without X-WR-TIMEZONE are UTC;
    // a timed event without DTEND or DURATION lasts no time; the organiser
    // who declined as an attendee is absent.
    let path = dir.file(
        "c.ics",
        calendar(
            "BEGIN:VTIMEZONE\r\nTZID:Berlin office\r\nX-LIC-LOCATION:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
             BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=\"Berlin office\":20250303T100000\r\nDTEND;TZID=\"Berlin office\":20250303T110000\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20250304T100000\r\nORGANIZER:MAILTO:Boss@Example.COM\r\nATTENDEE;PARTSTAT=DECLINED:mailto:boss@example.com\r\nATTENDEE;EMAIL=ana@example.com:urn:uuid:1234\r\nEND:VEVENT\r\n",
        ),
    );
    let (list, summary) = read_all(&path, &march_2025());
    assert_eq!(list[0].starts_at, utc("2025-03-03T09:00"));
    assert_eq!(list[1].starts_at, utc("2025-03-04T10:00"));
    assert_eq!(list[1].ends_at, list[1].starts_at);
    let boss = &list[1].attendees[0];
    assert_eq!(
        (boss.email.as_str(), boss.organizer, boss.response),
        ("boss@example.com", true, ResponseStatus::Declined)
    );
    assert_eq!(list[1].attendees[1].email.as_str(), "ana@example.com");
    assert_eq!(list[1].attendees[1].response, ResponseStatus::NeedsAction);
    assert!(summary.skipped.is_empty());
}

#[test]
fn bare_events_lf_endings_and_utf16() {
    let dir = TempDir::new("shapes");
    let bare = dir.file(
        "bare.ics",
        "BEGIN:VEVENT\nUID:x\nDTSTART:20250310T100000Z\nSUMMARY:caf\u{e9}\nEND:VEVENT\n",
    );
    let (list, _) = read_all(&bare, &march_2025());
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].title, "café");

    let text = calendar(
        "BEGIN:VEVENT\r\nUID:u16\r\nDTSTART:20250310T100000Z\r\nSUMMARY:Grüße\r\nEND:VEVENT\r\n",
    );
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let utf16 = dir.file("utf16.ics", bytes);
    let (list, _) = read_all(&utf16, &march_2025());
    assert_eq!(list[0].title, "Grüße");

    // Latin-1 text (no valid UTF-8) is read, not refused.
    let mut latin1 = calendar("BEGIN:VEVENT\r\nUID:l1\r\nDTSTART:20250310T100000Z\r\nSUMMARY:Gr\u{fc}\u{df}e\r\nEND:VEVENT\r\n")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect::<Vec<u8>>();
    latin1.shrink_to_fit();
    let path = dir.file("latin1.ics", latin1);
    let (list, _) = read_all(&path, &march_2025());
    assert_eq!(list[0].title, "Grüße");
}

/// A calendar big enough to be read by several workers: its results must
/// be those of reading it on one thread, in file order.
#[test]
fn a_large_calendar_streams_in_file_order() {
    let dir = TempDir::new("large");
    let n = 6000;
    let mut body = String::new();
    for i in 0..n {
        let day = 1 + i % 28;
        body.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:ev-{i}\r\nDTSTART:202503{day:02}T{h:02}0000Z\r\nDTEND:202503{day:02}T{h:02}3000Z\r\nORGANIZER:mailto:rep{r}@northwind.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:buyer@acme.example\r\nDESCRIPTION:{pad}\r\nSUMMARY:call {i}\r\n",
            h = 8 + i % 9,
            r = i % 7,
            pad = "x".repeat(120),
        ));
        if i % 500 == 0 {
            body.push_str("RRULE:FREQ=DAILY;COUNT=3\r\n");
        }
        body.push_str("END:VEVENT\r\n");
    }
    for i in (0..n).step_by(500) {
        let day = 2 + i % 28;
        body.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:ev-{i}\r\nRECURRENCE-ID:202503{day:02}T{h:02}0000Z\r\nDTSTART:202503{day:02}T{h2:02}0000Z\r\nSTATUS:CANCELLED\r\nSUMMARY:call {i} (cancelled)\r\nEND:VEVENT\r\n",
            h = 8 + i % 9,
            h2 = 8 + i % 9,
        ));
    }
    let path = dir.file("large.ics", calendar(&body));
    assert!(std::fs::metadata(&path).unwrap().len() > 1 << 20);
    let (list, summary) = read_all(&path, &march_2025());
    assert_eq!(summary.events_read, n + n / 500);
    // 12 series of 3, one of each cancelled.
    assert_eq!(list.len(), n + 12 * 2);
    assert_eq!(summary.cancelled, 12);
    // File order: event i's occurrences come before event i+1's.
    let order: Vec<usize> = list
        .iter()
        .map(|o| o.uid.trim_start_matches("ev-").parse().unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(list[1].title, "call 0 (cancelled)");
    assert!(list[1].cancelled);
}

#[test]
fn the_window_bounds_occurrences() {
    let window = Window {
        from: utc("2025-03-10T00:00"),
        to: utc("2025-03-11T00:00"),
    };
    let mut n = 0;
    let summary = read_calendar(&fixture("calendars/google.ics"), &window, |o| {
        assert!(o.starts_at >= window.from && o.starts_at < window.to);
        n += 1;
    })
    .unwrap();
    // The standup and the floating lunch.
    assert_eq!((n, summary.occurrences_in_window), (2, 2));
}

#[test]
fn rdates_exdate_lists_and_periods() {
    let dir = TempDir::new("rdate");
    let path = dir.file(
        "c.ics",
        calendar(
            "BEGIN:VEVENT\r\nUID:r\r\nDTSTART;TZID=Europe/London:20250303T090000\r\nDTEND;TZID=Europe/London:20250303T093000\r\n\
             RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/London:20250310T090000,20250317T090000\r\n\
             RDATE;TZID=Europe/London:20250305T140000,20250306T140000\r\n\
             RDATE;VALUE=PERIOD:20250307T160000Z/PT2H\r\nEND:VEVENT\r\n",
        ),
    );
    let (list, _) = read_all(&path, &march_2025());
    let got: Vec<_> = list.iter().map(|o| (o.starts_at, o.ends_at)).collect();
    assert_eq!(
        got,
        [
            (utc("2025-03-03T09:00"), utc("2025-03-03T09:30")),
            (utc("2025-03-05T14:00"), utc("2025-03-05T14:30")),
            (utc("2025-03-06T14:00"), utc("2025-03-06T14:30")),
            (utc("2025-03-07T16:00"), utc("2025-03-07T18:00")),
            (utc("2025-03-24T09:00"), utc("2025-03-24T09:30")),
        ]
    );
}

#[test]
fn an_rdate_on_an_instance_of_the_rrule_is_one_occurrence() {
    // An occurrence is a meeting's key: listed twice, it must come once,
    // or a first import (which inserts without looking up) would fail.
    let dir = TempDir::new("rdate-twice");
    let path = dir.file(
        "c.ics",
        calendar(
            "BEGIN:VEVENT\r\nUID:twice\r\nDTSTART:20250303T090000Z\r\nDTEND:20250303T093000Z\r\n\
             RRULE:FREQ=WEEKLY;COUNT=3\r\nRDATE:20250310T090000Z,20250303T090000Z\r\nEND:VEVENT\r\n",
        ),
    );
    let (list, _) = read_all(&path, &march_2025());
    let got: Vec<_> = list.iter().map(|o| o.occurrence).collect();
    assert_eq!(
        got,
        [
            utc("2025-03-03T09:00"),
            utc("2025-03-10T09:00"),
            utc("2025-03-17T09:00"),
        ]
    );
}

#[test]
fn a_recurrence_too_dense_to_reach_the_window_is_reported() {
    let dir = TempDir::new("dense");
    let path = dir.file(
        "c.ics",
        calendar("BEGIN:VEVENT\r\nUID:m\r\nDTSTART:20200101T000000Z\r\nRRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n"),
    );
    let (list, summary) = read_all(&path, &march_2025());
    assert!(list.is_empty());
    assert_eq!(summary.skipped.len(), 1);
    assert!(
        summary.skipped[0].0.starts_with("recurrence too dense"),
        "{summary:?}"
    );
}
