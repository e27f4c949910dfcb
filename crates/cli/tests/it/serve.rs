//! `accord serve`, end to end: people and tokens made with the CLI, the
//! organisation created through the JSON API, and `curl` asking for a PM and
//! reading the playbook's decision — the way an integrator would.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{accord, stderr, stdout};

/// The server process; stopped (SIGTERM, then SIGKILL) however the test ends.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &PathBuf, url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["serve", "--bind", "127.0.0.1:0", "--db", url])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("ACCORD_BIND")
            .env_remove("ACCORD_DATABASE_URL")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
            .spawn()
            .expect("accord serve starts");
        // `accord is serving on http://127.0.0.1:PORT (database ...)`.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "accord serve said {line:?}; log: {}",
                    std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
                )
            })
            .to_owned();
        Server { child, base }
    }

    /// Asks the server to stop as an operator would (SIGTERM) and waits.
    fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("accord serve did not stop within 10 s of SIGTERM");
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

/// `curl` with a bearer token; returns the status and the JSON body.
fn curl(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--max-time",
        "20",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ])
    .args(["-H", &format!("Authorization: Bearer {token}")]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "-d", &b.to_string()]);
    }
    let o = cmd.arg(url).output().expect("curl runs");
    assert!(o.status.success(), "curl failed: {}", stderr(&o));
    let out = stdout(&o);
    let (body, code) = out.rsplit_once('\n').unwrap();
    (
        code.trim().parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// The secret `accord token create` prints (its own line).
fn token_for(url: &str, email: &str) -> String {
    let o = accord(&[
        "token", "create", "--user", email, "--name", "curl", "--db", url,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .find(|l| l.starts_with("acc_"))
        .unwrap_or_else(|| panic!("no token in {}", stdout(&o)))
        .to_owned()
}

#[test]
fn curl_against_a_fresh_accord_serve_sees_the_playbooks_decision() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-it")
        .join(format!("serve-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("accord.db").display());

    // People and tokens, from the machine that holds the database.
    for (email, role) in [
        ("ada.admin@example.com", "admin"),
        ("rita.rep@example.com", "sales_rep"),
        ("paula.pm@example.com", "pm"),
    ] {
        let o = accord(&[
            "user", "add", "--email", email, "--role", role, "--db", &url,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("password: "), "{}", stdout(&o));
    }
    let admin = token_for(&url, "ada.admin@example.com");
    let rep = token_for(&url, "rita.rep@example.com");

    let mut server = Server::start(&dir, &url);
    let api = format!("{}/api/v1", server.base);
    let (code, _) = curl("GET", &format!("{}/readyz", server.base), &admin, None);
    assert_eq!(code, 200);

    // The organisation, through the API as the admin.
    let (code, people) = curl("GET", &format!("{api}/people?q=rita"), &admin, None);
    assert_eq!(code, 200, "{people}");
    let rita = people["items"][0]["id"].clone();
    let (code, pm) = curl("GET", &format!("{api}/people?role=pm"), &admin, None);
    assert_eq!(code, 200);
    let paula = pm["items"][0]["id"].clone();
    let account = json!({
        "id": uuid::Uuid::now_v7(),
        "name": "Acme Corporation",
        "domains": ["acme.com"],
        "owner": rita,
    });
    let (code, account) = curl("POST", &format!("{api}/accounts"), &admin, Some(&account));
    assert_eq!(code, 200, "{account}");
    let opportunity = json!({
        "id": uuid::Uuid::now_v7(),
        "account": account["id"],
        "name": "Acme — analytics platform",
        "stage": "solution",
        "amount": 250000.0,
        "owner": rita,
        "created_at": chrono::Utc::now().to_rfc3339(),
    });
    let (code, opportunity) = curl(
        "POST",
        &format!("{api}/opportunities"),
        &admin,
        Some(&opportunity),
    );
    assert_eq!(code, 200, "{opportunity}");

    // The rep asks for a PM with curl and reads the playbook's decision.
    let needed_at = (chrono::Utc::now() + chrono::Duration::days(14)).to_rfc3339();
    let ask = |ty: &str| {
        json!({
            "opportunity": opportunity["id"],
            "pm": paula,
            "engagement_type": ty,
            "briefing": "Acme's CIO wants to hear where the analytics platform is going next year.",
            "needed_at": needed_at,
        })
    };
    let (code, out) = curl(
        "POST",
        &format!("{api}/requests"),
        &rep,
        Some(&ask("vision-presentation")),
    );
    assert_eq!(code, 201, "{out}");
    assert_eq!(out["request"]["state"], "requested");
    assert_eq!(out["decision"]["effect"], "audit");
    assert_eq!(out["decision"]["matched"][0]["rule"], "vision-on-record");
    // A demo is sales support: it waits for a PM lead's exception.
    let (code, out) = curl("POST", &format!("{api}/requests"), &rep, Some(&ask("demo")));
    assert_eq!(code, 201, "{out}");
    assert_eq!(out["request"]["state"], "needs_exception");
    assert_eq!(out["decision"]["effect"], "exception");
    assert_eq!(
        out["decision"]["matched"][0]["rule"],
        "pm-not-sales-support"
    );
    // The admin may not ask for a PM; nobody may without a token.
    let (code, p) = curl(
        "POST",
        &format!("{api}/requests"),
        &admin,
        Some(&ask("demo")),
    );
    assert_eq!((code, p["status"].as_u64()), (403, Some(403)));
    let (code, _) = curl("GET", &format!("{api}/requests"), "acc_not-a-token", None);
    assert_eq!(code, 401);
    let (code, list) = curl("GET", &format!("{api}/requests"), &rep, None);
    assert_eq!(code, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    // SIGTERM: a graceful, successful exit.
    let status = server.stop();
    assert!(status.success(), "accord serve exited with {status}");
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    assert!(log.contains("shutting down"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
