//! The main flows in a real browser: Debian's Chromium, driven through
//! chromedriver by thirtyfour, against the whole server on a loopback port
//! with the demo organisation. Each flow saves a screenshot when it fails
//! (under `target/tmp/browser-failures/`).
//!
//! Without chromedriver the tests skip with a notice, except under
//! `CI=true`, where they fail: `.ci/run` installs `chromium` and
//! `chromium-driver`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use accord_domain::id::Email;
use accord_domain::people::Person;
use accord_server::{ServerOptions, router, serve};
use accord_service::demo::DemoLogin;
use accord_service::{FixedClock, Principal, Service, Settings, SystemClock};
use accord_store::PageRequest;
use accord_testkit::TestDb;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

/// The demo's seed: its logins are `demo-<role>-42`.
const SEED: u64 = 42;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// chromedriver, if installed.
fn chromedriver() -> Option<PathBuf> {
    let found = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            !in_ci(),
            "CI needs chromedriver: apt-get install chromium chromium-driver"
        );
        eprintln!(
            "notice: skipping a browser test: chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
    }
    found
}

/// A SQLite file holding the demo organisation, made once per test run;
/// each test works on its own copy.
fn demo_template() -> &'static Path {
    &demo().0
}

/// The demo's logins, one per role.
fn demo_login(role: accord_domain::people::Role) -> &'static DemoLogin {
    demo().1.iter().find(|l| l.role == role).unwrap()
}

fn demo() -> &'static (PathBuf, Vec<DemoLogin>) {
    static TEMPLATE: OnceLock<(PathBuf, Vec<DemoLogin>)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = tmp().join(format!("browser-demo-{}.db", std::process::id()));
        let target = path.clone();
        let logins = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let db = TestDb::sqlite().await;
                let clock = Arc::new(FixedClock::at(chrono::Utc::now()));
                let service = Service::open(db.store(), clock.clone(), Settings::default())
                    .await
                    .unwrap();
                let summary = service
                    .seed_demo(&clock, SEED, chrono::Utc::now().date_naive())
                    .await
                    .unwrap();
                let _ = std::fs::remove_file(&target);
                db.execute(&format!("VACUUM INTO '{}'", target.display()))
                    .await;
                db.finish().await;
                summary.logins
            })
        })
        .join()
        .unwrap();
        (path, logins)
    })
}

/// One browser at a time: two cores do not run several Chromiums well.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The server on a copy of the demo and a browser session: what a flow
/// drives.
struct Session {
    base: String,
    service: Service,
    driver: WebDriver,
}

/// The chromedriver process and the database file behind a [`Session`],
/// ended after the flow, once its browser session is quit: chromedriver
/// closes its Chromium when the session is quit, and a chromedriver killed
/// first leaves it running (a dozen processes per flow, left over after
/// the tests).
struct Behind {
    chromedriver: Child,
    db: PathBuf,
}

/// The processes chromedriver started (its Chromium), from any of its
/// threads, by Linux's `/proc`; none where that cannot be read.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

