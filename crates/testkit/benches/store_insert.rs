//! Insert throughput of meetings with attendees, in batched transactions,
//! on both engines.
//!
//! Run: `cargo bench -p accord-testkit --bench store_insert`
//! (`ACCORD_BENCH_MEETINGS=N` to change the count; PostgreSQL at
//! `ACCORD_TEST_POSTGRES_URL` or 127.0.0.1:5432). Target on SQLite:
//! ≥ 100,000 meetings/s.

// Bench code may unwrap: a failure is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use accord_domain::id::{Email, MeetingId};
use accord_domain::meeting::{Attendee, Meeting, MeetingSource, ResponseStatus};
use accord_store::{ContactFlags, StoredMeeting};
use accord_testkit::TestDb;
use accord_testkit::fixtures::{Org, t0};
use chrono::Duration;

fn batch() -> usize {
    std::env::var("ACCORD_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000)
}

fn meetings(org: &Org, n: usize) -> Vec<StoredMeeting> {
    let customers: Vec<Email> = (0..50)
        .map(|i| Email::parse(&format!("buyer{i}@acme.com")).unwrap())
        .collect();
    (0..n)
        .map(|i| {
            let start = t0() + Duration::minutes(30 * i as i64);
            StoredMeeting {
                meeting: Meeting {
                    id: MeetingId::new(),
                    account: Some(org.account.id),
                    title: format!("Customer call {i}"),
                    starts_at: start,
                    ends_at: start + Duration::minutes(45),
                    source: MeetingSource::Calendar {
                        uid: format!("evt-{i}@bench"),
                        occurrence: start.to_rfc3339(),
                    },
                    attendees: vec![
                        Attendee {
                            email: org.pm.email.clone(),
                            person: Some(org.pm.id),
                            response: ResponseStatus::Accepted,
                            organizer: true,
                        },
                        Attendee {
                            email: org.rep.email.clone(),
                            person: Some(org.rep.id),
                            response: if i % 5 == 0 {
                                ResponseStatus::Declined
                            } else {
                                ResponseStatus::Accepted
                            },
                            organizer: false,
                        },
                        Attendee {
                            email: customers[i % 50].clone(),
                            person: None,
                            response: ResponseStatus::Accepted,
                            organizer: false,
                        },
                        Attendee {
                            email: customers[(i + 7) % 50].clone(),
                            person: None,
                            response: ResponseStatus::Tentative,
                            organizer: false,
                        },
                    ],
                    request: None,
                },
                flags: ContactFlags {
                    owner: Some(org.rep.id),
                    owner_present: i % 5 != 0,
                    pm_count: 1,
                    customer_count: 2,
                    internal_count: 2,
                },
                cal_sequence: Some(0),
                cal_modified: None,
            }
        })
        .collect()
}

async fn run(db: TestDb, n: usize) {
    let org = Org::new();
    org.store(db.store().as_ref()).await;
    let data = meetings(&org, n);
    let store = db.store();
    let started = Instant::now();
    for batch in data.chunks(batch()) {
        let mut tx = store.write().await.unwrap();
        tx.insert_meetings(batch).await.unwrap();
        tx.commit().await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:<9} {n:>9} meetings × 4 attendees in {secs:>6.2} s = {:>9.0} meetings/s ({} a transaction)",
        db.engine().to_string(),
        n as f64 / secs,
        batch()
    );
    db.finish().await;
}

fn main() {
    // `cargo test --benches` runs benches with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("ACCORD_BENCH_MEETINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2_000 } else { 200_000 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run(TestDb::sqlite().await, n).await;
        match TestDb::postgres().await {
            Some(db) => run(db, n).await,
            None => println!("postgres  skipped: not reachable"),
        }
    });
}
