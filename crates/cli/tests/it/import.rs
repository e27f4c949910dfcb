//! `accord import crm` and `accord import calendar`: the fixture
//! organisation on both engines, JSON reports, exit codes, re-imports that
//! change nothing, and the real files of the shared data folder when it is
//! there.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::{accord, on_both_engines, scratch, stderr, stdout};

fn fixture(rel: &str) -> String {
    format!(
        "{}/../import/tests/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

fn total(report: &Value, kind: &str, what: &str) -> u64 {
    report["totals"][kind][what].as_u64().unwrap_or(0)
}

/// A calendar statistic summed over the files.
fn calendar_sum(report: &Value, what: &str) -> u64 {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["calendar"][what].as_u64().unwrap_or(0))
        .sum()
}

const MARCH: [&str; 4] = ["--from", "2025-03-01", "--to", "2025-03-31"];

fn import_calendar(url: &str, paths: &[&str]) -> Output {
    let mut args = vec!["--db", url, "import", "calendar"];
    args.extend(MARCH);
    args.push("--json");
    args.extend(paths);
    accord(&args)
}

#[test]
fn the_fixture_organisation_imports_and_a_second_run_changes_nothing() {
    on_both_engines(|url| {
        let o = accord(&["--db", url, "import", "crm", "--json", &fixture("generic")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = json(&o);
        assert_eq!(r["kind"], "crm");
        assert_eq!(r["files"].as_array().unwrap().len(), 3);
        assert_eq!(total(&r, "person", "inserted"), 8);
        assert_eq!(total(&r, "team", "inserted"), 4);
        assert_eq!(total(&r, "account", "inserted"), 3);
        assert_eq!(total(&r, "opportunity", "inserted"), 5);
        assert_eq!(r["files"][0]["status"], "imported");
        assert_eq!(r["files"][0]["kind"], "people");

        let o = import_calendar(url, &[&fixture("calendars")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = json(&o);
        assert_eq!(calendar_sum(&r, "customer_contacts"), 13);
        assert_eq!(calendar_sum(&r, "pm_contacts"), 9);
        assert_eq!(calendar_sum(&r, "violations"), 3);
        assert_eq!(total(&r, "meeting", "inserted"), 13);
        assert_eq!(total(&r, "decision", "inserted"), 3);
        assert_eq!(r["window"]["from"], "2025-03-01T00:00:00Z");
        assert_eq!(r["window"]["to"], "2025-04-01T00:00:00Z");

        // Again: everything unchanged, nothing new.
        let o = accord(&["--db", url, "import", "crm", "--json", &fixture("generic")]);
        let r = json(&o);
        assert_eq!(total(&r, "person", "unchanged"), 8);
        assert_eq!(total(&r, "opportunity", "unchanged"), 5);
        for kind in ["person", "team", "account", "opportunity"] {
            assert_eq!(total(&r, kind, "inserted") + total(&r, kind, "updated"), 0);
        }
        let o = import_calendar(url, &[&fixture("calendars")]);
        let r = json(&o);
        assert_eq!(total(&r, "meeting", "unchanged"), 13);
        assert_eq!(
            total(&r, "meeting", "inserted") + total(&r, "meeting", "updated"),
            0
        );
        assert_eq!(total(&r, "decision", "inserted"), 0);
        // And in words.
        let o = accord(&["--db", url, "import", "crm", &fixture("generic")]);
        assert_eq!(o.status.code(), Some(0));
        let text = stdout(&o);
        assert!(text.contains("person: 8 unchanged"), "{text}");
        assert!(
            text.trim_end()
                .ends_with("3 files: 3 imported, 0 failed, 0 skipped — nothing changed"),
            "{text}"
        );
        // The audit chain holds together after all of it.
        let o = accord(&["--db", url, "audit", "verify"]);
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    });
}

#[test]
fn a_failed_file_is_exit_1_located_and_the_others_still_import() {
    on_both_engines(|url| {
        let o = accord(&[
            "--db",
            url,
            "import",
            "crm",
            &fixture("generic/people.csv"),
            &fixture("generic/accounts.csv"),
            &fixture("bad/amount/opportunities.csv"),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("failed"), "{text}");
        assert!(
            text.contains("bad/amount/opportunities.csv:3:5:") && text.contains("\"12,x\""),
            "{text}"
        );
        assert!(text.contains("3 files: 2 imported, 1 failed"), "{text}");

        let o = import_calendar(
            url,
            &[
                &fixture("bad/truncated.ics"),
                &fixture("calendars/google.ics"),
            ],
        );
        assert_eq!(o.status.code(), Some(1));
        let r = json(&o);
        let files = r["files"].as_array().unwrap();
        let bad = files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with("truncated.ics"))
            .unwrap();
        assert_eq!(bad["status"], "failed");
        assert!(bad["error"]["line"].as_u64().is_some(), "{bad}");
        assert!(
            bad["error"]["message"]
                .as_str()
                .unwrap()
                .contains("truncated")
        );
        assert_eq!(total(&r, "meeting", "inserted"), 8);
    });
}

#[test]
fn bad_arguments_are_exit_2_before_anything_is_opened() {
    let db = std::env::temp_dir().join(format!("accord-cli-import-args-{}.db", std::process::id()));
    let url = format!("sqlite://{}", db.display());
    // A mapping that does not parse: its file, line and column.
    let o = accord(&[
        "--db",
        &url,
        "import",
        "crm",
        "--map",
        &fixture("bad/mapping.toml"),
        &fixture("generic"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad/mapping.toml:4:"), "{}", stderr(&o));
    let o = accord(&[
        "--db",
        &url,
        "import",
        "crm",
        "--map",
        "/no/such/mapping.toml",
        &fixture("generic"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/no/such/mapping.toml"),
        "{}",
        stderr(&o)
    );
    // Dates.
    let calendars = fixture("calendars");
    for args in [["--from", "2025-03-32"], ["--to", "yesterday"]] {
        let mut a = vec!["--db", url.as_str(), "import", "calendar"];
        a.extend(args);
        a.push(&calendars);
        let o = accord(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = accord(&[
        "--db",
        &url,
        "import",
        "calendar",
        "--from",
        "2025-04-01",
        "--to",
        "2025-03-01",
        &fixture("calendars"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the window is empty"), "{}", stderr(&o));
    // No path, an unknown format.
    assert_eq!(
        accord(&["--db", &url, "import", "crm"]).status.code(),
        Some(2)
    );
    let o = accord(&[
        "--db",
        &url,
        "import",
        "crm",
        "--format",
        "sap",
        &fixture("generic"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!db.exists(), "bad arguments must not create the database");
}

#[test]
fn a_mapping_imports_an_unusual_export() {
    let db = std::env::temp_dir().join(format!("accord-cli-import-map-{}.db", std::process::id()));
    let url = format!("sqlite://{}", db.display());
    let o = accord(&[
        "--db",
        &url,
        "import",
        "crm",
        "--json",
        "--map",
        &fixture("mapped/kundenstamm.toml"),
        &fixture("mapped"),
    ]);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&o);
    assert!(total(&r, "person", "inserted") > 0, "{r}");
    assert!(total(&r, "account", "inserted") > 0, "{r}");
    assert!(total(&r, "opportunity", "inserted") > 0, "{r}");
}

#[test]
fn nothing_is_animated_when_output_is_not_a_terminal() {
    let db = std::env::temp_dir().join(format!("accord-cli-import-tty-{}.db", std::process::id()));
    let url = format!("sqlite://{}", db.display());
    let cal = scratch(
        "import-tty.ics",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x@y\r\nDTSTART:20250310T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let mut args = vec!["--db", url.as_str(), "import", "calendar"];
    args.extend(MARCH);
    let cal = cal.display().to_string();
    args.push(&cal);
    let o = accord(&args);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains('\r') && !o.stdout.contains(&b'\r'));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("1 event read, 1 occurrence in the window (0 cancelled), 0 customer contacts, 0 PM contacts, 0 violations\n"),
        "{text}"
    );
    assert!(
        text.contains("no internal attendee") || text.contains("no customer attendee"),
        "{text}"
    );
}

fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: {} is not there; the real-data import tests have nothing to read",
            dir.display()
        );
        None
    }
}

/// Every real calendar imports or fails with a located error (never a
/// panic); the two Salesforce exports import with the Salesforce layout.
#[test]
fn real_exports_import_or_fail_located() {
    let Some(data) = shared_data() else { return };
    let db = std::env::temp_dir().join(format!("accord-cli-import-real-{}.db", std::process::id()));
    let url = format!("sqlite://{}", db.display());
    let crm = data.join("crm").display().to_string();
    let o = accord(&[
        "--db",
        &url,
        "import",
        "crm",
        "--format",
        "salesforce",
        "--json",
        &crm,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let r = json(&o);
    assert_eq!(total(&r, "account", "inserted"), 72, "{r}");
    assert_eq!(total(&r, "opportunity", "inserted"), 92, "{r}");
    let imported: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "imported")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(imported.len(), 4, "{imported:?}");
    let o = accord(&[
        "--db",
        &url,
        "import",
        "crm",
        "--format",
        "salesforce",
        "--json",
        &crm,
    ]);
    assert_eq!(total(&json(&o), "account", "unchanged"), 72);

    let ics = data.join("ics").display().to_string();
    let o = accord(&[
        "--db",
        &url,
        "import",
        "calendar",
        "--from",
        "1970-01-01",
        "--to",
        "2099-12-31",
        "--json",
        &ics,
    ]);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let code = o.status.code();
    assert!(matches!(code, Some(0 | 1)), "exit {code:?}: {}", stderr(&o));
    let r = json(&o);
    let files = r["files"].as_array().unwrap();
    let failed: Vec<&Value> = files.iter().filter(|f| f["status"] == "failed").collect();
    for f in &failed {
        assert!(
            f["error"]["line"].as_u64().is_some(),
            "a failed calendar must say where: {f}"
        );
    }
    assert_eq!(code == Some(1), !failed.is_empty());
    println!(
        "{} calendars: {} imported, {} failed",
        files.len(),
        files.len() - failed.len(),
        failed.len()
    );
    for f in &failed {
        println!(
            "  {}:{}: {}",
            f["path"].as_str().unwrap_or_default(),
            f["error"]["line"],
            f["error"]["message"].as_str().unwrap_or_default()
        );
    }
    assert!(files.len() - failed.len() > files.len() / 2);
}