impl Drop for Behind {
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

async fn session(name: &str, driver_path: &Path) -> (Session, Behind) {
    let db = tmp().join(format!("browser-{name}-{}.db", std::process::id()));
    std::fs::copy(demo_template(), &db).unwrap();
    let opened = accord_store_sqlite::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let settings = Settings {
        base_url: base.clone(),
        ..Settings::default()
    };
    let service = Service::open(opened.store, Arc::new(SystemClock), settings)
        .await
        .unwrap();
    let app = router(service.clone(), &ServerOptions::default());
    tokio::spawn(async move {
        let _ = serve(listener, app, std::future::pending()).await;
    });

    let port = free_port();
    let chromedriver = Command::new(driver_path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut caps = DesiredCapabilities::chrome();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--window-size=1280,900",
    ] {
        caps.add_arg(arg).unwrap();
    }
    if Path::new("/usr/bin/chromium").exists() {
        caps.set_binary("/usr/bin/chromium").unwrap();
    }
    let url = format!("http://127.0.0.1:{port}");
    let mut driver = None;
    for _ in 0..50 {
        match WebDriver::new(&url, caps.clone()).await {
            Ok(d) => {
                driver = Some(d);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let driver = driver.unwrap_or_else(|| panic!("chromedriver did not start on {url}"));
    driver
        .set_implicit_wait_timeout(Duration::from_secs(5))
        .await
        .unwrap();
    (
        Session {
            base,
            service,
            driver,
        },
        Behind { chromedriver, db },
    )
}

/// Runs a flow; on failure saves a screenshot and the page's HTML, then
/// fails the test.
async fn run<F, Fut>(name: &str, flow: F)
where
    F: FnOnce(Session) -> Fut,
    Fut: std::future::Future<Output = WebDriverResult<()>> + Send + 'static,
{
    let Some(driver_path) = chromedriver() else {
        return;
    };
    let _one = one_at_a_time().await;
    let (s, behind) = session(name, &driver_path).await;
    let browsers = children(behind.chromedriver.id());
    assert!(
        !browsers.is_empty() || !Path::new("/proc/self").exists(),
        "chromedriver started no browser"
    );
    let driver = s.driver.clone();
    let outcome = tokio::spawn(flow(s)).await;
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e}")),
        Err(e) => Some(format!("{e}")),
    };
    if let Some(why) = failure {
        let dir = tmp().join("browser-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let shot = dir.join(format!("{name}.png"));
        let _ = driver.screenshot(&shot).await;
        if let Ok(html) = driver.source().await {
            let _ = std::fs::write(dir.join(format!("{name}.html")), html);
        }
        let _ = driver.clone().quit().await;
        panic!(
            "browser flow {name} failed: {why}\nscreenshot: {}",
            shot.display()
        );
    }
    let _ = driver.quit().await;
    drop(behind);
    // No browser is left running after the tests.
    let running = || {
        browsers
            .iter()
            .filter(|p| Path::new(&format!("/proc/{p}")).exists())
            .count()
    };
    let mut waited = 0;
    while running() > 0 && waited < 50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(
        running(),
        0,
        "browser flow {name}: Chromium {browsers:?} still running 5 s after the flow"
    );
}

async fn person(service: &Service, email: &str) -> Person {
    let mut tx = service.store().read().await.unwrap();
    tx.person_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
}

fn password(role: &str) -> String {
    format!("demo-{}-{SEED}", role.replace('_', "-"))
}

async fn sign_in(s: &Session, email: &str, role: &str) -> WebDriverResult<()> {
    s.driver.goto(format!("{}/login", s.base)).await?;
    s.driver
        .find(By::Id("email"))
        .await?
        .send_keys(email)
        .await?;
    s.driver
        .find(By::Id("password"))
        .await?
        .send_keys(password(role))
        .await?;
    s.driver
        .find(By::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    // Signed in: the page has the sign-out button.
    s.driver.find(By::Css("form.who")).await?;
    Ok(())
}

const REP: &str = "victor.vance@ourco.example";
const PM: &str = "paula.reyes@ourco.example";

#[tokio::test(flavor = "multi_thread")]
async fn a_rep_asking_a_pm_for_a_demo_sees_the_sales_support_redirect() {
    run("rep_demo_redirect", |s| async move {
        sign_in(&s, REP, "sales_rep").await?;
        s.driver.goto(format!("{}/requests/new", s.base)).await?;
        let opp = SelectElement::new(&s.driver.find(By::Id("opportunity")).await?).await?;
        opp.select_by_index(1).await?;
        let ty = SelectElement::new(&s.driver.find(By::Id("engagement_type")).await?).await?;
        ty.select_by_value("demo").await?;
        s.driver
            .find(By::Id("briefing"))
            .await?
            .send_keys(
                "The customer's IT team wants to see the reporting module working end to end.",
            )
            .await?;
        s.driver.find(By::Id("check")).await?.click().await?;
        let advice = s
            .driver
            .find(By::Id("redirect-advice"))
            .await?
            .text()
            .await?;
        assert!(advice.contains("sales engineering"), "{advice}");
        // Nothing was sent: the check is a dry run.
        let page = s.driver.find(By::Css("main")).await?.text().await?;
        assert!(page.contains("What the playbook says"), "{page}");
        // Sent anyway, it waits for an exception.
        s.driver.find(By::Id("send")).await?.click().await?;
        let state = s.driver.find(By::Id("state")).await?.text().await?;
        assert_eq!(state, "needs exception");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pm_accepts_a_vision_briefing_request() {
    run("pm_accepts_vision", |s| async move {
        // The rep asks Paula for a vision presentation on a deal at a
        // stage where the playbook welcomes one.
        let rep = Principal::new(person(&s.service, REP).await);
        let pm = person(&s.service, PM).await;
        let active = s.service.playbook();
        let opps = s
            .service
            .list_opportunities(&rep, None, Some(rep.person.id), &PageRequest::first(500))
            .await
            .unwrap();
        let ty = accord_domain::id::EngagementTypeId::parse("vision-presentation").unwrap();
        let opp = opps
            .items
            .into_iter()
            .find(|o| active.playbook.stage(o.stage.as_str()).is_some_and(|st| st.allows(&ty)))
            .expect("a deal at a stage that allows a vision presentation");
        let asked = s
            .service
            .create_request(
                &rep,
                accord_service::requests::NewRequest {
                    id: None,
                    opportunity: opp.id,
                    pm: Some(pm.id),
                    engagement_type: "vision-presentation".into(),
                    purpose: None,
                    briefing: "Their board wants our three-year vision before they commit to the platform; the CIO will attend.".into(),
                    needed_at: chrono::Utc::now() + chrono::Duration::days(14),
                    exception_reason: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(asked.request.state, accord_domain::request::RequestState::Requested, "{:?}", asked.decision);
        let id = asked.request.id;

        sign_in(&s, PM, "pm").await?;
        s.driver.goto(format!("{}/inbox", s.base)).await?;
        s.driver.find(By::Css(format!("a[href='/requests/{id}']"))).await?.click().await?;
        let briefing = s.driver.find(By::Css("main")).await?.text().await?;
        assert!(briefing.contains("three-year vision"), "{briefing}");
        s.driver.find(By::Id("accept")).await?.click().await?;
        // The flash is on the page the answer leads to, not on this one:
        // waiting for it waits for that page (the state read at once could
        // be this page's).
        let flash = s.driver.find(By::Css(".flash")).await?.text().await?;
        assert!(flash.contains("Accepted"), "{flash}");
        let state = s.driver.find(By::Id("state")).await?.text().await?;
        assert_eq!(state, "accepted");
        Ok(())
    })
    .await;
}

/// Signs in as someone the demo gave no login, with a password set here.
async fn give_login(service: &Service, who: &Person) -> String {
    let password = format!("browser-{}-pass", who.role.as_str());
    service
        .add_user(
            &accord_service::Caller::Local("test"),
            accord_service::auth::NewUser {
                email: who.email.to_string(),
                name: None,
                role: None,
                password: Some(password.clone()),
            },
        )
        .await
        .unwrap();
    password
}

async fn sign_in_with(s: &Session, email: &str, password: &str) -> WebDriverResult<()> {
    // Whoever was signed in before is forgotten.
    s.driver.goto(format!("{}/login", s.base)).await?;
    s.driver.delete_all_cookies().await?;
    s.driver.goto(format!("{}/login", s.base)).await?;
    s.driver
        .find(By::Id("email"))
        .await?
        .send_keys(email)
        .await?;
    s.driver
        .find(By::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    s.driver
        .find(By::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    s.driver.find(By::Css("form.who")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rep_denies_access_and_the_alert_reaches_the_leaders_dashboard() {
    run("rep_denies_access", |s| async move {
        let svc = &s.service;
        let today = chrono::Utc::now().date_naive();
        let admin = Principal::new(person(svc, REP).await);
        let people = svc
            .list_people(&admin, &Default::default(), &PageRequest::first(1000))
            .await
            .unwrap()
            .items;
        // A rep with no restricted-access alert yet: the one whose record
        // is cleanest (the demo's Victor already has one).
        let values = svc.compute_signals(today, None).await.unwrap();
        let rate = |email: &str| {
            values
                .iter()
                .find(|v| v.signal.as_str() == "restricted-access" && v.subject == email)
                .map_or((0.0, 0.0), |v| (v.numerator, v.denominator))
        };
        let rep = people
            .iter()
            .filter(|p| {
                p.role == accord_domain::people::Role::SalesRep
                    && p.email.as_str() != REP
                    && p.manager.is_some()
            })
            .min_by(|a, b| {
                rate(a.email.as_str())
                    .0
                    .total_cmp(&rate(b.email.as_str()).0)
            })
            .unwrap()
            .clone();
        let manager = people
            .iter()
            .find(|p| Some(p.id) == rep.manager)
            .unwrap()
            .clone();
        let open_before = svc
            .store()
            .read()
            .await
            .unwrap()
            .open_alert_for("restricted-access", "rep", rep.email.as_str())
            .await
            .unwrap();
        assert!(
            open_before.is_none(),
            "{} already has a restricted-access alert",
            rep.name
        );
        let (denied, answered) = rate(rep.email.as_str());
        // Enough denials to cross the playbook's act line (40%, at least 4).
        let needed = (((0.4 * answered - denied) / 0.6).ceil() as usize)
            .max(4 - (answered as usize).min(4))
            .max(1);
        let accounts = svc
            .list_accounts(&admin, Some(rep.id), None, &PageRequest::first(50))
            .await
            .unwrap()
            .items;
        let pm = Principal::new(person(svc, PM).await);
        let mut asked = Vec::new();
        for i in 0..needed {
            let a = svc
                .create_access(
                    &pm,
                    accord_service::contacts::NewAccess {
                        account: accounts[i % accounts.len()].id,
                        purpose: accord_domain::access::AccessPurpose::Discovery,
                        agenda: format!("How their finance team closes the month, part {i}."),
                        wanted_at: Some(chrono::Utc::now() + chrono::Duration::days(10)),
                    },
                )
                .await
                .unwrap();
            asked.push(a.record.id);
        }

        // The rep answers each, in the browser.
        let rep_password = give_login(svc, &rep).await;
        sign_in_with(&s, rep.email.as_str(), &rep_password).await?;
        for id in &asked {
            s.driver.goto(format!("{}/access", s.base)).await?;
            s.driver
                .find(By::Id(format!("deny-reason-{id}")))
                .await?
                .send_keys("Not now: the renewal is at a delicate point.")
                .await?;
            s.driver
                .find(By::Id(format!("deny-{id}")))
                .await?
                .click()
                .await?;
            let flash = s.driver.find(By::Css(".flash")).await?.text().await?;
            assert!(flash.to_lowercase().contains("denied"), "{flash}");
        }

        // The nightly signal run, as the server's worker does it.
        svc.run_signals(today).await.unwrap();

        // The rep's manager signs in and finds the alert on the dashboard.
        let manager_password = give_login(svc, &manager).await;
        sign_in_with(&s, manager.email.as_str(), &manager_password).await?;
        s.driver.goto(format!("{}/dashboard", s.base)).await?;
        let alerts = s.driver.find(By::Id("alert-list")).await?.text().await?;
        let row = alerts
            .lines()
            .find(|l| l.contains("Restricted access (per rep)") && l.contains(&rep.name))
            .map(str::to_owned);
        assert!(
            row.is_some(),
            "no restricted-access alert about {} on the dashboard:\n{alerts}",
            rep.name
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pm_lead_approves_a_commitment() {
    run("lead_approves_commitment", |s| async move {
        let svc = &s.service;
        let pm = Principal::new(person(svc, PM).await);
        let accounts = svc
            .list_accounts(&pm, None, None, &PageRequest::first(5))
            .await
            .unwrap()
            .items;
        let logged = svc
            .log_commitment(
                &pm,
                accord_service::contacts::NewCommitment {
                    account: accounts[0].id,
                    meeting: None,
                    kind: accord_domain::commitment::CommitmentKind::Feature,
                    text: "Scheduled exports of the audit trail by the end of next quarter".into(),
                    to_whom: "their head of compliance".into(),
                    said_by: None,
                    present: vec![],
                    said_at: None,
                },
            )
            .await
            .unwrap();
        let id = logged.record.id;
        let lead = demo_login(accord_domain::people::Role::PmLead);
        sign_in_with(&s, &lead.email, &lead.password).await?;
        s.driver.goto(format!("{}/approvals", s.base)).await?;
        let list = s
            .driver
            .find(By::Id("commitment-list"))
            .await?
            .text()
            .await?;
        assert!(
            list.contains("Scheduled exports of the audit trail"),
            "{list}"
        );
        s.driver
            .find(By::Id(format!("note-commitment-{id}")))
            .await?
            .send_keys("Fits the Q3 plan; the team confirmed the date.")
            .await?;
        s.driver
            .find(By::Id(format!("approve-commitment-{id}")))
            .await?
            .click()
            .await?;
        let flash = s.driver.find(By::Css(".flash")).await?.text().await?;
        assert!(flash.to_lowercase().contains("approved"), "{flash}");
        s.driver
            .goto(format!("{}/commitments/{id}", s.base))
            .await?;
        let state = s
            .driver
            .find(By::Id("commitment-state"))
            .await?
            .text()
            .await?;
        assert_eq!(state, "approved");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_uploading_a_broken_playbook_sees_the_located_error() {
    run("admin_broken_playbook", |s| async move {
        let admin_person = Principal::new(
            person(
                &s.service,
                &demo_login(accord_domain::people::Role::Admin).email,
            )
            .await,
        );
        let good = s
            .service
            .current_playbook(&admin_person)
            .await
            .unwrap()
            .toml;
        let broken = good.replacen("effect = \"exception\"", "effect = \"explode\"", 1);
        let line = broken.lines().position(|l| l.contains("explode")).unwrap() + 1;
        let file = tmp().join(format!("broken-playbook-{}.toml", std::process::id()));
        std::fs::write(&file, &broken).unwrap();

        let admin = demo_login(accord_domain::people::Role::Admin);
        sign_in_with(&s, &admin.email, &admin.password).await?;
        s.driver.goto(format!("{}/admin/playbook", s.base)).await?;
        s.driver
            .find(By::Id("playbook-file"))
            .await?
            .send_keys(file.display().to_string())
            .await?;
        s.driver
            .find(By::Id("playbook-reason"))
            .await?
            .send_keys("A stronger effect for demos")
            .await?;
        s.driver
            .find(By::Id("upload-playbook"))
            .await?
            .click()
            .await?;
        let diagnostics = s.driver.find(By::Id("diagnostics")).await?.text().await?;
        let _ = std::fs::remove_file(&file);
        assert!(diagnostics.contains("nothing changed"), "{diagnostics}");
        assert!(
            diagnostics.contains(&format!("playbook.toml:{line}:")),
            "line {line} not named:\n{diagnostics}"
        );
        assert!(diagnostics.contains("explode"), "{diagnostics}");
        assert_eq!(
            s.service.playbook().version,
            1,
            "a refused playbook changed nothing"
        );
        Ok(())
    })
    .await;
}
