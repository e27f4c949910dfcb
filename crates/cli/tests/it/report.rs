//! `accord report` after `accord import`: a small organisation whose
//! March meetings (tests/fixtures/report) give numbers worked out by hand,
//! on both engines; and `accord demo`, whose report must show every status.

use serde_json::Value;

use crate::{accord, on_both_engines, stderr, stdout};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/report/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn json(args: &[&str]) -> Value {
    let o = accord(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&o)))
}

/// (numerator, denominator, status) of one signal for one subject.
fn signal(report: &Value, id: &str, subject: &str) -> (f64, f64, String) {
    let s = report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signal"] == id && s["subject"] == subject)
        .unwrap_or_else(|| panic!("no {id} for {subject} in {report:#}"));
    (
        s["numerator"].as_f64().unwrap(),
        s["denominator"].as_f64().unwrap(),
        s["status"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn imported_meetings_give_the_expected_report() {
    on_both_engines(|url| {
        let o = accord(&[
            "--db",
            url,
            "import",
            "crm",
            &fixture("people.csv"),
            &fixture("accounts.csv"),
            &fixture("opportunities.csv"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let o = accord(&[
            "--db",
            url,
            "import",
            "calendar",
            "--from",
            "2025-03-01",
            "--to",
            "2025-04-30",
            &fixture("march.ics"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

        let r = json(&[
            "--db",
            url,
            "report",
            "--format",
            "json",
            "--as-of",
            "2025-03-31",
            "--window-days",
            "31",
        ]);
        assert_eq!(r["as_of"], "2025-03-31");
        assert_eq!(r["window_days"], 31);
        // Seven meetings of Ana's with a customer; one of Raj's alone with
        // his; the internal review and the April meeting do not count.
        assert_eq!(r["contacts"]["customer_contacts"], 8);
        assert_eq!(r["contacts"]["pm_contacts"], 7);
        let ana = "ana.lopez@northwind.example";
        // The owner was at 5 of Ana's 7 (Raj declined one and was not
        // invited to another): 0.71, under the act line of 0.75.
        assert_eq!(signal(&r, "owner-presence", ana), (5.0, 7.0, "act".into()));
        assert_eq!(
            signal(&r, "owner-presence-rep", "raj.patel@northwind.example"),
            (4.0, 6.0, "act".into())
        );
        // One contact is too few to judge Sara; seven too few for the pair.
        assert_eq!(
            signal(&r, "owner-presence-rep", "sara.kim@northwind.example"),
            (1.0, 1.0, "insufficient_data".into())
        );
        assert_eq!(
            signal(&r, "owner-presence-pair", "Product / EMEA Sales"),
            (5.0, 7.0, "insufficient_data".into())
        );
        // No insight captured from any of them.
        assert_eq!(signal(&r, "insight-capture", ana), (0.0, 7.0, "act".into()));
        // Seven contacts in 31 days is 6.8 a month: fine. Petra, the PM
        // lead, met no customer.
        let (n, d, s) = signal(&r, "pm-customer-exposure", ana);
        assert_eq!((n, s.as_str()), (7.0, "ok"));
        assert!((d - 31.0 / 30.0).abs() < 1e-9);
        assert_eq!(
            signal(&r, "pm-customer-exposure", "petra.novak@northwind.example").2,
            "act"
        );
        // The two contacts without the owner are violations of
        // owner-present, at their own dates, Ana's, at Acme.
        let v = r["violations"].as_array().unwrap();
        assert_eq!(v.len(), 2, "{v:#?}");
        assert_eq!(r["violations_total"], 2);
        for x in v {
            assert_eq!(x["rule"], "owner-present");
            assert_eq!(x["record_kind"], "meeting");
            assert_eq!(x["person"], ana);
            assert_eq!(x["account"], "Acme Corp");
        }
        assert_eq!(v[0]["at"], "2025-03-20T10:00:00Z");
        assert_eq!(v[1]["at"], "2025-03-18T10:00:00Z");

        // Importing the calendar again changes nothing in the report.
        let o = accord(&[
            "--db",
            url,
            "import",
            "calendar",
            "--from",
            "2025-03-01",
            "--to",
            "2025-04-30",
            &fixture("march.ics"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let again = json(&[
            "--db",
            url,
            "report",
            "--format",
            "json",
            "--as-of",
            "2025-03-31",
            "--window-days",
            "31",
        ]);
        assert_eq!(again["signals"], r["signals"]);
        assert_eq!(again["contacts"], r["contacts"]);
        assert_eq!(again["violations_total"], 2);

        // A team filter keeps what concerns the team; an unknown team is
        // an error that names it.
        let sales = json(&[
            "--db",
            url,
            "report",
            "--format",
            "json",
            "--as-of",
            "2025-03-31",
            "--window-days",
            "31",
            "--team",
            "EMEA Sales",
        ]);
        assert!(
            sales["signals"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["subject"] != ana)
        );
        assert!(
            sales["signals"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["subject"] == "raj.patel@northwind.example")
        );
        let o = accord(&["--db", url, "report", "--team", "Nobody"]);
        assert_ne!(o.status.code(), Some(0));
        assert!(stderr(&o).contains("Nobody"), "{}", stderr(&o));

        // The table: grouped by team, with the thresholds; CSV: a header
        // and a row per value.
        let o = accord(&[
            "--db",
            url,
            "report",
            "--as-of",
            "2025-03-31",
            "--window-days",
            "31",
        ]);
        let table = stdout(&o);
        assert!(
            table.contains("EMEA Sales") && table.contains("Product"),
            "{table}"
        );
        assert!(table.contains("ACT"), "{table}");
        let o = accord(&[
            "--db",
            url,
            "report",
            "--format",
            "csv",
            "--as-of",
            "2025-03-31",
            "--window-days",
            "31",
        ]);
        let csv = stdout(&o);
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("signal,subject_kind,subject,value,numerator,denominator,status")
        );
        assert_eq!(lines.count(), r["signals"].as_array().unwrap().len());
    });
}

#[test]
fn bad_report_arguments_are_named() {
    let o = accord(&["report", "--as-of", "31/03/2025"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--as-of"), "{}", stderr(&o));
    let o = accord(&["report", "--window-days", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--window-days"), "{}", stderr(&o));
}

#[test]
fn the_demo_report_shows_every_status() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-it");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("demo-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let o = accord(&[
        "--db",
        &url,
        "demo",
        "--no-serve",
        "--seed",
        "7",
        "--today",
        "2026-03-31",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for role in ["pm ", "pm_lead", "sales_rep", "sales_manager", "admin"] {
        assert!(out.contains(role), "no login for {role}: {out}");
    }
    let r = json(&[
        "--db",
        &url,
        "report",
        "--format",
        "json",
        "--as-of",
        "2026-03-31",
    ]);
    for status in ["ok", "watch", "act", "insufficient_data"] {
        assert!(
            r["signals"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["status"] == status),
            "no subject at {status}"
        );
    }
    assert!(
        !r["alerts"].as_array().unwrap().is_empty(),
        "the demo's patterns open alerts"
    );
    assert!(r["violations_total"].as_i64().unwrap() > 0);
    // A second demo on the same database is refused: it is not empty.
    let o = accord(&["--db", &url, "demo", "--no-serve"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
