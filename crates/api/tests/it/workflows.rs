//! Every workflow's happy path and its refusals, through HTTP.

use accord_domain::playbook::DEFAULT_TOML;
use accord_testkit::fixtures::t0;
use accord_testkit::{TestDb, on_both_engines};
use chrono::Duration;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{BRIEFING, World, at, in_days, rules};

/// A request for the fixture opportunity, asked of the fixture PM.
pub(crate) fn ask(w: &World, ty: &str, days: i64) -> Value {
    json!({
        "opportunity": w.org.opportunity.id,
        "pm": w.org.pm.id,
        "engagement_type": ty,
        "briefing": BRIEFING,
        "needed_at": in_days(days),
    })
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

async fn act(
    w: &World,
    who: &accord_domain::people::Person,
    req: &str,
    cmd: Value,
) -> crate::support::Resp {
    w.post(who, &format!("/api/v1/requests/{req}/actions"), cmd)
        .await
}

async fn a_request_goes_through_its_life(db: &TestDb) {
    let w = World::new(db).await;
    let (rep, pm) = (&w.org.rep, &w.org.pm);
    let out = w
        .post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 7))
        .await;
    let out = out.expect(201);
    assert_eq!(out["request"]["state"], "requested");
    assert_eq!(out["decision"]["effect"], "allow");
    assert_eq!(out["decision"]["matched"], json!([]));
    let r = id(&out["request"]);

    let view = w.get(rep, &format!("/api/v1/requests/{r}")).await;
    let view = view.expect(200);
    assert_eq!(view["history"].as_array().unwrap().len(), 1);
    assert_eq!(view["decisions"].as_array().unwrap().len(), 1);
    let allowed: Vec<&str> = view["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(allowed.contains(&"accept"), "{allowed:?}");

    // Completing what nobody accepted: an illegal transition.
    act(
        &w,
        pm,
        &r,
        json!({"action": "complete", "outcome": "x", "hours": 1}),
    )
    .await
    .problem(409);
    act(&w, pm, &r, json!({"action": "accept"}))
        .await
        .expect(200);
    // Accepting twice is illegal too.
    let again = act(&w, pm, &r, json!({"action": "accept"})).await;
    assert_eq!(again.problem(409)["type"], "/problems/conflict");
    // A date in the past is named.
    let p = act(
        &w,
        rep,
        &r,
        json!({"action": "schedule", "at": at(t0() - Duration::days(1))}),
    )
    .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "at");
    let s = act(&w, rep, &r, json!({"action": "schedule", "at": in_days(7)})).await;
    assert_eq!(s.expect(200)["request"]["state"], "scheduled");
    // Only the PM records the outcome, with sensible hours.
    act(
        &w,
        rep,
        &r,
        json!({"action": "complete", "outcome": "won", "hours": 2}),
    )
    .await
    .problem(403);
    let p = act(
        &w,
        pm,
        &r,
        json!({"action": "complete", "outcome": "won", "hours": -1}),
    )
    .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "hours");
    let done = act(
        &w,
        pm,
        &r,
        json!({"action": "complete", "outcome": "They chose us for phase 2.", "hours": 3.5}),
    )
    .await;
    let done = done.expect(200);
    assert_eq!(done["request"]["state"], "done");
    assert_eq!(done["request"]["hours"], 3.5);
    let view = w.get(rep, &format!("/api/v1/requests/{r}")).await;
    let states: Vec<&str> = view.expect(200)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["requested", "accepted", "scheduled", "done"]);
    assert_eq!(view.json["allowed_actions"], json!([]));

    // Decline needs a reason; cancel is the requester's too.
    let b = w
        .post(rep, "/api/v1/requests", ask(&w, "solution-review", 8))
        .await;
    let b = id(&b.expect(201)["request"]);
    let p = act(&w, pm, &b, json!({"action": "decline", "reason": "  "})).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "reason");
    let d = act(
        &w,
        pm,
        &b,
        json!({"action": "decline", "reason": "Not a fit yet."}),
    )
    .await;
    assert_eq!(d.expect(200)["request"]["state"], "declined");
    let c = w
        .post(rep, "/api/v1/requests", ask(&w, "solution-review", 9))
        .await;
    let c = id(&c.expect(201)["request"]);
    let x = act(
        &w,
        rep,
        &c,
        json!({"action": "cancel", "reason": "The customer postponed."}),
    )
    .await;
    assert_eq!(x.expect(200)["request"]["state"], "cancelled");

    // A redirect to another type continues as a new request, evaluated.
    let e = w
        .post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 10))
        .await;
    let e = id(&e.expect(201)["request"]);
    let red = act(
        &w,
        pm,
        &e,
        json!({"action": "redirect", "target": {"to": "type", "engagement_type": "vision-presentation"}, "note": "They need the vision first"}),
    )
    .await;
    let red = red.expect(200);
    assert_eq!(red["request"]["state"], "redirected");
    assert_eq!(red["decision"]["effect"], "audit");
    assert_eq!(rules(&red["decision"]), ["vision-on-record"]);
    let list = w
        .get(rep, "/api/v1/requests?state=requested&limit=50")
        .await;
    let follow: Vec<&Value> = list.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["redirected_from"] == json!(e))
        .collect();
    assert_eq!(follow.len(), 1);
    assert_eq!(follow[0]["engagement_type"], "vision-presentation");
    // ... or to sales engineering, which ends it here.
    let f = w
        .post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 11))
        .await;
    let f = id(&f.expect(201)["request"]);
    let red = act(
        &w,
        pm,
        &f,
        json!({"action": "redirect", "target": {"to": "sales_engineering"}}),
    )
    .await;
    assert_eq!(
        red.expect(200)["request"]["redirect"]["to"],
        "sales_engineering"
    );
    assert_eq!(red.json["decision"], Value::Null);
    // A redirect to someone who is not a PM is named.
    let g = w
        .post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 12))
        .await;
    let g = id(&g.expect(201)["request"]);
    let p = act(
        &w,
        pm,
        &g,
        json!({"action": "redirect", "target": {"to": "person", "person": w.org.se.id}}),
    )
    .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "target.person");

    // Lists filter by state, requester and PM.
    let done = w.get(rep, "/api/v1/requests?state=done").await;
    assert_eq!(done.expect(200)["items"].as_array().unwrap().len(), 1);
    let several = w
        .get(rep, "/api/v1/requests?state=done,declined,cancelled")
        .await;
    assert_eq!(several.expect(200)["items"].as_array().unwrap().len(), 3);
    let mine = w
        .get(
            pm,
            &format!("/api/v1/requests?pm={}&requester={}", pm.id, rep.id),
        )
        .await;
    assert!(mine.expect(200)["items"].as_array().unwrap().len() >= 6);
    let none = w
        .get(
            pm,
            &format!("/api/v1/requests?requester={}", w.org.manager.id),
        )
        .await;
    assert_eq!(none.expect(200)["items"], json!([]));
    w.get(rep, "/api/v1/requests?state=bogus")
        .await
        .problem(400);
}

