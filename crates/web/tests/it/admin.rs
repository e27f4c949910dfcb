//! The admins' pages: people and teams, playbook versions (a refused
//! upload shows where and why), imports, API tokens and webhooks — for
//! admins, refused to others.

use accord_domain::people::Role;
use accord_service::Caller;
use accord_testkit::{TestDb, on_both_engines};

use crate::app::{App, id_in};

/// The playbook in force, as text.
async fn current_toml(app: &App) -> String {
    app.service
        .current_playbook(&app.as_(&app.org.admin))
        .await
        .unwrap()
        .toml
}

async fn admin_pages_are_refused_to_others(db: &TestDb) {
    let app = App::new(db).await;
    for p in [
        &app.org.pm,
        &app.org.pm_lead,
        &app.org.rep,
        &app.org.manager,
        &app.org.engineer,
    ] {
        let mut b = app.session(p).await;
        for path in [
            "/admin/people",
            "/admin/people/new",
            "/admin/playbook",
            "/admin/import",
            "/admin/tokens",
            "/admin/webhooks",
        ] {
            let page = b.get(path).await;
            assert_eq!(
                page.status.as_u16(),
                403,
                "{path} for {}: {}",
                p.email,
                page.body
            );
        }
        // Posting is refused too, whatever the form says.
        b.get("/requests").await;
        let page = b
            .post(
                "/admin/tokens",
                &[("email", p.email.as_str()), ("name", "mine")],
            )
            .await;
        assert_eq!(page.status.as_u16(), 403, "{}", page.body);
    }
}

async fn an_admin_adds_and_changes_people_and_teams(db: &TestDb) {
    let app = App::new(db).await;
    let mut admin = app.session(&app.org.admin).await;
    let page = admin.get("/admin/people").await;
    page.expect(200);
    page.has(&[
        "paula pm",
        "Product manager",
        "Platform PM",
        "lena lead",
        "EMEA Enterprise",
        "id=\"add-person\"",
        "id=\"add-team\"",
    ]);

    // A team: a name is needed, and it must be new.
    admin.get("/admin/teams/new").await.expect(200);
    let page = admin
        .post(
            "/admin/teams/new",
            &[("name", ""), ("kind", "sales"), ("lead", "")],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("name").contains("name"));
    let page = admin
        .post(
            "/admin/teams/new",
            &[("name", "Platform PM"), ("kind", "product"), ("lead", "")],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("name").contains("Another team"));
    let manager = app.org.manager.id.to_string();
    let page = admin
        .post(
            "/admin/teams/new",
            &[
                ("name", "Americas Mid-Market"),
                ("kind", "sales"),
                ("lead", &manager),
            ],
        )
        .await;
    let team = id_in(page.redirected(), "/admin/teams");
    admin
        .get(&format!("/admin/teams/{team}"))
        .await
        .has(&["Americas Mid-Market", "Team saved."]);

    // A person: a real address and a role.
    admin.get("/admin/people/new").await.expect(200);
    let page = admin
        .post(
            "/admin/people/new",
            &[
                ("name", "Nina Field"),
                ("email", "not an address"),
                ("role", "sales_rep"),
                ("team", &team),
                ("active", "1"),
            ],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("email").contains("Not an email address"));
    page.has(&["value=\"Nina Field\""]);
    let page = admin
        .post(
            "/admin/people/new",
            &[
                ("name", "Nina Field"),
                ("email", "nina.field@example.com"),
                ("role", ""),
                ("active", "1"),
            ],
        )
        .await;
    page.expect(422);
    assert_eq!(page.field_error("role"), "Choose a role.");
    let page = admin
        .post(
            "/admin/people/new",
            &[
                ("name", "Nina Field"),
                ("email", "nina.field@example.com"),
                ("role", "sales_rep"),
                ("team", &team),
                ("manager", &manager),
                ("active", "1"),
            ],
        )
        .await;
    let nina = id_in(page.redirected(), "/admin/people");
    let saved = app
        .service
        .get_person(&app.as_(&app.org.admin), nina.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (saved.role, saved.manager, saved.team.map(|t| t.to_string())),
        (Role::SalesRep, Some(app.org.manager.id), Some(team.clone()))
    );

    // A sign-in: a typed password must be long enough; an empty one is
    // generated and shown once.
    admin.get(&format!("/admin/people/{nina}")).await;
    let page = admin
        .post(
            &format!("/admin/people/{nina}/sign-in"),
            &[("password", "short")],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("password").contains("10 characters"));
    let page = admin
        .post(
            &format!("/admin/people/{nina}/sign-in"),
            &[("password", "")],
        )
        .await;
    page.expect(200);
    let start =
        page.body.find("id=\"generated-password\">").unwrap() + "id=\"generated-password\">".len();
    let password = page.body[start..start + page.body[start..].find('<').unwrap()].to_owned();
    assert_eq!(password.len(), 20);
    app.service
        .login("nina.field@example.com", &password, "test")
        .await
        .unwrap();
    admin
        .get(&format!("/admin/people/{nina}"))
        .await
        .lacks(&[&password]);

    // Promoted, and then she leaves: her history stays, her sign-in stops.
    let page = admin
        .post(
            &format!("/admin/people/{nina}"),
            &[
                ("name", "Nina Field"),
                ("role", "sales_manager"),
                ("team", &team),
                ("manager", ""),
            ],
        )
        .await;
    assert_eq!(page.redirected(), format!("/admin/people/{nina}"));
    let saved = app
        .service
        .get_person(&app.as_(&app.org.admin), saved.id)
        .await
        .unwrap();
    assert_eq!(
        (saved.role, saved.active, saved.manager),
        (Role::SalesManager, false, None)
    );
    admin
        .get("/admin/people")
        .await
        .has(&["Nina Field", "left"]);
    assert!(
        app.service
            .login("nina.field@example.com", &password, "test")
            .await
            .is_err()
    );
}

