//! The whole router over a fresh database with the fixture organisation,
//! and a cookie-keeping client that signs in through `/login` and sends
//! forms with the page's CSRF token, as a browser without JavaScript does.

use std::net::SocketAddr;
use std::sync::Arc;

use accord_domain::people::Person;
use accord_server::{ServerOptions, router};
use accord_service::auth::NewUser;
use accord_service::{Caller, FixedClock, Principal, Service, Settings};
use accord_testkit::TestDb;
use accord_testkit::fixtures::{Org, t0};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

/// The password every fixture person signs in with.
const PASSWORD: &str = "correct horse battery staple";

pub(crate) struct App {
    pub(crate) service: Service,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) org: Org,
    router: Router,
}

impl App {
    /// The fixture organisation, every person with a password, the clock
    /// at the fixtures' "now".
    pub(crate) async fn new(db: &TestDb) -> App {
        let org = Org::new();
        org.store(db.store().as_ref()).await;
        let clock = Arc::new(FixedClock::at(t0()));
        let service = Service::open(db.store(), clock.clone(), Settings::default())
            .await
            .unwrap();
        let router = router(service.clone(), &ServerOptions::default());
        App {
            service,
            clock,
            org,
            router,
        }
    }

    /// A principal, for arranging records through the service.
    pub(crate) fn as_(&self, p: &Person) -> Principal {
        Principal::new(p.clone())
    }

    /// A browser signed in as `p` through the sign-in form.
    pub(crate) async fn sign_in(&self, p: &Person) -> Browser {
        self.service
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
        let mut b = self.anonymous();
        let r = b
            .send(
                "POST",
                "/login",
                Some(format!(
                    "email={}&password={}&next=%2F",
                    enc(p.email.as_str()),
                    enc(PASSWORD)
                )),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in as {}: {}",
            p.email,
            r.body
        );
        assert!(
            b.cookies.contains_key("accord_session"),
            "no session cookie for {}",
            p.email
        );
        b
    }

    /// A browser with a session for `p`, started without the sign-in form
    /// (whose password hashing is slow in a debug build): for the many
    /// people a test needs beside the one who signs in.
    pub(crate) async fn session(&self, p: &Person) -> Browser {
        let (id, _csrf) = self.service.start_session(&self.as_(p)).await.unwrap();
        let mut b = self.anonymous();
        b.cookies.insert("accord_session".into(), id);
        b
    }

    /// A browser nobody signed in to.
    pub(crate) fn anonymous(&self) -> Browser {
        Browser {
            router: self.router.clone(),
            cookies: std::collections::BTreeMap::new(),
            csrf: String::new(),
        }
    }
}

/// URL-encodes a form value.
pub(crate) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A client that keeps its cookies and the last page's CSRF token.
pub(crate) struct Browser {
    router: Router,
    cookies: std::collections::BTreeMap<String, String>,
    csrf: String,
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) location: String,
    pub(crate) body: String,
}

impl Page {
    /// Asserts the status; returns the body.
    #[track_caller]
    pub(crate) fn expect(&self, status: u16) -> &str {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        &self.body
    }

    /// Asserts a redirect after a change; returns where to.
    #[track_caller]
    pub(crate) fn redirected(&self) -> &str {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        &self.location
    }

    /// Asserts the body contains every piece.
    #[track_caller]
    pub(crate) fn has(&self, pieces: &[&str]) -> &Self {
        for p in pieces {
            assert!(
                self.body.contains(p),
                "{p:?} is not on the page:\n{}",
                self.body
            );
        }
        self
    }

    /// Asserts the body contains none of the pieces.
    #[track_caller]
    pub(crate) fn lacks(&self, pieces: &[&str]) -> &Self {
        for p in pieces {
            assert!(
                !self.body.contains(p),
                "{p:?} is on the page:\n{}",
                self.body
            );
        }
        self
    }

    /// The value of the first input named `name`.
    #[track_caller]
    pub(crate) fn value_of(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no input {name}:\n{}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    /// The text of the element with this id's field error (`<p
    /// class="field-error" id="{id}-error">`), asserting the field is
    /// marked invalid and points at it.
    #[track_caller]
    pub(crate) fn field_error(&self, id: &str) -> String {
        let marker = format!("id=\"{id}-error\">");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no error for {id}:\n{}", self.body))
            + marker.len();
        let end = self.body[start..].find("</p>").unwrap() + start;
        assert!(
            self.body
                .contains(&format!("aria-describedby=\"{id}-error\"")),
            "the field {id} does not point at its error:\n{}",
            self.body
        );
        self.body[start..end].to_owned()
    }
}

impl Browser {
    /// Sets a cookie, as `app.js` sets the time zone's.
    pub(crate) fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), enc(value));
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None).await
    }

    /// Sends a form as the page would: with the CSRF token of the last
    /// page this browser loaded.
    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut body = format!("_csrf={}", enc(&self.csrf));
        for (k, v) in fields {
            body.push_str(&format!("&{}={}", enc(k), enc(v)));
        }
        self.send("POST", path, Some(body)).await
    }

    /// Sends a `multipart/form-data` form (a file upload) as the page
    /// would, the CSRF token first: each part is `(name, file name, bytes)`,
    /// with no file name for a plain field.
    pub(crate) async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Page {
        let csrf = self.csrf.clone();
        self.post_multipart_with(path, &csrf, parts).await
    }

    /// [`Browser::post_multipart`] with a given CSRF token.
    pub(crate) async fn post_multipart_with(
        &mut self,
        path: &str,
        csrf: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Page {
        const BOUNDARY: &str = "----accord-test-boundary-7MA4YWxkTrZu0gW";
        let mut body: Vec<u8> = Vec::new();
        let all = std::iter::once(("_csrf", None, csrf.as_bytes())).chain(parts.iter().copied());
        for (name, file, bytes) in all {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.send_body(
            "POST",
            path,
            Some((format!("multipart/form-data; boundary={BOUNDARY}"), body)),
        )
        .await
    }

    async fn send(&mut self, method: &str, path: &str, form: Option<String>) -> Page {
        let body = form.map(|f| {
            (
                "application/x-www-form-urlencoded".to_owned(),
                f.into_bytes(),
            )
        });
        self.send_body(method, path, body).await
    }

    async fn send_body(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(String, Vec<u8>)>,
    ) -> Page {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, jar.join("; "));
        }
        let form = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Some(bytes)
            }
            None => None,
        };
        let mut req = req
            .body(form.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 50000))));
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        for c in resp.headers().get_all(header::SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap().trim();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(i) = body.find("name=\"_csrf\" value=\"") {
            let rest = &body[i + "name=\"_csrf\" value=\"".len()..];
            if let Some(end) = rest.find('"') {
                self.csrf = rest[..end].to_owned();
            }
        }
        Page {
            status,
            location,
            body,
        }
    }
}

/// The id in a redirect to `/{prefix}/{id}` (with an optional `#…`).
#[track_caller]
pub(crate) fn id_in(location: &str, prefix: &str) -> String {
    let rest = location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{location:?} is not under {prefix}"));
    rest.trim_start_matches('/')
        .split(['#', '?', '/'])
        .next()
        .unwrap()
        .to_owned()
}
