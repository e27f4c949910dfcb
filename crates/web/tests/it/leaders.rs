//! The team leaders' pages: the health dashboard (signals, trends, open
//! alerts), alerts with their evidence, approvals of exceptions and
//! commitments, and reviews — for the leaders, refused to others.

use accord_domain::access::AccessPurpose;
use accord_domain::commitment::{CommitmentKind, CommitmentState};
use accord_domain::exception::ExceptionState;
use accord_domain::id::AlertId;
use accord_domain::request::RequestState;
use accord_domain::signal::{Alert, AlertState, ReviewOutcome};
use accord_service::contacts::{AccessAnswer, NewAccess, NewCommitment};
use accord_service::requests::NewRequest;
use accord_store::PageRequest;
use accord_testkit::{TestDb, on_both_engines};
use chrono::Duration;

use crate::app::{App, id_in};

/// The rep denies the PM four access requests (all they answered), and
/// the daily run of yesterday and today stores the signals: the
/// restricted-access alert opens. Returns it.
async fn restricted_access(app: &App) -> Alert {
    let (pm, rep) = (app.as_(&app.org.pm), app.as_(&app.org.rep));
    for i in 0..4 {
        let a = app
            .service
            .create_access(
                &pm,
                NewAccess {
                    account: app.org.account.id,
                    purpose: AccessPurpose::Discovery,
                    agenda: format!("How the finance team closes the month, part {i}."),
                    wanted_at: Some(app.service.now() + Duration::days(10)),
                },
            )
            .await
            .unwrap();
        app.service
            .answer_access(
                &rep,
                a.record.id,
                AccessAnswer::Deny {
                    reason: "The deal is at a delicate point.".into(),
                },
            )
            .await
            .unwrap();
    }
    let today = app.service.now().date_naive();
    app.service
        .run_signals(today - Duration::days(1))
        .await
        .unwrap();
    app.service.run_signals(today).await.unwrap();
    let alerts = app
        .service
        .alerts(
            &app.as_(&app.org.manager),
            false,
            false,
            &PageRequest::first(50),
        )
        .await
        .unwrap()
        .items;
    alerts
        .into_iter()
        .find(|a| {
            a.signal.as_str() == "restricted-access" && a.subject == app.org.rep.email.as_str()
        })
        .expect("a restricted-access alert about the rep")
}

async fn the_restricted_access_alert_reaches_both_leaders(db: &TestDb) {
    let app = App::new(db).await;
    let alert = restricted_access(&app).await;
    assert!(
        alert.addressed_to.contains(&app.org.manager.id)
            && alert.addressed_to.contains(&app.org.pm_lead.id)
    );
    for leader in [&app.org.manager, &app.org.pm_lead] {
        let mut b = app.session(leader).await;
        let page = b.get("/dashboard").await;
        page.expect(200);
        page.has(&[
            "Relationship health",
            "Restricted access (per rep)",
            "rita rep",
            "4 of 4 access requests denied",
            "watch from 20%, act from 40%",
            "Act: time to talk",
            &format!("href=\"/alerts/{}\"", alert.id),
            "(addressed to you)",
            "id=\"team\"",
        ]);
        // The trend: a chart with a text alternative.
        page.has(&[
            "<figure class=\"chart\"",
            "<svg role=\"img\" aria-labelledby=\"chart-",
            "The numbers",
        ]);
        let page = b.get("/alerts").await;
        page.expect(200);
        page.has(&[
            &format!("id=\"alert-{}\"", alert.id),
            "Restricted access (per rep)",
            "4 records",
        ]);
    }
    // The whole organisation's admin sees the dashboard too (the nav has it).
    app.session(&app.org.admin)
        .await
        .get("/dashboard")
        .await
        .expect(200);
}

async fn the_dashboard_filters_by_team_and_says_when_a_team_is_unknown(db: &TestDb) {
    let app = App::new(db).await;
    restricted_access(&app).await;
    let mut b = app.session(&app.org.manager).await;
    let page = b.get("/dashboard?team=EMEA+Enterprise").await;
    page.expect(200);
    page.has(&["rita rep", "<option value=\"EMEA Enterprise\" selected>"]);
    let page = b.get("/dashboard?team=Atlantis").await;
    page.expect(422);
    assert!(page.field_error("team").contains("Atlantis"));
    // The unfiltered report is still shown below the message.
    page.has(&["Restricted access (per rep)"]);
}

