//! Server time of the team leaders' and admins' pages on a real database
//! (the demo organisation's, say): each page rendered through the router
//! in this process, several times, and the median and worst times printed.
//!
//! ```text
//! accord --db sqlite:///tmp/demo.db demo --no-serve
//! cargo run --release -p accord-web --example page_timings -- sqlite:///tmp/demo.db
//! ```
//!
//! The leaders and the admin are the demo's (`farid.weber@…` the PM lead,
//! `ivan.nakamura@…` the sales manager, `ada.admin@…`); set
//! `ACCORD_TIMING_RUNS` for more or fewer runs (default 15), and
//! `ACCORD_TIMING_DUMP` to a folder to keep each page's HTML there.

// An example that fails loudly is what an example should do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_domain::id::Email;
use accord_server::{ServerOptions, router};
use accord_service::{Principal, Service, Settings, SystemClock};
use accord_store::PageRequest;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

async fn person(service: &Service, email: &str) -> Principal {
    let mut tx = service.store().read().await.unwrap();
    let p = tx
        .person_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {email}: is this the demo's database?"));
    Principal::new(p)
}

async fn time(
    app: &axum::Router,
    cookie: &str,
    path: &str,
    runs: usize,
) -> (Duration, Duration, Vec<u8>) {
    let mut times = Vec::with_capacity(runs);
    let mut last = Vec::new();
    for _ in 0..runs {
        let req = Request::builder()
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let started = Instant::now();
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .unwrap();
        times.push(started.elapsed());
        assert_eq!(
            status,
            StatusCode::OK,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        last = body.to_vec();
    }
    times.sort();
    (times[runs / 2], times[runs - 1], last)
}

#[tokio::main]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite:///tmp/demo.db".into());
    let runs: usize = std::env::var("ACCORD_TIMING_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
        .max(1);
    let opened = accord_store_sqlite::open(&url).await.unwrap();
    let service = Service::open(opened.store, Arc::new(SystemClock), Settings::default())
        .await
        .unwrap();
    let app = router(service.clone(), &ServerOptions::default());
    let lead = person(&service, "farid.weber@ourco.example").await;
    let manager = person(&service, "ivan.nakamura@ourco.example").await;
    let admin = person(&service, "ada.admin@ourco.example").await;
    let cookie = |id: String| format!("accord_session={id}");
    let lead_c = cookie(service.start_session(&lead).await.unwrap().0);
    let manager_c = cookie(service.start_session(&manager).await.unwrap().0);
    let admin_c = cookie(service.start_session(&admin).await.unwrap().0);

    let alerts = service
        .alerts(&lead, false, false, &PageRequest::first(5))
        .await
        .unwrap()
        .items;
    let team = service
        .list_teams(&lead)
        .await
        .unwrap()
        .into_iter()
        .next()
        .map(|t| t.name)
        .unwrap_or_default();
    let exception = service
        .list_exceptions(&lead, false, None, &PageRequest::first(1))
        .await
        .unwrap()
        .items;
    let commitment = service
        .list_commitments(&lead, None, false, &PageRequest::first(1))
        .await
        .unwrap()
        .items;
    let mut pages: Vec<(&str, String)> = vec![
        (&lead_c, "/dashboard".into()),
        (&manager_c, "/dashboard".into()),
        (
            &lead_c,
            format!(
                "/dashboard?team={}",
                form_urlencoded::byte_serialize(team.as_bytes()).collect::<String>()
            ),
        ),
        (&lead_c, "/alerts".into()),
        (&lead_c, "/approvals".into()),
        (&manager_c, "/approvals".into()),
        (&lead_c, "/reviews".into()),
        (&admin_c, "/admin/people".into()),
        (&admin_c, "/admin/playbook".into()),
        (&admin_c, "/admin/playbook?from=1&to=1".into()),
        (&admin_c, "/admin/import".into()),
        (&admin_c, "/admin/tokens".into()),
        (&admin_c, "/admin/webhooks".into()),
    ];
    if let Some(a) = alerts.first() {
        pages.push((&lead_c, format!("/alerts/{}", a.id)));
    }
    if let Some(e) = exception.first() {
        pages.push((&lead_c, format!("/exceptions/{}", e.id)));
    }
    if let Some(c) = commitment.first() {
        pages.push((&lead_c, format!("/commitments/{}", c.id)));
    }
    println!(
        "{runs} runs each, {}",
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    );
    println!(
        "{:<48} {:>10} {:>10} {:>10}",
        "page", "median", "worst", "bytes"
    );
    for (c, path) in &pages {
        let who = if *c == lead_c.as_str() {
            "PM lead"
        } else if *c == manager_c.as_str() {
            "sales manager"
        } else {
            "admin"
        };
        let (median, worst, body) = time(&app, c, path, runs).await;
        println!(
            "{:<48} {:>8.1}ms {:>8.1}ms {:>10}",
            format!("{path} ({who})"),
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            body.len()
        );
        if let Ok(dir) = std::env::var("ACCORD_TIMING_DUMP") {
            let name: String = format!("{who}{path}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{name}.html")),
                &body,
            )
            .unwrap();
        }
    }
}
