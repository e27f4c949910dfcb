//! CRM CSV exports → people, accounts and opportunities.
//!
//! Three layouts are built in — `generic` (accord's own column names),
//! `salesforce` (Data Loader and data export column names) and `hubspot`
//! (HubSpot's CSV export) — and a user-written TOML [`Mapping`] describes
//! any other. A file's record kind comes from its name (or the mapping's
//! `[files]`); files of other kinds are skipped with a reason.
//!
//! A file is atomic: [`read_crm_file`] returns all of its records or a
//! [`FileError`] naming the path, line, column, field and value at fault. A
//! *malformed value* (an email that does not parse, an amount `12,x`, a
//! date that is no date, a missing required column) is such an error. A
//! *reference* that cannot be resolved inside the file (a stage that maps
//! to no playbook stage, a title that maps to no role, an opportunity
//! without an account) is not: the row is left out and listed in
//! [`CrmFile::unresolved`], so one odd deal does not hold up the others.
//!
//! # Decisions worth knowing
//!
//! - Salesforce ids: a 15-character id and its 18-character form name the
//!   same record; every id is normalised to 18 characters (Salesforce's
//!   published checksum). Files without an `Id` column (`sf data import
//!   tree` plans) get the plan's reference ids by position, `AccountRef1`,
//!   `OpportunityRef1`..., matching the `@AccountRefN` references of the
//!   other files.
//! - HubSpot contacts are the customers' people, so a contacts export is
//!   skipped unless it has an `accord role` (or `Role`, `User Role`)
//!   column marking the organisation's own people; rows with a blank role
//!   are then listed as unresolved, not read as staff. Job titles do not
//!   count: customers have them too. HubSpot `users` exports are people.
//! - HubSpot gives owners by name in some exports: an owner cell is read
//!   as an email (also `Name <email>` or `Name (email)`) or an owner id; a
//!   bare name is listed as an unresolved `owner` and the record kept.
//! - Stages resolve through a mapping's `[stages]`, then the playbook's own
//!   ids, then the base format's standard names (normalised: case, spaces
//!   and punctuation do not matter, so `Closed/Won` is `Closed Won`).
//! - Roles: the generic layout takes accord's role names only; the CRMs
//!   also read common job titles (see `values::role_from_title`).

mod layout;
mod mapping;
mod table;
mod values;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use accord_domain::id::{Domain, Email, ExternalRef, StageId};
use accord_domain::people::Role;
use chrono::{DateTime, NaiveDate, Utc};
use csv::StringRecord;

use crate::diag::{Diagnostic, FileError};
use layout::{Field, FileRule, IdStyle, KindLayout, Layout, RoleStyle};
pub use mapping::Mapping;
use table::Table;
use values::{norm_key, parse_amount, parse_date, parse_datetime, role_from_title, salesforce_id};

/// A built-in CRM export layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrmFormat {
    /// accord's own column names (see the crate's README).
    Generic,
    /// Salesforce Data Loader and data export files.
    Salesforce,
    /// HubSpot CSV exports.
    Hubspot,
}

impl CrmFormat {
    /// The format's name, which is also the `ExternalRef::source` of the
    /// ids it imports.
    pub fn as_str(self) -> &'static str {
        match self {
            CrmFormat::Generic => "generic",
            CrmFormat::Salesforce => "salesforce",
            CrmFormat::Hubspot => "hubspot",
        }
    }
}

impl fmt::Display for CrmFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of the built-in formats.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown CRM format {0:?}: expected generic, salesforce or hubspot")]
pub struct UnknownFormat(pub String);

impl FromStr for CrmFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "generic" => Ok(CrmFormat::Generic),
            "salesforce" | "sfdc" => Ok(CrmFormat::Salesforce),
            "hubspot" => Ok(CrmFormat::Hubspot),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// What a CRM file holds. Ordered as they must be imported: people before
/// the accounts they own, accounts before their opportunities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// People of the organisation (CRM users).
    People,
    /// Customer accounts (companies).
    Accounts,
    /// Opportunities (deals).
    Opportunities,
}

