//! What the rules are evaluated on: one input per record kind.
//!
//! An input is a record as the rules see it, already joined with the people,
//! account and opportunity around it. The service layer builds inputs from
//! stored records; `POST /evaluate` builds them from drafts; playbook
//! `[[tests]]` write them by hand. All three then go through the same
//! `facts` conversion, so a playbook test exercises exactly what a real
//! record would.

use serde::{Deserialize, Serialize};

use crate::access::{AccessPurpose, AccessState};
use crate::commitment::{CommitmentKind, CommitmentState};
use crate::people::Role;
use crate::playbook::{EngagementType, Playbook, Stage};
use crate::record::RecordKind;
use crate::request::{Purpose, RequestState};
use crate::rules::facts::{Fact, FactSource};

/// A person as the rules see them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PersonFacts {
    /// Their address (empty when nobody).
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Option<Role>,
    /// Their team's name.
    pub team: String,
}

impl PersonFacts {
    fn with_role(role: Role) -> Self {
        Self {
            role: Some(role),
            ..Self::default()
        }
    }

    fn get(&self, field: &str) -> Option<Fact<'_>> {
        Some(match field {
            "email" => Fact::Str(&self.email),
            "name" => Fact::Str(&self.name),
            "role" => Fact::Str(self.role.map(Role::as_str).unwrap_or("")),
            "team" => Fact::Str(&self.team),
            _ => return None,
        })
    }
}

/// An account as the rules see it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AccountFacts {
    /// Its name.
    pub name: String,
    /// The relationship owner's address (empty when none).
    pub owner_email: String,
    /// The relationship owner's name.
    pub owner_name: String,
    /// Whether an owner is known; tests may set it alone.
    pub has_owner: Option<bool>,
}

impl AccountFacts {
    fn get(&self, field: &str) -> Option<Fact<'_>> {
        Some(match field {
            "name" => Fact::Str(&self.name),
            "has_owner" => Fact::Bool(
                self.has_owner
                    .unwrap_or(!self.owner_email.is_empty() || !self.owner_name.is_empty()),
            ),
            "owner_email" => Fact::Str(&self.owner_email),
            "owner_name" => Fact::Str(&self.owner_name),
            _ => return None,
        })
    }
}

/// The deal a request is for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct OpportunityFacts {
    /// Its name.
    pub name: String,
    /// Its value (0 when unknown).
    pub amount: f64,
}

/// Who asked for a PM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RequesterFacts {
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their team's name.
    pub team: String,
    /// Whether they own the account.
    pub is_owner: bool,
}

impl Default for RequesterFacts {
    fn default() -> Self {
        Self {
            email: String::new(),
            name: String::new(),
            role: Role::SalesRep,
            team: String::new(),
            is_owner: true,
        }
    }
}

/// An engagement request as the rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RequestInput {
    /// The engagement type's id (must be in the catalog).
    #[serde(rename = "type")]
    pub engagement_type: String,
    /// The opportunity's stage id (must be in the model).
    pub stage: String,
    /// Why; defaults to the type's purpose.
    pub purpose: Option<Purpose>,
    /// The briefing.
    pub briefing: String,
    /// Hours between the request and when the PM is needed.
    pub lead_time_hours: f64,
    /// Business days between the two; defaults to whole days of
    /// `lead_time_hours` when not given.
    pub lead_time_business_days: Option<i64>,
    /// Where the request stands.
    pub state: RequestState,
    /// The deal.
    pub opportunity: OpportunityFacts,
    /// The deal's account.
    pub account: AccountFacts,
    /// Who asked.
    pub requester: RequesterFacts,
    /// The PM asked for; `role` unset means none is named.
    pub pm: PersonFacts,
}

impl Default for RequestInput {
    fn default() -> Self {
        Self {
            engagement_type: String::new(),
            stage: String::new(),
            purpose: None,
            briefing: String::new(),
            lead_time_hours: 240.0,
            lead_time_business_days: None,
            state: RequestState::Requested,
            opportunity: OpportunityFacts::default(),
            account: AccountFacts::default(),
            requester: RequesterFacts::default(),
            pm: PersonFacts::with_role(Role::Pm),
        }
    }
}

/// Where a meeting came from, as the rules see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MeetingOrigin {
    /// Planned through accord before it happens: a deny refuses it.
    #[default]
    Planned,
    /// Logged by hand after it happened.
    Logged,
    /// Found in an imported calendar.
    Calendar,
}

