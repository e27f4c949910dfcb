//! Real files from public projects, when the shared data folder is there:
//! every calendar reads or fails with a located error (never a panic), and
//! the Salesforce-layout exports read with the Salesforce layout.

use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use accord_import::crm::{CrmFile, CrmFormat, FileKind, collect_paths, read_crm_file};
use accord_import::ics::{self, Window, read_calendar};

use crate::common::{stages, utc};

fn data() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: {} is not there; the real-data tests have nothing to read",
            dir.display()
        );
        None
    }
}

#[test]
fn every_real_calendar_reads_or_fails_located() {
    let Some(data) = data() else { return };
    let files = ics::collect_paths(&[data.join("ics")]).unwrap();
    assert!(!files.is_empty());
    let window = Window {
        from: utc("1900-01-01T00:00"),
        to: utc("2100-01-01T00:00"),
    };
    let mut read = 0;
    let mut failed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut panicked = Vec::new();
    let mut report = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&data)
            .unwrap_or(path)
            .display()
            .to_string();
        let mut n = 0usize;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            read_calendar(path, &window, |_| n += 1)
        }));
        match outcome {
            Ok(Ok(summary)) => {
                read += 1;
                let skipped: Vec<String> = summary
                    .skipped
                    .iter()
                    .map(|(r, c, examples)| format!("{c}× {r} ({})", examples.join("; ")))
                    .collect();
                report.push(format!(
                    "  read   {name}: {} events, {} occurrences{}",
                    summary.events_read,
                    summary.occurrences_in_window,
                    if skipped.is_empty() {
                        String::new()
                    } else {
                        format!("; skipped {}", skipped.join(", "))
                    }
                ));
            }
            Ok(Err(e)) => {
                assert!(
                    e.0.line.is_some(),
                    "{name}: a calendar that fails must say where: {e}"
                );
                assert_eq!(n, 0, "{name}: nothing is emitted from a file that fails");
                report.push(format!("  failed {name}: {e}"));
                // Tally by the kind of failure, without its details.
                let kind =
                    e.0.message
                        .split(": ")
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                failed.entry(kind).or_default().push(name);
            }
            Err(_) => panicked.push(name),
        }
    }
    println!(
        "{} calendars: {read} read, {} failed",
        files.len(),
        failed.values().map(Vec::len).sum::<usize>()
    );
    for (why, names) in &failed {
        println!("  {} × {why}", names.len());
    }
    for line in &report {
        println!("{line}");
    }
    assert!(panicked.is_empty(), "the reader panicked on {panicked:?}");
    assert!(read > files.len() / 2, "most real calendars should read");
}

fn sf(path: &Path) -> CrmFile {
    read_crm_file(path, CrmFormat::Salesforce, None, &stages()).unwrap_or_else(|e| panic!("{e}"))
}

