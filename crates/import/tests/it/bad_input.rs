//! Every kind of bad input: a located `FileError` for what cannot be read,
//! `unresolved` or `skipped` entries for what can be read but not used.

use accord_import::crm::{CrmFile, CrmFormat, Mapping, read_crm_file};
use accord_import::diag::FileError;
use accord_import::ics::read_calendar;

use crate::common::{TempDir, fixture, march_2025, stages};

fn crm(rel: &str) -> Result<CrmFile, FileError> {
    read_crm_file(&fixture(rel), CrmFormat::Generic, None, &stages())
}

/// (line, column, field, value) of an error.
fn place(e: &FileError) -> (Option<usize>, Option<usize>, Option<&str>, Option<&str>) {
    let d = &e.0;
    (d.line, d.column, d.field.as_deref(), d.value.as_deref())
}

#[test]
fn unbalanced_quote() {
    let e = crm("bad/quote/accounts.csv").unwrap_err();
    assert!(e.0.path.ends_with("bad/quote/accounts.csv"));
    assert_eq!((e.0.line, e.0.column), (Some(3), Some(2)));
    assert!(e.0.message.contains("unbalanced quote"), "{e}");
}

#[test]
fn bad_email() {
    let e = crm("bad/email/people.csv").unwrap_err();
    assert!(e.0.path.ends_with("bad/email/people.csv"));
    assert_eq!(
        place(&e),
        (
            Some(3),
            Some(1),
            Some("email"),
            Some("raj.patel(at)northwind.example")
        )
    );
    assert!(e.0.message.starts_with("not an email"), "{e}");
    assert!(
        e.to_string().ends_with(
            "bad/email/people.csv:3:1: not an email: it has no '@' (field `email`, value \"raj.patel(at)northwind.example\")"
        ),
        "{e}"
    );
}

#[test]
fn bad_amount() {
    let e = crm("bad/amount/opportunities.csv").unwrap_err();
    assert_eq!(place(&e), (Some(3), Some(5), Some("amount"), Some("12,x")));
    assert!(e.0.message.starts_with("not an amount"), "{e}");
}

#[test]
fn bad_date() {
    let e = crm("bad/date/opportunities.csv").unwrap_err();
    assert_eq!(
        place(&e),
        (Some(2), Some(8), Some("close_date"), Some("end of June"))
    );
    assert!(e.0.message.starts_with("not a date"), "{e}");
}

#[test]
fn missing_required_column() {
    let e = crm("bad/missing/opportunities.csv").unwrap_err();
    assert_eq!(place(&e), (Some(1), None, Some("stage"), None));
    assert!(e.0.message.contains("`stage`"), "{e}");
    // Salesforce names its own columns in the message.
    let dir = TempDir::new("sf-missing");
    let path = dir.file("Opportunity.csv", "Id,AccountId,Name\n006x,001x,Deal\n");
    let e = read_crm_file(&path, CrmFormat::Salesforce, None, &stages()).unwrap_err();
    assert!(e.0.message.contains("`StageName`"), "{e}");
}

#[test]
fn ragged_row() {
    let e = crm("bad/ragged/accounts.csv").unwrap_err();
    assert_eq!(e.0.line, Some(2));
    assert!(e.0.message.contains("3 fields but the header has 4"), "{e}");
}

#[test]
fn unknown_stage_role_and_account_are_unresolved() {
    let f = crm("bad/unknown/opportunities.csv").unwrap();
    let kept: Vec<&str> = f
        .opportunities
        .iter()
        .map(|o| o.external.id.as_str())
        .collect();
    assert_eq!(kept, ["O-1", "O-3"]);
    let listed: Vec<(&str, &str, usize)> = f
        .unresolved
        .iter()
        .map(|u| (u.what.as_str(), u.value.as_str(), u.line))
        .collect();
    assert_eq!(listed, [("stage", "Verhandlung", 3), ("account", "", 5)]);

    let f = crm("bad/unknown/people.csv").unwrap();
    assert_eq!(f.people.len(), 1);
    let listed: Vec<(&str, &str, usize)> = f
        .unresolved
        .iter()
        .map(|u| (u.what.as_str(), u.value.as_str(), u.line))
        .collect();
    assert_eq!(listed, [("role", "ceo", 3), ("role", "", 4)]);
}

