//! Importing CRM and calendar exports, on both engines: the fixture
//! organisation of `crates/import/tests/fixtures` with the numbers it must
//! give, idempotent re-imports, newer and older versions of an event,
//! approved exceptions, bad input, and files that fail half-way.

use std::path::PathBuf;
use std::sync::Arc;

use accord_domain::account::{Account, Opportunity};
use accord_domain::exception::{Exception, ExceptionState};
use accord_domain::id::{Email, ExceptionId, MeetingId, PersonId, RuleId};
use accord_domain::people::{Person, Role, Team, TeamKind};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::rules::Effect;
use accord_service::import::{CrmFormat, FileStatus, ImportReport, Mapping, Progress, Window};
use accord_service::{Caller, FixedClock, Principal, Service, ServiceError, Settings};
use accord_store::{
    AuditEntry, AuditFilter, DecisionFilter, DecisionRecord, MeetingFilter, PageRequest,
    PeopleFilter, StoredMeeting,
};
use accord_testkit::{TestDb, on_both_engines};
use chrono::{DateTime, TimeZone, Utc};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../import/tests/fixtures"
    ))
    .join(rel)
}

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

/// March 2025: what the calendar fixtures are written for.
fn march() -> Window {
    Window {
        from: utc(2025, 3, 1),
        to: utc(2025, 4, 1),
    }
}

const IMPORT: Caller = Caller::Local("import");

async fn service(db: &TestDb) -> Service {
    let clock = Arc::new(FixedClock::at(utc(2025, 3, 20)));
    Service::open(db.store(), clock, Settings::default())
        .await
        .unwrap()
}

async fn crm(s: &Service, paths: &[PathBuf]) -> ImportReport {
    s.import_crm(&IMPORT, paths, CrmFormat::Generic, None, &mut |_| {})
        .await
        .unwrap()
}

async fn calendar(s: &Service, paths: &[PathBuf], window: Window) -> ImportReport {
    s.import_calendar(&IMPORT, paths, window, &mut |_| {})
        .await
        .unwrap()
}

/// Every page of a list.
macro_rules! every {
    ($tx:ident . $method:ident ( $($arg:expr),* )) => {{
        let mut out = Vec::new();
        let mut page = PageRequest::first(500);
        loop {
            let p = $tx.$method($($arg,)* &page).await.unwrap();
            out.extend(p.items);
            match p.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        out
    }};
}

/// Everything an import can write.
#[derive(Debug, PartialEq)]
struct Snapshot {
    people: Vec<Person>,
    teams: Vec<Team>,
    accounts: Vec<Account>,
    opportunities: Vec<Opportunity>,
    meetings: Vec<StoredMeeting>,
    decisions: Vec<DecisionRecord>,
    audit: Vec<AuditEntry>,
}

async fn snapshot(s: &Service) -> Snapshot {
    let mut tx = s.store().read().await.unwrap();
    let everyone = PeopleFilter {
        include_inactive: true,
        ..Default::default()
    };
    Snapshot {
        people: every!(tx.list_people(&everyone)),
        teams: tx.list_teams().await.unwrap(),
        accounts: every!(tx.list_accounts(None, None)),
        opportunities: every!(tx.list_opportunities(None, None)),
        meetings: every!(tx.list_meetings(&MeetingFilter::default())),
        decisions: every!(tx.list_decisions(&DecisionFilter::default())),
        audit: every!(tx.list_audit(&AuditFilter::default())),
    }
}

fn file<'a>(r: &'a ImportReport, name: &str) -> &'a accord_service::import::FileReport {
    r.files
        .iter()
        .find(|f| f.path.ends_with(name))
        .unwrap_or_else(|| panic!("no {name} in {r:#?}"))
}

/// (inserted, updated, unchanged, stale, left_out) of a record kind.
fn counts(
    f: &accord_service::import::FileReport,
    kind: &str,
) -> (usize, usize, usize, usize, usize) {
    let c = f.records.get(kind).copied().unwrap_or_default();
    (c.inserted, c.updated, c.unchanged, c.stale, c.left_out)
}

fn person<'a>(snap: &'a Snapshot, email: &str) -> &'a Person {
    snap.people
        .iter()
        .find(|p| p.email.as_str() == email)
        .unwrap_or_else(|| panic!("no {email}"))
}

// ---------------------------------------------------------------------------

