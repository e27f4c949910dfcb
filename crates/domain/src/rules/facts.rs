//! What rule conditions can see: for each record kind, a fixed set of
//! variables with typed fields.
//!
//! The schema here is the contract between the playbook author and accord:
//! `accord playbook show --fields` prints it, the condition checker refuses
//! anything outside it, and a unit test proves every declared field is
//! served by the facts of its kind (and nothing else is).

use crate::record::RecordKind;

/// The type of a field, as conditions see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `true` / `false`.
    Bool,
    /// A whole number.
    Int,
    /// A number with a fraction.
    Double,
    /// Text.
    String,
    /// A list of texts (test membership with `in`).
    StringList,
}

impl FieldType {
    /// The CEL name of the type.
    pub fn cel_name(self) -> &'static str {
        match self {
            FieldType::Bool => "bool",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::String => "string",
            FieldType::StringList => "list(string)",
        }
    }
}

/// One field of a variable.
#[derive(Debug)]
pub struct Field {
    /// Its name after the dot.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// What it means.
    pub doc: &'static str,
}

/// One variable a condition can name.
#[derive(Debug)]
pub struct Var {
    /// Its name (`request`, `stage`).
    pub name: &'static str,
    /// What it is.
    pub doc: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
}

impl PartialEq for Var {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && std::ptr::eq(self.fields, other.fields)
    }
}

impl Var {
    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

macro_rules! fields {
    ($($name:literal : $ty:ident = $doc:literal),* $(,)?) => {
        &[$(Field { name: $name, ty: FieldType::$ty, doc: $doc }),*]
    };
}

const PERSON_FIELDS: &[Field] = fields![
    "email": String = "their address (empty when nobody is assigned)",
    "name": String = "their name",
    "role": String = "pm, pm_lead, sales_rep, sales_manager, sales_engineer, admin or constituent",
    "team": String = "their team's name (empty when none)",
];

const ACCOUNT_FIELDS: &[Field] = fields![
    "name": String = "the account's name",
    "has_owner": Bool = "whether a relationship owner is known",
    "owner_email": String = "the relationship owner's address (empty when none)",
    "owner_name": String = "the relationship owner's name (empty when none)",
];

const REQUEST_VARS: &[Var] = &[
    Var {
        name: "request",
        doc: "the engagement request",
        fields: fields![
            "type": String = "the engagement type's id",
            "purpose": String = "clarification, direction or vision",
            "briefing": String = "the briefing text",
            "has_briefing": Bool = "whether the briefing says something (at least the playbook's settings.min_briefing_chars characters)",
            "lead_time_hours": Double = "hours between the request and when the PM is needed",
            "lead_time_business_days": Int = "business days between the request and when the PM is needed",
            "state": String = "requested, needs_exception, accepted, declined, redirected, scheduled, done or cancelled",
        ],
    },
    Var {
        name: "type",
        doc: "the requested engagement type, from the catalog",
        fields: fields![
            "id": String = "its id",
            "name": String = "its name",
            "category": String = "product or sales_support",
            "purpose": String = "the purpose it serves: clarification, direction or vision",
            "redirect_to": String = "where the catalog sends it instead (empty when nowhere)",
        ],
    },
    Var {
        name: "stage",
        doc: "the opportunity's stage, from the sales process model",
        fields: fields![
            "id": String = "its id",
            "name": String = "its name",
            "order": Int = "its position in the sales process",
            "engagement": String = "how PMs are engaged there: none, on_request or expected",
            "allowed_types": StringList = "the engagement types it allows",
            "expectation": String = "what is expected of the PM there",
        ],
    },
    Var {
        name: "opportunity",
        doc: "the deal",
        fields: fields![
            "name": String = "its name",
            "amount": Double = "its value (0 when unknown)",
        ],
    },
    Var {
        name: "account",
        doc: "the deal's account",
        fields: ACCOUNT_FIELDS,
    },
    Var {
        name: "requester",
        doc: "who asked",
        fields: fields![
            "email": String = "their address",
            "name": String = "their name",
            "role": String = "their role",
            "team": String = "their team's name",
            "is_owner": Bool = "whether they own the account",
        ],
    },
    Var {
        name: "pm",
        doc: "the PM asked for",
        fields: fields![
            "assigned": Bool = "whether a PM is named",
            "email": String = "their address (empty when none)",
            "name": String = "their name",
            "role": String = "their role",
            "team": String = "their team's name",
        ],
    },
];

const MEETING_VARS: &[Var] = &[
    Var {
        name: "meeting",
        doc: "the customer contact",
        fields: fields![
            "title": String = "its title",
            "source": String = "planned (through accord, before it happens), logged (by hand, after) or calendar (imported)",
            "planned": Bool = "whether it is being planned through accord (a deny refuses it)",
            "customer_facing": Bool = "whether someone from a customer account attends",
            "customer_attendees": Int = "customer people attending",
            "internal_attendees": Int = "our people attending",
            "pm_attendees": Int = "PMs and PM leads attending",
            "pm_present": Bool = "whether at least one PM or PM lead attends",
            "sales_attendees": Int = "sales people attending",
            "owner_present": Bool = "whether the account's relationship owner attends (declined = absent)",
            "duration_minutes": Int = "its length",
        ],
    },
    Var {
        name: "account",
        doc: "the customer account met",
        fields: ACCOUNT_FIELDS,
    },
];

const COMMITMENT_VARS: &[Var] = &[
    Var {
        name: "commitment",
        doc: "the commitment",
        fields: fields![
            "kind": String = "feature, date, price or other",
            "text": String = "what was said",
            "state": String = "pending, approved or rejected",
            "approved": Bool = "whether a PM lead approved it",
            "owner_present": Bool = "whether the account's relationship owner was there when it was said",
            "in_meeting": Bool = "whether it is tied to a logged customer contact",
        ],
    },
    Var {
        name: "said_by",
        doc: "who said it",
        fields: PERSON_FIELDS,
    },
    Var {
        name: "account",
        doc: "the customer it was made to",
        fields: ACCOUNT_FIELDS,
    },
];

const ACCESS_VARS: &[Var] = &[
    Var {
        name: "access",
        doc: "the access request",
        fields: fields![
            "purpose": String = "discovery, feedback or validation",
            "agenda": String = "what the PM wants to cover",
            "has_agenda": Bool = "whether the agenda says something (at least settings.min_briefing_chars characters)",
            "lead_time_hours": Double = "hours between the request and the wanted date (0 when no date)",
            "lead_time_business_days": Int = "business days between the request and the wanted date (0 when no date)",
            "state": String = "pending, granted, granted_with_conditions, denied or withdrawn",
        ],
    },
    Var {
        name: "pm",
        doc: "the PM asking",
        fields: PERSON_FIELDS,
    },
    Var {
        name: "account",
        doc: "the customer",
        fields: ACCOUNT_FIELDS,
    },
];

/// The variables a condition on `kind` can name.
pub fn schema(kind: RecordKind) -> &'static [Var] {
    match kind {
        RecordKind::Request => REQUEST_VARS,
        RecordKind::Meeting => MEETING_VARS,
        RecordKind::Commitment => COMMITMENT_VARS,
        RecordKind::Access => ACCESS_VARS,
    }
}

