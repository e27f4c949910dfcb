//! Computing every signal of the default playbook over a large database:
//! a generator writes an organisation and its history through the storage
//! interface (so the roll-ups are kept as in production), then the signals
//! for the last day are computed repeatedly and timed.
//!
//! Shapes:
//! - `history-10k` and `history-1M`: the same organisation and the same
//!   activity a day (111 meetings, 11 requests), over 90 days and over
//!   24 years of history: the window's content is the same, the history
//!   100× larger. The time must grow ≤ 3×: the signals do not rescan
//!   history.
//! - `dense-1M`: 1,000,000 meetings and 100,000 requests over two years —
//!   123,000 meetings in the 90-day window. Target ≤ 200 ms on SQLite.
//!
//! Every shape runs on SQLite and, when reachable, PostgreSQL
//! (`ACCORD_BENCH_ENGINES=sqlite` skips it); the values of both engines
//! must be equal.
//!
//! Run: `bench/signals.sh` (or `cargo bench -p accord-service --bench
//! signals`; `ACCORD_BENCH_SHAPES=history-10k,dense-1M` picks shapes).

// Bench code may unwrap: a failure is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use accord_domain::access::{AccessPurpose, AccessRequest, AccessState};
use accord_domain::account::{Account, Opportunity};
use accord_domain::commitment::{Commitment, CommitmentKind, CommitmentState};
use accord_domain::id::*;
use accord_domain::meeting::{Attendee, Meeting, MeetingSource, ResponseStatus};
use accord_domain::people::{Person, Role, Team, TeamKind};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::request::{EngagementRequest, Purpose, RequestState};
use accord_domain::rules::{Decision, Effect, RuleMatch};
use accord_domain::signal::SignalValue;
use accord_service::{FixedClock, Service, Settings};
use accord_store::{ContactFlags, DecisionRecord, Store, StoredMeeting};
use accord_testkit::TestDb;
use accord_testkit::fixtures::person;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[derive(Clone, Copy, Debug)]
struct Shape {
    name: &'static str,
    meetings: usize,
    requests: usize,
    days: i64,
}

const SHAPES: [Shape; 3] = [
    Shape {
        name: "history-10k",
        meetings: 10_000,
        requests: 1_000,
        days: 90,
    },
    Shape {
        name: "history-1M",
        meetings: 1_000_000,
        requests: 100_000,
        days: 9_000,
    },
    Shape {
        name: "dense-1M",
        meetings: 1_000_000,
        requests: 100_000,
        days: 730,
    },
];

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

/// The organisation: 2 PM teams of 10 PMs and a lead, 4 sales teams of 12
/// reps, 2 sales engineers and a manager; 2,000 accounts owned by the
/// reps, 4,000 opportunities across the stages.
struct Org {
    teams: Vec<Team>,
    people: Vec<Person>,
    pms: Vec<PersonId>,
    reps: Vec<PersonId>,
    accounts: Vec<Account>,
    opportunities: Vec<Opportunity>,
    /// Per rep, how often they attend their accounts' PM meetings and deny
    /// access: most are good citizens, a few are not.
    attend: Vec<f64>,
    deny: Vec<f64>,
}