async fn the_fixture_organisation_imports_with_the_numbers_expected(db: &TestDb) {
    let s = service(db).await;
    let before = snapshot(&s).await;
    let mut events = Vec::new();
    let r = s
        .import_crm(
            &IMPORT,
            &[fixture("generic")],
            CrmFormat::Generic,
            None,
            &mut |p| events.push(p),
        )
        .await
        .unwrap();
    assert_eq!((r.imported(), r.failed(), r.skipped()), (3, 0, 0), "{r:#?}");
    // People first, then accounts, then opportunities, whatever the names' order.
    let kinds: Vec<&str> = r.files.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, ["people", "accounts", "opportunities"]);
    assert!(matches!(events.first(), Some(Progress::Files { total: 3 })));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Progress::FileDone { .. }))
            .count(),
        3
    );
    let people = file(&r, "people.csv");
    assert_eq!(counts(people, "person"), (8, 0, 0, 0, 0));
    assert_eq!(counts(people, "team"), (4, 0, 0, 0, 0));
    assert!(people.unresolved.is_empty(), "{:#?}", people.unresolved);
    assert_eq!(counts(file(&r, "accounts.csv"), "account"), (3, 0, 0, 0, 0));
    assert_eq!(
        counts(file(&r, "opportunities.csv"), "opportunity"),
        (5, 0, 0, 0, 0)
    );

    let snap = snapshot(&s).await;
    assert_eq!(snap.people.len(), 8);
    let team = |name: &str| snap.teams.iter().find(|t| t.name == name).unwrap();
    let petra = person(&snap, "petra.novak@northwind.example");
    let sam = person(&snap, "sam.okafor@northwind.example");
    assert_eq!(
        (team("Product").kind, team("Product").lead),
        (TeamKind::Product, Some(petra.id))
    );
    assert_eq!(
        (team("EMEA Sales").kind, team("EMEA Sales").lead),
        (TeamKind::Sales, Some(sam.id))
    );
    assert_eq!(
        (team("RevOps").kind, team("RevOps").lead),
        (TeamKind::Other, None)
    );
    assert_eq!(team("Engineering").kind, TeamKind::Other);
    // Mixed-case addresses in the file, lower case as stored; managers by email.
    let raj = person(&snap, "raj.patel@northwind.example");
    assert_eq!((raj.role, raj.manager), (Role::SalesRep, Some(sam.id)));
    assert_eq!(
        person(&snap, "sara.kim@northwind.example").manager,
        Some(sam.id)
    );
    assert_eq!(
        person(&snap, "ana.lopez@northwind.example").manager,
        Some(petra.id)
    );
    let acme = snap
        .accounts
        .iter()
        .find(|a| a.name == "Acme Corp")
        .unwrap();
    let domains: Vec<&str> = acme.domains.iter().map(|d| d.as_str()).collect();
    assert_eq!(domains, ["acme-corp.example", "acme.example"]);
    assert_eq!(acme.owner, Some(raj.id));
    let renewal = snap
        .opportunities
        .iter()
        .find(|o| o.name == "Acme renewal 2025")
        .unwrap();
    assert_eq!(
        (renewal.account, renewal.amount, renewal.stage.as_str()),
        (acme.id, Some(45_000.0), "negotiation")
    );
    // One audit entry per record and one summary per file.
    let audit_actions = |snap: &Snapshot, prefix: &str| {
        snap.audit
            .iter()
            .filter(|a| a.action.starts_with(prefix))
            .count()
    };
    assert_eq!(audit_actions(&snap, "person.imported"), 8);
    assert_eq!(audit_actions(&snap, "team.imported"), 4);
    assert_eq!(audit_actions(&snap, "account.imported"), 3);
    assert_eq!(audit_actions(&snap, "opportunity.imported"), 5);
    assert_eq!(audit_actions(&snap, "import.file"), 3);
    assert_eq!(snap.audit.len(), before.audit.len() + 23);

    let r = calendar(&s, &[fixture("calendars")], march()).await;
    assert_eq!((r.imported(), r.failed()), (2, 0), "{r:#?}");
    let google = file(&r, "google.ics");
    let stats = google.calendar.as_ref().unwrap();
    assert_eq!(
        (
            stats.occurrences_in_window,
            stats.customer_contacts,
            stats.pm_contacts,
            stats.violations
        ),
        (16, 8, 5, 2),
        "{stats:#?}"
    );
    assert_eq!(stats.cancelled, 2);
    assert_eq!(counts(google, "meeting"), (8, 0, 0, 0, 0));
    assert_eq!(counts(google, "decision").0, 2);
    let outlook = file(&r, "outlook.ics");
    let stats = outlook.calendar.as_ref().unwrap();
    assert_eq!(
        (stats.customer_contacts, stats.pm_contacts, stats.violations),
        (5, 4, 1),
        "{stats:#?}"
    );
    assert_eq!(counts(outlook, "meeting"), (5, 0, 0, 0, 0));
    assert_eq!(r.totals["meeting"].inserted, 13);
    assert_eq!(r.totals["decision"].inserted, 3);

    let snap = snapshot(&s).await;
    assert_eq!(snap.meetings.len(), 13);
    // The violations are owner-present decisions about PM contacts
    // without their owner.
    assert_eq!(snap.decisions.len(), 3);
    for d in &snap.decisions {
        assert_eq!(d.decision.effect, Effect::Deny);
        let rules: Vec<&str> = d.decision.rule_ids().map(|r| r.as_str()).collect();
        assert_eq!(rules, ["owner-present"]);
        let m = snap
            .meetings
            .iter()
            .find(|m| m.meeting.id.0 == d.record.id)
            .unwrap();
        assert!(m.flags.pm_count > 0 && !m.flags.owner_present);
    }
    assert_eq!(
        snap.meetings
            .iter()
            .filter(|m| m.flags.pm_count > 0)
            .count(),
        9
    );
    // Recurrences as stored, by their natural key: the weekly Initech sync
    // has one occurrence excluded, one cancelled and one moved; the Acme
    // steering (Outlook, Windows zone names) one moved; the Initech prep
    // exists in two copies, of which SEQUENCE 2 wins.
    let of = |uid: &str| -> Vec<(String, DateTime<Utc>, String)> {
        let mut v: Vec<_> = snap
            .meetings
            .iter()
            .filter_map(|m| match &m.meeting.source {
                accord_domain::meeting::MeetingSource::Calendar { uid: u, occurrence }
                    if u == uid =>
                {
                    Some((
                        occurrence.clone(),
                        m.meeting.starts_at,
                        m.meeting.title.clone(),
                    ))
                }
                _ => None,
            })
            .collect();
        v.sort();
        v
    };
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    assert_eq!(
        of("g3-initech-weekly@google.com"),
        [
            (
                "2025-03-04T09:00:00Z".to_owned(),
                at("2025-03-04T09:00:00Z"),
                "Initech weekly sync".to_owned()
            ),
            (
                "2025-03-25T09:00:00Z".to_owned(),
                at("2025-03-26T14:00:00Z"),
                "Initech weekly sync (moved)".to_owned()
            ),
        ]
    );
    let steering = of("o2-acme-steering");
    assert_eq!(steering.len(), 2, "{steering:?}");
    assert_eq!(
        steering[1],
        (
            "2025-03-19T08:00:00Z".to_owned(),
            at("2025-03-19T13:00:00Z"),
            "Acme steering (moved)".to_owned()
        )
    );
    let prep = of("o4-initech-prep");
    assert_eq!(prep.len(), 1);
    assert_eq!(prep[0].2, "Initech renewal prep (v2)");
    // One summary per calendar file, not one entry per occurrence.
    assert_eq!(snap.audit.len(), before.audit.len() + 23 + 2);

    // A second import of everything changes nothing at all.
    let again = crm(&s, &[fixture("generic")]).await;
    assert!(!again.changed(), "{again:#?}");
    assert_eq!(
        counts(file(&again, "people.csv"), "person"),
        (0, 0, 8, 0, 0)
    );
    assert_eq!(counts(file(&again, "people.csv"), "team"), (0, 0, 4, 0, 0));
    assert_eq!(
        counts(file(&again, "accounts.csv"), "account"),
        (0, 0, 3, 0, 0)
    );
    assert_eq!(
        counts(file(&again, "opportunities.csv"), "opportunity"),
        (0, 0, 5, 0, 0)
    );
    let again = calendar(&s, &[fixture("calendars")], march()).await;
    assert!(!again.changed(), "{again:#?}");
    assert_eq!(again.totals["meeting"].unchanged, 13);
    assert_eq!(again.totals["decision"].inserted, 0);
    // The file still holds its violations; none is recorded twice.
    assert_eq!(
        file(&again, "google.ics")
            .calendar
            .as_ref()
            .unwrap()
            .violations,
        2
    );
    assert_eq!(snapshot(&s).await, snap);
    assert!(
        accord_store::verify_audit(s.store().as_ref())
            .await
            .unwrap()
            .is_ok()
    );
}

