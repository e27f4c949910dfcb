//! Who may do what: deny by default.
//!
//! Two layers. The role matrix ([`Action::roles`]) says which roles may
//! attempt an action at all; the use cases then check the record itself
//! ("only the assigned PM accepts a request", "only the account's owner or
//! their manager answers an access request", "only a PM lead approves a
//! commitment", "the approver named by the playbook grants an exception").
//! `PERMISSIONS.md` is generated from this table and a test keeps it true.

use std::fmt;

use accord_domain::people::{Person, Role};
use serde::Serialize;

use crate::error::{Result, ServiceError};

/// Everything a person can ask accord to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read people, teams, accounts and opportunities.
    ReadOrg,
    /// Create or change people, teams, accounts and opportunities.
    WriteOrg,
    /// Ask for a PM on an opportunity.
    CreateRequest,
    /// See engagement requests.
    ReadRequests,
    /// Accept, decline or redirect a request (the assigned PM, or the PM
    /// lead of their team; an unassigned request can be taken by any PM).
    AnswerRequest,
    /// Set or move a request's date (its requester or its PM).
    ScheduleRequest,
    /// Record a request's outcome and hours (its PM).
    CompleteRequest,
    /// Call a request off (its requester or its PM).
    CancelRequest,
    /// Ask what the playbook would say about a draft (dry run).
    Evaluate,
    /// Log or plan a customer contact.
    LogMeeting,
    /// See customer contacts.
    ReadMeetings,
    /// Ask an account's owner for customer time.
    CreateAccess,
    /// Answer an access request (the account's owner or their manager).
    AnswerAccess,
    /// See access requests.
    ReadAccess,
    /// Log a commitment made to a customer.
    LogCommitment,
    /// Approve or reject a commitment.
    DecideCommitment,
    /// See commitments.
    ReadCommitments,
    /// Capture an insight from a customer.
    CreateInsight,
    /// See insights.
    ReadInsights,
    /// Ask for a rule to be set aside for one record.
    RequestException,
    /// Grant or refuse an exception (the rule's approver role).
    DecideException,
    /// See exceptions.
    ReadExceptions,
    /// Read the playbook and its versions.
    ReadPlaybook,
    /// Upload a new playbook version.
    UploadPlaybook,
    /// Read the charter.
    ReadCharter,
    /// Draft a new charter version.
    DraftCharter,
    /// Comment on a charter draft.
    CommentCharter,
    /// Endorse a charter draft for one's function.
    EndorseCharter,
    /// Ratify an endorsed draft.
    RatifyCharter,
    /// Acknowledge the charter in force.
    AcknowledgeCharter,
    /// Read the audit log and the decision log.
    ReadLogs,
    /// Create and revoke API tokens for others.
    ManageTokens,
    /// Register and remove webhooks, see and redeliver deliveries.
    ManageWebhooks,
    /// Import CRM and calendar files.
    Import,
    /// See every signal, alert and the report.
    ReadReport,
    /// Open and record rules-of-engagement reviews.
    ManageReviews,
}

use Role::*;

const EVERYONE: &[Role] = &[
    Pm,
    PmLead,
    SalesRep,
    SalesManager,
    SalesEngineer,
    Admin,
    Constituent,
];
const IN_THE_RELATIONSHIP: &[Role] = &[Pm, PmLead, SalesRep, SalesManager, SalesEngineer, Admin];
const LEADERS: &[Role] = &[PmLead, SalesManager, Admin];

impl Action {
    /// Every action, in documentation order.
    pub const ALL: [Action; 36] = [
        Action::ReadOrg,
        Action::WriteOrg,
        Action::CreateRequest,
        Action::ReadRequests,
        Action::AnswerRequest,
        Action::ScheduleRequest,
        Action::CompleteRequest,
        Action::CancelRequest,
        Action::Evaluate,
        Action::LogMeeting,
        Action::ReadMeetings,
        Action::CreateAccess,
        Action::AnswerAccess,
        Action::ReadAccess,
        Action::LogCommitment,
        Action::DecideCommitment,
        Action::ReadCommitments,
        Action::CreateInsight,
        Action::ReadInsights,
        Action::RequestException,
        Action::DecideException,
        Action::ReadExceptions,
        Action::ReadPlaybook,
        Action::UploadPlaybook,
        Action::ReadCharter,
        Action::DraftCharter,
        Action::CommentCharter,
        Action::EndorseCharter,
        Action::RatifyCharter,
        Action::AcknowledgeCharter,
        Action::ReadLogs,
        Action::ManageTokens,
        Action::ManageWebhooks,
        Action::Import,
        Action::ReadReport,
        Action::ManageReviews,
    ];