/// `sf data import tree` files: no `Id` column, accounts referenced as
/// `@AccountRefN`, the N-th account of Accounts.csv (as in Accounts.json).
#[test]
fn salesforce_apex_recipes_data_tree() {
    let Some(data) = data() else { return };
    let dir = data.join("crm/salesforce-apex-recipes");
    let accounts = sf(&dir.join("Accounts.csv"));
    assert_eq!(accounts.kind, Some(FileKind::Accounts));
    assert_eq!(accounts.accounts.len(), 50);
    assert_eq!(accounts.accounts[0].external.id, "AccountRef1");
    assert_eq!(accounts.accounts[0].name, "Zoonoodle 37");
    // Websites with paths become their domains.
    assert_eq!(accounts.accounts[0].domains[0].as_str(), "1688.com");
    assert!(accounts.accounts.iter().all(|a| a.domains.len() == 1));

    let opps = sf(&dir.join("Opportunities.csv"));
    assert_eq!(opps.rows_read, 50);
    // "Assigned dynamically" is no stage at all.
    assert_eq!((opps.opportunities.len(), opps.unresolved.len()), (42, 8));
    assert!(
        opps.unresolved
            .iter()
            .all(|u| u.what == "stage" && u.value == "Assigned dynamically")
    );
    let ids: HashSet<&str> = accounts
        .accounts
        .iter()
        .map(|a| a.external.id.as_str())
        .collect();
    assert!(
        opps.opportunities
            .iter()
            .all(|o| ids.contains(o.account.id.as_str()))
    );
    let first = &opps.opportunities[0];
    assert_eq!(first.external.id, "OpportunityRef1");
    assert_eq!(first.account.id, "AccountRef32");
    assert_eq!(
        (first.raw_stage.as_str(), first.stage.as_str()),
        ("Id. Decision Makers", "solution")
    );
    assert_eq!(first.amount, Some(119_373.34));
    // `Closed/Won` is read as Closed Won.
    assert!(
        opps.opportunities
            .iter()
            .any(|o| o.raw_stage == "Closed/Won" && o.stage.as_str() == "closed")
    );

    let contacts = sf(&dir.join("Contacts.csv"));
    assert_eq!(contacts.kind, None);
    println!(
        "apex-recipes: {} accounts, {} opportunities, {} unresolved",
        accounts.accounts.len(),
        opps.opportunities.len(),
        opps.unresolved.len()
    );
}

/// A Salesforce data export: BOM, 18-character ids, many empty system
/// columns, and files of kinds accord does not import.
#[test]
fn salesforce_data_cloud_workshop_export() {
    let Some(data) = data() else { return };
    let dir = data.join("crm/salesforce-data-cloud-workshop");
    let files = collect_paths(std::slice::from_ref(&dir)).unwrap();
    let read: Vec<CrmFile> = files.iter().map(|p| sf(p)).collect();
    let kinds: Vec<Option<FileKind>> = read.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds[..2],
        [Some(FileKind::Accounts), Some(FileKind::Opportunities)]
    );
    assert!(kinds[2..].iter().all(Option::is_none));
    assert!(read[2..].iter().all(|f| f.skipped_reason.is_some()));

    let accounts = &read[0];
    assert_eq!(accounts.accounts.len(), 22);
    let walker = &accounts.accounts[1];
    assert_eq!(walker.external.id, "001Ec00000GGw3hIAD");
    assert_eq!(walker.domains[0].as_str(), "walkerhensonandcompton.com");
    assert_eq!(
        walker.owner,
        Some(accord_import::crm::PersonRef::External(
            accord_domain::id::ExternalRef {
                source: "salesforce".into(),
                id: "005Ec000004oBPNIA2".into(),
            }
        ))
    );

    let opps = &read[1];
    assert_eq!((opps.opportunities.len(), opps.unresolved.len()), (50, 0));
    let ids: HashSet<&str> = accounts
        .accounts
        .iter()
        .map(|a| a.external.id.as_str())
        .collect();
    assert!(
        opps.opportunities
            .iter()
            .all(|o| ids.contains(o.account.id.as_str()))
    );
    let first = &opps.opportunities[0];
    assert_eq!(first.stage.as_str(), "qualification");
    assert_eq!(
        first.created,
        Some(utc("2024-01-22T16:14") + chrono::TimeDelta::seconds(25))
    );
    assert_eq!(
        first.close_date,
        chrono::NaiveDate::from_ymd_opt(2024, 11, 10)
    );
    let mut by_stage: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &opps.opportunities {
        *by_stage.entry(o.stage.as_str()).or_default() += 1;
    }
    println!(
        "data-cloud-workshop: {} files, stages {by_stage:?}",
        files.len()
    );
    assert_eq!(
        by_stage.into_iter().collect::<Vec<_>>(),
        [
            ("closed", 15),
            ("discovery", 9),
            ("negotiation", 9),
            ("proposal", 8),
            ("qualification", 9)
        ]
    );
}