/// A one-event calendar: Ana (PM) meets Acme, with Raj (the owner)
/// accepted or declined.
fn one_event(sequence: i64, modified: &str, raj: &str, title: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:seq-test@northwind.example\r\nDTSTART:20250310T100000Z\r\nDTEND:20250310T110000Z\r\nSEQUENCE:{sequence}\r\nLAST-MODIFIED:{modified}\r\nSUMMARY:{title}\r\nORGANIZER:mailto:ana.lopez@northwind.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:ana.lopez@northwind.example\r\nATTENDEE;PARTSTAT={raj}:mailto:raj.patel@northwind.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:cfo@acme.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "accord-service-import-{name}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn decisions_about(s: &Service, id: MeetingId) -> Vec<DecisionRecord> {
    let mut tx = s.store().read().await.unwrap();
    tx.decisions_for(RecordRef {
        kind: RecordKind::Meeting,
        id: id.0,
    })
    .await
    .unwrap()
}

async fn newer_versions_replace_a_meeting_older_ones_do_not(db: &TestDb) {
    let s = service(db).await;
    crm(&s, &[fixture("generic")]).await;
    let dir = Scratch::new("seq");
    let v1 = dir.file(
        "v1.ics",
        one_event(1, "20250301T090000Z", "DECLINED", "Acme design review"),
    );
    let v2 = dir.file(
        "v2.ics",
        one_event(
            2,
            "20250302T090000Z",
            "ACCEPTED",
            "Acme design review (Raj joins)",
        ),
    );
    // The same SEQUENCE as v2, modified later: newer still.
    let v3 = dir.file(
        "v3.ics",
        one_event(
            2,
            "20250303T090000Z",
            "ACCEPTED",
            "Acme design review (room 4)",
        ),
    );

    let r = calendar(&s, std::slice::from_ref(&v1), march()).await;
    assert_eq!(counts(&r.files[0], "meeting"), (1, 0, 0, 0, 0));
    assert_eq!(r.files[0].calendar.as_ref().unwrap().violations, 1);
    let id = MeetingId::from_calendar("seq-test@northwind.example", "2025-03-10T10:00:00Z");
    let ds = decisions_about(&s, id).await;
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].decision.effect, Effect::Deny);

    let r = calendar(&s, std::slice::from_ref(&v2), march()).await;
    assert_eq!(counts(&r.files[0], "meeting"), (0, 1, 0, 0, 0));
    assert_eq!(r.files[0].calendar.as_ref().unwrap().violations, 0);
    let m = s
        .store()
        .read()
        .await
        .unwrap()
        .get_meeting(id)
        .await
        .unwrap();
    assert_eq!(m.meeting.title, "Acme design review (Raj joins)");
    assert_eq!(m.cal_sequence, Some(2));
    assert!(m.flags.owner_present);
    // A changed meeting gets a fresh decision, even one that allows it:
    // the latest decision about a meeting is always current.
    let ds = decisions_about(&s, id).await;
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[1].decision.effect, Effect::Allow);

    let r = calendar(&s, std::slice::from_ref(&v3), march()).await;
    assert_eq!(counts(&r.files[0], "meeting"), (0, 1, 0, 0, 0));
    let snap = snapshot(&s).await;

    // The old versions again: stale, nothing written.
    let r = calendar(&s, &[v1, v2], march()).await;
    assert_eq!(r.totals["meeting"].stale, 2, "{r:#?}");
    assert!(!r.changed());
    assert_eq!(snapshot(&s).await, snap);
    let m = s
        .store()
        .read()
        .await
        .unwrap()
        .get_meeting(id)
        .await
        .unwrap();
    assert_eq!(m.meeting.title, "Acme design review (room 4)");
}

