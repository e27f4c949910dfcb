//! No input makes a reader panic: arbitrary bytes, line soup made of the
//! formats' own vocabulary, and mutated fixture files. Every outcome is a
//! value or a located `FileError`.

use std::path::Path;

use accord_import::crm::{CrmFormat, Mapping, read_crm_file};
use accord_import::ics::{Window, read_calendar};
use proptest::prelude::*;

use crate::common::{TempDir, fixture, march_2025, stages, utc};

const CRM_NAMES: [(&str, CrmFormat); 6] = [
    ("people.csv", CrmFormat::Generic),
    ("accounts.csv", CrmFormat::Generic),
    ("opportunities.csv", CrmFormat::Generic),
    ("User.csv", CrmFormat::Salesforce),
    ("Opportunity.csv", CrmFormat::Salesforce),
    ("deals.csv", CrmFormat::Hubspot),
];

/// Reads the bytes as every kind of CRM file and as a calendar; a located
/// error is fine, a panic fails the test.
fn read_everything(dir: &TempDir, bytes: &[u8]) {
    for (name, format) in CRM_NAMES {
        let path = dir.file(name, bytes);
        if let Err(e) = read_crm_file(&path, format, None, &stages()) {
            assert_eq!(e.0.path, path);
        }
    }
    calendar(&dir.file("c.ics", bytes));
}

fn calendar(path: &Path) {
    let window = march_2025();
    let wide = Window {
        from: utc("1990-01-01T00:00"),
        to: utc("2040-01-01T00:00"),
    };
    for w in [window, wide] {
        let mut n = 0usize;
        match read_calendar(path, &w, |o| {
            assert!(o.starts_at >= w.from && o.starts_at < w.to);
            assert!(o.ends_at >= o.starts_at);
            n += 1;
        }) {
            Ok(summary) => assert_eq!(summary.occurrences_in_window, n),
            Err(e) => {
                assert_eq!(e.0.path, path);
                assert_eq!(n, 0, "nothing is emitted from a file that fails");
            }
        }
    }
}

/// Lines made of the vocabulary of CSV exports.
fn csv_soup() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        Just("".to_owned()),
        Just("\"".to_owned()),
        Just("\"a,b\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("ana@northwind.example".to_owned()),
        Just("not an email".to_owned()),
        Just("1,250.00".to_owned()),
        Just("12,x".to_owned()),
        Just("2024-01-22T16:14:25.000+0000".to_owned()),
        Just("pm".to_owned()),
        Just("Closed Won".to_owned()),
        Just("001Ec00000GGw3h".to_owned()),
        Just("https://www.acme.example/x".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\r\n".to_owned()),
        "[ -~]{0,12}",
    ];
    let header = prop_oneof![
        Just("email,name,role,team,manager_email,function".to_owned()),
        Just("id,name,domains,owner_email".to_owned()),
        Just("id,account_id,name,stage,amount,owner_email,created,close_date".to_owned()),
        Just("Id,Email,Name,Title,ManagerId,AccountId,StageName,Amount,CloseDate,CreatedDate,OwnerId".to_owned()),
        Just("\"Record ID\",\"Deal Name\",\"Deal Stage\",\"Amount\",\"Deal owner\",\"Associated Company IDs\"".to_owned()),
    ];
    let row = prop::collection::vec(cell, 0..10).prop_map(|c| c.join(","));
    (header, prop::collection::vec(row, 0..8)).prop_map(|(h, rows)| {
        let mut text = h;
        for r in rows {
            text.push('\n');
            text.push_str(&r);
        }
        text.into_bytes()
    })
}

