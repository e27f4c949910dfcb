//! What pages read in one go: how a PM's time splits over a window, and a
//! customer contact with its decisions, insights and commitments.

use accord_domain::commitment::CommitmentKind;
use accord_domain::id::*;
use accord_domain::insight::InsightKind;
use accord_domain::request::{Category, EngagementRequest, Purpose, RequestState};
use accord_service::ServiceError;
use accord_service::contacts::{NewAttendee, NewCommitment, NewInsight, NewMeeting};
use accord_testkit::{TestDb, on_both_engines};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::support::World;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

/// A request the fixture PM completed on `done` with `hours`.
fn done(w: &World, ty: &str, pm: PersonId, hours: f64, done: DateTime<Utc>) -> EngagementRequest {
    EngagementRequest {
        id: RequestId::new(),
        opportunity: w.org.opportunity.id,
        account: w.org.account.id,
        requester: w.org.rep.id,
        pm: Some(pm),
        engagement_type: EngagementTypeId::parse(ty).unwrap(),
        purpose: Purpose::Direction,
        briefing: "Their CIO asks where reporting is going.".into(),
        needed_at: done - Duration::days(1),
        created_at: done - Duration::days(10),
        state: RequestState::Done,
        scheduled_at: None,
        reason: None,
        redirect: None,
        redirected_from: None,
        outcome: Some("Went well.".into()),
        hours: Some(hours),
        completed_at: Some(done),
    }
}

async fn a_pms_time_splits_by_category_and_type(db: &TestDb) {
    let w = World::new(db).await;
    w.clock.set(at(2026, 4, 2, 9));
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    let pm = w.org.pm.id;
    let mut tx = w.service.store().write().await.unwrap();
    // In the 90 days to 31 March: two briefings (6 h), a demo (2 h), a
    // discovery call (1.5 h).
    for r in [
        done(&w, "roadmap-briefing", pm, 4.0, at(2026, 1, 1, 0)),
        done(&w, "roadmap-briefing", pm, 2.0, at(2026, 3, 31, 23)),
        done(&w, "demo", pm, 2.0, at(2026, 2, 5, 12)),
        done(&w, "discovery-call", pm, 1.5, at(2026, 3, 1, 12)),
        // Outside the window on either side, and another PM's: not counted.
        done(&w, "demo", pm, 40.0, at(2025, 12, 31, 23)),
        done(&w, "demo", pm, 40.0, at(2026, 4, 1, 0)),
        done(&w, "demo", w.org.pm_lead.id, 9.0, at(2026, 3, 3, 9)),
    ] {
        tx.insert_request(&r).await.unwrap();
    }
    tx.commit().await.unwrap();

    let split = w
        .service
        .time_split(&w.as_(&w.org.pm), pm, as_of, 90)
        .await
        .unwrap();
    assert_eq!(
        (split.first, split.last),
        (NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), as_of)
    );
    assert_eq!(split.requests, 4);
    assert_eq!(split.product_hours, 7.5);
    assert_eq!(split.support_hours, 2.0);
    assert_eq!(split.total_hours(), 9.5);
    assert!((split.support_share().unwrap() - 2.0 / 9.5).abs() < 1e-9);
    let types: Vec<(&str, Category, i64, f64)> = split
        .by_type
        .iter()
        .map(|t| (t.engagement_type.as_str(), t.category, t.requests, t.hours))
        .collect();
    assert_eq!(
        types,
        vec![
            ("roadmap-briefing", Category::Product, 2, 6.0),
            ("demo", Category::SalesSupport, 1, 2.0),
            ("discovery-call", Category::Product, 1, 1.5),
        ]
    );
    assert_eq!(split.by_type[0].name, "Roadmap briefing");

    // A leader sees anyone's; a rep no one's, a PM not another PM's.
    let lead = w
        .service
        .time_split(&w.as_(&w.org.pm_lead), pm, as_of, 90)
        .await
        .unwrap();
    assert_eq!(lead, split);
    let e = w
        .service
        .time_split(&w.as_(&w.org.rep), pm, as_of, 90)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
    let e = w
        .service
        .time_split(&w.as_(&w.org.pm), w.org.pm_lead.id, as_of, 90)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
    // Nothing done: an empty split, no share.
    let empty = w
        .service
        .time_split(
            &w.as_(&w.org.pm),
            pm,
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            90,
        )
        .await
        .unwrap();
    assert_eq!(
        (empty.requests, empty.total_hours(), empty.support_share()),
        (0, 0.0, None)
    );
}