async fn leaders_pages_are_refused_to_others(db: &TestDb) {
    let app = App::new(db).await;
    for p in [&app.org.pm, &app.org.rep, &app.org.se, &app.org.engineer] {
        let mut b = app.session(p).await;
        for path in ["/dashboard", "/alerts", "/approvals", "/reviews"] {
            let page = b.get(path).await;
            assert_eq!(
                page.status.as_u16(),
                403,
                "{path} for {}: {}",
                p.email,
                page.body
            );
            page.has(&["Not for your role"]);
        }
    }
    // The admin reads the health of the relationship but decides nothing.
    app.session(&app.org.admin)
        .await
        .get("/approvals")
        .await
        .expect(403);
    // Nobody signed in: to the sign-in page.
    let page = app.anonymous().get("/dashboard").await;
    assert_eq!(page.status.as_u16(), 303);
    assert!(page.location.starts_with("/login"));
}

async fn an_alert_links_its_evidence_to_the_web_pages(db: &TestDb) {
    let app = App::new(db).await;
    let alert = restricted_access(&app).await;
    let mut b = app.session(&app.org.pm_lead).await;
    let page = b.get(&format!("/alerts/{}", alert.id)).await;
    page.expect(200);
    assert_eq!(alert.evidence.len(), 4);
    for e in &alert.evidence {
        let id = e.rsplit('/').next().unwrap();
        page.has(&[&format!("href=\"/access/{id}\"")]);
    }
    page.lacks(&["href=\"/api/v1/"]);
    page.has(&[
        "Access request to Acme Corporation",
        "paula pm asked",
        "denied",
        "The deal is at a delicate point.",
        "id=\"open-review\"",
    ]);
    page.has(&["<svg role=\"img\" aria-labelledby=\"trend-caption\""]);
    // No such alert.
    b.get(&format!("/alerts/{}", AlertId::new()))
        .await
        .expect(404);
    b.get("/alerts/not-an-id").await.expect(404);
}

async fn a_pm_lead_approves_a_commitment(db: &TestDb) {
    let app = App::new(db).await;
    let c = app
        .service
        .log_commitment(
            &app.as_(&app.org.pm),
            NewCommitment {
                account: app.org.account.id,
                meeting: None,
                kind: CommitmentKind::Feature,
                text: "Scheduled exports in the next release".into(),
                to_whom: "Acme's CFO".into(),
                said_by: None,
                present: vec![app.org.rep.id],
                said_at: None,
            },
        )
        .await
        .unwrap()
        .record;
    let mut lead = app.sign_in(&app.org.pm_lead).await;
    let page = lead.get("/approvals").await;
    page.expect(200);
    page.has(&[
        "Scheduled exports in the next release",
        &format!("id=\"approve-commitment-{}\"", c.id),
        &format!("id=\"reject-commitment-{}\"", c.id),
        &format!("id=\"note-commitment-{}\"", c.id),
    ]);
    // A form without a decision comes back with the message by its buttons.
    let page = lead
        .post(
            &format!("/commitments/{}", c.id),
            &[("from", "list"), ("note", "ok")],
        )
        .await;
    page.expect(422);
    page.has(&[&format!(
        "id=\"commitment-{}-error\">Choose approve or reject.",
        c.id
    )]);
    lead.get("/approvals").await;
    let page = lead
        .post(
            &format!("/commitments/{}", c.id),
            &[
                ("from", "list"),
                ("decision", "approve"),
                ("note", "We can stand behind this one."),
            ],
        )
        .await;
    assert_eq!(page.redirected(), "/approvals");
    let after = app
        .service
        .get_commitment(&app.as_(&app.org.pm_lead), c.id)
        .await
        .unwrap();
    assert_eq!(after.state, CommitmentState::Approved);
    assert_eq!(after.decided_by, Some(app.org.pm_lead.id));
    assert_eq!(
        after.decision_note.as_deref(),
        Some("We can stand behind this one.")
    );
    let page = lead.get("/approvals").await;
    page.has(&["Commitment approved", "id=\"no-commitments\""])
        .lacks(&["Scheduled exports in the next release"]);
    // Its own page says so, with no form left.
    let page = lead.get(&format!("/commitments/{}", c.id)).await;
    page.expect(200);
    page.has(&["approved", "We can stand behind this one.", "lena lead"])
        .lacks(&[&format!("id=\"approve-commitment-{}\"", c.id)]);
    // Deciding twice is a conflict, not a silent change.
    lead.post(&format!("/commitments/{}", c.id), &[("decision", "reject")])
        .await
        .expect(409);
    // The sales manager approves exceptions, not commitments.
    let page = app.session(&app.org.manager).await.get("/approvals").await;
    page.expect(200);
    page.lacks(&["id=\"commitment-list\"", "id=\"no-commitments\""]);
}

