//! The API over a fresh database with the fixture organisation, a token for
//! every fixture person, and a small client that drives the router with
//! `oneshot`.

use std::collections::HashMap;
use std::sync::Arc;

use accord_api::ApiState;
use accord_domain::id::PersonId;
use accord_domain::people::Person;
use accord_service::{Caller, FixedClock, Service, Settings};
use accord_testkit::TestDb;
use accord_testkit::fixtures::{Org, t0};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;
use tower::ServiceExt;

pub(crate) struct World {
    pub(crate) service: Service,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) org: Org,
    pub(crate) app: Router,
    tokens: HashMap<PersonId, String>,
}

/// The settings the tests run with: a low per-account login limit so that
/// the limit is reached in a few calls.
pub(crate) fn settings() -> Settings {
    Settings {
        login_attempts_per_account: 3,
        login_attempts_per_client: 6,
        ..Settings::default()
    }
}

impl World {
    pub(crate) async fn new(db: &TestDb) -> World {
        World::with(db, false).await
    }

    /// With `Secure` cookies or not.
    pub(crate) async fn with(db: &TestDb, secure_cookies: bool) -> World {
        let org = Org::new();
        org.store(db.store().as_ref()).await;
        let clock = Arc::new(FixedClock::at(t0()));
        let service = Service::open(db.store(), clock.clone(), settings())
            .await
            .unwrap();
        let (app, _doc) = accord_api::router(ApiState {
            service: service.clone(),
            secure_cookies,
        });
        let mut w = World {
            service,
            clock,
            org,
            app,
            tokens: HashMap::new(),
        };
        for p in w.org.people().into_iter().cloned().collect::<Vec<_>>() {
            w.add_token(&p).await;
        }
        w
    }

    /// Stores a person beside the fixture organisation and gives them a token.
    pub(crate) async fn add_person(&mut self, p: &Person) {
        let mut tx = self.service.store().write().await.unwrap();
        tx.upsert_person(p).await.unwrap();
        tx.commit().await.unwrap();
        self.add_token(p).await;
    }

    async fn add_token(&mut self, p: &Person) {
        let (_, secret) = self
            .service
            .create_token(&Caller::Local("test"), p.email.as_str(), "t")
            .await
            .unwrap();
        self.tokens.insert(p.id, secret);
    }

    /// The bearer token of a person.
    pub(crate) fn token(&self, p: &Person) -> &str {
        self.tokens
            .get(&p.id)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no token for {}", p.email))
    }

    /// A request as `p`.
    pub(crate) fn req(&self, p: &Person, method: &str, path: &str) -> Call {
        Call::new(&self.app, method, path).bearer(self.token(p))
    }

    pub(crate) async fn get(&self, p: &Person, path: &str) -> Resp {
        self.req(p, "GET", path).send().await
    }

    pub(crate) async fn post(&self, p: &Person, path: &str, body: Value) -> Resp {
        self.req(p, "POST", path).json(&body).send().await
    }

    pub(crate) async fn delete(&self, p: &Person, path: &str) -> Resp {
        self.req(p, "DELETE", path).send().await
    }

    /// A request with no credentials.
    pub(crate) fn anon(&self, method: &str, path: &str) -> Call {
        Call::new(&self.app, method, path)
    }
}

/// A request being built.
pub(crate) struct Call {
    app: Router,
    builder: axum::http::request::Builder,
    body: Body,
    extensions: Vec<std::net::SocketAddr>,
}

impl Call {
    pub(crate) fn new(app: &Router, method: &str, path: &str) -> Call {
        Call {
            app: app.clone(),
            builder: Request::builder()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(path),
            body: Body::empty(),
            extensions: Vec::new(),
        }
    }

    pub(crate) fn bearer(self, token: &str) -> Call {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Call {
        self.builder = self.builder.header(name, value);
        self
    }

    pub(crate) fn json(self, v: &Value) -> Call {
        self.raw("application/json", serde_json::to_vec(v).unwrap())
    }

    /// A body as given, with a content type.
    pub(crate) fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Call {
        self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    /// As if the request came from this client address.
    #[allow(clippy::wrong_self_convention)] // a builder step, read as "from address"
    pub(crate) fn from_addr(mut self, addr: &str) -> Call {
        self.extensions.push(addr.parse().unwrap());
        self
    }

    pub(crate) async fn send(self) -> Resp {
        let mut req = self.builder.body(self.body).unwrap();
        for a in self.extensions {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo::<std::net::SocketAddr>(a));
        }
        let what = format!("{} {}", req.method(), req.uri());
        let resp = self.app.oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
            .await
            .unwrap();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Resp {
            what,
            status,
            headers,
            body,
            json,
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) what: String,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) json: Value,
}

impl Resp {
    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub(crate) fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}: {}",
            self.what,
            String::from_utf8_lossy(&self.body)
        );
        if (200..300).contains(&status) && !self.body.is_empty() {
            assert_eq!(
                self.header("content-type"),
                Some("application/json"),
                "{}",
                self.what
            );
        }
        &self.json
    }

    /// Asserts a problem+json with this status and its required members;
    /// returns the document.
    #[track_caller]
    pub(crate) fn problem(&self, status: u16) -> &Value {
        self.expect(status);
        self.assert_problem();
        &self.json
    }

    /// Asserts the body is an RFC 9457 problem document (whatever the status).
    #[track_caller]
    pub(crate) fn assert_problem(&self) {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}: {}",
            self.what,
            String::from_utf8_lossy(&self.body)
        );
        let p = &self.json;
        assert!(
            p["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/problems/")),
            "{}: {p}",
            self.what
        );
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        assert!(p["detail"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        assert_eq!(
            p["status"].as_u64(),
            Some(u64::from(self.status.as_u16())),
            "{p}"
        );
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    }
}

/// A time as the API writes it.
pub(crate) fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `days` after the fixed "now".
pub(crate) fn in_days(days: i64) -> String {
    at(t0() + Duration::days(days))
}

/// A briefing long enough to count as one.
pub(crate) const BRIEFING: &str =
    "Acme's CIO wants to hear where the analytics platform is going over the next year.";

/// The ids of the rules a decision matched, in order.
pub(crate) fn rules(decision: &Value) -> Vec<String> {
    decision["matched"]
        .as_array()
        .unwrap_or_else(|| panic!("not a decision: {decision}"))
        .iter()
        .map(|m| m["rule"].as_str().unwrap().to_owned())
        .collect()
}