/// A first import inserts its occurrences without looking them up (the
/// database has no calendar meeting yet); the same file again goes the
/// way of every later import, and finds each one stored.
async fn a_first_import_inserts_and_the_next_compares(db: &TestDb) {
    let s = service(db).await;
    crm(&s, &[fixture("generic")]).await;
    let stored = async || {
        let mut tx = s.store().read().await.unwrap();
        tx.has_calendar_meetings().await.unwrap()
    };
    assert!(!stored().await);
    let dir = Scratch::new("first");
    // A weekly series whose RDATE repeats one of its own instances: each
    // occurrence is one meeting, even on the first import.
    let series = one_event(0, "20250301T090000Z", "ACCEPTED", "Acme weekly")
        .replace("UID:seq-test", "UID:weekly")
        .replace(
            "SEQUENCE:0",
            "SEQUENCE:0\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nRDATE:20250317T100000Z",
        );
    let path = dir.file("series.ics", series);
    let r = calendar(&s, std::slice::from_ref(&path), march()).await;
    assert_eq!(r.files[0].status, FileStatus::Imported, "{r:#?}");
    assert_eq!(counts(&r.files[0], "meeting"), (3, 0, 0, 0, 0));
    assert_eq!(r.files[0].calendar.as_ref().unwrap().customer_contacts, 3);
    assert!(stored().await);
    let snap = snapshot(&s).await;
    let r = calendar(&s, std::slice::from_ref(&path), march()).await;
    assert_eq!(counts(&r.files[0], "meeting"), (0, 0, 3, 0, 0), "{r:#?}");
    assert!(!r.changed());
    assert_eq!(snapshot(&s).await, snap);
    assert_eq!(march_counts(&s).await, (3, 0));
}

/// The contacts and violations the report counts for March 2025.
async fn march_counts(s: &Service) -> (i64, i64) {
    let r = s
        .report(&IMPORT, utc(2025, 3, 31).date_naive(), Some(30), None)
        .await
        .unwrap();
    (r.contacts.customer_contacts, r.violations_total)
}

