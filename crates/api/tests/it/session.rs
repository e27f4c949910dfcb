//! Signing in with a password: the session cookie, CSRF on cookie-authenticated
//! changes, the login rate limits, and failed logins in the audit log.

use accord_domain::people::Person;
use accord_service::Caller;
use accord_service::auth::NewUser;
use accord_testkit::fixtures::t0;
use accord_testkit::{TestDb, on_both_engines};
use chrono::Duration;
use serde_json::json;

use crate::support::{Resp, World};
use crate::workflows::ask;

const PASSWORD: &str = "correct horse battery staple";

async fn give_password(w: &World, p: &Person) {
    w.service
        .add_user(
            &Caller::Local("test"),
            NewUser {
                email: p.email.to_string(),
                name: None,
                role: None,
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
}

async fn login(w: &World, email: &str, password: &str, from: &str) -> Resp {
    w.anon("POST", "/api/v1/session")
        .from_addr(from)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
}

/// `name=value` of the session cookie a response sets.
fn session_cookie(r: &Resp) -> String {
    let set = r.header("set-cookie").unwrap();
    set.split(';').next().unwrap().trim().to_owned()
}

async fn a_browser_session_needs_its_csrf_token_for_changes(db: &TestDb) {
    let w = World::new(db).await;
    let rep = &w.org.rep;
    give_password(&w, rep).await;
    let r = login(&w, "Rita.Rep@example.com", PASSWORD, "10.0.0.1:5000").await;
    let body = r.expect(200).clone();
    assert_eq!(body["person"]["id"], json!(rep.id));
    let csrf = body["csrf"].as_str().unwrap().to_owned();
    assert_eq!(csrf.len(), 64);
    let set = r.header("set-cookie").unwrap().to_owned();
    assert!(set.starts_with("accord_session="), "{set}");
    let attrs: Vec<&str> = set.split(';').map(str::trim).collect();
    assert!(attrs.contains(&"HttpOnly"), "{set}");
    assert!(attrs.contains(&"SameSite=Lax"), "{set}");
    assert!(attrs.contains(&"Path=/"), "{set}");
    assert!(attrs.contains(&"Max-Age=43200"), "{set}");
    assert!(!attrs.contains(&"Secure"), "no TLS, no Secure: {set}");
    let cookie = session_cookie(&r);

    // Reads need no CSRF token; the session tells its own.
    let me = w
        .anon("GET", "/api/v1/me")
        .header("cookie", &format!("theme=dark; {cookie}"))
        .send()
        .await;
    let me = me.expect(200);
    assert_eq!(me["person"]["email"], "rita.rep@example.com");
    assert_eq!(me["csrf"], json!(csrf));
    w.anon("GET", "/api/v1/requests")
        .header("cookie", &cookie)
        .send()
        .await
        .expect(200);

    // A change without the header, or with a wrong one, is refused.
    let p = w
        .anon("POST", "/api/v1/requests")
        .header("cookie", &cookie)
        .json(&ask(&w, "roadmap-briefing", 7))
        .send()
        .await;
    assert!(
        p.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("X-CSRF-Token")
    );
    w.anon("POST", "/api/v1/requests")
        .header("cookie", &cookie)
        .header("x-csrf-token", &"0".repeat(64))
        .json(&ask(&w, "roadmap-briefing", 7))
        .send()
        .await
        .problem(403);
    let list = w.get(rep, "/api/v1/requests").await;
    assert_eq!(list.expect(200)["items"], serde_json::json!([]));
    // With it, the change is made.
    let ok = w
        .anon("POST", "/api/v1/requests")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&ask(&w, "roadmap-briefing", 7))
        .send()
        .await;
    assert_eq!(ok.expect(201)["request"]["requester"], json!(rep.id));

    // Signing out needs the token too, ends the session and clears the cookie.
    w.anon("DELETE", "/api/v1/session")
        .header("cookie", &cookie)
        .send()
        .await
        .problem(403);
    let out = w
        .anon("DELETE", "/api/v1/session")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await;
    out.expect(204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(cleared.starts_with("accord_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let p = w
        .anon("GET", "/api/v1/me")
        .header("cookie", &cookie)
        .send()
        .await;
    p.problem(401);
    assert_eq!(p.header("www-authenticate"), Some("Bearer"));
    // A made-up session is nobody.
    w.anon("GET", "/api/v1/me")
        .header("cookie", "accord_session=0123")
        .send()
        .await
        .problem(401);
    // Bearer tokens need no CSRF token.
    w.req(rep, "POST", "/api/v1/requests")
        .json(&ask(&w, "roadmap-briefing", 8))
        .send()
        .await
        .expect(201);
}

async fn cookies_are_secure_behind_tls(db: &TestDb) {
    let w = World::with(db, true).await;
    give_password(&w, &w.org.pm).await;
    let r = login(&w, "paula.pm@example.com", PASSWORD, "10.0.0.1:5000").await;
    r.expect(200);
    let set = r.header("set-cookie").unwrap().to_owned();
    assert!(set.split(';').any(|a| a.trim() == "Secure"), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let csrf = r.json["csrf"].as_str().unwrap().to_owned();
    let out = w
        .anon("DELETE", "/api/v1/session")
        .header("cookie", &session_cookie(&r))
        .header("x-csrf-token", &csrf)
        .send()
        .await;
    out.expect(204);
    assert!(out.header("set-cookie").unwrap().contains("; Secure"));
}

async fn failed_logins_are_limited_and_audited(db: &TestDb) {
    let w = World::new(db).await;
    let pm = &w.org.pm;
    give_password(&w, pm).await;
    let email = pm.email.as_str();
    // The test settings allow 3 failures per account in the window.
    for i in 0..3 {
        let p = login(&w, email, "wrong password", &format!("10.0.1.{i}:4000")).await;
        assert_eq!(p.problem(401)["type"], "/problems/unauthenticated");
    }
    // Then even the right password is throttled, with a Retry-After.
    let p = login(&w, email, PASSWORD, "10.0.1.9:4000").await;
    assert_eq!(p.problem(429)["type"], "/problems/rate-limited");
    let retry: u64 = p.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    // Other accounts are not affected.
    give_password(&w, &w.org.rep).await;
    login(&w, "rita.rep@example.com", PASSWORD, "10.0.1.9:4000")
        .await
        .expect(200);
    // After the window, the account signs in again.
    w.clock.set(t0() + Duration::minutes(16));
    login(&w, email, PASSWORD, "10.0.1.9:4000")
        .await
        .expect(200);

    // Failures (and unknown accounts) are in the audit log, for leaders.
    login(&w, "nobody@example.com", "whatever12", "10.0.2.1:4000")
        .await
        .problem(401);
    let failed = w
        .get(&w.org.admin, "/api/v1/audit?action=login.failed&limit=100")
        .await;
    let failed = failed.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(failed.len(), 4);
    let keys: Vec<&str> = failed
        .iter()
        .map(|e| e["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(keys.iter().filter(|k| **k == email).count(), 3);
    assert!(keys.contains(&"nobody@example.com"));
    assert_eq!(failed[0]["after"]["client"], "10.0.2.1");
    let throttled = w
        .get(&w.org.admin, "/api/v1/audit?action=login.throttled")
        .await;
    assert_eq!(throttled.expect(200)["items"].as_array().unwrap().len(), 1);
    let ok = w
        .get(&w.org.admin, "/api/v1/audit?action=login.succeeded")
        .await;
    assert_eq!(ok.expect(200)["items"].as_array().unwrap().len(), 2);
}

async fn one_client_guessing_many_accounts_is_limited(db: &TestDb) {
    let w = World::new(db).await;
    give_password(&w, &w.org.se).await;
    // The test settings allow 6 failures per client address in the window.
    for i in 0..6 {
        login(
            &w,
            &format!("guess{i}@example.com"),
            "letmein123",
            "192.0.2.7:1000",
        )
        .await
        .problem(401);
    }
    login(&w, "sam.se@example.com", PASSWORD, "192.0.2.7:1001")
        .await
        .problem(429);
    // Another client is not affected.
    login(&w, "sam.se@example.com", PASSWORD, "192.0.2.8:1000")
        .await
        .expect(200);
}

async fn successful_logins_do_not_use_up_the_limits(db: &TestDb) {
    let w = World::new(db).await;
    for p in [&w.org.pm, &w.org.rep, &w.org.manager, &w.org.se] {
        give_password(&w, p).await;
    }
    // People behind one address (an office) sign in many times: more
    // than the per-client limit of failures (6), all successes.
    for round in 0..2 {
        for p in [&w.org.pm, &w.org.rep, &w.org.manager, &w.org.se] {
            let r = login(&w, p.email.as_str(), PASSWORD, "198.51.100.1:443").await;
            assert_eq!(
                r.status.as_u16(),
                200,
                "round {round}, {}: {}",
                p.email,
                r.json
            );
        }
    }
}

async fn malformed_logins_are_400(db: &TestDb) {
    let w = World::new(db).await;
    for body in [
        "",
        "{",
        "{\"email\": \"a@b.c\"}",
        "{\"email\": 1, \"password\": 2}",
        "[]",
    ] {
        w.anon("POST", "/api/v1/session")
            .raw("application/json", body)
            .send()
            .await
            .problem(400);
    }
    w.anon("POST", "/api/v1/session")
        .raw("text/plain", "email=a&password=b")
        .send()
        .await
        .problem(400);
    // Not an address at all: a failed login, not an error.
    login(&w, "not an address", "whatever12", "10.0.0.1:1")
        .await
        .problem(401);
}

on_both_engines!(
    a_browser_session_needs_its_csrf_token_for_changes,
    cookies_are_secure_behind_tls,
    failed_logins_are_limited_and_audited,
    one_client_guessing_many_accounts_is_limited,
    successful_logins_do_not_use_up_the_limits,
    malformed_logins_are_400,
);
