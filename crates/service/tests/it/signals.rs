//! Signals on hand-built records: each metric's numerator, denominator and
//! status, with the edge cases — no data, below the minimum sample, exactly
//! at a threshold, the window's boundaries, declined attendees — and the
//! alerts and reviews they lead to.

use accord_domain::access::{AccessPurpose, AccessRequest, AccessState};
use accord_domain::account::Opportunity;
use accord_domain::commitment::{Commitment, CommitmentKind, CommitmentState};
use accord_domain::exception::{Exception, ExceptionState};
use accord_domain::id::*;
use accord_domain::insight::InsightKind;
use accord_domain::meeting::ResponseStatus;
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::request::{EngagementRequest, Purpose, RequestState};
use accord_domain::rules::{Decision, Effect, RuleMatch};
use accord_domain::signal::{AlertState, ReviewOutcome, SignalPoint, SignalStatus, SignalValue};
use accord_service::Caller;
use accord_service::contacts::{NewAttendee, NewInsight, NewMeeting};
use accord_store::DecisionRecord;
use accord_testkit::{TestDb, on_both_engines};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::support::World;

/// The last day of every window here; the 90-day window is
/// 2026-01-01 ..= 2026-03-31.
fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).single().unwrap()
}

/// A world whose clock stands after the window, so every record here is
/// in the past.
async fn world(db: &TestDb) -> World {
    let w = World::new(db).await;
    w.clock.set(at(2026, 4, 2, 9, 0, 0));
    w
}

/// The value of `signal` for `subject`, if computed.
fn value<'a>(values: &'a [SignalValue], signal: &str, subject: &str) -> Option<&'a SignalValue> {
    values
        .iter()
        .find(|v| v.signal.as_str() == signal && v.subject == subject)
}

/// (numerator, denominator, status) of a value that must exist.
fn nds(values: &[SignalValue], signal: &str, subject: &str) -> (f64, f64, SignalStatus) {
    let v = value(values, signal, subject)
        .unwrap_or_else(|| panic!("no value of {signal} for {subject}: {values:#?}"));
    (v.numerator, v.denominator, v.status)
}

/// A customer meeting the PM logs after the fact: the customer's CIO, the
/// PM and the rep (the account's owner) with the given responses; `None`
/// leaves that person out.
async fn meet(
    w: &World,
    starts: DateTime<Utc>,
    pm: Option<ResponseStatus>,
    rep: Option<ResponseStatus>,
) -> MeetingId {
    let mut attendees = vec![NewAttendee {
        email: "cio@acme.com".into(),
        response: Some(ResponseStatus::Accepted),
    }];
    if let Some(r) = pm {
        attendees.push(NewAttendee {
            email: w.org.pm.email.to_string(),
            response: Some(r),
        });
    }
    if let Some(r) = rep {
        attendees.push(NewAttendee {
            email: w.org.rep.email.to_string(),
            response: Some(r),
        });
    }
    // Logged by whoever was there from our side.
    let by = if pm.is_some() { &w.org.pm } else { &w.org.rep };
    let logged = w
        .service
        .log_meeting(
            &w.as_(by),
            NewMeeting {
                id: None,
                account: Some(w.org.account.id),
                title: "Account review".into(),
                starts_at: starts,
                ends_at: starts + Duration::minutes(45),
                attendees,
                planned: false,
                request: None,
            },
        )
        .await
        .unwrap();
    logged.record.meeting.id
}

async fn insight(w: &World, meeting: MeetingId) {
    w.service
        .create_insight(
            &w.as_(&w.org.pm),
            NewInsight {
                account: w.org.account.id,
                meeting: Some(meeting),
                kind: InsightKind::ContextOfUse,
                product_area: "reporting".into(),
                text: "They export every report to a spreadsheet first.".into(),
            },
        )
        .await
        .unwrap();
}

const ACCEPTED: Option<ResponseStatus> = Some(ResponseStatus::Accepted);
const DECLINED: Option<ResponseStatus> = Some(ResponseStatus::Declined);

