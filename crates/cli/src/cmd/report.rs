//! `accord report`: the signals, open alerts and violations, as a table a
//! sales leader reads in a terminal, as JSON (a stable contract), or CSV.

use std::fmt::Write;
use std::process::ExitCode;
use std::sync::Arc;

use accord_domain::signal::{Direction, SignalStatus};
use accord_service::signals::{Report, SignalLine};
use accord_service::{Caller, Service, SystemClock};
use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::db;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// table (grouped by team, worst first), json (the documented contract)
    /// or csv (one row per signal and subject).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The last day of the window (YYYY-MM-DD; default today).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Override every signal's window, in days.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3660))]
    window_days: Option<u32>,
    /// Only what concerns this team: its people, itself, its pairs.
    #[arg(long)]
    team: Option<String>,
}

pub(crate) async fn run(args: ReportArgs, cfg: &Config) -> Result<ExitCode> {
    let db = db::open(&cfg.database_url).await?;
    let svc = Service::open(db.store, Arc::new(SystemClock), cfg.settings()).await?;
    let as_of = args.as_of.unwrap_or_else(|| svc.now().date_naive());
    let report = svc
        .report(
            &Caller::Local("cli"),
            as_of,
            args.window_days,
            args.team.as_deref(),
        )
        .await?;
    svc.store().close().await;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv => print!("{}", csv(&report)),
        Format::Table => print!("{}", table(&report)),
    }
    Ok(ExitCode::SUCCESS)
}

fn fmt_value(l: &SignalLine, v: f64) -> String {
    if l.signal.contains("exposure") || (l.act > 1.0 || l.watch > 1.0) {
        format!("{v:.1}/mo")
    } else {
        format!("{:.0}%", v * 100.0)
    }
}

fn status(s: SignalStatus) -> &'static str {
    match s {
        SignalStatus::Act => "ACT",
        SignalStatus::Watch => "watch",
        SignalStatus::Ok => "ok",
        SignalStatus::InsufficientData => "n/a",
    }
}

/// The table: one block per team, its worst signals first.
pub(crate) fn table(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "accord report — as of {} (window {} days)",
        r.as_of, r.window_days
    );
    let _ = writeln!(
        out,
        "customer contacts: {} ({} with a PM) · violations: {} · open alerts: {}\n",
        r.contacts.customer_contacts,
        r.contacts.pm_contacts,
        r.violations_total,
        r.alerts.len()
    );
    let mut group = None;
    for l in &r.signals {
        if group.as_deref() != Some(l.group.as_str()) {
            group = Some(l.group.clone());
            let _ = writeln!(out, "{}", l.group);
            let _ = writeln!(
                out,
                "  {:<6} {:<26} {:<34} {:>8} {:>13}  thresholds",
                "status", "signal", "subject", "value", "count"
            );
        }
        let dir = if l.direction == Direction::Above {
            "≥"
        } else {
            "≤"
        };
        let count = if l.signal.contains("exposure") {
            format!("{:.0} contacts", l.numerator)
        } else {
            format!("{:.0}/{:.0}", l.numerator, l.denominator)
        };
        let subject: String = l.subject.chars().take(34).collect();
        let _ = writeln!(
            out,
            "  {:<6} {:<26} {:<34} {:>8} {:>13}  watch {dir}{} act {dir}{}",
            status(l.status),
            l.signal,
            subject,
            if l.status == SignalStatus::InsufficientData {
                "-".into()
            } else {
                fmt_value(l, l.value)
            },
            count,
            fmt_value(l, l.watch),
            fmt_value(l, l.act),
        );
    }
    if !r.alerts.is_empty() {
        let _ = writeln!(out, "\nOpen alerts");
        for a in &r.alerts {
            let _ = writeln!(
                out,
                "  {} {} {} ({}) since {}",
                a.signal,
                a.subject_kind,
                a.subject,
                a.state.as_str(),
                a.opened_at.format("%Y-%m-%d")
            );
        }
    }
    if !r.violations.is_empty() {
        let _ = writeln!(out, "\nLatest violations ({} in all)", r.violations_total);
        for v in r.violations.iter().take(15) {
            let _ = writeln!(
                out,
                "  {}  {:<26} {:<10} {:<30} {}",
                v.at.format("%Y-%m-%d"),
                v.rule,
                v.record_kind,
                v.person.as_deref().unwrap_or("-"),
                v.account.as_deref().unwrap_or("-")
            );
        }
    }
    out
}

fn csv(r: &Report) -> String {
    let mut out = String::from(
        "signal,subject_kind,subject,value,numerator,denominator,status,watch,act,window_days,group\n",
    );
    let q = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for l in &r.signals {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            q(&l.signal),
            q(&l.subject_kind),
            q(&l.subject),
            l.value,
            l.numerator,
            l.denominator,
            l.status,
            l.watch,
            l.act,
            l.window_days,
            q(&l.group)
        );
    }
    out
}