/// The default playbook plus a rule that refuses executive briefings on big
/// deals unless a sales manager agrees.
fn playbook_with_a_deny_rule() -> String {
    format!(
        "{DEFAULT_TOML}\n\
         [[rules]]\n\
         id = \"big-deal-executives\"\n\
         applies_to = \"request\"\n\
         when = 'request.type == \"executive-briefing\" && opportunity.amount >= 100000.0'\n\
         effect = \"deny\"\n\
         approver = \"sales_manager\"\n\
         message = \"Executive briefings on {{opportunity.name}} go through the sales manager.\"\n\
         \n\
         [[tests]]\n\
         name = \"executives on a big deal are refused\"\n\
         kind = \"request\"\n\
         record = {{ type = \"executive-briefing\", stage = \"solution\", lead_time_business_days = 5, opportunity = {{ name = \"Big deal\", amount = 250000.0 }}, briefing = \"The CFO wants to understand the platform's direction before signing.\" }}\n\
         expect = \"deny\"\n\
         rules = [\"big-deal-executives\", \"vision-on-record\"]\n"
    )
}

async fn a_denied_request_goes_through_with_an_approved_exception(db: &TestDb) {
    let w = World::new(db).await;
    let (rep, admin, manager) = (&w.org.rep, &w.org.admin, &w.org.manager);
    let up = w
        .post(
            admin,
            "/api/v1/playbook/versions",
            json!({"toml": playbook_with_a_deny_rule(), "reason": "executives are expensive"}),
        )
        .await;
    assert_eq!(up.expect(201)["version"], 2);

    let rid = Uuid::now_v7();
    let mut body = ask(&w, "executive-briefing", 7);
    body["id"] = json!(rid);
    let refused = w.post(rep, "/api/v1/requests", body.clone()).await;
    let p = refused.problem(422);
    assert_eq!(p["type"], "/problems/denied");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("big-deal-executives"),
        "{p}"
    );
    let denied: Vec<&Value> = p["decision"]["matched"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["applied"] == "deny")
        .collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["rule"], "big-deal-executives");
    assert_eq!(denied[0]["approver"], "sales_manager");
    assert!(
        denied[0]["message"]
            .as_str()
            .unwrap()
            .contains("Acme — analytics platform")
    );
    // Refused: not stored, but the refusal is audited with its decision.
    w.get(rep, &format!("/api/v1/requests/{rid}"))
        .await
        .problem(404);
    let log = w
        .get(
            manager,
            &format!("/api/v1/audit?action=request.refused&record_id={rid}"),
        )
        .await;
    let log = log.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["after"]["effect"], "deny");
    assert_eq!(log[0]["actor"]["id"], json!(rep.id));

    // The rep asks for an exception for the request they are about to make.
    let ex = w
        .post(
            rep,
            "/api/v1/exceptions",
            json!({
                "rule": "big-deal-executives",
                "record": {"kind": "request", "id": rid},
                "reason": "Their CFO asked for our head of product by name.",
            }),
        )
        .await;
    let ex = ex.expect(201).clone();
    assert_eq!(ex["state"], "requested");
    let ex_id = id(&ex);
    // Once is enough.
    w.post(
        rep,
        "/api/v1/exceptions",
        json!({
            "rule": "big-deal-executives",
            "record": {"kind": "request", "id": rid},
            "reason": "Asking twice for the same thing.",
        }),
    )
    .await
    .problem(409);
    // Still refused while the exception waits.
    w.post(rep, "/api/v1/requests", body.clone())
        .await
        .problem(422);
    // The playbook names a sales manager: a PM lead cannot grant it, nor the rep.
    let path = format!("/api/v1/exceptions/{ex_id}/decision");
    w.post(&w.org.pm_lead, &path, json!({"approve": true}))
        .await
        .problem(403);
    w.post(rep, &path, json!({"approve": true}))
        .await
        .problem(403);
    let granted = w
        .post(
            manager,
            &path,
            json!({"approve": true, "note": "Go ahead."}),
        )
        .await;
    let granted = granted.expect(200);
    assert_eq!(granted["state"], "approved");
    assert_eq!(granted["decided_by"], json!(manager.id));
    w.post(manager, &path, json!({"approve": false}))
        .await
        .problem(409);

    // The same request, again: through, audited, the rule set aside.
    let ok = w.post(rep, "/api/v1/requests", body.clone()).await;
    let ok = ok.expect(201);
    assert_eq!(ok["request"]["id"], json!(rid));
    assert_eq!(ok["request"]["state"], "requested");
    assert_eq!(ok["decision"]["effect"], "audit");
    let m = ok["decision"]["matched"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["rule"] == "big-deal-executives")
        .unwrap();
    assert_eq!(m["excepted"], true);
    assert_eq!(m["applied"], "audit");
    // The id is taken now.
    w.post(rep, "/api/v1/requests", body).await.problem(409);
}