fn meeting_exists(m: Result<StoredMeeting, accord_store::StoreError>) -> bool {
    match m {
        Ok(_) => true,
        Err(accord_store::StoreError::NotFound { .. }) => false,
        Err(e) => panic!("{e}"),
    }
}

async fn an_event_no_longer_a_contact_withdraws_its_meeting(db: &TestDb) {
    let s = service(db).await;
    crm(&s, &[fixture("generic")]).await;
    let dir = Scratch::new("gone");
    let cancelled = |seq: i64, modified: &str| {
        one_event(seq, modified, "DECLINED", "Acme design review")
            .replace("SUMMARY:", "STATUS:CANCELLED\r\nSUMMARY:")
    };
    let v1 = dir.file(
        "v1.ics",
        one_event(1, "20250301T090000Z", "DECLINED", "Acme design review"),
    );
    let old_cancel = dir.file("old.ics", cancelled(0, "20250228T090000Z"));
    let new_cancel = dir.file("new.ics", cancelled(2, "20250302T090000Z"));
    let id = MeetingId::from_calendar("seq-test@northwind.example", "2025-03-10T10:00:00Z");

    calendar(&s, std::slice::from_ref(&v1), march()).await;
    assert_eq!(
        march_counts(&s).await,
        (1, 1),
        "a contact without its owner"
    );

    // An older version that is cancelled: the stored one stands.
    let r = calendar(&s, std::slice::from_ref(&old_cancel), march()).await;
    assert_eq!(r.files[0].records["meeting"].stale, 1, "{r:#?}");
    assert!(!r.changed());
    assert!(meeting_exists(
        s.store().read().await.unwrap().get_meeting(id).await
    ));

    // A newer one: the meeting did not happen. It goes, and so do its
    // contact and its violation.
    let r = calendar(&s, std::slice::from_ref(&new_cancel), march()).await;
    assert_eq!(r.files[0].status, FileStatus::Imported);
    assert_eq!(r.files[0].records["meeting"].removed, 1, "{r:#?}");
    assert!(r.changed());
    assert!(!meeting_exists(
        s.store().read().await.unwrap().get_meeting(id).await
    ));
    assert!(decisions_about(&s, id).await.is_empty());
    assert_eq!(march_counts(&s).await, (0, 0));

    // The same file again changes nothing.
    let snap = snapshot(&s).await;
    let r = calendar(&s, std::slice::from_ref(&new_cancel), march()).await;
    assert_eq!(r.files[0].records["meeting"].removed, 0);
    assert!(!r.changed());
    assert_eq!(snapshot(&s).await, snap);
    assert_eq!(march_counts(&s).await, (0, 0));

    // The first export, imported again after the cancellation: older than
    // what withdrew the meeting, it does not bring it back.
    let r = calendar(&s, std::slice::from_ref(&v1), march()).await;
    assert_eq!(r.files[0].records["meeting"].stale, 1, "{r:#?}");
    assert_eq!(r.files[0].records["meeting"].inserted, 0, "{r:#?}");
    assert!(!r.changed());
    assert!(!meeting_exists(
        s.store().read().await.unwrap().get_meeting(id).await
    ));
    assert_eq!(march_counts(&s).await, (0, 0));
}