impl MeetingOrigin {
    /// The name conditions compare with.
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingOrigin::Planned => "planned",
            MeetingOrigin::Logged => "logged",
            MeetingOrigin::Calendar => "calendar",
        }
    }
}

/// A customer contact as the rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct MeetingInput {
    /// Its title.
    pub title: String,
    /// Where it came from.
    pub source: MeetingOrigin,
    /// Customer people attending.
    pub customer_attendees: i64,
    /// Our people attending.
    pub internal_attendees: i64,
    /// PMs and PM leads attending.
    pub pm_attendees: i64,
    /// Sales people attending.
    pub sales_attendees: i64,
    /// Whether the relationship owner attends.
    pub owner_present: bool,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// The customer.
    pub account: AccountFacts,
}

impl Default for MeetingInput {
    fn default() -> Self {
        Self {
            title: String::new(),
            source: MeetingOrigin::Planned,
            customer_attendees: 1,
            internal_attendees: 2,
            pm_attendees: 1,
            sales_attendees: 1,
            owner_present: true,
            duration_minutes: 60,
            account: AccountFacts::default(),
        }
    }
}

/// A commitment as the rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct CommitmentInput {
    /// Feature, date, price or other.
    pub kind: CommitmentKind,
    /// What was said.
    pub text: String,
    /// Where it stands.
    pub state: CommitmentState,
    /// Whether the relationship owner was there.
    pub owner_present: bool,
    /// Whether it is tied to a logged contact.
    pub in_meeting: bool,
    /// Who said it.
    pub said_by: PersonFacts,
    /// The customer.
    pub account: AccountFacts,
}

impl Default for CommitmentInput {
    fn default() -> Self {
        Self {
            kind: CommitmentKind::Feature,
            text: String::new(),
            state: CommitmentState::Pending,
            owner_present: true,
            in_meeting: true,
            said_by: PersonFacts::with_role(Role::Pm),
            account: AccountFacts::default(),
        }
    }
}

/// An access request as the rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AccessInput {
    /// Discovery, feedback or validation.
    pub purpose: AccessPurpose,
    /// What the PM wants to cover.
    pub agenda: String,
    /// Hours until the wanted date (0 when none).
    pub lead_time_hours: f64,
    /// Business days until the wanted date; defaults to whole days of
    /// `lead_time_hours`.
    pub lead_time_business_days: Option<i64>,
    /// Where it stands.
    pub state: AccessState,
    /// The PM asking.
    pub pm: PersonFacts,
    /// The customer.
    pub account: AccountFacts,
}

impl Default for AccessInput {
    fn default() -> Self {
        Self {
            purpose: AccessPurpose::Discovery,
            agenda: String::new(),
            lead_time_hours: 240.0,
            lead_time_business_days: None,
            state: AccessState::Pending,
            pm: PersonFacts::with_role(Role::Pm),
            account: AccountFacts::default(),
        }
    }
}

/// One record of any kind, as the rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// An engagement request.
    Request(RequestInput),
    /// A customer contact.
    Meeting(MeetingInput),
    /// A commitment.
    Commitment(CommitmentInput),
    /// An access request.
    Access(AccessInput),
}

impl Input {
    /// Its record kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Input::Request(_) => RecordKind::Request,
            Input::Meeting(_) => RecordKind::Meeting,
            Input::Commitment(_) => RecordKind::Commitment,
            Input::Access(_) => RecordKind::Access,
        }
    }
}

/// An input that names something the playbook does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The engagement type is not in the catalog.
    #[error("unknown engagement type {0:?}: it is not in the playbook's catalog")]
    UnknownType(String),
    /// The stage is not in the sales process model.
    #[error("unknown stage {0:?}: it is not in the playbook's sales process model")]
    UnknownStage(String),
}

fn whole_days(hours: f64) -> i64 {
    if hours.is_finite() {
        (hours / 24.0).floor() as i64
    } else {
        0
    }
}

fn says_something(text: &str, min_chars: usize) -> bool {
    let t = text.trim();
    !t.is_empty() && t.chars().count() >= min_chars
}

/// The facts of an engagement request.
#[derive(Debug)]
pub struct RequestFacts<'a> {
    input: &'a RequestInput,
    ty: &'a EngagementType,
    stage: &'a Stage,
    purpose: Purpose,
    has_briefing: bool,
    business_days: i64,
}

