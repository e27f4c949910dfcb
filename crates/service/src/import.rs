//! Importing what organisations already have: CRM exports (people, teams,
//! accounts, opportunities) and calendar exports (customer contacts,
//! checked against the playbook as they are stored).
//!
//! The readers in `accord-import` turn files into rows and located
//! diagnostics; this module stores them. Its policies:
//!
//! - **Every file is atomic.** A file is imported in one write
//!   transaction: a reader error (a malformed file or value) or a store
//!   error rolls the whole file back, and the file is reported as failed
//!   with its diagnostic while the other files still import.
//! - **Re-importing changes nothing.** Records are matched by their ids in
//!   the source system (CRM rows) or by their natural key (a calendar
//!   occurrence's UID and start); a record that reads the same is
//!   `unchanged` and nothing is written for it — no row, no decision, no
//!   audit entry. The `import.file` audit entry that sums a file up is
//!   written only when the file changed something: the audit log records
//!   changes, and an import that changes nothing is not one (the report
//!   says so to whoever ran it). So a second import of the same files
//!   leaves the database exactly as it was.
//! - **Nothing is dropped in silence.** A reference that cannot be resolved
//!   (an owner, a manager, a stage, an account, a domain another account
//!   already has) is counted in the file's report with up to three
//!   examples; a row whose required reference is missing (an opportunity
//!   whose account is unknown) is left out and counted, one whose optional
//!   reference is missing (an account owner) is kept without it.
//! - **CRM audit:** one entry per record inserted or updated
//!   (`person.imported`, `team.imported`, `account.imported`,
//!   `opportunity.imported`, with the record before and after), plus the
//!   file's `import.file` summary.
//! - **Calendar audit:** only the file's `import.file` summary. A calendar
//!   file is one change made by one person, and a million-event export
//!   must not write a million chained audit entries (each takes the chain's
//!   head in turn); the per-contact record is the decision stored with
//!   each violation, and the meetings themselves carry their source.
//! - **Calendar decisions:** every customer contact is evaluated against
//!   the playbook in force (with the approved exceptions in force for it).
//!   A new contact's decision is stored when it is not `allow` (violations
//!   and flags). A changed contact's decision is stored when it says
//!   something else than the latest one stored about it — an `allow`
//!   included, so that a violation fixed by a newer version of the event
//!   is cleared —, and not when it says the same, so that a moved room
//!   does not count a violation twice. An unchanged or stale contact gets
//!   no new decision: a second import writes no new meetings and no new
//!   decisions. A contact's decision is dated at the meeting's start: it
//!   is about what happened then, and reports over a window count it then,
//!   however late the calendar was imported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use accord_domain::account::{Account, Opportunity};
use accord_domain::id::{
    AccountId, DecisionId, Email, ExternalRef, MeetingId, OpportunityId, PersonId, RuleId, StageId,
    TeamId,
};
use accord_domain::meeting::{Meeting, MeetingSource};
use accord_domain::people::{Person, Role, Team, TeamKind};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::rules::input::{AccountFacts, Input, MeetingInput, MeetingOrigin};
use accord_domain::rules::{Decision, Effect};
use accord_import::contact::{Classification, ContactInfo, Directory, classify};
use accord_import::crm::{
    self, AccountRow, CrmFile, FileKind, OpportunityRow, PersonRef, PersonRow, Unresolved,
};
use accord_import::diag::{Diagnostic, FileError};
use accord_import::ics::{self, CalendarSummary, Occurrence};
use accord_store::{
    ContactFlags, DecisionRecord, NoLongerContact, PageRequest, PeopleFilter, StoredMeeting, Tx,
    Upserted, Withdrawn,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

pub use accord_import::crm::{CrmFormat, Mapping};
pub use accord_import::ics::Window;

use crate::authz::{Action, Caller};
use crate::error::{Result, ServiceError};
use crate::{ActivePlaybook, Service, facts, record};

/// At most this many examples are kept of each kind of unresolved
/// reference or skipped occurrence.
const EXAMPLES: usize = 3;

/// Calendar contacts are handed from the reader to the transaction this
/// many at a time.
const BATCH: usize = 2048;

/// Batches the reader may run ahead of the database: a whole store batch
/// and a few more, so that the reader fills the next store batch while the
/// database writes the current one. With only 4 (8,192 contacts against a
/// store batch of 32,768) the two took turns, each idle while the other
/// worked: an import of 1,000,000 events took 14.4 s (median of 4) against
/// 14.0 s, for some 25 MB more at its peak.
const BATCHES_AHEAD: usize = STORE_BATCH / BATCH + 4;

/// Contacts stored at once, sorted (see `calendar_file`): about 32 MB of
/// meetings. The more contacts a batch holds, the more of them land on
/// each index page it loads: with 8,192, an import of 2,000,000 events
/// took 34 s, with 32,768 26 s (and 1,000,000 events 12.7 s against
/// 11.9 s); 65,536 was no faster and took 60 MB more.
const STORE_BATCH: usize = 1 << 15;

/// The first store batch, doubled batch after batch up to [`STORE_BATCH`]:
/// the database begins work as soon as the reader has a few contacts
/// instead of idling until it has a whole batch, while its indexes are
/// still small enough for batches this size to find their pages in the
/// cache. With a whole first batch, an import of 100,000 events read for
/// its first 0.45 s (of 1.27) with the database idle.
const FIRST_STORE_BATCH: usize = 1 << 12;

/// The reader hands over what it has at least every this many occurrences.
const PROGRESS_EVERY: u64 = 1 << 16;

// ---------------------------------------------------------------------------
// What an import reports.

/// Where an import stands, for a progress display.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// The files to import are known.
    Files {
        /// How many.
        total: usize,
    },
    /// A file begins.
    FileStarted {
        /// Its position, from 0.
        index: usize,
        /// The file.
        #[serde(serialize_with = "display_path")]
        path: PathBuf,
    },
    /// Records of the current file handled so far: CRM rows, or calendar
    /// occurrences read.
    Records {
        /// The file's position.
        index: usize,
        /// How many so far.
        done: u64,
    },
    /// A file is done (imported, failed or skipped).
    FileDone {
        /// Its position.
        index: usize,
        /// Its summary.
        report: Box<FileReport>,
    },
}

/// What an import did, file by file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// `crm` or `calendar`.
    pub kind: &'static str,
    /// The playbook version contacts were evaluated against (calendars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playbook_version: Option<i64>,
    /// The window occurrences were read for (calendars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowReport>,
    /// Every file, in the order they were imported.
    pub files: Vec<FileReport>,
    /// The record counts of all files together.
    pub totals: BTreeMap<&'static str, Counts>,
}

/// A calendar window, as reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WindowReport {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl ImportReport {
    /// Files that imported.
    pub fn imported(&self) -> usize {
        self.count(FileStatus::Imported)
    }

    /// Files that failed (and were rolled back).
    pub fn failed(&self) -> usize {
        self.count(FileStatus::Failed)
    }

    /// Files skipped (not a kind accord imports).
    pub fn skipped(&self) -> usize {
        self.count(FileStatus::Skipped)
    }

    /// Whether any file changed anything.
    pub fn changed(&self) -> bool {
        self.files.iter().any(FileReport::changed)
    }

    fn count(&self, status: FileStatus) -> usize {
        self.files.iter().filter(|f| f.status == status).count()
    }

    fn push(&mut self, file: FileReport) {
        for (kind, c) in &file.records {
            self.totals.entry(*kind).or_default().add(c);
        }
        self.files.push(file);
    }
}

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Its records were stored (or found unchanged).
    Imported,
    /// Nothing of it was stored: see its error.
    Failed,
    /// Not a file accord imports: see its reason.
    Skipped,
}