async fn a_meeting_people_wrote_about_is_kept_when_its_event_changes(db: &TestDb) {
    let s = service(db).await;
    crm(&s, &[fixture("generic")]).await;
    let dir = Scratch::new("kept");
    let v1 = dir.file(
        "v1.ics",
        one_event(1, "20250301T090000Z", "ACCEPTED", "Acme design review"),
    );
    // The customer is no longer invited: not a customer contact any more.
    let v2 = dir.file(
        "v2.ics",
        one_event(2, "20250302T090000Z", "ACCEPTED", "Acme design review")
            .replace("ATTENDEE;PARTSTAT=ACCEPTED:mailto:cfo@acme.example\r\n", ""),
    );
    let id = MeetingId::from_calendar("seq-test@northwind.example", "2025-03-10T10:00:00Z");
    calendar(&s, std::slice::from_ref(&v1), march()).await;
    let m = s
        .store()
        .read()
        .await
        .unwrap()
        .get_meeting(id)
        .await
        .unwrap();
    let pm = m
        .meeting
        .attendees
        .iter()
        .find_map(|a| a.person)
        .expect("one of ours attended");
    let mut tx = s.store().write().await.unwrap();
    tx.insert_insight(&accord_domain::insight::Insight {
        id: accord_domain::id::InsightId::new(),
        account: m.meeting.account.unwrap(),
        meeting: Some(id),
        pm,
        kind: accord_domain::insight::InsightKind::Futures,
        product_area: "reporting".into(),
        text: "They want scheduled exports.".into(),
        created_at: utc(2025, 3, 10),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let r = calendar(&s, std::slice::from_ref(&v2), march()).await;
    assert_eq!(r.files[0].records["meeting"].removed, 0, "{r:#?}");
    assert_eq!(r.files[0].calendar.as_ref().unwrap().kept_referenced, 1);
    assert!(meeting_exists(
        s.store().read().await.unwrap().get_meeting(id).await
    ));
    assert_eq!(march_counts(&s).await.0, 1);
}

async fn approved_exceptions_are_applied_to_imported_contacts(db: &TestDb) {
    let s = service(db).await;
    crm(&s, &[fixture("generic")]).await;
    let dir = Scratch::new("exc");
    let v1 = dir.file(
        "v1.ics",
        one_event(1, "20250301T090000Z", "DECLINED", "Acme design review"),
    );
    let v2 = dir.file(
        "v2.ics",
        one_event(
            2,
            "20250302T090000Z",
            "DECLINED",
            "Acme design review (moved room)",
        ),
    );
    calendar(&s, std::slice::from_ref(&v1), march()).await;
    let id = MeetingId::from_calendar("seq-test@northwind.example", "2025-03-10T10:00:00Z");
    let snap = snapshot(&s).await;
    let sam = person(&snap, "sam.okafor@northwind.example").id;
    let ana = person(&snap, "ana.lopez@northwind.example").id;
    let mut tx = s.store().write().await.unwrap();
    tx.insert_exception(&Exception {
        id: ExceptionId::new(),
        rule: RuleId::parse("owner-present").unwrap(),
        record: RecordRef {
            kind: RecordKind::Meeting,
            id: id.0,
        },
        reason: "Raj was on leave; Sam agreed Ana goes alone.".into(),
        requested_by: ana,
        requested_at: utc(2025, 3, 11),
        expires_at: None,
        state: ExceptionState::Approved,
        decided_by: Some(sam),
        decided_at: Some(utc(2025, 3, 11)),
        decision_note: None,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Unchanged: no new decision, and no longer counted as a violation.
    let r = calendar(&s, std::slice::from_ref(&v1), march()).await;
    let stats = r.files[0].calendar.as_ref().unwrap();
    assert_eq!((stats.violations, stats.flagged), (0, 1));
    assert_eq!(decisions_about(&s, id).await.len(), 1);
    // Changed: decided again, with the exception in force.
    calendar(&s, std::slice::from_ref(&v2), march()).await;
    let ds = decisions_about(&s, id).await;
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[1].decision.effect, Effect::Audit);
    assert!(ds[1].decision.matched[0].excepted);
}

async fn malformed_files_fail_located_and_the_others_import(db: &TestDb) {
    let s = service(db).await;
    // A CSV row with a bad value: file, line, column and value.
    let r = crm(
        &s,
        &[
            fixture("generic/people.csv"),
            fixture("generic/accounts.csv"),
            fixture("bad/amount/opportunities.csv"),
        ],
    )
    .await;
    assert_eq!((r.imported(), r.failed()), (2, 1));
    let bad = file(&r, "amount/opportunities.csv");
    assert_eq!(bad.status, FileStatus::Failed);
    let e = bad.error.as_ref().unwrap();
    assert_eq!(
        (e.line, e.column, e.value.as_deref()),
        (Some(3), Some(5), Some("12,x")),
        "{e}"
    );
    assert!(e.to_string().contains("opportunities.csv:3:5"), "{e}");
    assert!(bad.records.is_empty());
    let snap = snapshot(&s).await;
    assert_eq!((snap.people.len(), snap.accounts.len()), (8, 3));
    assert!(snap.opportunities.is_empty());

    // Malformed calendars: located, nothing of them stored, the others import.
    let r = calendar(
        &s,
        &[
            fixture("bad/truncated.ics"),
            fixture("bad/not-a-calendar.ics"),
            fixture("calendars/google.ics"),
            fixture("no-such-folder"),
        ],
        march(),
    )
    .await;
    assert_eq!((r.imported(), r.failed()), (1, 3), "{r:#?}");
    for name in ["truncated.ics", "not-a-calendar.ics"] {
        let f = file(&r, name);
        let e = f.error.as_ref().unwrap();
        assert!(e.line.is_some(), "{name}: {e}");
        assert!(f.records.is_empty() && f.calendar.is_none());
    }
    assert!(
        file(&r, "no-such-folder")
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("cannot read")
    );
    assert_eq!(snapshot(&s).await.meetings.len(), 8);
}

async fn unknown_references_are_counted_with_examples(db: &TestDb) {
    let s = service(db).await;
    let dir = Scratch::new("unknown");
    let people = dir.file(
        "people.csv",
        "email,name,role,team,manager_email\n\
         raj.patel@northwind.example,Raj Patel,sales_rep,EMEA Sales,boss@northwind.example\n\
         sara.kim@northwind.example,Sara Kim,sales_rep,EMEA Sales,\n\
         SARA.KIM@northwind.example,Sara Again,sales_rep,EMEA Sales,\n",
    );
    let accounts = dir.file(
        "accounts.csv",
        "id,name,domains,owner_email\n\
         A-001,Acme Corp,acme.example,raj.patel@northwind.example\n\
         A-009,Acme Again,acme.example;globex.example,nobody@northwind.example\n",
    );
    let r = crm(
        &s,
        &[
            people,
            accounts,
            fixture("bad/unknown/people.csv"),
            fixture("bad/unknown/opportunities.csv"),
        ],
    )
    .await;
    assert_eq!(r.failed(), 0, "{r:#?}");
    let refs = |f: &accord_service::import::FileReport| -> Vec<(String, bool, usize)> {
        f.unresolved
            .iter()
            .map(|u| (u.what.clone(), u.left_out, u.count))
            .collect()
    };
    let mine = r
        .files
        .iter()
        .find(|f| f.path.starts_with(&dir.0) && f.kind == "people")
        .unwrap();
    assert_eq!(
        refs(mine),
        [("person".into(), true, 1), ("manager".into(), false, 1)]
    );
    assert_eq!(counts(mine, "person"), (2, 0, 0, 0, 1));
    assert!(
        mine.unresolved[0].examples[0]
            .reason
            .contains("listed twice")
    );
    assert_eq!(
        mine.unresolved[1].examples[0].value,
        "boss@northwind.example"
    );
    assert_eq!(mine.unresolved[1].examples[0].line, 2);

    let accounts = file(&r, "accounts.csv");
    assert_eq!(
        refs(accounts),
        [("owner".into(), false, 1), ("domain".into(), false, 1)]
    );
    assert!(
        accounts.unresolved[1].examples[0]
            .reason
            .contains("already belongs to Acme Corp")
    );
    assert_eq!(counts(accounts, "account"), (2, 0, 0, 0, 0));

    // The reader's own: a title that is no role, a missing role.
    let unknown_people = file(&r, "unknown/people.csv");
    assert_eq!(refs(unknown_people), [("role".into(), true, 2)]);
    assert_eq!(counts(unknown_people, "person"), (1, 0, 0, 0, 2));
    assert_eq!(unknown_people.unresolved[0].examples[0].value, "ceo");

    // A stage that is no playbook stage, a missing account, an unknown one.
    let opps = file(&r, "opportunities.csv");
    assert_eq!(
        refs(opps),
        [("stage".into(), true, 1), ("account".into(), true, 2),],
        "{:#?}",
        opps.unresolved
    );
    assert_eq!(counts(opps, "opportunity"), (1, 0, 0, 0, 3));
    let examples: Vec<&str> = opps.unresolved[1]
        .examples
        .iter()
        .map(|e| e.value.as_str())
        .collect();
    assert_eq!(examples, ["", "A-002"]);

    // Re-importing the same files changes nothing, unresolved or not.
    let snap = snapshot(&s).await;
    let again = crm(
        &s,
        &[
            dir.0.join("people.csv"),
            dir.0.join("accounts.csv"),
            fixture("bad/unknown/people.csv"),
            fixture("bad/unknown/opportunities.csv"),
        ],
    )
    .await;
    assert!(!again.changed(), "{again:#?}");
    assert_eq!(snapshot(&s).await, snap);
}

async fn a_failure_half_way_through_a_file_leaves_nothing_behind(db: &TestDb) {
    let s = service(db).await;
    crm(&s, &[fixture("generic/people.csv")]).await;
    // The database refuses an account named Poison and a meeting titled
    // Poison, as a full disk or a lost connection would refuse anything.
    db.execute(match db.engine() {
        accord_store::EngineKind::Sqlite => {
            "CREATE TRIGGER poison_accounts BEFORE INSERT ON accounts WHEN NEW.name = 'Poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;\n\
             CREATE TRIGGER poison_meetings BEFORE INSERT ON meetings WHEN NEW.title = 'Poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;"
        }
        accord_store::EngineKind::Postgres => {
            "CREATE FUNCTION poison_account() RETURNS trigger AS $$ BEGIN IF NEW.name = 'Poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;\n\
             CREATE FUNCTION poison_meeting() RETURNS trigger AS $$ BEGIN IF NEW.title = 'Poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;\n\
             CREATE TRIGGER poison_accounts BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION poison_account();\n\
             CREATE TRIGGER poison_meetings BEFORE INSERT ON meetings FOR EACH ROW EXECUTE FUNCTION poison_meeting();"
        }
    })
    .await;
    let before = snapshot(&s).await;
    let dir = Scratch::new("halfway");
    let accounts = dir.file(
        "accounts.csv",
        "id,name,domains,owner_email\n\
         A-001,Acme Corp,acme.example,raj.patel@northwind.example\n\
         A-002,Globex,globex.example,sara.kim@northwind.example\n\
         A-003,Poison,poison.example,\n\
         A-004,Initech,initech.example,\n",
    );
    let r = crm(&s, std::slice::from_ref(&accounts)).await;
    assert_eq!(r.failed(), 1);
    let e = r.files[0].error.as_ref().unwrap();
    assert!(e.message.contains("nothing of it was stored"), "{e}");
    assert_eq!(snapshot(&s).await, before);

    // A calendar whose contacts fail part-way through being written: those
    // written before are rolled back too. 9,000 contacts are stored in two
    // batches (the first of 4,096), the poisoned one in the second.
    assert_eq!(
        crm(&s, &[fixture("generic/accounts.csv")]).await.imported(),
        1
    );
    let before = snapshot(&s).await;
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for i in 0..9000 {
        let title = if i == 8999 {
            "Poison".to_owned()
        } else {
            format!("Call {i}")
        };
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:bulk-{i}@test\r\nDTSTART:20250310T{h:02}{m:02}00Z\r\nDTEND:20250310T{h:02}{m:02}30Z\r\nSUMMARY:{title}\r\nORGANIZER:mailto:raj.patel@northwind.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:buyer{i}@acme.example\r\nEND:VEVENT\r\n",
            h = (i / 60) % 24,
            m = i % 60,
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    let big = dir.file("big.ics", ics);
    let r = calendar(&s, &[big, fixture("calendars/outlook.ics")], march()).await;
    assert_eq!((r.imported(), r.failed()), (1, 1), "{r:#?}");
    let failed = file(&r, "big.ics");
    assert!(
        failed.error.as_ref().unwrap().message.contains("poisoned"),
        "{failed:#?}"
    );
    let after = snapshot(&s).await;
    assert_eq!(after.meetings.len(), 5, "only outlook.ics's contacts");
    assert!(
        after
            .meetings
            .iter()
            .all(|m| !m.meeting.title.starts_with("Call"))
    );
    assert_eq!(after.audit.len(), before.audit.len() + 1);
}

async fn only_admins_and_local_callers_import(db: &TestDb) {
    let s = service(db).await;
    let someone = |role: Role| {
        Caller::Person(Principal::new(Person {
            id: PersonId::new(),
            email: Email::parse("someone@northwind.example").unwrap(),
            name: "Someone".into(),
            role,
            team: None,
            manager: None,
            function: None,
            active: true,
            external: None,
        }))
    };
    let pm = someone(Role::Pm);
    assert!(matches!(
        s.import_crm(
            &pm,
            &[fixture("generic")],
            CrmFormat::Generic,
            None,
            &mut |_| {}
        )
        .await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        s.import_calendar(&pm, &[fixture("calendars")], march(), &mut |_| {})
            .await,
        Err(ServiceError::Forbidden(_))
    ));
    let admin = someone(Role::Admin);
    let r = s
        .import_crm(
            &admin,
            &[fixture("generic")],
            CrmFormat::Generic,
            None,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(r.imported(), 3);
    let snap = snapshot(&s).await;
    let entry = snap
        .audit
        .iter()
        .find(|a| a.action == "import.file")
        .unwrap();
    assert_eq!(entry.actor.label, "someone@northwind.example");
}

async fn other_layouts_and_mappings_import(db: &TestDb) {
    let s = service(db).await;
    let r = s
        .import_crm(
            &IMPORT,
            &[fixture("salesforce")],
            CrmFormat::Salesforce,
            None,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(r.failed(), 0, "{r:#?}");
    assert!(r.totals["person"].inserted > 0 && r.totals["account"].inserted > 0);
    assert!(r.totals["opportunity"].inserted > 0);
    let mapping = Mapping::read(&fixture("mapped/kundenstamm.toml")).unwrap();
    let r = s
        .import_crm(
            &IMPORT,
            &[fixture("mapped")],
            CrmFormat::Generic,
            Some(&mapping),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(r.failed(), 0, "{r:#?}");
    assert!(r.totals["opportunity"].inserted > 0, "{r:#?}");
    let again = s
        .import_crm(
            &IMPORT,
            &[fixture("mapped")],
            CrmFormat::Generic,
            Some(&mapping),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(!again.changed(), "{again:#?}");
}

on_both_engines!(
    the_fixture_organisation_imports_with_the_numbers_expected,
    newer_versions_replace_a_meeting_older_ones_do_not,
    a_first_import_inserts_and_the_next_compares,
    an_event_no_longer_a_contact_withdraws_its_meeting,
    a_meeting_people_wrote_about_is_kept_when_its_event_changes,
    approved_exceptions_are_applied_to_imported_contacts,
    malformed_files_fail_located_and_the_others_import,
    unknown_references_are_counted_with_examples,
    a_failure_half_way_through_a_file_leaves_nothing_behind,
    only_admins_and_local_callers_import,
    other_layouts_and_mappings_import,
);