impl<'a> RequestFacts<'a> {
    /// Joins the input with the catalog and the model.
    pub fn new(input: &'a RequestInput, playbook: &'a Playbook) -> Result<Self, InputError> {
        let ty = playbook
            .engagement_type(&input.engagement_type)
            .ok_or_else(|| InputError::UnknownType(input.engagement_type.clone()))?;
        let stage = playbook
            .stage(&input.stage)
            .ok_or_else(|| InputError::UnknownStage(input.stage.clone()))?;
        Ok(Self {
            input,
            ty,
            stage,
            purpose: input.purpose.unwrap_or(ty.purpose),
            has_briefing: says_something(&input.briefing, playbook.settings.min_briefing_chars),
            business_days: input
                .lead_time_business_days
                .unwrap_or_else(|| whole_days(input.lead_time_hours)),
        })
    }
}

impl FactSource for RequestFacts<'_> {
    fn kind(&self) -> RecordKind {
        RecordKind::Request
    }

    fn get(&self, var: &str, field: &str) -> Option<Fact<'_>> {
        let i = self.input;
        Some(match (var, field) {
            ("request", "type") => Fact::Str(self.ty.id.as_str()),
            ("request", "purpose") => Fact::Str(self.purpose.as_str()),
            ("request", "briefing") => Fact::Str(&i.briefing),
            ("request", "has_briefing") => Fact::Bool(self.has_briefing),
            ("request", "lead_time_hours") => Fact::Double(i.lead_time_hours),
            ("request", "lead_time_business_days") => Fact::Int(self.business_days),
            ("request", "state") => Fact::Str(i.state.as_str()),
            ("type", "id") => Fact::Str(self.ty.id.as_str()),
            ("type", "name") => Fact::Str(&self.ty.name),
            ("type", "category") => Fact::Str(self.ty.category.as_str()),
            ("type", "purpose") => Fact::Str(self.ty.purpose.as_str()),
            ("type", "redirect_to") => Fact::Str(self.ty.redirect_to.as_deref().unwrap_or("")),
            ("stage", "id") => Fact::Str(self.stage.id.as_str()),
            ("stage", "name") => Fact::Str(&self.stage.name),
            ("stage", "order") => Fact::Int(self.stage.order),
            ("stage", "engagement") => Fact::Str(self.stage.engagement.as_str()),
            ("stage", "allowed_types") => Fact::List(&self.stage.allowed_type_names),
            ("stage", "expectation") => Fact::Str(&self.stage.expectation),
            ("opportunity", "name") => Fact::Str(&i.opportunity.name),
            ("opportunity", "amount") => Fact::Double(i.opportunity.amount),
            ("account", f) => return i.account.get(f),
            ("requester", "email") => Fact::Str(&i.requester.email),
            ("requester", "name") => Fact::Str(&i.requester.name),
            ("requester", "role") => Fact::Str(i.requester.role.as_str()),
            ("requester", "team") => Fact::Str(&i.requester.team),
            ("requester", "is_owner") => Fact::Bool(i.requester.is_owner),
            ("pm", "assigned") => Fact::Bool(i.pm.role.is_some() || !i.pm.email.is_empty()),
            ("pm", f) => return i.pm.get(f),
            _ => return None,
        })
    }
}

/// The facts of a customer contact.
#[derive(Debug)]
pub struct MeetingFacts<'a> {
    input: &'a MeetingInput,
}

impl<'a> MeetingFacts<'a> {
    /// The facts of a meeting input.
    pub fn new(input: &'a MeetingInput) -> Self {
        Self { input }
    }
}

impl FactSource for MeetingFacts<'_> {
    fn kind(&self) -> RecordKind {
        RecordKind::Meeting
    }

    fn get(&self, var: &str, field: &str) -> Option<Fact<'_>> {
        let i = self.input;
        Some(match (var, field) {
            ("meeting", "title") => Fact::Str(&i.title),
            ("meeting", "source") => Fact::Str(i.source.as_str()),
            ("meeting", "planned") => Fact::Bool(i.source == MeetingOrigin::Planned),
            ("meeting", "customer_facing") => {
                Fact::Bool(i.customer_attendees > 0 && i.internal_attendees > 0)
            }
            ("meeting", "customer_attendees") => Fact::Int(i.customer_attendees),
            ("meeting", "internal_attendees") => Fact::Int(i.internal_attendees),
            ("meeting", "pm_attendees") => Fact::Int(i.pm_attendees),
            ("meeting", "pm_present") => Fact::Bool(i.pm_attendees > 0),
            ("meeting", "sales_attendees") => Fact::Int(i.sales_attendees),
            ("meeting", "owner_present") => Fact::Bool(i.owner_present),
            ("meeting", "duration_minutes") => Fact::Int(i.duration_minutes),
            ("account", f) => return i.account.get(f),
            _ => return None,
        })
    }
}

