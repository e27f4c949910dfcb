//! The authorization matrix through HTTP: every endpoint of
//! `accord_api::ENDPOINTS` × every role, and the record-level rules on top.

use accord_api::ENDPOINTS;
use accord_domain::people::{Person, Role};
use accord_service::auth::NewUser;
use accord_service::{Action, Caller};
use accord_testkit::fixtures::{person, t0};
use accord_testkit::{TestDb, on_both_engines};
use chrono::Duration;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Resp, World, at, in_days};
use crate::workflows::ask;

/// One call to make: an endpoint with concrete ids, a body of the right
/// shape, and the action the matrix checks.
struct Probe {
    method: &'static str,
    path: String,
    body: Option<Value>,
    action: Option<Action>,
}

/// A body of the right shape for each change (so that a refusal cannot be
/// a 400 for a malformed body), and the query a GET needs. Ids are made up:
/// a role the matrix allows may well get a 404 or a 409 — the record-level
/// checks are tested below.
fn body_for(w: &World, method: &str, path: &str) -> Option<Value> {
    if method != "POST" {
        return None;
    }
    let account = w.org.account.id;
    Some(match path {
        "/api/v1/session" => {
            json!({"email": w.org.admin.email, "password": "correct horse battery"})
        }
        "/api/v1/requests" => ask(w, "roadmap-briefing", 7),
        "/api/v1/evaluate" => {
            json!({"record": "access", "account": account, "purpose": "discovery"})
        }
        "/api/v1/meetings" => json!({
            "account": account,
            "title": "Call",
            "starts_at": at(t0() - Duration::days(1)),
            "ends_at": at(t0() - Duration::days(1)),
            "attendees": [{"email": "cio@acme.com"}, {"email": w.org.rep.email}],
        }),
        "/api/v1/access" => {
            json!({"account": account, "purpose": "feedback", "agenda": "Their month-end reporting."})
        }
        "/api/v1/access/{id}/answer" => json!({"answer": "grant"}),
        "/api/v1/commitments" => {
            json!({"account": account, "kind": "feature", "text": "Exports", "to_whom": "analysts", "present": [w.org.rep.id]})
        }
        "/api/v1/commitments/{id}/decision" | "/api/v1/exceptions/{id}/decision" => {
            json!({"approve": true})
        }
        "/api/v1/insights" => {
            json!({"account": account, "kind": "futures", "product_area": "exports", "text": "They want more."})
        }
        "/api/v1/exceptions" => json!({
            "rule": "owner-present",
            "record": {"kind": "meeting", "id": Uuid::now_v7()},
            "reason": "The owner is travelling this week.",
        }),
        "/api/v1/playbook/versions" => json!({"toml": "not a playbook", "reason": "probe"}),
        "/api/v1/charter/versions/{id}/comments" => json!({"text": "A comment."}),
        "/api/v1/people" => json!({
            "id": Uuid::now_v7(),
            "email": format!("probe-{}@example.com", Uuid::now_v7().simple()),
            "name": "Probe",
            "role": "sales_rep",
            "active": true,
        }),
        "/api/v1/teams" => {
            json!({"id": Uuid::now_v7(), "name": format!("Team {}", Uuid::now_v7().simple()), "kind": "other"})
        }
        "/api/v1/accounts" => json!({"id": Uuid::now_v7(), "name": "Probe Inc", "domains": []}),
        "/api/v1/opportunities" => json!({
            "id": Uuid::now_v7(),
            "account": account,
            "name": "Probe deal",
            "stage": "discovery",
            "created_at": at(t0()),
        }),
        "/api/v1/reviews" => json!({"alerts": []}),
        "/api/v1/reviews/{id}/outcome" => json!({"notes": "Kept.", "outcome": "rules_kept"}),
        // Everything else takes an empty object (or nothing).
        _ => json!({}),
    })
}

fn query_for(path: &str) -> &'static str {
    match path {
        // About the caller (`{me}`: their email), which everyone may see.
        "/api/v1/signals/history" => {
            "?signal=owner-presence&subject_kind=person&subject={me}&from=2026-01-01&to=2026-03-01"
        }
        "/api/v1/playbook/diff" => "?from=1&to=1",
        _ => "",
    }
}