    /// The roles that may attempt the action.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::ReadOrg => EVERYONE,
            Action::WriteOrg => &[Admin],
            Action::CreateRequest => &[SalesRep, SalesManager],
            Action::ReadRequests => IN_THE_RELATIONSHIP,
            Action::AnswerRequest => &[Pm, PmLead],
            Action::ScheduleRequest => &[Pm, PmLead, SalesRep, SalesManager],
            Action::CompleteRequest => &[Pm, PmLead],
            Action::CancelRequest => &[Pm, PmLead, SalesRep, SalesManager],
            Action::Evaluate => IN_THE_RELATIONSHIP,
            Action::LogMeeting => &[Pm, PmLead, SalesRep, SalesManager, SalesEngineer],
            Action::ReadMeetings => IN_THE_RELATIONSHIP,
            Action::CreateAccess => &[Pm, PmLead],
            Action::AnswerAccess => &[SalesRep, SalesManager],
            Action::ReadAccess => &[Pm, PmLead, SalesRep, SalesManager, Admin],
            Action::LogCommitment => &[Pm, PmLead, SalesRep, SalesManager, SalesEngineer],
            Action::DecideCommitment => &[PmLead],
            Action::ReadCommitments => IN_THE_RELATIONSHIP,
            Action::CreateInsight => &[Pm, PmLead],
            Action::ReadInsights => EVERYONE,
            Action::RequestException => &[Pm, PmLead, SalesRep, SalesManager, SalesEngineer],
            Action::DecideException => &[PmLead, SalesManager],
            Action::ReadExceptions => IN_THE_RELATIONSHIP,
            Action::ReadPlaybook => EVERYONE,
            Action::UploadPlaybook => &[Admin],
            Action::ReadCharter => EVERYONE,
            Action::DraftCharter => &[PmLead],
            Action::CommentCharter => EVERYONE,
            Action::EndorseCharter => &[PmLead, SalesManager, Constituent],
            Action::RatifyCharter => &[PmLead],
            Action::AcknowledgeCharter => &[Pm, PmLead],
            Action::ReadLogs => LEADERS,
            Action::ManageTokens => &[Admin],
            Action::ManageWebhooks => &[Admin],
            Action::Import => &[Admin],
            Action::ReadReport => LEADERS,
            Action::ManageReviews => &[PmLead, SalesManager],
        }
    }

    /// Whether `role` may attempt the action.
    pub fn allows(self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// The action's name (`create_request`).
    pub fn as_str(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{self:?}"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// Who is acting.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    /// The person.
    pub person: Person,
}

impl Principal {
    /// A signed-in person.
    pub fn new(person: Person) -> Self {
        Self { person }
    }

    /// Their role.
    pub fn role(&self) -> Role {
        self.person.role
    }

    /// Refuses unless the person's role may attempt `action` (and they are
    /// still active).
    pub fn require(&self, action: Action) -> Result<()> {
        if !self.person.active {
            return Err(ServiceError::forbidden("this account is deactivated"));
        }
        if action.allows(self.person.role) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(format!(
                "a {} may not {}",
                self.person.role,
                action.as_str().replace('_', " ")
            )))
        }
    }

    /// The actor, for audit entries.
    pub fn actor(&self) -> accord_store::Actor {
        accord_store::Actor::person(self.person.id, self.person.email.as_str())
    }
}