async fn a_contact_reads_with_its_decisions_insights_and_commitments(db: &TestDb) {
    let w = World::new(db).await;
    let pm = w.as_(&w.org.pm);
    // Without the owner: a violation recorded with the contact.
    let logged = w
        .service
        .log_meeting(
            &pm,
            NewMeeting {
                id: None,
                account: None,
                title: "Acme — reporting feedback".into(),
                starts_at: accord_testkit::fixtures::t0() - Duration::days(1),
                ends_at: accord_testkit::fixtures::t0() - Duration::days(1) + Duration::hours(1),
                attendees: vec![
                    NewAttendee {
                        email: w.org.pm.email.to_string(),
                        response: None,
                    },
                    NewAttendee {
                        email: "cio@acme.com".into(),
                        response: None,
                    },
                ],
                planned: false,
                request: None,
            },
        )
        .await
        .unwrap();
    let id = logged.record.meeting.id;
    let other = w
        .service
        .log_meeting(
            &pm,
            NewMeeting {
                id: None,
                account: None,
                title: "Acme — another call".into(),
                starts_at: accord_testkit::fixtures::t0() - Duration::days(2),
                ends_at: accord_testkit::fixtures::t0() - Duration::days(2) + Duration::hours(1),
                attendees: vec![
                    NewAttendee {
                        email: w.org.pm.email.to_string(),
                        response: None,
                    },
                    NewAttendee {
                        email: w.org.rep.email.to_string(),
                        response: None,
                    },
                    NewAttendee {
                        email: "cfo@acme.com".into(),
                        response: None,
                    },
                ],
                planned: false,
                request: None,
            },
        )
        .await
        .unwrap();
    for (meeting, text) in [
        (id, "They export to spreadsheets every Monday."),
        (other.record.meeting.id, "Elsewhere."),
    ] {
        w.service
            .create_insight(
                &pm,
                NewInsight {
                    account: w.org.account.id,
                    meeting: Some(meeting),
                    kind: InsightKind::ContextOfUse,
                    product_area: "Reporting".into(),
                    text: text.into(),
                },
            )
            .await
            .unwrap();
    }
    w.service
        .log_commitment(
            &pm,
            NewCommitment {
                account: w.org.account.id,
                meeting: Some(id),
                kind: CommitmentKind::Feature,
                text: "Scheduled exports next quarter".into(),
                to_whom: "their CIO".into(),
                said_by: None,
                present: vec![],
                said_at: None,
            },
        )
        .await
        .unwrap();

    let view = w.service.contact(&pm, id).await.unwrap();
    assert_eq!(view.meeting.meeting.title, "Acme — reporting feedback");
    assert_eq!(view.decisions.len(), 1);
    assert!(
        view.decisions[0]
            .decision
            .matched
            .iter()
            .any(|m| m.rule.as_str() == "owner-present")
    );
    assert!(view.exceptions.is_empty());
    let insights: Vec<&str> = view.insights.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(insights, vec!["They export to spreadsheets every Monday."]);
    assert_eq!(view.commitments.len(), 1);
    assert_eq!(view.commitments[0].text, "Scheduled exports next quarter");
    // The other contact has its own insight and no commitment.
    let view = w
        .service
        .contact(&pm, other.record.meeting.id)
        .await
        .unwrap();
    assert_eq!(view.insights.len(), 1);
    assert!(view.commitments.is_empty());
    // Refused to a role that does not see contacts; unknown ids are not found.
    let e = w
        .service
        .contact(&w.as_(&w.org.engineer), id)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
    let e = w.service.contact(&pm, MeetingId::new()).await.unwrap_err();
    assert!(matches!(e, ServiceError::NotFound { .. }), "{e:?}");
}

on_both_engines!(
    a_pms_time_splits_by_category_and_type,
    a_contact_reads_with_its_decisions_insights_and_commitments,
);
