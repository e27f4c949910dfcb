//! Writes a synthetic organisation for the import benchmark
//! (`bench/import.sh`): a generic-layout `people.csv` and `accounts.csv`,
//! and a `calendar.ics` of N events as calendar servers export them.
//!
//! ```sh
//! cargo run --release -p accord-import --example import_bench_data -- OUT_DIR EVENTS [BASE_DATE]
//! ```
//!
//! The organisation: 20 sales teams (a manager, 10 reps, 2 sales
//! engineers), 6 product teams (a PM lead, 7 PMs), 2 admins; 5,000 accounts
//! with one or two domains, each owned by a rep. The calendar, spread over
//! BASE_DATE − 360 days to BASE_DATE + 85 days (the default window of
//! `accord import calendar` on that day):
//!
//! - 50 % customer meetings: the owner (accepted, tentative, or — one in
//!   twelve — declined), often a PM or a sales engineer, one to three of
//!   the account's people (at its second domain or a subdomain sometimes);
//!   30 % internal meetings; 10 % with partners (no account); 5 % between
//!   customers only; 5 % all-day events;
//! - 3 % cancelled, 4 % recurring (weekly or fortnightly, by COUNT or
//!   UNTIL, some with an EXDATE, some with a moved occurrence whose
//!   override sits at the end of the file), 0.5 % re-sent with a higher
//!   SEQUENCE further down the file;
//! - times in Europe/Berlin and America/New_York (with Google's VTIMEZONE
//!   blocks), in the Windows zones `W. Europe Standard Time` and `Pacific
//!   Standard Time` (as Outlook writes them), and in UTC;
//! - Google's property set and parameters, lines folded at 75 octets,
//!   CRLF, and addresses in mixed case now and then.
//!
//! Everything comes from a fixed seed: the same arguments write the same
//! files.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Duration, NaiveDate};

const SALES_TEAMS: usize = 20;
const REPS: usize = 10;
const SES: usize = 2;
const PRODUCT_TEAMS: usize = 6;
const PMS: usize = 7;
const ACCOUNTS: usize = 5000;

/// SplitMix64: small, fast and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 1000 < percent * 10
    }

    fn per_mille(&mut self, n: u64) -> bool {
        self.next() % 1000 < n
    }
}

#[derive(Clone)]
struct Person {
    email: String,
    name: String,
}

struct Org {
    managers: Vec<Person>,
    /// Reps by sales team.
    reps: Vec<Vec<Person>>,
    ses: Vec<Person>,
    leads: Vec<Person>,
    pms: Vec<Person>,
    everyone: Vec<Person>,
    /// Each account's domains and owner (an index into `all_reps`).
    accounts: Vec<(Vec<String>, usize)>,
    all_reps: Vec<Person>,
}

const FIRST: [&str; 16] = [
    "Ana", "Raj", "Sara", "Sam", "Eve", "Petra", "Chris", "Lena", "Omar", "Mia", "Jonas", "Ines",
    "Kofi", "Yuki", "Pablo", "Nora",
];
const LAST: [&str; 16] = [
    "Lopez", "Patel", "Kim", "Okafor", "Martin", "Novak", "Berg", "Schmidt", "Haddad", "Rossi",
    "Weber", "Silva", "Mensah", "Tanaka", "Garcia", "Olsen",
];