async fn customer_contacts_count_attendance_inside_the_window(db: &TestDb) {
    let w = world(db).await;

    // No data: no rate has a subject; every active PM (and PM lead) has
    // zero contacts a month, which is the problem exposure is for.
    let none = w.service.compute_signals(as_of(), None).await.unwrap();
    assert!(value(&none, "owner-presence", w.org.pm.email.as_str()).is_none());
    assert!(value(&none, "insight-capture", w.org.pm.email.as_str()).is_none());
    let (n, d, s) = nds(&none, "pm-customer-exposure", w.org.pm.email.as_str());
    assert_eq!((n, d, s), (0.0, 3.0, SignalStatus::Act));
    assert!(value(&none, "pm-customer-exposure", w.org.pm_lead.email.as_str()).is_some());
    assert!(
        value(&none, "pm-customer-exposure", w.org.rep.email.as_str()).is_none(),
        "reps are not measured on customer exposure"
    );

    // Six contacts with the owner, the first at the window's first instant
    // and one in the last minutes of its last day.
    let first = meet(&w, at(2026, 1, 1, 0, 0, 0), ACCEPTED, ACCEPTED).await;
    let second = meet(&w, at(2026, 2, 3, 10, 0, 0), ACCEPTED, ACCEPTED).await;
    for day in [10, 17, 24] {
        meet(
            &w,
            at(2026, 2, day, 10, 0, 0),
            ACCEPTED,
            Some(ResponseStatus::Tentative),
        )
        .await;
    }
    meet(&w, at(2026, 3, 31, 23, 15, 0), ACCEPTED, ACCEPTED).await;
    // Two without: the owner declined, the owner was not invited.
    meet(&w, at(2026, 3, 3, 10, 0, 0), ACCEPTED, DECLINED).await;
    meet(&w, at(2026, 3, 5, 10, 0, 0), ACCEPTED, None).await;
    // Not a PM contact: the PM declined.
    meet(&w, at(2026, 3, 10, 10, 0, 0), DECLINED, ACCEPTED).await;
    // Outside the window: a second before it, and the instant after it.
    meet(&w, at(2025, 12, 31, 23, 59, 59), ACCEPTED, None).await;
    meet(&w, at(2026, 4, 1, 0, 0, 0), ACCEPTED, None).await;
    // Two insights from the first contact count it once; one from the
    // second.
    insight(&w, first).await;
    insight(&w, first).await;
    insight(&w, second).await;

    let v = w.service.compute_signals(as_of(), None).await.unwrap();
    let pm = w.org.pm.email.as_str();
    let rep = w.org.rep.email.as_str();
    // Owner presence: 6 of 8, exactly at the act threshold (0.75, lower is
    // worse) — at the line is across it.
    assert_eq!(nds(&v, "owner-presence", pm), (6.0, 8.0, SignalStatus::Act));
    assert_eq!(
        nds(&v, "owner-presence-rep", rep),
        (6.0, 8.0, SignalStatus::Act)
    );
    // The pair needs 10 contacts: 8 is too few to judge.
    assert_eq!(
        nds(&v, "owner-presence-pair", "Platform PM / EMEA Enterprise"),
        (6.0, 8.0, SignalStatus::InsufficientData)
    );
    // Insight capture: 2 of 8 contacts, exactly at act (0.25).
    assert_eq!(
        nds(&v, "insight-capture", pm),
        (2.0, 8.0, SignalStatus::Act)
    );
    // Exposure: 8 contacts over 3 months = 2.67 a month, between act (2)
    // and watch (4).
    let (n, d, s) = nds(&v, "pm-customer-exposure", pm);
    assert_eq!((n, d, s), (8.0, 3.0, SignalStatus::Watch));

    // One more contact with the owner moves presence off the line.
    meet(&w, at(2026, 3, 20, 10, 0, 0), ACCEPTED, ACCEPTED).await;
    let v = w.service.compute_signals(as_of(), None).await.unwrap();
    assert_eq!(
        nds(&v, "owner-presence", pm),
        (7.0, 9.0, SignalStatus::Watch)
    );
    assert_eq!(
        nds(&v, "insight-capture", pm),
        (2.0, 9.0, SignalStatus::Act)
    );

    // The window ends with `as_of`: a day later, the first contact has left
    // it and the one at midnight has entered.
    let next = as_of() + Duration::days(1);
    let v = w.service.compute_signals(next, None).await.unwrap();
    assert_eq!(nds(&v, "owner-presence", pm), (6.0, 9.0, SignalStatus::Act));
    assert_eq!(
        nds(&v, "insight-capture", pm),
        (1.0, 9.0, SignalStatus::Act)
    );

    // The report's contacts and violations cover the same window.
    let report = w
        .service
        .report(&Caller::Local("cli"), as_of(), None, None)
        .await
        .unwrap();
    assert_eq!(report.window_days, 90);
    assert_eq!(report.contacts.pm_contacts, 9);
    assert_eq!(
        report.contacts.customer_contacts, 10,
        "the meeting the PM declined is still a customer contact"
    );
    let owner_present: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.rule == "owner-present")
        .collect();
    assert_eq!(owner_present.len(), 2, "{:#?}", report.violations);
    assert!(owner_present.iter().all(|v| v.person.as_deref() == Some(pm)
        && v.account.as_deref() == Some("Acme Corporation")
        && v.record_kind == "meeting"));
    assert_eq!(report.violations_total, report.violations.len() as i64);
    // Latest first.
    assert!(report.violations.windows(2).all(|p| p[0].at >= p[1].at));
    // A shorter window is a different count.
    let short = w
        .service
        .report(&Caller::Local("cli"), as_of(), Some(30), None)
        .await
        .unwrap();
    assert_eq!(short.contacts.pm_contacts, 4);
    assert!(short.signals.iter().all(|s| s.window_days == 30));
}