impl FileKind {
    /// `people`, `accounts` or `opportunities`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::People => "people",
            FileKind::Accounts => "accounts",
            FileKind::Opportunities => "opportunities",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person named by another record: by email (generic files, HubSpot
/// owners) or by id in the source system (Salesforce `OwnerId`, which is a
/// User id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PersonRef {
    /// By email address.
    Email(Email),
    /// By the source system's id of the person's record.
    External(ExternalRef),
}

/// A person of the organisation.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonRow {
    /// 1-based line of the record in the file.
    pub line: usize,
    /// The person's id in the source system, when the file has one.
    pub external: Option<ExternalRef>,
    /// Lower-case address: the key calendars are matched on.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// What they do in the relationship.
    pub role: Role,
    /// Their team's name.
    pub team: Option<String>,
    /// Their manager.
    pub manager: Option<PersonRef>,
    /// The function they endorse the charter for, when the file says (or
    /// their title does, for constituents).
    pub function: Option<String>,
}

/// A customer account.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRow {
    /// 1-based line of the record in the file.
    pub line: usize,
    /// Its id in the source system: the key that makes re-imports idempotent.
    pub external: ExternalRef,
    /// Display name.
    pub name: String,
    /// Its email domains (from a domains column or its website).
    pub domains: Vec<Domain>,
    /// The relationship owner.
    pub owner: Option<PersonRef>,
}

/// An opportunity (deal) on an account.
#[derive(Clone, Debug, PartialEq)]
pub struct OpportunityRow {
    /// 1-based line of the record in the file.
    pub line: usize,
    /// Its id in the source system.
    pub external: ExternalRef,
    /// Its account, by id in the same source system.
    pub account: ExternalRef,
    /// Display name.
    pub name: String,
    /// The playbook stage it is at.
    pub stage: StageId,
    /// The stage as the export names it.
    pub raw_stage: String,
    /// Value, if given.
    pub amount: Option<f64>,
    /// The deal's owner.
    pub owner: Option<PersonRef>,
    /// When it was opened.
    pub created: Option<DateTime<Utc>>,
    /// Expected close date.
    pub close_date: Option<NaiveDate>,
}

/// A reference that could not be resolved inside the file.
///
/// For a required reference (`stage`, `role`, `account`) the row is left
/// out of the file's rows. For an optional one (`owner`, as HubSpot
/// exports owners by name) the row is kept without it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// What could not be resolved: `stage`, `role`, `account`, `owner`.
    pub what: String,
    /// The value as written.
    pub value: String,
    /// 1-based line of the record.
    pub line: usize,
    /// Why, and what to do about it.
    pub reason: String,
}

/// One CRM file, read.
#[derive(Clone, Debug, PartialEq)]
pub struct CrmFile {
    /// The file.
    pub path: PathBuf,
    /// What it holds; `None` when it was skipped.
    pub kind: Option<FileKind>,
    /// Why it was skipped.
    pub skipped_reason: Option<String>,
    /// `generic`, `salesforce`, `hubspot` or the mapping's name: the
    /// `ExternalRef::source` of its ids.
    pub source: String,
    /// Records read (rows of empty cells are not records).
    pub rows_read: usize,
    /// People, for a people file.
    pub people: Vec<PersonRow>,
    /// Accounts, for an accounts file.
    pub accounts: Vec<AccountRow>,
    /// Opportunities, for an opportunities file.
    pub opportunities: Vec<OpportunityRow>,
    /// References that could not be resolved.
    pub unresolved: Vec<Unresolved>,
}

/// Expands folders into the `.csv` files under them (recursively, sorted,
/// hidden entries skipped; files named directly are kept whatever their
/// extension) and orders the result people → accounts → opportunities →
/// the rest, by the built-in file names. Callers using a [`Mapping`] with
/// its own file names should order [`CrmFile`]s by [`CrmFile::kind`].
pub fn collect_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FileError> {
    let mut files = crate::paths::expand(paths, "csv")?;
    // HubSpot's patterns are a superset of the others'.
    let layout = Layout::builtin(CrmFormat::Hubspot);
    files.sort_by_key(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match layout.rule_for(&name) {
            FileRule::Kind(kind) => kind as u8,
            FileRule::HubspotContacts => FileKind::People as u8,
            FileRule::Skip(_) => u8::MAX,
        }
    });
    Ok(files)
}