fn person(i: usize, role: &str) -> Person {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    Person {
        email: format!(
            "{}.{}.{role}{i}@ourco.example",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        name: format!("{first} {last}"),
    }
}

fn write_org(dir: &Path) -> std::io::Result<Org> {
    let mut people = BufWriter::new(std::fs::File::create(dir.join("people.csv"))?);
    writeln!(people, "email,name,role,team,manager_email")?;
    let mut n = 0;
    let mut next = |role: &str| {
        n += 1;
        person(n, role)
    };
    let mut org = Org {
        managers: Vec::new(),
        reps: Vec::new(),
        ses: Vec::new(),
        leads: Vec::new(),
        pms: Vec::new(),
        everyone: Vec::new(),
        accounts: Vec::new(),
        all_reps: Vec::new(),
    };
    for t in 0..SALES_TEAMS {
        let team = format!("Sales {:02}", t + 1);
        let m = next("sm");
        writeln!(people, "{},{},sales_manager,{team},", m.email, m.name)?;
        let mut reps = Vec::new();
        for _ in 0..REPS {
            let r = next("rep");
            writeln!(
                people,
                "{},{},sales_rep,{team},{}",
                r.email, r.name, m.email
            )?;
            reps.push(r);
        }
        for _ in 0..SES {
            let s = next("se");
            writeln!(
                people,
                "{},{},sales_engineer,{team},{}",
                s.email, s.name, m.email
            )?;
            org.ses.push(s);
        }
        org.all_reps.extend(reps.iter().cloned());
        org.reps.push(reps);
        org.managers.push(m);
    }
    for t in 0..PRODUCT_TEAMS {
        let team = format!("Product {}", t + 1);
        let l = next("lead");
        writeln!(people, "{},{},pm_lead,{team},", l.email, l.name)?;
        for _ in 0..PMS {
            let p = next("pm");
            writeln!(people, "{},{},pm,{team},{}", p.email, p.name, l.email)?;
            org.pms.push(p);
        }
        org.leads.push(l);
    }
    for _ in 0..2 {
        let a = next("admin");
        writeln!(people, "{},{},admin,RevOps,", a.email, a.name)?;
    }
    people.flush()?;
    org.everyone = org
        .managers
        .iter()
        .chain(org.all_reps.iter())
        .chain(org.ses.iter())
        .chain(org.leads.iter())
        .chain(org.pms.iter())
        .cloned()
        .collect();

    let mut accounts = BufWriter::new(std::fs::File::create(dir.join("accounts.csv"))?);
    writeln!(accounts, "id,name,domains,owner_email")?;
    let mut rng = Rng(7);
    for a in 0..ACCOUNTS {
        let mut domains = vec![format!("c{a:05}.example")];
        if a % 10 < 3 {
            domains.push(format!("c{a:05}-group.example"));
        }
        let owner = rng.below(org.all_reps.len());
        writeln!(
            accounts,
            "A-{a:05},Customer {a:05} Ltd,\"{}\",{}",
            domains.join(";"),
            org.all_reps[owner].email
        )?;
        org.accounts.push((domains, owner));
    }
    accounts.flush()?;
    Ok(org)
}

/// Writes one content line, folded at 75 octets (RFC 5545 3.1).
fn line(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut limit = 75;
    while bytes.len() - start > limit {
        let mut end = start + limit;
        // Never split a UTF-8 sequence.
        while end > start && (bytes[end] & 0xC0) == 0x80 {
            end -= 1;
        }
        out.extend_from_slice(&bytes[start..end]);
        out.extend_from_slice(b"\r\n ");
        start = end;
        limit = 74;
    }
    out.extend_from_slice(&bytes[start..]);
    out.extend_from_slice(b"\r\n");
}

const VTIMEZONES: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nX-LIC-LOCATION:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nX-LIC-LOCATION:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

/// How an event's times are written: (DTSTART/DTEND parameter, UTC suffix).
const ZONES: [(&str, &str); 5] = [
    (";TZID=Europe/Berlin", ""),
    (";TZID=America/New_York", ""),
    (";TZID=\"W. Europe Standard Time\"", ""),
    (";TZID=Pacific Standard Time", ""),
    ("", "Z"),
];

fn zone(rng: &mut Rng) -> (&'static str, &'static str) {
    match rng.below(100) {
        0..40 => ZONES[0],
        40..60 => ZONES[1],
        60..75 => ZONES[2],
        75..80 => ZONES[3],
        _ => ZONES[4],
    }
}

/// An address as people type them: now and then in Title Case.
fn typed(rng: &mut Rng, email: &str) -> String {
    if rng.chance(10) {
        let (local, host) = email.split_once('@').unwrap_or((email, ""));
        let mut s = String::with_capacity(email.len());
        for (i, part) in local.split('.').enumerate() {
            if i > 0 {
                s.push('.');
            }
            let mut c = part.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        }
        format!("{s}@{}", host.to_uppercase())
    } else {
        email.to_owned()
    }
}

fn attendee(out: &mut Vec<u8>, rng: &mut Rng, name: &str, email: &str, partstat: &str) {
    let mut s = String::with_capacity(160);
    let _ = write!(
        s,
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};CN={name};X-NUM-GUESTS=0:mailto:{}",
        typed(rng, email)
    );
    line(out, &s);
}