async fn a_broken_playbook_is_refused_with_located_diagnostics(db: &TestDb) {
    let app = App::new(db).await;
    let mut admin = app.session(&app.org.admin).await;
    let page = admin.get("/admin/playbook").await;
    page.expect(200);
    page.has(&[
        "id=\"playbook-toml\"",
        "id=\"upload-playbook\"",
        "id=\"playbook-file\"",
        "in force",
    ]);
    let good = current_toml(&app).await;

    // An effect that does not exist, on a known line.
    let broken = good.replacen("effect = \"exception\"", "effect = \"explode\"", 1);
    let line = broken.lines().position(|l| l.contains("explode")).unwrap() + 1;
    let page = admin
        .post_multipart(
            "/admin/playbook",
            &[
                ("toml", None, broken.as_bytes()),
                ("reason", None, b"Try a new effect"),
                ("file", Some(""), b""),
            ],
        )
        .await;
    page.expect(422);
    page.has(&[
        "id=\"diagnostics\"",
        &format!("playbook.toml:{line}:"),
        "explode",
        "The playbook was refused",
    ]);
    // The text comes back to be fixed, and nothing changed.
    page.has(&["effect = &#34;explode&#34;"]);
    assert_eq!(app.service.playbook().version, 1);

    // Plain TOML errors are located too, from a file.
    let page = admin
        .post_multipart(
            "/admin/playbook",
            &[
                ("toml", None, b""),
                ("reason", None, b"From a file"),
                ("file", Some("pb.toml"), b"[charter\nname = 1\n"),
            ],
        )
        .await;
    page.expect(422);
    page.has(&["id=\"diagnostics\"", "playbook.toml:1:"]);

    // A playbook that reads well but fails its own tests.
    let failing = good.replacen("expect = \"allow\"", "expect = \"deny\"", 1);
    let page = admin
        .post_multipart(
            "/admin/playbook",
            &[
                ("toml", None, failing.as_bytes()),
                ("reason", None, b"Stricter"),
            ],
        )
        .await;
    page.expect(422);
    page.has(&[
        "id=\"failed-tests\"",
        "a roadmap briefing at discovery, well prepared, is allowed",
    ]);

    // No reason: the message is next to the field.
    let page = admin
        .post_multipart(
            "/admin/playbook",
            &[("toml", None, good.as_bytes()), ("reason", None, b"")],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("reason").contains("why"));

    // A form from elsewhere is refused.
    admin
        .post_multipart_with(
            "/admin/playbook",
            "forged",
            &[("toml", None, good.as_bytes()), ("reason", None, b"x")],
        )
        .await
        .expect(403);

    // A valid one becomes the new version, and the versions compare.
    let better = good.replacen("watch = 0.15", "watch = 0.12", 1);
    let page = admin
        .post_multipart(
            "/admin/playbook",
            &[
                ("toml", None, better.as_bytes()),
                ("reason", None, b"Watch sales support sooner"),
            ],
        )
        .await;
    assert_eq!(page.redirected(), "/admin/playbook");
    assert_eq!(app.service.playbook().version, 2);
    let page = admin.get("/admin/playbook").await;
    page.has(&[
        "Version 2 is in force.",
        "Watch sales support sooner",
        "ada admin",
        "id=\"diff-from\"",
    ]);
    let page = admin.get("/admin/playbook?from=1&to=2").await;
    page.expect(200);
    page.has(&[
        "1 line(s) added, 1 removed",
        "<span class=\"del\">-watch = 0.15</span>",
        "<span class=\"add\">+watch = 0.12</span>",
    ]);
    let page = admin.get("/admin/playbook?from=1&to=9").await;
    page.expect(422);
    assert!(page.field_error("diff").contains("exist"));
}