/// Every probe: one per endpoint, and one per command for the endpoint
/// whose action the body chooses.
fn probes(w: &World) -> Vec<Probe> {
    let mut out = Vec::new();
    for e in ENDPOINTS {
        let concrete = format!(
            "{}{}",
            e.path
                .replace("{id}", &Uuid::now_v7().to_string())
                .replace("{version}", "1"),
            query_for(e.path)
        );
        if e.path == "/api/v1/requests/{id}/actions" {
            for (cmd, action) in [
                (json!({"action": "accept"}), Action::AnswerRequest),
                (
                    json!({"action": "decline", "reason": "No."}),
                    Action::AnswerRequest,
                ),
                (
                    json!({"action": "redirect", "target": {"to": "sales_engineering"}}),
                    Action::AnswerRequest,
                ),
                (
                    json!({"action": "schedule", "at": in_days(5)}),
                    Action::ScheduleRequest,
                ),
                (
                    json!({"action": "complete", "outcome": "Done.", "hours": 1}),
                    Action::CompleteRequest,
                ),
                (
                    json!({"action": "cancel", "reason": "Off."}),
                    Action::CancelRequest,
                ),
            ] {
                out.push(Probe {
                    method: e.method,
                    path: concrete.clone(),
                    body: Some(cmd),
                    action: Some(action),
                });
            }
            continue;
        }
        out.push(Probe {
            method: e.method,
            path: concrete,
            body: body_for(w, e.method, e.path),
            action: e.action,
        });
    }
    out
}

async fn send(w: &World, who: Option<&Person>, p: &Probe) -> Resp {
    let mut call = match who {
        Some(person) => w.req(
            person,
            p.method,
            &p.path.replace("{me}", person.email.as_str()),
        ),
        None => w.anon(p.method, &p.path.replace("{me}", "nobody@example.com")),
    };
    if let Some(b) = &p.body {
        call = call.json(b);
    }
    call.send().await
}