/// Reads one CRM file. Its kind comes from its name (or the mapping);
/// `stages` are the playbook's stage ids, which opportunity stages must
/// resolve to. With a mapping, the mapping's `base` (or else `format`) is
/// the layout it refines.
pub fn read_crm_file(
    path: &Path,
    format: CrmFormat,
    mapping: Option<&Mapping>,
    stages: &[StageId],
) -> Result<CrmFile, FileError> {
    let layout = match mapping {
        Some(m) => m.layout(format),
        None => Layout::builtin(format),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut file = CrmFile {
        path: path.to_path_buf(),
        kind: None,
        skipped_reason: None,
        source: layout.source.clone(),
        rows_read: 0,
        people: Vec::new(),
        accounts: Vec::new(),
        opportunities: Vec::new(),
        unresolved: Vec::new(),
    };
    let rule = layout.rule_for(&file_name);
    if let FileRule::Skip(reason) = rule {
        file.skipped_reason = Some(reason);
        return Ok(file);
    }
    let table = Table::read(path, layout.delimiter)?;
    let (kind, kind_layout) = match rule {
        FileRule::Kind(kind) => (kind, layout.kind(kind).clone()),
        FileRule::HubspotContacts => match hubspot_contacts_layout(&layout, &table) {
            Some(kl) => (FileKind::People, kl),
            None => {
                file.skipped_reason = Some(
                    "HubSpot contacts are the customers' people: a contacts export is read as your organisation's people only when it has an `accord role` (or `Role`) column marking them".to_owned(),
                );
                return Ok(file);
            }
        },
        FileRule::Skip(_) => return Ok(file),
    };
    file.kind = Some(kind);
    file.rows_read = table.rows.len();
    let reader = Reader {
        path,
        layout: &layout,
        columns: Columns::resolve(path, kind, &kind_layout, &table, &layout)?,
        stages,
    };
    for (index, (line, record)) in table.rows.iter().enumerate() {
        // 1-based record position: the `AccountRefN` of files without ids.
        let position = index + 1;
        let row = Row {
            line: *line,
            record,
            reader: &reader,
        };
        match kind {
            FileKind::People => match reader.person(&row)? {
                Ok(p) => file.people.push(p),
                Err(u) => file.unresolved.push(u),
            },
            FileKind::Accounts => {
                let (account, note) = reader.account(&row, position)?;
                file.accounts.push(account);
                file.unresolved.extend(note);
            }
            FileKind::Opportunities => match reader.opportunity(&row, position)? {
                (Ok(o), note) => {
                    file.opportunities.push(o);
                    file.unresolved.extend(note);
                }
                (Err(u), _) => file.unresolved.push(u),
            },
        }
    }
    Ok(file)
}

/// HubSpot contacts are customers unless the admin marked the
/// organisation's own people with a role column; job titles do not count,
/// since customers have them too.
fn hubspot_contacts_layout(layout: &Layout, table: &Table) -> Option<KindLayout> {
    let role_columns: Vec<String> = ["accord role", "role", "user role"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if table.find(&role_columns).is_empty() {
        return None;
    }
    let mut kl = layout.people.clone();
    for (field, names) in &mut kl.columns {
        if *field == Field::Role {
            *names = role_columns.clone();
        }
    }
    Some(kl)
}

/// Where each field of a kind is in this file.
struct Columns {
    /// Per field, the indexes of the columns that may hold it, preferred first.
    at: Vec<(Field, Vec<usize>)>,
    defaults: std::collections::HashMap<Field, String>,
    headers: Vec<String>,
    /// Salesforce files without an `Id` column (`sf data import tree`
    /// plans) identify records by position: `AccountRef1`, `AccountRef2`...
    synthetic_ids: Option<&'static str>,
}

impl Columns {
    fn resolve(
        path: &Path,
        kind: FileKind,
        kl: &KindLayout,
        table: &Table,
        layout: &Layout,
    ) -> Result<Columns, FileError> {
        let at: Vec<(Field, Vec<usize>)> = kl
            .columns
            .iter()
            .map(|(f, names)| (*f, table.find(names)))
            .collect();
        let mut cols = Columns {
            at,
            defaults: kl.defaults.clone(),
            headers: table.headers.clone(),
            synthetic_ids: None,
        };
        let missing = |field: Field| -> FileError {
            let names: Vec<String> = kl
                .columns
                .iter()
                .filter(|(f, _)| *f == field)
                .flat_map(|(_, n)| n.iter().map(|n| format!("`{n}`")))
                .collect();
            let expected = if names.is_empty() {
                "name it in a mapping's columns".to_owned()
            } else {
                format!("expected a column named {}", names.join(" or "))
            };
            FileError(
                Diagnostic::new(
                    path,
                    format!("missing required column for {}: {expected}", kind.as_str()),
                )
                .line(1)
                .field(field.name()),
            )
        };
        match kind {
            FileKind::People => {
                for f in [Field::Email, Field::Role] {
                    if !cols.has(f) {
                        return Err(missing(f));
                    }
                }
                if !cols.has(Field::Name)
                    && !cols.has(Field::FirstName)
                    && !cols.has(Field::LastName)
                {
                    return Err(missing(Field::Name));
                }
            }
            FileKind::Accounts | FileKind::Opportunities => {
                if !cols.has(Field::Id) {
                    if layout.ids == IdStyle::Salesforce {
                        cols.synthetic_ids = Some(if kind == FileKind::Accounts {
                            "AccountRef"
                        } else {
                            "OpportunityRef"
                        });
                    } else {
                        return Err(missing(Field::Id));
                    }
                }
                let required: &[Field] = if kind == FileKind::Accounts {
                    &[Field::Name]
                } else {
                    &[Field::AccountId, Field::Name, Field::Stage]
                };
                for f in required {
                    if !cols.has(*f) {
                        return Err(missing(*f));
                    }
                }
            }
        }
        Ok(cols)
    }

    /// Whether the file has a column for the field, or the layout a default.
    fn has(&self, field: Field) -> bool {
        self.defaults.contains_key(&field)
            || self
                .at
                .iter()
                .any(|(f, idx)| *f == field && !idx.is_empty())
    }

    fn indexes(&self, field: Field) -> &[usize] {
        self.at
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, idx)| idx.as_slice())
            .unwrap_or(&[])
    }
}

