//! The Store interface, on both engines.

use accord_domain::Playbook;
use accord_domain::access::{AccessPurpose, AccessRequest, AccessState};
use accord_domain::charter::{
    Acknowledgment, Charter, CharterComment, CharterState, CharterVersion, Endorsement,
};
use accord_domain::commitment::{Commitment, CommitmentKind, CommitmentState};
use accord_domain::exception::{Exception, ExceptionState};
use accord_domain::id::*;
use accord_domain::insight::{Insight, InsightKind};
use accord_domain::meeting::{Attendee, Meeting, MeetingSource, ResponseStatus};
use accord_domain::people::{Person, Role, Team};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::request::{EngagementRequest, Purpose, RequestState, StateChange};
use accord_domain::rules::input::{Input, MeetingInput};
use accord_domain::rules::{Decision, Effect, RuleMatch};
use accord_domain::signal::{Alert, AlertState, Review, ReviewOutcome, SignalStatus, SignalValue};
use accord_store::*;
use accord_testkit::fixtures::{Org, person, t0};
use accord_testkit::{TestDb, on_both_engines};
use chrono::Duration;

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

async fn seeded(db: &TestDb) -> Org {
    let org = Org::new();
    org.store(db.store().as_ref()).await;
    org
}

fn request(org: &Org) -> EngagementRequest {
    EngagementRequest {
        id: RequestId::new(),
        opportunity: org.opportunity.id,
        account: org.account.id,
        requester: org.rep.id,
        pm: Some(org.pm.id),
        engagement_type: EngagementTypeId::parse("roadmap-briefing").unwrap(),
        purpose: Purpose::Direction,
        briefing: "They want to know where reporting is going.".into(),
        needed_at: t0() + Duration::days(7),
        created_at: t0(),
        state: RequestState::Requested,
        scheduled_at: None,
        reason: None,
        redirect: None,
        redirected_from: None,
        outcome: None,
        hours: None,
        completed_at: None,
    }
}

fn calendar_meeting(org: &Org, uid: &str, seq: i64, title: &str) -> StoredMeeting {
    StoredMeeting {
        meeting: Meeting {
            id: MeetingId::new(),
            account: Some(org.account.id),
            title: title.into(),
            starts_at: t0(),
            ends_at: t0() + Duration::hours(1),
            source: MeetingSource::Calendar {
                uid: uid.into(),
                occurrence: t0().to_rfc3339(),
            },
            attendees: vec![
                Attendee {
                    email: email("buyer@acme.com"),
                    person: None,
                    response: ResponseStatus::Accepted,
                    organizer: false,
                },
                Attendee {
                    email: org.pm.email.clone(),
                    person: Some(org.pm.id),
                    response: ResponseStatus::Accepted,
                    organizer: true,
                },
                Attendee {
                    email: org.rep.email.clone(),
                    person: Some(org.rep.id),
                    response: ResponseStatus::Declined,
                    organizer: false,
                },
            ],
            request: None,
        },
        flags: ContactFlags {
            owner: Some(org.rep.id),
            owner_present: false,
            pm_count: 1,
            customer_count: 1,
            internal_count: 1,
        },
        cal_sequence: Some(seq),
        cal_modified: None,
    }
}

// ---------------------------------------------------------------------------

async fn migrations_are_idempotent(db: &TestDb) {
    let again = match db.engine() {
        EngineKind::Sqlite => accord_store_sqlite::open(db.url()).await.unwrap().applied,
        EngineKind::Postgres => accord_store_postgres::open(db.url()).await.unwrap().applied,
    };
    assert!(again.is_empty(), "a second migration applied {again:?}");
    db.store().ping().await.unwrap();
}

async fn org_round_trips(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.get_person(org.pm.id).await.unwrap(), org.pm);
    assert_eq!(
        tx.person_by_email(&org.rep.email).await.unwrap().unwrap(),
        org.rep
    );
    assert_eq!(tx.get_team(org.pm_team.id).await.unwrap(), org.pm_team);
    assert_eq!(
        tx.team_by_name("EMEA Enterprise").await.unwrap().unwrap(),
        org.sales_team
    );
    let mut acct = org.account.clone();
    acct.domains.sort();
    assert_eq!(tx.get_account(org.account.id).await.unwrap(), acct);
    assert_eq!(
        tx.get_opportunity(org.opportunity.id).await.unwrap(),
        org.opportunity
    );
    // Many at once: those that exist, with their domains; unknown ids and
    // repeats change nothing.
    assert_eq!(
        tx.accounts_by_ids(&[AccountId::new(), org.account.id, org.account.id])
            .await
            .unwrap(),
        vec![acct.clone()]
    );
    assert!(tx.accounts_by_ids(&[]).await.unwrap().is_empty());
    assert_eq!(
        tx.opportunities_by_ids(&[org.opportunity.id, OpportunityId::new(), org.opportunity.id])
            .await
            .unwrap(),
        vec![org.opportunity.clone()]
    );
    assert!(
        tx.opportunities_by_ids(&[OpportunityId::new()])
            .await
            .unwrap()
            .is_empty()
    );
    // Subdomains find their account; lookalikes do not.
    assert_eq!(
        tx.account_by_host("eu.ACME.com").await.unwrap().unwrap().id,
        org.account.id
    );
    assert_eq!(
        tx.account_by_host("acme-corp.de")
            .await
            .unwrap()
            .unwrap()
            .id,
        org.account.id
    );
    assert!(tx.account_by_host("notacme.com").await.unwrap().is_none());
    assert_eq!(
        tx.person_directory().await.unwrap().len(),
        org.people().len()
    );
    assert_eq!(tx.account_directory().await.unwrap().len(), 1);
}

