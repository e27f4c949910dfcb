//! A few tests against the real server on a loopback port: health and
//! readiness, request ids, and a graceful shutdown that finishes the request
//! in flight. The client is a few lines of HTTP/1.1 over a TCP stream.

use std::net::SocketAddr;
use std::time::Duration;

use accord_server::{ServerOptions, router, serve};
use accord_testkit::{TestDb, on_both_engines};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::World;

/// A server on 127.0.0.1:0, stopped through `stop`.
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(w: &World) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(w.service.clone(), &ServerOptions::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, async move {
        let _ = stopped.await;
    }));
    Running { addr, stop, task }
}

/// A response as read off the wire.
#[derive(Debug)]
struct Wire {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Wire {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Reads one response (the server closes the connection after it).
async fn read_response(stream: &mut TcpStream) -> Wire {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("a response within 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Wire {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// One request on a connection of its own.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Wire {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    stream.write_all(req.as_bytes()).await.unwrap();
    read_response(&mut stream).await
}

async fn health_readiness_and_request_ids(db: &TestDb) {
    let w = World::new(db).await;
    let s = start(&w).await;

    let h = call(s.addr, "GET", "/healthz", &[], None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json(), json!({"status": "ok"}));
    // A request id is made up when none is sent ...
    let id = h.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    // ... and echoed when one is.
    let r = call(
        s.addr,
        "GET",
        "/readyz",
        &[("X-Request-Id", "trace-me-42")],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ready");
    assert_eq!(r.json()["playbook_version"], 1);
    assert_eq!(r.header("x-request-id"), Some("trace-me-42"));

    // The API through the socket, with a bearer token; errors carry the id too.
    let token = format!("Bearer {}", w.token(&w.org.rep));
    let me = call(
        s.addr,
        "GET",
        "/api/v1/me",
        &[("Authorization", &token)],
        None,
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["person"]["id"], json!(w.org.rep.id));
    let no = call(
        s.addr,
        "GET",
        "/api/v1/me",
        &[("X-Request-Id", "nope-1")],
        None,
    )
    .await;
    assert_eq!(no.status, 401);
    assert_eq!(no.header("content-type"), Some("application/problem+json"));
    assert_eq!(no.header("x-request-id"), Some("nope-1"));
    let created = call(
        s.addr,
        "POST",
        "/api/v1/requests",
        &[("Authorization", &token)],
        Some(&crate::workflows::ask(&w, "roadmap-briefing", 7)),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["decision"]["effect"], "allow");
    // A body over the limit is refused before it is read.
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/evaluate HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        s.addr,
        64 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let big = read_response(&mut stream).await;
    assert_eq!(big.status, 413);

    // The database going away makes the server unready, not unhealthy.
    w.service.store().close().await;
    let r = call(s.addr, "GET", "/readyz", &[], None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["status"], "database unavailable");
    let h = call(s.addr, "GET", "/healthz", &[], None).await;
    assert_eq!(h.status, 200);

    let _ = s.stop.send(());
    tokio::time::timeout(Duration::from_secs(5), s.task)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

async fn graceful_shutdown_finishes_the_request_in_flight(db: &TestDb) {
    let w = World::new(db).await;
    let s = start(&w).await;
    let token = w.token(&w.org.rep).to_owned();
    let body = json!({
        "record": "request",
        "opportunity": w.org.opportunity.id,
        "engagement_type": "demo",
        "needed_at": crate::support::in_days(1),
    })
    .to_string();
    let (first, rest) = body.split_at(body.len() / 2);

    // A request whose body is still on its way when the server is told to stop.
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/evaluate HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        s.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = s.stop.send(());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!s.task.is_finished(), "the server left a request in flight");
    // No new connections are taken meanwhile.
    let late = TcpStream::connect(s.addr).await;
    if let Ok(mut late) = late {
        let _ = late
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let mut buf = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(2), late.read_to_end(&mut buf)).await;
        assert!(
            !matches!(n, Ok(Ok(_))) || buf.is_empty(),
            "a new connection was served during shutdown: {}",
            String::from_utf8_lossy(&buf)
        );
    }
    // The rest of the body arrives: the request completes, then the server stops.
    stream.write_all(rest.as_bytes()).await.unwrap();
    let resp = read_response(&mut stream).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["effect"], "exception");
    tokio::time::timeout(Duration::from_secs(5), s.task)
        .await
        .expect("the server stops once the request is done")
        .unwrap()
        .unwrap();
}

on_both_engines!(
    health_readiness_and_request_ids,
    graceful_shutdown_finishes_the_request_in_flight,
);