async fn exceptions_hold_requests_and_warnings_come_back(db: &TestDb) {
    let w = World::new(db).await;
    let (rep, lead) = (&w.org.rep, &w.org.pm_lead);
    let out = w.post(rep, "/api/v1/requests", ask(&w, "demo", 7)).await;
    let out = out.expect(201).clone();
    assert_eq!(out["request"]["state"], "needs_exception");
    assert_eq!(out["decision"]["effect"], "exception");
    assert_eq!(rules(&out["decision"]), ["pm-not-sales-support"]);
    let exs = out["exceptions"].as_array().unwrap();
    assert_eq!(exs.len(), 1);
    assert_eq!(exs[0]["rule"], "pm-not-sales-support");
    let ex = id(&exs[0]);
    let r = id(&out["request"]);
    // Waiting for an exception, the PM cannot accept it yet.
    act(&w, &w.org.pm, &r, json!({"action": "accept"}))
        .await
        .problem(409);

    let pending = w.get(lead, "/api/v1/exceptions?pending=true").await;
    assert_eq!(pending.expect(200)["items"].as_array().unwrap().len(), 1);
    let by_rule = w
        .get(lead, "/api/v1/exceptions?rule=pm-not-sales-support")
        .await;
    assert_eq!(by_rule.expect(200)["items"][0]["id"], json!(ex));
    let other = w.get(lead, "/api/v1/exceptions?rule=owner-present").await;
    assert_eq!(other.expect(200)["items"], json!([]));
    let one = w.get(rep, &format!("/api/v1/exceptions/{ex}")).await;
    assert_eq!(one.expect(200)["record"]["id"], json!(r));
    w.get(rep, &format!("/api/v1/exceptions/{}", Uuid::now_v7()))
        .await
        .problem(404);

    // The PM lead grants it: the request goes on.
    w.post(
        lead,
        &format!("/api/v1/exceptions/{ex}/decision"),
        json!({"approve": true}),
    )
    .await
    .expect(200);
    let view = w.get(rep, &format!("/api/v1/requests/{r}")).await;
    assert_eq!(view.expect(200)["request"]["state"], "requested");
    let pending = w.get(lead, "/api/v1/exceptions?pending=true").await;
    assert_eq!(pending.expect(200)["items"], json!([]));

    // Refused, the request is declined.
    let out = w.post(rep, "/api/v1/requests", ask(&w, "pricing", 7)).await;
    let out = out.expect(201).clone();
    let ex = id(&out["exceptions"][0]);
    w.post(
        lead,
        &format!("/api/v1/exceptions/{ex}/decision"),
        json!({"approve": false, "note": "Sales ops does pricing."}),
    )
    .await
    .expect(200);
    let view = w
        .get(rep, &format!("/api/v1/requests/{}", id(&out["request"])))
        .await;
    assert_eq!(view.expect(200)["request"]["state"], "declined");

    // Short notice and no briefing: stored, with the warning in the body.
    let mut body = ask(&w, "roadmap-briefing", 1);
    body["briefing"] = json!("");
    let warned = w.post(rep, "/api/v1/requests", body).await;
    let warned = warned.expect(201);
    assert_eq!(warned["request"]["state"], "requested");
    assert_eq!(warned["decision"]["effect"], "warn");
    assert_eq!(rules(&warned["decision"]), ["no-ambush"]);
    let msg = warned["decision"]["matched"][0]["message"]
        .as_str()
        .unwrap();
    assert!(msg.contains("1 business days"), "{msg}");
    assert_eq!(warned["exceptions"], json!([]));

    // Exceptions for rules that only warn, or for the wrong kind of record,
    // are refused with the field at fault.
    let p = w
        .post(
            rep,
            "/api/v1/exceptions",
            json!({"rule": "no-ambush", "record": {"kind": "request", "id": Uuid::now_v7()}, "reason": "Nothing to set aside here."}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "rule");
    let p = w
        .post(
            rep,
            "/api/v1/exceptions",
            json!({"rule": "owner-present", "record": {"kind": "request", "id": Uuid::now_v7()}, "reason": "Wrong kind of record."}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "record.kind");
    let p = w
        .post(
            rep,
            "/api/v1/exceptions",
            json!({"rule": "owner-present", "record": {"kind": "meeting", "id": Uuid::now_v7()}, "reason": "short"}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "reason");
}

async fn evaluate_is_a_dry_run(db: &TestDb) {
    let w = World::new(db).await;
    let rep = &w.org.rep;
    let d = w
        .post(
            rep,
            "/api/v1/evaluate",
            json!({
                "record": "request",
                "opportunity": w.org.opportunity.id,
                "engagement_type": "demo",
                "needed_at": in_days(1),
            }),
        )
        .await;
    let d = d.expect(200);
    assert_eq!(d["effect"], "exception");
    assert_eq!(rules(d), ["pm-not-sales-support", "no-ambush"]);
    let m = w
        .post(
            &w.org.pm,
            "/api/v1/evaluate",
            json!({
                "record": "meeting",
                "starts_at": in_days(2),
                "ends_at": in_days(2),
                "attendees": [{"email": "cio@acme.com"}, {"email": w.org.pm.email}],
                "planned": true,
            }),
        )
        .await;
    assert_eq!(m.expect(200)["effect"], "deny");
    assert_eq!(rules(&m.json), ["owner-present"]);
    let c = w
        .post(
            &w.org.pm,
            "/api/v1/evaluate",
            json!({"record": "commitment", "account": w.org.account.id, "kind": "price", "present": [rep.id]}),
        )
        .await;
    assert_eq!(
        rules(c.expect(200)),
        ["commitment-approval", "pm-price-commitment"]
    );
    let a = w
        .post(
            &w.org.pm,
            "/api/v1/evaluate",
            json!({"record": "access", "account": w.org.account.id, "purpose": "discovery"}),
        )
        .await;
    assert_eq!(rules(a.expect(200)), ["access-agenda"]);

    // Nothing was stored: no request, no decision on the log.
    let list = w.get(rep, "/api/v1/requests").await;
    assert_eq!(list.expect(200)["items"], json!([]));
    let log = w.get(&w.org.admin, "/api/v1/decisions").await;
    assert_eq!(log.expect(200)["items"], json!([]));
    let meetings = w.get(rep, "/api/v1/meetings").await;
    assert_eq!(meetings.expect(200)["items"], json!([]));

    // Refusals: who may not, what does not parse, what does not exist.
    w.post(
        &w.org.engineer,
        "/api/v1/evaluate",
        json!({"record": "access", "account": w.org.account.id, "purpose": "discovery"}),
    )
    .await
    .problem(403);
    w.post(rep, "/api/v1/evaluate", json!({"record": "horoscope"}))
        .await
        .problem(400);
    let p = w
        .post(
            rep,
            "/api/v1/evaluate",
            json!({"record": "request", "opportunity": Uuid::now_v7(), "engagement_type": "demo", "needed_at": in_days(1)}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "opportunity");
}

fn attendees(w: &World, owner: Option<&str>) -> Value {
    let mut a = vec![
        json!({"email": "CIO@Acme.com"}),
        json!({"email": w.org.pm.email}),
    ];
    if let Some(response) = owner {
        a.push(json!({"email": w.org.rep.email, "response": response}));
    }
    Value::Array(a)
}

async fn meetings_are_refused_when_planned_and_recorded_when_logged(db: &TestDb) {
    let w = World::new(db).await;
    let pm = &w.org.pm;
    let plan = json!({
        "title": "Roadmap deep-dive",
        "starts_at": in_days(3),
        "ends_at": at(t0() + Duration::days(3) + Duration::hours(1)),
        "attendees": attendees(&w, Some("declined")),
        "planned": true,
    });
    let p = w.post(pm, "/api/v1/meetings", plan.clone()).await;
    let p = p.problem(422);
    assert_eq!(p["type"], "/problems/denied");
    assert_eq!(rules(&p["decision"]), ["owner-present"]);
    // With the owner, it is planned.
    let mut with_owner = plan.clone();
    with_owner["attendees"] = attendees(&w, Some("accepted"));
    let ok = w.post(pm, "/api/v1/meetings", with_owner).await;
    let ok = ok.expect(201).clone();
    assert_eq!(ok["decision"]["effect"], "allow");
    assert_eq!(ok["record"]["meeting"]["account"], json!(w.org.account.id));
    assert_eq!(ok["record"]["flags"]["owner_present"], true);
    assert_eq!(ok["record"]["meeting"]["source"]["kind"], "planned");

    // Logged after the fact without the owner: stored, with the violation.
    let logged = w
        .post(
            pm,
            "/api/v1/meetings",
            json!({
                "account": w.org.account.id,
                "title": "Coffee",
                "starts_at": at(t0() - Duration::days(1)),
                "ends_at": at(t0() - Duration::days(1) + Duration::minutes(30)),
                "attendees": [{"email": "buyer@eu.acme.com"}, {"email": pm.email}],
            }),
        )
        .await;
    let logged = logged.expect(201).clone();
    assert_eq!(logged["decision"]["effect"], "deny");
    assert_eq!(logged["record"]["flags"]["owner_present"], false);
    let mid = id(&logged["record"]["meeting"]);
    let got = w.get(&w.org.se, &format!("/api/v1/meetings/{mid}")).await;
    assert_eq!(got.expect(200)["meeting"]["title"], "Coffee");
    let log = w
        .get(
            &w.org.manager,
            &format!("/api/v1/decisions?record={mid}&effect=deny"),
        )
        .await;
    assert_eq!(log.expect(200)["items"].as_array().unwrap().len(), 1);
    let list = w
        .get(
            pm,
            &format!(
                "/api/v1/meetings?account={}&pm_contacts=true",
                w.org.account.id
            ),
        )
        .await;
    assert_eq!(list.expect(200)["items"].as_array().unwrap().len(), 2);
    let before = w
        .get(pm, &format!("/api/v1/meetings?to={}", at(t0())))
        .await;
    assert_eq!(before.expect(200)["items"][0]["meeting"]["id"], json!(mid));

    // Refusals, each naming its field.
    let mut bad = plan.clone();
    bad["attendees"] = json!([{"email": "not-an-email"}]);
    let p = w.post(pm, "/api/v1/meetings", bad).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "attendees[0].email");
    let mut past = plan.clone();
    past["starts_at"] = json!(at(t0() - Duration::days(1)));
    past["ends_at"] = json!(at(t0() - Duration::days(1)));
    let p = w.post(pm, "/api/v1/meetings", past).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "starts_at");
    let mut backwards = plan.clone();
    backwards["ends_at"] = json!(in_days(2));
    let p = w.post(pm, "/api/v1/meetings", backwards).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "ends_at");
    let mut nobody = plan;
    nobody["attendees"] = json!([{"email": "someone@elsewhere.org"}, {"email": pm.email}]);
    let p = w.post(pm, "/api/v1/meetings", nobody).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "attendees");
    w.get(pm, &format!("/api/v1/meetings/{}", Uuid::now_v7()))
        .await
        .problem(404);
    w.post(
        &w.org.admin,
        "/api/v1/meetings",
        json!({"title": "x", "starts_at": in_days(1), "ends_at": in_days(1), "attendees": []}),
    )
    .await
    .problem(403);
}

