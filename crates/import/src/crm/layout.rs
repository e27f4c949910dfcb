//! Layouts: which columns of a CRM export hold which of accord's fields,
//! how its ids, stages and roles read, and which file is which record
//! kind. The three built-in layouts (generic, Salesforce, HubSpot) and a
//! user's mapping all become one [`Layout`], so one reader serves them all.

use std::collections::HashMap;

use accord_domain::people::Role;

use super::values::{HUBSPOT_STAGES, SALESFORCE_STAGES, norm_key};
use super::{CrmFormat, FileKind};

/// One of accord's fields, as a CSV column can hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    /// The record's id in the source system.
    Id,
    /// A person's email.
    Email,
    /// Full name (a person, an account, an opportunity).
    Name,
    /// A person's first name, when the name is split.
    FirstName,
    /// A person's last name, when the name is split.
    LastName,
    /// A person's role: accord's role name, or a job title for the CRMs.
    Role,
    /// A person's team name.
    Team,
    /// The manager, by email.
    ManagerEmail,
    /// The manager, by id in the source system.
    ManagerId,
    /// The function a person endorses for.
    Function,
    /// An account's email domains, several per cell.
    Domains,
    /// An account's website, reduced to its domain.
    Website,
    /// The owner, by email.
    OwnerEmail,
    /// The owner, by id in the source system.
    OwnerId,
    /// The owner as HubSpot exports it: an email, `Name <email>`, an owner
    /// id, or a bare name (which accord cannot resolve).
    Owner,
    /// An opportunity's account, by id in the source system.
    AccountId,
    /// An opportunity's stage, as the source names it.
    Stage,
    /// An opportunity's amount.
    Amount,
    /// When an opportunity was created.
    Created,
    /// An opportunity's expected close date.
    CloseDate,
}

impl Field {
    /// The name used in mapping files and messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Email => "email",
            Field::Name => "name",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Role => "role",
            Field::Team => "team",
            Field::ManagerEmail => "manager_email",
            Field::ManagerId => "manager_id",
            Field::Function => "function",
            Field::Domains => "domains",
            Field::Website => "website",
            Field::OwnerEmail => "owner_email",
            Field::OwnerId => "owner_id",
            Field::Owner => "owner",
            Field::AccountId => "account_id",
            Field::Stage => "stage",
            Field::Amount => "amount",
            Field::Created => "created",
            Field::CloseDate => "close_date",
        }
    }

    /// The fields a record kind has.
    pub(crate) fn of_kind(kind: FileKind) -> &'static [Field] {
        match kind {
            FileKind::People => &[
                Field::Id,
                Field::Email,
                Field::Name,
                Field::FirstName,
                Field::LastName,
                Field::Role,
                Field::Team,
                Field::ManagerEmail,
                Field::ManagerId,
                Field::Function,
            ],
            FileKind::Accounts => &[
                Field::Id,
                Field::Name,
                Field::Domains,
                Field::Website,
                Field::OwnerEmail,
                Field::OwnerId,
                Field::Owner,
            ],
            FileKind::Opportunities => &[
                Field::Id,
                Field::AccountId,
                Field::Name,
                Field::Stage,
                Field::Amount,
                Field::OwnerEmail,
                Field::OwnerId,
                Field::Owner,
                Field::Created,
                Field::CloseDate,
            ],
        }
    }

    /// A field of `kind` by its mapping name.
    pub(crate) fn parse(kind: FileKind, name: &str) -> Option<Field> {
        Field::of_kind(kind)
            .iter()
            .copied()
            .find(|f| f.name() == name.trim())
    }
}

/// How ids of the source system are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdStyle {
    /// As written, trimmed.
    Plain,
    /// Salesforce: 15-character ids extended to 18; files without an `Id`
    /// column get `sf data import tree` reference ids (`AccountRef1`, ...).
    Salesforce,
}

/// How a role cell reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoleStyle {
    /// accord's role names only (the generic layout).
    Names,
    /// accord's role names, else common job titles.
    Titles,
}