/// A variable of `kind` by name.
pub fn var(kind: RecordKind, name: &str) -> Option<&'static Var> {
    schema(kind).iter().find(|v| v.name == name)
}

/// One field's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fact<'a> {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Double(f64),
    /// Text, borrowed from the record or the playbook.
    Str(&'a str),
    /// A list of texts.
    List(&'a [String]),
}

impl Fact<'_> {
    /// The declared type this value has.
    pub fn ty(&self) -> FieldType {
        match self {
            Fact::Bool(_) => FieldType::Bool,
            Fact::Int(_) => FieldType::Int,
            Fact::Double(_) => FieldType::Double,
            Fact::Str(_) => FieldType::String,
            Fact::List(_) => FieldType::StringList,
        }
    }

    /// The value as a message shows it.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Fact::Bool(b) => out.push_str(if *b { "yes" } else { "no" }),
            Fact::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Fact::Double(d) => {
                if d.fract() == 0.0 && d.abs() < 1e15 {
                    let _ = write!(out, "{d:.0}");
                } else {
                    let _ = write!(out, "{d:.1}");
                }
            }
            Fact::Str(s) => out.push_str(s),
            Fact::List(l) => {
                if l.is_empty() {
                    out.push_str("none");
                } else {
                    out.push_str(&l.join(", "));
                }
            }
        }
    }
}

/// The facts of one record, as its conditions see them.
pub trait FactSource: Send + Sync {
    /// The record kind.
    fn kind(&self) -> RecordKind;
    /// The value of `var.field`, or `None` when the schema has no such
    /// field.
    fn get(&self, var: &str, field: &str) -> Option<Fact<'_>>;
}