/// A value and where it came from.
struct Cell<'a> {
    text: &'a str,
    /// 0-based column index; `None` for a mapping default.
    column: Option<usize>,
}

struct Reader<'a> {
    path: &'a Path,
    layout: &'a Layout,
    columns: Columns,
    stages: &'a [StageId],
}

struct Row<'a> {
    line: usize,
    record: &'a StringRecord,
    reader: &'a Reader<'a>,
}

impl<'a> Row<'a> {
    /// The field's value: the first non-blank of its columns, else the
    /// layout's default.
    fn cell(&self, field: Field) -> Option<Cell<'a>> {
        let cols = &self.reader.columns;
        for &i in cols.indexes(field) {
            if let Some(text) = self.record.get(i)
                && !text.trim().is_empty()
            {
                return Some(Cell {
                    text: text.trim(),
                    column: Some(i),
                });
            }
        }
        cols.defaults.get(&field).map(|d| Cell {
            text: d.as_str(),
            column: None,
        })
    }

    /// Every non-blank value of the field's columns (domains gather all).
    fn cells(&self, field: Field) -> Vec<Cell<'a>> {
        let cols = &self.reader.columns;
        let mut out: Vec<Cell<'a>> = cols
            .indexes(field)
            .iter()
            .filter_map(|&i| {
                let text = self.record.get(i)?.trim();
                (!text.is_empty()).then_some(Cell {
                    text,
                    column: Some(i),
                })
            })
            .collect();
        if out.is_empty()
            && let Some(d) = cols.defaults.get(&field)
        {
            out.push(Cell {
                text: d.as_str(),
                column: None,
            });
        }
        out
    }

    fn text(&self, field: Field) -> Option<&'a str> {
        self.cell(field).map(|c| c.text)
    }

    /// A located error about a cell.
    fn bad(&self, field: Field, cell: &Cell<'_>, message: impl Into<String>) -> FileError {
        let r = self.reader;
        let mut d = Diagnostic::new(r.path, message).line(self.line);
        match cell.column {
            Some(i) => {
                d = d.at(self.line, i + 1).field(
                    r.columns
                        .headers
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| field.name().to_owned()),
                );
            }
            None => d = d.field(field.name()),
        }
        FileError(d.value(cell.text))
    }

    /// A located error about a required value that is blank.
    fn blank(&self, field: Field, what: &str) -> FileError {
        let r = self.reader;
        let i = r.columns.indexes(field).first().copied();
        let mut d = Diagnostic::new(r.path, format!("{what} is empty")).line(self.line);
        if let Some(i) = i {
            d = d.at(self.line, i + 1);
        }
        let header = i
            .and_then(|i| r.columns.headers.get(i).cloned())
            .unwrap_or_else(|| field.name().to_owned());
        FileError(d.field(header).value(""))
    }

    fn unresolved(&self, what: &str, value: &str, reason: impl Into<String>) -> Unresolved {
        Unresolved {
            what: what.to_owned(),
            value: value.to_owned(),
            line: self.line,
            reason: reason.into(),
        }
    }
}

