//! The API's conventions: bad input of any kind is a 4xx problem+json,
//! never a 500; unknown ids are 404; cursor pagination walks a list to its
//! end.

use std::collections::HashSet;

use accord_testkit::{TestDb, on_both_engines};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{BRIEFING, Resp, World, in_days};
use crate::workflows::ask;

/// Asserts a client error with a problem document.
#[track_caller]
fn client_error(r: &Resp) {
    assert!(
        r.status.is_client_error(),
        "{} answered {}: {}",
        r.what,
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.assert_problem();
}

/// The hex cursor for a text, as the store writes them.
fn cursor(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

async fn garbage_is_a_client_error_never_a_500(db: &TestDb) {
    let w = World::new(db).await;
    let (rep, pm, admin) = (&w.org.rep, &w.org.pm, &w.org.admin);
    let deep = "[".repeat(10_000);
    let long = "x".repeat(20_001);
    let bodies: Vec<(&str, &str, String)> = vec![
        // Not JSON, or not the right JSON.
        ("POST", "/api/v1/requests", String::new()),
        ("POST", "/api/v1/requests", "not json".into()),
        ("POST", "/api/v1/requests", "{\"opportunity\":".into()),
        ("POST", "/api/v1/requests", "[]".into()),
        ("POST", "/api/v1/requests", "null".into()),
        ("POST", "/api/v1/requests", deep.clone()),
        ("POST", "/api/v1/requests", "{\"opportunity\": 12}".into()),
        (
            "POST",
            "/api/v1/requests",
            "{\"opportunity\": 1e999}".into(),
        ),
        (
            "POST",
            "/api/v1/requests",
            "{\"briefing\": \"\\ud800\"}".into(),
        ),
        ("POST", "/api/v1/evaluate", "{\"record\": 7}".into()),
        ("POST", "/api/v1/meetings", "{\"title\": [\"x\"]}".into()),
        ("POST", "/api/v1/access", "{\"account\": true}".into()),
        ("POST", "/api/v1/commitments", "\u{feff}{}".into()),
        (
            "POST",
            "/api/v1/exceptions",
            "{\"record\": {\"kind\": \"cake\"}}".into(),
        ),
        ("POST", "/api/v1/tokens", "{\"name\": {}}".into()),
        ("POST", "/api/v1/people", "{\"id\": \"x\"}".into()),
        ("POST", "/api/v1/playbook/versions", deep),
    ];
    for (method, path, body) in bodies {
        let who = if path.contains("playbook") || path.contains("people") {
            admin
        } else {
            rep
        };
        let r = w
            .req(who, method, path)
            .raw("application/json", body)
            .send()
            .await;
        client_error(&r);
    }

    // Right shape, wrong values.
    let values: Vec<(&str, Value)> = vec![
        ("needed_at", json!("tomorrow")),
        ("needed_at", json!("2026-13-45T25:61:00Z")),
        ("needed_at", json!(1_772_442_000)),
        ("needed_at", json!("+275760-09-13T00:00:00Z")),
        ("opportunity", json!("not-a-uuid")),
        ("opportunity", json!(Uuid::nil())),
        ("pm", json!(Uuid::now_v7())),
        ("pm", json!(w.org.rep.id)),
        ("id", json!(12)),
        ("purpose", json!("fun")),
        ("engagement_type", json!("")),
        ("engagement_type", json!("a".repeat(100_000))),
        ("briefing", json!(long)),
        ("briefing", json!(null)),
    ];
    for (field, value) in values {
        let mut body = ask(&w, "roadmap-briefing", 7);
        body[field] = value;
        let r = w.post(rep, "/api/v1/requests", body).await;
        client_error(&r);
    }
    // The latest date there is: a valid request, far ahead.
    let mut far = ask(&w, "roadmap-briefing", 7);
    far["needed_at"] = json!("9999-12-31T23:59:59Z");
    let r = w.post(rep, "/api/v1/requests", far).await;
    assert_eq!(r.expect(201)["decision"]["effect"], "allow");

    // Commands of the wrong shape, numbers out of range.
    let r = w
        .post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 7))
        .await;
    let rid = r.expect(201)["request"]["id"].as_str().unwrap().to_owned();
    w.post(
        pm,
        &format!("/api/v1/requests/{rid}/actions"),
        json!({"action": "accept"}),
    )
    .await
    .expect(200);
    let actions = format!("/api/v1/requests/{rid}/actions");
    for cmd in [
        json!({}),
        json!({"action": "fly"}),
        json!({"action": "complete", "outcome": "x", "hours": "many"}),
        json!({"action": "complete", "outcome": "x", "hours": 1e308}),
        json!({"action": "complete", "outcome": "x", "hours": -0.5}),
        json!({"action": "complete", "outcome": "x"}),
        json!({"action": "schedule", "at": "soon"}),
        json!({"action": "redirect", "target": {"to": "moon"}}),
        json!({"action": "redirect", "target": {"to": "team", "team": Uuid::now_v7()}}),
        json!({"action": "redirect", "target": {"to": "type", "engagement_type": "juggling"}}),
        json!({"action": "redirect", "target": {"to": "type", "engagement_type": "Not An Id!"}}),
    ] {
        client_error(&w.post(pm, &actions, cmd).await);
    }
    let r = w
        .req(pm, "POST", &actions)
        .raw(
            "application/json",
            "{\"action\": \"complete\", \"outcome\": \"x\", \"hours\": 1e400}",
        )
        .send()
        .await;
    client_error(&r);

    // Text the database would choke on.
    let nul = "before\u{0}after";
    let r = w
        .post(
            pm,
            "/api/v1/insights",
            json!({"account": w.org.account.id, "kind": "futures", "product_area": nul, "text": nul}),
        )
        .await;
    assert!(r.status.as_u16() < 500, "{}: {}", r.what, r.json);
    let mut body = ask(&w, "roadmap-briefing", 7);
    body["briefing"] = json!(format!("{BRIEFING} {nul}"));
    let r = w.post(rep, "/api/v1/requests", body).await;
    assert!(r.status.as_u16() < 500, "{}: {}", r.what, r.json);
    let r = w.post(rep, "/api/v1/tokens", json!({"name": nul})).await;
    assert!(r.status.as_u16() < 500, "{}: {}", r.what, r.json);
    let r = w
        .anon("POST", "/api/v1/session")
        .json(&json!({"email": nul, "password": nul}))
        .send()
        .await;
    client_error(&r);

    // Paths and query strings.
    let gets = [
        "/api/v1/requests/not-a-uuid",
        "/api/v1/requests/00000000-0000-0000-0000-00000000000g",
        "/api/v1/requests?limit=-1",
        "/api/v1/requests?limit=99999999999",
        "/api/v1/requests?limit=ten",
        "/api/v1/requests?pm=paula",
        "/api/v1/requests?from=yesterday",
        "/api/v1/requests?state=requested,,sideways",
        "/api/v1/requests?after=zz",
        "/api/v1/requests?after=abc",
        "/api/v1/meetings?after=6e6f",
        "/api/v1/meetings?pm_contacts=perhaps",
        "/api/v1/access?owner=1",
        "/api/v1/commitments?pending=2",
        "/api/v1/insights?account=%00",
        "/api/v1/exceptions?rule=%00",
        "/api/v1/people?after=00",
        "/api/v1/people?inactive=maybe",
        "/api/v1/accounts?after=ffff",
        "/api/v1/opportunities?after=%zz",
        "/api/v1/audit?after=-1",
        "/api/v1/decisions?after=not-hex",
        "/api/v1/playbook/versions/99999999999999999999",
        "/api/v1/playbook/versions/1.5",
        "/api/v1/playbook/diff?from=a&to=b",
        "/api/v1/charter/versions/12",
        "/api/v1/people/%E2%9C%93",
    ];
    let malformed_cursors = [
        // Valid hex of text that is not a cursor of that list.
        format!("/api/v1/people?after={}", cursor("no separator")),
        format!("/api/v1/accounts?after={}", cursor("x\u{1f}not-a-uuid")),
        format!(
            "/api/v1/meetings?after={}",
            cursor(&format!("{}\u{1f}not a time", Uuid::now_v7()))
        ),
        format!("/api/v1/audit?after={}", cursor("99999999999999999999")),
        format!("/api/v1/requests?after={}", cursor("\u{0}")),
    ];
    let admin_paths = ["/api/v1/audit", "/api/v1/decisions"];
    let as_whom = |path: &str| {
        if admin_paths.iter().any(|p| path.starts_with(p)) {
            admin
        } else {
            rep
        }
    };
    for path in gets.iter().map(|s| s.to_string()).chain(malformed_cursors) {
        client_error(&w.get(as_whom(&path), &path).await);
    }
    // Text with a NUL, in a filter or a well-formed cursor: a filter that
    // finds nothing, or a client error — never a 500.
    let nul_queries = [
        "/api/v1/people?q=%00".to_owned(),
        "/api/v1/accounts?q=a%00b".to_owned(),
        "/api/v1/audit?record_kind=%00".to_owned(),
        "/api/v1/audit?action=login%00".to_owned(),
        "/api/v1/audit?record_id=%00".to_owned(),
        format!(
            "/api/v1/people?after={}",
            cursor(&format!("{}\u{1f}\u{0}", Uuid::now_v7()))
        ),
        format!(
            "/api/v1/accounts?after={}",
            cursor(&format!("{}\u{1f}a\u{0}b", Uuid::now_v7()))
        ),
    ];
    for path in &nul_queries {
        let r = w.get(as_whom(path), path).await;
        if !r.status.is_success() {
            client_error(&r);
        }
    }
    // Limits are clamped, not refused.
    for limit in ["0", "1", "500", "100000"] {
        w.get(rep, &format!("/api/v1/requests?limit={limit}"))
            .await
            .expect(200);
    }
    // Far-away numbers are just not found.
    for path in [
        "/api/v1/playbook/versions/9223372036854775807",
        "/api/v1/playbook/versions/-9223372036854775808",
        "/api/v1/playbook/versions/0",
        "/api/v1/playbook/diff?from=-1&to=9223372036854775807",
    ] {
        w.get(rep, path).await.problem(404);
    }

    // Headers.
    for auth in [
        "Bearer",
        "Bearer ",
        "Basic cml0YTpwYXNzd29yZA==",
        "Bearer acc_0000",
        "Token abc",
    ] {
        w.anon("GET", "/api/v1/me")
            .header("authorization", auth)
            .send()
            .await
            .problem(401);
    }
    let mut req = axum::http::Request::builder()
        .uri("/api/v1/me")
        .body(axum::body::Body::empty())
        .unwrap();
    req.headers_mut().insert(
        "authorization",
        axum::http::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
    );
    let resp = tower::ServiceExt::oneshot(w.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    w.anon("GET", "/api/v1/me")
        .header("cookie", "accord_session=%%%; ;=;;accord_session")
        .send()
        .await
        .problem(401);
    // Unknown content types and missing ones.
    w.req(rep, "POST", "/api/v1/requests")
        .raw(
            "text/plain",
            serde_json::to_vec(&ask(&w, "roadmap-briefing", 7)).unwrap(),
        )
        .send()
        .await
        .problem(400);
    let r = w
        .req(rep, "POST", "/api/v1/requests")
        .raw(
            "application/json; charset=utf-8",
            serde_json::to_vec(&ask(&w, "roadmap-briefing", 9)).unwrap(),
        )
        .send()
        .await;
    r.expect(201);
}

async fn unknown_ids_are_404(db: &TestDb) {
    let w = World::new(db).await;
    let x = Uuid::now_v7();
    let reads = [
        format!("/api/v1/requests/{x}"),
        format!("/api/v1/meetings/{x}"),
        format!("/api/v1/access/{x}"),
        format!("/api/v1/commitments/{x}"),
        format!("/api/v1/exceptions/{x}"),
        format!("/api/v1/charter/versions/{x}"),
        format!("/api/v1/people/{x}"),
        format!("/api/v1/accounts/{x}"),
        format!("/api/v1/opportunities/{x}"),
        "/api/v1/playbook/versions/2".into(),
    ];
    for path in reads {
        let r = w.get(&w.org.pm_lead, &path).await;
        assert_eq!(r.problem(404)["type"], "/problems/not-found", "{path}");
    }
    let changes = [
        (
            &w.org.pm,
            format!("/api/v1/requests/{x}/actions"),
            json!({"action": "accept"}),
        ),
        (
            &w.org.rep,
            format!("/api/v1/requests/{x}/actions"),
            json!({"action": "cancel", "reason": "x"}),
        ),
        (
            &w.org.rep,
            format!("/api/v1/access/{x}/answer"),
            json!({"answer": "grant"}),
        ),
        (
            &w.org.pm_lead,
            format!("/api/v1/commitments/{x}/decision"),
            json!({"approve": true}),
        ),
        (
            &w.org.pm_lead,
            format!("/api/v1/exceptions/{x}/decision"),
            json!({"approve": true}),
        ),
        (
            &w.org.engineer,
            format!("/api/v1/charter/versions/{x}/comments"),
            json!({"text": "hi"}),
        ),
        (
            &w.org.manager,
            format!("/api/v1/charter/versions/{x}/endorsements"),
            json!({}),
        ),
        (
            &w.org.pm_lead,
            format!("/api/v1/charter/versions/{x}/ratification"),
            json!({}),
        ),
        (
            &w.org.pm,
            format!("/api/v1/charter/versions/{x}/acknowledgments"),
            json!({}),
        ),
    ];
    for (who, path, body) in changes {
        w.post(who, &path, body).await.problem(404);
    }
    w.delete(&w.org.admin, &format!("/api/v1/tokens/{x}"))
        .await
        .problem(404);
}

async fn unknown_routes_and_methods_are_problems(db: &TestDb) {
    let w = World::new(db).await;
    let r = w.get(&w.org.rep, "/api/v1/nothing-here").await;
    assert_eq!(r.problem(404)["type"], "/problems/not-found");
    let r = w
        .get(&w.org.rep, "/api/v1/requests/extra/segments/here")
        .await;
    r.problem(404);
    let r = w
        .req(&w.org.rep, "PUT", "/api/v1/requests")
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(r.status, 405);
    assert!(
        r.header("allow").is_some_and(|a| a.contains("POST")),
        "{:?}",
        r.headers
    );
}

/// Walks a list by its `next` cursors; returns the ids in order.
async fn walk(
    w: &World,
    who: &accord_domain::people::Person,
    path: &str,
    limit: u32,
) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &after {
            Some(c) => format!("{path}{sep}limit={limit}&after={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r = w.get(who, &url).await;
        let page = r.expect(200).clone();
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        for i in items {
            let id = i["id"]
                .as_str()
                .or_else(|| i["meeting"]["id"].as_str())
                .or_else(|| i["seq"].as_i64().map(|_| "seq"))
                .unwrap()
                .to_owned();
            ids.push(if id == "seq" {
                i["seq"].to_string()
            } else {
                id
            });
        }
        match page["next"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), limit as usize, "a short page has no next");
                after = Some(c.to_owned());
            }
            None => break,
        }
        assert!(pages < 100, "the cursor does not move");
    }
    (ids, pages)
}