/// What a file name says about a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FileRule {
    /// Records of this kind.
    Kind(FileKind),
    /// HubSpot contacts: people only when they carry a role column.
    HubspotContacts,
    /// Not imported, for this reason.
    Skip(String),
}

/// Which columns hold a kind's fields.
#[derive(Clone, Debug, Default)]
pub(crate) struct KindLayout {
    /// For each field, the column headers that may hold it, preferred
    /// first, as the export writes them; compared case-insensitively.
    pub(crate) columns: Vec<(Field, Vec<String>)>,
    /// Values for fields whose column is absent or blank.
    pub(crate) defaults: HashMap<Field, String>,
}

impl KindLayout {
    fn of(columns: &[(Field, &[&str])]) -> Self {
        Self {
            columns: columns
                .iter()
                .map(|(f, names)| (*f, names.iter().map(|n| (*n).to_owned()).collect()))
                .collect(),
            defaults: HashMap::new(),
        }
    }

    /// Adds a column for a field, preferred over the built-in ones.
    pub(crate) fn prefer(&mut self, field: Field, column: &str) {
        let column = column.trim().to_owned();
        match self.columns.iter_mut().find(|(f, _)| *f == field) {
            Some((_, names)) => {
                names.retain(|n| n.to_lowercase() != column.to_lowercase());
                names.insert(0, column);
            }
            None => self.columns.push((field, vec![column])),
        }
    }
}

/// Everything the reader needs to know about an export's layout.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// The `ExternalRef::source` of its ids.
    pub(crate) source: String,
    /// The built-in layout it starts from.
    pub(crate) base: CrmFormat,
    pub(crate) ids: IdStyle,
    pub(crate) roles: RoleStyle,
    pub(crate) delimiter: u8,
    /// Amounts written `1.250.000,50`.
    pub(crate) decimal_comma: bool,
    /// strftime formats tried before the built-in ones.
    pub(crate) date_formats: Vec<String>,
    /// File-name patterns (lower case, `*` wildcards), tried in order.
    pub(crate) files: Vec<(String, FileRule)>,
    pub(crate) people: KindLayout,
    pub(crate) accounts: KindLayout,
    pub(crate) opportunities: KindLayout,
    /// A mapping's stage names (normalised with `norm_key`) to playbook
    /// stage ids: tried first.
    pub(crate) stage_map: HashMap<String, String>,
    /// The base format's standard stage names: tried after the playbook's
    /// own ids, so a playbook that has a stage of that very name wins.
    pub(crate) builtin_stages: HashMap<String, String>,
    /// A mapping's titles (normalised) to roles: tried first.
    pub(crate) role_map: HashMap<String, Role>,
}

