//! Access requests through the pages: a PM asks for customer time (checked
//! against the playbook first), the owner — or the owner's manager —
//! answers on `/access`, and the PM reads the answer; bad forms come back
//! with the message next to the field; other roles are refused.

use accord_domain::access::AccessPurpose;
use accord_service::contacts::NewAccess;
use accord_testkit::{TestDb, on_both_engines};

use crate::app::{App, id_in};

async fn a_pm_asks_for_customer_time_and_the_owner_answers(db: &TestDb) {
    let app = App::new(db).await;
    let mut pm = app.sign_in(&app.org.pm).await;
    let mut rep = app.session(&app.org.rep).await;
    // Nothing yet: each side is told what comes here.
    pm.get("/access")
        .await
        .has(&["Customer time", "Nothing waits.", "href=\"/access/new\""]);
    rep.get("/access")
        .await
        .has(&["Nothing waits for your answer"]);

    // The form, checked against the playbook: a missing agenda is warned about.
    let account = app.org.account.id.to_string();
    pm.get("/access/new").await.has(&[
        &format!("<option value=\"{account}\""),
        "Acme Corporation — owner: rita rep",
        "id=\"check\"",
        "id=\"send\"",
    ]);
    let checked = pm
        .post(
            "/access/new",
            &[
                ("account", &account),
                ("purpose", "discovery"),
                ("agenda", ""),
                ("wanted_at", "2026-03-16T10:00"),
                ("action", "check"),
            ],
        )
        .await;
    checked.expect(200);
    checked.has(&[
        "What the playbook says",
        "access-agenda",
        "an agenda helps rita rep say yes",
    ]);
    // Sent: the PM lands on the request, waiting for the owner.
    let agenda = "How they report on renewals. No pricing, no dates.";
    let sent = pm
        .post(
            "/access/new",
            &[
                ("account", &account),
                ("purpose", "feedback"),
                ("agenda", agenda),
                ("wanted_at", "2026-03-16T10:00"),
                ("action", "send"),
            ],
        )
        .await;
    let location = sent.redirected().to_owned();
    let id = id_in(&location, "/access");
    pm.get(&location).await.expect(200);
    let page = pm.get(&location).await;
    page.has(&[
        "waiting for an answer",
        agenda,
        "Feedback",
        "Mon 16 Mar 2026, 10:00 UTC",
    ]);
    pm.get("/access").await.has(&[
        "Waiting for the owner's answer (1)",
        &format!("/access/{id}"),
    ]);

    // The owner sees it with the three answers.
    let deny_reason = format!("deny-reason-{id}");
    rep.get("/access").await.has(&[
        "Waiting for your answer (1)",
        &format!("id=\"{deny_reason}\""),
        &format!("id=\"deny-{id}\""),
        &format!("id=\"grant-{id}\""),
        &format!("id=\"grant-with-conditions-{id}\""),
        "paula pm",
        agenda,
    ]);
    // A denial needs a reason: said next to the field, on the list.
    let bad = rep
        .post(
            &format!("/access/{id}"),
            &[("answer", "deny"), ("reason", "  "), ("from", "list")],
        )
        .await;
    bad.expect(422);
    assert!(
        bad.field_error(&deny_reason)
            .starts_with("Say why you deny it"),
        "{}",
        bad.body
    );
    bad.has(&["Waiting for your answer (1)"]);
    let reason = "We are mid-renewal; after 1 April.";
    let denied = rep
        .post(
            &format!("/access/{id}"),
            &[("answer", "deny"), ("reason", reason), ("from", "list")],
        )
        .await;
    assert_eq!(denied.redirected(), "/access");
    rep.get("/access")
        .await
        .has(&[
            "Denied, with your reason. The PM has been told.",
            "Waiting for your answer (0)",
            "Answered (1)",
            reason,
        ])
        .lacks(&[&format!("id=\"deny-{id}\"")]);
    // Answered once is answered: a second answer is a conflict.
    rep.post(
        &format!("/access/{id}"),
        &[("answer", "grant"), ("from", "list")],
    )
    .await
    .expect(409);
    // The PM reads the answer.
    pm.get(&format!("/access/{id}")).await.has(&[
        "denied",
        reason,
        "rita rep, Mon 2 Mar 2026, 09:00 UTC",
    ]);

    // The owner's manager answers for the rep they manage: with conditions,
    // which must be said.
    let second = app
        .service
        .create_access(
            &app.as_(&app.org.pm),
            NewAccess {
                account: app.org.account.id,
                purpose: AccessPurpose::Validation,
                agenda: "Try the new export design.".into(),
                wanted_at: None,
            },
        )
        .await
        .unwrap()
        .record
        .id;
    let mut manager = app.session(&app.org.manager).await;
    manager.get("/access").await.has(&[
        &format!("id=\"grant-with-conditions-{second}\""),
        "no date given",
    ]);
    let bad = manager
        .post(
            &format!("/access/{second}"),
            &[
                ("answer", "conditions"),
                ("conditions", ""),
                ("from", "detail"),
            ],
        )
        .await;
    bad.expect(422);
    assert!(
        bad.field_error(&format!("conditions-{second}"))
            .starts_with("Say what the conditions are")
    );
    bad.has(&["Customer time with Acme Corporation"]);
    let granted = manager
        .post(
            &format!("/access/{second}"),
            &[
                ("answer", "conditions"),
                ("conditions", "Rita joins the call."),
                ("from", "detail"),
            ],
        )
        .await;
    assert_eq!(granted.redirected(), format!("/access/{second}"));
    pm.get("/access").await.has(&[
        "granted with conditions",
        "Rita joins the call.",
        "Answered (2)",
        "Waiting for the owner's answer (0)",
    ]);
}