impl fmt::Display for FileStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileStatus::Imported => "imported",
            FileStatus::Failed => "failed",
            FileStatus::Skipped => "skipped",
        })
    }
}

/// One file's summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileReport {
    /// The file.
    #[serde(serialize_with = "display_path")]
    pub path: PathBuf,
    /// `people`, `accounts`, `opportunities`, `calendar`, or `unknown`
    /// for a CRM file that was skipped or could not be read.
    pub kind: &'static str,
    /// Imported, failed or skipped.
    pub status: FileStatus,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why it failed, located.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Located>,
    /// CRM rows read (records, not counting blank rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<usize>,
    /// What was stored, per record kind (`person`, `team`, `account`,
    /// `opportunity`, `meeting`, `decision`).
    pub records: BTreeMap<&'static str, Counts>,
    /// References that could not be resolved, by what they name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<UnresolvedRefs>,
    /// For calendars: what the file held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarStats>,
}

impl FileReport {
    fn new(path: &Path, kind: &'static str) -> FileReport {
        FileReport {
            path: path.to_path_buf(),
            kind,
            status: FileStatus::Imported,
            reason: None,
            error: None,
            rows_read: None,
            records: BTreeMap::new(),
            unresolved: Vec::new(),
            calendar: None,
        }
    }

    fn failed(path: &Path, kind: &'static str, error: Located) -> FileReport {
        FileReport {
            status: FileStatus::Failed,
            error: Some(error),
            ..FileReport::new(path, kind)
        }
    }

    /// Whether the file inserted or updated anything.
    pub fn changed(&self) -> bool {
        self.status == FileStatus::Imported
            && self
                .records
                .values()
                .any(|c| c.inserted + c.updated + c.removed > 0)
    }

    fn counts(&mut self, kind: &'static str) -> &mut Counts {
        self.records.entry(kind).or_default()
    }

    /// Records an unresolved reference.
    fn unresolved(&mut self, what: &str, left_out: bool, example: Example) {
        match self
            .unresolved
            .iter_mut()
            .find(|u| u.what == what && u.left_out == left_out)
        {
            Some(u) => {
                u.count += 1;
                if u.examples.len() < EXAMPLES {
                    u.examples.push(example);
                }
            }
            None => self.unresolved.push(UnresolvedRefs {
                what: what.to_owned(),
                left_out,
                count: 1,
                examples: vec![example],
            }),
        }
    }
}

/// What was stored of one record kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// New records.
    pub inserted: usize,
    /// Existing records, changed.
    pub updated: usize,
    /// Existing records that read the same: nothing written.
    pub unchanged: usize,
    /// Calendar occurrences older than the stored version (a lower
    /// SEQUENCE, an earlier LAST-MODIFIED): kept as stored.
    pub stale: usize,
    /// Rows left out because a required reference is missing (see the
    /// file's `unresolved`).
    pub left_out: usize,
    /// Calendar meetings removed: a newer version of their event is
    /// cancelled, or no longer a customer contact.
    pub removed: usize,
}

impl Counts {
    fn note(&mut self, how: Upserted) {
        match how {
            Upserted::Inserted => self.inserted += 1,
            Upserted::Updated => self.updated += 1,
            Upserted::Unchanged => self.unchanged += 1,
            Upserted::Stale => self.stale += 1,
        }
    }

    fn add(&mut self, other: &Counts) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.stale += other.stale;
        self.left_out += other.left_out;
        self.removed += other.removed;
    }
}

/// Unresolved references of one kind in one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnresolvedRefs {
    /// What they name: `owner`, `manager`, `account`, `stage`, `role`,
    /// `domain`, `person`.
    pub what: String,
    /// Whether the rows were left out (a required reference) or kept
    /// without it (an optional one).
    pub left_out: bool,
    /// How many.
    pub count: usize,
    /// The first few.
    pub examples: Vec<Example>,
}

/// One unresolved reference or skipped occurrence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    /// 1-based line in the file.
    pub line: usize,
    /// The value as written (a calendar event's UID).
    pub value: String,
    /// Why, and what to do about it.
    pub reason: String,
}

/// A located diagnostic, as reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Located {
    /// The file.
    #[serde(serialize_with = "display_path")]
    pub path: PathBuf,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (the CSV field number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The value at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl From<&Diagnostic> for Located {
    fn from(d: &Diagnostic) -> Self {
        Located {
            path: d.path.clone(),
            line: d.line,
            column: d.column,
            field: d.field.clone(),
            value: d.value.clone(),
            message: d.message.clone(),
        }
    }
}

impl From<&FileError> for Located {
    fn from(e: &FileError) -> Self {
        Located::from(e.diagnostic())
    }
}

impl Located {
    /// A failure of the whole file, without a line (a database error).
    fn file(path: &Path, message: impl Into<String>) -> Located {
        Located {
            path: path.to_path_buf(),
            line: None,
            column: None,
            field: None,
            value: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The reader's own format: `path:line:col: message (field, value)`.
        let mut d = Diagnostic::new(&self.path, self.message.clone());
        d.line = self.line;
        d.column = self.column;
        d.field.clone_from(&self.field);
        d.value.clone_from(&self.value);
        d.fmt(f)
    }
}

/// What a calendar file held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CalendarStats {
    /// VEVENT components read (masters, overrides and copies).
    pub events_read: usize,
    /// Occurrences starting in the window.
    pub occurrences_in_window: usize,
    /// Of those, cancelled ones (not contacts).
    pub cancelled: usize,
    /// Customer contacts: an account's people and ours, both present.
    pub customer_contacts: usize,
    /// Of those, with a PM or PM lead present.
    pub pm_contacts: usize,
    /// Contacts the playbook says should not have happened as they did:
    /// a `deny` or `exception` decision (owner-present, with the default
    /// playbook).
    pub violations: usize,
    /// Contacts with a `warn` or `audit` decision.
    pub flagged: usize,
    /// Stored meetings whose event is no longer a customer contact, kept
    /// because insights, commitments or exceptions refer to them.
    pub kept_referenced: usize,
    /// What was not a contact, or could not be read, and why.
    pub skipped: Vec<Skipped>,
}

impl CalendarStats {
    /// Stored meetings kept though no longer customer contacts, as a
    /// sentence; `None` when there are none.
    pub fn kept_note(&self) -> Option<String> {
        match self.kept_referenced {
            0 => None,
            1 => Some(
                "1 stored meeting is no longer a customer contact but was kept: insights, commitments or exceptions refer to it"
                    .to_owned(),
            ),
            n => Some(format!(
                "{n} stored meetings are no longer customer contacts but were kept: insights, commitments or exceptions refer to them"
            )),
        }
    }
}

/// The counts in a line, as the CLI and the web UI show them: "3 events
/// read, 10 occurrences in the window (1 cancelled), 2 customer contacts,
/// 1 PM contact, 0 violations", and how many were flagged when some were.
impl fmt::Display for CalendarStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} in the window ({} cancelled), {}, {}, {}",
            counted(self.events_read, "event read", "events read"),
            counted(self.occurrences_in_window, "occurrence", "occurrences"),
            self.cancelled,
            counted(
                self.customer_contacts,
                "customer contact",
                "customer contacts"
            ),
            counted(self.pm_contacts, "PM contact", "PM contacts"),
            counted(self.violations, "violation", "violations"),
        )?;
        if self.flagged > 0 {
            write!(f, ", {} flagged", self.flagged)?;
        }
        Ok(())
    }
}

