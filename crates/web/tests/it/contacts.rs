//! Customer contacts through the pages: a PM logs one (in their own time
//! zone), adds what they learned and a commitment; a planned contact
//! without the owner is refused with the rule's message, an exception is
//! asked for on the same form, and once granted the contact goes through;
//! bad forms come back with messages by their fields; others are refused.

use accord_domain::id::MeetingId;
use accord_service::contacts::{NewAttendee, NewMeeting};
use accord_testkit::fixtures::t0;
use accord_testkit::{TestDb, on_both_engines};
use chrono::Duration;

use crate::app::{App, Browser, id_in};

/// The contact form's fields: the reference the page gave, then `extra`.
fn contact<'a>(id: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("id", id)];
    v.extend_from_slice(extra);
    v
}

async fn a_pm_logs_a_contact_with_an_insight_and_a_commitment(db: &TestDb) {
    let app = App::new(db).await;
    let mut pm = app.sign_in(&app.org.pm).await;
    pm.set_cookie("accord_tz", "Europe/Berlin");
    pm.get("/meetings")
        .await
        .has(&["No customer contacts yet", "id=\"log-contact\""]);
    let form = pm.get("/meetings/new").await;
    form.expect(200);
    form.has(&[
        "id=\"attendee-email-0\" name=\"email0\" value=\"paula.pm@example.com\"",
        "id=\"when-logged\"",
        "id=\"save\"",
        "(Europe/Berlin)",
    ]);
    let reference = form.value_of("id");

    // 08:00 in Berlin is 07:00 UTC: before the fixtures' 09:00 UTC "now".
    let saved = pm
        .post(
            "/meetings/new",
            &contact(
                &reference,
                &[
                    ("when", "logged"),
                    ("title", "Acme — reporting review"),
                    ("account", ""),
                    ("starts_at", "2026-03-02T08:00"),
                    ("ends_at", "2026-03-02T09:00"),
                    ("email0", "paula.pm@example.com"),
                    ("response0", "accepted"),
                    ("email1", "rita.rep@example.com"),
                    ("response1", "accepted"),
                    ("email2", "cio@acme.com"),
                    ("response2", "accepted"),
                    ("email3", "cfo@acme.com"),
                    ("response3", "declined"),
                    ("action", "save"),
                ],
            ),
        )
        .await;
    let location = saved.redirected().to_owned();
    let id = id_in(&location, "/meetings");
    assert_eq!(id, reference, "the contact keeps the form's reference");
    let page = pm.get(&location).await;
    page.expect(200);
    page.has(&[
        "Logged. Now add what you learned and any commitment made.",
        "Acme — reporting review",
        "Acme Corporation",
        "Mon 2 Mar 2026, 08:00 CET",
        "id=\"owner-present\">was there",
        "cio@acme.com",
        "customer",
        "Declined (not there)",
        "our side — the account&#39;s owner",
        "id=\"insight-kind-futures\"",
        "id=\"log-commitment\"",
        &format!("id=\"present-{}\" checked", app.org.rep.id),
    ]);

    // An insight: its kind and area are required, said by the fields.
    let bad = pm
        .post(
            &location,
            &[
                ("action", "insight"),
                ("kind", ""),
                ("product_area", ""),
                ("insight_text", "They export every Monday."),
            ],
        )
        .await;
    bad.expect(422);
    assert_eq!(bad.field_error("kind"), "Choose the kind of insight.");
    assert_eq!(
        bad.field_error("product_area"),
        "Which part of the product is it about?"
    );
    bad.has(&["They export every Monday."]);
    let added = pm
        .post(
            &location,
            &[
                ("action", "insight"),
                ("kind", "futures"),
                ("product_area", "Reporting"),
                ("insight_text", "They want scheduled exports."),
            ],
        )
        .await;
    assert_eq!(added.redirected(), format!("{location}#insights"));

    // A commitment, heard by the owner: logged, waiting for a PM lead.
    let pm_id = app.org.pm.id.to_string();
    let rep_id = app.org.rep.id.to_string();
    let bad = pm
        .post(
            &location,
            &[
                ("action", "commitment"),
                ("commitment_kind", "feature"),
                ("commitment_text", ""),
                ("to_whom", ""),
                ("said_by", &pm_id),
                ("present", &rep_id),
                ("said_at", "2026-03-02T08:30"),
            ],
        )
        .await;
    bad.expect(422);
    assert!(
        bad.field_error("commitment-text")
            .starts_with("Say what was promised")
    );
    assert!(bad.field_error("to_whom").starts_with("Say to whom"));
    let logged = pm
        .post(
            &location,
            &[
                ("action", "commitment"),
                ("commitment_kind", "feature"),
                ("commitment_text", "Scheduled exports next quarter"),
                ("to_whom", "their CIO"),
                ("said_by", &pm_id),
                ("present", &rep_id),
                ("said_at", "2026-03-02T08:30"),
            ],
        )
        .await;
    assert_eq!(logged.redirected(), format!("{location}#commitments"));
    let page = pm.get(&location).await;
    page.has(&[
        "Commitment logged.",
        "not binding until a PM lead approves it",
        "Input on futures",
        "reporting",
        "They want scheduled exports.",
        "Scheduled exports next quarter",
        "their CIO",
        "present: rita rep",
        "waiting for a PM lead",
        "What was learned (1)",
        "Commitments (1)",
    ]);
    // The list shows it, with the owner there.
    pm.get("/meetings").await.has(&[
        "Acme — reporting review",
        &format!("href=\"/meetings/{id}\""),
        "logged after the fact",
    ]);
}

