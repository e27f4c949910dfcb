//! `accord import crm|calendar`: the CRM and calendar exports an
//! organisation already has, into the database.
//!
//! Each file is imported in its own transaction: a file that fails is
//! reported with its path, line and what is wrong, and the others still
//! import. Exit codes: 0 when every file imported (or was skipped as a kind
//! accord does not read), 1 when some file failed, 2 for bad arguments (an
//! unreadable mapping, a window that ends before it starts).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use accord_service::import::{
    Counts, CrmFormat, FileReport, FileStatus, ImportReport, Mapping, Progress, Window,
};
use accord_service::{Caller, Service, SystemClock};
use anyhow::Result;
use chrono::{Days, NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::db;

#[derive(Debug, Subcommand)]
pub(crate) enum ImportCommand {
    /// Import people (and their teams), accounts and opportunities from CRM
    /// CSV exports. Files and folders (read for .csv files); people are
    /// imported first, then accounts, then opportunities. Records are
    /// matched by their CRM ids: importing the same files again changes
    /// nothing.
    Crm(CrmArgs),
    /// Import customer contacts from calendar .ics exports: every
    /// occurrence in the window with people of an account and of ours is
    /// stored and checked against the playbook; violations are recorded.
    /// Files and folders (read for .ics files).
    Calendar(CalendarArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CrmArgs {
    /// The export's column layout.
    #[arg(long, value_enum, default_value_t = Format::Generic)]
    format: Format,
    /// A TOML mapping for any other layout: which file is which, column
    /// names, stage and role values, date formats, defaults.
    #[arg(long = "map", value_name = "FILE")]
    map: Option<PathBuf>,
    /// Print the import report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// CSV files, or folders holding them.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CalendarArgs {
    /// The first day of the window (YYYY-MM-DD, UTC). Default: 365 days ago.
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// The last day of the window, included (YYYY-MM-DD, UTC). Default:
    /// 90 days ahead.
    #[arg(long, value_name = "DATE")]
    to: Option<NaiveDate>,
    /// Print the import report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// .ics files, or folders holding them.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Generic,
    Salesforce,
    Hubspot,
}

impl From<Format> for CrmFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Generic => CrmFormat::Generic,
            Format::Salesforce => CrmFormat::Salesforce,
            Format::Hubspot => CrmFormat::Hubspot,
        }
    }
}

/// The window of `--from` and `--to`: whole UTC days, `--to` included.
fn window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Window, String> {
    let today = Utc::now().date_naive();
    let from = from.unwrap_or_else(|| today - Days::new(365));
    let end = match to {
        Some(d) => d
            .checked_add_days(Days::new(1))
            .ok_or_else(|| format!("--to {d} is too far in the future"))?,
        None => today + Days::new(90),
    };
    if end <= from {
        return Err(format!(
            "the window is empty: --from {from} is after --to {}",
            end - Days::new(1)
        ));
    }
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    match (midnight(from), midnight(end)) {
        (Some(from), Some(to)) => Ok(Window { from, to }),
        _ => Err("the window's dates are out of range".to_owned()),
    }
}