/// The facts of a commitment.
#[derive(Debug)]
pub struct CommitmentFacts<'a> {
    input: &'a CommitmentInput,
}

impl<'a> CommitmentFacts<'a> {
    /// The facts of a commitment input.
    pub fn new(input: &'a CommitmentInput) -> Self {
        Self { input }
    }
}

impl FactSource for CommitmentFacts<'_> {
    fn kind(&self) -> RecordKind {
        RecordKind::Commitment
    }

    fn get(&self, var: &str, field: &str) -> Option<Fact<'_>> {
        let i = self.input;
        Some(match (var, field) {
            ("commitment", "kind") => Fact::Str(i.kind.as_str()),
            ("commitment", "text") => Fact::Str(&i.text),
            ("commitment", "state") => Fact::Str(i.state.as_str()),
            ("commitment", "approved") => Fact::Bool(i.state == CommitmentState::Approved),
            ("commitment", "owner_present") => Fact::Bool(i.owner_present),
            ("commitment", "in_meeting") => Fact::Bool(i.in_meeting),
            ("said_by", f) => return i.said_by.get(f),
            ("account", f) => return i.account.get(f),
            _ => return None,
        })
    }
}

/// The facts of an access request.
#[derive(Debug)]
pub struct AccessFacts<'a> {
    input: &'a AccessInput,
    has_agenda: bool,
    business_days: i64,
}

impl<'a> AccessFacts<'a> {
    /// The facts of an access input.
    pub fn new(input: &'a AccessInput, playbook: &Playbook) -> Self {
        Self {
            input,
            has_agenda: says_something(&input.agenda, playbook.settings.min_briefing_chars),
            business_days: input
                .lead_time_business_days
                .unwrap_or_else(|| whole_days(input.lead_time_hours)),
        }
    }
}

impl FactSource for AccessFacts<'_> {
    fn kind(&self) -> RecordKind {
        RecordKind::Access
    }

    fn get(&self, var: &str, field: &str) -> Option<Fact<'_>> {
        let i = self.input;
        Some(match (var, field) {
            ("access", "purpose") => Fact::Str(i.purpose.as_str()),
            ("access", "agenda") => Fact::Str(&i.agenda),
            ("access", "has_agenda") => Fact::Bool(self.has_agenda),
            ("access", "lead_time_hours") => Fact::Double(i.lead_time_hours),
            ("access", "lead_time_business_days") => Fact::Int(self.business_days),
            ("access", "state") => Fact::Str(i.state.as_str()),
            ("pm", f) => return i.pm.get(f),
            ("account", f) => return i.account.get(f),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::facts::schema;

    fn check_schema(source: &dyn FactSource) {
        let kind = source.kind();
        for var in schema(kind) {
            for field in var.fields {
                let fact = source.get(var.name, field.name).unwrap_or_else(|| {
                    panic!(
                        "{kind}: {}.{} is declared but not served",
                        var.name, field.name
                    )
                });
                assert_eq!(fact.ty(), field.ty, "{kind}: {}.{}", var.name, field.name);
            }
        }
        assert!(source.get("request", "nope").is_none());
        assert!(source.get("nope", "name").is_none());
    }

    #[test]
    fn every_declared_field_is_served_with_its_type() {
        let playbook = Playbook::default_playbook();
        let ty = playbook.engagement_types[0].id.to_string();
        let stage = playbook.stages[0].id.to_string();
        let req = RequestInput {
            engagement_type: ty,
            stage,
            ..RequestInput::default()
        };
        check_schema(&RequestFacts::new(&req, &playbook).unwrap());
        check_schema(&MeetingFacts::new(&MeetingInput::default()));
        check_schema(&CommitmentFacts::new(&CommitmentInput::default()));
        check_schema(&AccessFacts::new(&AccessInput::default(), &playbook));
    }

    #[test]
    fn unknown_catalog_entries_are_refused() {
        let playbook = Playbook::default_playbook();
        let req = RequestInput {
            engagement_type: "juggling".into(),
            stage: "discovery".into(),
            ..RequestInput::default()
        };
        assert_eq!(
            RequestFacts::new(&req, &playbook).unwrap_err(),
            InputError::UnknownType("juggling".into())
        );
    }
}