/// `n` and what is counted, in the singular for one.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Occurrences or events left out for one reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Why.
    pub reason: String,
    /// How many.
    pub count: usize,
    /// The first few (`uid (line N)`, or the reader's own examples).
    pub examples: Vec<String>,
}

fn display_path<S: Serializer>(p: &Path, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&p.display())
}

// ---------------------------------------------------------------------------
// CRM.

/// The CRM files to import, in the order they must be.
enum CrmEntry {
    Read(Box<CrmFile>),
    Failed(PathBuf, FileError),
}

impl CrmEntry {
    fn order(&self) -> u8 {
        match self {
            CrmEntry::Read(f) => match f.kind {
                Some(FileKind::People) => 0,
                Some(FileKind::Accounts) => 1,
                Some(FileKind::Opportunities) => 2,
                None => 3,
            },
            CrmEntry::Failed(..) => 3,
        }
    }
}

/// Looks people up by the references CRM rows use, through the file's own
/// rows first and the store second.
#[derive(Default)]
struct People {
    by_email: HashMap<Email, PersonId>,
    by_external: HashMap<ExternalRef, PersonId>,
}

impl People {
    async fn resolve(&mut self, tx: &mut dyn Tx, r: &PersonRef) -> Result<Option<PersonId>> {
        Ok(match r {
            PersonRef::Email(e) => match self.by_email.get(e) {
                Some(id) => Some(*id),
                None => {
                    let found = tx.person_by_email(e).await?.map(|p| p.id);
                    if let Some(id) = found {
                        self.by_email.insert(e.clone(), id);
                    }
                    found
                }
            },
            PersonRef::External(x) => match self.by_external.get(x) {
                Some(id) => Some(*id),
                None => {
                    let found = tx.person_by_external(x).await?.map(|p| p.id);
                    if let Some(id) = found {
                        self.by_external.insert(x.clone(), id);
                    }
                    found
                }
            },
        })
    }
}

fn person_ref_text(r: &PersonRef) -> String {
    match r {
        PersonRef::Email(e) => e.to_string(),
        PersonRef::External(x) => format!("{} {}", x.source, x.id),
    }
}

fn example(line: usize, value: impl Into<String>, reason: impl Into<String>) -> Example {
    Example {
        line,
        value: value.into(),
        reason: reason.into(),
    }
}

/// Whether a reader's unresolved reference left its row out: a required
/// one (a role, a stage, an account) does; an owner does not.
fn reader_left_out(u: &Unresolved) -> bool {
    matches!(u.what.as_str(), "role" | "stage" | "account")
}

/// The team kind of its members' roles.
fn team_kind(roles: &[Role]) -> TeamKind {
    if !roles.is_empty() && roles.iter().all(|r| r.is_product()) {
        TeamKind::Product
    } else if !roles.is_empty() && roles.iter().all(|r| r.is_sales()) {
        TeamKind::Sales
    } else {
        TeamKind::Other
    }
}

impl Service {
    /// Imports CRM exports: people (and their teams), accounts and
    /// opportunities, matched by their ids in the source system. Folders
    /// are read for their `.csv` files; files are imported people first,
    /// then accounts, then opportunities, each in its own transaction.
    #[tracing::instrument(skip_all, fields(paths = paths.len(), format = %format))]
    pub async fn import_crm(
        &self,
        caller: &Caller,
        paths: &[PathBuf],
        format: CrmFormat,
        mapping: Option<&Mapping>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        caller.require(Action::Import)?;
        let active = self.playbook();
        let stages: Vec<StageId> = active
            .playbook
            .stages
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let paths = paths.to_vec();
        let mapping = mapping.cloned();
        // Reading is file I/O and parsing: off the async threads.
        let mut entries = tokio::task::spawn_blocking(move || {
            let mut seen = HashSet::new();
            let mut entries = Vec::new();
            for p in &paths {
                match crm::collect_paths(std::slice::from_ref(p)) {
                    Ok(files) => {
                        for f in files {
                            if !seen.insert(f.clone()) {
                                continue;
                            }
                            entries.push(
                                match crm::read_crm_file(&f, format, mapping.as_ref(), &stages) {
                                    Ok(file) => CrmEntry::Read(Box::new(file)),
                                    Err(e) => CrmEntry::Failed(f, e),
                                },
                            );
                        }
                    }
                    Err(e) => entries.push(CrmEntry::Failed(p.clone(), e)),
                }
            }
            entries
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("reading the CRM files failed: {e}")))?;
        entries.sort_by_key(CrmEntry::order);

        let mut report = ImportReport {
            kind: "crm",
            ..ImportReport::default()
        };
        progress(Progress::Files {
            total: entries.len(),
        });
        for (index, entry) in entries.into_iter().enumerate() {
            let file = match entry {
                CrmEntry::Failed(path, e) => {
                    progress(Progress::FileStarted {
                        index,
                        path: path.clone(),
                    });
                    FileReport::failed(&path, "unknown", Located::from(&e))
                }
                CrmEntry::Read(file) => {
                    progress(Progress::FileStarted {
                        index,
                        path: file.path.clone(),
                    });
                    self.crm_file(caller, &file, index, progress).await
                }
            };
            tracing::info!(path = %file.path.display(), status = %file.status, "CRM file");
            progress(Progress::FileDone {
                index,
                report: Box::new(file.clone()),
            });
            report.push(file);
        }
        Ok(report)
    }