async fn an_admin_imports_crm_files_and_sees_the_summary(db: &TestDb) {
    let app = App::new(db).await;
    let mut admin = app.session(&app.org.admin).await;
    let page = admin.get("/admin/import").await;
    page.expect(200);
    page.has(&[
        "id=\"import-files\"",
        "id=\"import-kind-crm\" checked",
        "id=\"import\"",
    ]);
    let people = b"email,name,role,team,manager_email,function\n\
        petra.novak@northwind.example,Petra Novak,pm_lead,Product,,\n\
        ana.lopez@northwind.example,Ana Lopez,pm,Product,petra.novak@northwind.example,\n\
        bo.chief@northwind.example,Bo Chief,chief,Product,,\n";
    // No files: the message is next to the file input.
    let page = admin
        .post_multipart(
            "/admin/import",
            &[("kind", None, b"crm"), ("format", None, b"generic")],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("files").contains("Choose the files"));
    let page = admin
        .post_multipart(
            "/admin/import",
            &[
                ("kind", None, b"crm"),
                ("format", None, b"generic"),
                ("files", Some("people.csv"), people),
            ],
        )
        .await;
    page.expect(200);
    page.has(&[
        "id=\"import-report\"",
        "people.csv",
        "1 file imported",
        "person: 2 new",
        "unknown role",
        "line 4",
    ]);
    page.lacks(&["accord-upload-"]);
    // Again: nothing changes.
    admin.get("/admin/import").await;
    let page = admin
        .post_multipart(
            "/admin/import",
            &[
                ("kind", None, b"crm"),
                ("format", None, b"generic"),
                ("files", Some("people.csv"), people),
            ],
        )
        .await;
    page.has(&["Nothing changed", "2 unchanged"]);
    // A calendar with a bad window.
    let page = admin
        .post_multipart(
            "/admin/import",
            &[
                ("kind", None, b"calendar"),
                ("from", None, b"2026-03-10"),
                ("to", None, b"2026-03-01"),
                (
                    "files",
                    Some("team.ics"),
                    b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                ),
            ],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("to").contains("before the first"));
    // A calendar in its window: the counts as the CLI prints them.
    let page = admin
        .post_multipart(
            "/admin/import",
            &[
                ("kind", None, b"calendar"),
                ("from", None, b"2026-03-01"),
                ("to", None, b"2026-03-31"),
                (
                    "files",
                    Some("team.ics"),
                    b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:standup-1\r\n\
                      DTSTART:20260310T090000Z\r\nDTEND:20260310T091500Z\r\n\
                      SUMMARY:Standup\r\nORGANIZER:mailto:ana.lopez@northwind.example\r\n\
                      END:VEVENT\r\nEND:VCALENDAR\r\n",
                ),
            ],
        )
        .await;
    page.expect(200);
    page.has(&[
        "team.ics",
        "1 event read, 1 occurrence in the window (0 cancelled), 0 customer contacts, 0 PM contacts, 0 violations",
        "no customer attendee",
    ]);
}

