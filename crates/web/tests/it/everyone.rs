//! What everyone reads: the charter — drafted, commented on by
//! constituents, endorsed, ratified and acknowledged by PMs through its
//! page — and the playbook in force, as a matrix and in plain English.

use accord_domain::id::{Email, PersonId};
use accord_domain::people::{Person, Role};
use accord_domain::playbook::Playbook;
use accord_testkit::{TestDb, on_both_engines};

use crate::app::App;

/// What askama makes of a text in a page.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

async fn the_charter_is_commented_endorsed_ratified_and_acknowledged(db: &TestDb) {
    let app = App::new(db).await;
    let mut pm = app.sign_in(&app.org.pm).await;
    // Nothing yet: each is told what comes.
    pm.get("/charter")
        .await
        .has(&["No charter is in force yet", "No draft is open"])
        .lacks(&["id=\"draft\""]);

    // A PM lead opens a draft from the page.
    let mut lead = app.session(&app.org.pm_lead).await;
    lead.get("/charter").await.has(&["id=\"draft\""]);
    let opened = lead.post("/charter", &[("action", "draft")]).await;
    let draft = opened
        .redirected()
        .strip_prefix("/charter#draft-")
        .unwrap()
        .to_owned();

    // A constituent comments; an empty comment is said by the field.
    let mut eve = app.session(&app.org.engineer).await;
    eve.get("/charter")
        .await
        .has(&[
            "Draft version 1",
            &format!("id=\"comment-text-{draft}\""),
            &format!("id=\"endorse-{draft}\""),
        ])
        .lacks(&["id=\"acknowledge\"", &format!("id=\"ratify-{draft}\"")]);
    let bad = eve
        .post(
            "/charter",
            &[
                ("action", "comment"),
                ("version", &draft),
                ("clause", ""),
                ("text", "  "),
            ],
        )
        .await;
    bad.expect(422);
    assert!(
        bad.field_error(&format!("comment-text-{draft}"))
            .starts_with("Write your comment")
    );
    let said = "Name support tickets as a source of feedback too.";
    let commented = eve
        .post(
            "/charter",
            &[
                ("action", "comment"),
                ("version", &draft),
                ("clause", "customer-insight"),
                ("text", said),
            ],
        )
        .await;
    assert_eq!(commented.redirected(), format!("/charter#draft-{draft}"));
    eve.get("/charter").await.has(&[
        "Comment added.",
        &format!("“{said}” <small>— eve eng"),
        "(1 comments)",
    ]);
    // Endorsed for engineering by the constituent; a PM lead's function
    // (product) is not one the draft needs: said by the button.
    assert_eq!(
        eve.post("/charter", &[("action", "endorse"), ("version", &draft)])
            .await
            .redirected(),
        format!("/charter#draft-{draft}")
    );
    let wrong = lead
        .post("/charter", &[("action", "endorse"), ("version", &draft)])
        .await;
    wrong.expect(422);
    assert!(
        wrong
            .field_error(&format!("endorse-{draft}"))
            .contains("not product"),
        "{}",
        wrong.body
    );
    // Too early to ratify: said by the button.
    let early = lead
        .post("/charter", &[("action", "ratify"), ("version", &draft)])
        .await;
    early.expect(422);
    assert!(
        early
            .field_error(&format!("ratify-{draft}"))
            .contains("waiting for endorsements from: sales, marketing, support")
    );
    // The other functions' leads endorse; then it is ratified.
    let mut manager = app.session(&app.org.manager).await;
    manager.get("/charter").await.expect(200);
    manager
        .post("/charter", &[("action", "endorse"), ("version", &draft)])
        .await
        .redirected();
    for function in ["marketing", "support"] {
        let p = Person {
            id: PersonId::new(),
            email: Email::parse(&format!("{function}.lead@example.com")).unwrap(),
            name: format!("{function} lead"),
            role: Role::Constituent,
            team: None,
            manager: None,
            function: Some(function.into()),
            active: true,
            external: None,
        };
        let mut tx = app.service.store().write().await.unwrap();
        tx.upsert_person(&p).await.unwrap();
        tx.commit().await.unwrap();
        let mut b = app.session(&p).await;
        b.get("/charter").await.expect(200);
        b.post("/charter", &[("action", "endorse"), ("version", &draft)])
            .await
            .redirected();
    }
    let ratified = lead
        .post("/charter", &[("action", "ratify"), ("version", &draft)])
        .await;
    assert_eq!(ratified.redirected(), "/charter");

    // In force: the PM reads it and acknowledges it.
    let page = pm.get("/charter").await;
    page.has(&[
        "In force: version 1",
        "Key accountabilities",
        "id=\"acknowledge\"",
        "You have not acknowledged this version yet",
        "0 of 2 PMs",
        "eve eng for engineering",
        "mark manager for sales",
    ]);
    let acked = pm
        .post(
            "/charter",
            &[("action", "acknowledge"), ("version", &draft)],
        )
        .await;
    assert_eq!(acked.redirected(), "/charter");
    pm.get("/charter")
        .await
        .has(&[
            "Acknowledged. Thank you",
            "You have acknowledged this version.",
            "1 of 2 PMs",
        ])
        .lacks(&["id=\"acknowledge\""]);
    // Reps read it but acknowledge nothing.
    let mut rep = app.session(&app.org.rep).await;
    rep.get("/charter")
        .await
        .has(&["In force: version 1"])
        .lacks(&["id=\"acknowledge\""]);
    rep.post(
        "/charter",
        &[("action", "acknowledge"), ("version", &draft)],
    )
    .await
    .expect(403);
    // A comment on a ratified version is a conflict, said by the field.
    let late = eve
        .post(
            "/charter",
            &[
                ("action", "comment"),
                ("version", &draft),
                ("clause", ""),
                ("text", "Too late?"),
            ],
        )
        .await;
    late.expect(422);
    late.has(&["id=\"charter-alert\"", "Only drafts are open for comments."]);
}

async fn the_rules_read_in_plain_english_for_everyone(db: &TestDb) {
    let app = App::new(db).await;
    let r = app.anonymous().get("/playbook").await;
    assert_eq!(r.redirected(), "/login?next=%2Fplaybook");
    let mut pm = app.sign_in(&app.org.pm).await;
    let page = pm.get("/playbook").await;
    page.expect(200);
    let p = Playbook::default_playbook();
    let owner_present = p.rule("owner-present").unwrap();
    page.has(&[
        "The rules of engagement",
        "Version 1, in force since",
        "The sales process model",
        "<caption>",
        "Qualification</strong> — PMs not engaged.",
        "<code>owner-present</code> — for a customer contact: <span class=\"effect-deny\">refused when planned through accord; a violation when it already happened</span>",
        &escaped(&owner_present.condition.describe()),
        &escaped(&owner_present.message_text),
        "Can be set aside by an exception approved by a sales manager.",
        "Sales-support share (per PM)",
        "Watch at 15% or more; act at 25% or more; from a sample of 8.",
    ]);
    // The RFP section fits one stage, as the plain-text matrix says.
    let row = &page.body[page.body.find("id=\"type-rfp-section\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(row.matches("class=\"fit\"").count(), 1, "{row}");
    assert!(row.contains("allowed") && row.contains("not allowed"));
    // Everyone reads it, constituents and admins too.
    for who in [&app.org.engineer, &app.org.admin, &app.org.rep] {
        app.session(who)
            .await
            .get("/playbook")
            .await
            .has(&["<code>no-ambush</code>"]);
    }
}

on_both_engines!(
    the_charter_is_commented_endorsed_ratified_and_acknowledged,
    the_rules_read_in_plain_english_for_everyone,
);
