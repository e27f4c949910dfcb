//! A person's own numbers: the signals about them on `/me`, in words
//! addressed to them, and how a PM's time splits on `/time`, as bars with
//! the numbers beside them; each for the roles it concerns.

use accord_domain::id::{EngagementTypeId, RequestId};
use accord_domain::request::{EngagementRequest, Purpose, RequestState};
use accord_service::contacts::{NewAttendee, NewMeeting};
use accord_testkit::fixtures::t0;
use accord_testkit::{TestDb, on_both_engines};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::app::App;

async fn my_record_tells_me_the_signals_about_me(db: &TestDb) {
    let app = App::new(db).await;
    // A PM meets a customer without the account's owner.
    app.service
        .log_meeting(
            &app.as_(&app.org.pm),
            NewMeeting {
                id: None,
                account: None,
                title: "Acme — quick call".into(),
                starts_at: t0() - Duration::days(3),
                ends_at: t0() - Duration::days(3) + Duration::hours(1),
                attendees: vec![
                    NewAttendee {
                        email: app.org.pm.email.to_string(),
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
    let mut pm = app.sign_in(&app.org.pm).await;
    let page = pm.get("/me").await;
    page.expect(200);
    page.has(&[
        "My record",
        "up to 2 Mar 2026",
        "Owner presence (per PM)",
        "The account&#39;s owner was at 0 of your 1 customer contacts.",
        "too few to say",
        "Watch at 90% or less, act at 75% or less, over 90 days; it needs 5 or more to count.",
        "Customer exposure (per PM)",
        "What is counted",
    ]);
    // The rep sees the same contact from their side.
    let mut rep = app.session(&app.org.rep).await;
    rep.get("/me")
        .await
        .has(&[
            "Owner presence (per rep)",
            "You were at 0 of the 1 PM contacts with your customers.",
        ])
        .lacks(&["(per PM)"]);
    // Nothing about a sales engineer yet: the page says what fills it.
    app.session(&app.org.se)
        .await
        .get("/me")
        .await
        .has(&["No signal concerns you yet"]);
    // Admins and constituents have no record here.
    app.session(&app.org.admin)
        .await
        .get("/me")
        .await
        .expect(403);
    app.session(&app.org.engineer)
        .await
        .get("/me")
        .await
        .expect(403);
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().unwrap()
}

/// A request the fixture PM completed.
fn done(app: &App, ty: &str, hours: f64, completed: DateTime<Utc>) -> EngagementRequest {
    EngagementRequest {
        id: RequestId::new(),
        opportunity: app.org.opportunity.id,
        account: app.org.account.id,
        requester: app.org.rep.id,
        pm: Some(app.org.pm.id),
        engagement_type: EngagementTypeId::parse(ty).unwrap(),
        purpose: Purpose::Direction,
        briefing: "Their CIO asks where reporting is going.".into(),
        needed_at: completed - Duration::days(1),
        created_at: completed - Duration::days(7),
        state: RequestState::Done,
        scheduled_at: None,
        reason: None,
        redirect: None,
        redirected_from: None,
        outcome: Some("Went well.".into()),
        hours: Some(hours),
        completed_at: Some(completed),
    }
}

async fn a_pm_sees_how_their_time_splits(db: &TestDb) {
    let app = App::new(db).await;
    let mut pm = app.sign_in(&app.org.pm).await;
    // Nothing done yet: where the hours come from.
    pm.get("/time").await.has(&[
        "No completed requests in the last 90 days",
        "href=\"/inbox\"",
    ]);
    let mut tx = app.service.store().write().await.unwrap();
    for r in [
        done(&app, "roadmap-briefing", 4.0, at(2026, 2, 10)),
        done(&app, "vision-presentation", 2.0, at(2026, 1, 20)),
        done(&app, "demo", 2.0, at(2026, 2, 20)),
        // Before the window: not counted.
        done(&app, "demo", 30.0, at(2025, 11, 1)),
    ] {
        tx.insert_request(&r).await.unwrap();
    }
    tx.commit().await.unwrap();
    let page = pm.get("/time").await;
    page.expect(200);
    page.has(&[
        "Your time: product work and sales support",
        "3 Dec 2025 – 2 Mar 2026",
        "8 h on 3 completed requests",
        "aria-label=\"Product work 75%, sales support 25%\"",
        "id=\"product-hours\">6 h</strong> (75%, 2 requests)",
        "id=\"support-hours\">2 h</strong> (<span id=\"support-share\">25%</span>, 1 request)",
        "id=\"share-status\">Past the act line",
        "watches a PM&#39;s sales-support share at 15% or more and acts at 25% or more",
        "Roadmap briefing",
        "Vision presentation",
        "Product demo",
        "style=\"width: 50.0%\"",
    ]);
    // A PM lead sees their own, and any PM's by choosing.
    let mut lead = app.session(&app.org.pm_lead).await;
    lead.get("/time").await.has(&["Your time", "id=\"pm\""]);
    lead.get(&format!("/time?pm={}", app.org.pm.id))
        .await
        .has(&["paula pm&#39;s time", "8 h on 3 completed requests"]);
    // A sales manager chooses a PM; a rep and a constituent are refused.
    let mut manager = app.session(&app.org.manager).await;
    manager.get("/time").await.expect(200);
    manager
        .get(&format!("/time?pm={}", app.org.pm.id))
        .await
        .has(&["25%"]);
    app.session(&app.org.rep)
        .await
        .get("/time")
        .await
        .expect(403);
    app.session(&app.org.engineer)
        .await
        .get("/time")
        .await
        .expect(403);
    // The window moves with the clock: in mid-May only the demo is in it.
    app.clock.set(at(2026, 5, 15));
    let mut later = app.session(&app.org.pm).await;
    later.get("/time").await.has(&[
        "15 Feb 2026 – 15 May 2026",
        "2 h on 1 completed request",
        "id=\"support-share\">100%",
        "Too few hours to say (the signal needs 8)",
    ]);
    app.clock.set(accord_testkit::fixtures::t0());
    // A PM cannot look at another PM's time: their own is shown.
    pm.get(&format!("/time?pm={}", app.org.pm_lead.id))
        .await
        .has(&["Your time", "8 h on 3 completed requests"]);
}

on_both_engines!(
    my_record_tells_me_the_signals_about_me,
    a_pm_sees_how_their_time_splits
);