async fn cursor_pagination_walks_every_list_to_its_end(db: &TestDb) {
    let w = World::new(db).await;
    let (rep, pm) = (&w.org.rep, &w.org.pm);
    for d in 0..7 {
        w.post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 3 + d))
            .await
            .expect(201);
        w.post(
            pm,
            "/api/v1/insights",
            json!({"account": w.org.account.id, "kind": "futures", "product_area": "x", "text": format!("insight {d}")}),
        )
        .await
        .expect(201);
        w.post(
            pm,
            "/api/v1/meetings",
            json!({
                "account": w.org.account.id,
                "title": format!("Call {d}"),
                "starts_at": in_days(-1 - d),
                "ends_at": in_days(-1 - d),
                "attendees": [{"email": "cio@acme.com"}, {"email": pm.email}, {"email": rep.email}],
            }),
        )
        .await
        .expect(201);
    }
    for i in 0..5 {
        w.post(
            &w.org.admin,
            "/api/v1/people",
            json!({"id": Uuid::now_v7(), "email": format!("p{i}@example.com"), "name": format!("Person {i}"), "role": "sales_rep", "active": true}),
        )
        .await
        .expect(200);
    }
    let lists: [(&str, usize); 6] = [
        ("/api/v1/requests", 7),
        ("/api/v1/insights", 7),
        ("/api/v1/meetings", 7),
        ("/api/v1/people", 12),
        ("/api/v1/decisions", 14),
        ("/api/v1/audit", 0),
    ];
    for (path, expected) in lists {
        let who = if path.contains("decisions") || path.contains("audit") {
            &w.org.admin
        } else {
            rep
        };
        let (ids, pages) = walk(&w, who, path, 3).await;
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{path}: an item twice: {ids:?}");
        if expected > 0 {
            assert_eq!(ids.len(), expected, "{path}");
            assert_eq!(pages, expected.div_ceil(3), "{path}");
        } else {
            assert!(ids.len() > 30, "{path}: {}", ids.len());
        }
        // The same walk in one page gives the same order.
        let one = w.get(who, &format!("{path}?limit=500")).await;
        let all: Vec<String> = one.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                i["id"]
                    .as_str()
                    .or_else(|| i["meeting"]["id"].as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| i["seq"].to_string())
            })
            .collect();
        assert_eq!(all, ids, "{path}");
    }
    // Filters hold across pages.
    let (ids, _) = walk(&w, rep, "/api/v1/people?role=sales_rep", 2).await;
    assert_eq!(ids.len(), 6);
}

on_both_engines!(
    garbage_is_a_client_error_never_a_500,
    unknown_ids_are_404,
    unknown_routes_and_methods_are_problems,
    cursor_pagination_walks_every_list_to_its_end,
);