    /// One CRM file, in its own transaction.
    async fn crm_file(
        &self,
        caller: &Caller,
        file: &CrmFile,
        index: usize,
        progress: &mut dyn FnMut(Progress),
    ) -> FileReport {
        let Some(kind) = file.kind else {
            return FileReport {
                status: FileStatus::Skipped,
                reason: file.skipped_reason.clone(),
                ..FileReport::new(&file.path, "unknown")
            };
        };
        let mut report = FileReport::new(&file.path, kind.as_str());
        report.rows_read = Some(file.rows_read);
        let record_kind = match kind {
            FileKind::People => "person",
            FileKind::Accounts => "account",
            FileKind::Opportunities => "opportunity",
        };
        report.counts(record_kind);
        for u in &file.unresolved {
            let left_out = reader_left_out(u);
            if left_out {
                report.counts(record_kind).left_out += 1;
            }
            report.unresolved(&u.what, left_out, example(u.line, &u.value, &u.reason));
        }
        let outcome = async {
            let mut tx = self.store().write_long().await?;
            let mut import = CrmImport {
                tx: tx.as_mut(),
                at: self.now(),
                actor: caller.actor(),
                report: &mut report,
                people: People::default(),
            };
            match kind {
                FileKind::People => import.people(&file.people).await?,
                FileKind::Accounts => import.accounts(&file.accounts).await?,
                FileKind::Opportunities => import.opportunities(&file.opportunities).await?,
            }
            if report.changed() {
                record::audit(
                    tx.as_mut(),
                    self.now(),
                    &caller.actor(),
                    "import.file",
                    "import",
                    file.path.display(),
                    None::<&()>,
                    Some(&report),
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<(), ServiceError>(())
        }
        .await;
        progress(Progress::Records {
            index,
            done: file.rows_read as u64,
        });
        match outcome {
            Ok(()) => report,
            Err(e) => FileReport::failed(&file.path, kind.as_str(), store_failure(&file.path, &e)),
        }
    }

    // -----------------------------------------------------------------------
    // Calendars.

    /// Imports calendar exports: every occurrence in `window` that is a
    /// customer contact is stored as a meeting and evaluated against the
    /// playbook in force. Folders are read for their `.ics` files; each
    /// file is imported in its own transaction.
    #[tracing::instrument(skip_all, fields(paths = paths.len(), from = %window.from, to = %window.to))]
    pub async fn import_calendar(
        &self,
        caller: &Caller,
        paths: &[PathBuf],
        window: Window,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        caller.require(Action::Import)?;
        let active = self.playbook();
        let mut files: Vec<std::result::Result<PathBuf, (PathBuf, FileError)>> = Vec::new();
        let mut seen = HashSet::new();
        for p in paths {
            match ics::collect_paths(std::slice::from_ref(p)) {
                Ok(found) => {
                    files.extend(found.into_iter().filter(|f| seen.insert(f.clone())).map(Ok))
                }
                Err(e) => files.push(Err((p.clone(), e))),
            }
        }
        let mut report = ImportReport {
            kind: "calendar",
            playbook_version: Some(active.version),
            window: Some(WindowReport {
                from: window.from,
                to: window.to,
            }),
            ..ImportReport::default()
        };
        progress(Progress::Files { total: files.len() });
        for (index, f) in files.into_iter().enumerate() {
            let file = match f {
                Ok(path) => {
                    progress(Progress::FileStarted {
                        index,
                        path: path.clone(),
                    });
                    self.calendar_file(caller, &active, &path, window, index, progress)
                        .await
                }
                Err((path, e)) => {
                    progress(Progress::FileStarted {
                        index,
                        path: path.clone(),
                    });
                    FileReport::failed(&path, "calendar", Located::from(&e))
                }
            };
            tracing::info!(path = %file.path.display(), status = %file.status, "calendar file");
            progress(Progress::FileDone {
                index,
                report: Box::new(file.clone()),
            });
            report.push(file);
        }
        Ok(report)
    }

    /// One calendar file, in its own transaction: the reader runs on a
    /// blocking thread and hands classified, evaluated contacts over in
    /// batches, which are stored as they come.
    async fn calendar_file(
        &self,
        caller: &Caller,
        active: &Arc<ActivePlaybook>,
        path: &Path,
        window: Window,
        index: usize,
        progress: &mut dyn FnMut(Progress),
    ) -> FileReport {
        let mut report = FileReport::new(path, "calendar");
        report.counts("meeting");
        report.counts("decision");
        let mut tx = match self.store().write_long().await {
            Ok(tx) => tx,
            Err(e) => {
                return FileReport::failed(
                    path,
                    "calendar",
                    store_failure(path, &ServiceError::from(e)),
                );
            }
        };
        let setup = match CalendarSetup::load(tx.as_mut(), self.now()).await {
            Ok(s) => Arc::new(s),
            Err(e) => return FileReport::failed(path, "calendar", store_failure(path, &e)),
        };

        let (sender, mut batches) = tokio::sync::mpsc::channel::<Batch>(BATCHES_AHEAD);
        // Its own thread, not one of the runtime's blocking pool: it lowers
        // its priority, which it cannot raise again.
        let (done, reader) = tokio::sync::oneshot::channel();
        let spawned = {
            let setup = Arc::clone(&setup);
            let active = Arc::clone(active);
            let path = path.to_path_buf();
            std::thread::Builder::new()
                .name("calendar-reader".into())
                .spawn(move || {
                    lower_priority();
                    let _ = done.send(read_contacts(&path, &window, &setup, &active, &sender));
                })
        };
        if let Err(e) = spawned {
            return FileReport::failed(
                path,
                "calendar",
                Located::file(path, format!("cannot start the calendar reader: {e}")),
            );
        }

        let now = self.now();
        let mut stats = CalendarStats::default();
        let mut failure: Option<ServiceError> = None;
        // Contacts are stored many at a time, in the order of their ids
        // (which begin with the occurrence's time): a calendar lists its
        // events in no useful order, and a batch sorted this way fills the
        // meeting indexes page after page instead of all over the tree —
        // on a large import, the difference between the page cache and the
        // disk. The batch bounds the memory an import takes.
        let mut pending: Vec<Contact> = Vec::with_capacity(STORE_BATCH);
        let mut gone: Vec<NoLongerContact> = Vec::new();
        let mut store_at = FIRST_STORE_BATCH;
        let mut open = true;
        while open {
            let next = batches.recv().await;
            match next {
                Some(batch) => {
                    pending.extend(batch.contacts);
                    gone.extend(batch.gone);
                    progress(Progress::Records {
                        index,
                        done: batch.read,
                    });
                }
                None => open = false,
            }
            // The occurrences that are not contacts go after the contacts
            // read before them: of two versions of one occurrence, the
            // store then keeps the newer, whichever it is.
            let withdraw = gone.len() >= STORE_BATCH || (!open && !gone.is_empty());
            if pending.len() >= store_at || ((withdraw || !open) && !pending.is_empty()) {
                store_at = (store_at * 2).min(STORE_BATCH);
                let mut contacts = std::mem::replace(&mut pending, Vec::with_capacity(store_at));
                contacts.sort_unstable_by_key(|c| c.meeting.meeting.id);
                let stored = store_batch(
                    tx.as_mut(),
                    &setup,
                    active,
                    now,
                    contacts,
                    &mut report,
                    &mut stats,
                )
                .await;
                if let Err(e) = stored {
                    failure = Some(e);
                    break;
                }
            }
            if withdraw {
                let gone = std::mem::take(&mut gone);
                match tx.withdraw_calendar_meetings(&gone).await {
                    Ok(done) => {
                        for (_, how) in done {
                            match how {
                                Withdrawn::Removed => report.counts("meeting").removed += 1,
                                Withdrawn::Stale => report.counts("meeting").stale += 1,
                                Withdrawn::Referenced => stats.kept_referenced += 1,
                            }
                        }
                    }
                    Err(e) => {
                        failure = Some(e.into());
                        break;
                    }
                }
            }
        }
        // Closing the channel tells the reader (after a failure) to stop
        // handing over contacts; it still reads to the end of the file.
        drop(batches);
        let read = match reader.await {
            Ok(read) => read,
            // The thread ended without a result: it panicked.
            Err(_) => {
                return FileReport::failed(
                    path,
                    "calendar",
                    Located::file(path, "the calendar reader stopped unexpectedly"),
                );
            }
        };
        if let Some(e) = failure {
            return FileReport::failed(path, "calendar", store_failure(path, &e));
        }
        let summary = match read.summary {
            Ok(s) => s,
            Err(e) => return FileReport::failed(path, "calendar", Located::from(&e)),
        };
        stats.events_read = summary.events_read;
        stats.occurrences_in_window = summary.occurrences_in_window;
        stats.cancelled = summary.cancelled;
        stats.customer_contacts = read.contacts;
        stats.pm_contacts = read.pm_contacts;
        stats.skipped = skipped_list(&summary, read.not_contacts);
        report.calendar = Some(stats);

        let finish = async {
            if report.changed() {
                record::audit(
                    tx.as_mut(),
                    self.now(),
                    &caller.actor(),
                    "import.file",
                    "import",
                    path.display(),
                    None::<&()>,
                    Some(&report),
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<(), ServiceError>(())
        };
        match finish.await {
            Ok(()) => report,
            Err(e) => FileReport::failed(path, "calendar", store_failure(path, &e)),
        }
    }
}

/// A store error as a file's failure.
fn store_failure(path: &Path, e: &ServiceError) -> Located {
    let message = match e {
        ServiceError::Internal(m) | ServiceError::Unavailable(m) | ServiceError::Conflict(m) => {
            format!("the database refused this file, nothing of it was stored: {m}")
        }
        other => format!("the database refused this file, nothing of it was stored: {other}"),
    };
    Located::file(path, message)
}

/// One CRM file's import, inside its transaction.
struct CrmImport<'a> {
    tx: &'a mut dyn Tx,
    at: DateTime<Utc>,
    actor: accord_store::Actor,
    report: &'a mut FileReport,
    people: People,
}

impl CrmImport<'_> {
    async fn audit<T: Serialize>(
        &mut self,
        action: &str,
        kind: &str,
        id: impl fmt::Display,
        how: Upserted,
        before: Option<&T>,
        after: &T,
    ) -> Result<()> {
        if matches!(how, Upserted::Inserted | Upserted::Updated) {
            record::audit(
                &mut *self.tx,
                self.at,
                &self.actor,
                action,
                kind,
                id,
                before,
                Some(after),
            )
            .await?;
        }
        Ok(())
    }

    /// People, their teams (created from the team names) and managers.
    async fn people(&mut self, rows: &[PersonRow]) -> Result<()> {
        // Who each row is: the stored person it matches, or a new id.
        let mut kept: Vec<(&PersonRow, Option<Person>, PersonId)> = Vec::new();
        let mut lines_by_email: HashMap<&Email, usize> = HashMap::new();
        let mut lines_by_ext: HashMap<&ExternalRef, usize> = HashMap::new();
        for row in rows {
            if let Some(first) = lines_by_email.get(&row.email) {
                self.left_out(
                    "person",
                    example(row.line, row.email.as_str(), format!("the email is listed twice in the file (first at line {first}): the row is left out")),
                );
                continue;
            }
            if let Some(x) = &row.external
                && let Some(first) = lines_by_ext.get(x)
            {
                self.left_out(
                    "person",
                    example(row.line, &x.id, format!("the id is listed twice in the file (first at line {first}): the row is left out")),
                );
                continue;
            }
            let by_ext = match &row.external {
                Some(x) => self.tx.person_by_external(x).await?,
                None => None,
            };
            let by_email = self.tx.person_by_email(&row.email).await?;
            let before = match (by_ext, by_email) {
                (Some(a), Some(b)) if a.id != b.id => {
                    self.left_out(
                        "person",
                        example(row.line, row.email.as_str(), format!("{} is the email of {}, another person than this row's record: the row is left out", row.email, b.name)),
                    );
                    continue;
                }
                (None, Some(b)) if matches!((&row.external, &b.external), (Some(x), Some(y)) if x.source == y.source && x.id != y.id) =>
                {
                    self.left_out(
                        "person",
                        example(
                            row.line,
                            row.email.as_str(),
                            format!(
                                "{} belongs to another {} record: the row is left out",
                                row.email,
                                b.external.as_ref().map_or("", |y| y.source.as_str())
                            ),
                        ),
                    );
                    continue;
                }
                (Some(a), _) => Some(a),
                (None, b) => b,
            };
            let id = before.as_ref().map_or_else(PersonId::new, |p| p.id);
            lines_by_email.insert(&row.email, row.line);
            if let Some(x) = &row.external {
                lines_by_ext.insert(x, row.line);
                self.people.by_external.insert(x.clone(), id);
            }
            self.people.by_email.insert(row.email.clone(), id);
            kept.push((row, before, id));
        }

        // Teams, by name: their kind from their members' roles, their lead
        // the one PM lead or sales manager among them.
        let mut members: BTreeMap<&str, Vec<(Role, PersonId)>> = BTreeMap::new();
        for (row, _, id) in &kept {
            if let Some(team) = row.team.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                members.entry(team).or_default().push((row.role, *id));
            }
        }
        let mut teams: HashMap<&str, TeamId> = HashMap::new();
        for (name, list) in &members {
            let before = self.tx.team_by_name(name).await?;
            let roles: Vec<Role> = list.iter().map(|(r, _)| *r).collect();
            let leads: Vec<PersonId> = list
                .iter()
                .filter(|(r, _)| r.is_leader())
                .map(|(_, id)| *id)
                .collect();
            let lead = match leads.as_slice() {
                [one] => Some(*one),
                // No single lead in the file: an admin's choice stands.
                _ => before.as_ref().and_then(|t| t.lead),
            };
            let team = Team {
                id: before.as_ref().map_or_else(TeamId::new, |t| t.id),
                name: (*name).to_owned(),
                kind: team_kind(&roles),
                lead,
            };
            let how = self.tx.put_team(&team).await?;
            self.report.counts("team").note(how);
            self.audit(
                "team.imported",
                "team",
                team.id,
                how,
                before.as_ref(),
                &team,
            )
            .await?;
            teams.insert(name, team.id);
        }

        // Managers before the people they manage: a new person's manager
        // must exist when they are stored.
        let position: HashMap<PersonId, usize> = kept
            .iter()
            .enumerate()
            .map(|(i, (_, _, id))| (*id, i))
            .collect();
        let mut managers: Vec<Option<PersonId>> = Vec::with_capacity(kept.len());
        for (row, _, id) in &kept {
            let manager = match &row.manager {
                None => None,
                Some(r) => match self.people.resolve(&mut *self.tx, r).await? {
                    Some(m) if m == *id => None,
                    Some(m) => Some(m),
                    None => {
                        self.report.unresolved(
                            "manager",
                            false,
                            example(row.line, person_ref_text(r), "no person with this address or id is imported: the person is kept without a manager"),
                        );
                        None
                    }
                },
            };
            managers.push(manager);
        }
        let mut order: Vec<usize> = Vec::with_capacity(kept.len());
        let mut state = vec![0u8; kept.len()]; // 0 new, 1 on the path, 2 done
        for start in 0..kept.len() {
            // Walk up the management chain, then store from the top down.
            let mut chain = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at {
                if state[i] != 0 {
                    if state[i] == 1 {
                        // A management cycle: break it here.
                        let row = kept[chain.last().copied().unwrap_or(i)].0;
                        self.report.unresolved(
                            "manager",
                            false,
                            example(
                                row.line,
                                row.email.as_str(),
                                "the managers form a cycle: this person is kept without a manager",
                            ),
                        );
                        if let Some(&last) = chain.last() {
                            managers[last] = None;
                        }
                    }
                    break;
                }
                state[i] = 1;
                chain.push(i);
                at = managers[i].and_then(|m| position.get(&m).copied());
            }
            for &i in chain.iter().rev() {
                state[i] = 2;
                order.push(i);
            }
        }
        for i in order {
            let (row, before, id) = &kept[i];
            let team = row
                .team
                .as_deref()
                .map(str::trim)
                .and_then(|t| teams.get(t).copied());
            let person = Person {
                id: *id,
                email: row.email.clone(),
                name: row.name.clone(),
                role: row.role,
                team,
                manager: managers[i],
                function: row
                    .function
                    .clone()
                    .or_else(|| before.as_ref().and_then(|b| b.function.clone())),
                // An admin's deactivation stands until they undo it.
                active: before.as_ref().is_none_or(|b| b.active),
                external: row
                    .external
                    .clone()
                    .or_else(|| before.as_ref().and_then(|b| b.external.clone())),
            };
            let (stored, how) = self.tx.upsert_person(&person).await?;
            self.report.counts("person").note(how);
            let after = Person {
                id: stored,
                ..person
            };
            self.audit(
                "person.imported",
                "person",
                stored,
                how,
                before.as_ref(),
                &after,
            )
            .await?;
        }
        Ok(())
    }

    /// Accounts with their owners and domains.
    async fn accounts(&mut self, rows: &[AccountRow]) -> Result<()> {
        // Who owns each domain, to keep one account's domain from being
        // claimed by another (the store would refuse the whole file).
        let mut domains: HashMap<String, (AccountId, String)> = HashMap::new();
        for a in self.tx.account_directory().await? {
            for d in &a.domains {
                domains.insert(d.as_str().to_owned(), (a.id, a.name.clone()));
            }
        }
        let mut lines: HashMap<&ExternalRef, usize> = HashMap::new();
        for row in rows {
            if let Some(first) = lines.insert(&row.external, row.line) {
                lines.insert(&row.external, first);
                self.left_out(
                    "account",
                    example(row.line, &row.external.id, format!("the id is listed twice in the file (first at line {first}): the row is left out")),
                );
                continue;
            }
            let before = self.tx.account_by_external(&row.external).await?;
            let id = before.as_ref().map_or_else(AccountId::new, |a| a.id);
            let owner = match &row.owner {
                None => None,
                Some(r) => match self.people.resolve(&mut *self.tx, r).await? {
                    Some(p) => Some(p),
                    None => {
                        self.report.unresolved(
                            "owner",
                            false,
                            example(row.line, person_ref_text(r), "no person with this address or id is imported (import the people first): the account is kept without an owner"),
                        );
                        None
                    }
                },
            };
            let mut kept_domains = Vec::new();
            for d in &row.domains {
                match domains.get(d.as_str()) {
                    Some((other, name)) if *other != id => self.report.unresolved(
                        "domain",
                        false,
                        example(row.line, d.as_str(), format!("the domain already belongs to {name}: the account is kept without it")),
                    ),
                    _ => kept_domains.push(d.clone()),
                }
            }
            if let Some(b) = &before {
                for d in &b.domains {
                    domains.remove(d.as_str());
                }
            }
            for d in &kept_domains {
                domains.insert(d.as_str().to_owned(), (id, row.name.clone()));
            }
            let account = Account {
                id,
                name: row.name.clone(),
                domains: kept_domains,
                owner,
                external: Some(row.external.clone()),
            };
            let (stored, how) = self.tx.upsert_account(&account).await?;
            self.report.counts("account").note(how);
            let after = Account {
                id: stored,
                ..account
            };
            self.audit(
                "account.imported",
                "account",
                stored,
                how,
                before.as_ref(),
                &after,
            )
            .await?;
        }
        Ok(())
    }

    /// Opportunities, on accounts imported from the same source.
    async fn opportunities(&mut self, rows: &[OpportunityRow]) -> Result<()> {
        let mut accounts: HashMap<&ExternalRef, Option<AccountId>> = HashMap::new();
        let mut lines: HashMap<&ExternalRef, usize> = HashMap::new();
        for row in rows {
            if let Some(first) = lines.insert(&row.external, row.line) {
                lines.insert(&row.external, first);
                self.left_out(
                    "opportunity",
                    example(row.line, &row.external.id, format!("the id is listed twice in the file (first at line {first}): the row is left out")),
                );
                continue;
            }
            let account = match accounts.get(&row.account) {
                Some(a) => *a,
                None => {
                    let a = self
                        .tx
                        .account_by_external(&row.account)
                        .await?
                        .map(|a| a.id);
                    accounts.insert(&row.account, a);
                    a
                }
            };
            let Some(account) = account else {
                self.report.counts("opportunity").left_out += 1;
                self.report.unresolved(
                    "account",
                    true,
                    example(row.line, &row.account.id, format!("no account with this id has been imported from {} (import the accounts first): the opportunity is left out", row.account.source)),
                );
                continue;
            };
            let owner = match &row.owner {
                None => None,
                Some(r) => match self.people.resolve(&mut *self.tx, r).await? {
                    Some(p) => Some(p),
                    None => {
                        self.report.unresolved(
                            "owner",
                            false,
                            example(row.line, person_ref_text(r), "no person with this address or id is imported (import the people first): the opportunity is kept without an owner"),
                        );
                        None
                    }
                },
            };
            let before = self.tx.opportunity_by_external(&row.external).await?;
            let opp = Opportunity {
                id: before.as_ref().map_or_else(OpportunityId::new, |o| o.id),
                account,
                name: row.name.clone(),
                stage: row.stage.clone(),
                amount: row.amount,
                owner,
                // An export without a creation date keeps the one stored.
                created_at: row
                    .created
                    .or_else(|| before.as_ref().map(|o| o.created_at))
                    .unwrap_or(self.at),
                close_date: row.close_date,
                external: Some(row.external.clone()),
            };
            let (stored, how) = self.tx.upsert_opportunity(&opp).await?;
            self.report.counts("opportunity").note(how);
            let after = Opportunity {
                id: stored,
                created_at: accord_store::micros(opp.created_at),
                ..opp
            };
            self.audit(
                "opportunity.imported",
                "opportunity",
                stored,
                how,
                before.as_ref(),
                &after,
            )
            .await?;
        }
        Ok(())
    }

    /// A row left out: it names a record that is listed twice, or one
    /// that belongs to another.
    fn left_out(&mut self, kind: &'static str, e: Example) {
        self.report.counts(kind).left_out += 1;
        self.report.unresolved(kind, true, e);
    }
}

// ---------------------------------------------------------------------------
// Calendar internals.

/// What every occurrence of a file is classified and evaluated against,
/// read once at the start of the file's transaction.
struct CalendarSetup {
    directory: Directory,
    /// Each account as the rules see it.
    accounts: HashMap<AccountId, AccountFacts>,
    /// Meetings with an approved exception in force: their decisions are
    /// made with the exceptions, in the transaction.
    excepted: HashSet<MeetingId>,
    /// No calendar meeting was ever stored: every occurrence is new (the
    /// reader emits each one once), so occurrences are inserted without
    /// being looked up, and nothing is withdrawn. On a large first import
    /// the lookups took about a sixth of the time.
    first: bool,
}

impl CalendarSetup {
    async fn load(tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<CalendarSetup> {
        let people = tx.person_directory().await?;
        let accounts = tx.account_directory().await?;
        // Names of every owner (active or not), for the rules' messages.
        let mut names: HashMap<PersonId, (Email, String)> = HashMap::new();
        let filter = PeopleFilter {
            include_inactive: true,
            ..PeopleFilter::default()
        };
        let mut page = PageRequest::first(500);
        loop {
            let p = tx.list_people(&filter, &page).await?;
            for person in p.items {
                names.insert(person.id, (person.email, person.name));
            }
            match p.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let first = !tx.has_calendar_meetings().await?;
        let mut excepted = HashSet::new();
        let mut page = PageRequest::first(500);
        loop {
            let p = tx.list_exceptions(false, None, &page).await?;
            for e in p.items {
                if e.record.kind == RecordKind::Meeting && e.in_force(now) {
                    excepted.insert(MeetingId(e.record.id));
                }
            }
            match p.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let facts = accounts
            .iter()
            .map(|a| {
                let owner = a.owner.and_then(|o| names.get(&o));
                (
                    a.id,
                    AccountFacts {
                        name: a.name.clone(),
                        owner_email: owner.map(|(e, _)| e.to_string()).unwrap_or_default(),
                        owner_name: owner.map(|(_, n)| n.clone()).unwrap_or_default(),
                        has_owner: Some(owner.is_some()),
                    },
                )
            })
            .collect();
        let directory = Directory::new(
            people,
            accounts.into_iter().map(|a| (a.id, a.domains, a.owner)),
        );
        Ok(CalendarSetup {
            directory,
            accounts: facts,
            excepted,
            first,
        })
    }

    /// A stored contact as the rules see it.
    fn input(&self, m: &StoredMeeting, sales: i64) -> MeetingInput {
        let account = m
            .meeting
            .account
            .and_then(|a| self.accounts.get(&a))
            .cloned()
            .unwrap_or_default();
        facts::meeting_input(
            &m.meeting.title,
            MeetingOrigin::Calendar,
            &m.flags,
            sales,
            m.meeting.duration_minutes(),
            account,
        )
    }
}

/// A customer contact ready to store.
struct Contact {
    meeting: StoredMeeting,
    /// Sales people present (the rules see it; the meeting does not keep it).
    sales: i64,
    /// The decision without exceptions; `None` when exceptions apply and it
    /// is made in the transaction.
    decision: Option<Decision>,
}

/// Contacts handed from the reader to the transaction.
/// Sends what was read since the last batch to the writer. `false` when
/// the channel is closed: the file's transaction failed, and the reader
/// reads on to the end without building anything.
fn hand_over(
    sender: &tokio::sync::mpsc::Sender<Batch>,
    contacts: &mut Vec<Contact>,
    gone: &mut Vec<NoLongerContact>,
    read: u64,
) -> bool {
    sender
        .blocking_send(Batch {
            contacts: std::mem::replace(contacts, Vec::with_capacity(BATCH)),
            gone: std::mem::take(gone),
            read,
        })
        .is_ok()
}

struct Batch {
    contacts: Vec<Contact>,
    /// Occurrences that are not contacts: a meeting stored for one by an
    /// earlier import did not happen as stored.
    gone: Vec<NoLongerContact>,
    /// Occurrences read so far.
    read: u64,
}

/// What the reader thread found.
struct Read {
    summary: std::result::Result<CalendarSummary, FileError>,
    contacts: usize,
    pm_contacts: usize,
    /// Occurrences that are not contacts, by reason: (count, examples).
    not_contacts: Vec<(&'static str, usize, Vec<String>)>,
}

/// How much less the calendar reader's thread (and the parsing threads it
/// starts, which inherit it) asks of the CPU than the database writer.
const READER_NICENESS: i32 = 10;

/// Lowers the calling thread's priority by `READER_NICENESS`.
///
/// The database writer is an import's narrowest stage: one thread, which
/// nothing can help. Reading, parsing and classifying take more CPU in all,
/// spread over several threads. With fewer cores than threads and equal
/// priorities, the writer got some two thirds of a core while the readers
/// filled the queue, and once the file was read it worked through the
/// queue alone, a core idle. At a lower priority the readers take what the
/// writer (and the task building its statements) leave: an import of
/// 1,000,000 events on 2 cores took 12.9 s against 14.4 s (median of 3).
/// A thread alone on a core runs at full speed whatever its priority, and
/// in the server, requests come before an import.
///
/// On Linux the priority (nice value) is a thread's own. Elsewhere it is the
/// process's, and nothing is changed. A failure only costs speed.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let me = rustix::thread::gettid();
        let now = rustix::process::getpriority_process(Some(me)).unwrap_or(0);
        if let Err(e) = rustix::process::setpriority_process(Some(me), now + READER_NICENESS) {
            tracing::debug!(error = %e, "the calendar reader keeps its priority");
        }
    }
}

/// Reads a calendar, classifies each occurrence, and sends the contacts
/// (evaluated) in batches. Runs on its own thread, at a lower priority.
fn read_contacts(
    path: &Path,
    window: &Window,
    setup: &CalendarSetup,
    active: &ActivePlaybook,
    sender: &tokio::sync::mpsc::Sender<Batch>,
) -> Read {
    let mut read = 0u64;
    let mut contacts = 0usize;
    let mut pm_contacts = 0usize;
    let mut not_contacts: Vec<(&'static str, usize, Vec<String>)> = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut gone = Vec::new();
    let mut open = true;
    let summary = ics::read_calendar(path, window, |o| {
        read += 1;
        if !open {
            return;
        }
        if read.is_multiple_of(PROGRESS_EVERY) || gone.len() >= BATCH {
            // Few contacts in a long stretch of the file: hand over what
            // there is, so that progress shows.
            open = hand_over(sender, &mut batch, &mut gone, read);
        }
        match classify(&o, &setup.directory) {
            Classification::NotCustomer { reason } => {
                // A first import has stored nothing this could withdraw.
                if !setup.first {
                    gone.push(NoLongerContact {
                        id: MeetingId::from_calendar(
                            &o.uid,
                            &o.occurrence.to_rfc3339_opts(SecondsFormat::Secs, true),
                        ),
                        sequence: o.sequence,
                        modified: o.last_modified,
                    });
                }
                let example = || {
                    format!(
                        "{} at {} (line {})",
                        o.uid,
                        o.occurrence.to_rfc3339_opts(SecondsFormat::Secs, true),
                        o.line
                    )
                };
                match not_contacts.iter_mut().find(|(r, _, _)| *r == reason) {
                    Some((_, n, examples)) => {
                        *n += 1;
                        if examples.len() < EXAMPLES {
                            examples.push(example());
                        }
                    }
                    None => not_contacts.push((reason, 1, vec![example()])),
                }
            }
            Classification::Contact(info) => {
                contacts += 1;
                if info.pm_present {
                    pm_contacts += 1;
                }
                let c = contact(o, info, setup, active);
                batch.push(c);
                if batch.len() >= BATCH {
                    open = hand_over(sender, &mut batch, &mut gone, read);
                }
            }
        }
    });
    if open && (!batch.is_empty() || !gone.is_empty()) {
        hand_over(sender, &mut batch, &mut gone, read);
    }
    Read {
        summary,
        contacts,
        pm_contacts,
        not_contacts,
    }
}

/// A customer contact as stored, with its decision.
fn contact(
    o: Occurrence,
    info: ContactInfo,
    setup: &CalendarSetup,
    active: &ActivePlaybook,
) -> Contact {
    let occurrence = o.occurrence.to_rfc3339_opts(SecondsFormat::Secs, true);
    let id = MeetingId::from_calendar(&o.uid, &occurrence);
    let mut attendees = info.attendees;
    // As the store keeps them: by address, once each.
    attendees.sort_by(|a, b| a.email.cmp(&b.email));
    attendees.dedup_by(|a, b| a.email == b.email);
    let meeting = StoredMeeting {
        meeting: Meeting {
            id,
            account: Some(info.account),
            title: o.title,
            starts_at: o.starts_at,
            ends_at: o.ends_at,
            source: MeetingSource::Calendar {
                uid: o.uid,
                occurrence,
            },
            attendees,
            request: None,
        },
        flags: ContactFlags {
            owner: info.owner,
            owner_present: info.owner_present,
            pm_count: info.pm_attendees as i64,
            customer_count: info.customer_attendees as i64,
            internal_count: info.internal_attendees as i64,
        },
        cal_sequence: Some(o.sequence),
        cal_modified: o.last_modified,
    };
    let sales = info.sales_attendees as i64;
    let decision = if setup.excepted.contains(&id) {
        None
    } else {
        Some(evaluate(active, setup.input(&meeting, sales), &[]))
    };
    Contact {
        meeting,
        sales,
        decision,
    }
}

/// Evaluates a contact. A meeting input names no stage or engagement type,
/// so evaluation cannot fail; should it ever, the rule engine's error is
/// kept as the decision's message rather than lost.
fn evaluate(active: &ActivePlaybook, input: MeetingInput, excepted: &[RuleId]) -> Decision {
    match accord_domain::evaluate(&active.playbook, &Input::Meeting(input), excepted) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "a calendar contact could not be evaluated");
            Decision {
                kind: RecordKind::Meeting,
                effect: Effect::Allow,
                matched: Vec::new(),
            }
        }
    }
}

/// Stores one batch of contacts and the decisions they call for.
async fn store_batch(
    tx: &mut dyn Tx,
    setup: &CalendarSetup,
    active: &ActivePlaybook,
    now: DateTime<Utc>,
    contacts: Vec<Contact>,
    report: &mut FileReport,
    stats: &mut CalendarStats,
) -> Result<()> {
    let (meetings, rest): (Vec<StoredMeeting>, Vec<(i64, Option<Decision>)>) = contacts
        .into_iter()
        .map(|c| (c.meeting, (c.sales, c.decision)))
        .unzip();
    let outcomes = if setup.first {
        // Should an occurrence come twice after all, its second insert
        // breaks the primary key and fails the file: nothing is stored
        // wrong.
        tx.insert_meetings(&meetings).await?;
        meetings
            .iter()
            .map(|m| (m.meeting.id, Upserted::Inserted))
            .collect()
    } else {
        tx.upsert_calendar_meetings(&meetings).await?
    };
    let mut decisions = Vec::new();
    for ((m, (sales, decision)), (id, how)) in meetings.iter().zip(rest).zip(outcomes) {
        report.counts("meeting").note(how);
        let record = RecordRef {
            kind: RecordKind::Meeting,
            id: id.0,
        };
        let decision = match decision {
            Some(d) => d,
            None => {
                let rules = crate::requests::in_force(tx, record, now).await?;
                evaluate(active, setup.input(m, sales), &rules)
            }
        };
        match decision.effect {
            Effect::Deny | Effect::Exception => stats.violations += 1,
            Effect::Warn | Effect::Audit => stats.flagged += 1,
            Effect::Allow => {}
        }
        let store = match how {
            Upserted::Inserted => decision.effect != Effect::Allow,
            // Calendars change few meetings between two exports: one query
            // each for what was decided last.
            Upserted::Updated => match tx.decisions_for(record).await?.pop() {
                Some(latest) => !same_outcome(&latest.decision, &decision),
                None => decision.effect != Effect::Allow,
            },
            Upserted::Unchanged | Upserted::Stale => false,
        };
        if store {
            decisions.push(DecisionRecord {
                id: DecisionId::new(),
                record,
                decision,
                playbook_version: Some(active.version),
                at: m.meeting.starts_at,
            });
        }
    }
    tx.insert_decisions(&decisions).await?;
    report.counts("decision").inserted += decisions.len();
    Ok(())
}

/// Whether two decisions say the same: the same effect from the same rules,
/// applied the same way (their messages may differ with the meeting).
fn same_outcome(a: &Decision, b: &Decision) -> bool {
    a.effect == b.effect
        && a.matched.len() == b.matched.len()
        && a.matched
            .iter()
            .zip(&b.matched)
            .all(|(x, y)| x.rule == y.rule && x.applied == y.applied)
}

/// The reader's skips and the occurrences that are not contacts, together.
fn skipped_list(
    summary: &CalendarSummary,
    not_contacts: Vec<(&'static str, usize, Vec<String>)>,
) -> Vec<Skipped> {
    let mut out: Vec<Skipped> = not_contacts
        .into_iter()
        .map(|(reason, count, examples)| Skipped {
            reason: format!("not a customer contact: {reason}"),
            count,
            examples,
        })
        .collect();
    out.extend(
        summary
            .skipped
            .iter()
            .map(|(reason, count, examples)| Skipped {
                reason: reason.clone(),
                count: *count,
                examples: examples.clone(),
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calendar_files_counts_read_as_a_sentence() {
        let one = CalendarStats {
            events_read: 1,
            occurrences_in_window: 1,
            customer_contacts: 1,
            pm_contacts: 1,
            violations: 1,
            kept_referenced: 1,
            ..CalendarStats::default()
        };
        assert_eq!(
            one.to_string(),
            "1 event read, 1 occurrence in the window (0 cancelled), 1 customer contact, 1 PM contact, 1 violation"
        );
        assert!(
            one.kept_note()
                .unwrap()
                .starts_with("1 stored meeting is no longer a customer contact but was kept")
        );
        let many = CalendarStats {
            events_read: 3,
            occurrences_in_window: 10,
            cancelled: 1,
            customer_contacts: 2,
            violations: 0,
            flagged: 2,
            kept_referenced: 2,
            ..CalendarStats::default()
        };
        assert_eq!(
            many.to_string(),
            "3 events read, 10 occurrences in the window (1 cancelled), 2 customer contacts, 0 PM contacts, 0 violations, 2 flagged"
        );
        assert!(
            many.kept_note()
                .unwrap()
                .starts_with("2 stored meetings are no longer customer contacts but were kept")
        );
        assert_eq!(CalendarStats::default().kept_note(), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_reader_lowers_its_own_priority_only() {
        let nice = || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        let caller = nice().unwrap();
        let (reader, child) = std::thread::spawn(move || {
            lower_priority();
            // A thread it starts (a parsing worker) inherits it.
            let child = std::thread::spawn(nice).join().unwrap();
            (nice(), child)
        })
        .join()
        .unwrap();
        let expected = (caller + READER_NICENESS).min(19);
        assert_eq!(reader.unwrap(), expected);
        assert_eq!(child.unwrap(), expected);
        assert_eq!(nice().unwrap(), caller);
    }
}