impl Reader<'_> {
    fn external(&self, id: &str) -> ExternalRef {
        let id = match self.layout.ids {
            IdStyle::Salesforce => salesforce_id(id),
            IdStyle::Plain => id.trim().to_owned(),
        };
        ExternalRef {
            source: self.layout.source.clone(),
            id,
        }
    }

    /// The record's own id, or its position-based reference id.
    fn record_id(
        &self,
        row: &Row<'_>,
        position: usize,
        what: &str,
    ) -> Result<ExternalRef, FileError> {
        if let Some(prefix) = self.columns.synthetic_ids {
            // Built, not read: no id normalisation applies.
            return Ok(ExternalRef {
                source: self.layout.source.clone(),
                id: format!("{prefix}{position}"),
            });
        }
        match row.cell(Field::Id) {
            Some(c) => Ok(self.external(c.text)),
            None => Err(row.blank(Field::Id, &format!("the {what}'s id"))),
        }
    }

    fn email(&self, row: &Row<'_>, field: Field, cell: &Cell<'_>) -> Result<Email, FileError> {
        Email::parse(cell.text)
            .map_err(|e| row.bad(field, cell, format!("not an email: {}", e.why)))
    }

    fn person(&self, row: &Row<'_>) -> Result<Result<PersonRow, Unresolved>, FileError> {
        let email = match row.cell(Field::Email) {
            Some(c) => self.email(row, Field::Email, &c)?,
            None => return Err(row.blank(Field::Email, "the person's email")),
        };
        let name = match row.text(Field::Name) {
            Some(n) => n.to_owned(),
            None => {
                let parts: Vec<&str> = [row.text(Field::FirstName), row.text(Field::LastName)]
                    .into_iter()
                    .flatten()
                    .collect();
                if parts.is_empty() {
                    email.as_str().to_owned()
                } else {
                    parts.join(" ")
                }
            }
        };
        let Some(raw_role) = row.text(Field::Role) else {
            return Ok(Err(row.unresolved(
                "role",
                "",
                "no role given: the person is left out (give a role, or a default in a mapping's [people.defaults])",
            )));
        };
        let (role, title_function) = match self.role(raw_role) {
            Some(r) => r,
            None => {
                let hint = match self.layout.roles {
                    RoleStyle::Names => {
                        "not an accord role (pm, pm_lead, sales_rep, sales_manager, sales_engineer, admin, constituent); map it in a mapping's [roles]"
                    }
                    RoleStyle::Titles => {
                        "no accord role matches this title; map it in a mapping's [roles]"
                    }
                };
                return Ok(Err(row.unresolved("role", raw_role, hint)));
            }
        };
        let manager = match row.cell(Field::ManagerEmail) {
            Some(c) => Some(PersonRef::Email(self.email(
                row,
                Field::ManagerEmail,
                &c,
            )?)),
            None => row
                .text(Field::ManagerId)
                .map(|id| PersonRef::External(self.external(id))),
        };
        Ok(Ok(PersonRow {
            line: row.line,
            external: row.text(Field::Id).map(|id| self.external(id)),
            email,
            name,
            role,
            team: row.text(Field::Team).map(str::to_owned),
            manager,
            function: row
                .text(Field::Function)
                .map(str::to_owned)
                .or_else(|| title_function.map(str::to_owned)),
        }))
    }

    /// A role cell: the mapping's titles, accord's role names, then (for
    /// the CRMs) common job titles.
    fn role(&self, raw: &str) -> Option<(Role, Option<&'static str>)> {
        if let Some(r) = self.layout.role_map.get(&norm_key(raw)) {
            return Some((*r, None));
        }
        if let Ok(r) = Role::from_str(raw) {
            return Some((r, None));
        }
        match self.layout.roles {
            RoleStyle::Names => None,
            RoleStyle::Titles => role_from_title(raw),
        }
    }

    fn owner(&self, row: &Row<'_>) -> Result<(Option<PersonRef>, Option<Unresolved>), FileError> {
        if let Some(c) = row.cell(Field::OwnerEmail) {
            return Ok((
                Some(PersonRef::Email(self.email(row, Field::OwnerEmail, &c)?)),
                None,
            ));
        }
        if let Some(id) = row.text(Field::OwnerId) {
            return Ok((Some(PersonRef::External(self.external(id))), None));
        }
        let Some(c) = row.cell(Field::Owner) else {
            return Ok((None, None));
        };
        // HubSpot: `ana@x.com`, `Ana Lopez <ana@x.com>`, `Ana Lopez (ana@x.com)`,
        // an owner id, or just `Ana Lopez`.
        if c.text.contains('@') {
            let inner = c
                .text
                .rsplit_once(['<', '('])
                .map(|(_, rest)| rest.trim_end_matches(['>', ')']))
                .unwrap_or(c.text);
            return Ok((
                Some(PersonRef::Email(self.email(
                    row,
                    Field::Owner,
                    &Cell {
                        text: inner,
                        column: c.column,
                    },
                )?)),
                None,
            ));
        }
        if c.text.bytes().all(|b| b.is_ascii_digit()) {
            return Ok((Some(PersonRef::External(self.external(c.text))), None));
        }
        Ok((
            None,
            Some(row.unresolved(
                "owner",
                c.text,
                "the owner is given by name only, which cannot be matched to a person: export owners with their email (the record is kept without an owner)",
            )),
        ))
    }

    fn account(
        &self,
        row: &Row<'_>,
        position: usize,
    ) -> Result<(AccountRow, Option<Unresolved>), FileError> {
        let external = self.record_id(row, position, "account")?;
        let name = row
            .text(Field::Name)
            .ok_or_else(|| row.blank(Field::Name, "the account's name"))?
            .to_owned();
        let mut domains: Vec<Domain> = Vec::new();
        for c in row.cells(Field::Domains) {
            // Several per cell: `acme.com; acme.de` (any of ; , | or spaces).
            for piece in c
                .text
                .split(|ch: char| ch == ';' || ch == ',' || ch == '|' || ch.is_whitespace())
                .filter(|p| !p.is_empty())
            {
                let d = Domain::parse(piece).map_err(|e| {
                    row.bad(
                        Field::Domains,
                        &Cell {
                            text: piece,
                            column: c.column,
                        },
                        format!("not a domain: {}", e.why),
                    )
                })?;
                if !domains.contains(&d) {
                    domains.push(d);
                }
            }
        }
        for c in row.cells(Field::Website) {
            let d = Domain::parse(c.text).map_err(|e| {
                row.bad(
                    Field::Website,
                    &c,
                    format!("not a website or domain: {}", e.why),
                )
            })?;
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        let (owner, note) = self.owner(row)?;
        Ok((
            AccountRow {
                line: row.line,
                external,
                name,
                domains,
                owner,
            },
            note,
        ))
    }

    #[allow(clippy::type_complexity)]
    fn opportunity(
        &self,
        row: &Row<'_>,
        position: usize,
    ) -> Result<(Result<OpportunityRow, Unresolved>, Option<Unresolved>), FileError> {
        let external = self.record_id(row, position, "opportunity")?;
        let name = row
            .text(Field::Name)
            .ok_or_else(|| row.blank(Field::Name, "the opportunity's name"))?
            .to_owned();
        let amount = match row.cell(Field::Amount) {
            Some(c) => Some(
                parse_amount(c.text, self.layout.decimal_comma)
                    .map_err(|why| row.bad(Field::Amount, &c, why))?,
            ),
            None => None,
        };
        let created = match row.cell(Field::Created) {
            Some(c) => Some(
                parse_datetime(c.text, &self.layout.date_formats)
                    .map_err(|why| row.bad(Field::Created, &c, why))?,
            ),
            None => None,
        };
        let close_date = match row.cell(Field::CloseDate) {
            Some(c) => Some(
                parse_date(c.text, &self.layout.date_formats)
                    .map_err(|why| row.bad(Field::CloseDate, &c, why))?,
            ),
            None => None,
        };
        let (owner, note) = self.owner(row)?;

        let account = match row.text(Field::AccountId) {
            None => {
                return Ok((
                    Err(row.unresolved("account", "", "the opportunity names no account")),
                    None,
                ));
            }
            Some(raw) => match self.account_ref(raw) {
                Some(a) => a,
                None => {
                    return Ok((
                        Err(row.unresolved(
                            "account",
                            raw,
                            "the account is named, not identified: export the company's id (HubSpot: `Associated Company IDs`)",
                        )),
                        None,
                    ));
                }
            },
        };
        let raw_stage = row.text(Field::Stage).unwrap_or("").to_owned();
        let stage = match self.stage(&raw_stage) {
            Ok(s) => s,
            Err(reason) => return Ok((Err(row.unresolved("stage", &raw_stage, reason)), None)),
        };
        Ok((
            Ok(OpportunityRow {
                line: row.line,
                external,
                account,
                name,
                stage,
                raw_stage,
                amount,
                owner,
                created,
                close_date,
            }),
            note,
        ))
    }

    /// An opportunity's account reference. HubSpot lists associated
    /// company ids separated by `;` (the first is taken) and names
    /// companies as `Acme (123)`.
    fn account_ref(&self, raw: &str) -> Option<ExternalRef> {
        if self.layout.base != CrmFormat::Hubspot {
            return Some(self.external(raw));
        }
        let first = raw
            .split([';', ','])
            .map(str::trim)
            .find(|s| !s.is_empty())?;
        if first.bytes().all(|b| b.is_ascii_digit()) {
            return Some(self.external(first));
        }
        let inner = first.strip_suffix(')')?.rsplit_once('(')?.1.trim();
        (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()))
            .then(|| self.external(inner))
    }

    /// A stage as the export names it → a stage of the playbook: the
    /// mapping's `[stages]`, then the playbook's own ids, then the base
    /// format's standard stage names.
    fn stage(&self, raw: &str) -> Result<StageId, String> {
        if raw.trim().is_empty() {
            return Err("the opportunity has no stage".to_owned());
        }
        let key = norm_key(raw);
        let direct = || {
            self.stages
                .iter()
                .find(|s| norm_key(s.as_str()) == key)
                .map(|s| s.as_str().to_owned())
        };
        let target = self
            .layout
            .stage_map
            .get(&key)
            .cloned()
            .or_else(direct)
            .or_else(|| self.layout.builtin_stages.get(&key).cloned());
        match target {
            Some(t) => self
                .stages
                .iter()
                .find(|s| s.as_str() == t)
                .cloned()
                .ok_or_else(|| format!("it maps to `{t}`, which is not a stage of the playbook; map it in a mapping's [stages]")),
            None => Err("no playbook stage matches it; map it in a mapping's [stages]".to_owned()),
        }
    }
}