async fn not_found_is_not_found(db: &TestDb) {
    let store = db.store();
    let mut tx = store.read().await.unwrap();
    assert!(matches!(
        tx.get_person(PersonId::new()).await,
        Err(StoreError::NotFound { what: "person", .. })
    ));
    assert!(matches!(
        tx.get_request(RequestId::new()).await,
        Err(StoreError::NotFound {
            what: "request",
            ..
        })
    ));
    assert!(matches!(
        tx.get_meeting(MeetingId::new()).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        tx.get_playbook_version(9).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        tx.person_by_email(&email("nobody@example.com"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn unique_violations_are_conflicts(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();

    // A second team with the same name.
    let mut tx = store.write().await.unwrap();
    let dup = Team {
        id: TeamId::new(),
        ..org.pm_team.clone()
    };
    assert!(matches!(
        tx.put_team(&dup).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    // A domain that belongs to another account.
    let mut tx = store.write().await.unwrap();
    let other = accord_domain::account::Account {
        id: AccountId::new(),
        name: "Acme Imposter".into(),
        domains: vec![Domain::parse("acme.com").unwrap()],
        owner: None,
        external: None,
    };
    match tx.upsert_account(&other).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("acme.com"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    drop(tx);

    // The same email from another CRM record.
    let mut tx = store.write().await.unwrap();
    let mut a = person("dup@example.com", Role::Pm, None);
    a.external = Some(ExternalRef {
        source: "salesforce".into(),
        id: "005A".into(),
    });
    tx.upsert_person(&a).await.unwrap();
    let mut b = person("dup@example.com", Role::Pm, None);
    b.external = Some(ExternalRef {
        source: "salesforce".into(),
        id: "005B".into(),
    });
    assert!(matches!(
        tx.upsert_person(&b).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn upserts_are_idempotent(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let mut tx = store.write().await.unwrap();
    // The same records again: nothing changes.
    for p in org.people() {
        assert_eq!(
            tx.upsert_person(p).await.unwrap(),
            (p.id, Upserted::Unchanged)
        );
    }
    let mut reordered = org.account.clone();
    reordered.domains.reverse();
    assert_eq!(
        tx.upsert_account(&reordered).await.unwrap(),
        (org.account.id, Upserted::Unchanged)
    );
    assert_eq!(
        tx.upsert_opportunity(&org.opportunity).await.unwrap(),
        (org.opportunity.id, Upserted::Unchanged)
    );
    assert_eq!(
        tx.put_team(&org.pm_team).await.unwrap(),
        Upserted::Unchanged
    );

    // Matched by external id, a changed name is an update that keeps the id.
    let mut p = person("ext@example.com", Role::SalesRep, None);
    p.external = Some(ExternalRef {
        source: "hubspot".into(),
        id: "42".into(),
    });
    let (id, how) = tx.upsert_person(&p).await.unwrap();
    assert_eq!(how, Upserted::Inserted);
    let renamed = Person {
        id: PersonId::new(),
        name: "Ext Renamed".into(),
        ..p.clone()
    };
    assert_eq!(
        tx.upsert_person(&renamed).await.unwrap(),
        (id, Upserted::Updated)
    );
    assert_eq!(
        tx.upsert_person(&renamed).await.unwrap(),
        (id, Upserted::Unchanged)
    );

    // Domains changed: an update.
    let mut a = org.account.clone();
    a.domains.push(Domain::parse("acme.io").unwrap());
    assert_eq!(
        tx.upsert_account(&a).await.unwrap(),
        (org.account.id, Upserted::Updated)
    );
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(
        tx.get_account(org.account.id).await.unwrap().domains.len(),
        3
    );
}

async fn a_failure_half_way_leaves_nothing(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let before = {
        let mut tx = store.read().await.unwrap();
        tx.list_people(&PeopleFilter::default(), &PageRequest::first(500))
            .await
            .unwrap()
            .items
            .len()
    };
    let mut tx = store.write().await.unwrap();
    for i in 0..5 {
        tx.upsert_person(&person(&format!("batch{i}@example.com"), Role::Pm, None))
            .await
            .unwrap();
    }
    tx.insert_request(&request(&org)).await.unwrap();
    tx.append_audit(&NewAudit {
        at: t0(),
        actor: Actor::process("import"),
        action: "import.batch".into(),
        record_kind: "import".into(),
        record_id: "batch".into(),
        before: None,
        after: None,
    })
    .await
    .unwrap();
    // Half-way: a request on an opportunity that does not exist.
    let mut bad = request(&org);
    bad.opportunity = OpportunityId::new();
    // SQLite sends an INSERT like this one with the transaction's next
    // statement or its commit: the failure surfaces there.
    let err = match tx.insert_request(&bad).await {
        Err(e) => {
            tx.rollback().await.unwrap();
            e
        }
        Ok(()) => tx.commit().await.unwrap_err(),
    };
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    let mut tx = store.read().await.unwrap();
    let after = tx
        .list_people(&PeopleFilter::default(), &PageRequest::first(500))
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(after, before);
    assert!(
        tx.list_requests(&RequestFilter::default(), &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(tx.audit_after(0, 10).await.unwrap().is_empty());

    // Dropping a transaction without committing also discards it.
    let mut tx = store.write().await.unwrap();
    tx.insert_request(&request(&org)).await.unwrap();
    drop(tx);
    let mut tx = store.read().await.unwrap();
    assert!(
        tx.list_requests(&RequestFilter::default(), &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// Writes a transaction defers (SQLite sends them in batches) are read
/// back by the transaction itself, go with a rollback or an abandoned
/// transaction, and a failed one fails the commit with its cause, leaving
/// nothing of the transaction behind.
async fn deferred_writes_are_read_back_or_undone(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let audit_count = |store: std::sync::Arc<dyn Store>| async move {
        accord_store::verify_audit(store.as_ref())
            .await
            .unwrap()
            .unwrap()
    };
    let audited = audit_count(store.clone()).await;
    let note = |what: &str| NewAudit {
        at: t0(),
        actor: Actor::process("test"),
        action: what.into(),
        record_kind: "request".into(),
        record_id: "r".into(),
        before: None,
        after: None,
    };

    // Read back inside the transaction, then abandoned: gone, and the
    // next writer is not held up by it.
    let first = request(&org);
    let mut tx = store.write().await.unwrap();
    tx.insert_request(&first).await.unwrap();
    tx.append_audit(&note("first")).await.unwrap();
    assert_eq!(tx.get_request(first.id).await.unwrap(), first);
    drop(tx);
    let second = request(&org);
    let mut tx = store.write().await.unwrap();
    tx.insert_request(&second).await.unwrap();
    tx.append_audit(&note("second")).await.unwrap();
    tx.commit().await.unwrap();

    // Rolled back before anything reached the database.
    let third = request(&org);
    let mut tx = store.write().await.unwrap();
    tx.insert_request(&third).await.unwrap();
    tx.rollback().await.unwrap();
    // Abandoned before anything reached the database.
    let mut tx = store.write().await.unwrap();
    tx.insert_request(&third).await.unwrap();
    drop(tx);

    // The same id again, with an audit entry: the conflict is reported
    // (at the INSERT, or at the commit when it was deferred) and the
    // audit entry is not kept.
    let mut tx = store.write().await.unwrap();
    tx.append_audit(&note("duplicate")).await.unwrap();
    let err = match tx.insert_request(&second).await {
        Err(e) => e,
        Ok(()) => tx.commit().await.unwrap_err(),
    };
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let mut tx = store.read().await.unwrap();
    assert!(matches!(
        tx.get_request(first.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        tx.get_request(third.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(tx.get_request(second.id).await.unwrap(), second);
    drop(tx);
    assert_eq!(audit_count(store.clone()).await, audited + 1);

    // Many deferred writes in one transaction (more than one batch).
    let many: Vec<EngagementRequest> = (0..100).map(|_| request(&org)).collect();
    let mut tx = store.write().await.unwrap();
    for r in &many {
        ask(tx.as_mut(), r, &org).await;
    }
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    for r in &many {
        assert_eq!(tx.get_request(r.id).await.unwrap(), *r);
        assert_eq!(tx.history(r.id).await.unwrap().len(), 1);
    }
}

/// A write dropped after its first statements went out is rolled back
/// even when no other writer of this process comes: another process may
/// write at once (on SQLite it would otherwise wait out the busy timeout
/// and fail, the database still locked).
async fn an_abandoned_write_does_not_lock_out_other_processes(db: &TestDb) {
    let org = seeded(db).await;
    let other = db.open_again().await;
    let dropped = request(&org);
    let mut tx = db.store().write().await.unwrap();
    tx.insert_request(&dropped).await.unwrap();
    // Sends the batch: on SQLite the database's write lock is taken now.
    tx.get_request(dropped.id).await.unwrap();
    drop(tx);

    let kept = request(&org);
    let started = std::time::Instant::now();
    let mut tx = other.write().await.unwrap();
    tx.insert_request(&kept).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "waited {:?} for the lock",
        started.elapsed()
    );
    let mut tx = db.store().read().await.unwrap();
    assert!(matches!(
        tx.get_request(dropped.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(tx.get_request(kept.id).await.unwrap(), kept);
    drop(tx);
    other.close().await;
}

/// Writers at the same time (on SQLite they commit in groups): each one's
/// commit stands or falls alone. Committed ones are there as soon as their
/// commit returns, for this process and another; one that fails on a
/// conflict, is rolled back, or is dropped open after its statements went
/// out leaves nothing, and takes nothing of the others with it; the audit
/// chain holds.
async fn concurrent_writers_commit_or_fail_alone(db: &TestDb) {
    let org = std::sync::Arc::new(seeded(db).await);
    let store = db.store();
    let other = db.open_again().await;
    let existing = request(&org);
    let mut tx = store.write().await.unwrap();
    ask(tx.as_mut(), &existing, &org).await;
    tx.commit().await.unwrap();
    let audited = accord_store::verify_audit(store.as_ref())
        .await
        .unwrap()
        .unwrap();

    const WRITERS: usize = 96;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..WRITERS {
        let (store, other, org) = (store.clone(), other.clone(), org.clone());
        let existing = existing.clone();
        tasks.spawn(async move {
            let (r, mut tx) = ask_audited(store.as_ref(), &org, i).await;
            let kept = match i % 4 {
                0 => {
                    tx.commit().await.unwrap();
                    // There the moment the commit returns.
                    let mut one = other.read_single().await.unwrap();
                    assert_eq!(one.get_request(r.id).await.unwrap(), r);
                    true
                }
                1 => {
                    // A conflict, at the INSERT or (deferred) at the commit.
                    let err = match tx.insert_request(&existing).await {
                        Err(e) => e,
                        Ok(()) => tx.commit().await.unwrap_err(),
                    };
                    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
                    false
                }
                2 => {
                    tx.get_request(r.id).await.unwrap();
                    tx.rollback().await.unwrap();
                    false
                }
                _ => {
                    // Sent, then dropped open.
                    tx.get_request(r.id).await.unwrap();
                    drop(tx);
                    false
                }
            };
            (r.id, kept)
        });
    }
    let outcomes = tasks.join_all().await;
    assert_eq!(outcomes.len(), WRITERS);

    // A writer after them all: the abandoned ones are undone first.
    let last = request(&org);
    let mut tx = store.write().await.unwrap();
    ask(tx.as_mut(), &last, &org).await;
    tx.commit().await.unwrap();

    for reader in [store.clone(), other.clone()] {
        let mut tx = reader.read().await.unwrap();
        for (id, kept) in &outcomes {
            match tx.get_request(*id).await {
                Ok(r) => assert!(*kept, "request {id} was not to be kept: {r:?}"),
                Err(StoreError::NotFound { .. }) => assert!(!*kept, "request {id} is lost"),
                Err(e) => panic!("{e:?}"),
            }
            assert_eq!(tx.history(*id).await.unwrap().len(), usize::from(*kept));
        }
        assert!(tx.get_request(last.id).await.is_ok());
        assert!(tx.get_request(existing.id).await.is_ok());
    }
    let kept = outcomes.iter().filter(|(_, k)| *k).count();
    assert_eq!(kept, WRITERS / 4);
    assert_eq!(
        accord_store::verify_audit(store.as_ref())
            .await
            .unwrap()
            .unwrap(),
        audited + kept as i64,
        "one audit entry for each writer kept, and a chain that verifies"
    );
    other.close().await;
}

/// Writers whose callers go away at any point of their commit (a client
/// that hangs up): nobody else is left waiting, the writer is free after
/// them, and what a commit said is what happened.
async fn writers_that_go_away_half_way_leave_nobody_waiting(db: &TestDb) {
    let org = std::sync::Arc::new(seeded(db).await);
    let store = db.store();
    const WRITERS: u64 = 400;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..WRITERS {
        let (store, org) = (store.clone(), org.clone());
        tasks.spawn(async move {
            let (r, tx) = ask_audited(store.as_ref(), &org, i).await;
            // Every other caller gives up after a few hundred
            // microseconds, wherever its commit is by then.
            let said = if i % 2 == 0 {
                let patience = std::time::Duration::from_micros((i * 7919) % 400);
                tokio::time::timeout(patience, tx.commit()).await.ok()
            } else {
                Some(tx.commit().await)
            };
            (r.id, said.map(|s| s.is_ok()))
        });
    }
    let outcomes = tokio::time::timeout(std::time::Duration::from_secs(30), tasks.join_all())
        .await
        .expect("a writer was left waiting");

    // The writer is free, and the groups committed.
    let last = request(&org);
    let mut tx = tokio::time::timeout(std::time::Duration::from_secs(5), store.write())
        .await
        .expect("the writer is still taken")
        .unwrap();
    ask(tx.as_mut(), &last, &org).await;
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let mut answered = 0;
    for (id, said) in &outcomes {
        let there = match tx.get_request(*id).await {
            Ok(_) => true,
            Err(StoreError::NotFound { .. }) => false,
            Err(e) => panic!("{e:?}"),
        };
        if let Some(ok) = said {
            answered += 1;
            assert_eq!(there, *ok, "request {id}: the commit said {ok}");
        }
    }
    assert!(tx.get_request(last.id).await.is_ok());
    drop(tx);
    assert!(answered >= WRITERS / 2, "{answered} answers");
    accord_store::verify_audit(store.as_ref())
        .await
        .unwrap()
        .unwrap();
}

/// A long write (an import) does not join the writes before it: one that
/// finished while the long one waited for its turn is committed at once,
/// not when the long one ends.
async fn a_long_write_does_not_hold_back_the_writes_before_it(db: &TestDb) {
    let org = std::sync::Arc::new(seeded(db).await);
    let store = db.store();
    let short = request(&org);
    let mut tx = store.write().await.unwrap();
    ask(tx.as_mut(), &short, &org).await;
    // Sends the batch: the short write is under way when the long one
    // queues for its turn.
    tx.get_request(short.id).await.unwrap();

    let (go, finish) = tokio::sync::oneshot::channel::<()>();
    let long = request(&org);
    let started = {
        let (store, org, long) = (store.clone(), org.clone(), long.clone());
        tokio::spawn(async move {
            let mut tx = store.write_long().await.unwrap();
            ask(tx.as_mut(), &long, &org).await;
            tx.get_request(long.id).await.unwrap();
            finish.await.unwrap();
            tx.commit().await.unwrap();
        })
    };
    // Time for the long write to queue (on SQLite: for the writer).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    tokio::time::timeout(std::time::Duration::from_secs(5), tx.commit())
        .await
        .expect("the short write waited for the long one")
        .unwrap();
    let mut one = store.read_single().await.unwrap();
    assert_eq!(one.get_request(short.id).await.unwrap(), short);
    drop(one);
    let mut one = store.read_single().await.unwrap();
    assert!(matches!(
        one.get_request(long.id).await,
        Err(StoreError::NotFound { .. })
    ));
    drop(one);

    go.send(()).unwrap();
    started.await.unwrap();
    let mut one = store.read_single().await.unwrap();
    assert_eq!(one.get_request(long.id).await.unwrap(), long);
}

/// A closed store refuses reads and writes as unavailable; the database
/// and other stores on it carry on.
async fn a_closed_store_is_unavailable(db: &TestDb) {
    let org = seeded(db).await;
    let other = db.open_again().await;
    let mut tx = other.read().await.unwrap();
    assert!(matches!(
        tx.get_request(RequestId::new()).await,
        Err(StoreError::NotFound { .. })
    ));
    drop(tx);
    other.close().await;
    assert!(matches!(
        other.read().await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        other.write().await,
        Err(StoreError::Unavailable(_))
    ));

    let r = request(&org);
    let mut tx = db.store().write().await.unwrap();
    tx.insert_request(&r).await.unwrap();
    tx.commit().await.unwrap();
}

async fn requests_move_with_optimistic_checks(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let r = request(&org);
    let mut tx = store.write().await.unwrap();
    ask(tx.as_mut(), &r, &org).await;
    tx.commit().await.unwrap();

    let mut tx = store.write().await.unwrap();
    let accepted = EngagementRequest {
        state: RequestState::Accepted,
        ..r.clone()
    };
    tx.update_request(&accepted, RequestState::Requested)
        .await
        .unwrap();
    tx.append_history(&StateChange {
        request: r.id,
        from: Some(RequestState::Requested),
        to: RequestState::Accepted,
        by: Some(org.pm.id),
        at: t0() + Duration::hours(1),
        note: Some("happy to".into()),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // A second accept, from a stale read: a conflict, not a silent overwrite.
    let mut tx = store.write().await.unwrap();
    match tx.update_request(&accepted, RequestState::Requested).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("accepted"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    drop(tx);

    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.get_request(r.id).await.unwrap(), accepted);
    let h = tx.history(r.id).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].note.as_deref(), Some("happy to"));
    let f = RequestFilter {
        pm: Some(org.pm.id),
        states: vec![RequestState::Accepted],
        ..Default::default()
    };
    assert_eq!(
        tx.list_requests(&f, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let f = RequestFilter {
        states: vec![RequestState::Done],
        ..Default::default()
    };
    assert!(
        tx.list_requests(&f, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn calendar_meetings_upsert_by_natural_key(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let m = calendar_meeting(&org, "evt-1@google.com", 0, "QBR");
    let mut tx = store.write().await.unwrap();
    let (id, how) = tx.upsert_calendar_meeting(&m).await.unwrap();
    let occurrence = t0().to_rfc3339();
    assert_eq!(
        (id, how),
        (
            MeetingId::from_calendar("evt-1@google.com", &occurrence),
            Upserted::Inserted
        )
    );
    // The same event again, even with a new id and attendees in another order.
    let mut again = m.clone();
    again.meeting.id = MeetingId::new();
    again.meeting.attendees.reverse();
    assert_eq!(
        tx.upsert_calendar_meeting(&again).await.unwrap(),
        (id, Upserted::Unchanged)
    );
    // A newer version replaces it.
    let newer = calendar_meeting(&org, "evt-1@google.com", 2, "QBR (moved)");
    assert_eq!(
        tx.upsert_calendar_meeting(&newer).await.unwrap(),
        (id, Upserted::Updated)
    );
    // An older one does not.
    let older = calendar_meeting(&org, "evt-1@google.com", 1, "QBR (old)");
    assert_eq!(
        tx.upsert_calendar_meeting(&older).await.unwrap(),
        (id, Upserted::Stale)
    );
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let got = tx.get_meeting(id).await.unwrap();
    assert_eq!(got.meeting.title, "QBR (moved)");
    assert_eq!(got.meeting.attendees.len(), 3);
    assert_eq!(
        got.meeting.attendees[0].email.as_str(),
        "buyer@acme.com",
        "attendees come back by email"
    );
    assert_eq!(got.flags.pm_count, 1);
    assert!(!got.flags.owner_present);
    let f = MeetingFilter {
        person: Some(org.pm.id),
        pm_contacts_only: true,
        ..Default::default()
    };
    assert_eq!(
        tx.list_meetings(&f, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let f = MeetingFilter {
        from: Some(t0() + Duration::days(1)),
        ..Default::default()
    };
    assert!(
        tx.list_meetings(&f, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// Meetings keep their attendees as bytes; rows a database holds from
/// before, as JSON in the full form, read back the same.
async fn attendees_read_back_in_the_short_and_the_full_form(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let mut m = calendar_meeting(&org, "evt-form@google.com", 1, "QBR");
    m.meeting.attendees.push(Attendee {
        email: email("cto@acme.com"),
        person: None,
        response: ResponseStatus::Declined,
        organizer: false,
    });
    let mut tx = store.write().await.unwrap();
    let (id, _) = tx.upsert_calendar_meeting(&m).await.unwrap();
    tx.commit().await.unwrap();
    let short = store.read().await.unwrap().get_meeting(id).await.unwrap();
    let mut expected = m.meeting.attendees.clone();
    expected.sort_by(|a, b| a.email.cmp(&b.email));
    assert_eq!(short.meeting.attendees, expected);

    let full = serde_json::to_string(&expected).unwrap();
    assert!(full.contains("\"organizer\":false"), "{full}");
    db.execute(&format!("UPDATE meetings SET attendees = '{full}'"))
        .await;
    let read = store.read().await.unwrap().get_meeting(id).await.unwrap();
    assert_eq!(read, short);
}

/// Whether a calendar import is the first: no calendar meeting stored (a
/// logged one does not count), none withdrawn, nothing rolled back.
async fn has_calendar_meetings_until_none_was_ever_stored(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let uid = "evt-first@google.com";
    let mut tx = store.write().await.unwrap();
    assert!(!tx.has_calendar_meetings().await.unwrap());
    let mut logged = occurrence_at(&org, "logged@cal", 0, 0, "Logged");
    logged.meeting.source = MeetingSource::Logged;
    tx.insert_meeting(&logged).await.unwrap();
    assert!(!tx.has_calendar_meetings().await.unwrap());
    tx.commit().await.unwrap();

    // A calendar meeting rolled back leaves none.
    let mut tx = store.write().await.unwrap();
    tx.upsert_calendar_meeting(&calendar_meeting(&org, uid, 1, "QBR"))
        .await
        .unwrap();
    assert!(tx.has_calendar_meetings().await.unwrap());
    tx.rollback().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(!tx.has_calendar_meetings().await.unwrap());

    // Stored, then withdrawn: its withdrawal is remembered, so a later
    // import must still compare (an older version must not come back).
    let (id, _) = tx
        .upsert_calendar_meeting(&calendar_meeting(&org, uid, 1, "QBR"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(tx.has_calendar_meetings().await.unwrap());
    let gone = NoLongerContact {
        id,
        sequence: 2,
        modified: None,
    };
    assert_eq!(
        tx.withdraw_calendar_meetings(&[gone]).await.unwrap(),
        vec![(id, Withdrawn::Removed)]
    );
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert!(matches!(
        tx.get_meeting(id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(tx.has_calendar_meetings().await.unwrap());
}

/// A meeting a newer version of its event withdrew stays withdrawn when an
/// older export is imported afterwards; a version as new or newer brings it
/// back (and can withdraw it again).
async fn a_withdrawn_meeting_stays_withdrawn_against_older_versions(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let uid = "evt-gone@google.com";
    let v1 = calendar_meeting(&org, uid, 1, "QBR");
    let gone = |sequence| NoLongerContact {
        id: MeetingId::from_calendar(uid, &t0().to_rfc3339()),
        sequence,
        modified: None,
    };
    let mut tx = store.write().await.unwrap();
    let (id, how) = tx.upsert_calendar_meeting(&v1).await.unwrap();
    assert_eq!(how, Upserted::Inserted);
    // Version 2 declines it: the meeting goes.
    assert_eq!(
        tx.withdraw_calendar_meetings(&[gone(2)]).await.unwrap(),
        vec![(id, Withdrawn::Removed)]
    );
    tx.commit().await.unwrap();

    // The export with version 1, imported again: it stays gone.
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        tx.upsert_calendar_meeting(&v1).await.unwrap(),
        (id, Upserted::Stale)
    );
    assert!(matches!(
        tx.get_meeting(id).await,
        Err(StoreError::NotFound { .. })
    ));
    // In a batch with other meetings, too.
    let other = occurrence_at(&org, "evt-other@google.com", 3, 0, "Sync");
    let done = tx
        .upsert_calendar_meetings(&[v1.clone(), other.clone()])
        .await
        .unwrap();
    assert_eq!(done[0], (id, Upserted::Stale));
    assert_eq!(done[1].1, Upserted::Inserted);
    tx.commit().await.unwrap();

    // Version 3 is a contact again: stored, and the withdrawal forgotten.
    let v3 = calendar_meeting(&org, uid, 3, "QBR (back)");
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        tx.upsert_calendar_meeting(&v3).await.unwrap(),
        (id, Upserted::Inserted)
    );
    assert_eq!(
        tx.get_meeting(id).await.unwrap().meeting.title,
        "QBR (back)"
    );
    // An older version is stale against the stored meeting, as ever.
    assert_eq!(
        tx.upsert_calendar_meeting(&v1).await.unwrap(),
        (id, Upserted::Stale)
    );
    // Withdrawn again by version 4, brought back by nothing older.
    assert_eq!(
        tx.withdraw_calendar_meetings(&[gone(4)]).await.unwrap(),
        vec![(id, Withdrawn::Removed)]
    );
    assert_eq!(
        tx.upsert_calendar_meeting(&v3).await.unwrap(),
        (id, Upserted::Stale)
    );
    tx.commit().await.unwrap();

    // Nothing of this is kept when the transaction is rolled back.
    let mut tx = store.write().await.unwrap();
    let v5 = calendar_meeting(&org, uid, 5, "QBR (five)");
    assert_eq!(
        tx.upsert_calendar_meeting(&v5).await.unwrap().1,
        Upserted::Inserted
    );
    tx.rollback().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        tx.upsert_calendar_meeting(&v3).await.unwrap(),
        (id, Upserted::Stale),
        "still withdrawn by version 4"
    );
    tx.commit().await.unwrap();
}

/// Stores a request as asked: the request and its first history step.
/// One of many writers at once: a request with its first step and an
/// audit entry, in a write transaction left for the caller to end.
async fn ask_audited(
    store: &dyn Store,
    org: &Org,
    writer: impl std::fmt::Display,
) -> (EngagementRequest, Box<dyn Tx>) {
    let r = request(org);
    let mut tx = store.write().await.unwrap();
    ask(tx.as_mut(), &r, org).await;
    tx.append_audit(&NewAudit {
        at: t0(),
        actor: Actor::process("test"),
        action: format!("writer {writer}"),
        record_kind: "request".into(),
        record_id: r.id.to_string(),
        before: None,
        after: None,
    })
    .await
    .unwrap();
    (r, tx)
}

async fn ask(tx: &mut dyn Tx, r: &EngagementRequest, org: &Org) {
    tx.insert_request(r).await.unwrap();
    tx.append_history(&StateChange {
        request: r.id,
        from: None,
        to: RequestState::Requested,
        by: Some(org.rep.id),
        at: t0(),
        note: None,
    })
    .await
    .unwrap();
}

/// A calendar meeting of the seeded org starting `hours` after t0.
fn occurrence_at(org: &Org, uid: &str, hours: i64, seq: i64, title: &str) -> StoredMeeting {
    let mut m = calendar_meeting(org, uid, seq, title);
    let start = t0() + Duration::hours(hours);
    m.meeting.starts_at = start;
    m.meeting.ends_at = start + Duration::minutes(30);
    m.meeting.source = MeetingSource::Calendar {
        uid: uid.into(),
        occurrence: start.to_rfc3339(),
    };
    m
}

/// The contact roll-ups of a batch with more (day, PM, owner) keys than one
/// statement takes, added to by a later batch, sum to what the meetings
/// say: over whole months and partial ones.
async fn contact_rollups_add_up_over_many_statements(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let meeting = |day: i64, pm: &Person, n: usize| {
        let uid = format!("rollup-{day}-{}-{n}", pm.id.0);
        let mut m = occurrence_at(&org, &uid, day * 24, 0, &format!("Call {day}/{n}"));
        // A buyer, the PM, and the owner, who comes every third day.
        let owner_present = day % 3 == 0;
        let [_, with_pm, owner] = &mut m.meeting.attendees[..] else {
            panic!("calendar_meeting has three attendees");
        };
        with_pm.email = pm.email.clone();
        with_pm.person = Some(pm.id);
        owner.response = if owner_present {
            ResponseStatus::Accepted
        } else {
            ResponseStatus::Declined
        };
        m.flags.owner_present = owner_present;
        m.flags.internal_count = if owner_present { 2 } else { 1 };
        m
    };
    // Two PMs over 1,100 days: 2,200 keys in the first batch.
    let first: Vec<StoredMeeting> = (0..1100)
        .flat_map(|day| [meeting(day, &org.pm, 0), meeting(day, &org.pm_lead, 0)])
        .collect();
    // Then a second meeting on every seventh day, for one PM.
    let second: Vec<StoredMeeting> = (0..1100)
        .step_by(7)
        .map(|day| meeting(day, &org.pm, 1))
        .collect();
    for batch in [&first, &second] {
        let mut tx = store.write().await.unwrap();
        tx.insert_meetings(batch).await.unwrap();
        tx.commit().await.unwrap();
    }

    let all: Vec<&StoredMeeting> = first.iter().chain(&second).collect();
    let day = |n: i64| (t0() + Duration::days(n)).date_naive();
    for (from, to) in [(day(0), day(1099)), (day(20), day(400)), (day(45), day(46))] {
        let within: Vec<&&StoredMeeting> = all
            .iter()
            .filter(|m| (from..=to).contains(&m.meeting.starts_at.date_naive()))
            .collect();
        let mut expected: Vec<(PersonId, i64, i64)> = [&org.pm, &org.pm_lead]
            .iter()
            .map(|pm| {
                let theirs = within
                    .iter()
                    .filter(|m| m.meeting.attendees.iter().any(|a| a.person == Some(pm.id)));
                let contacts = theirs.clone().count() as i64;
                let present = theirs.filter(|m| m.flags.owner_present).count() as i64;
                (pm.id, contacts, present)
            })
            .filter(|(_, contacts, _)| *contacts > 0)
            .collect();
        expected.sort();

        let mut tx = store.read().await.unwrap();
        let mut got: Vec<(PersonId, i64, i64)> = tx
            .contact_aggregates(from, to)
            .await
            .unwrap()
            .into_iter()
            .map(|a| {
                assert_eq!(a.owner, Some(org.rep.id));
                assert_eq!(a.with_insight, 0);
                (a.pm, a.contacts, a.owner_present)
            })
            .collect();
        got.sort();
        assert_eq!(got, expected, "{from} to {to}");
        let totals = tx.contact_totals(from, to).await.unwrap();
        assert_eq!(
            totals.customer_contacts,
            within.len() as i64,
            "{from} to {to}"
        );
        assert_eq!(totals.pm_contacts, within.len() as i64, "{from} to {to}");
    }
}

async fn calendar_meetings_upsert_in_batches(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let mut tx = store.write().await.unwrap();
    assert!(tx.upsert_calendar_meetings(&[]).await.unwrap().is_empty());

    // More than one statement's worth, so that every chunked path runs.
    let many: Vec<StoredMeeting> = (0..2500)
        .map(|i| {
            let seq = if i == 2 { 5 } else { 0 };
            occurrence_at(&org, &format!("bulk-{i}@cal"), i, seq, "Bulk")
        })
        .collect();
    let done = tx.upsert_calendar_meetings(&many).await.unwrap();
    assert_eq!(done.len(), 2500);
    for (m, (id, how)) in many.iter().zip(&done) {
        let MeetingSource::Calendar { uid, occurrence } = &m.meeting.source else {
            unreachable!()
        };
        assert_eq!(*id, MeetingId::from_calendar(uid, occurrence));
        assert_eq!(*how, Upserted::Inserted);
    }
    // Again, ids scrambled and attendees reordered: nothing changes.
    let again: Vec<StoredMeeting> = many
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m.meeting.id = MeetingId::new();
            m.meeting.attendees.reverse();
            m
        })
        .collect();
    let done = tx.upsert_calendar_meetings(&again).await.unwrap();
    assert!(done.iter().all(|(_, how)| *how == Upserted::Unchanged));

    // One batch of every case.
    let same = many[0].clone();
    let mut newer = occurrence_at(&org, "bulk-1@cal", 1, 3, "Bulk (PM dropped out)");
    newer
        .meeting
        .attendees
        .retain(|a| a.person != Some(org.pm.id));
    newer.flags.pm_count = 0;
    let older = occurrence_at(&org, "bulk-2@cal", 2, 4, "Bulk (an old copy)");
    let first = occurrence_at(&org, "new@cal", 0, 0, "New");
    let second = occurrence_at(&org, "new@cal", 0, 1, "New (updated in the same file)");
    let done = tx
        .upsert_calendar_meetings(&[same, newer.clone(), older, first, second])
        .await
        .unwrap();
    let outcomes: Vec<Upserted> = done.iter().map(|(_, how)| *how).collect();
    assert_eq!(
        outcomes,
        [
            Upserted::Unchanged,
            Upserted::Updated,
            Upserted::Stale,
            Upserted::Stale,
            Upserted::Inserted
        ]
    );
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let got = tx.get_meeting(done[1].0).await.unwrap();
    assert_eq!(got.meeting.title, "Bulk (PM dropped out)");
    assert_eq!(got.cal_sequence, Some(3));
    assert_eq!(
        tx.get_meeting(done[2].0).await.unwrap().meeting.title,
        "Bulk"
    );
    assert_eq!(
        tx.get_meeting(done[4].0).await.unwrap().meeting.title,
        "New (updated in the same file)"
    );
    // The replaced meeting left the PM's list with its index rows.
    let pm = MeetingFilter {
        person: Some(org.pm.id),
        ..Default::default()
    };
    let mut ids = Vec::new();
    let mut page = PageRequest::first(500);
    loop {
        let p = tx.list_meetings(&pm, &page).await.unwrap();
        ids.extend(p.items.iter().map(|m| m.meeting.id));
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(ids.len(), 2500);
    assert!(!ids.contains(&done[1].0));
    assert!(ids.contains(&done[4].0));
    drop(tx);

    // Only calendar meetings have a natural key; nothing is written.
    let mut tx = store.write().await.unwrap();
    let mut logged = occurrence_at(&org, "x@cal", 0, 0, "Logged");
    logged.meeting.source = MeetingSource::Logged;
    assert!(matches!(
        tx.upsert_calendar_meetings(&[occurrence_at(&org, "y@cal", 0, 0, "Y"), logged])
            .await,
        Err(StoreError::Invalid(_))
    ));
}

async fn decisions_insert_in_batches(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let playbook = Playbook::default_playbook();
    let violation = accord_domain::evaluate(
        &playbook,
        &Input::Meeting(MeetingInput {
            owner_present: false,
            ..Default::default()
        }),
        &[],
    )
    .unwrap();
    let allowed =
        accord_domain::evaluate(&playbook, &Input::Meeting(MeetingInput::default()), &[]).unwrap();
    assert_eq!(
        (violation.matched.len(), allowed.matched.len()),
        (1, 0),
        "the default playbook's owner-present rule"
    );
    let meetings: Vec<StoredMeeting> = (0..1500)
        .map(|i| occurrence_at(&org, &format!("d-{i}@cal"), i, 0, "Visit"))
        .collect();
    let records: Vec<DecisionRecord> = meetings
        .iter()
        .enumerate()
        .map(|(i, m)| DecisionRecord {
            id: DecisionId::new(),
            record: RecordRef {
                kind: RecordKind::Meeting,
                id: MeetingId::from_calendar(
                    match &m.meeting.source {
                        MeetingSource::Calendar { uid, .. } => uid,
                        _ => unreachable!(),
                    },
                    &(t0() + Duration::hours(i as i64)).to_rfc3339(),
                )
                .0,
            },
            decision: if i % 3 == 0 {
                allowed.clone()
            } else {
                violation.clone()
            },
            playbook_version: Some(1),
            // Over some 100 days: the daily violation counts take several
            // statements.
            at: t0() + Duration::minutes(97 * i as i64),
        })
        .collect();
    let mut tx = store.write().await.unwrap();
    tx.insert_meetings(&meetings).await.unwrap();
    tx.insert_decisions(&[]).await.unwrap();
    tx.insert_decisions(&records).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    for r in [&records[0], &records[1], &records[1499]] {
        assert_eq!(tx.decisions_for(r.record).await.unwrap(), vec![r.clone()]);
    }
    let by_rule = DecisionFilter {
        rule: Some(RuleId::parse("owner-present").unwrap()),
        ..Default::default()
    };
    let mut found = 0;
    let mut page = PageRequest::first(500);
    loop {
        let p = tx.list_decisions(&by_rule, &page).await.unwrap();
        found += p.items.len();
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(found, 1000);
    let denied_between = |start, end| {
        records
            .iter()
            .filter(|r| r.decision.effect == Effect::Deny && r.at >= start && r.at < end)
            .count() as i64
    };
    // Counted by whole days.
    let midnight = t0().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    for (start, end) in [
        (midnight, midnight + Duration::days(200)),
        (midnight + Duration::days(30), midnight + Duration::days(61)),
    ] {
        let (_, total) = tx.violations(start, end, 1).await.unwrap();
        assert_eq!(total, denied_between(start, end), "{start} to {end}");
    }
    assert_eq!(denied_between(t0(), t0() + Duration::days(200)), 1000);
    drop(tx);

    // A batch is one unit: a duplicate id fails it and leaves nothing.
    let mut tx = store.write().await.unwrap();
    let mut dup = records[..2].to_vec();
    for d in &mut dup {
        d.id = DecisionId::new();
    }
    dup.push(records[5].clone());
    // A few decisions are deferred on SQLite: the failure surfaces at the
    // commit.
    match tx.insert_decisions(&dup).await {
        Err(_) => drop(tx),
        Ok(()) => assert!(tx.commit().await.is_err()),
    }
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.decisions_for(records[0].record).await.unwrap().len(), 1);
}

async fn workflows_round_trip(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let access = AccessRequest {
        id: AccessRequestId::new(),
        pm: org.pm.id,
        account: org.account.id,
        owner: Some(org.rep.id),
        purpose: AccessPurpose::Discovery,
        agenda: "How their analysts build month-end reports.".into(),
        wanted_at: Some(t0() + Duration::days(10)),
        created_at: t0(),
        state: AccessState::Pending,
        conditions: None,
        reason: None,
        answered_by: None,
        answered_at: None,
    };
    let commitment = Commitment {
        id: CommitmentId::new(),
        account: org.account.id,
        meeting: None,
        kind: CommitmentKind::Feature,
        text: "SSO in Q3".into(),
        to_whom: "their CIO".into(),
        said_by: org.pm.id,
        present: vec![org.rep.id],
        said_at: t0(),
        state: CommitmentState::Pending,
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    let insight = Insight {
        id: InsightId::new(),
        account: org.account.id,
        meeting: None,
        pm: org.pm.id,
        kind: InsightKind::Futures,
        product_area: "reporting".into(),
        text: "They want scheduled exports.".into(),
        created_at: t0(),
    };
    let r = request(&org);
    let exception = Exception {
        id: ExceptionId::new(),
        rule: RuleId::parse("stage-fit").unwrap(),
        record: RecordRef {
            kind: RecordKind::Request,
            id: r.id.0,
        },
        reason: "The customer asked for it explicitly.".into(),
        requested_by: org.rep.id,
        requested_at: t0(),
        expires_at: Some(t0() + Duration::days(30)),
        state: ExceptionState::Requested,
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    let mut tx = store.write().await.unwrap();
    tx.insert_request(&r).await.unwrap();
    tx.insert_access(&access).await.unwrap();
    tx.insert_commitment(&commitment).await.unwrap();
    tx.insert_insight(&insight).await.unwrap();
    tx.insert_exception(&exception).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.write().await.unwrap();
    assert_eq!(tx.get_access(access.id).await.unwrap(), access);
    assert_eq!(tx.get_commitment(commitment.id).await.unwrap(), commitment);
    assert_eq!(tx.get_insight(insight.id).await.unwrap(), insight);
    assert_eq!(tx.get_exception(exception.id).await.unwrap(), exception);
    assert_eq!(
        tx.exceptions_for(exception.record).await.unwrap(),
        vec![exception.clone()]
    );

    let denied = AccessRequest {
        state: AccessState::Denied,
        reason: Some("renewal in progress".into()),
        answered_by: Some(org.rep.id),
        answered_at: Some(t0()),
        ..access.clone()
    };
    tx.update_access(&denied, AccessState::Pending)
        .await
        .unwrap();
    assert!(matches!(
        tx.update_access(&denied, AccessState::Pending).await,
        Err(StoreError::Conflict(_))
    ));
    let approved = Commitment {
        state: CommitmentState::Approved,
        decided_by: Some(org.pm_lead.id),
        decided_at: Some(t0()),
        ..commitment.clone()
    };
    tx.update_commitment(&approved, CommitmentState::Pending)
        .await
        .unwrap();
    assert!(matches!(
        tx.update_commitment(&approved, CommitmentState::Pending)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let granted = Exception {
        state: ExceptionState::Approved,
        decided_by: Some(org.pm_lead.id),
        decided_at: Some(t0()),
        ..exception.clone()
    };
    tx.update_exception(&granted, ExceptionState::Requested)
        .await
        .unwrap();
    assert!(matches!(
        tx.update_exception(&granted, ExceptionState::Requested)
            .await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(
        tx.list_access(None, Some(org.rep.id), &PageRequest::first(10))
            .await
            .unwrap()
            .items,
        vec![denied]
    );
    assert!(
        tx.list_commitments(None, true, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        tx.list_insights(Some(org.account.id), None, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        tx.list_exceptions(
            false,
            Some(&RuleId::parse("stage-fit").unwrap()),
            &PageRequest::first(10)
        )
        .await
        .unwrap()
        .items,
        vec![granted]
    );
    assert!(
        tx.list_exceptions(true, None, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn decisions_are_logged_and_found_by_rule(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let playbook = Playbook::default_playbook();
    let m = calendar_meeting(&org, "evt-2", 0, "Visit");
    let decision = accord_domain::evaluate(
        &playbook,
        &Input::Meeting(MeetingInput {
            owner_present: false,
            ..Default::default()
        }),
        &[],
    )
    .unwrap();
    let record = DecisionRecord {
        id: DecisionId::new(),
        record: RecordRef {
            kind: RecordKind::Meeting,
            id: m.meeting.id.0,
        },
        decision,
        playbook_version: Some(1),
        at: t0(),
    };
    let mut tx = store.write().await.unwrap();
    tx.insert_meeting(&m).await.unwrap();
    tx.insert_decision(&record).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(
        tx.decisions_for(record.record).await.unwrap(),
        vec![record.clone()]
    );
    let by_rule = DecisionFilter {
        rule: Some(RuleId::parse("owner-present").unwrap()),
        ..Default::default()
    };
    assert_eq!(
        tx.list_decisions(&by_rule, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let other = DecisionFilter {
        rule: Some(RuleId::parse("stage-fit").unwrap()),
        ..Default::default()
    };
    assert!(
        tx.list_decisions(&other, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn violations_name_the_account_and_who_of_every_kind(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let mut meeting = calendar_meeting(&org, "evt-violations", 0, "Visit");
    // A calendar meeting is stored under the id of its UID and occurrence.
    meeting.meeting.id = MeetingId::from_calendar("evt-violations", &t0().to_rfc3339());
    let r = request(&org);
    let access = AccessRequest {
        id: AccessRequestId::new(),
        pm: org.pm.id,
        account: org.account.id,
        owner: Some(org.rep.id),
        purpose: AccessPurpose::Discovery,
        agenda: "Month-end reports.".into(),
        wanted_at: None,
        created_at: t0(),
        state: AccessState::Pending,
        conditions: None,
        reason: None,
        answered_by: None,
        answered_at: None,
    };
    let commitment = Commitment {
        id: CommitmentId::new(),
        account: org.account.id,
        meeting: None,
        kind: CommitmentKind::Feature,
        text: "SSO in Q3".into(),
        to_whom: "their CIO".into(),
        said_by: org.se.id,
        present: vec![],
        said_at: t0(),
        state: CommitmentState::Pending,
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    // A deny on each, an hour apart: the meeting latest.
    let denied = |kind: RecordKind, id: uuid::Uuid, hours: i64| DecisionRecord {
        id: DecisionId::new(),
        record: RecordRef { kind, id },
        decision: Decision {
            kind,
            effect: Effect::Deny,
            matched: vec![RuleMatch {
                rule: RuleId::parse("some-rule").unwrap(),
                effect: Effect::Deny,
                applied: Effect::Deny,
                message: "no".into(),
                cites: None,
                excepted: false,
                approver: None,
            }],
        },
        playbook_version: Some(1),
        at: t0() + Duration::hours(hours),
    };
    let decisions = vec![
        denied(RecordKind::Commitment, commitment.id.0, 1),
        denied(RecordKind::Access, access.id.0, 2),
        denied(RecordKind::Request, r.id.0, 3),
        denied(RecordKind::Meeting, meeting.meeting.id.0, 4),
    ];
    let mut tx = store.write().await.unwrap();
    tx.insert_meeting(&meeting).await.unwrap();
    tx.insert_request(&r).await.unwrap();
    tx.insert_access(&access).await.unwrap();
    tx.insert_commitment(&commitment).await.unwrap();
    tx.insert_decisions(&decisions).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let (rows, total) = tx
        .violations(t0(), t0() + Duration::days(1), 10)
        .await
        .unwrap();
    assert_eq!(total, 4);
    type Row<'a> = (
        RecordKind,
        Option<AccountId>,
        Option<&'a str>,
        Option<PersonId>,
    );
    let got: Vec<Row<'_>> = rows
        .iter()
        .map(|v| {
            (
                v.record.kind,
                v.account,
                v.account_name.as_deref(),
                v.person,
            )
        })
        .collect();
    let acme = Some(org.account.name.as_str());
    let account = Some(org.account.id);
    assert_eq!(
        got,
        vec![
            // The PM who met the customer without the owner.
            (RecordKind::Meeting, account, acme, Some(org.pm.id)),
            (RecordKind::Request, account, acme, Some(org.rep.id)),
            (RecordKind::Access, account, acme, Some(org.pm.id)),
            (RecordKind::Commitment, account, acme, Some(org.se.id)),
        ]
    );
}

async fn the_audit_chain_verifies_and_catches_tampering(db: &TestDb) {
    let store = db.store();
    // Appends from several writers at once still form one chain.
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let mut tx = store.write().await.unwrap();
                tx.append_audit(&NewAudit {
                    at: t0() + Duration::seconds(i),
                    actor: Actor::process("test"),
                    action: "thing.changed".into(),
                    record_kind: "thing".into(),
                    record_id: format!("{w}-{i}"),
                    before: Some(serde_json::json!({"n": i})),
                    after: Some(serde_json::json!({"n": i + 1, "note": "x"})),
                })
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verify_audit(store.as_ref()).await.unwrap(), Ok(40));

    // Change one row behind accord's back.
    let tamper = "UPDATE audit_log SET action = 'thing.deleted' WHERE seq = 17";
    match db.engine() {
        EngineKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
            sqlx::query(tamper).execute(&pool).await.unwrap();
            pool.close().await;
        }
        EngineKind::Postgres => {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            sqlx::query(tamper).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
    assert_eq!(
        verify_audit(store.as_ref()).await.unwrap(),
        Err(accord_store::audit::ChainBreak::HashMismatch { seq: 17 })
    );
    let mut tx = store.read().await.unwrap();
    let page = tx
        .list_audit(
            &AuditFilter {
                record_id: Some("2-3".into()),
                ..Default::default()
            },
            &PageRequest::first(5),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

async fn playbook_and_charter_versions(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let mut tx = store.write().await.unwrap();
    let v1 = tx
        .insert_playbook_version("a = 1", None, "the default", t0())
        .await
        .unwrap();
    let v2 = tx
        .insert_playbook_version(
            "a = 2",
            Some(org.admin.id),
            "tighter lead time",
            t0() + Duration::days(1),
        )
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    let charter = CharterVersion {
        id: CharterVersionId::new(),
        number: 1,
        charter: Charter {
            mission: "m".into(),
            accountabilities: vec![],
            required_endorsements: vec!["sales".into(), "engineering".into()],
        },
        state: CharterState::Draft,
        author: org.pm_lead.id,
        created_at: t0(),
        ratified_at: None,
        comments: vec![],
        endorsements: vec![],
        acknowledgments: vec![],
    };
    tx.insert_charter_version(&charter).await.unwrap();
    tx.add_charter_comment(
        charter.id,
        &CharterComment {
            author: org.engineer.id,
            clause: None,
            text: "Add on-call?".into(),
            at: t0(),
        },
    )
    .await
    .unwrap();
    tx.add_endorsement(
        charter.id,
        &Endorsement {
            person: org.manager.id,
            function: "sales".into(),
            at: t0(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // A second endorsement for the same function is a conflict (and, as
    // after any error, the transaction is dropped).
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.add_endorsement(
            charter.id,
            &Endorsement {
                person: org.rep.id,
                function: "sales".into(),
                at: t0()
            }
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.write().await.unwrap();
    tx.add_endorsement(
        charter.id,
        &Endorsement {
            person: org.engineer.id,
            function: "engineering".into(),
            at: t0(),
        },
    )
    .await
    .unwrap();
    tx.set_charter_state(charter.id, CharterState::Ratified, Some(t0()), t0())
        .await
        .unwrap();
    tx.add_acknowledgment(
        charter.id,
        &Acknowledgment {
            person: org.pm.id,
            at: t0(),
        },
    )
    .await
    .unwrap();
    tx.add_acknowledgment(
        charter.id,
        &Acknowledgment {
            person: org.pm.id,
            at: t0(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    assert_eq!(
        tx.latest_playbook_version().await.unwrap().unwrap().toml,
        "a = 2"
    );
    assert_eq!(tx.list_playbook_versions().await.unwrap().len(), 2);
    let got = tx.get_charter_version(charter.id).await.unwrap();
    assert_eq!(got.state, CharterState::Ratified);
    assert_eq!(got.comments.len(), 1);
    assert_eq!(got.endorsements.len(), 2);
    assert!(got.missing_endorsements().is_empty());
    assert_eq!(got.acknowledgments.len(), 1, "acknowledging twice is once");
}

async fn signals_alerts_and_reviews(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let day = t0().date_naive();
    let value = |v: f64, status, as_of| SignalValue {
        signal: SignalId::parse("restricted-access").unwrap(),
        subject_kind: "person".into(),
        subject: org.rep.email.to_string(),
        value: v,
        numerator: v * 10.0,
        denominator: 10.0,
        status,
        as_of,
        window_days: 90,
    };
    let alert = Alert {
        id: AlertId::new(),
        signal: SignalId::parse("restricted-access").unwrap(),
        subject_kind: "person".into(),
        subject: org.rep.email.to_string(),
        addressed_to: vec![org.manager.id, org.pm_lead.id],
        state: AlertState::Open,
        opened_at: t0(),
        closed_at: None,
        closed_reason: None,
        value: 0.5,
        evidence: vec!["/api/v1/access/1".into()],
    };
    let mut tx = store.write().await.unwrap();
    tx.put_signal_values(&[value(0.3, SignalStatus::Watch, day)], t0())
        .await
        .unwrap();
    // Recomputing a day replaces its value.
    tx.put_signal_values(
        &[
            value(0.5, SignalStatus::Act, day),
            value(0.1, SignalStatus::Ok, day.pred_opt().unwrap()),
        ],
        t0(),
    )
    .await
    .unwrap();
    tx.insert_alert(&alert).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_alert(&Alert {
            id: AlertId::new(),
            ..alert.clone()
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    let mut tx = store.write().await.unwrap();
    let on = tx.signal_values_on(day).await.unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].status, SignalStatus::Act);
    let history = tx
        .signal_history(
            "restricted-access",
            "person",
            org.rep.email.as_str(),
            day - Duration::days(7),
            day,
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        tx.open_alert_for("restricted-access", "person", org.rep.email.as_str())
            .await
            .unwrap()
            .unwrap(),
        alert
    );
    assert_eq!(
        tx.list_alerts(false, Some(org.pm_lead.id), &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(
        tx.list_alerts(false, Some(org.pm.id), &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let review = Review {
        id: ReviewId::new(),
        alerts: vec![alert.id],
        attendees: vec![org.manager.id, org.pm_lead.id],
        agenda: "Rita denied 5 of 10 access requests".into(),
        notes: String::new(),
        outcome: None,
        playbook_version: None,
        opened_by: org.pm_lead.id,
        opened_at: t0(),
        closed_at: None,
    };
    tx.insert_review(&review).await.unwrap();
    let closed = Alert {
        state: AlertState::Closed,
        closed_at: Some(t0()),
        closed_reason: Some("ended by review".into()),
        ..alert.clone()
    };
    tx.update_alert(&closed).await.unwrap();
    let held = Review {
        outcome: Some(ReviewOutcome::RulesKept),
        notes: "Agreed to grant by default".into(),
        closed_at: Some(t0()),
        ..review.clone()
    };
    tx.update_review(&held).await.unwrap();
    // A closed alert no longer blocks a new one.
    tx.insert_alert(&Alert {
        id: AlertId::new(),
        ..alert.clone()
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.get_review(review.id).await.unwrap(), held);
    assert_eq!(
        tx.list_reviews(&PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        tx.list_alerts(true, None, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

async fn tokens_sessions_and_rate_limits(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let token = ApiToken {
        id: uuid::Uuid::now_v7(),
        person: org.admin.id,
        name: "ci".into(),
        created_at: t0(),
        last_used_at: None,
        revoked_at: None,
    };
    let mut tx = store.write().await.unwrap();
    tx.set_password_hash(org.pm.id, "$argon2id$v=19$one", t0())
        .await
        .unwrap();
    tx.set_password_hash(org.pm.id, "$argon2id$v=19$two", t0())
        .await
        .unwrap();
    tx.insert_token(&token, "hash-1").await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_token(
            &ApiToken {
                id: uuid::Uuid::now_v7(),
                ..token.clone()
            },
            "hash-1"
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.write().await.unwrap();
    tx.save_session("s1", "{\"user\":1}", t0() + Duration::hours(1))
        .await
        .unwrap();
    tx.save_session("s1", "{\"user\":2}", t0() + Duration::hours(2))
        .await
        .unwrap();
    tx.save_session("s2", "{}", t0() - Duration::hours(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.write().await.unwrap();
    assert_eq!(
        tx.password_hash(org.pm.id).await.unwrap().as_deref(),
        Some("$argon2id$v=19$two")
    );
    assert!(tx.password_hash(org.rep.id).await.unwrap().is_none());
    assert_eq!(tx.token_by_hash("hash-1").await.unwrap().unwrap(), token);
    tx.touch_token(token.id, t0() + Duration::minutes(5))
        .await
        .unwrap();
    tx.revoke_token(token.id, t0() + Duration::minutes(6))
        .await
        .unwrap();
    let t = tx.token_by_hash("hash-1").await.unwrap().unwrap();
    assert!(t.revoked_at.is_some() && t.last_used_at.is_some());
    assert!(tx.token_by_hash("nope").await.unwrap().is_none());
    assert_eq!(
        tx.load_session("s1", t0()).await.unwrap().as_deref(),
        Some("{\"user\":2}")
    );
    assert!(
        tx.load_session("s2", t0()).await.unwrap().is_none(),
        "expired"
    );
    assert_eq!(tx.delete_expired_sessions(t0()).await.unwrap(), 1);
    tx.delete_session("s1").await.unwrap();
    assert!(tx.load_session("s1", t0()).await.unwrap().is_none());

    let w = Duration::minutes(15);
    for n in 1..=3 {
        assert_eq!(
            tx.hit_rate_limit("login:pm", t0() + Duration::minutes(n), w)
                .await
                .unwrap(),
            n
        );
    }
    // The window passes: counting starts again.
    assert_eq!(
        tx.hit_rate_limit("login:pm", t0() + Duration::minutes(20), w)
            .await
            .unwrap(),
        1
    );
    tx.clear_rate_limit("login:pm").await.unwrap();
    assert_eq!(
        tx.hit_rate_limit("login:pm", t0() + Duration::minutes(21), w)
            .await
            .unwrap(),
        1
    );
}

fn hook(org: &Org, events: Vec<&str>) -> Webhook {
    Webhook {
        id: uuid::Uuid::now_v7(),
        url: "http://127.0.0.1:9/hook".into(),
        secret: "s3cret".into(),
        events: events.into_iter().map(String::from).collect(),
        format: "json".into(),
        active: true,
        created_by: Some(org.admin.id),
        created_at: t0(),
    }
}

fn outbox_event(t: &str) -> OutboxEvent {
    OutboxEvent {
        id: uuid::Uuid::now_v7(),
        event_type: t.into(),
        payload: serde_json::json!({"id": 1}),
        occurred_at: t0(),
    }
}

fn attempt(
    state: DeliveryState,
    status: Option<i64>,
    at: chrono::DateTime<chrono::Utc>,
) -> Attempt {
    Attempt {
        state,
        status,
        error: (state != DeliveryState::Delivered).then(|| "it failed".to_owned()),
        next_attempt_at: at + Duration::seconds(5),
        at,
    }
}

/// An event goes to every active webhook that wants it, and to no other:
/// the deliveries are made by the database in the event's batch, with ids
/// of their own, newest event first in the listing.
async fn deliveries_go_to_the_active_webhooks_that_want_the_event(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let all = hook(&org, vec!["*"]);
    let two = hook(&org, vec!["request.created", "alert.opened"]);
    let other = hook(&org, vec!["commitment.logged"]);
    let off = Webhook {
        active: false,
        ..hook(&org, vec!["*"])
    };
    let mut tx = store.write().await.unwrap();
    for w in [&all, &two, &other, &off] {
        tx.insert_webhook(w).await.unwrap();
    }
    let events: Vec<OutboxEvent> = [
        "request.created",
        "alert.opened",
        "commitment.logged",
        "meeting.imported",
    ]
    .into_iter()
    .map(outbox_event)
    .collect();
    for e in &events {
        tx.insert_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let listed = tx
        .list_deliveries(Some(DeliveryState::Pending), &PageRequest::first(100))
        .await
        .unwrap()
        .items;
    let to = |e: &OutboxEvent| -> Vec<uuid::Uuid> {
        let mut hooks: Vec<_> = listed
            .iter()
            .filter(|d| d.event_id == e.id)
            .map(|d| d.webhook_id)
            .collect();
        hooks.sort();
        hooks
    };
    let sorted = |mut v: Vec<uuid::Uuid>| {
        v.sort();
        v
    };
    assert_eq!(to(&events[0]), sorted(vec![all.id, two.id]));
    assert_eq!(to(&events[1]), sorted(vec![all.id, two.id]));
    assert_eq!(to(&events[2]), sorted(vec![all.id, other.id]));
    assert_eq!(to(&events[3]), vec![all.id], "only the catch-all");
    assert!(
        listed.iter().all(|d| d.webhook_id != off.id),
        "an inactive webhook gets nothing"
    );
    let mut ids: Vec<_> = listed.iter().map(|d| d.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7, "seven deliveries, each with an id of its own");
    // Newest first: the last event's delivery leads, the first's trail.
    assert_eq!(listed.first().map(|d| d.event_id), Some(events[3].id));
    assert!(
        listed[listed.len() - 2..]
            .iter()
            .all(|d| d.event_id == events[0].id)
    );
    for d in &listed {
        assert_eq!(tx.get_delivery(d.id).await.unwrap().event_id, d.event_id);
    }
    drop(tx);

    // Turned off: later events pass it by; turned on again, they reach it.
    let mut tx = store.write().await.unwrap();
    tx.update_webhook(&Webhook {
        active: false,
        ..all.clone()
    })
    .await
    .unwrap();
    let quiet = outbox_event("meeting.imported");
    tx.insert_event(&quiet).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let listed = tx
        .list_deliveries(None, &PageRequest::first(100))
        .await
        .unwrap()
        .items;
    assert_eq!(listed.len(), 7, "nobody wants the event: no delivery");
}

async fn the_outbox_fans_out_and_leases(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let all = hook(&org, vec!["*"]);
    let requests_only = hook(&org, vec!["request.created"]);
    let mut tx = store.write().await.unwrap();
    tx.insert_webhook(&all).await.unwrap();
    tx.insert_webhook(&requests_only).await.unwrap();
    tx.insert_event(&outbox_event("request.created"))
        .await
        .unwrap();
    tx.insert_event(&outbox_event("alert.opened"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // The secret never leaves through JSON or Debug.
    assert!(!serde_json::to_string(&all).unwrap().contains("s3cret"));
    assert!(!format!("{all:?}").contains("s3cret"));

    let lease_a = uuid::Uuid::now_v7();
    let mut tx = store.write().await.unwrap();
    let claimed = tx
        .claim_deliveries(lease_a, t0(), Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        3,
        "two subscribers for one event, one for the other"
    );
    assert_eq!(claimed[0].2.secret, "s3cret", "the worker gets the secret");
    assert_eq!(claimed[0].0.retry_from, t0());
    tx.commit().await.unwrap();
    // Leased: nobody else gets them until the lease runs out.
    let mut tx = store.write().await.unwrap();
    assert!(
        tx.claim_deliveries(
            uuid::Uuid::now_v7(),
            t0() + Duration::seconds(10),
            Duration::seconds(30),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    let (first, _, _) = &claimed[0];
    assert!(
        tx.finish_delivery(
            first.id,
            lease_a,
            &attempt(
                DeliveryState::Delivered,
                Some(200),
                t0() + Duration::seconds(1)
            )
        )
        .await
        .unwrap()
    );
    let (second, _, _) = &claimed[1];
    assert!(
        tx.finish_delivery(
            second.id,
            lease_a,
            &attempt(DeliveryState::Dead, Some(410), t0() + Duration::seconds(1))
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    let d = store
        .read()
        .await
        .unwrap()
        .get_delivery(first.id)
        .await
        .unwrap();
    assert_eq!(d.state, DeliveryState::Delivered);
    assert_eq!((d.attempts, d.last_status), (1, Some(200)));
    assert_eq!(d.delivered_at, Some(t0() + Duration::seconds(1)));
    assert_eq!(d.last_attempt_at, Some(t0() + Duration::seconds(1)));

    // The third lease runs out (its server was killed): another server
    // claims it, and the first server's late answer is not recorded.
    let lease_b = uuid::Uuid::now_v7();
    let mut tx = store.write().await.unwrap();
    let again = tx
        .claim_deliveries(
            lease_b,
            t0() + Duration::seconds(31),
            Duration::seconds(30),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        1,
        "only the unfinished one comes back after its lease"
    );
    let third = again[0].0.id;
    assert_eq!(third, claimed[2].0.id);
    assert!(
        !tx.finish_delivery(
            third,
            lease_a,
            &attempt(
                DeliveryState::Pending,
                Some(500),
                t0() + Duration::seconds(32)
            )
        )
        .await
        .unwrap(),
        "a stale claim records nothing"
    );
    assert!(
        tx.finish_delivery(
            third,
            lease_b,
            &attempt(
                DeliveryState::Delivered,
                Some(204),
                t0() + Duration::seconds(33)
            )
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.finish_delivery(
            third,
            lease_b,
            &attempt(
                DeliveryState::Pending,
                Some(500),
                t0() + Duration::seconds(34)
            )
        )
        .await
        .unwrap(),
        "a claim is used once"
    );
    let d = tx.get_delivery(third).await.unwrap();
    assert_eq!(
        (d.state, d.attempts, d.last_status),
        (DeliveryState::Delivered, 1, Some(204))
    );

    assert_eq!(
        tx.list_deliveries(Some(DeliveryState::Dead), &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    tx.redeliver(second.id, t0() + Duration::minutes(1))
        .await
        .unwrap();
    let d = tx.get_delivery(second.id).await.unwrap();
    assert_eq!(d.state, DeliveryState::Pending);
    assert_eq!(d.attempts, 1);
    assert_eq!(
        d.retry_from,
        t0() + Duration::minutes(1),
        "the dead-after bound counts anew"
    );
    assert_eq!(d.last_status, Some(410), "the history stays");
    assert!(matches!(
        tx.redeliver(uuid::Uuid::now_v7(), t0()).await,
        Err(StoreError::NotFound { .. })
    ));
    tx.commit().await.unwrap();
    // Redelivered: due at once.
    let mut tx = store.write().await.unwrap();
    let back = tx
        .claim_deliveries(
            uuid::Uuid::now_v7(),
            t0() + Duration::minutes(1),
            Duration::seconds(30),
            10,
        )
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].0.id, second.id);
    // Removing a subscription drops its pending deliveries; one with
    // nothing else is deleted, one with history is deactivated, and neither
    // gets more events.
    tx.delete_webhook(requests_only.id).await.unwrap();
    assert!(matches!(
        tx.get_webhook(requests_only.id).await,
        Err(StoreError::NotFound { .. })
    ));
    tx.delete_webhook(all.id).await.unwrap();
    assert!(!tx.get_webhook(all.id).await.unwrap().active);
    tx.insert_event(&outbox_event("request.created"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(
        tx.claim_deliveries(
            uuid::Uuid::now_v7(),
            t0() + Duration::minutes(2),
            Duration::seconds(30),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    tx.commit().await.unwrap();
}

/// Several claimers at once (one server's workers, or several servers)
/// never get the same delivery while its lease holds.
async fn concurrent_claims_never_overlap(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let mut tx = store.write().await.unwrap();
    tx.insert_webhook(&hook(&org, vec!["*"])).await.unwrap();
    for _ in 0..200 {
        tx.insert_event(&outbox_event("request.created"))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let mut tx = store.write().await.unwrap();
                let batch = tx
                    .claim_deliveries(
                        uuid::Uuid::now_v7(),
                        t0() + Duration::seconds(1),
                        Duration::seconds(60),
                        7,
                    )
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                if batch.is_empty() {
                    break mine;
                }
                mine.extend(batch.into_iter().map(|(d, _, _)| d.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut all = Vec::new();
    let mut claimers = 0;
    for t in tasks {
        let mine = t.await.unwrap();
        claimers += usize::from(!mine.is_empty());
        all.extend(mine);
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "a delivery was claimed twice");
    assert_eq!(n, 200);
    assert!(claimers >= 1);
}

async fn pages_walk_the_whole_list(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let total = org.people().len();
    let mut tx = store.read().await.unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = tx
            .list_people(&PeopleFilter::default(), &page)
            .await
            .unwrap();
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|x| x.name.clone()));
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let search = PeopleFilter {
        search: Some("RITA".into()),
        ..Default::default()
    };
    assert_eq!(
        tx.list_people(&search, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let pms = PeopleFilter {
        role: Some(Role::Pm),
        ..Default::default()
    };
    assert_eq!(
        tx.list_people(&pms, &PageRequest::first(10))
            .await
            .unwrap()
            .items,
        vec![org.pm.clone()]
    );
    let bad = PageRequest {
        after: Some("not-a-cursor".into()),
        limit: 2,
    };
    assert!(matches!(
        tx.list_people(&PeopleFilter::default(), &bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        tx.list_requests(&RequestFilter::default(), &bad).await,
        Err(StoreError::Invalid(_))
    ));
}

/// A single statement's read runs outside any transaction, sees what was
/// committed, and ends however it is let go; debug builds stop at a second
/// statement on it, since two would not share one view of the data.
async fn a_single_read_needs_no_transaction(db: &TestDb) {
    let org = seeded(db).await;
    let store = db.store();
    let r = request(&org);
    let mut tx = store.write().await.unwrap();
    ask(tx.as_mut(), &r, &org).await;
    tx.commit().await.unwrap();

    let mut one = store.read_single().await.unwrap();
    let page = one
        .list_requests(&RequestFilter::default(), &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(page.items.iter().map(|x| x.id).collect::<Vec<_>>(), [r.id]);
    one.commit().await.unwrap();

    let mut one = store.read_single().await.unwrap();
    let missing = RequestId::new();
    assert!(matches!(
        one.get_request(missing).await,
        Err(StoreError::NotFound { .. })
    ));
    one.rollback().await.unwrap();

    // Let go without an end: the connection is free for the next read, and
    // a write goes through.
    let mut one = store.read_single().await.unwrap();
    assert_eq!(one.get_request(r.id).await.unwrap().id, r.id);
    drop(one);
    let second = request(&org);
    let mut tx = store.write().await.unwrap();
    ask(tx.as_mut(), &second, &org).await;
    tx.commit().await.unwrap();
    let mut one = store.read_single().await.unwrap();
    assert_eq!(
        one.list_requests(&RequestFilter::default(), &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    drop(one);

    if cfg!(debug_assertions) {
        let store = store.clone();
        let twice = tokio::spawn(async move {
            let mut one = store.read_single().await.unwrap();
            let _ = one.get_request(r.id).await;
            let _ = one.get_request(r.id).await;
        })
        .await;
        assert!(twice.is_err_and(|e| e.is_panic()), "a second statement ran");
        // The reader the panicked task held is back.
        let mut one = db.store().read_single().await.unwrap();
        assert_eq!(one.get_request(r.id).await.unwrap().id, r.id);
    }
}

on_both_engines!(
    migrations_are_idempotent,
    has_calendar_meetings_until_none_was_ever_stored,
    attendees_read_back_in_the_short_and_the_full_form,
    a_single_read_needs_no_transaction,
    deferred_writes_are_read_back_or_undone,
    an_abandoned_write_does_not_lock_out_other_processes,
    concurrent_writers_commit_or_fail_alone,
    a_long_write_does_not_hold_back_the_writes_before_it,
    writers_that_go_away_half_way_leave_nobody_waiting,
    a_closed_store_is_unavailable,
    org_round_trips,
    not_found_is_not_found,
    unique_violations_are_conflicts,
    violations_name_the_account_and_who_of_every_kind,
    upserts_are_idempotent,
    a_failure_half_way_leaves_nothing,
    requests_move_with_optimistic_checks,
    calendar_meetings_upsert_by_natural_key,
    a_withdrawn_meeting_stays_withdrawn_against_older_versions,
    calendar_meetings_upsert_in_batches,
    contact_rollups_add_up_over_many_statements,
    decisions_insert_in_batches,
    workflows_round_trip,
    decisions_are_logged_and_found_by_rule,
    the_audit_chain_verifies_and_catches_tampering,
    playbook_and_charter_versions,
    signals_alerts_and_reviews,
    tokens_sessions_and_rate_limits,
    the_outbox_fans_out_and_leases,
    deliveries_go_to_the_active_webhooks_that_want_the_event,
    concurrent_claims_never_overlap,
    pages_walk_the_whole_list,
);

/// Both engines reach the same logical schema: the same tables with the
/// same columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_have_the_same_schema() {
    let sqlite = TestDb::sqlite().await;
    let Some(pg) = TestDb::postgres().await else {
        sqlite.finish().await;
        return;
    };
    let a = sqlite.store().schema().await.unwrap();
    let b = pg.store().schema().await.unwrap();
    assert!(a.len() >= 25, "{} tables", a.len());
    assert_eq!(a, b);
    sqlite.finish().await;
    pg.finish().await;
}

/// An unknown scheme or an unreachable database is a clear one-line error.
#[tokio::test]
async fn bad_urls_are_clear_errors() {
    let e = EngineKind::from_url("mysql://root@localhost/x")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid: unknown database scheme \"mysql\""),
        "{e}"
    );
    let e = accord_store_postgres::open("postgres://nobody:secret@127.0.0.1:1/none")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "database unavailable: cannot connect to postgres://nobody:***@127.0.0.1:1/none"
        ),
        "{e}"
    );
    assert!(!e.contains('\n') && !e.contains("secret"), "{e}");
    let e = accord_store_sqlite::open("sqlite:///nonexistent-dir/x/y.db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("database unavailable: cannot open sqlite:///nonexistent-dir/x/y.db"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
}

/// SQLite's migration 0006 turns a meeting's times from RFC 3339 text into
/// microseconds: meetings stored before it read back the same after it
/// (whole seconds, fractions of every length, another offset, no
/// LAST-MODIFIED), are found by window and by person, and what refers to
/// them still does.
#[tokio::test]
async fn sqlite_meetings_stored_as_text_read_back_after_migration_6() {
    let path = std::env::temp_dir().join(format!("accord-test-{}.db", uuid::Uuid::now_v7()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let before = sqlx::migrate::Migrator::with_migrations(
        accord_store_sqlite::MIGRATOR
            .iter()
            .filter(|m| m.version < 6)
            .cloned()
            .collect(),
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    before.run(&pool).await.unwrap();
    let (pm, acme) = (PersonId::new(), AccountId::new());
    // The calendar one under the id its natural key gives (as imports
    // store them), so that an import finds it again.
    let m1 = MeetingId::from_calendar("evt-1", "2026-03-02T09:30:00+00:00");
    let m2 = MeetingId::new();
    let hex = |u: uuid::Uuid| u.simple().to_string();
    let attendees = format!(
        r#"[{{"e":"buyer@acme.com"}},{{"e":"pm@example.com","p":"{}"}}]"#,
        pm.0
    );
    let sql = format!(
        "INSERT INTO people (id, email, name, role, created_at, updated_at) VALUES (X'{p}', 'pm@example.com', 'Pat', 'pm', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');
         INSERT INTO accounts (id, name, owner_id, created_at, updated_at) VALUES (X'{a}', 'Acme', X'{p}', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');
         INSERT INTO meetings (id, account_id, title, starts_at, ends_at, source, cal_uid, cal_occurrence, cal_sequence, cal_modified, owner_id, owner_present, pm_count, customer_count, internal_count, attendees, created_at, updated_at)
           VALUES (X'{m1}', X'{a}', 'QBR', '2026-03-02T09:30:00.123456+00:00', '2026-03-02T10:30:00.5+00:00', 'calendar', 'evt-1', '2026-03-02T09:30:00+00:00', 3, '2026-02-01T08:00:00.25-05:00', X'{p}', 0, 1, 1, 1, '{attendees}', '2026-02-03T00:00:00.000001+00:00', '2026-02-03T00:00:00.123+00:00'),
                  (X'{m2}', X'{a}', 'Call', '2026-04-01T15:00:00+00:00', '2026-04-01T15:30:00+00:00', 'logged', NULL, NULL, NULL, NULL, X'{p}', 0, 1, 1, 1, '{attendees}', '2026-04-01T16:00:00+00:00', '2026-04-01T16:00:00+00:00');
         INSERT INTO meeting_people (person_id, starts_at, meeting_id, attended) VALUES
           (X'{p}', '2026-03-02T09:30:00.123456+00:00', X'{m1}', 1),
           (X'{p}', '2026-04-01T15:00:00+00:00', X'{m2}', 1);
         INSERT INTO commitments (id, account_id, meeting_id, kind, text, to_whom, said_by, present, said_at, state, created_at, updated_at)
           VALUES (X'{c}', X'{a}', X'{m1}', 'feature', 'SSO', 'Acme', X'{p}', '[]', '2026-03-02T10:00:00+00:00', 'open', '2026-03-02T10:00:00+00:00', '2026-03-02T10:00:00+00:00');",
        p = hex(pm.0),
        a = hex(acme.0),
        m1 = hex(m1.0),
        m2 = hex(m2.0),
        c = hex(uuid::Uuid::now_v7()),
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let opened = accord_store_sqlite::open(&url).await.unwrap();
    assert!(opened.applied.contains(&6), "{:?}", opened.applied);
    let store = opened.store;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let mut tx = store.read().await.unwrap();
    let got = tx.get_meeting(m1).await.unwrap();
    assert_eq!(got.meeting.starts_at, at("2026-03-02T09:30:00.123456Z"));
    assert_eq!(got.meeting.ends_at, at("2026-03-02T10:30:00.5Z"));
    assert_eq!(got.cal_modified, Some(at("2026-02-01T13:00:00.25Z")));
    assert_eq!(got.cal_sequence, Some(3));
    let who = |m: &StoredMeeting| m.meeting.attendees.iter().find_map(|a| a.person);
    assert_eq!(who(&got), Some(pm));
    let logged = tx.get_meeting(m2).await.unwrap();
    assert_eq!(logged.meeting.starts_at, at("2026-04-01T15:00:00Z"));
    assert_eq!(logged.cal_modified, None);
    // By window (the index on the start) and by person (meeting_people).
    let march = MeetingFilter {
        person: Some(pm),
        from: Some(at("2026-03-02T09:30:00.123456Z")),
        to: Some(at("2026-04-01T15:00:00Z")),
        ..Default::default()
    };
    let found = tx
        .list_meetings(&march, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|m| m.meeting.id).collect::<Vec<_>>(),
        vec![m1]
    );
    drop(tx);
    // An import's replacement finds the migrated attendance rows to delete.
    let mut newer = got.clone();
    newer.cal_sequence = Some(4);
    newer.meeting.starts_at = at("2026-03-03T09:30:00Z");
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        tx.upsert_calendar_meeting(&newer).await.unwrap(),
        (m1, Upserted::Updated)
    );
    tx.commit().await.unwrap();
    store.close().await;

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (kinds, people, broken, committed): (String, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT group_concat(DISTINCT typeof(starts_at) || typeof(ends_at) || typeof(created_at) || typeof(updated_at)) FROM meetings),
                (SELECT count(*) FROM meeting_people),
                (SELECT count(*) FROM pragma_foreign_key_check),
                (SELECT count(*) FROM commitments c JOIN meetings m ON m.id = c.meeting_id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (kinds.as_str(), people, broken, committed),
        ("integerintegerintegerinteger", 2, 0, 1)
    );
    pool.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// PostgreSQL's migration 0006 turns the attendees column from JSON text
/// into bytes: a meeting stored before it reads back the same after it,
/// and is replaced by an import as any other.
#[tokio::test]
async fn postgres_attendees_stored_as_json_read_back_after_migration_6() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let pm = PersonId::new();
    let id = MeetingId::from_calendar("evt-1", "2026-03-02T09:30:00+00:00");
    // Back to the schema before 0006, with a meeting as it stored them.
    db.execute(&format!(
        "ALTER TABLE meetings ALTER COLUMN attendees TYPE TEXT USING convert_from(attendees, 'UTF8');
         DELETE FROM _sqlx_migrations WHERE version = 6;
         INSERT INTO meetings (id, title, starts_at, ends_at, source, cal_uid, cal_occurrence, cal_sequence, owner_present, pm_count, customer_count, internal_count, attendees, created_at, updated_at)
           VALUES ('{}', 'QBR', '2026-03-02T09:30:00.123456Z', '2026-03-02T10:30:00Z', 'calendar', 'evt-1', '2026-03-02T09:30:00+00:00', 1, FALSE, 1, 1, 1,
                   '[{{\"e\":\"buyer@acme.com\",\"r\":\"tentative\"}},{{\"e\":\"pm@example.com\",\"p\":\"{}\",\"o\":true}}]', now(), now());",
        id.0, pm.0
    ))
    .await;
    let store = db.open_again().await;
    let got = store.read().await.unwrap().get_meeting(id).await.unwrap();
    let expected = vec![
        Attendee {
            email: email("buyer@acme.com"),
            person: None,
            response: ResponseStatus::Tentative,
            organizer: false,
        },
        Attendee {
            email: email("pm@example.com"),
            person: Some(pm),
            response: ResponseStatus::Accepted,
            organizer: true,
        },
    ];
    assert_eq!(got.meeting.attendees, expected);
    let mut newer = got.clone();
    newer.cal_sequence = Some(2);
    newer.meeting.attendees[0].response = ResponseStatus::Declined;
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        tx.upsert_calendar_meeting(&newer).await.unwrap(),
        (id, Upserted::Updated)
    );
    tx.commit().await.unwrap();
    let again = store.read().await.unwrap().get_meeting(id).await.unwrap();
    assert_eq!(
        again.meeting.attendees[0].response,
        ResponseStatus::Declined
    );
    assert_eq!(again.meeting.attendees[1], expected[1]);
    store.close().await;
    db.finish().await;
}
