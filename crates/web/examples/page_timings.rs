//! Server time of every role's pages on the demo organisation: each page
//! rendered through the whole router (sessions, CSRF, layout) in this
//! process, several times; the median and the worst time printed per page.
//! `bench/pages.sh` builds the demo and runs this; the target is a median
//! of at most 50 ms for every page (exit status 1 otherwise).
//!
//! ```text
//! accord --db sqlite:///tmp/demo.db demo --no-serve
//! cargo run --release -p accord-web --example page_timings -- sqlite:///tmp/demo.db
//! ```
//!
//! Who is who comes from the database: the demo's rep and PM (Victor and
//! Paula), and the first person of every other role. `ACCORD_TIMING_RUNS`
//! sets the runs per page (default 15), `ACCORD_TIMING_DUMP` a folder to
//! keep each page's HTML in, `ACCORD_TIMING_LIMIT_MS` the target (50),
//! `ACCORD_TIMING_ONLY` a part of the path of the only pages to time.

// An example that fails loudly is what an example should do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_domain::people::{Person, Role};
use accord_server::{ServerOptions, router};
use accord_service::{Principal, Service, Settings, SystemClock};
use accord_store::{MeetingFilter, PageRequest, PeopleFilter, RequestFilter};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

/// The person of `role` to sign in as: the one whose name starts with
/// `prefer` (the demo's named logins), else the first.
async fn someone(service: &Service, any: &Principal, role: Role, prefer: &str) -> Principal {
    let filter = PeopleFilter {
        role: Some(role),
        ..PeopleFilter::default()
    };
    let people: Vec<Person> = service
        .list_people(any, &filter, &PageRequest::first(500))
        .await
        .unwrap()
        .items;
    let p = people
        .iter()
        .find(|p| !prefer.is_empty() && p.name.starts_with(prefer))
        .or_else(|| people.first())
        .unwrap_or_else(|| {
            panic!(
                "nobody has the role {}: is this the demo's database?",
                role.as_str()
            )
        })
        .clone();
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
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let runs = env("ACCORD_TIMING_RUNS", 15).max(1);
    let limit = Duration::from_millis(env("ACCORD_TIMING_LIMIT_MS", 50) as u64);
    let opened = accord_store_sqlite::open(&url).await.unwrap();
    let service = Service::open(opened.store, Arc::new(SystemClock), Settings::default())
        .await
        .unwrap();
    let app = router(service.clone(), &ServerOptions::default());

    // Anyone may read the organisation: find one admin to look the others up.
    let admin = {
        let mut tx = service.store().read().await.unwrap();
        let filter = PeopleFilter {
            role: Some(Role::Admin),
            ..PeopleFilter::default()
        };
        let p = tx
            .list_people(&filter, &PageRequest::first(1))
            .await
            .unwrap()
            .items;
        Principal::new(
            p.into_iter()
                .next()
                .expect("an admin: is this the demo's database?"),
        )
    };
    let rep = someone(&service, &admin, Role::SalesRep, "Victor").await;
    let pm = someone(&service, &admin, Role::Pm, "Paula").await;
    let lead = someone(&service, &admin, Role::PmLead, "").await;
    let manager = someone(&service, &admin, Role::SalesManager, "").await;
    let engineer = someone(&service, &admin, Role::SalesEngineer, "").await;
    let constituent = someone(&service, &admin, Role::Constituent, "").await;

    let mut who: Vec<(&str, String)> = Vec::new();
    for (label, p) in [
        ("rep", &rep),
        ("PM", &pm),
        ("PM lead", &lead),
        ("sales manager", &manager),
        ("sales engineer", &engineer),
        ("constituent", &constituent),
        ("admin", &admin),
    ] {
        who.push((
            label,
            format!(
                "accord_session={}",
                service.start_session(p).await.unwrap().0
            ),
        ));
    }
    let cookie = |label: &str| {
        who.iter()
            .find(|(l, _)| *l == label)
            .map(|(_, c)| c.clone())
            .unwrap()
    };

    // Records to open: the rep's latest request, one of Paula's meetings
    // and access requests, an alert, an exception and a commitment.
    let first = PageRequest::first(1);
    let request = service
        .list_requests(
            &rep,
            &RequestFilter {
                requester: Some(rep.person.id),
                ..RequestFilter::default()
            },
            &first,
        )
        .await
        .unwrap()
        .items;
    let meeting = service
        .list_meetings(
            &pm,
            &MeetingFilter {
                person: Some(pm.person.id),
                ..MeetingFilter::default()
            },
            &first,
        )
        .await
        .unwrap()
        .items;
    let access = service
        .list_access(&pm, Some(pm.person.id), None, &first)
        .await
        .unwrap()
        .items;
    let alerts = service
        .alerts(&lead, false, false, &first)
        .await
        .unwrap()
        .items;
    let exception = service
        .list_exceptions(&lead, false, None, &first)
        .await
        .unwrap()
        .items;
    let commitment = service
        .list_commitments(&lead, None, false, &first)
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

    let mut pages: Vec<(&str, String)> = vec![
        ("rep", "/requests".into()),
        ("rep", "/requests/new".into()),
        ("rep", "/access".into()),
        ("rep", "/me".into()),
        ("PM", "/inbox".into()),
        ("PM", "/requests".into()),
        ("PM", "/access".into()),
        ("PM", "/access/new".into()),
        ("PM", "/meetings".into()),
        ("PM", "/meetings/new".into()),
        ("PM", "/time".into()),
        ("PM", "/me".into()),
        ("PM lead", "/dashboard".into()),
        ("sales manager", "/dashboard".into()),
        (
            "PM lead",
            format!(
                "/dashboard?team={}",
                form_urlencoded::byte_serialize(team.as_bytes()).collect::<String>()
            ),
        ),
        ("PM lead", "/alerts".into()),
        ("PM lead", "/approvals".into()),
        ("sales manager", "/approvals".into()),
        ("PM lead", "/reviews".into()),
        ("sales engineer", "/requests".into()),
        ("constituent", "/charter".into()),
        ("PM", "/charter".into()),
        ("rep", "/playbook".into()),
        ("admin", "/admin/people".into()),
        ("admin", "/admin/playbook".into()),
        ("admin", "/admin/playbook?from=1&to=1".into()),
        ("admin", "/admin/import".into()),
        ("admin", "/admin/tokens".into()),
        ("admin", "/admin/webhooks".into()),
    ];
    if let Some(r) = request.first() {
        pages.push(("rep", format!("/requests/{}", r.id)));
    }
    if let Some(m) = meeting.first() {
        pages.push(("PM", format!("/meetings/{}", m.meeting.id)));
    }
    if let Some(a) = access.first() {
        pages.push(("PM", format!("/access/{}", a.id)));
    }
    if let Some(a) = alerts.first() {
        pages.push(("PM lead", format!("/alerts/{}", a.id)));
    }
    if let Some(e) = exception.first() {
        pages.push(("PM lead", format!("/exceptions/{}", e.id)));
    }
    if let Some(c) = commitment.first() {
        pages.push(("PM lead", format!("/commitments/{}", c.id)));
    }

    // `ACCORD_TIMING_ONLY=/dashboard`: the pages whose path contains it.
    if let Ok(only) = std::env::var("ACCORD_TIMING_ONLY") {
        pages.retain(|(_, path)| path.contains(only.as_str()));
    }

    let build = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    println!(
        "{runs} runs per page, {build}; target: median <= {} ms",
        limit.as_millis()
    );
    println!(
        "{:<56} {:>10} {:>10} {:>10}",
        "page (as)", "median", "worst", "bytes"
    );
    let mut slow = Vec::new();
    let mut medians = Vec::new();
    for (label, path) in &pages {
        let (median, worst, body) = time(&app, &cookie(label), path, runs).await;
        medians.push(median);
        println!(
            "{:<56} {:>8.1}ms {:>8.1}ms {:>10}",
            format!("{path} ({label})"),
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            body.len()
        );
        if median > limit {
            slow.push(format!("{path} ({label})"));
        }
        if let Ok(dir) = std::env::var("ACCORD_TIMING_DUMP") {
            let name: String = format!("{label}{path}")
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
    medians.sort();
    println!(
        "{} pages: slowest median {:.1} ms",
        pages.len(),
        medians.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    if !slow.is_empty() {
        eprintln!("over {} ms: {}", limit.as_millis(), slow.join(", "));
        std::process::exit(1);
    }
}