fn org(rng: &mut StdRng) -> Org {
    let mut teams = Vec::new();
    let mut people = Vec::new();
    let mut pms = Vec::new();
    let mut reps = Vec::new();
    for t in 0..2 {
        let mut team = Team {
            id: TeamId::new(),
            name: format!("PM team {t}"),
            kind: TeamKind::Product,
            lead: None,
        };
        let lead = person(
            &format!("pm.lead{t}@example.com"),
            Role::PmLead,
            Some(team.id),
        );
        team.lead = Some(lead.id);
        for i in 0..10 {
            let mut p = person(&format!("pm{t}.{i}@example.com"), Role::Pm, Some(team.id));
            p.manager = Some(lead.id);
            pms.push(p.id);
            people.push(p);
        }
        people.push(lead);
        teams.push(team);
    }
    for t in 0..4 {
        let mut team = Team {
            id: TeamId::new(),
            name: format!("Sales team {t}"),
            kind: TeamKind::Sales,
            lead: None,
        };
        let manager = person(
            &format!("manager{t}@example.com"),
            Role::SalesManager,
            Some(team.id),
        );
        team.lead = Some(manager.id);
        for i in 0..12 {
            let mut p = person(
                &format!("rep{t}.{i}@example.com"),
                Role::SalesRep,
                Some(team.id),
            );
            p.manager = Some(manager.id);
            reps.push(p.id);
            people.push(p);
        }
        for i in 0..2 {
            people.push(person(
                &format!("se{t}.{i}@example.com"),
                Role::SalesEngineer,
                Some(team.id),
            ));
        }
        people.push(manager);
        teams.push(team);
    }
    let accounts: Vec<Account> = (0..2_000)
        .map(|i| Account {
            id: AccountId::new(),
            name: format!("Customer {i}"),
            domains: vec![Domain::parse(&format!("customer{i}.com")).unwrap()],
            owner: Some(reps[i % reps.len()]),
            external: None,
        })
        .collect();
    let stages = [
        "qualification",
        "discovery",
        "solution",
        "proposal",
        "negotiation",
        "closed-won",
    ];
    let opportunities = (0..4_000)
        .map(|i| {
            let a = &accounts[i % accounts.len()];
            Opportunity {
                id: OpportunityId::new(),
                account: a.id,
                name: format!("{} deal {i}", a.name),
                stage: StageId::parse(stages[rng.random_range(0..stages.len())]).unwrap(),
                amount: Some(50_000.0),
                owner: a.owner,
                created_at: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
                close_date: None,
                external: None,
            }
        })
        .collect();
    let attend = (0..reps.len())
        .map(|i| if i % 11 == 3 { 0.55 } else { 0.95 })
        .collect();
    let deny = (0..reps.len())
        .map(|i| if i % 13 == 5 { 0.6 } else { 0.05 })
        .collect();
    Org {
        teams,
        people,
        pms,
        reps,
        accounts,
        opportunities,
        attend,
        deny,
    }
}

/// A time on day `d` of `days` ending with `as_of`, within office hours.
fn time_on(days: i64, d: i64, rng: &mut StdRng) -> DateTime<Utc> {
    let first = as_of() - Duration::days(days - 1);
    (first + Duration::days(d))
        .and_hms_opt(rng.random_range(7..18), rng.random_range(0..4) * 15, 0)
        .unwrap()
        .and_utc()
}

fn decision(record: RecordRef, rule: &str, effect: Effect, at: DateTime<Utc>) -> DecisionRecord {
    DecisionRecord {
        id: DecisionId::new(),
        record,
        decision: Decision {
            kind: record.kind,
            effect,
            matched: vec![RuleMatch {
                rule: RuleId::parse(rule).unwrap(),
                effect,
                applied: effect,
                message: String::new(),
                cites: None,
                excepted: false,
                approver: None,
            }],
        },
        playbook_version: Some(1),
        at,
    }
}