struct Event {
    uid: String,
    start: chrono::NaiveDateTime,
    minutes: i64,
    zone: (&'static str, &'static str),
    all_day: bool,
    rrule: Option<String>,
    exdate: Option<chrono::NaiveDateTime>,
    sequence: u32,
    title: String,
    cancelled: bool,
    /// (name, email, partstat), the organiser first.
    people: Vec<(String, String, &'static str)>,
}

fn stamp(t: chrono::NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn write_event(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    e: &Event,
    recurrence_id: Option<chrono::NaiveDateTime>,
) {
    line(out, "BEGIN:VEVENT");
    let (param, z) = e.zone;
    if e.all_day {
        line(
            out,
            &format!("DTSTART;VALUE=DATE:{}", e.start.format("%Y%m%d")),
        );
        line(
            out,
            &format!(
                "DTEND;VALUE=DATE:{}",
                (e.start + Duration::days(1)).format("%Y%m%d")
            ),
        );
    } else {
        line(out, &format!("DTSTART{param}:{}{z}", stamp(e.start)));
        line(
            out,
            &format!(
                "DTEND{param}:{}{z}",
                stamp(e.start + Duration::minutes(e.minutes))
            ),
        );
    }
    line(out, "DTSTAMP:20250101T080000Z");
    if let Some((name, email, _)) = e.people.first() {
        line(
            out,
            &format!("ORGANIZER;CN={name}:mailto:{}", typed(rng, email)),
        );
    }
    if let Some(r) = &e.rrule {
        line(out, &format!("RRULE:{r}"));
    }
    if let Some(x) = e.exdate {
        line(out, &format!("EXDATE{param}:{}{z}", stamp(x)));
    }
    if let Some(r) = recurrence_id {
        line(out, &format!("RECURRENCE-ID{param}:{}{z}", stamp(r)));
    }
    for (name, email, partstat) in &e.people {
        attendee(out, rng, name, email, partstat);
    }
    line(out, &format!("UID:{}", e.uid));
    line(out, "CREATED:20241201T100000Z");
    if rng.chance(30) {
        line(
            out,
            "DESCRIPTION:-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-\\nJoin with Google Meet: https://meet.google.com/abc-defg-hij\\n\\nLearn more about Meet at: https://support.google.com/a/users/answer/9282720",
        );
    }
    line(
        out,
        &format!("LAST-MODIFIED:2025010{}T120000Z", 1 + e.sequence.min(8)),
    );
    line(out, "LOCATION:");
    line(out, &format!("SEQUENCE:{}", e.sequence));
    line(
        out,
        if e.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        },
    );
    line(out, &format!("SUMMARY:{}", e.title));
    line(out, "TRANSP:OPAQUE");
    line(out, "END:VEVENT");
}

fn partstat(rng: &mut Rng) -> &'static str {
    match rng.below(100) {
        0..80 => "ACCEPTED",
        80..88 => "TENTATIVE",
        88..92 => "NEEDS-ACTION",
        _ => "DECLINED",
    }
}