#[test]
fn empty_and_binary_files() {
    let e = crm("bad/empty/people.csv").unwrap_err();
    assert!(e.0.message.contains("empty"), "{e}");

    let dir = TempDir::new("binary");
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = dir.file("accounts.csv", &garbage);
    let e = read_crm_file(&path, CrmFormat::Generic, None, &stages()).unwrap_err();
    assert!(e.0.line.is_some(), "{e}");
    let path = dir.file("garbage.ics", &garbage);
    let e = read_calendar(&path, &march_2025(), |_| {}).unwrap_err();
    assert_eq!(e.0.line, Some(1), "{e}");

    // Text that is not UTF-8 is named, with its place.
    let path = dir.file(
        "people.csv",
        b"email,name,role\nana@x.example,Ana L\xF3pez,pm\n",
    );
    let e = read_crm_file(&path, CrmFormat::Generic, None, &stages()).unwrap_err();
    assert_eq!((e.0.line, e.0.column), (Some(2), Some(2)));
    assert!(e.0.message.contains("UTF-8"), "{e}");
}

#[test]
fn not_a_calendar() {
    let e = read_calendar(&fixture("bad/not-a-calendar.ics"), &march_2025(), |_| {}).unwrap_err();
    assert_eq!(e.0.line, Some(1));
    assert!(e.0.message.contains("not an iCalendar file"), "{e}");
    assert_eq!(e.0.value.as_deref(), Some("email,name,role"));
    let dir = TempDir::new("empty-ics");
    let e = read_calendar(&dir.file("empty.ics", ""), &march_2025(), |_| {}).unwrap_err();
    assert!(e.0.message.contains("empty"), "{e}");
}

#[test]
fn truncated_calendar_emits_nothing() {
    let path = fixture("bad/truncated.ics");
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    let mut emitted = 0;
    let e = read_calendar(&path, &march_2025(), |_| emitted += 1).unwrap_err();
    // Structure is checked before anything is emitted.
    assert_eq!(emitted, 0);
    // The file stops in the middle of its last line.
    assert_eq!(e.0.line, Some(lines));
    assert!(e.0.message.contains("truncated"), "{e}");
    assert!(e.0.message.contains("VEVENT"), "{e}");
}

#[test]
fn a_line_of_no_end_fails_at_its_start_without_being_read_whole() {
    // 65 MiB with no line break after the second line: a file that is not
    // iCalendar, or a broken one. It fails at once, at that line; the
    // reader does not hold it all in memory first.
    let dir = TempDir::new("long-line");
    let mut text = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-JUNK:".to_vec();
    text.resize(text.len() + (65 << 20), b'x');
    let path = dir.file("long.ics", text);
    let e = read_calendar(&path, &march_2025(), |_| {}).unwrap_err();
    assert_eq!(e.0.line, Some(3), "{e}");
    assert!(e.0.message.contains("longer than 64 MiB"), "{e}");
}

#[test]
fn unknown_time_zone_skips_the_event() {
    let mut got = Vec::new();
    let summary = read_calendar(&fixture("bad/unknown-tzid.ics"), &march_2025(), |o| {
        got.push(o.uid)
    })
    .unwrap();
    assert_eq!(got, ["ok"]);
    assert_eq!(summary.events_read, 2);
    assert_eq!(summary.skipped.len(), 1);
    let (reason, n, examples) = &summary.skipped[0];
    assert!(reason.starts_with("unknown time zone"), "{reason}");
    assert_eq!(*n, 1);
    assert_eq!(examples, &["line 7: TZID \"Mars/Olympus_Mons\""]);
}

#[test]
fn malformed_mapping() {
    let e = Mapping::read(&fixture("bad/mapping.toml")).unwrap_err();
    assert!(e.0.path.ends_with("bad/mapping.toml"));
    assert_eq!(e.0.line, Some(4));
    assert!(e.0.message.starts_with("invalid mapping"), "{e}");
    let e = Mapping::read(&fixture("bad/no-such-mapping.toml")).unwrap_err();
    assert!(e.0.message.contains("cannot read"), "{e}");
}