async fn a_token_is_created_shown_once_and_revoked(db: &TestDb) {
    let app = App::new(db).await;
    let mut admin = app.sign_in(&app.org.admin).await;
    let page = admin.get("/admin/tokens").await;
    page.expect(200);
    page.has(&[
        "id=\"no-tokens\"",
        "id=\"token-person\"",
        "id=\"create-token\"",
    ]);
    let rep = app.org.rep.email.to_string();
    let page = admin
        .post("/admin/tokens", &[("email", &rep), ("name", "")])
        .await;
    page.expect(422);
    assert!(page.field_error("name").contains("Name the token"));
    let page = admin
        .post("/admin/tokens", &[("email", &rep), ("name", "crm sync")])
        .await;
    page.expect(200);
    let start = page.body.find("id=\"token-secret\">").unwrap() + "id=\"token-secret\">".len();
    let secret = page.body[start..start + page.body[start..].find('<').unwrap()].to_owned();
    assert!(secret.starts_with("acc_"));
    assert_eq!(
        app.service
            .principal_for_token(&secret)
            .await
            .unwrap()
            .person
            .id,
        app.org.rep.id
    );
    // Shown once: the list does not show it again.
    let page = admin.get("/admin/tokens").await;
    page.has(&["crm sync", "rita rep"]).lacks(&[&secret]);
    let token = app
        .service
        .list_tokens(&Caller::Local("test"))
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "crm sync")
        .unwrap();
    page.has(&[&format!("id=\"revoke-token-{}\"", token.id)]);
    let page = admin
        .post(&format!("/admin/tokens/{}/revoke", token.id), &[])
        .await;
    assert_eq!(page.redirected(), "/admin/tokens");
    assert!(
        app.service.principal_for_token(&secret).await.is_err(),
        "a revoked token no longer works"
    );
    admin
        .get("/admin/tokens")
        .await
        .has(&["Token revoked", "id=\"revoked-tokens\"", "crm sync"]);
}

async fn an_admin_registers_and_removes_a_webhook(db: &TestDb) {
    let app = App::new(db).await;
    let mut admin = app.session(&app.org.admin).await;
    admin.get("/admin/webhooks").await.has(&[
        "id=\"no-webhooks\"",
        "id=\"webhook-url\"",
        "id=\"event-alert-opened\"",
    ]);
    let page = admin
        .post(
            "/admin/webhooks",
            &[
                ("url", "ftp://example.com/x"),
                ("event", "alert.opened"),
                ("format", "json"),
            ],
        )
        .await;
    page.expect(422);
    assert!(!page.field_error("url").is_empty());
    page.has(&[
        "value=\"ftp://example.com/x\"",
        "id=\"event-alert-opened\" checked",
    ]);
    let page = admin
        .post(
            "/admin/webhooks",
            &[
                ("url", "https://hooks.example.com/accord"),
                ("format", "json"),
            ],
        )
        .await;
    page.expect(422);
    assert!(page.field_error("events").contains("Choose the events"));
    let page = admin
        .post(
            "/admin/webhooks",
            &[
                ("url", "https://hooks.example.com/accord"),
                ("event", "alert.opened"),
                ("event", "alert.closed"),
                ("format", "slack"),
            ],
        )
        .await;
    page.expect(200);
    page.has(&[
        "id=\"webhook-secret\"",
        "alert.opened, alert.closed",
        "chat line",
    ]);
    let hooks = app
        .service
        .list_webhooks(&Caller::Local("test"))
        .await
        .unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        hooks[0].events,
        vec!["alert.opened".to_owned(), "alert.closed".to_owned()]
    );
    let page = admin
        .post(&format!("/admin/webhooks/{}/delete", hooks[0].id), &[])
        .await;
    assert_eq!(page.redirected(), "/admin/webhooks");
    let hooks = app
        .service
        .list_webhooks(&Caller::Local("test"))
        .await
        .unwrap();
    assert!(hooks.iter().all(|h| !h.active), "{hooks:?}");
}

on_both_engines!(
    admin_pages_are_refused_to_others,
    an_admin_adds_and_changes_people_and_teams,
    a_broken_playbook_is_refused_with_located_diagnostics,
    an_admin_imports_crm_files_and_sees_the_summary,
    a_token_is_created_shown_once_and_revoked,
    an_admin_registers_and_removes_a_webhook,
);