async fn a_planned_contact_without_the_owner_is_refused_until_excepted(db: &TestDb) {
    let app = App::new(db).await;
    let mut pm = app.sign_in(&app.org.pm).await;
    let reference = pm.get("/meetings/new").await.value_of("id");
    let fields = |action: &'static str, reason: &'static str| {
        vec![
            ("when", "planned"),
            ("title", "Acme — discovery"),
            ("starts_at", "2026-03-05T10:00"),
            ("ends_at", "2026-03-05T11:00"),
            ("email0", "paula.pm@example.com"),
            ("response0", "accepted"),
            ("email1", "cio@acme.com"),
            ("response1", "accepted"),
            ("exception_rule", "owner-present"),
            ("exception_reason", reason),
            ("action", action),
        ]
    };
    // The check says it before anything is saved.
    let checked = pm
        .post("/meetings/new", &contact(&reference, &fields("check", "")))
        .await;
    checked.expect(200);
    let message = "A PM meets Acme Corporation without the relationship owner (rita rep)";
    checked.has(&[
        "effect-deny",
        message,
        "id=\"exception_reason\"",
        "id=\"ask-exception\"",
    ]);
    // Saving is refused, with the rule's message and the way to an exception.
    let refused = pm
        .post("/meetings/new", &contact(&reference, &fields("save", "")))
        .await;
    refused.expect(422);
    refused.has(&[
        message,
        "Ask for an exception",
        &format!("name=\"id\" value=\"{reference}\""),
        "value=\"owner-present\" selected",
    ]);
    // The exception needs a reason worth the name.
    let short = pm
        .post(
            "/meetings/new",
            &contact(&reference, &fields("exception", "busy")),
        )
        .await;
    short.expect(422);
    assert!(
        short
            .field_error("exception_reason")
            .starts_with("Say why the rule should not apply")
    );
    let asked = pm
        .post(
            "/meetings/new",
            &contact(
                &reference,
                &fields(
                    "exception",
                    "Rita is on leave; her manager agreed by phone.",
                ),
            ),
        )
        .await;
    asked.expect(200);
    asked.has(&[
        "Exception to owner-present asked for: a sales manager decides.",
        &format!("/meetings/new?id={reference}"),
    ]);
    // Asked twice: said by the field, not an error page.
    let twice = pm
        .post(
            "/meetings/new",
            &contact(
                &reference,
                &fields(
                    "exception",
                    "Rita is on leave; her manager agreed by phone.",
                ),
            ),
        )
        .await;
    twice.expect(422);
    assert!(
        twice
            .field_error("exception_rule")
            .contains("already open or granted")
    );

    // The rep's manager grants it; the same contact now goes through.
    let manager = app.as_(&app.org.manager);
    let pending = app
        .service
        .list_exceptions(
            &manager,
            true,
            Some("owner-present"),
            &accord_store::PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(pending.items.len(), 1);
    app.service
        .decide_exception(&manager, pending.items[0].id, true, None)
        .await
        .unwrap();
    let saved = pm
        .post("/meetings/new", &contact(&reference, &fields("save", "")))
        .await;
    assert_eq!(saved.redirected(), format!("/meetings/{reference}"));
    pm.get(&format!("/meetings/{reference}")).await.has(&[
        "set aside by an approved exception",
        "planned through accord",
        "was not there",
        "approved: Rita is on leave",
    ]);
}

async fn a_bad_contact_form_comes_back_with_the_messages_by_the_fields(db: &TestDb) {
    let app = App::new(db).await;
    let mut pm = app.sign_in(&app.org.pm).await;
    let reference = pm.get("/meetings/new").await.value_of("id");
    // What the page checks: a title, times, someone.
    let bad = pm
        .post(
            "/meetings/new",
            &contact(
                &reference,
                &[
                    ("when", "logged"),
                    ("title", ""),
                    ("starts_at", "yesterday"),
                    ("ends_at", "2026-03-02T08:00"),
                    ("action", "save"),
                ],
            ),
        )
        .await;
    bad.expect(422);
    assert!(
        bad.field_error("title")
            .starts_with("Give the contact a title")
    );
    assert_eq!(
        bad.field_error("starts_at"),
        "Give the date and time it starts."
    );
    assert!(
        bad.field_error("attendees")
            .starts_with("Add who attended by email")
    );
    // What the service checks, by the field at fault: an address on its
    // own row, a logged contact in the future, an end before the start.
    let bad = pm
        .post(
            "/meetings/new",
            &contact(
                &reference,
                &[
                    ("when", "logged"),
                    ("title", "Acme — call"),
                    ("starts_at", "2026-03-01T10:00"),
                    ("ends_at", "2026-03-01T11:00"),
                    ("email0", "paula.pm@example.com"),
                    ("email3", "not-an-address"),
                    ("action", "save"),
                ],
            ),
        )
        .await;
    bad.expect(422);
    assert!(!bad.field_error("attendee-email-3").is_empty());
    bad.has(&["value=\"not-an-address\"", "value=\"Acme — call\""]);
    let future = pm
        .post(
            "/meetings/new",
            &contact(
                &reference,
                &[
                    ("when", "logged"),
                    ("title", "Acme — call"),
                    ("starts_at", "2026-03-09T10:00"),
                    ("ends_at", "2026-03-09T09:00"),
                    ("email0", "paula.pm@example.com"),
                    ("email1", "cio@acme.com"),
                    ("action", "save"),
                ],
            ),
        )
        .await;
    future.expect(422);
    assert!(
        future
            .field_error("starts_at")
            .starts_with("A logged contact already happened")
    );
    assert_eq!(future.field_error("ends_at"), "Ends before it starts.");
    // Nothing was stored.
    pm.get("/meetings").await.has(&["No customer contacts yet"]);
}

async fn contacts_are_refused_to_who_has_no_business_there(db: &TestDb) {
    let app = App::new(db).await;
    let logged = app
        .service
        .log_meeting(
            &app.as_(&app.org.pm),
            NewMeeting {
                id: None,
                account: None,
                title: "Acme — call".into(),
                starts_at: t0() - Duration::days(1),
                ends_at: t0() - Duration::days(1) + Duration::hours(1),
                attendees: vec![
                    NewAttendee {
                        email: app.org.pm.email.to_string(),
                        response: None,
                    },
                    NewAttendee {
                        email: app.org.rep.email.to_string(),
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
    let r = app.anonymous().get(&format!("/meetings/{id}")).await;
    assert!(r.redirected().starts_with("/login?next="));
    // A constituent sees no contacts.
    let mut eve = app.session(&app.org.engineer).await;
    for path in [
        "/meetings".to_owned(),
        "/meetings/new".to_owned(),
        format!("/meetings/{id}"),
    ] {
        eve.get(&path).await.expect(403);
    }
    // The rep sees the contact, logs commitments, captures no insight.
    let mut rep: Browser = app.session(&app.org.rep).await;
    rep.get("/meetings")
        .await
        .has(&["Acme — call", "My customer contacts"]);
    rep.get(&format!("/meetings/{id}"))
        .await
        .has(&["id=\"log-commitment\""])
        .lacks(&["id=\"add-insight\""]);
    rep.post(
        &format!("/meetings/{id}"),
        &[
            ("action", "insight"),
            ("kind", "futures"),
            ("product_area", "x"),
            ("insight_text", "y"),
        ],
    )
    .await
    .expect(403);
    // An admin reads everyone's contacts and logs none.
    let mut admin = app.session(&app.org.admin).await;
    admin
        .get("/meetings")
        .await
        .has(&["Customer contacts", "Acme — call"])
        .lacks(&["id=\"log-contact\""]);
    admin.get("/meetings/new").await.expect(403);
    // Unknown contacts are not found.
    rep.get("/meetings/nope").await.expect(404);
    rep.get(&format!("/meetings/{}", MeetingId::new()))
        .await
        .expect(404);
}

on_both_engines!(
    a_pm_logs_a_contact_with_an_insight_and_a_commitment,
    a_planned_contact_without_the_owner_is_refused_until_excepted,
    a_bad_contact_form_comes_back_with_the_messages_by_the_fields,
    contacts_are_refused_to_who_has_no_business_there,
);