async fn every_endpoint_for_every_role(db: &TestDb) {
    let w = World::new(db).await;
    // The public endpoint (signing in) is probed with real credentials.
    w.service
        .add_user(
            &Caller::Local("test"),
            NewUser {
                email: w.org.admin.email.to_string(),
                name: None,
                role: None,
                password: Some("correct horse battery".into()),
            },
        )
        .await
        .unwrap();
    // One person of each role.
    let people: Vec<(Role, Person)> = Role::ALL
        .iter()
        .map(|r| {
            let p = w
                .org
                .people()
                .into_iter()
                .find(|p| p.role == *r)
                .unwrap_or_else(|| panic!("the fixture has no {r}"))
                .clone();
            (*r, p)
        })
        .collect();

    let probes = probes(&w);
    assert!(probes.len() > ENDPOINTS.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for p in &probes {
        let label = format!("{} {}", p.method, p.path);
        let public = ENDPOINTS
            .iter()
            .any(|e| e.public && e.method == p.method && p.path.starts_with(e.path));
        // Without credentials: 401, unless the endpoint is public.
        let r = send(&w, None, p).await;
        if public {
            if r.status.as_u16() >= 400 {
                failures.push(format!("{label} anonymous: public, but {}", r.status));
            }
        } else if r.status != 401 {
            failures.push(format!("{label} anonymous: {} instead of 401", r.status));
        } else {
            r.assert_problem();
        }
        for (role, person) in &people {
            let r = send(&w, Some(person), p).await;
            let allowed = p.action.is_none_or(|a| a.allows(*role));
            let status = r.status.as_u16();
            checked += 1;
            if status >= 500 {
                failures.push(format!("{label} as {role}: {status} {}", r.json));
            } else if allowed && (status == 401 || status == 403) {
                failures.push(format!(
                    "{label} as {role}: allowed by the matrix ({:?}), but {status}: {}",
                    p.action.map(|a| a.as_str()),
                    r.json["detail"]
                ));
            } else if !allowed {
                if status != 403 {
                    failures.push(format!(
                        "{label} as {role}: {} may not, but {status}: {}",
                        p.action.map(|a| a.as_str()).unwrap_or_default(),
                        r.json
                    ));
                } else {
                    r.assert_problem();
                    assert_eq!(r.json["type"], "/problems/forbidden");
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, probes.len() * Role::ALL.len());
}

/// A person beside the fixture organisation, with a token.
async fn extra(w: &mut World, email: &str, role: Role, manager: Option<&Person>) -> Person {
    let mut p = person(email, role, None);
    p.manager = manager.map(|m| m.id);
    w.add_person(&p).await;
    p
}

async fn record_level_rules_hold_through_http(db: &TestDb) {
    let mut w = World::new(db).await;
    let other_pm = extra(&mut w, "olga.otherpm@example.com", Role::Pm, None).await;
    let other_lead = extra(&mut w, "lou.otherlead@example.com", Role::PmLead, None).await;
    let other_manager = extra(
        &mut w,
        "max.othermanager@example.com",
        Role::SalesManager,
        None,
    )
    .await;
    let stranger = extra(
        &mut w,
        "sid.stranger@example.com",
        Role::SalesRep,
        Some(&other_manager),
    )
    .await;
    let (rep, pm, lead, manager) = (&w.org.rep, &w.org.pm, &w.org.pm_lead, &w.org.manager);
    let act = |r: &str| format!("/api/v1/requests/{r}/actions");

    // Asking: a rep on their own deals, a manager on their reps'.
    w.post(
        &stranger,
        "/api/v1/requests",
        ask(&w, "roadmap-briefing", 7),
    )
    .await
    .problem(403);
    w.post(
        &other_manager,
        "/api/v1/requests",
        ask(&w, "roadmap-briefing", 7),
    )
    .await
    .problem(403);
    let by_manager = w
        .post(manager, "/api/v1/requests", ask(&w, "roadmap-briefing", 7))
        .await;
    assert_eq!(
        by_manager.expect(201)["request"]["requester"],
        json!(manager.id)
    );

    // Only the assigned PM accepts — not another PM, not their lead.
    let r = w
        .post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 7))
        .await;
    let r = r.expect(201)["request"]["id"].as_str().unwrap().to_owned();
    for who in [&other_pm, lead, &other_lead] {
        let p = w.post(who, &act(&r), json!({"action": "accept"})).await;
        assert!(
            p.problem(403)["detail"]
                .as_str()
                .unwrap()
                .contains("assigned")
        );
    }
    // Another PM, or a lead of another team, may not answer for them either.
    w.post(
        &other_pm,
        &act(&r),
        json!({"action": "decline", "reason": "Busy."}),
    )
    .await
    .problem(403);
    w.post(
        &other_lead,
        &act(&r),
        json!({"action": "decline", "reason": "Busy."}),
    )
    .await
    .problem(403);
    // Nobody but its requester, its PM or their leads moves it.
    w.post(
        &stranger,
        &act(&r),
        json!({"action": "cancel", "reason": "Mine now."}),
    )
    .await
    .problem(403);
    w.post(pm, &act(&r), json!({"action": "accept"}))
        .await
        .expect(200);
    w.post(
        &other_pm,
        &act(&r),
        json!({"action": "schedule", "at": in_days(5)}),
    )
    .await
    .problem(403);
    // Only the request's PM records the outcome, not their lead.
    w.post(
        rep,
        &act(&r),
        json!({"action": "schedule", "at": in_days(7)}),
    )
    .await
    .expect(200);
    w.post(
        lead,
        &act(&r),
        json!({"action": "complete", "outcome": "Done.", "hours": 2}),
    )
    .await
    .problem(403);
    w.post(
        pm,
        &act(&r),
        json!({"action": "complete", "outcome": "Done.", "hours": 2}),
    )
    .await
    .expect(200);
    // The PM's lead may decline on their behalf.
    let r2 = w
        .post(rep, "/api/v1/requests", ask(&w, "solution-review", 8))
        .await;
    let r2 = r2.expect(201)["request"]["id"].as_str().unwrap().to_owned();
    let d = w
        .post(
            lead,
            &act(&r2),
            json!({"action": "decline", "reason": "Paula is on leave."}),
        )
        .await;
    assert_eq!(d.expect(200)["request"]["state"], "declined");
    // An unassigned request is taken by whichever PM accepts it.
    let mut open = ask(&w, "roadmap-briefing", 9);
    open["pm"] = Value::Null;
    let r3 = w.post(rep, "/api/v1/requests", open).await;
    let r3 = r3.expect(201)["request"]["id"].as_str().unwrap().to_owned();
    let taken = w
        .post(&other_pm, &act(&r3), json!({"action": "accept"}))
        .await;
    assert_eq!(taken.expect(200)["request"]["pm"], json!(other_pm.id));

    // Access: only the account's owner or the owner's manager answers.
    let new_access =
        json!({"account": w.org.account.id, "purpose": "discovery", "agenda": "Their reporting."});
    let a = w.post(pm, "/api/v1/access", new_access.clone()).await;
    let a = a.expect(201)["record"]["id"].as_str().unwrap().to_owned();
    let answer = format!("/api/v1/access/{a}/answer");
    for who in [&stranger, &other_manager] {
        let p = w.post(who, &answer, json!({"answer": "grant"})).await;
        assert!(p.problem(403)["detail"].as_str().unwrap().contains("owner"));
    }
    w.post(manager, &answer, json!({"answer": "grant"}))
        .await
        .expect(200);
    let b = w.post(pm, "/api/v1/access", new_access).await;
    let b = b.expect(201)["record"]["id"].as_str().unwrap().to_owned();
    w.post(
        rep,
        &format!("/api/v1/access/{b}/answer"),
        json!({"answer": "deny", "reason": "Renewal talks."}),
    )
    .await
    .expect(200);

    // Commitments: a PM lead decides, never on their own.
    let c = w
        .post(
            lead,
            "/api/v1/commitments",
            json!({"account": w.org.account.id, "kind": "feature", "text": "Exports", "to_whom": "analysts", "present": [rep.id]}),
        )
        .await;
    let c = c.expect(201)["record"]["id"].as_str().unwrap().to_owned();
    let decide = format!("/api/v1/commitments/{c}/decision");
    for who in [pm, manager] {
        w.post(who, &decide, json!({"approve": true}))
            .await
            .problem(403);
    }
    w.post(lead, &decide, json!({"approve": true}))
        .await
        .problem(403);
    let ok = w.post(&other_lead, &decide, json!({"approve": true})).await;
    assert_eq!(ok.expect(200)["decided_by"], json!(other_lead.id));

    // Exceptions: the approver the playbook names, never the asker.
    let meeting_ex = w
        .post(
            manager,
            "/api/v1/exceptions",
            json!({"rule": "owner-present", "record": {"kind": "meeting", "id": Uuid::now_v7()}, "reason": "Rita is travelling; I will be there."}),
        )
        .await;
    let meeting_ex = meeting_ex.expect(201)["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/exceptions/{meeting_ex}/decision");
    let p = w.post(manager, &path, json!({"approve": true})).await;
    assert!(p.problem(403)["detail"].as_str().unwrap().contains("own"));
    let p = w.post(lead, &path, json!({"approve": true})).await;
    assert!(
        p.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("sales_manager")
    );
    w.post(&other_manager, &path, json!({"approve": true}))
        .await
        .expect(200);
    let demo = w.post(rep, "/api/v1/requests", ask(&w, "demo", 7)).await;
    let demo_ex = demo.expect(201)["exceptions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/exceptions/{demo_ex}/decision");
    w.post(manager, &path, json!({"approve": true}))
        .await
        .problem(403);
    w.post(&other_lead, &path, json!({"approve": true}))
        .await
        .expect(200);
}

on_both_engines!(
    every_endpoint_for_every_role,
    record_level_rules_hold_through_http
);
