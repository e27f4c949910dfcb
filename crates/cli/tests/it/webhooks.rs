//! Webhooks with the real binary: `accord webhook ...`, `accord serve`
//! killed with SIGKILL in the middle of deliveries and restarted, and two
//! `accord serve` processes sharing one PostgreSQL database. Receivers are
//! small HTTP servers on loopback ports inside the test, checking every
//! signature with their own HMAC.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accord_store::{DeliveryState, OutboxEvent, PageRequest, Store};
use accord_testkit::TestDb;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{accord, stderr, stdout};

const SECRET: &str = "a-long-enough-shared-secret";

/// What a receiver saw: per event id, how many requests arrived and how
/// many it answered (a request cut off by a killed server arrives but is
/// never answered).
#[derive(Debug, Default)]
struct Inbox {
    arrived: HashMap<String, usize>,
    answered: HashMap<String, usize>,
    bad_signatures: usize,
}

#[derive(Clone)]
struct Rx {
    inbox: Arc<Mutex<Inbox>>,
    delay: Duration,
}

fn signed(headers: &HeaderMap, body: &[u8]) -> bool {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ts = get("accord-timestamp");
    if ts
        .parse::<i64>()
        .map_or(true, |t| (chrono::Utc::now().timestamp() - t).abs() > 300)
    {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    get("accord-signature") == format!("v1={hex}")
}

async fn take(State(rx): State<Rx>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let id = headers
        .get("accord-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    {
        let mut inbox = rx.inbox.lock().unwrap();
        *inbox.arrived.entry(id.clone()).or_default() += 1;
        if !signed(&headers, &body) {
            inbox.bad_signatures += 1;
        }
    }
    tokio::time::sleep(rx.delay).await;
    // Reached only if the sender is still there to be answered.
    *rx.inbox.lock().unwrap().answered.entry(id).or_default() += 1;
    (StatusCode::OK, "ok".into())
}

/// Starts a receiver on a loopback port that answers after `delay`.
async fn receiver(delay: Duration) -> (SocketAddr, Arc<Mutex<Inbox>>) {
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(take))
        .with_state(Rx {
            inbox: inbox.clone(),
            delay,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, inbox)
}

/// An `accord serve` process with short webhook settings; killed however
/// the test ends.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, url: &str, name: &str) -> Server {
        let log = dir.join(format!("{name}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["serve", "--bind", "127.0.0.1:0", "--db", url])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("ACCORD_BIND")
            .env_remove("ACCORD_DATABASE_URL")
            .env_remove("RUST_LOG")
            .env("ACCORD_WEBHOOK_TIMEOUT_SECS", "5")
            .env("ACCORD_WEBHOOK_LEASE_SECS", "6")
            .env("ACCORD_WEBHOOK_BACKOFF_MS", "100")
            .env("ACCORD_WEBHOOK_BACKOFF_CAP_SECS", "1")
            .env("ACCORD_WEBHOOK_POLL_MS", "50")
            .env("ACCORD_WEBHOOK_CONCURRENCY", "8")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("accord serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if !line.contains("accord is serving on http://") {
            let _ = child.kill();
            panic!(
                "accord serve said {line:?}; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        Server { child, log }
    }

    /// `kill -9`: no chance to finish anything.
    fn sigkill(&mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let _ = self.child.wait();
    }

    /// SIGTERM, and a graceful exit within 10 s.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "accord serve exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("accord serve did not stop within 10 s of SIGTERM");
    }

    /// Deliveries this server recorded as delivered, from its log.
    fn delivered(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("webhook deliveries"))
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix("delivered="))
                    .and_then(|n| n.parse::<usize>().ok())
            })
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn scratch_dir(what: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-it")
        .join(format!("{what}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `accord webhook add` with the test secret on standard input; returns
/// the subscription's id.
fn subscribe(url: &str, db: &str, format: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "webhook", "add", "--url", url, "--events", "*", "--format", format,
        ])
        .args(["--secret-stdin", "--db", db])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{SECRET}").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains(SECRET), "a secret given is not echoed: {out}");
    out.split_whitespace().nth(1).unwrap().to_owned()
}

/// Writes `n` events to the outbox, as the use cases do.
async fn emit(store: &dyn Store, n: usize) -> Vec<String> {
    let mut tx = store.write().await.unwrap();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let e = OutboxEvent {
            id: uuid::Uuid::now_v7(),
            event_type: "request.created".into(),
            payload: serde_json::json!({"request": {"id": uuid::Uuid::now_v7(), "n": i}}),
            occurred_at: chrono::Utc::now(),
        };
        tx.insert_event(&e).await.unwrap();
        ids.push(e.id.to_string());
    }
    tx.commit().await.unwrap();
    ids
}

