//! Fixtures and helpers shared by the test modules.

use std::path::PathBuf;

use accord_domain::Playbook;
use accord_domain::id::StageId;
use accord_import::ics::Window;
use chrono::{TimeZone, Utc};

/// A file under `tests/fixtures`.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(rel)
}

/// The default playbook's stage ids.
pub(crate) fn stages() -> Vec<StageId> {
    Playbook::default_playbook()
        .stages
        .iter()
        .map(|s| s.id.clone())
        .collect()
}

/// March 2025, UTC: the window the calendar fixtures are written for.
pub(crate) fn march_2025() -> Window {
    Window {
        from: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap(),
    }
}

/// A scratch folder under the system's temp dir, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "accord-import-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes a file and returns its path.
    pub(crate) fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every occurrence of a calendar in the window, and the summary.
pub(crate) fn read_all(
    path: &std::path::Path,
    window: &Window,
) -> (
    Vec<accord_import::ics::Occurrence>,
    accord_import::ics::CalendarSummary,
) {
    let mut out = Vec::new();
    let summary = accord_import::ics::read_calendar(path, window, |o| out.push(o)).unwrap();
    (out, summary)
}

/// A UTC time from `YYYY-MM-DDTHH:MM`.
pub(crate) fn utc(s: &str) -> chrono::DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .unwrap()
        .and_utc()
}