async fn write_org(store: &dyn Store, org: &Org) {
    let mut tx = store.write().await.unwrap();
    for t in &org.teams {
        tx.put_team(&Team {
            lead: None,
            ..t.clone()
        })
        .await
        .unwrap();
    }
    for p in &org.people {
        tx.upsert_person(&Person {
            manager: None,
            ..p.clone()
        })
        .await
        .unwrap();
    }
    for p in &org.people {
        tx.upsert_person(p).await.unwrap();
    }
    for t in &org.teams {
        tx.put_team(t).await.unwrap();
    }
    for a in &org.accounts {
        tx.upsert_account(a).await.unwrap();
    }
    for o in &org.opportunities {
        tx.upsert_opportunity(o).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Writes the shape's meetings (with their owner-present violations),
/// requests (with ambush decisions), access requests and commitments.
async fn generate(store: &dyn Store, shape: Shape, seed: u64) -> Org {
    let mut rng = StdRng::seed_from_u64(seed);
    let org = org(&mut rng);
    write_org(store, &org).await;
    let email_of = |p: PersonId| {
        org.people
            .iter()
            .find(|x| x.id == p)
            .map(|x| x.email.clone())
            .unwrap()
    };
    let pm_emails: Vec<Email> = org.pms.iter().map(|p| email_of(*p)).collect();
    let rep_index = |p: PersonId| org.reps.iter().position(|r| *r == p).unwrap();

    let batch = 5_000;
    let mut done = 0;
    while done < shape.meetings {
        let n = batch.min(shape.meetings - done);
        let mut ms = Vec::with_capacity(n);
        let mut ds = Vec::new();
        for i in done..done + n {
            let d = (i as i64 * shape.days) / shape.meetings as i64;
            let start = time_on(shape.days, d, &mut rng);
            let a = &org.accounts[rng.random_range(0..org.accounts.len())];
            let owner = a.owner.unwrap();
            let r = rep_index(owner);
            let with_pm = rng.random_bool(0.6);
            let pm = rng.random_range(0..org.pms.len());
            let owner_present = rng.random_bool(org.attend[r]);
            let mut attendees = vec![Attendee {
                email: Email::parse(&format!("buyer{}@{}", rng.random_range(0..5), a.domains[0]))
                    .unwrap(),
                person: None,
                response: ResponseStatus::Accepted,
                organizer: false,
            }];
            if with_pm {
                attendees.push(Attendee {
                    email: pm_emails[pm].clone(),
                    person: Some(org.pms[pm]),
                    response: ResponseStatus::Accepted,
                    organizer: true,
                });
            }
            attendees.push(Attendee {
                email: email_of(owner),
                person: Some(owner),
                response: if owner_present {
                    ResponseStatus::Accepted
                } else {
                    ResponseStatus::Declined
                },
                organizer: !with_pm,
            });
            let id = MeetingId::new();
            if with_pm && !owner_present {
                ds.push(decision(
                    RecordRef {
                        kind: RecordKind::Meeting,
                        id: id.0,
                    },
                    "owner-present",
                    Effect::Deny,
                    start,
                ));
            }
            ms.push(StoredMeeting {
                meeting: Meeting {
                    id,
                    account: Some(a.id),
                    title: format!("Call {i}"),
                    starts_at: start,
                    ends_at: start + Duration::minutes(45),
                    source: MeetingSource::Calendar {
                        uid: format!("evt-{i}@bench"),
                        occurrence: start.to_rfc3339(),
                    },
                    attendees,
                    request: None,
                },
                flags: ContactFlags {
                    owner: Some(owner),
                    owner_present,
                    pm_count: i64::from(with_pm),
                    customer_count: 1,
                    internal_count: i64::from(with_pm) + i64::from(owner_present),
                },
                cal_sequence: Some(0),
                cal_modified: None,
            });
        }
        let mut tx = store.write().await.unwrap();
        tx.insert_meetings(&ms).await.unwrap();
        tx.insert_decisions(&ds).await.unwrap();
        tx.commit().await.unwrap();
        done += n;
    }

    let types = [
        "roadmap-briefing",
        "vision-presentation",
        "discovery-call",
        "solution-review",
        "demo",
        "pricing",
        "executive-briefing",
        "rfp-section",
    ];
    let mut done = 0;
    while done < shape.requests {
        let n = batch.min(shape.requests - done);
        let mut tx = store.write().await.unwrap();
        let mut ds = Vec::new();
        for i in done..done + n {
            let d = (i as i64 * shape.days) / shape.requests as i64;
            let created = time_on(shape.days, d, &mut rng);
            let o = &org.opportunities[rng.random_range(0..org.opportunities.len())];
            let short_notice = rng.random_bool(0.12);
            let finished = rng.random_bool(0.6)
                && created + Duration::days(5)
                    < (as_of() + Duration::days(1))
                        .and_hms_opt(0, 0, 0)
                        .unwrap()
                        .and_utc();
            let r = EngagementRequest {
                id: RequestId::new(),
                opportunity: o.id,
                account: o.account,
                requester: o.owner.unwrap(),
                pm: Some(org.pms[rng.random_range(0..org.pms.len())]),
                engagement_type: EngagementTypeId::parse(types[rng.random_range(0..types.len())])
                    .unwrap(),
                purpose: Purpose::Direction,
                briefing: "Where the product is going.".into(),
                needed_at: created + Duration::days(if short_notice { 1 } else { 10 }),
                created_at: created,
                state: if finished {
                    RequestState::Done
                } else {
                    RequestState::Accepted
                },
                scheduled_at: None,
                reason: None,
                redirect: None,
                redirected_from: None,
                outcome: finished.then(|| "Done.".into()),
                hours: finished.then(|| f64::from(rng.random_range(1..8))),
                completed_at: finished.then(|| created + Duration::days(5)),
            };
            if short_notice {
                ds.push(decision(
                    RecordRef {
                        kind: RecordKind::Request,
                        id: r.id.0,
                    },
                    "no-ambush",
                    Effect::Warn,
                    created,
                ));
            }
            tx.insert_request(&r).await.unwrap();
            // An access request for every five requests; a commitment for
            // every ten.
            if i % 5 == 0 {
                let a = &org.accounts[rng.random_range(0..org.accounts.len())];
                let owner = a.owner.unwrap();
                let denied = rng.random_bool(org.deny[rep_index(owner)]);
                tx.insert_access(&AccessRequest {
                    id: AccessRequestId::new(),
                    pm: org.pms[rng.random_range(0..org.pms.len())],
                    account: a.id,
                    owner: Some(owner),
                    purpose: AccessPurpose::Discovery,
                    agenda: "Discovery.".into(),
                    wanted_at: None,
                    created_at: created,
                    state: if denied {
                        AccessState::Denied
                    } else {
                        AccessState::Granted
                    },
                    conditions: None,
                    reason: None,
                    answered_by: Some(owner),
                    answered_at: Some(created + Duration::hours(20)),
                })
                .await
                .unwrap();
            }
            if i % 10 == 0 {
                let a = &org.accounts[rng.random_range(0..org.accounts.len())];
                tx.insert_commitment(&Commitment {
                    id: CommitmentId::new(),
                    account: a.id,
                    meeting: None,
                    kind: CommitmentKind::Feature,
                    text: "Exports next quarter.".into(),
                    to_whom: "CIO".into(),
                    said_by: org.pms[rng.random_range(0..org.pms.len())],
                    present: vec![],
                    said_at: created,
                    state: [
                        CommitmentState::Approved,
                        CommitmentState::Pending,
                        CommitmentState::Rejected,
                    ][rng.random_range(0..3)],
                    decided_by: None,
                    decided_at: None,
                    decision_note: None,
                })
                .await
                .unwrap();
            }
        }
        tx.insert_decisions(&ds).await.unwrap();
        tx.commit().await.unwrap();
        done += n;
    }
    org
}

/// Median and minimum of `runs` computations of every signal.
async fn time(service: &Service, runs: usize) -> (StdDuration, StdDuration, Vec<SignalValue>) {
    let mut times = Vec::with_capacity(runs);
    let mut values = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        values = service.compute_signals(as_of(), None).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times[0], values)
}

/// Where the time goes: each window query once, in milliseconds.
async fn breakdown(store: &dyn Store) -> String {
    let (first, last, start, end) = accord_store::rollup::window(as_of(), 90);
    let mut tx = store.read().await.unwrap();
    let mut out = Vec::new();
    let t = Instant::now();
    tx.contact_aggregates(first, last).await.unwrap();
    out.push(("contacts", t.elapsed()));
    let t = Instant::now();
    tx.done_requests(start, end).await.unwrap();
    out.push(("done", t.elapsed()));
    let t = Instant::now();
    tx.created_requests(start, end, "no-ambush").await.unwrap();
    out.push(("created", t.elapsed()));
    let t = Instant::now();
    tx.answered_access(start, end).await.unwrap();
    out.push(("access", t.elapsed()));
    let t = Instant::now();
    tx.commitments_made(start, end).await.unwrap();
    out.push(("commitments", t.elapsed()));
    let t = Instant::now();
    tx.rule_aggregates(start, end).await.unwrap();
    out.push(("rules", t.elapsed()));
    out.iter()
        .map(|(n, d)| format!("{n} {:.1}", d.as_secs_f64() * 1e3))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn run(db: TestDb, shape: Shape, runs: usize) -> (StdDuration, Vec<SignalValue>) {
    let started = Instant::now();
    generate(db.store().as_ref(), shape, 7).await;
    let generated = started.elapsed();
    let clock = Arc::new(FixedClock::at(
        (as_of() + Duration::days(1))
            .and_hms_opt(6, 0, 0)
            .unwrap()
            .and_utc(),
    ));
    let service = Service::open(db.store(), clock, Settings::default())
        .await
        .unwrap();
    let (median, min, values) = time(&service, runs).await;
    println!(
        "{:<12} {:<9} {:>9} meetings {:>7} requests  generated in {:>6.1} s  every signal: median {:>7.1} ms, min {:>7.1} ms ({} values)",
        shape.name,
        db.engine().to_string(),
        shape.meetings,
        shape.requests,
        generated.as_secs_f64(),
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        values.len()
    );
    println!(
        "{:<12} {:<9} queries (ms): {}",
        shape.name,
        db.engine().to_string(),
        breakdown(db.store().as_ref()).await
    );
    // Keep a copy of the SQLite database to look into (ACCORD_BENCH_COPY=DIR).
    if let (Ok(dir), accord_store::EngineKind::Sqlite) =
        (std::env::var("ACCORD_BENCH_COPY"), db.engine())
    {
        let path = format!("{dir}/{}.db", shape.name);
        let _ = std::fs::remove_file(&path);
        db.execute(&format!("VACUUM INTO '{path}'")).await;
        println!("{:<12} copied to {path}", shape.name);
    }
    db.finish().await;
    (median, values)
}

/// The values, in a comparable order, rounded against float summation
/// order differences between engines.
fn normalised(mut v: Vec<SignalValue>) -> Vec<(String, String, String, i64, i64, String)> {
    v.sort_by(|a, b| (a.signal.as_str(), &a.subject).cmp(&(b.signal.as_str(), &b.subject)));
    v.into_iter()
        .map(|x| {
            (
                x.signal.to_string(),
                x.subject_kind,
                x.subject,
                (x.numerator * 1e6).round() as i64,
                (x.denominator * 1e6).round() as i64,
                format!("{:?}", x.status),
            )
        })
        .collect()
}

fn main() {
    // `cargo test --benches` runs benches without --bench: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let wanted: Option<Vec<String>> = std::env::var("ACCORD_BENCH_SHAPES")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let shapes: Vec<Shape> = if quick {
        vec![Shape {
            name: "quick",
            meetings: 2_000,
            requests: 200,
            days: 90,
        }]
    } else {
        SHAPES
            .iter()
            .copied()
            .filter(|s| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.iter().any(|n| n == s.name))
            })
            .collect()
    };
    let runs = if quick { 3 } else { 25 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut sqlite_times = Vec::new();
        for shape in shapes {
            let (t, lite) = run(TestDb::sqlite().await, shape, runs).await;
            sqlite_times.push((shape.name, t));
            let postgres =
                std::env::var("ACCORD_BENCH_ENGINES").map_or(true, |e| e.contains("postgres"));
            match if postgres {
                TestDb::postgres().await
            } else {
                None
            } {
                Some(db) => {
                    let (_, pg) = run(db, shape, runs).await;
                    assert_eq!(
                        normalised(lite),
                        normalised(pg),
                        "{}: SQLite and PostgreSQL disagree",
                        shape.name
                    );
                    println!("{:<12} same values on both engines", shape.name);
                }
                None => println!("{:<12} postgres skipped", shape.name),
            }
        }
        let find = |n: &str| {
            sqlite_times
                .iter()
                .find(|(s, _)| *s == n)
                .map(|(_, t)| t.as_secs_f64())
        };
        if let (Some(small), Some(large)) = (find("history-10k"), find("history-1M")) {
            println!(
                "growth from 10k to 1M meetings of history on SQLite: {:.2}× (target ≤ 3×)",
                large / small
            );
        }
    });
}