async fn access_requests_are_answered_by_the_owner_or_their_manager(db: &TestDb) {
    let w = World::new(db).await;
    let (pm, rep) = (&w.org.pm, &w.org.rep);
    let ask = json!({
        "account": w.org.account.id,
        "purpose": "discovery",
        "agenda": "How their analysts build month-end reports today.",
        "wanted_at": in_days(10),
    });
    let a = w.post(pm, "/api/v1/access", ask.clone()).await;
    let a = a.expect(201).clone();
    assert_eq!(a["decision"]["effect"], "allow");
    assert_eq!(a["record"]["state"], "pending");
    assert_eq!(a["record"]["owner"], json!(rep.id));
    let a = id(&a["record"]);
    // No agenda: asked, with a warning.
    let b = w
        .post(
            pm,
            "/api/v1/access",
            json!({"account": w.org.account.id, "purpose": "feedback", "agenda": ""}),
        )
        .await;
    let b = b.expect(201).clone();
    assert_eq!(b["decision"]["effect"], "warn");
    assert_eq!(rules(&b["decision"]), ["access-agenda"]);
    let b = id(&b["record"]);

    let answer = |x: &str| format!("/api/v1/access/{x}/answer");
    // A sales engineer may not answer at all; a PM neither.
    w.post(&w.org.se, &answer(&a), json!({"answer": "grant"}))
        .await
        .problem(403);
    w.post(pm, &answer(&a), json!({"answer": "grant"}))
        .await
        .problem(403);
    let p = w
        .post(rep, &answer(&a), json!({"answer": "deny", "reason": ""}))
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "reason");
    let d = w
        .post(
            rep,
            &answer(&a),
            json!({"answer": "deny", "reason": "Renewal negotiations this month"}),
        )
        .await;
    let d = d.expect(200);
    assert_eq!(d["state"], "denied");
    assert_eq!(d["reason"], "Renewal negotiations this month");
    w.post(rep, &answer(&a), json!({"answer": "grant"}))
        .await
        .problem(409);
    let g = w
        .post(
            &w.org.manager,
            &answer(&b),
            json!({"answer": "grant_with_conditions", "conditions": "Rita joins the call"}),
        )
        .await;
    let g = g.expect(200);
    assert_eq!(g["state"], "granted_with_conditions");
    assert_eq!(g["answered_by"], json!(w.org.manager.id));
    w.post(rep, &answer(&b), json!({"answer": "maybe"}))
        .await
        .problem(400);

    let got = w.get(rep, &format!("/api/v1/access/{a}")).await;
    assert_eq!(got.expect(200)["state"], "denied");
    let mine = w
        .get(rep, &format!("/api/v1/access?owner={}", rep.id))
        .await;
    assert_eq!(mine.expect(200)["items"].as_array().unwrap().len(), 2);
    let theirs = w
        .get(rep, &format!("/api/v1/access?pm={}", w.org.pm_lead.id))
        .await;
    assert_eq!(theirs.expect(200)["items"], json!([]));
    w.get(rep, &format!("/api/v1/access/{}", Uuid::now_v7()))
        .await
        .problem(404);
    // Reps do not ask for access; constituents do not read it.
    w.post(rep, "/api/v1/access", ask.clone())
        .await
        .problem(403);
    w.get(&w.org.engineer, "/api/v1/access").await.problem(403);
    let mut past = ask;
    past["wanted_at"] = json!(at(t0() - Duration::days(1)));
    let p = w.post(pm, "/api/v1/access", past).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "wanted_at");
}