fn request(w: &World, opp: &Opportunity, ty: &str, created: DateTime<Utc>) -> EngagementRequest {
    EngagementRequest {
        id: RequestId::new(),
        opportunity: opp.id,
        account: opp.account,
        requester: w.org.rep.id,
        pm: Some(w.org.pm.id),
        engagement_type: EngagementTypeId::parse(ty).unwrap(),
        purpose: Purpose::Direction,
        briefing: "Their CIO asks where reporting is going.".into(),
        needed_at: created + Duration::days(10),
        created_at: created,
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

fn done(r: EngagementRequest, hours: f64, completed: DateTime<Utc>) -> EngagementRequest {
    EngagementRequest {
        state: RequestState::Done,
        outcome: Some("Went well.".into()),
        hours: Some(hours),
        completed_at: Some(completed),
        ..r
    }
}

fn decision(
    record: RecordRef,
    rule: &str,
    effect: Effect,
    applied: Effect,
    at: DateTime<Utc>,
) -> DecisionRecord {
    DecisionRecord {
        id: DecisionId::new(),
        record,
        decision: Decision {
            kind: record.kind,
            effect: applied,
            matched: vec![RuleMatch {
                rule: RuleId::parse(rule).unwrap(),
                effect,
                applied,
                message: "matched".into(),
                cites: None,
                excepted: applied != effect,
                approver: None,
            }],
        },
        playbook_version: Some(1),
        at,
    }
}

async fn requests_count_hours_ambushes_and_gaps(db: &TestDb) {
    let w = world(db).await;
    let solution = w.org.opportunity.clone();
    let qualification = Opportunity {
        id: OpportunityId::new(),
        name: "Acme — early talks".into(),
        stage: StageId::parse("qualification").unwrap(),
        ..solution.clone()
    };
    let mut tx = w.service.store().write().await.unwrap();
    tx.upsert_opportunity(&qualification).await.unwrap();
    // Sales-support share, in hours of done requests: a 2-hour demo and a
    // 6-hour roadmap briefing done in the window — 2 of 8, exactly at act.
    let t = at(2026, 2, 2, 9, 0, 0);
    tx.insert_request(&done(
        request(&w, &solution, "demo", t),
        2.0,
        at(2026, 2, 5, 12, 0, 0),
    ))
    .await
    .unwrap();
    tx.insert_request(&done(
        request(&w, &solution, "roadmap-briefing", t),
        6.0,
        at(2026, 3, 31, 23, 0, 0),
    ))
    .await
    .unwrap();
    // Done outside the window (created inside it), and not done at all:
    // neither counts for the share.
    tx.insert_request(&done(
        request(&w, &solution, "demo", t),
        40.0,
        at(2026, 4, 1, 0, 0, 0),
    ))
    .await
    .unwrap();
    tx.insert_request(&request(&w, &solution, "demo", t))
        .await
        .unwrap();
    // Ambushes and gaps, among requests created in the window: 8 in all,
    // 2 of them at the qualification stage (where the model has no PM
    // role), 4 flagged by the no-ambush rule.
    let mut created = Vec::new();
    for i in 0..6 {
        let r = request(
            &w,
            &solution,
            "roadmap-briefing",
            at(2026, 3, 1 + i, 9, 0, 0),
        );
        tx.insert_request(&r).await.unwrap();
        created.push(r);
    }
    for i in 0..2 {
        let r = request(
            &w,
            &qualification,
            "roadmap-briefing",
            at(2026, 3, 10 + i, 9, 0, 0),
        );
        tx.insert_request(&r).await.unwrap();
        created.push(r);
    }
    let rec = |r: &EngagementRequest| RecordRef {
        kind: RecordKind::Request,
        id: r.id.0,
    };
    let mut decisions: Vec<DecisionRecord> = created[..4]
        .iter()
        .map(|r| {
            decision(
                rec(r),
                "no-ambush",
                Effect::Warn,
                Effect::Warn,
                r.created_at,
            )
        })
        .collect();
    // A second decision on a flagged request (a redirect) counts it once.
    decisions.push(decision(
        rec(&created[0]),
        "no-ambush",
        Effect::Warn,
        Effect::Warn,
        created[0].created_at + Duration::hours(1),
    ));
    tx.insert_decisions(&decisions).await.unwrap();
    // Created before the window, flagged: neither the count nor the flag.
    let old = request(
        &w,
        &solution,
        "roadmap-briefing",
        at(2025, 12, 31, 23, 59, 59),
    );
    tx.insert_request(&old).await.unwrap();
    tx.insert_decisions(&[decision(
        rec(&old),
        "no-ambush",
        Effect::Warn,
        Effect::Warn,
        old.created_at,
    )])
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let v = w.service.compute_signals(as_of(), None).await.unwrap();
    let pm = w.org.pm.email.as_str();
    let rep = w.org.rep.email.as_str();
    assert_eq!(
        nds(&v, "sales-support-share", pm),
        (2.0, 8.0, SignalStatus::Act)
    );
    // The sales team needs 16 hours to be judged.
    assert_eq!(
        nds(&v, "sales-support-share-team", "EMEA Enterprise"),
        (2.0, 8.0, SignalStatus::InsufficientData)
    );
    // Ambushes: the 8 requests created in the window plus the 4 created
    // and completed or left open in it on 2 February: 12; 4 flagged.
    assert_eq!(
        nds(&v, "ambush-rate", rep),
        (4.0, 12.0, SignalStatus::Watch)
    );
    // Gaps: 2 of 12 at the qualification stage: watch (0.1 ..< 0.25).
    assert_eq!(
        nds(&v, "model-gaps", "EMEA Enterprise"),
        (2.0, 12.0, SignalStatus::Watch)
    );
    let gap = 2.0 / 12.0;
    assert!((value(&v, "model-gaps", "EMEA Enterprise").unwrap().value - gap).abs() < 1e-12);
}

async fn access_commitments_and_exceptions(db: &TestDb) {
    let w = world(db).await;
    let mut tx = w.service.store().write().await.unwrap();
    let access = |state: AccessState, answered: Option<DateTime<Utc>>| AccessRequest {
        id: AccessRequestId::new(),
        pm: w.org.pm.id,
        account: w.org.account.id,
        owner: Some(w.org.rep.id),
        purpose: AccessPurpose::Discovery,
        agenda: "How they report to the board.".into(),
        wanted_at: None,
        created_at: at(2026, 1, 5, 9, 0, 0),
        state,
        conditions: None,
        reason: (state == AccessState::Denied).then(|| "Not now.".into()),
        answered_by: answered.map(|_| w.org.rep.id),
        answered_at: answered,
    };
    // Five answered in the window, two of them denials: 0.4, exactly at
    // act. A denial answered after the window and a request not yet
    // answered do not count.
    for (state, day) in [
        (AccessState::Denied, 10),
        (AccessState::Denied, 20),
        (AccessState::Granted, 11),
        (AccessState::Granted, 12),
        (AccessState::GrantedWithConditions, 13),
    ] {
        tx.insert_access(&access(state, Some(at(2026, 2, day, 9, 0, 0))))
            .await
            .unwrap();
    }
    tx.insert_access(&access(AccessState::Denied, Some(at(2026, 4, 1, 0, 0, 0))))
        .await
        .unwrap();
    tx.insert_access(&access(AccessState::Pending, None))
        .await
        .unwrap();

    // Commitments: rejected; pending since 17 March (two weeks by the 31st:
    // unapproved); pending since 18 March (not yet); approved. 2 of 4.
    let commitment = |state: CommitmentState, said: DateTime<Utc>| Commitment {
        id: CommitmentId::new(),
        account: w.org.account.id,
        meeting: None,
        kind: CommitmentKind::Feature,
        text: "Scheduled exports in the summer release.".into(),
        to_whom: "CIO".into(),
        said_by: w.org.pm.id,
        present: vec![w.org.rep.id],
        said_at: said,
        state,
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    for (state, said) in [
        (CommitmentState::Rejected, at(2026, 2, 1, 9, 0, 0)),
        (CommitmentState::Pending, at(2026, 3, 17, 23, 0, 0)),
        (CommitmentState::Pending, at(2026, 3, 18, 0, 0, 0)),
        (CommitmentState::Approved, at(2026, 3, 1, 9, 0, 0)),
    ] {
        tx.insert_commitment(&commitment(state, said))
            .await
            .unwrap();
    }

    // Exceptions to owner-present: six blocking decisions in the window,
    // three exceptions approved in it — 0.5, exactly at act. A decision
    // and an approved exception outside the window, a rejected one in it:
    // none counts.
    let meeting = |i: u32| RecordRef {
        kind: RecordKind::Meeting,
        id: uuid::Uuid::from_u128(u128::from(i) + 1),
    };
    let mut ds = Vec::new();
    for i in 0..6 {
        let applied = if i < 3 { Effect::Audit } else { Effect::Deny };
        ds.push(decision(
            meeting(i),
            "owner-present",
            Effect::Deny,
            applied,
            at(2026, 3, 1 + i, 9, 0, 0),
        ));
    }
    ds.push(decision(
        meeting(9),
        "owner-present",
        Effect::Deny,
        Effect::Deny,
        at(2025, 12, 1, 9, 0, 0),
    ));
    tx.insert_decisions(&ds).await.unwrap();
    let exception = |i: u32, state: ExceptionState, requested: DateTime<Utc>| Exception {
        id: ExceptionId::new(),
        rule: RuleId::parse("owner-present").unwrap(),
        record: meeting(i),
        reason: "The rep asked the PM to go alone.".into(),
        requested_by: w.org.pm.id,
        requested_at: requested,
        expires_at: None,
        state,
        decided_by: Some(w.org.manager.id),
        decided_at: Some(requested + Duration::hours(1)),
        decision_note: None,
    };
    for i in 0..3 {
        tx.insert_exception(&exception(
            i,
            ExceptionState::Approved,
            at(2026, 3, 1 + i, 8, 0, 0),
        ))
        .await
        .unwrap();
    }
    tx.insert_exception(&exception(
        4,
        ExceptionState::Denied,
        at(2026, 3, 5, 8, 0, 0),
    ))
    .await
    .unwrap();
    tx.insert_exception(&exception(
        9,
        ExceptionState::Approved,
        at(2025, 12, 1, 8, 0, 0),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let v = w.service.compute_signals(as_of(), None).await.unwrap();
    let pm = w.org.pm.email.as_str();
    let rep = w.org.rep.email.as_str();
    assert_eq!(
        nds(&v, "restricted-access", rep),
        (2.0, 5.0, SignalStatus::Act)
    );
    // The pair needs 8.
    assert_eq!(
        nds(
            &v,
            "restricted-access-pair",
            "Platform PM / EMEA Enterprise"
        ),
        (2.0, 5.0, SignalStatus::InsufficientData)
    );
    assert_eq!(
        nds(&v, "unapproved-commitments", pm),
        (2.0, 4.0, SignalStatus::Act)
    );
    assert_eq!(
        nds(&v, "exception-rate", "owner-present"),
        (3.0, 6.0, SignalStatus::Act)
    );

    // Deterministic for a given as_of.
    let again = w.service.compute_signals(as_of(), None).await.unwrap();
    assert_eq!(v, again);

    // A day earlier the pending commitment of 17 March is not yet two
    // weeks old.
    let v = w
        .service
        .compute_signals(as_of() - Duration::days(1), None)
        .await
        .unwrap();
    assert_eq!(
        nds(&v, "unapproved-commitments", pm),
        (1.0, 4.0, SignalStatus::Act)
    );
}

async fn act_opens_one_alert_for_the_leaders_and_a_review_ends_it(db: &TestDb) {
    let w = world(db).await;
    // The rep denies four of five access requests.
    let mut tx = w.service.store().write().await.unwrap();
    for (i, state) in [
        AccessState::Denied,
        AccessState::Denied,
        AccessState::Denied,
        AccessState::Denied,
        AccessState::Granted,
    ]
    .into_iter()
    .enumerate()
    {
        let answered = at(2026, 3, 2 + i as u32, 9, 0, 0);
        tx.insert_access(&AccessRequest {
            id: AccessRequestId::new(),
            pm: w.org.pm.id,
            account: w.org.account.id,
            owner: Some(w.org.rep.id),
            purpose: AccessPurpose::Feedback,
            agenda: "Their view of the new reports.".into(),
            wanted_at: None,
            created_at: answered - Duration::days(1),
            state,
            conditions: None,
            reason: None,
            answered_by: Some(w.org.rep.id),
            answered_at: Some(answered),
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let run = w.service.run_signals(as_of()).await.unwrap();
    let alerts = w
        .service
        .alerts(
            &w.as_(&w.org.manager),
            false,
            false,
            &accord_store::PageRequest::first(50),
        )
        .await
        .unwrap()
        .items;
    let restricted: Vec<_> = alerts
        .iter()
        .filter(|a| a.signal.as_str() == "restricted-access")
        .collect();
    assert_eq!(restricted.len(), 1);
    let alert = restricted[0];
    assert!(run.opened.contains(&alert.id));
    assert_eq!(alert.subject, w.org.rep.email.as_str());
    assert_eq!(alert.state, AlertState::Open);
    // Addressed to the rep's sales manager and the PM lead.
    let mut expected = vec![w.org.manager.id, w.org.pm_lead.id];
    expected.sort();
    assert_eq!(alert.addressed_to, expected);
    assert_eq!(
        alert.evidence.len(),
        4,
        "the four denials: {:?}",
        alert.evidence
    );
    assert!(
        alert
            .evidence
            .iter()
            .all(|e| e.starts_with("/api/v1/access/"))
    );
    // The manager sees it among their own.
    let mine = w
        .service
        .alerts(
            &w.as_(&w.org.manager),
            false,
            true,
            &accord_store::PageRequest::first(50),
        )
        .await
        .unwrap()
        .items;
    assert!(mine.iter().any(|a| a.id == alert.id));
    // A PM does not read alerts.
    assert!(
        w.service
            .alerts(
                &w.as_(&w.org.pm),
                false,
                false,
                &accord_store::PageRequest::first(50)
            )
            .await
            .is_err()
    );

    // The next day's run keeps the one alert.
    let again = w
        .service
        .run_signals(as_of() + Duration::days(1))
        .await
        .unwrap();
    assert!(!again.opened.contains(&alert.id));
    let open: Vec<_> = w
        .service
        .alerts(
            &w.as_(&w.org.manager),
            false,
            false,
            &accord_store::PageRequest::first(50),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|a| a.signal.as_str() == "restricted-access")
        .collect();
    assert_eq!(open.len(), 1);
    // History has both days.
    let history = w
        .service
        .signal_history(
            &w.as_(&w.org.manager),
            "restricted-access",
            "person",
            w.org.rep.email.as_str(),
            as_of() - Duration::days(10),
            as_of() + Duration::days(10),
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|h| h.status == SignalStatus::Act));

    // A review from the alert: the agenda carries the evidence; the
    // alert is in review; recording the outcome closes it.
    let review = w
        .service
        .open_review(&w.as_(&w.org.manager), &[alert.id], &[w.org.rep.id])
        .await
        .unwrap();
    assert!(review.agenda.contains(&alert.evidence[0]));
    for p in [w.org.manager.id, w.org.pm_lead.id, w.org.rep.id] {
        assert!(review.attendees.contains(&p));
    }
    assert_eq!(
        w.service
            .alert(&w.as_(&w.org.manager), alert.id)
            .await
            .unwrap()
            .state,
        AlertState::InReview
    );
    // Playbook changed needs the version; notes are required.
    assert!(
        w.service
            .record_review(
                &w.as_(&w.org.manager),
                review.id,
                "We changed it.",
                ReviewOutcome::PlaybookChanged,
                None
            )
            .await
            .is_err()
    );
    assert!(
        w.service
            .record_review(
                &w.as_(&w.org.manager),
                review.id,
                "  ",
                ReviewOutcome::RulesKept,
                None
            )
            .await
            .is_err()
    );
    let recorded = w
        .service
        .record_review(
            &w.as_(&w.org.manager),
            review.id,
            "Rita agreed to give PMs access for discovery; the rule stays.",
            ReviewOutcome::RulesKept,
            None,
        )
        .await
        .unwrap();
    assert_eq!(recorded.outcome, Some(ReviewOutcome::RulesKept));
    let closed = w
        .service
        .alert(&w.as_(&w.org.manager), alert.id)
        .await
        .unwrap();
    assert_eq!(closed.state, AlertState::Closed);
    assert!(closed.closed_reason.unwrap().contains("review"));
    // Once only.
    assert!(
        w.service
            .record_review(
                &w.as_(&w.org.manager),
                review.id,
                "Again.",
                ReviewOutcome::Other,
                None
            )
            .await
            .is_err()
    );
}

async fn an_alert_closes_after_a_full_window_without_act(db: &TestDb) {
    let w = world(db).await;
    // No contacts at all: the PM's customer exposure is at act.
    let run = w.service.run_signals(as_of()).await.unwrap();
    let alerts = w
        .service
        .alerts(
            &w.as_(&w.org.pm_lead),
            false,
            false,
            &accord_store::PageRequest::first(50),
        )
        .await
        .unwrap()
        .items;
    let exposure = alerts
        .iter()
        .find(|a| {
            a.signal.as_str() == "pm-customer-exposure" && a.subject == w.org.pm.email.as_str()
        })
        .expect("an exposure alert for the PM");
    assert!(run.opened.contains(&exposure.id));
    assert_eq!(exposure.addressed_to, vec![w.org.pm_lead.id]);

    // The PM meets customers every week from then on.
    let mut day = at(2026, 4, 1, 10, 0, 0);
    w.clock.set(at(2026, 9, 1, 9, 0, 0));
    while day < at(2026, 8, 31, 0, 0, 0) {
        meet(&w, day, ACCEPTED, ACCEPTED).await;
        day += Duration::days(3);
    }
    // Recovered by the end of June, but a full window has not passed
    // since the alert opened: still open.
    let june = NaiveDate::from_ymd_opt(2026, 6, 28).unwrap();
    let v = w.service.compute_signals(june, None).await.unwrap();
    assert_eq!(
        value(&v, "pm-customer-exposure", w.org.pm.email.as_str())
            .unwrap()
            .status,
        SignalStatus::Ok
    );
    let run = w.service.run_signals(june).await.unwrap();
    assert!(!run.closed.contains(&exposure.id));
    // A full window after it opened (on 2 April), with no day at act
    // since: closed.
    let later = as_of() + Duration::days(92);
    let run = w.service.run_signals(later).await.unwrap();
    assert!(run.closed.contains(&exposure.id), "{run:?}");
    let closed = w
        .service
        .alert(&w.as_(&w.org.pm_lead), exposure.id)
        .await
        .unwrap();
    assert_eq!(closed.state, AlertState::Closed);
    assert!(closed.closed_reason.unwrap().starts_with("recovered"));
}

async fn the_daily_run_computes_yesterday_once(db: &TestDb) {
    let w = world(db).await;
    let run = w.service.run_signals_if_due().await.unwrap().expect("due");
    assert_eq!(run.as_of, NaiveDate::from_ymd_opt(2026, 4, 1));
    assert!(run.values > 0);
    assert!(
        w.service.run_signals_if_due().await.unwrap().is_none(),
        "already done today"
    );
    w.clock.set(at(2026, 4, 3, 0, 30, 0));
    let run = w
        .service
        .run_signals_if_due()
        .await
        .unwrap()
        .expect("a new day");
    assert_eq!(run.as_of, NaiveDate::from_ymd_opt(2026, 4, 2));
    // The exposure alerts opened on the first day stay single.
    assert!(run.opened.is_empty(), "{run:?}");
}

async fn trends_are_read_together_for_leaders_only(db: &TestDb) {
    let w = world(db).await;
    // Two days stored: the PM's customer exposure is at act on both.
    w.service
        .run_signals(as_of() - Duration::days(1))
        .await
        .unwrap();
    w.service.run_signals(as_of()).await.unwrap();
    let pm = w.org.pm.email.to_string();
    let mut series = vec![
        (
            "pm-customer-exposure".to_owned(),
            "person".to_owned(),
            pm.clone(),
        ),
        (
            "pm-customer-exposure".to_owned(),
            "person".to_owned(),
            "nobody@example.com".to_owned(),
        ),
    ];
    // And another series the run stored: another signal or subject.
    let other = w
        .service
        .compute_signals(as_of(), None)
        .await
        .unwrap()
        .into_iter()
        .find(|v| !(v.signal.as_str() == "pm-customer-exposure" && v.subject == pm))
        .expect("another series");
    series.push((
        other.signal.to_string(),
        other.subject_kind.clone(),
        other.subject.clone(),
    ));
    let from = as_of() - Duration::days(30);
    let got = w
        .service
        .signal_trends(&w.as_(&w.org.pm_lead), &series, from, as_of())
        .await
        .unwrap();
    assert_eq!(got.len(), 3, "one trend per series, in order");
    let days: Vec<NaiveDate> = got[0].iter().map(|v| v.as_of).collect();
    assert_eq!(
        days,
        vec![as_of() - Duration::days(1), as_of()],
        "oldest first"
    );
    assert!(got[0].iter().all(|v| v.status == SignalStatus::Act));
    assert!(got[1].is_empty(), "nothing stored for nobody");
    // The same as each history one at a time, in the order asked.
    for (i, (signal, kind, subject)) in [&series[0], &series[2]].into_iter().enumerate() {
        let one = w
            .service
            .signal_history(&w.as_(&w.org.pm_lead), signal, kind, subject, from, as_of())
            .await
            .unwrap();
        let points: Vec<SignalPoint> = one.iter().map(SignalPoint::from).collect();
        assert_eq!(points, got[i * 2], "{signal} for {subject}");
        assert!(!points.is_empty());
    }
    // Only the days asked for.
    let last = w
        .service
        .signal_trends(&w.as_(&w.org.pm_lead), &series[..1], as_of(), as_of())
        .await
        .unwrap();
    assert_eq!(last[0].len(), 1);
    assert_eq!(last[0][0].as_of, as_of());
    // Not for a PM, not even about themselves.
    assert!(
        w.service
            .signal_trends(&w.as_(&w.org.pm), &series[..1], from, as_of())
            .await
            .is_err()
    );
}

on_both_engines!(
    trends_are_read_together_for_leaders_only,
    the_daily_run_computes_yesterday_once,
    customer_contacts_count_attendance_inside_the_window,
    requests_count_hours_ambushes_and_gaps,
    access_commitments_and_exceptions,
    act_opens_one_alert_for_the_leaders_and_a_review_ends_it,
    an_alert_closes_after_a_full_window_without_act,
);