async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out after {secs} s waiting until {what}");
}

async fn states(store: &dyn Store) -> HashMap<DeliveryState, usize> {
    let mut tx = store.read().await.unwrap();
    let mut out = HashMap::new();
    let mut page = PageRequest::first(500);
    loop {
        let p = tx.list_deliveries(None, &page).await.unwrap();
        for d in &p.items {
            *out.entry(d.state).or_default() += 1;
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_commands_manage_subscriptions_and_ping() {
    let dir = scratch_dir("webhook-cli");
    let db = format!("sqlite://{}", dir.join("accord.db").display());
    let (addr, inbox) = receiver(Duration::ZERO).await;
    let url = format!("http://{addr}/hook");

    // Bad input: exit 2, every field named.
    let o = accord(&[
        "webhook",
        "add",
        "--url",
        "gopher://x",
        "--events",
        "request.created,nope",
        "--format",
        "xml",
        "--db",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for field in ["url:", "events[1]:", "format:"] {
        assert!(err.contains(&format!("error: {field}")), "{err}");
    }

    // A generated secret, printed once.
    let o = accord(&[
        "webhook",
        "add",
        "--url",
        &url,
        "--events",
        "request.created,alert.opened",
        "--format",
        "slack",
        "--db",
        &db,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let id = out.split_whitespace().nth(1).unwrap().to_owned();
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 64, "{out}");
    assert!(out.contains("slack"), "{out}");
    let o = accord(&["webhook", "list", "--db", &db]);
    assert!(o.status.success());
    assert!(stdout(&o).contains(&id) && stdout(&o).contains(&url));
    assert!(!stdout(&o).contains(&secret), "list shows no secret");

    // With the test's secret: a ping, signed, and the receiver's answer.
    let tested = subscribe(&url, &db, "json");
    let o = tokio::task::spawn_blocking({
        let db = db.clone();
        let tested = tested.clone();
        move || accord(&["webhook", "test", &tested, "--db", &db])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "HTTP 200\nok\n");
    {
        let inbox = inbox.lock().unwrap();
        assert_eq!(inbox.arrived.len(), 1);
        assert_eq!(inbox.bad_signatures, 0);
    }
    // A receiver that is not there: exit 1 and why.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let o = accord(&[
        "webhook",
        "add",
        "--url",
        &format!("http://{down}/hook"),
        "--db",
        &db,
    ]);
    let gone = stdout(&o).split_whitespace().nth(1).unwrap().to_owned();
    let o = accord(&["webhook", "test", &gone, "--db", &db]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("no answer: "), "{}", stdout(&o));

    // Deliveries: none yet; a dead one can be redelivered.
    let o = accord(&["webhook", "deliveries", "--dead", "--db", &db]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "");
    let o = accord(&[
        "webhook",
        "redeliver",
        &uuid::Uuid::now_v7().to_string(),
        "--db",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("not found"), "{}", stderr(&o));

    for w in [&id, &tested, &gone] {
        let o = accord(&["webhook", "remove", w, "--db", &db]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = accord(&["webhook", "list", "--db", &db]);
    assert_eq!(stdout(&o), "");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dead delivery, from the CLI: listed with `--dead`, redelivered, and
/// delivered by the running server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_delivery_is_listed_and_redelivered_from_the_cli() {
    let dir = scratch_dir("webhook-dead");
    let testdb = TestDb::sqlite().await;
    let db = testdb.url().to_owned();
    // Nothing listens: refused until the bound (1 h) — so make it dead by
    // hand, as a 4xx would.
    let (addr, inbox) = receiver(Duration::ZERO).await;
    subscribe(&format!("http://{addr}/hook"), &db, "json");
    let ids = emit(testdb.store().as_ref(), 1).await;
    {
        let store = testdb.store();
        let mut tx = store.write().await.unwrap();
        let lease = uuid::Uuid::now_v7();
        let claimed = tx
            .claim_deliveries(lease, chrono::Utc::now(), chrono::Duration::seconds(30), 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let now = chrono::Utc::now();
        tx.finish_delivery(
            claimed[0].0.id,
            lease,
            &accord_store::Attempt {
                state: DeliveryState::Dead,
                status: Some(410),
                error: Some("HTTP 410, not retried: gone".into()),
                next_attempt_at: now,
                at: now,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let o = accord(&["webhook", "deliveries", "--dead", "--db", &db]);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("dead") && out.contains("HTTP 410") && out.contains(&ids[0]),
        "{out}"
    );
    let delivery = out.split_whitespace().next().unwrap().to_owned();
    let o = accord(&["webhook", "redeliver", &delivery, "--db", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("is due again"), "{}", stdout(&o));

    let mut server = tokio::task::block_in_place(|| Server::start(&dir, &db, "serve"));
    wait_until("the redelivered event arrived", 15, || {
        inbox.lock().unwrap().answered.contains_key(&ids[0])
    })
    .await;
    wait_until("it is recorded as delivered", 10, || {
        let o = accord(&["webhook", "deliveries", "--db", &db]);
        stdout(&o).contains("delivered")
    })
    .await;
    tokio::task::block_in_place(|| server.stop());
    testdb.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `accord serve` is killed with SIGKILL while deliveries are in flight,
/// then started again: every event arrives (some perhaps twice), none is
/// lost.
async fn killed_mid_delivery_loses_nothing(testdb: TestDb) {
    let dir = scratch_dir("webhook-kill");
    let db = testdb.url().to_owned();
    let store = testdb.store();
    // Slow answers, so that the kill finds requests in flight.
    let (addr, inbox) = receiver(Duration::from_millis(400)).await;
    subscribe(&format!("http://{addr}/hook"), &db, "json");
    let ids = emit(store.as_ref(), 60).await;

    let mut first = tokio::task::block_in_place(|| Server::start(&dir, &db, "first"));
    wait_until(
        "some deliveries were answered and more are in flight",
        20,
        || {
            let i = inbox.lock().unwrap();
            let answered: usize = i.answered.values().sum();
            let arrived: usize = i.arrived.values().sum();
            answered >= 8 && arrived > answered
        },
    )
    .await;
    tokio::task::block_in_place(|| first.sigkill());
    let (cut, answered_before) = {
        let i = inbox.lock().unwrap();
        let arrived: usize = i.arrived.values().sum();
        let answered: usize = i.answered.values().sum();
        (arrived - answered, answered)
    };
    assert!(cut > 0, "the kill cut deliveries off");
    assert!(answered_before < ids.len(), "the kill came before the end");

    let started = Instant::now();
    let mut second = tokio::task::block_in_place(|| Server::start(&dir, &db, "second"));
    wait_until("every event was answered", 30, || {
        let i = inbox.lock().unwrap();
        ids.iter().all(|id| i.answered.contains_key(id))
    })
    .await;
    let took = started.elapsed();
    let end = Instant::now() + Duration::from_secs(10);
    while states(store.as_ref()).await.get(&DeliveryState::Delivered) != Some(&ids.len()) {
        assert!(
            Instant::now() < end,
            "not every delivery is recorded as delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::task::block_in_place(|| second.stop());
    let twice = {
        let i = inbox.lock().unwrap();
        assert_eq!(i.bad_signatures, 0);
        i.answered.values().filter(|n| **n > 1).count()
    };
    eprintln!(
        "{:?}: killed with {cut} request(s) in flight after {answered_before} answered; the restarted server finished in {took:.1?}; {twice} event(s) answered twice",
        testdb.engine()
    );
    testdb.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_mid_delivery_loses_nothing() {
    killed_mid_delivery_loses_nothing(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_delivery_loses_nothing() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    killed_mid_delivery_loses_nothing(db).await;
}

/// Two `accord serve` on one PostgreSQL database deliver 1,000 events
/// between them: every event once, no duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_deliver_1000_events_once() {
    let Some(testdb) = TestDb::postgres().await else {
        return;
    };
    let dir = scratch_dir("webhook-two");
    let db = testdb.url().to_owned();
    let store = testdb.store();
    let (addr, inbox) = receiver(Duration::ZERO).await;
    subscribe(&format!("http://{addr}/hook"), &db, "json");
    let mut a = tokio::task::block_in_place(|| Server::start(&dir, &db, "a"));
    let mut b = tokio::task::block_in_place(|| Server::start(&dir, &db, "b"));

    // Events keep coming while both servers deliver.
    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.extend(emit(store.as_ref(), 100).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_until("all 1,000 events arrived", 30, || {
        inbox.lock().unwrap().answered.len() == ids.len()
    })
    .await;
    let took = started.elapsed();
    // Anything late would be a duplicate: give it time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::block_in_place(|| {
        a.stop();
        b.stop();
    });

    {
        let i = inbox.lock().unwrap();
        assert_eq!(i.bad_signatures, 0);
        assert!(ids.iter().all(|id| i.answered.get(id) == Some(&1)));
        let total: usize = i.arrived.values().sum();
        assert_eq!(total, 1000, "no duplicates");
    }
    let states = states(store.as_ref()).await;
    assert_eq!(
        states.get(&DeliveryState::Delivered),
        Some(&1000),
        "{states:?}"
    );
    let (by_a, by_b) = (a.delivered(), b.delivered());
    assert_eq!(by_a + by_b, 1000, "a {by_a}, b {by_b}");
    assert!(
        by_a > 0 && by_b > 0,
        "both servers delivered: a {by_a}, b {by_b}"
    );
    eprintln!("two servers delivered 1,000 events in {took:.2?} (a {by_a}, b {by_b})");
    testdb.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README's Python receiver, as printed there, accepts what accord
/// sends and refuses a forged signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_receiver_verifies_accords_signature() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("notice: skipping the README receiver test: no python3");
        return;
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme.find("## Webhooks").expect("a Webhooks section")..];
    let start = section.find("```python\n").expect("a Python receiver") + "```python\n".len();
    let code = &section[start..start + section[start..].find("\n```").unwrap()];
    assert!(
        code.contains("SECRET = b\"the secret accord printed once\""),
        "{code}"
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let code = code
        .replace("the secret accord printed once", SECRET)
        .replace("(\"127.0.0.1\", 9000)", &format!("(\"127.0.0.1\", {port})"));
    let dir = scratch_dir("webhook-readme");
    std::fs::write(dir.join("receiver.py"), code).unwrap();
    let mut python = Command::new("python3")
        .arg(dir.join("receiver.py"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "the README receiver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let db = format!("sqlite://{}", dir.join("accord.db").display());
    let id = subscribe(&format!("http://127.0.0.1:{port}/"), &db, "json");
    let o = accord(&["webhook", "test", &id, "--db", &db]);
    let forged = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args([
            "-H",
            &format!("Accord-Timestamp: {}", chrono::Utc::now().timestamp()),
        ])
        .args(["-H", "Accord-Signature: v1=00", "-d", "{\"id\":\"x\"}"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .unwrap();
    let _ = python.kill();
    let printed = {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut python.stdout.take().unwrap(), &mut s);
        s
    };
    let _ = python.wait();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "HTTP 204\n");
    assert!(printed.starts_with("ping"), "{printed:?}");
    assert_eq!(String::from_utf8_lossy(&forged.stdout), "401");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `accord serve` stopped right after it says it serves still stops
/// gracefully: its signal handlers are in place before it says so.
#[test]
fn sigterm_right_after_start_is_graceful() {
    let dir = scratch_dir("serve-term");
    let db = format!("sqlite://{}", dir.join("accord.db").display());
    let mut s = Server::start(&dir, &db, "serve");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