/// Lines made of the vocabulary of calendar exports.
fn ics_soup() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just("BEGIN:VCALENDAR"),
        Just("END:VCALENDAR"),
        Just("BEGIN:VEVENT"),
        Just("END:VEVENT"),
        Just("BEGIN:VALARM"),
        Just("END:VALARM"),
        Just("BEGIN:VTIMEZONE"),
        Just("END:VTIMEZONE"),
        Just("TZID:W. Europe Standard Time"),
        Just("X-WR-TIMEZONE:Europe/Berlin"),
        Just("UID:a"),
        Just("UID:b"),
        Just("DTSTART:20250303T100000Z"),
        Just("DTSTART;TZID=Europe/Berlin:20250303T100000"),
        Just("DTSTART;TZID=\"Pacific Standard Time\":20250330T023000"),
        Just("DTSTART;VALUE=DATE:20250303"),
        Just("DTSTART:20250303T100000"),
        Just("DTSTART:garbage"),
        Just("DTEND:20250303T090000Z"),
        Just("DURATION:PT1H"),
        Just("DURATION:-P1W"),
        Just("RRULE:FREQ=DAILY;COUNT=5"),
        Just("RRULE:FREQ=SECONDLY"),
        Just("RRULE:FREQ=MONTHLY;BYDAY=-1MO;BYSETPOS=2"),
        Just("RRULE:FREQ=YEARLY;BYWEEKNO=53;UNTIL=20250401T000000Z"),
        Just("RRULE:garbage"),
        Just("RDATE;VALUE=PERIOD:20250304T100000Z/PT1H"),
        Just("EXDATE:20250304T100000Z,20250305T100000Z"),
        Just("RECURRENCE-ID:20250304T100000Z"),
        Just("RECURRENCE-ID;RANGE=THISANDFUTURE:20250305T100000Z"),
        Just("SEQUENCE:99999999999999999999"),
        Just("STATUS:CANCELLED"),
        Just("ORGANIZER:mailto:Raj@Northwind.example"),
        Just("ATTENDEE;PARTSTAT=DECLINED:mailto:bo@acme.example"),
        Just("ATTENDEE;CN=\"a:b;c\":urn:x"),
        Just(" folded continuation"),
        Just(""),
        Just("\u{feff}BEGIN:VCALENDAR"),
    ];
    prop::collection::vec(line, 0..40).prop_map(|l| l.join("\r\n").into_bytes())
}

/// A fixture file with a few random edits: flipped, deleted and inserted
/// bytes, or a truncation.
fn mutated(path: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let bytes = std::fs::read(fixture(path)).unwrap();
    let len = bytes.len();
    let edit = (0..len, 0u8..4, any::<u8>(), 1usize..16);
    prop::collection::vec(edit, 1..6).prop_map(move |edits| {
        let mut b = bytes.clone();
        for (at, op, byte, n) in edits {
            let at = at.min(b.len());
            match op {
                0 => {
                    if let Some(x) = b.get_mut(at) {
                        *x ^= byte | 1;
                    }
                }
                1 => {
                    let end = (at + n).min(b.len());
                    b.drain(at..end);
                }
                2 => {
                    for _ in 0..n {
                        b.insert(at, byte);
                    }
                }
                _ => b.truncate(at),
            }
        }
        b
    })
}

proptest! {
    // PROPTEST_CASES=5000 for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(96),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
        let dir = TempDir::new("fuzz-bytes");
        read_everything(&dir, &bytes);
    }

    #[test]
    fn csv_line_soup(bytes in csv_soup()) {
        let dir = TempDir::new("fuzz-csv");
        read_everything(&dir, &bytes);
    }

    #[test]
    fn ics_line_soup(bytes in ics_soup()) {
        let dir = TempDir::new("fuzz-ics");
        calendar(&dir.file("c.ics", &bytes));
    }

    #[test]
    fn mutated_calendars(
        google in mutated("calendars/google.ics"),
        outlook in mutated("calendars/outlook.ics"),
    ) {
        let dir = TempDir::new("fuzz-mutated-ics");
        calendar(&dir.file("google.ics", &google));
        calendar(&dir.file("outlook.ics", &outlook));
    }

    #[test]
    fn mutated_crm_files(
        users in mutated("salesforce/User.csv"),
        opps in mutated("salesforce/Opportunity.csv"),
        deals in mutated("hubspot/deals.csv"),
        accounts in mutated("generic/accounts.csv"),
    ) {
        let dir = TempDir::new("fuzz-mutated-crm");
        let _ = read_crm_file(&dir.file("User.csv", &users), CrmFormat::Salesforce, None, &stages());
        let _ = read_crm_file(&dir.file("Opportunity.csv", &opps), CrmFormat::Salesforce, None, &stages());
        let _ = read_crm_file(&dir.file("deals.csv", &deals), CrmFormat::Hubspot, None, &stages());
        let _ = read_crm_file(&dir.file("accounts.csv", &accounts), CrmFormat::Generic, None, &stages());
    }

    #[test]
    fn mutated_mappings(text in mutated("mapped/kundenstamm.toml")) {
        let text = String::from_utf8_lossy(&text);
        if let Ok(m) = Mapping::parse(Path::new("m.toml"), &text) {
            let _ = read_crm_file(&fixture("mapped/Verkaufschancen.csv"), CrmFormat::Generic, Some(&m), &stages());
        }
    }

    #[test]
    fn arbitrary_mapping_text(text in "\\PC{0,300}") {
        let _ = Mapping::parse(Path::new("m.toml"), &text);
    }
}