pub(crate) async fn run(cmd: ImportCommand, cfg: &Config) -> Result<ExitCode> {
    // Arguments first: a bad one is exit 2 before the database is touched.
    enum Job {
        Crm(CrmArgs, Box<Option<Mapping>>),
        Calendar(CalendarArgs, Window),
    }
    let job = match cmd {
        ImportCommand::Crm(args) => {
            let mapping = match &args.map {
                Some(path) => match Mapping::read(path) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(ExitCode::from(2));
                    }
                },
                None => None,
            };
            Job::Crm(args, Box::new(mapping))
        }
        ImportCommand::Calendar(args) => match window(args.from, args.to) {
            Ok(w) => Job::Calendar(args, w),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
    };

    let db = db::open(&cfg.database_url).await?;
    let service = Service::open(db.store, Arc::new(SystemClock), cfg.settings()).await?;
    let caller = Caller::Local("import");
    let (report, json) = match job {
        Job::Crm(args, mapping) => {
            let mut display = Display::new(args.json, "rows");
            let report = service
                .import_crm(
                    &caller,
                    &args.paths,
                    args.format.into(),
                    (*mapping).as_ref(),
                    &mut |p| display.progress(p),
                )
                .await?;
            display.done();
            (report, args.json)
        }
        Job::Calendar(args, window) => {
            let mut display = Display::new(args.json, "occurrences");
            let report = service
                .import_calendar(&caller, &args.paths, window, &mut |p| display.progress(p))
                .await?;
            display.done();
            (report, args.json)
        }
    };
    service.store().close().await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", closing_line(&report));
    }
    Ok(if report.failed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Progress on stderr: a bar on a terminal, nothing animated otherwise;
/// each file's summary as it finishes (on stdout, unless the report goes
/// there as JSON).
struct Display {
    bar: Option<ProgressBar>,
    json: bool,
    unit: &'static str,
    current: String,
}

impl Display {
    fn new(json: bool, unit: &'static str) -> Display {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{pos}/{len} files] {elapsed} {wide_msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Display {
            bar,
            json,
            unit,
            current: String::new(),
        }
    }

    fn progress(&mut self, p: Progress) {
        match p {
            Progress::Files { total } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(total as u64);
                }
            }
            Progress::FileStarted { path, .. } => {
                self.current = path.display().to_string();
                if let Some(bar) = &self.bar {
                    bar.set_message(self.current.clone());
                }
            }
            Progress::Records { done, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{}: {done} {}", self.current, self.unit));
                }
            }
            Progress::FileDone { report, .. } => {
                let text = summary(&report);
                match &self.bar {
                    Some(bar) => {
                        bar.inc(1);
                        if self.json {
                            bar.println(text.trim_end());
                        } else {
                            bar.suspend(|| print!("{text}"));
                        }
                    }
                    // Without a terminal the JSON report says it all; the
                    // lines would only be noise on stderr.
                    None if self.json => {}
                    None => print!("{text}"),
                }
            }
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A file's closing summary, a few lines.
fn summary(f: &FileReport) -> String {
    let mut out = format!("{:<9} {}", f.status.to_string(), f.path.display());
    match f.status {
        FileStatus::Failed => {
            if let Some(e) = &f.error {
                out.push_str(&format!("\n  {e}"));
            }
        }
        FileStatus::Skipped => {
            if let Some(r) = &f.reason {
                out.push_str(&format!("\n  skipped: {r}"));
            }
        }
        FileStatus::Imported => {
            out.push_str(&format!(" ({})", f.kind));
            if let Some(c) = &f.calendar {
                out.push_str(&format!("\n  {c}"));
                if let Some(kept) = c.kept_note() {
                    out.push_str(&format!("\n  {kept}"));
                }
            }
            let records = records(&f.records);
            if !records.is_empty() {
                out.push_str(&format!("\n  {records}"));
            }
            for u in &f.unresolved {
                let effect = if u.left_out {
                    "rows left out"
                } else {
                    "kept without it"
                };
                out.push_str(&format!(
                    "\n  unresolved {}: {} ({effect})",
                    u.what, u.count
                ));
                for e in &u.examples {
                    out.push_str(&format!(
                        "\n    line {}: {:?}: {}",
                        e.line, e.value, e.reason
                    ));
                }
            }
            if let Some(c) = &f.calendar {
                for s in &c.skipped {
                    out.push_str(&format!(
                        "\n  skipped {}: {} (e.g. {})",
                        s.count,
                        s.reason,
                        s.examples.join("; ")
                    ));
                }
            }
        }
    }
    out.push('\n');
    out
}

/// `person: 8 new, 2 changed; team: 4 unchanged`.
fn records(records: &BTreeMap<&'static str, Counts>) -> String {
    let mut parts = Vec::new();
    for (kind, c) in records {
        let mut bits = Vec::new();
        for (n, what) in [
            (c.inserted, "new"),
            (c.updated, "changed"),
            (c.unchanged, "unchanged"),
            (c.stale, "older than stored"),
            (c.left_out, "left out"),
            (c.removed, "removed (no longer a customer contact)"),
        ] {
            if n > 0 {
                bits.push(format!("{n} {what}"));
            }
        }
        if !bits.is_empty() {
            parts.push(format!("{kind}: {}", bits.join(", ")));
        }
    }
    parts.join("; ")
}

/// The last line: files by status, and whether anything changed.
fn closing_line(r: &ImportReport) -> String {
    let n = r.files.len();
    format!(
        "{n} file{}: {} imported, {} failed, {} skipped — {}",
        if n == 1 { "" } else { "s" },
        r.imported(),
        r.failed(),
        r.skipped(),
        if r.changed() {
            let totals = records(&r.totals);
            format!("changed: {totals}")
        } else {
            "nothing changed".to_owned()
        }
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_is_whole_days_with_the_last_one_included() {
        let w = window(Some(d("2025-03-01")), Some(d("2025-03-31"))).unwrap();
        assert_eq!(w.from.to_rfc3339(), "2025-03-01T00:00:00+00:00");
        assert_eq!(w.to.to_rfc3339(), "2025-04-01T00:00:00+00:00");
        assert!(window(Some(d("2025-03-02")), Some(d("2025-03-01"))).is_err());
        assert!(window(Some(d("2025-03-01")), Some(d("2025-03-01"))).is_ok());
        let w = window(None, None).unwrap();
        assert_eq!((w.to - w.from).num_days(), 455);
    }
}