async fn a_pm_lead_grants_an_exception_the_request_waited_for(db: &TestDb) {
    let app = App::new(db).await;
    let out = app
        .service
        .create_request(
            &app.as_(&app.org.rep),
            NewRequest {
                id: None,
                opportunity: app.org.opportunity.id,
                pm: Some(app.org.pm.id),
                engagement_type: "demo".into(),
                purpose: None,
                briefing:
                    "The customer's architects want to see the reporting API live before they sign."
                        .into(),
                needed_at: app.service.now() + Duration::days(14),
                exception_reason: Some(
                    "Sales engineering is fully booked for the quarter-end push.".into(),
                ),
            },
        )
        .await
        .unwrap();
    assert_eq!(out.request.state, RequestState::NeedsException);
    let view = app
        .service
        .get_request(&app.as_(&app.org.rep), out.request.id)
        .await
        .unwrap();
    let e = view
        .exceptions
        .first()
        .expect("an exception asked for")
        .clone();
    // Not the manager's to grant: the playbook names the PM lead.
    let page = app.session(&app.org.manager).await.get("/approvals").await;
    page.expect(200);
    page.has(&["id=\"no-exceptions\"", "1 waits for another approver"]);
    let mut lead = app.session(&app.org.pm_lead).await;
    let page = lead.get("/approvals").await;
    page.has(&[
        &format!("id=\"approve-exception-{}\"", e.id),
        "Sales engineering is fully booked",
        &format!("href=\"/requests/{}\"", out.request.id),
    ]);
    let page = lead.get(&format!("/exceptions/{}", e.id)).await;
    page.expect(200);
    page.has(&[
        "pm-not-sales-support",
        "Sales engineering is fully booked",
        "pm lead",
    ]);
    let page = lead
        .post(
            &format!("/exceptions/{}", e.id),
            &[
                ("decision", "approve"),
                ("note", "Once, for the quarter end."),
            ],
        )
        .await;
    assert_eq!(page.redirected(), format!("/exceptions/{}", e.id));
    let after = app
        .service
        .get_exception(&app.as_(&app.org.pm_lead), e.id)
        .await
        .unwrap();
    assert_eq!(after.state, ExceptionState::Approved);
    let request = app
        .service
        .get_request(&app.as_(&app.org.rep), out.request.id)
        .await
        .unwrap()
        .request;
    assert_eq!(
        request.state,
        RequestState::Requested,
        "the request goes to the PM"
    );
    // The rep may look at the exception, not decide it.
    let page = app
        .session(&app.org.rep)
        .await
        .get(&format!("/exceptions/{}", e.id))
        .await;
    page.expect(200);
    page.lacks(&["id=\"approve-exception-"]);
}