/// Who is calling a use case: a signed-in person (checked against the
/// matrix), or accord itself on this machine — the CLI, run by someone with
/// access to the database, and background work — which is trusted.
#[derive(Clone, Debug, PartialEq)]
pub enum Caller {
    /// A person, through the API or the web UI.
    Person(Principal),
    /// A local process: `cli`, `import`, `system`, `demo`.
    Local(&'static str),
}

impl Caller {
    /// Refuses a person whose role may not attempt `action`; local callers
    /// may do anything.
    pub fn require(&self, action: Action) -> Result<()> {
        match self {
            Caller::Person(p) => p.require(action),
            Caller::Local(_) => Ok(()),
        }
    }

    /// The actor, for audit entries.
    pub fn actor(&self) -> accord_store::Actor {
        match self {
            Caller::Person(p) => p.actor(),
            Caller::Local(label) => accord_store::Actor::process(label),
        }
    }

    /// The person, when it is one.
    pub fn person(&self) -> Option<&Person> {
        match self {
            Caller::Person(p) => Some(&p.person),
            Caller::Local(_) => None,
        }
    }
}

impl From<Principal> for Caller {
    fn from(p: Principal) -> Self {
        Caller::Person(p)
    }
}

/// The permission matrix as Markdown: `PERMISSIONS.md`.
pub fn matrix_markdown() -> String {
    let mut out = String::from(
        "# Permissions\n\nGenerated from `crates/service/src/authz.rs` (a test keeps this file in step).\n\
         Deny by default: a role not marked may not attempt the action. The record-level\n\
         checks below the table apply on top.\n\n| action |",
    );
    for r in Role::ALL {
        out.push_str(&format!(" {} |", r.as_str()));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str(":-:|");
    }
    out.push('\n');
    for a in Action::ALL {
        out.push_str(&format!("| {} |", a.as_str()));
        for r in Role::ALL {
            out.push_str(if a.allows(r) { " ✓ |" } else { " |" });
        }
        out.push('\n');
    }
    out.push_str(
        "\nRecord-level checks:\n\n\
         - **create_request**: a rep asks on opportunities they own (or whose account they own); a sales manager on those of the reps they manage.\n\
         - **answer_request**: only the assigned PM accepts, declines or redirects; the PM lead of the PM's team may decline or redirect on their behalf; an unassigned request may be taken (accepted) by any PM.\n\
         - **schedule_request**, **cancel_request**: the request's requester or its PM (or their leads).\n\
         - **complete_request**: the request's PM.\n\
         - **answer_access**: only the account's relationship owner or that owner's manager.\n\
         - **decide_commitment**: a PM lead (never the person who made the commitment).\n\
         - **decide_exception**: a person whose role is the approver the playbook names for the rule (never the person who asked for it).\n\
         - **endorse_charter**: a function lead endorses for their own function (a sales manager for `sales`, a PM lead for `product`, a constituent for the function on their record), once per function.\n\
         - **acknowledge_charter**: a PM acknowledges the ratified version in force.\n\
         - **read_report**: reps and PMs see the signals about themselves (their own record) without this permission.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_names_at_least_one_role_and_admin_does_not_work_deals() {
        for a in Action::ALL {
            assert!(!a.roles().is_empty(), "{a}");
        }
        for a in [
            Action::CreateRequest,
            Action::AnswerRequest,
            Action::DecideCommitment,
            Action::AnswerAccess,
        ] {
            assert!(!a.allows(Role::Admin), "{a}");
        }
        assert!(Action::DecideCommitment.allows(Role::PmLead));
        assert!(!Action::DecideCommitment.allows(Role::Pm));
    }

    #[test]
    fn permissions_md_is_in_step_with_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../PERMISSIONS.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if on_disk != matrix_markdown() {
            // Regenerate with ACCORD_WRITE_PERMISSIONS=1 cargo test -p accord-service.
            if std::env::var_os("ACCORD_WRITE_PERMISSIONS").is_some() {
                std::fs::write(path, matrix_markdown()).unwrap();
            } else {
                panic!(
                    "PERMISSIONS.md is out of date: run ACCORD_WRITE_PERMISSIONS=1 cargo test -p accord-service"
                );
            }
        }
    }
}