impl Layout {
    /// The built-in layout of a format.
    pub(crate) fn builtin(format: CrmFormat) -> Layout {
        let mut files: Vec<(String, FileRule)> = Vec::new();
        if format == CrmFormat::Hubspot {
            // HubSpot names exports after their object and a date
            // (`hubspot-crm-exports-all-deals-2024-05-02.csv`).
            for (pattern, rule) in [
                ("*users*.csv", FileRule::Kind(FileKind::People)),
                ("*contacts*.csv", FileRule::HubspotContacts),
                ("*companies*.csv", FileRule::Kind(FileKind::Accounts)),
                ("*deals*.csv", FileRule::Kind(FileKind::Opportunities)),
            ] {
                files.push((pattern.to_owned(), rule));
            }
        }
        for (pattern, kind) in [
            ("people.csv", FileKind::People),
            ("user.csv", FileKind::People),
            ("users.csv", FileKind::People),
            ("accounts.csv", FileKind::Accounts),
            ("account.csv", FileKind::Accounts),
            ("companies*.csv", FileKind::Accounts),
            ("opportunities.csv", FileKind::Opportunities),
            ("opportunity.csv", FileKind::Opportunities),
            ("deals*.csv", FileKind::Opportunities),
        ] {
            files.push((pattern.to_owned(), FileRule::Kind(kind)));
        }

        let (people, accounts, opportunities) = match format {
            CrmFormat::Generic => (
                KindLayout::of(&[
                    (Field::Id, &["id"]),
                    (Field::Email, &["email"]),
                    (Field::Name, &["name"]),
                    (Field::FirstName, &["first_name"]),
                    (Field::LastName, &["last_name"]),
                    (Field::Role, &["role"]),
                    (Field::Team, &["team"]),
                    (Field::ManagerEmail, &["manager_email"]),
                    (Field::Function, &["function"]),
                ]),
                KindLayout::of(&[
                    (Field::Id, &["id"]),
                    (Field::Name, &["name"]),
                    (Field::Domains, &["domains"]),
                    (Field::OwnerEmail, &["owner_email"]),
                ]),
                KindLayout::of(&[
                    (Field::Id, &["id"]),
                    (Field::AccountId, &["account_id"]),
                    (Field::Name, &["name"]),
                    (Field::Stage, &["stage"]),
                    (Field::Amount, &["amount"]),
                    (Field::OwnerEmail, &["owner_email"]),
                    (Field::Created, &["created"]),
                    (Field::CloseDate, &["close_date"]),
                ]),
            ),
            CrmFormat::Salesforce => (
                KindLayout::of(&[
                    (Field::Id, &["Id"]),
                    (Field::Email, &["Email"]),
                    (Field::Name, &["Name"]),
                    (Field::FirstName, &["FirstName"]),
                    (Field::LastName, &["LastName"]),
                    (Field::Role, &["Title", "UserRole.Name"]),
                    (Field::Team, &["Department", "Division"]),
                    (Field::ManagerEmail, &["Manager.Email"]),
                    (Field::ManagerId, &["ManagerId"]),
                ]),
                KindLayout::of(&[
                    (Field::Id, &["Id"]),
                    (Field::Name, &["Name"]),
                    (Field::Website, &["Website"]),
                    (Field::OwnerEmail, &["Owner.Email"]),
                    (Field::OwnerId, &["OwnerId"]),
                ]),
                KindLayout::of(&[
                    (Field::Id, &["Id"]),
                    (Field::AccountId, &["AccountId", "Account.Id"]),
                    (Field::Name, &["Name"]),
                    (Field::Stage, &["StageName"]),
                    (Field::Amount, &["Amount"]),
                    (Field::OwnerEmail, &["Owner.Email"]),
                    (Field::OwnerId, &["OwnerId"]),
                    (Field::Created, &["CreatedDate"]),
                    (Field::CloseDate, &["CloseDate"]),
                ]),
            ),
            CrmFormat::Hubspot => (
                KindLayout::of(&[
                    (Field::Id, &["Record ID", "User ID", "Contact ID"]),
                    (Field::Email, &["Email", "Email Address"]),
                    (Field::Name, &["Name", "Full Name"]),
                    (Field::FirstName, &["First Name"]),
                    (Field::LastName, &["Last Name"]),
                    (
                        Field::Role,
                        &["accord role", "Role", "User Role", "Job Title"],
                    ),
                    (Field::Team, &["Team", "Primary Team", "HubSpot Team"]),
                    (Field::ManagerEmail, &["Manager Email", "Manager"]),
                ]),
                KindLayout::of(&[
                    (Field::Id, &["Record ID", "Company ID"]),
                    (Field::Name, &["Company name", "Name"]),
                    (
                        Field::Domains,
                        &["Company Domain Name", "Additional Domains"],
                    ),
                    (Field::Website, &["Website URL", "Website"]),
                    (Field::Owner, &["Company owner", "HubSpot Owner"]),
                ]),
                KindLayout::of(&[
                    (Field::Id, &["Record ID", "Deal ID"]),
                    (
                        Field::AccountId,
                        &[
                            "Associated Company IDs",
                            "Associated Company ID",
                            "Associated Company IDs (Primary)",
                            "Associated Company",
                        ],
                    ),
                    (Field::Name, &["Deal Name"]),
                    (Field::Stage, &["Deal Stage"]),
                    (Field::Amount, &["Amount"]),
                    (Field::Owner, &["Deal owner", "HubSpot Owner"]),
                    (Field::Created, &["Create Date"]),
                    (Field::CloseDate, &["Close Date"]),
                ]),
            ),
        };

        let builtin_stages = match format {
            CrmFormat::Generic => HashMap::new(),
            CrmFormat::Salesforce => builtin_stage_map(SALESFORCE_STAGES),
            CrmFormat::Hubspot => builtin_stage_map(HUBSPOT_STAGES),
        };

        Layout {
            source: format.as_str().to_owned(),
            base: format,
            ids: if format == CrmFormat::Salesforce {
                IdStyle::Salesforce
            } else {
                IdStyle::Plain
            },
            roles: if format == CrmFormat::Generic {
                RoleStyle::Names
            } else {
                RoleStyle::Titles
            },
            delimiter: b',',
            decimal_comma: false,
            date_formats: Vec::new(),
            files,
            people,
            accounts,
            opportunities,
            stage_map: HashMap::new(),
            builtin_stages,
            role_map: HashMap::new(),
        }
    }

