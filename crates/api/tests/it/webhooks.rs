//! Webhooks end to end in one process: subscriptions through the API, the
//! server's delivery worker on the real clock, and receivers on loopback
//! ports that check every signature with their own HMAC (not accord's).
//! Also: two servers on one database share sessions and login limits.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accord_server::{ServerOptions, router, spawn_workers};
use accord_service::auth::NewUser;
use accord_service::webhooks::DeliveryPolicy;
use accord_service::{Caller, Service, Settings, SystemClock};
use accord_store::{DeliveryState, PageRequest};
use accord_testkit::fixtures::Org;
use accord_testkit::{TestDb, on_both_engines};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::task::JoinHandle;

use crate::support::{BRIEFING, Call, Resp};

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Got {
    headers: HeaderMap,
    body: Bytes,
    /// The signature matched the body and the timestamp was fresh.
    verified: bool,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

#[derive(Debug, Default)]
struct Inbox {
    secret: Mutex<String>,
    got: Mutex<Vec<Got>>,
    /// Statuses to answer with, in order (then 200s).
    script: Mutex<VecDeque<u16>>,
}

impl Inbox {
    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

/// A receiver's own check, as the README tells one to write it: HMAC-SHA256
/// of `"{timestamp}.{body}"` with the shared secret, hex, after `v1=`, and a
/// timestamp no older than five minutes.
fn check(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Ok(ts) = get("accord-timestamp").parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    get("accord-signature") == format!("v1={expected}")
}

async fn take(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> Response {
    let secret = inbox.secret.lock().unwrap().clone();
    let verified = check(&secret, &headers, &body);
    inbox.got.lock().unwrap().push(Got {
        headers,
        body,
        verified,
    });
    let status = inbox.script.lock().unwrap().pop_front().unwrap_or(200);
    let status = StatusCode::from_u16(status).unwrap();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return (status, [("retry-after", "0")], "slow down").into_response();
    }
    (status, format!("pong {}", status.as_u16())).into_response()
}

/// A receiver on a loopback port.
struct Receiver {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Listens on `addr` (port 0: any).
    async fn start(addr: SocketAddr, secret: &str) -> Receiver {
        Receiver::with(addr, Arc::new(Inbox::default()), secret).await
    }

    async fn with(addr: SocketAddr, inbox: Arc<Inbox>, secret: &str) -> Receiver {
        *inbox.secret.lock().unwrap() = secret.to_owned();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", axum::routing::post(take))
            .with_state(inbox.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, inbox, task }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback address where nothing listens (yet).
async fn nobody_listening() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

/// Short waits, so that retries happen within a test.
fn quick() -> DeliveryPolicy {
    DeliveryPolicy {
        timeout: Duration::from_secs(2),
        lease: chrono::Duration::seconds(5),
        backoff_base: chrono::Duration::milliseconds(100),
        backoff_cap: chrono::Duration::milliseconds(400),
        dead_after: chrono::Duration::minutes(5),
        batch: 4,
        concurrency: 4,
        poll: Duration::from_millis(50),
    }
}

/// A server over `db` on the real clock, with its workers running.
struct Live {
    service: Service,
    app: Router,
    org: Org,
    admin: String,
    rep: String,
    stop: tokio::sync::watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

async fn live(db: &TestDb, org: Option<Org>) -> Live {
    let org = match org {
        Some(o) => o,
        None => {
            let o = Org::new();
            o.store(db.store().as_ref()).await;
            o
        }
    };
    let settings = Settings {
        base_url: "https://accord.example.com".into(),
        delivery: quick(),
        ..crate::support::settings()
    };
    let service = Service::open(db.store(), Arc::new(SystemClock), settings)
        .await
        .unwrap();
    let opts = ServerOptions::default();
    let app = router(service.clone(), &opts);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = spawn_workers(service.clone(), &opts, stopped);
    let token = |email: String| {
        let service = service.clone();
        async move {
            service
                .create_token(&Caller::Local("test"), &email, "t")
                .await
                .unwrap()
                .1
        }
    };
    let admin = token(org.admin.email.to_string()).await;
    let rep = token(org.rep.email.to_string()).await;
    Live {
        service,
        app,
        org,
        admin,
        rep,
        stop,
        workers,
    }
}

impl Live {
    fn call(&self, token: &str, method: &str, path: &str) -> Call {
        Call::new(&self.app, method, path).bearer(token)
    }

    async fn subscribe(&self, url: &str, events: &[&str], format: &str, secret: &str) -> Value {
        let r = self
            .call(&self.admin, "POST", "/api/v1/webhooks")
            .json(&json!({"url": url, "events": events, "format": format, "secret": secret}))
            .send()
            .await;
        r.expect(201)["webhook"].clone()
    }

    /// A rep asks for a PM: one `request.created` event.
    async fn ask(&self) -> Value {
        let needed = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
        let r = self
            .call(&self.rep, "POST", "/api/v1/requests")
            .json(&json!({
                "opportunity": self.org.opportunity.id,
                "pm": self.org.pm.id,
                "engagement_type": "roadmap-briefing",
                "briefing": BRIEFING,
                "needed_at": needed,
            }))
            .send()
            .await;
        r.expect(201)["request"].clone()
    }

    async fn deliveries(&self, query: &str) -> Vec<Value> {
        let r = self
            .call(
                &self.admin,
                "GET",
                &format!("/api/v1/deliveries?limit=500{query}"),
            )
            .send()
            .await;
        r.expect(200)["items"].as_array().unwrap().clone()
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for w in self.workers {
            tokio::time::timeout(Duration::from_secs(10), w)
                .await
                .expect("the workers stop within 10 s")
                .unwrap();
        }
    }
}

/// Waits (up to `secs`) until `f` holds.
async fn until<F: AsyncFnMut() -> bool>(what: &str, secs: u64, mut f: F) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out after {secs} s waiting until {what}");
}

const SECRET: &str = "a-long-enough-shared-secret";

async fn subscriptions_through_the_api(db: &TestDb) {
    let l = live(db, None).await;
    // Every field at fault is named.
    let bad = l
        .call(&l.admin, "POST", "/api/v1/webhooks")
        .json(&json!({"url": "ftp://x", "events": ["request.created", "nope"], "format": "xml"}))
        .send()
        .await;
    let p = bad.problem(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "events[1]", "format"]);
    // Not for reps.
    l.call(&l.rep, "GET", "/api/v1/webhooks")
        .send()
        .await
        .problem(403);

    // Registered with a generated secret, shown once.
    let rx = Receiver::start("127.0.0.1:0".parse().unwrap(), "").await;
    let r = l
        .call(&l.admin, "POST", "/api/v1/webhooks")
        .json(&json!({"url": rx.url(), "events": ["*"]}))
        .send()
        .await;
    let created = r.expect(201).clone();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert_eq!(created["webhook"]["format"], "json");
    assert!(created["webhook"].get("secret").is_none());
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    let listed = l.call(&l.admin, "GET", "/api/v1/webhooks").send().await;
    let listed = listed.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret));
    let one = l
        .call(&l.admin, "GET", &format!("/api/v1/webhooks/{id}"))
        .send()
        .await;
    assert!(!one.expect(200).to_string().contains(&secret));

    // A ping: signed with that secret, answered, nothing stored.
    *rx.inbox.secret.lock().unwrap() = secret.clone();
    let ping = l
        .call(&l.admin, "POST", &format!("/api/v1/webhooks/{id}/test"))
        .send()
        .await;
    let ping = ping.expect(200).clone();
    assert_eq!(ping["status"], 200);
    assert_eq!(ping["body"], "pong 200");
    let got = rx.inbox.got();
    assert_eq!(got.len(), 1);
    assert!(got[0].verified, "the ping's signature checks");
    assert_eq!(got[0].json()["type"], "ping");
    assert_eq!(got[0].json()["id"], ping["event_id"]);
    // (The server's own daily signal run may have fanned events out to
    // this `*` subscription meanwhile: only the ping is looked for.)
    assert!(
        l.deliveries("")
            .await
            .iter()
            .all(|d| d["event_id"] != ping["event_id"]),
        "a ping is not stored as a delivery"
    );

    // A subscription whose receiver is down: the ping says why.
    let down = nobody_listening().await;
    let hook = l
        .subscribe(
            &format!("http://{down}/hook"),
            &["request.created"],
            "json",
            SECRET,
        )
        .await;
    let ping = l
        .call(
            &l.admin,
            "POST",
            &format!("/api/v1/webhooks/{}/test", hook["id"].as_str().unwrap()),
        )
        .send()
        .await;
    let ping = ping.expect(200).clone();
    assert!(ping["status"].is_null());
    assert!(
        ping["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("refused"),
        "{ping}"
    );

    // The OpenAPI document does not offer the secret either.
    let doc = l.call(&l.admin, "GET", "/api/v1/openapi.json").send().await;
    let webhook = &doc.expect(200)["components"]["schemas"]["Webhook"]["properties"];
    assert!(webhook["url"].is_object(), "{webhook}");
    assert!(webhook.get("secret").is_none(), "{webhook}");

    // Removed: 204. It receives nothing more; one that has delivery
    // history stays listed, inactive, for that history (events from the
    // server's own daily signal run may have reached it); removing it
    // again is a 404.
    l.call(&l.admin, "DELETE", &format!("/api/v1/webhooks/{id}"))
        .send()
        .await
        .expect(204);
    let after = l
        .call(&l.admin, "GET", &format!("/api/v1/webhooks/{id}"))
        .send()
        .await;
    if after.status != axum::http::StatusCode::NOT_FOUND {
        assert_eq!(after.expect(200)["active"], false);
    }
    l.call(&l.admin, "DELETE", &format!("/api/v1/webhooks/{id}"))
        .send()
        .await
        .problem(404);
    l.stop().await;
}

async fn the_receiver_is_down_then_up_and_every_event_arrives(db: &TestDb) {
    let l = live(db, None).await;
    let addr = nobody_listening().await;
    l.subscribe(
        &format!("http://{addr}/hook"),
        &["request.created"],
        "json",
        SECRET,
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(l.ask().await["id"].as_str().unwrap().to_owned());
    }
    // Down: attempts fail and are retried.
    until("every delivery has failed at least twice", 15, async || {
        let d = l.deliveries("").await;
        d.len() == 12 && d.iter().all(|d| d["attempts"].as_i64() >= Some(2))
    })
    .await;
    let failed = l.deliveries("").await;
    assert!(failed.iter().all(|d| d["state"] == "pending"), "{failed:?}");
    assert!(
        failed.iter().all(|d| d["last_error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("refused")),
        "{failed:?}"
    );
    // Up: everything arrives, signed.
    let rx = Receiver::start(addr, SECRET).await;
    until("every event arrived", 15, async || {
        l.deliveries("&state=delivered").await.len() == 12
    })
    .await;
    let got = rx.inbox.got();
    assert!(got.iter().all(|g| g.verified), "a signature did not check");
    let mut arrived: Vec<String> = got
        .iter()
        .map(|g| {
            g.json()["data"]["request"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    arrived.sort();
    arrived.dedup();
    ids.sort();
    assert_eq!(arrived, ids, "every event, none lost");
    for g in &got {
        let env = g.json();
        assert_eq!(env["type"], "request.created");
        assert_eq!(g.header("accord-event-id"), env["id"].as_str().unwrap());
        assert_eq!(g.header("accord-event-type"), "request.created");
        assert_eq!(g.header("content-type"), "application/json");
        assert!(g.header("accord-delivery-attempt").parse::<i64>().unwrap() >= 2);
    }
    l.stop().await;
}

async fn a_4xx_is_not_retried_and_a_dead_event_is_redelivered(db: &TestDb) {
    let l = live(db, None).await;
    let rx = Receiver::start("127.0.0.1:0".parse().unwrap(), SECRET).await;
    rx.inbox.script.lock().unwrap().push_back(410);
    l.subscribe(&rx.url(), &["request.created"], "json", SECRET)
        .await;
    let request = l.ask().await;
    until("the delivery is dead", 10, async || {
        l.deliveries("&state=dead").await.len() == 1
    })
    .await;
    // Several backoffs' worth of time: still one attempt.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rx.inbox.got().len(), 1, "a 410 is not retried");
    let dead = l.deliveries("&state=dead").await.remove(0);
    assert_eq!(dead["attempts"], 1);
    assert_eq!(dead["last_status"], 410);
    assert!(
        dead["last_error"].as_str().unwrap().contains("pong 410"),
        "{dead}"
    );
    let id = dead["id"].as_str().unwrap();
    let detail = l
        .call(&l.admin, "GET", &format!("/api/v1/deliveries/{id}"))
        .send()
        .await;
    assert_eq!(
        detail.expect(200)["event"]["payload"]["request"]["id"],
        request["id"]
    );
    // Reps may not redeliver; admins may.
    l.call(
        &l.rep,
        "POST",
        &format!("/api/v1/deliveries/{id}/redeliver"),
    )
    .send()
    .await
    .problem(403);
    let again = l
        .call(
            &l.admin,
            "POST",
            &format!("/api/v1/deliveries/{id}/redeliver"),
        )
        .send()
        .await;
    assert_eq!(again.expect(200)["state"], "pending");
    until("the redelivery arrived", 10, async || {
        l.deliveries("&state=delivered").await.len() == 1
    })
    .await;
    let got = rx.inbox.got();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|g| g.verified));
    assert_eq!(
        got[0].json()["id"],
        got[1].json()["id"],
        "the same event, the same id"
    );
    let audit = l
        .call(&l.admin, "GET", "/api/v1/audit?action=delivery.redelivered")
        .send()
        .await;
    assert_eq!(audit.expect(200)["items"].as_array().unwrap().len(), 1);
    l.stop().await;
}

async fn timeouts_rate_limits_and_server_errors_are_retried(db: &TestDb) {
    let l = live(db, None).await;
    let rx = Receiver::start("127.0.0.1:0".parse().unwrap(), SECRET).await;
    rx.inbox.script.lock().unwrap().extend([429, 408, 503, 500]);
    l.subscribe(&rx.url(), &["request.created"], "json", SECRET)
        .await;
    l.ask().await;
    until("it arrived", 10, async || {
        l.deliveries("&state=delivered").await.len() == 1
    })
    .await;
    let d = l.deliveries("").await.remove(0);
    assert_eq!(
        (d["attempts"].as_i64(), d["last_status"].as_i64()),
        (Some(5), Some(200))
    );
    let got = rx.inbox.got();
    assert_eq!(got.len(), 5);
    let attempts: Vec<&str> = got
        .iter()
        .map(|g| g.header("accord-delivery-attempt"))
        .collect();
    assert_eq!(attempts, ["1", "2", "3", "4", "5"]);
    assert!(got.iter().all(|g| g.verified));
    l.stop().await;
}

async fn the_slack_format_posts_one_line_with_a_link(db: &TestDb) {
    let l = live(db, None).await;
    let rx = Receiver::start("127.0.0.1:0".parse().unwrap(), SECRET).await;
    l.subscribe(&rx.url(), &["request.created"], "slack", SECRET)
        .await;
    let request = l.ask().await;
    until("it arrived", 10, async || !rx.inbox.got().is_empty()).await;
    let got = rx.inbox.got().remove(0);
    assert!(got.verified);
    let body = got.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let text = body["text"].as_str().unwrap();
    assert!(!text.contains('\n'));
    assert!(
        text.starts_with(&format!(
            "{} asked {} for a ",
            l.org.rep.name, l.org.pm.name
        )),
        "{text}"
    );
    assert!(text.contains(&l.org.account.name), "{text}");
    assert!(
        text.ends_with(&format!(
            "https://accord.example.com/requests/{}",
            request["id"].as_str().unwrap()
        )),
        "{text}"
    );
    l.stop().await;
}

/// Two servers on one database: a session started on one works on the
/// other, signing out on one ends it on both, and failed logins count
/// across them.
async fn sessions_and_login_limits_are_shared_by_servers(db: &TestDb) {
    let a = live(db, None).await;
    let b = live(db, Some(a.org.clone())).await;
    for p in [&a.org.pm, &a.org.rep] {
        a.service
            .add_user(
                &Caller::Local("test"),
                NewUser {
                    email: p.email.to_string(),
                    name: None,
                    role: None,
                    password: Some("correct horse battery".into()),
                },
            )
            .await
            .unwrap();
    }
    let login = |app: &Router, email: &str, password: &str| {
        Call::new(app, "POST", "/api/v1/session")
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let r: Resp = login(&a.app, a.org.rep.email.as_str(), "correct horse battery").await;
    let csrf = r.expect(200)["csrf"].as_str().unwrap().to_owned();
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me = Call::new(&b.app, "GET", "/api/v1/me")
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(me.expect(200)["person"]["id"], json!(a.org.rep.id));
    Call::new(&b.app, "DELETE", "/api/v1/session")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect(204);
    Call::new(&a.app, "GET", "/api/v1/me")
        .header("cookie", &cookie)
        .send()
        .await
        .problem(401);

    // Three failures (the test limit) spread over both servers...
    let pm = a.org.pm.email.to_string();
    login(&a.app, &pm, "wrong password").await.problem(401);
    login(&b.app, &pm, "wrong password").await.problem(401);
    login(&a.app, &pm, "wrong password").await.problem(401);
    // ...and both refuse the next attempt.
    login(&b.app, &pm, "correct horse battery")
        .await
        .problem(429);
    login(&a.app, &pm, "correct horse battery")
        .await
        .problem(429);
    a.stop().await;
    b.stop().await;
}

/// Both servers deliver: each event once, none lost.
async fn two_servers_share_the_delivery_work(db: &TestDb) {
    let a = live(db, None).await;
    let b = live(db, Some(a.org.clone())).await;
    let rx = Receiver::start("127.0.0.1:0".parse().unwrap(), SECRET).await;
    a.subscribe(&rx.url(), &["request.created"], "json", SECRET)
        .await;
    for i in 0..20 {
        if i % 2 == 0 {
            a.ask().await
        } else {
            b.ask().await
        };
    }
    until("every event arrived", 15, async || {
        a.deliveries("&state=delivered").await.len() == 20
    })
    .await;
    let got = rx.inbox.got();
    assert!(got.iter().all(|g| g.verified));
    let mut ids: Vec<String> = got
        .iter()
        .map(|g| g.header("accord-event-id").to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert_eq!(got.len(), 20, "no duplicates");
    let all = a
        .service
        .list_deliveries(&Caller::Local("test"), None, &PageRequest::first(100))
        .await
        .unwrap()
        .items;
    assert!(
        all.iter()
            .all(|d| d.state == DeliveryState::Delivered && d.attempts == 1)
    );
    a.stop().await;
    b.stop().await;
}

on_both_engines!(
    subscriptions_through_the_api,
    the_receiver_is_down_then_up_and_every_event_arrives,
    a_4xx_is_not_retried_and_a_dead_event_is_redelivered,
    timeouts_rate_limits_and_server_errors_are_retried,
    the_slack_format_posts_one_line_with_a_link,
    sessions_and_login_limits_are_shared_by_servers,
    two_servers_share_the_delivery_work,
);