async fn a_bad_access_form_comes_back_with_the_messages_by_the_fields(db: &TestDb) {
    let app = App::new(db).await;
    let mut pm = app.sign_in(&app.org.pm).await;
    pm.get("/access/new").await.expect(200);
    let bad = pm
        .post(
            "/access/new",
            &[
                ("account", ""),
                ("purpose", "gossip"),
                ("agenda", "x"),
                ("wanted_at", "next week"),
                ("action", "send"),
            ],
        )
        .await;
    bad.expect(422);
    assert_eq!(
        bad.field_error("account"),
        "Choose the customer you want time with."
    );
    assert_eq!(bad.field_error("purpose"), "Choose what the time is for.");
    assert_eq!(
        bad.field_error("wanted_at"),
        "Give a date and time, or leave it empty."
    );
    // What the service refuses comes back by its field too: a date past.
    let account = app.org.account.id.to_string();
    let past = pm
        .post(
            "/access/new",
            &[
                ("account", &account),
                ("purpose", "discovery"),
                ("agenda", "x"),
                ("wanted_at", "2026-03-01T10:00"),
                ("action", "send"),
            ],
        )
        .await;
    past.expect(422);
    assert_eq!(past.field_error("wanted_at"), "Must be in the future.");
    // What was typed stays.
    past.has(&["value=\"2026-03-01T10:00\"", "selected>Acme Corporation"]);
}

async fn access_pages_are_for_pms_owners_and_their_leaders(db: &TestDb) {
    let app = App::new(db).await;
    let id = app
        .service
        .create_access(
            &app.as_(&app.org.pm),
            NewAccess {
                account: app.org.account.id,
                purpose: AccessPurpose::Discovery,
                agenda: "How they use reporting.".into(),
                wanted_at: None,
            },
        )
        .await
        .unwrap()
        .record
        .id;
    // Signed out: to the sign-in page, and back.
    let r = app.anonymous().get("/access").await;
    assert_eq!(r.redirected(), "/login?next=%2Faccess");
    // Sales engineers and constituents have no access requests.
    for p in [&app.org.se, &app.org.engineer] {
        let mut b = app.session(p).await;
        b.get("/access").await.expect(403);
        b.get(&format!("/access/{id}")).await.expect(403);
        b.get("/access/new").await.expect(403);
    }
    // Reps do not ask for customer time; PMs do not answer.
    let mut rep = app.sign_in(&app.org.rep).await;
    rep.get("/access").await.expect(200);
    rep.get("/access/new").await.expect(403);
    rep.post(
        "/access/new",
        &[
            ("account", &app.org.account.id.to_string()),
            ("purpose", "discovery"),
        ],
    )
    .await
    .expect(403);
    let mut pm = app.session(&app.org.pm).await;
    pm.get("/access")
        .await
        .lacks(&[&format!("id=\"deny-{id}\"")]);
    pm.post(&format!("/access/{id}"), &[("answer", "grant")])
        .await
        .expect(403);
    // An admin reads them all, answers none.
    let mut admin = app.session(&app.org.admin).await;
    admin.get("/access").await.expect(200);
    admin
        .get("/access")
        .await
        .has(&["How they use reporting."])
        .lacks(&[&format!("id=\"grant-{id}\"")]);
    // Unknown ids are not found; a form without its token is refused.
    pm.get("/access/not-an-id").await.expect(404);
    pm.get(&format!("/access/{}", uuid::Uuid::now_v7()))
        .await
        .expect(404);
    let mut fresh = app.session(&app.org.rep).await;
    let r = fresh
        .post(&format!("/access/{id}"), &[("answer", "grant")])
        .await;
    r.expect(403);
}

on_both_engines!(
    a_pm_asks_for_customer_time_and_the_owner_answers,
    a_bad_access_form_comes_back_with_the_messages_by_the_fields,
    access_pages_are_for_pms_owners_and_their_leaders,
);