    pub(crate) fn kind(&self, kind: FileKind) -> &KindLayout {
        match kind {
            FileKind::People => &self.people,
            FileKind::Accounts => &self.accounts,
            FileKind::Opportunities => &self.opportunities,
        }
    }

    pub(crate) fn kind_mut(&mut self, kind: FileKind) -> &mut KindLayout {
        match kind {
            FileKind::People => &mut self.people,
            FileKind::Accounts => &mut self.accounts,
            FileKind::Opportunities => &mut self.opportunities,
        }
    }

    /// What the layout's patterns say about a file name.
    pub(crate) fn rule_for(&self, file_name: &str) -> FileRule {
        let lower = file_name.to_lowercase();
        self.files
            .iter()
            .find(|(pattern, _)| glob_match(pattern, &lower))
            .map(|(_, rule)| rule.clone())
            .unwrap_or_else(|| FileRule::Skip(skip_reason(file_name)))
    }
}

fn builtin_stage_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(name, stage)| (norm_key(name), (*stage).to_owned()))
        .collect()
}

fn skip_reason(file_name: &str) -> String {
    let stem = file_name
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(file_name)
        .to_lowercase();
    if stem.contains("contact") || stem.contains("lead") {
        "contacts and leads are the customer's people, not your organisation: accord reads people from User or people files".to_owned()
    } else {
        "accord imports people, accounts and opportunities, and this file name is none of them (rename the file, or name it in a mapping's [files])".to_owned()
    }
}

/// Whether `name` (lower case) matches `pattern` (lower case), where `*`
/// matches any run of characters and everything else matches itself.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last star:
    // linear in practice, no recursion on hostile patterns.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("deals*.csv", "deals-2024.csv"));
        assert!(glob_match(
            "*deals*.csv",
            "hubspot-crm-exports-all-deals-2024.csv"
        ));
        assert!(glob_match("people.csv", "people.csv"));
        assert!(!glob_match("people.csv", "people.csv.bak"));
        assert!(!glob_match("deals*.csv", "mydeals.csv"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn file_names_decide_kinds() {
        let sf = Layout::builtin(CrmFormat::Salesforce);
        assert_eq!(sf.rule_for("User.csv"), FileRule::Kind(FileKind::People));
        assert_eq!(
            sf.rule_for("Accounts.csv"),
            FileRule::Kind(FileKind::Accounts)
        );
        assert_eq!(
            sf.rule_for("Opportunity.csv"),
            FileRule::Kind(FileKind::Opportunities)
        );
        assert!(matches!(sf.rule_for("Contact.csv"), FileRule::Skip(_)));
        assert!(matches!(sf.rule_for("Case.csv"), FileRule::Skip(_)));
        let hs = Layout::builtin(CrmFormat::Hubspot);
        assert_eq!(
            hs.rule_for("hubspot-crm-exports-all-deals-2024-05-02.csv"),
            FileRule::Kind(FileKind::Opportunities)
        );
        assert_eq!(hs.rule_for("contacts.csv"), FileRule::HubspotContacts);
    }
}