async fn commitments_are_logged_and_decided_by_a_pm_lead(db: &TestDb) {
    let w = World::new(db).await;
    let (pm, lead) = (&w.org.pm, &w.org.pm_lead);
    let alone = w
        .post(
            pm,
            "/api/v1/commitments",
            json!({"account": w.org.account.id, "kind": "date", "text": "SSO by Q3", "to_whom": "their CIO"}),
        )
        .await;
    let alone = alone.expect(201).clone();
    assert_eq!(alone["decision"]["effect"], "deny", "a violation, stored");
    assert_eq!(
        rules(&alone["decision"]),
        ["commitment-owner-present", "commitment-approval"]
    );
    assert_eq!(alone["record"]["state"], "pending");
    let alone = id(&alone["record"]);
    let with_owner = w
        .post(
            pm,
            "/api/v1/commitments",
            json!({"account": w.org.account.id, "kind": "feature", "text": "Scheduled exports", "to_whom": "analysts", "present": [w.org.rep.id]}),
        )
        .await;
    let with_owner = with_owner.expect(201).clone();
    assert_eq!(with_owner["decision"]["effect"], "warn");
    let with_owner = id(&with_owner["record"]);

    let decide = |x: &str| format!("/api/v1/commitments/{x}/decision");
    w.post(pm, &decide(&with_owner), json!({"approve": true}))
        .await
        .problem(403);
    w.post(
        &w.org.manager,
        &decide(&with_owner),
        json!({"approve": true}),
    )
    .await
    .problem(403);
    let ok = w
        .post(
            lead,
            &decide(&with_owner),
            json!({"approve": true, "note": "Planned for 4.2"}),
        )
        .await;
    let ok = ok.expect(200);
    assert_eq!(ok["state"], "approved");
    assert_eq!(ok["decision_note"], "Planned for 4.2");
    w.post(lead, &decide(&with_owner), json!({"approve": false}))
        .await
        .problem(409);
    let pending = w.get(pm, "/api/v1/commitments?pending=true").await;
    let items = pending.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], json!(alone));
    let no = w
        .post(lead, &decide(&alone), json!({"approve": false}))
        .await;
    assert_eq!(no.expect(200)["state"], "rejected");
    let all = w
        .get(
            &w.org.se,
            &format!("/api/v1/commitments?account={}", w.org.account.id),
        )
        .await;
    assert_eq!(all.expect(200)["items"].as_array().unwrap().len(), 2);
    let got = w.get(pm, &format!("/api/v1/commitments/{alone}")).await;
    assert_eq!(got.expect(200)["text"], "SSO by Q3");

    // A PM lead does not approve their own commitments.
    let own = w
        .post(
            lead,
            "/api/v1/commitments",
            json!({"account": w.org.account.id, "kind": "other", "text": "A workshop", "to_whom": "their team", "present": [w.org.rep.id]}),
        )
        .await;
    let own = id(&own.expect(201)["record"]);
    w.post(lead, &decide(&own), json!({"approve": true}))
        .await
        .problem(403);

    // Refusals name the field.
    let p = w
        .post(
            pm,
            "/api/v1/commitments",
            json!({"account": w.org.account.id, "kind": "date", "text": " ", "to_whom": ""}),
        )
        .await;
    let fields: Vec<&str> = p.problem(422)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["text", "to_whom"]);
    let p = w
        .post(
            pm,
            "/api/v1/commitments",
            json!({"account": w.org.account.id, "kind": "date", "text": "x", "to_whom": "y", "present": [Uuid::now_v7()]}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "present[0]");
    let p = w
        .post(
            pm,
            "/api/v1/commitments",
            json!({"account": w.org.account.id, "kind": "date", "text": "x", "to_whom": "y", "said_at": in_days(1)}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "said_at");
    w.post(
        pm,
        "/api/v1/commitments",
        json!({"account": w.org.account.id, "kind": "a pony", "text": "x", "to_whom": "y"}),
    )
    .await
    .problem(400);
    w.get(pm, &format!("/api/v1/commitments/{}", Uuid::now_v7()))
        .await
        .problem(404);
}

async fn insights_of_the_three_kinds(db: &TestDb) {
    let w = World::new(db).await;
    let pm = &w.org.pm;
    for (kind, area) in [
        ("context_of_use", "Reporting"),
        ("futures", "Integrations"),
        ("performance", "Exports"),
    ] {
        let i = w
            .post(
                pm,
                "/api/v1/insights",
                json!({"account": w.org.account.id, "kind": kind, "product_area": area, "text": format!("Learned about {area}.")}),
            )
            .await;
        let i = i.expect(201);
        assert_eq!(i["kind"], kind);
        assert_eq!(i["product_area"], area.to_lowercase());
        assert_eq!(i["pm"], json!(pm.id));
    }
    // Everyone reads them; only PMs capture them.
    let list = w
        .get(
            &w.org.engineer,
            &format!("/api/v1/insights?account={}", w.org.account.id),
        )
        .await;
    assert_eq!(list.expect(200)["items"].as_array().unwrap().len(), 3);
    let by = w
        .get(
            &w.org.rep,
            &format!("/api/v1/insights?pm={}", w.org.pm_lead.id),
        )
        .await;
    assert_eq!(by.expect(200)["items"], json!([]));
    w.post(
        &w.org.rep,
        "/api/v1/insights",
        json!({"account": w.org.account.id, "kind": "futures", "product_area": "x", "text": "y"}),
    )
    .await
    .problem(403);
    let p = w
        .post(
            pm,
            "/api/v1/insights",
            json!({"account": w.org.account.id, "kind": "futures", "product_area": "", "text": ""}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"].as_array().unwrap().len(), 2);
    let p = w
        .post(
            pm,
            "/api/v1/insights",
            json!({"account": Uuid::now_v7(), "kind": "futures", "product_area": "x", "text": "y"}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "account");
    w.post(
        pm,
        "/api/v1/insights",
        json!({"account": w.org.account.id, "kind": "gossip", "product_area": "x", "text": "y"}),
    )
    .await
    .problem(400);
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

async fn the_playbook_is_read_uploaded_checked_and_diffed(db: &TestDb) {
    let w = World::new(db).await;
    let (admin, rep) = (&w.org.admin, &w.org.rep);
    let cur = w.get(&w.org.engineer, "/api/v1/playbook").await;
    let cur = cur.expect(200);
    assert_eq!(cur["version"], 1);
    assert_eq!(cur["toml"], DEFAULT_TOML);
    let versions = w.get(rep, "/api/v1/playbook/versions").await;
    let versions = versions.expect(200).as_array().unwrap().clone();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["in_force"], true);
    assert!(versions[0].get("toml").is_none());

    // A typo in a condition: refused with the line and column.
    let broken = DEFAULT_TOML.replacen("!meeting.owner_present\"", "!meeting.owner_presnt\"", 1);
    let p = w
        .post(
            admin,
            "/api/v1/playbook/versions",
            json!({"toml": broken, "reason": "typo"}),
        )
        .await;
    let p = p.problem(422);
    assert_eq!(p["type"], "/problems/playbook-refused");
    let d = &p["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"].as_u64(), Some(line_of(&broken, "owner_presnt")));
    assert!(d["column"].as_u64().is_some_and(|c| c > 1), "{d}");
    assert!(
        d["message"].as_str().unwrap().contains("owner_presnt"),
        "{d}"
    );
    // Not TOML at all: located too.
    let p = w
        .post(
            admin,
            "/api/v1/playbook/versions",
            json!({"toml": "name = \"x\"\n[[rules]\n", "reason": "oops"}),
        )
        .await;
    let d = &p.problem(422)["diagnostics"][0];
    assert_eq!(d["line"], 2, "{d}");
    assert!(d["column"].as_u64().is_some(), "{d}");
    // Checks, but its own tests fail.
    let failing = DEFAULT_TOML.replacen(
        "request.lead_time_business_days < 2 ||",
        "request.lead_time_business_days < 1 ||",
        1,
    );
    let p = w
        .post(
            admin,
            "/api/v1/playbook/versions",
            json!({"toml": failing, "reason": "shorter notice"}),
        )
        .await;
    let p = p.problem(422);
    assert!(!p["failed_tests"].as_array().unwrap().is_empty(), "{p}");
    assert!(p.get("diagnostics").is_none(), "{p}");
    // A reason is required; only admins upload.
    let better = DEFAULT_TOML.replacen("min_briefing_chars = 40", "min_briefing_chars = 60", 1);
    let p = w
        .post(
            admin,
            "/api/v1/playbook/versions",
            json!({"toml": better, "reason": " "}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "reason");
    w.post(
        &w.org.pm_lead,
        "/api/v1/playbook/versions",
        json!({"toml": better, "reason": "x"}),
    )
    .await
    .problem(403);
    w.post(
        admin,
        "/api/v1/playbook/versions",
        json!({"toml": 42, "reason": "x"}),
    )
    .await
    .problem(400);
    // Nothing refused was stored.
    let versions = w.get(rep, "/api/v1/playbook/versions").await;
    assert_eq!(versions.expect(200).as_array().unwrap().len(), 1);

    let v = w
        .post(
            admin,
            "/api/v1/playbook/versions",
            json!({"toml": better, "reason": "longer briefings"}),
        )
        .await;
    let v = v.expect(201);
    assert_eq!(v["version"], 2);
    assert_eq!(v["author"], json!(admin.id));
    let cur = w.get(rep, "/api/v1/playbook").await;
    assert_eq!(cur.expect(200)["version"], 2);
    // In force at once: a 50-character briefing no longer counts.
    let mut body = ask(&w, "roadmap-briefing", 7);
    body["briefing"] = json!("Acme's CIO wants the roadmap for the next year..");
    let warned = w.post(rep, "/api/v1/requests", body).await;
    assert_eq!(rules(&warned.expect(201)["decision"]), ["no-ambush"]);

    let diff = w.get(rep, "/api/v1/playbook/diff?from=1&to=2").await;
    let diff = diff.expect(200);
    assert_eq!(
        (diff["added"].as_u64(), diff["removed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        diff["diff"]
            .as_str()
            .unwrap()
            .contains("+min_briefing_chars = 60")
    );
    let same = w.get(rep, "/api/v1/playbook/diff?from=2&to=2").await;
    assert_eq!(same.expect(200)["diff"], "");
    let one = w.get(rep, "/api/v1/playbook/versions/1").await;
    assert_eq!(one.expect(200)["toml"], DEFAULT_TOML);
    let versions = w.get(rep, "/api/v1/playbook/versions").await;
    let versions = versions.expect(200).as_array().unwrap().clone();
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["in_force"], true);
    assert_eq!(versions[1]["in_force"], false);
    w.get(rep, "/api/v1/playbook/versions/99")
        .await
        .problem(404);
    w.get(rep, "/api/v1/playbook/diff?from=1&to=99")
        .await
        .problem(404);
    w.get(rep, "/api/v1/playbook/diff?from=1")
        .await
        .problem(400);
    w.get(rep, "/api/v1/playbook/versions/two")
        .await
        .problem(400);
}

async fn the_charter_is_drafted_endorsed_ratified_and_acknowledged(db: &TestDb) {
    let w = World::new(db).await;
    let (lead, pm, manager, eng) = (&w.org.pm_lead, &w.org.pm, &w.org.manager, &w.org.engineer);
    let charter = json!({"charter": {
        "mission": "We own the product's direction.",
        "accountabilities": [{"id": "customer-insight", "title": "Be in front of customers", "text": ""}],
        "required_endorsements": ["sales", "engineering"],
    }});
    w.post(pm, "/api/v1/charter/versions", charter.clone())
        .await
        .problem(403);
    let v = w.post(lead, "/api/v1/charter/versions", charter).await;
    let v = v.expect(201).clone();
    assert_eq!(v["state"], "draft");
    assert_eq!(v["number"], 1);
    let v = id(&v);
    let base = format!("/api/v1/charter/versions/{v}");

    let c = w
        .post(
            eng,
            &format!("{base}/comments"),
            json!({"clause": "customer-insight", "text": "Please include support tickets as a source."}),
        )
        .await;
    assert_eq!(c.expect(201)["comments"].as_array().unwrap().len(), 1);
    let p = w
        .post(
            eng,
            &format!("{base}/comments"),
            json!({"clause": "nope", "text": "x"}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "clause");
    let p = w
        .post(eng, &format!("{base}/comments"), json!({"text": " "}))
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "text");
    // Not ratified before every required function endorsed it.
    w.post(lead, &format!("{base}/ratification"), json!({}))
        .await
        .problem(409);
    w.post(&w.org.rep, &format!("{base}/endorsements"), json!({}))
        .await
        .problem(403);
    let e = w
        .post(manager, &format!("{base}/endorsements"), json!({}))
        .await;
    assert_eq!(e.expect(201)["endorsements"][0]["function"], "sales");
    w.post(manager, &format!("{base}/endorsements"), json!({}))
        .await
        .problem(409);
    // A PM lead endorses for product, which this draft does not ask for.
    w.post(lead, &format!("{base}/endorsements"), json!({}))
        .await
        .problem(403);
    w.post(eng, &format!("{base}/endorsements"), json!({}))
        .await
        .expect(201);
    w.post(pm, &format!("{base}/acknowledgments"), json!({}))
        .await
        .problem(409);
    let r = w
        .post(lead, &format!("{base}/ratification"), json!({}))
        .await;
    let r = r.expect(200);
    assert_eq!(r["state"], "ratified");
    assert!(r["ratified_at"].is_string());
    w.post(
        eng,
        &format!("{base}/comments"),
        json!({"text": "Too late?"}),
    )
    .await
    .problem(409);

    let view = w.get(pm, "/api/v1/charter").await;
    assert_eq!(view.expect(200)["acknowledged"], false);
    w.post(&w.org.rep, &format!("{base}/acknowledgments"), json!({}))
        .await
        .problem(403);
    let a = w
        .post(pm, &format!("{base}/acknowledgments"), json!({}))
        .await;
    assert_eq!(
        a.expect(201)["acknowledgments"].as_array().unwrap().len(),
        1
    );
    let view = w.get(pm, "/api/v1/charter").await;
    let view = view.expect(200);
    assert_eq!(view["acknowledged"], true);
    assert_eq!(view["in_force"]["id"], json!(v));
    assert_eq!(view["drafts"], json!([]));
    let all = w.get(eng, "/api/v1/charter/versions").await;
    assert_eq!(all.expect(200).as_array().unwrap().len(), 1);
    let one = w.get(&w.org.se, &base).await;
    assert_eq!(one.expect(200)["comments"][0]["clause"], "customer-insight");
    w.get(pm, &format!("/api/v1/charter/versions/{}", Uuid::now_v7()))
        .await
        .problem(404);
    // A draft from the playbook's own charter.
    let d = w.post(lead, "/api/v1/charter/versions", json!({})).await;
    let d = d.expect(201);
    assert_eq!(d["number"], 2);
    assert_eq!(
        d["charter"]["required_endorsements"],
        json!(["sales", "engineering", "marketing", "support"])
    );
}

async fn the_organisation_is_read_by_all_and_written_by_admins(db: &TestDb) {
    let w = World::new(db).await;
    let (admin, rep, eng) = (&w.org.admin, &w.org.rep, &w.org.engineer);
    for path in [
        "/api/v1/people",
        "/api/v1/accounts",
        "/api/v1/opportunities",
    ] {
        let r = w.get(eng, path).await;
        assert!(
            !r.expect(200)["items"].as_array().unwrap().is_empty(),
            "{path}"
        );
    }
    let teams = w.get(eng, "/api/v1/teams").await;
    assert_eq!(teams.expect(200).as_array().unwrap().len(), 2);
    let pms = w.get(rep, "/api/v1/people?role=pm").await;
    let pms = pms.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(pms.len(), 1);
    assert_eq!(pms[0]["id"], json!(w.org.pm.id));
    let found = w.get(rep, "/api/v1/people?q=rita").await;
    assert_eq!(
        found.expect(200)["items"][0]["email"],
        "rita.rep@example.com"
    );
    let team = w
        .get(rep, &format!("/api/v1/people?team={}", w.org.sales_team.id))
        .await;
    assert_eq!(team.expect(200)["items"].as_array().unwrap().len(), 3);
    w.get(rep, "/api/v1/people?role=ceo").await.problem(400);
    let me = w.get(rep, &format!("/api/v1/people/{}", w.org.pm.id)).await;
    assert_eq!(me.expect(200)["role"], "pm");
    w.get(rep, &format!("/api/v1/people/{}", Uuid::now_v7()))
        .await
        .problem(404);

    // Admins write; nobody else.
    let nina = json!({
        "id": Uuid::now_v7(),
        "email": "Nina.New@Example.com",
        "name": "Nina New",
        "role": "pm",
        "team": w.org.pm_team.id,
        "manager": w.org.pm_lead.id,
        "active": true,
    });
    w.post(rep, "/api/v1/people", nina.clone())
        .await
        .problem(403);
    let saved = w.post(admin, "/api/v1/people", nina.clone()).await;
    let saved = saved.expect(200).clone();
    assert_eq!(saved["email"], "nina.new@example.com");
    let mut bad = nina.clone();
    bad["email"] = json!("not an address");
    w.post(admin, "/api/v1/people", bad).await.problem(400);
    let mut bad = nina;
    bad["id"] = json!(Uuid::now_v7());
    bad["email"] = json!("olga@example.com");
    bad["team"] = json!(Uuid::now_v7());
    let p = w.post(admin, "/api/v1/people", bad).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "team");

    let team = json!({"id": Uuid::now_v7(), "name": "Sales engineering", "kind": "other"});
    w.post(rep, "/api/v1/teams", team.clone())
        .await
        .problem(403);
    w.post(admin, "/api/v1/teams", team).await.expect(200);
    let p = w
        .post(
            admin,
            "/api/v1/teams",
            json!({"id": Uuid::now_v7(), "name": " ", "kind": "sales"}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "name");

    let account = json!({
        "id": Uuid::now_v7(),
        "name": "Globex",
        "domains": ["globex.com"],
        "owner": rep.id,
    });
    w.post(&w.org.manager, "/api/v1/accounts", account.clone())
        .await
        .problem(403);
    let acct = w.post(admin, "/api/v1/accounts", account).await;
    let acct = id(acct.expect(200));
    let got = w.get(eng, &format!("/api/v1/accounts/{acct}")).await;
    assert_eq!(got.expect(200)["domains"], json!(["globex.com"]));
    let owned = w
        .get(eng, &format!("/api/v1/accounts?owner={}", rep.id))
        .await;
    assert_eq!(owned.expect(200)["items"].as_array().unwrap().len(), 2);
    let named = w.get(eng, "/api/v1/accounts?q=glob").await;
    assert_eq!(named.expect(200)["items"][0]["name"], "Globex");
    w.post(
        admin,
        "/api/v1/accounts",
        json!({"id": Uuid::now_v7(), "name": "Bad", "domains": ["not a domain"]}),
    )
    .await
    .problem(400);

    let opp = json!({
        "id": Uuid::now_v7(),
        "account": acct,
        "name": "Globex — pilot",
        "stage": "discovery",
        "amount": 50000.0,
        "owner": rep.id,
        "created_at": at(t0()),
        "close_date": "2026-06-30",
    });
    w.post(rep, "/api/v1/opportunities", opp.clone())
        .await
        .problem(403);
    let saved = w.post(admin, "/api/v1/opportunities", opp.clone()).await;
    let o = id(saved.expect(200));
    let got = w.get(eng, &format!("/api/v1/opportunities/{o}")).await;
    assert_eq!(got.expect(200)["close_date"], "2026-06-30");
    let on = w
        .get(eng, &format!("/api/v1/opportunities?account={acct}"))
        .await;
    assert_eq!(on.expect(200)["items"].as_array().unwrap().len(), 1);
    let mut bad = opp.clone();
    bad["stage"] = json!("nowhere");
    let p = w.post(admin, "/api/v1/opportunities", bad).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "stage");
    let mut bad = opp;
    bad["id"] = json!(Uuid::now_v7());
    bad["account"] = json!(Uuid::now_v7());
    let p = w.post(admin, "/api/v1/opportunities", bad).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "account");
    w.get(eng, &format!("/api/v1/opportunities/{}", Uuid::now_v7()))
        .await
        .problem(404);
    w.get(eng, &format!("/api/v1/accounts/{}", Uuid::now_v7()))
        .await
        .problem(404);
}

async fn the_audit_and_decision_logs_are_filterable(db: &TestDb) {
    let w = World::new(db).await;
    let rep = &w.org.rep;
    let a = w
        .post(rep, "/api/v1/requests", ask(&w, "roadmap-briefing", 7))
        .await;
    let a = id(&a.expect(201)["request"]);
    w.post(rep, "/api/v1/requests", ask(&w, "demo", 7))
        .await
        .expect(201);
    act(&w, &w.org.pm, &a, json!({"action": "accept"}))
        .await
        .expect(200);

    // Leaders and admins read the logs; nobody else.
    for p in [rep, &w.org.pm, &w.org.se, &w.org.engineer] {
        w.get(p, "/api/v1/audit").await.problem(403);
        w.get(p, "/api/v1/decisions").await.problem(403);
    }
    let all = w.get(&w.org.manager, "/api/v1/audit?limit=500").await;
    let all = all.expect(200)["items"].as_array().unwrap().clone();
    // The playbook, two requests, an exception, an acceptance (tokens too).
    assert!(all.len() >= 5, "{all:?}");
    let reqs = w.get(&w.org.pm_lead, "/api/v1/audit?action=request.").await;
    let reqs = reqs.expect(200)["items"].as_array().unwrap().clone();
    let actions: Vec<&str> = reqs.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["request.accept", "request.created", "request.created"]
    );
    let by_pm = w
        .get(
            &w.org.admin,
            &format!("/api/v1/audit?actor={}", w.org.pm.id),
        )
        .await;
    assert_eq!(by_pm.expect(200)["items"].as_array().unwrap().len(), 1);
    let one = w
        .get(
            &w.org.admin,
            &format!("/api/v1/audit?record_kind=request&record_id={a}"),
        )
        .await;
    assert_eq!(one.expect(200)["items"].as_array().unwrap().len(), 2);
    let later = w
        .get(&w.org.admin, &format!("/api/v1/audit?from={}", in_days(1)))
        .await;
    assert_eq!(later.expect(200)["items"], json!([]));

    let exc = w
        .get(
            &w.org.admin,
            "/api/v1/decisions?kind=request&effect=exception",
        )
        .await;
    let exc = exc.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(exc.len(), 1);
    assert_eq!(exc[0]["playbook_version"], 1);
    let by_rule = w
        .get(&w.org.admin, "/api/v1/decisions?rule=pm-not-sales-support")
        .await;
    assert_eq!(by_rule.expect(200)["items"].as_array().unwrap().len(), 1);
    let meetings = w.get(&w.org.admin, "/api/v1/decisions?kind=meeting").await;
    assert_eq!(meetings.expect(200)["items"], json!([]));
    let rec = w
        .get(&w.org.admin, &format!("/api/v1/decisions?record={a}"))
        .await;
    assert_eq!(rec.expect(200)["items"][0]["decision"]["effect"], "allow");
    for bad in [
        "/api/v1/decisions?effect=maybe",
        "/api/v1/decisions?kind=horse",
        "/api/v1/decisions?rule=Not%20A%20Rule",
        "/api/v1/decisions?record=not-a-uuid",
        "/api/v1/audit?actor=not-a-uuid",
        "/api/v1/audit?from=yesterday",
    ] {
        w.get(&w.org.admin, bad).await.problem(400);
    }
}

async fn tokens_are_created_listed_and_revoked(db: &TestDb) {
    let w = World::new(db).await;
    let (rep, admin) = (&w.org.rep, &w.org.admin);
    let t = w.post(rep, "/api/v1/tokens", json!({"name": "ci"})).await;
    let t = t.expect(201).clone();
    let secret = t["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("acc_"));
    assert_eq!(t["token"]["name"], "ci");
    assert_eq!(t["token"]["person"], json!(rep.id));
    let me = w.anon("GET", "/api/v1/me").bearer(&secret).send().await;
    let me = me.expect(200);
    assert_eq!(me["person"]["email"], "rita.rep@example.com");
    assert_eq!(me["csrf"], Value::Null);

    // Only admins make tokens for others.
    w.post(rep, "/api/v1/tokens", json!({"email": w.org.pm.email}))
        .await
        .problem(403);
    let theirs = w
        .post(
            admin,
            "/api/v1/tokens",
            json!({"email": w.org.pm.email, "name": "for paula"}),
        )
        .await;
    let theirs = theirs.expect(201).clone();
    assert_eq!(theirs["token"]["person"], json!(w.org.pm.id));
    let p = w
        .post(
            admin,
            "/api/v1/tokens",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "email");

    let mine = w.get(rep, "/api/v1/tokens").await;
    let mine = mine.expect(200).as_array().unwrap().clone();
    assert!(mine.len() >= 2);
    assert!(
        mine.iter().all(|x| x["person"] == json!(rep.id)),
        "{mine:?}"
    );
    assert!(
        mine.iter()
            .all(|x| x.get("hash").is_none() && x.get("secret").is_none())
    );
    let everyone = w.get(admin, "/api/v1/tokens").await;
    assert!(everyone.expect(200).as_array().unwrap().len() > mine.len());

    let theirs_id = theirs["token"]["id"].as_str().unwrap();
    w.delete(rep, &format!("/api/v1/tokens/{theirs_id}"))
        .await
        .problem(403);
    let tid = t["token"]["id"].as_str().unwrap();
    let gone = w.delete(rep, &format!("/api/v1/tokens/{tid}")).await;
    gone.expect(204);
    assert!(gone.body.is_empty());
    let p = w.anon("GET", "/api/v1/me").bearer(&secret).send().await;
    p.problem(401);
    assert_eq!(p.header("www-authenticate"), Some("Bearer"));
    let listed = w.get(rep, "/api/v1/tokens").await;
    let revoked = listed
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == json!(tid))
        .cloned()
        .unwrap();
    assert!(revoked["revoked_at"].is_string());
    w.delete(rep, &format!("/api/v1/tokens/{}", Uuid::now_v7()))
        .await
        .problem(404);
    w.delete(rep, "/api/v1/tokens/not-a-uuid")
        .await
        .problem(400);
    // Admins revoke anyone's.
    w.delete(admin, &format!("/api/v1/tokens/{theirs_id}"))
        .await
        .expect(204);
}

on_both_engines!(
    a_request_goes_through_its_life,
    a_denied_request_goes_through_with_an_approved_exception,
    exceptions_hold_requests_and_warnings_come_back,
    evaluate_is_a_dry_run,
    meetings_are_refused_when_planned_and_recorded_when_logged,
    access_requests_are_answered_by_the_owner_or_their_manager,
    commitments_are_logged_and_decided_by_a_pm_lead,
    insights_of_the_three_kinds,
    the_playbook_is_read_uploaded_checked_and_diffed,
    the_charter_is_drafted_endorsed_ratified_and_acknowledged,
    the_organisation_is_read_by_all_and_written_by_admins,
    the_audit_and_decision_logs_are_filterable,
    tokens_are_created_listed_and_revoked,
);