async fn a_review_opened_from_an_alert_closes_it_when_recorded(db: &TestDb) {
    let app = App::new(db).await;
    let alert = restricted_access(&app).await;
    let mut lead = app.session(&app.org.manager).await;
    let page = lead.get(&format!("/reviews?alert={}", alert.id)).await;
    page.expect(200);
    page.has(&[
        &format!("id=\"review-alert-{}\" checked", alert.id),
        &format!("id=\"attendee-{}\"", app.org.pm_lead.id),
        "id=\"start-review\"",
    ]);
    // No alert chosen: the message is next to the alerts.
    let page = lead.post("/reviews", &[]).await;
    page.expect(422);
    assert!(page.field_error("alerts").contains("Choose the alerts"));
    let id = alert.id.to_string();
    let lead_id = app.org.pm_lead.id.to_string();
    let page = lead
        .post("/reviews", &[("alert", &id), ("attendee", &lead_id)])
        .await;
    let review = id_in(page.redirected(), "/reviews");
    let page = lead.get(&format!("/reviews/{review}")).await;
    page.expect(200);
    page.has(&[
        "Restricted access (per rep)",
        "href=\"/access/",
        "lena lead",
        "mark manager",
        "id=\"record-review\"",
    ]);
    page.lacks(&["/api/v1/"]);
    assert_eq!(
        app.service
            .alert(&app.as_(&app.org.manager), alert.id)
            .await
            .unwrap()
            .state,
        AlertState::InReview
    );
    // The alert page points at its review.
    lead.get(&format!("/alerts/{}", alert.id))
        .await
        .has(&[&format!("href=\"/reviews/{review}\"")]);

    lead.get(&format!("/reviews/{review}")).await;
    let page = lead
        .post(
            &format!("/reviews/{review}"),
            &[("notes", "Talked it through.")],
        )
        .await;
    page.expect(422);
    assert!(
        page.field_error("outcome")
            .contains("Choose what the review decided")
    );
    let page = lead
        .post(
            &format!("/reviews/{review}"),
            &[("outcome", "playbook_changed"), ("notes", "Changed it.")],
        )
        .await;
    page.expect(422);
    assert!(
        page.field_error("playbook_version")
            .contains("playbook version")
    );
    let page = lead
        .post(
            &format!("/reviews/{review}"),
            &[("outcome", "rules_kept"), ("notes", "  ")],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("notes").contains("what was decided"));
    let page = lead
        .post(
            &format!("/reviews/{review}"),
            &[
                ("outcome", "rules_kept"),
                (
                    "notes",
                    "Rita agreed to give PMs discovery time; the rule stays.",
                ),
                ("playbook_version", ""),
            ],
        )
        .await;
    assert_eq!(page.redirected(), format!("/reviews/{review}"));
    let closed = app
        .service
        .alert(&app.as_(&app.org.manager), alert.id)
        .await
        .unwrap();
    assert_eq!(closed.state, AlertState::Closed);
    assert!(closed.closed_reason.unwrap().contains("review"));
    let r = app
        .service
        .reviews(&app.as_(&app.org.manager), &PageRequest::first(5))
        .await
        .unwrap()
        .items;
    assert_eq!(r[0].outcome, Some(ReviewOutcome::RulesKept));
    let page = lead.get(&format!("/reviews/{review}")).await;
    page.has(&["Rules kept", "Rita agreed to give PMs discovery time"])
        .lacks(&["id=\"record-review\""]);
    let page = lead.get("/reviews").await;
    page.has(&[
        "Past reviews",
        &format!("id=\"review-{review}\""),
        "Rules kept",
    ]);
    page.lacks(&[&format!("id=\"review-alert-{}\"", alert.id)]);
    // And the alert is off the dashboard's open alerts.
    lead.get("/dashboard")
        .await
        .lacks(&[&format!("id=\"alert-{}\"", alert.id)]);
}

async fn empty_pages_say_what_to_do_next(db: &TestDb) {
    let app = App::new(db).await;
    let mut lead = app.session(&app.org.pm_lead).await;
    lead.get("/alerts")
        .await
        .has(&["id=\"no-alerts\"", "health dashboard"]);
    lead.get("/approvals")
        .await
        .has(&["id=\"no-exceptions\"", "id=\"no-commitments\""]);
    lead.get("/reviews")
        .await
        .has(&["id=\"no-open-alerts\"", "No review has been recorded yet."]);
    lead.get("/dashboard")
        .await
        .has(&["id=\"no-alerts\"", "No trends yet."]);
}

on_both_engines!(
    the_restricted_access_alert_reaches_both_leaders,
    the_dashboard_filters_by_team_and_says_when_a_team_is_unknown,
    leaders_pages_are_refused_to_others,
    an_alert_links_its_evidence_to_the_web_pages,
    a_pm_lead_approves_a_commitment,
    a_pm_lead_grants_an_exception_the_request_waited_for,
    a_review_opened_from_an_alert_closes_it_when_recorded,
    empty_pages_say_what_to_do_next,
);