fn make_event(rng: &mut Rng, org: &Org, i: usize, base: NaiveDate) -> Event {
    let day = base + Duration::days(rng.below(446) as i64 - 360);
    let start = day
        .and_hms_opt(8 + rng.below(10) as u32, [0, 15, 30, 45][rng.below(4)], 0)
        .unwrap_or_default();
    let minutes = [30, 45, 60, 90][rng.below(4)];
    let kind = rng.below(100);
    let mut people: Vec<(String, String, &'static str)> = Vec::new();
    let pick = |rng: &mut Rng, list: &[Person]| list[rng.below(list.len())].clone();
    let mut all_day = false;
    let title;
    match kind {
        0..50 => {
            let a = rng.below(org.accounts.len());
            let (domains, owner) = &org.accounts[a];
            let owner = &org.all_reps[*owner];
            let pm = rng.chance(45).then(|| pick(rng, &org.pms));
            let owner_status = if rng.below(12) == 0 {
                "DECLINED"
            } else if rng.chance(10) {
                "TENTATIVE"
            } else {
                "ACCEPTED"
            };
            match &pm {
                Some(p) if rng.chance(30) => {
                    people.push((p.name.clone(), p.email.clone(), "ACCEPTED"));
                    people.push((owner.name.clone(), owner.email.clone(), owner_status));
                }
                _ => {
                    people.push((owner.name.clone(), owner.email.clone(), owner_status));
                    if let Some(p) = &pm {
                        people.push((p.name.clone(), p.email.clone(), partstat(rng)));
                    }
                }
            }
            if rng.chance(20) {
                let se = pick(rng, &org.ses);
                people.push((se.name.clone(), se.email.clone(), partstat(rng)));
            }
            for c in 0..1 + rng.below(3) {
                let domain = match (rng.below(10), domains.get(1)) {
                    (0, _) => format!("eu.{}", domains[0]),
                    (1 | 2, Some(second)) => second.clone(),
                    _ => domains[0].clone(),
                };
                people.push((
                    format!("Buyer {c}"),
                    format!("buyer{c}.{}@{domain}", rng.below(40)),
                    partstat(rng),
                ));
            }
            title = format!(
                "{} with Customer {a:05}",
                [
                    "Discovery call",
                    "Roadmap briefing",
                    "QBR",
                    "Demo",
                    "Pricing call",
                    "Workshop"
                ][rng.below(6)]
            );
        }
        50..80 => {
            for _ in 0..2 + rng.below(5) {
                let p = pick(rng, &org.everyone);
                people.push((p.name, p.email, partstat(rng)));
            }
            title = ["Team sync", "1:1", "Pipeline review", "Planning", "Standup"][rng.below(5)]
                .to_owned();
        }
        80..90 => {
            let p = pick(rng, &org.everyone);
            people.push((p.name, p.email, "ACCEPTED"));
            let k = rng.below(200);
            people.push((
                "Partner".into(),
                format!("alliances@partner{k}.example"),
                partstat(rng),
            ));
            title = format!("Partner {k} sync");
        }
        90..95 => {
            for _ in 0..2 {
                let a = rng.below(org.accounts.len());
                people.push((
                    "Customer".into(),
                    format!("it@{}", org.accounts[a].0[0]),
                    "ACCEPTED",
                ));
            }
            title = "Forwarded invitation".to_owned();
        }
        _ => {
            all_day = true;
            let p = pick(rng, &org.everyone);
            people.push((p.name, p.email, "ACCEPTED"));
            title = ["Offsite", "Out of office", "Conference"][rng.below(3)].to_owned();
        }
    }
    let recurring = !all_day && rng.chance(4);
    let rrule = recurring.then(|| {
        if rng.chance(50) {
            format!("FREQ=WEEKLY;COUNT={}", 4 + rng.below(9))
        } else {
            let until = start + Duration::weeks(2 * (2 + rng.below(6) as i64));
            format!("FREQ=WEEKLY;INTERVAL=2;UNTIL={}Z", stamp(until))
        }
    });
    let exdate = (recurring && rng.chance(33)).then(|| {
        let step = if rrule.as_deref().is_some_and(|r| r.contains("INTERVAL=2")) {
            2
        } else {
            1
        };
        start + Duration::weeks(step)
    });
    Event {
        uid: format!("{i:08x}-{:06x}@google.com", rng.next() & 0xff_ffff),
        start,
        minutes,
        zone: zone(rng),
        all_day,
        rrule,
        exdate,
        sequence: rng.below(3) as u32,
        title,
        cancelled: rng.chance(3),
        people,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: OUT_DIR EVENTS [BASE_DATE]")?);
    let n: usize = args
        .next()
        .ok_or("usage: OUT_DIR EVENTS [BASE_DATE]")?
        .parse()?;
    let base = match args.next() {
        Some(d) => d.parse::<NaiveDate>()?,
        None => chrono::Utc::now().date_naive(),
    };
    std::fs::create_dir_all(dir.join("crm"))?;
    let org = write_org(&dir.join("crm"))?;

    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("calendar.ics"))?);
    w.write_all(b"BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:bench@ourco.example\r\nX-WR-TIMEZONE:Europe/Berlin\r\n")?;
    w.write_all(VTIMEZONES.as_bytes())?;
    let mut rng = Rng(42);
    // Overrides and re-sent copies go to the end of the file, as exports
    // that append changes write them.
    let mut tail: Vec<(Event, Option<chrono::NaiveDateTime>)> = Vec::new();
    let mut buf = Vec::with_capacity(4096);
    let mut written = 0usize;
    let mut i = 0usize;
    while written < n {
        let e = make_event(&mut rng, &org, i, base);
        i += 1;
        buf.clear();
        write_event(&mut buf, &mut rng, &e, None);
        w.write_all(&buf)?;
        written += 1;
        if e.rrule.is_some() && rng.chance(25) && written + tail.len() < n {
            // The third occurrence moved by a day, with a new title.
            let step = if e.rrule.as_deref().is_some_and(|r| r.contains("INTERVAL=2")) {
                2
            } else {
                1
            };
            let original = e.start + Duration::weeks(2 * step);
            let moved = Event {
                start: original + Duration::days(1),
                rrule: None,
                exdate: None,
                sequence: e.sequence + 1,
                title: format!("{} (moved)", e.title),
                people: e.people.clone(),
                uid: e.uid.clone(),
                ..e
            };
            tail.push((moved, Some(original)));
        } else if e.rrule.is_none() && rng.per_mille(5) && written + tail.len() < n {
            let resent = Event {
                sequence: e.sequence + 1,
                title: format!("{} (updated)", e.title),
                rrule: None,
                exdate: None,
                uid: e.uid.clone(),
                people: e.people.clone(),
                ..e
            };
            tail.push((resent, None));
        }
        if written + tail.len() >= n {
            break;
        }
    }
    for (e, recurrence_id) in &tail {
        buf.clear();
        write_event(&mut buf, &mut rng, e, *recurrence_id);
        w.write_all(&buf)?;
    }
    w.write_all(b"END:VCALENDAR\r\n")?;
    w.flush()?;
    let total = written + tail.len();
    let size = std::fs::metadata(dir.join("calendar.ics"))?.len();
    println!(
        "{}: {} people, {ACCOUNTS} accounts, {total} events ({} overrides and re-sent copies), {:.1} MB; window {} to {}",
        dir.display(),
        org.everyone.len() + 2,
        tail.len(),
        size as f64 / 1e6,
        base - Duration::days(365),
        base + Duration::days(90)
    );
    Ok(())
}
