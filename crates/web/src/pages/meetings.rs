//! Customer contacts: the contacts a person attended; logging one after
//! the fact or planning one (checked against the playbook first — a
//! planned contact the playbook refuses comes back with the rule's message
//! and a way to ask for an exception on the same form); and one contact
//! with what the playbook said, the insights captured from it and any
//! commitment made in it.

use std::collections::HashSet;

use accord_domain::commitment::{CommitmentKind, CommitmentState};
use accord_domain::id::{AccountId, MeetingId, PersonId};
use accord_domain::insight::InsightKind;
use accord_domain::meeting::{MeetingSource, ResponseStatus};
use accord_domain::people::Role;
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::rules::Decision;
use accord_service::contacts::{NewAttendee, NewCommitment, NewInsight, NewMeeting};
use accord_service::evaluate::Draft;
use accord_service::exceptions::NewException;
use accord_service::{Action, ServiceError};
use accord_store::{MeetingFilter, PageRequest, StoredMeeting};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::form::{Errors, Fields};
use super::requests::{Choice, DecisionView, decision_view};
use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render, render_status};
use crate::names::Names;
use crate::session::Viewer;

/// Attendee rows on the form (a contact with more people is logged in
/// two goes, or imported from the calendar).
const ROWS: usize = 8;

/// Answers an attendee can have, as a person logging a contact says them.
const RESPONSES: [(ResponseStatus, &str); 6] = [
    (ResponseStatus::Accepted, "Attended"),
    (ResponseStatus::Tentative, "Tentative"),
    (ResponseStatus::NeedsAction, "No answer yet"),
    (ResponseStatus::Unknown, "Not recorded"),
    (ResponseStatus::Declined, "Declined (not there)"),
    (ResponseStatus::Delegated, "Sent someone else (not there)"),
];

/// The three kinds of insight, as the essay names what a PM needs.
const INSIGHT_KINDS: [(InsightKind, &str, &str); 3] = [
    (
        InsightKind::ContextOfUse,
        "Context of use",
        "how and where they use the product",
    ),
    (
        InsightKind::Futures,
        "Input on futures",
        "what they need next",
    ),
    (
        InsightKind::Performance,
        "Feedback on performance",
        "how the product works for them today",
    ),
];

const COMMITMENT_KINDS: [(CommitmentKind, &str); 4] = [
    (CommitmentKind::Feature, "A feature or capability"),
    (CommitmentKind::Date, "A delivery date"),
    (CommitmentKind::Price, "A price or discount"),
    (
        CommitmentKind::Other,
        "Something else about the product's future",
    ),
];

fn response_label(r: ResponseStatus) -> &'static str {
    RESPONSES
        .iter()
        .find(|x| x.0 == r)
        .map(|x| x.1)
        .unwrap_or("Not recorded")
}

fn insight_label(k: InsightKind) -> &'static str {
    INSIGHT_KINDS
        .iter()
        .find(|x| x.0 == k)
        .map(|x| x.1)
        .unwrap_or("Insight")
}

fn source_label(s: &MeetingSource) -> &'static str {
    match s {
        MeetingSource::Planned => "planned through accord",
        MeetingSource::Logged => "logged after the fact",
        MeetingSource::Calendar { .. } => "found in an imported calendar",
    }
}

fn parse_meeting_id(id: &str) -> Result<MeetingId, WebError> {
    id.parse::<uuid::Uuid>()
        .map(MeetingId)
        .map_err(|_| WebError::NotFound("customer contact".into()))
}

// ---------------------------------------------------------------- the list

/// A contact as a row.
struct Row {
    id: String,
    when: String,
    title: String,
    account: String,
    source: &'static str,
    owner: &'static str,
    owner_key: &'static str,
    people: usize,
}

#[derive(Template)]
#[template(path = "meetings/list.html")]
struct ListPage {
    layout: Layout,
    heading: String,
    rows: Vec<Row>,
    next: Option<String>,
    can_log: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    after: Option<String>,
}

pub(crate) async fn list(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    v.principal.require(Action::ReadMeetings)?;
    // Admins attend no contacts: they see everyone's.
    let everyone = v.role() == Role::Admin;
    let filter = MeetingFilter {
        person: (!everyone).then_some(v.principal.person.id),
        ..Default::default()
    };
    let page = PageRequest {
        after: q.after.filter(|a| !a.is_empty()),
        limit: 50,
    };
    let found = state
        .service
        .list_meetings(&v.principal, &filter, &page)
        .await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let distinct: HashSet<AccountId> = found
        .items
        .iter()
        .filter_map(|m| m.meeting.account)
        .collect();
    if distinct.len() > 10 {
        names.all_accounts(&state.service, &v.principal).await?;
    }
    let mut rows = Vec::with_capacity(found.items.len());
    for m in &found.items {
        let (owner, owner_key) = match (m.flags.owner, m.flags.owner_present) {
            (None, _) => ("no owner", "none"),
            (Some(_), true) => ("there", "ok"),
            (Some(_), false) => ("not there", "act"),
        };
        rows.push(Row {
            id: m.meeting.id.to_string(),
            when: fmt::when(m.meeting.starts_at, v.tz),
            title: m.meeting.title.clone(),
            account: match m.meeting.account {
                Some(a) => names.account_name(&state.service, &v.principal, a).await,
                None => "no account recognised".into(),
            },
            source: source_label(&m.meeting.source),
            owner,
            owner_key,
            people: m.meeting.present().count(),
        });
    }
    let heading = if everyone {
        "Customer contacts"
    } else {
        "My customer contacts"
    };
    render(
        &v,
        &ListPage {
            layout: Layout::new(&v, heading, "/meetings"),
            heading: heading.into(),
            rows,
            next: found.next,
            can_log: v.principal.require(Action::LogMeeting).is_ok(),
        },
    )
}

// ------------------------------------------------------------ the new form

/// An attendee row on the form.
struct AttendeeRow {
    index: usize,
    email: String,
    responses: Vec<Choice>,
    error: String,
}

/// The contact form as sent.
#[derive(Default, Clone)]
struct MeetingForm {
    id: String,
    account: String,
    title: String,
    starts_at: String,
    ends_at: String,
    planned: bool,
    rows: Vec<(String, String)>,
    exception_rule: String,
    exception_reason: String,
    action: String,
}

impl MeetingForm {
    fn read(f: &Fields) -> MeetingForm {
        MeetingForm {
            id: f.get("id").to_owned(),
            account: f.get("account").to_owned(),
            title: f.get("title").to_owned(),
            starts_at: f.get("starts_at").to_owned(),
            ends_at: f.get("ends_at").to_owned(),
            planned: f.get("when") == "planned",
            rows: (0..ROWS)
                .map(|i| {
                    (
                        f.get(&format!("email{i}")).to_owned(),
                        f.get(&format!("response{i}")).to_owned(),
                    )
                })
                .collect(),
            exception_rule: f.get("exception_rule").to_owned(),
            exception_reason: f.get("exception_reason").to_owned(),
            action: f.get("action").to_owned(),
        }
    }
}

/// The contact as the service takes it, or the form's errors.
struct Parsed {
    id: MeetingId,
    account: Option<AccountId>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    attendees: Vec<NewAttendee>,
    /// For each attendee sent, its row on the form.
    row_of: Vec<usize>,
}

fn parse(f: &MeetingForm, v: &Viewer) -> Result<Parsed, Errors> {
    let mut errors = Errors::default();
    let id =
        f.id.parse::<uuid::Uuid>()
            .map(MeetingId)
            .unwrap_or_default();
    let account = if f.account.is_empty() {
        None
    } else {
        match f.account.parse::<uuid::Uuid>() {
            Ok(u) => Some(AccountId(u)),
            Err(_) => {
                errors.add(
                    "account",
                    "Choose the customer account, or leave it to the attendees' addresses.",
                );
                None
            }
        }
    };
    if f.title.is_empty() {
        errors.add(
            "title",
            "Give the contact a title, e.g. “Acme — roadmap review”.",
        );
    }
    let starts_at = fmt::parse_local(&f.starts_at, v.tz);
    if starts_at.is_none() {
        errors.add("starts_at", "Give the date and time it starts.");
    }
    let ends_at = fmt::parse_local(&f.ends_at, v.tz);
    if ends_at.is_none() {
        errors.add("ends_at", "Give the date and time it ends.");
    }
    let mut attendees = Vec::new();
    let mut row_of = Vec::new();
    for (i, (email, response)) in f.rows.iter().enumerate() {
        if email.is_empty() {
            continue;
        }
        let response = RESPONSES
            .iter()
            .map(|r| r.0)
            .find(|r| r.as_str() == response)
            .unwrap_or(ResponseStatus::Accepted);
        attendees.push(NewAttendee {
            email: email.clone(),
            response: Some(response),
        });
        row_of.push(i);
    }
    if attendees.is_empty() {
        errors.add(
            "attendees",
            "Add who attended by email: you, the account's owner, and the customer's people.",
        );
    }
    match (starts_at, ends_at, errors.is_empty()) {
        (Some(starts_at), Some(ends_at), true) => Ok(Parsed {
            id,
            account,
            starts_at,
            ends_at,
            attendees,
            row_of,
        }),
        _ => Err(errors),
    }
}

/// The service's errors, with `attendees[k].email` moved to the form's row.
fn meeting_errors(fe: &[accord_service::FieldError], row_of: &[usize]) -> Errors {
    let mut errors = Errors::default();
    for e in fe {
        let field = e
            .field
            .strip_prefix("attendees[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(k, _)| k.parse::<usize>().ok())
            .and_then(|k| row_of.get(k))
            .map(|row| format!("email{row}"))
            .unwrap_or_else(|| e.field.clone());
        errors.add(&field, &e.message);
    }
    errors
}

#[derive(Template)]
#[template(path = "meetings/new.html")]
struct NewPage {
    layout: Layout,
    id: String,
    accounts: Vec<Choice>,
    title: String,
    starts_at: String,
    ends_at: String,
    planned: bool,
    rows: Vec<AttendeeRow>,
    errors: Errors,
    other_errors: Vec<String>,
    decision: Option<DecisionView>,
    /// Rules the decision blocks on: an exception can be asked for each.
    blocking: Vec<Choice>,
    exception_reason: String,
    notice: Option<String>,
}

/// Fields the form shows errors next to.
const SHOWN: [&str; 15] = [
    "account",
    "title",
    "starts_at",
    "ends_at",
    "attendees",
    "exception_rule",
    "exception_reason",
    "email0",
    "email1",
    "email2",
    "email3",
    "email4",
    "email5",
    "email6",
    "email7",
];

async fn new_form(
    state: &WebState,
    v: &Viewer,
    f: &MeetingForm,
    errors: Errors,
    decision: Option<&Decision>,
    notice: Option<String>,
) -> Result<NewPage, WebError> {
    let mut names = Names::load(&state.service, &v.principal).await?;
    let accounts = names
        .all_accounts(&state.service, &v.principal)
        .await?
        .into_iter()
        .map(|a| Choice {
            selected: f.account == a.id.to_string(),
            value: a.id.to_string(),
            label: format!("{} — owner: {}", a.name, names.name_or(a.owner, "none")),
        })
        .collect();
    let rows = f
        .rows
        .iter()
        .enumerate()
        .map(|(i, (email, response))| AttendeeRow {
            index: i,
            email: email.clone(),
            responses: RESPONSES
                .iter()
                .map(|(r, label)| Choice {
                    value: r.as_str().to_owned(),
                    label: (*label).to_owned(),
                    selected: r.as_str() == response
                        || (response.is_empty() && *r == ResponseStatus::Accepted),
                })
                .collect(),
            error: errors.get(&format!("email{i}")).to_owned(),
        })
        .collect();
    let blocking = decision
        .map(|d| {
            d.matched
                .iter()
                .filter(|m| m.applied.is_blocking())
                .map(|m| Choice {
                    value: m.rule.to_string(),
                    label: m.rule.to_string(),
                    selected: f.exception_rule == m.rule.as_str(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(NewPage {
        layout: Layout::new(v, "Log a customer contact", "/meetings"),
        id: f.id.clone(),
        accounts,
        title: f.title.clone(),
        starts_at: f.starts_at.clone(),
        ends_at: f.ends_at.clone(),
        planned: f.planned,
        rows,
        other_errors: errors.others(&SHOWN),
        errors,
        decision: decision.map(|d| decision_view(d, None, state)),
        blocking,
        exception_reason: f.exception_reason.clone(),
        notice,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct NewQuery {
    /// The reference of a contact an exception was asked for.
    id: Option<String>,
    account: Option<String>,
}

pub(crate) async fn new_page(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<NewQuery>,
) -> Result<Response, WebError> {
    v.principal.require(Action::LogMeeting)?;
    let now = state.service.now();
    let mut rows = vec![(String::new(), String::new()); ROWS];
    rows[0] = (v.principal.person.email.to_string(), "accepted".into());
    let id =
        q.id.and_then(|i| i.parse::<uuid::Uuid>().ok())
            .map(MeetingId)
            .unwrap_or_default();
    let f = MeetingForm {
        id: id.to_string(),
        account: q.account.unwrap_or_default(),
        starts_at: fmt::local_input(now - chrono::Duration::hours(2), v.tz),
        ends_at: fmt::local_input(now - chrono::Duration::hours(1), v.tz),
        rows,
        ..Default::default()
    };
    let page = new_form(&state, &v, &f, Errors::default(), None, None).await?;
    render(&v, &page)
}

pub(crate) async fn create(
    State(state): State<WebState>,
    v: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    v.principal.require(Action::LogMeeting)?;
    let mut f = MeetingForm::read(&Fields(pairs));
    let p = match parse(&f, &v) {
        Ok(p) => p,
        Err(errors) => {
            let page = new_form(&state, &v, &f, errors, None, None).await?;
            return render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    // The reference stays the same through checks, refusals and
    // exceptions: an exception is granted for this contact.
    f.id = p.id.to_string();
    let draft = || Draft::Meeting {
        account: p.account,
        title: f.title.clone(),
        starts_at: p.starts_at,
        ends_at: p.ends_at,
        attendees: p.attendees.clone(),
        planned: f.planned,
    };
    match f.action.as_str() {
        "check" => match state.service.evaluate_draft(&v.principal, draft()).await {
            Ok(d) => {
                let page = new_form(&state, &v, &f, Errors::default(), Some(&d), None).await?;
                render(&v, &page)
            }
            Err(ServiceError::Invalid(fe)) => {
                let page =
                    new_form(&state, &v, &f, meeting_errors(&fe, &p.row_of), None, None).await?;
                render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => Err(e.into()),
        },
        "exception" => {
            let mut errors = Errors::default();
            if f.exception_rule.is_empty() {
                errors.add("exception_rule", "Choose the rule to set aside.");
            }
            if f.exception_reason.chars().count() < 10 {
                errors.add(
                    "exception_reason",
                    "Say why the rule should not apply to this contact (at least 10 characters).",
                );
            }
            let mut notice = None;
            if errors.is_empty() {
                let new = NewException {
                    rule: f.exception_rule.clone(),
                    record: RecordRef {
                        kind: RecordKind::Meeting,
                        id: p.id.0,
                    },
                    reason: f.exception_reason.clone(),
                    expires_at: None,
                };
                match state.service.request_exception(&v.principal, new).await {
                    Ok(e) => {
                        let approver = state
                            .service
                            .playbook()
                            .playbook
                            .rule(e.rule.as_str())
                            .map(|r| crate::layout::role_label(r.approver).to_lowercase())
                            .unwrap_or_else(|| "an approver".into());
                        notice = Some(format!(
                            "Exception to {} asked for: a {approver} decides. Once it is approved, send this contact again from this page (or from /meetings/new?id={}): it keeps its reference.",
                            e.rule, p.id
                        ));
                    }
                    Err(ServiceError::Invalid(fe)) => {
                        for e in fe {
                            let field = if e.field == "reason" {
                                "exception_reason"
                            } else {
                                "exception_rule"
                            };
                            errors.add(field, &e.message);
                        }
                    }
                    Err(ServiceError::Conflict(m)) => errors.add(
                        "exception_rule",
                        &format!("{m}: once it is granted, send the contact again"),
                    ),
                    Err(e) => return Err(e.into()),
                }
            }
            let d = state
                .service
                .evaluate_draft(&v.principal, draft())
                .await
                .ok();
            let ok = errors.is_empty();
            let page = new_form(&state, &v, &f, errors, d.as_ref(), notice).await?;
            render_status(
                &v,
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                &page,
            )
        }
        _ => {
            let new = NewMeeting {
                id: Some(p.id),
                account: p.account,
                title: f.title.clone(),
                starts_at: p.starts_at,
                ends_at: p.ends_at,
                attendees: p.attendees.clone(),
                planned: f.planned,
                request: None,
            };
            match state.service.log_meeting(&v.principal, new).await {
                Ok(out) => {
                    let said = findings_sentence(&out.decision);
                    let msg = match out.decision.effect {
                        accord_domain::rules::Effect::Deny => {
                            format!("Logged. The playbook records it as a violation: {said}")
                        }
                        accord_domain::rules::Effect::Warn
                        | accord_domain::rules::Effect::Exception => {
                            format!("Logged, with a warning: {said}")
                        }
                        _ if f.planned => {
                            "Planned. Add what you learn and any commitment here after the contact."
                                .to_owned()
                        }
                        _ => "Logged. Now add what you learned and any commitment made.".to_owned(),
                    };
                    Ok(done(&format!("/meetings/{}", out.record.meeting.id), &msg))
                }
                Err(ServiceError::Invalid(fe)) => {
                    let page = new_form(&state, &v, &f, meeting_errors(&fe, &p.row_of), None, None)
                        .await?;
                    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
                }
                Err(ServiceError::Denied(d)) => {
                    let page = new_form(&state, &v, &f, Errors::default(), Some(&d), None).await?;
                    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// What the rules that matched said, in one line.
fn findings_sentence(d: &Decision) -> String {
    let said: Vec<&str> = d
        .matched
        .iter()
        .filter(|m| !m.excepted)
        .map(|m| m.message.as_str())
        .collect();
    if said.is_empty() {
        "see the contact's page.".into()
    } else {
        said.join(" ")
    }
}

// ----------------------------------------------------------- one contact

struct AttendeeView {
    name: String,
    email: String,
    side: String,
    response: &'static str,
    present: bool,
}

struct InsightView {
    kind: &'static str,
    area: String,
    text: String,
    by: String,
    when: String,
}

struct CommitmentView {
    kind: &'static str,
    text: String,
    to_whom: String,
    said_by: String,
    present: String,
    when: String,
    state: &'static str,
    state_key: &'static str,
}

#[derive(Template)]
#[template(path = "meetings/show.html")]
struct ShowPage {
    layout: Layout,
    id: String,
    title: String,
    account: String,
    account_id: String,
    when: String,
    source: &'static str,
    owner: String,
    owner_present: bool,
    has_owner: bool,
    attendees: Vec<AttendeeView>,
    decisions: Vec<DecisionView>,
    exceptions: Vec<(String, String, String)>,
    insights: Vec<InsightView>,
    commitments: Vec<CommitmentView>,
    can_insight: bool,
    can_commit: bool,
    can_ask_access: bool,
    insight_kinds: Vec<(Choice, &'static str)>,
    product_area: String,
    insight_text: String,
    commitment_kinds: Vec<Choice>,
    commitment_text: String,
    to_whom: String,
    said_by: Vec<Choice>,
    present: Vec<Choice>,
    said_at: String,
    errors: Errors,
    other_errors: Vec<String>,
}

const SHOW_FIELDS: [&str; 8] = [
    "kind",
    "product_area",
    "insight_text",
    "commitment_kind",
    "commitment_text",
    "to_whom",
    "said_by",
    "said_at",
];

async fn show_page(
    state: &WebState,
    v: &Viewer,
    id: MeetingId,
    typed: &Fields,
    errors: Errors,
) -> Result<ShowPage, WebError> {
    let view = state.service.contact(&v.principal, id).await?;
    let names = Names::load(&state.service, &v.principal).await?;
    let m: &StoredMeeting = &view.meeting;
    let account = match m.meeting.account {
        Some(a) => state.service.get_account(&v.principal, a).await.ok(),
        None => None,
    };
    let attendees: Vec<AttendeeView> = m
        .meeting
        .attendees
        .iter()
        .map(|a| {
            let person = a.person.and_then(|p| names.person(p));
            AttendeeView {
                name: person.map(|p| p.name.clone()).unwrap_or_default(),
                email: a.email.to_string(),
                side: match person {
                    Some(p) if Some(p.id) == m.flags.owner => {
                        "our side — the account's owner".into()
                    }
                    Some(p) => format!(
                        "our side — {}",
                        crate::layout::role_label(p.role).to_lowercase()
                    ),
                    None if account
                        .as_ref()
                        .is_some_and(|acc| acc.owns_host(a.email.domain())) =>
                    {
                        "customer".into()
                    }
                    None => "guest".into(),
                },
                response: response_label(a.response),
                present: a.response.attended(),
            }
        })
        .collect();
    // Our people who were there: who can have said something, and who heard it.
    let ours: Vec<PersonId> = m.meeting.present().filter_map(|a| a.person).collect();
    let me = v.principal.person.id;
    let said_by_typed = typed.get("said_by");
    let mut said_by: Vec<Choice> = ours
        .iter()
        .map(|p| Choice {
            value: p.to_string(),
            label: names.name(*p),
            selected: if said_by_typed.is_empty() {
                *p == me
            } else {
                said_by_typed == p.to_string()
            },
        })
        .collect();
    if !ours.contains(&me) {
        said_by.insert(
            0,
            Choice {
                value: me.to_string(),
                label: names.name(me),
                selected: said_by_typed.is_empty() || said_by_typed == me.to_string(),
            },
        );
    }
    let sent_present = typed.all("present");
    let present = ours
        .iter()
        .map(|p| Choice {
            value: p.to_string(),
            label: names.name(*p),
            selected: if typed.0.is_empty() {
                true
            } else {
                sent_present.contains(&p.to_string().as_str())
            },
        })
        .collect();
    let kind_typed = typed.get("kind");
    let insight_kinds = INSIGHT_KINDS
        .iter()
        .map(|(k, label, hint)| {
            (
                Choice {
                    value: k.as_str().to_owned(),
                    label: (*label).to_owned(),
                    selected: kind_typed == k.as_str(),
                },
                *hint,
            )
        })
        .collect();
    let ckind_typed = typed.get("commitment_kind");
    let commitment_kinds = COMMITMENT_KINDS
        .iter()
        .map(|(k, label)| Choice {
            value: k.as_str().to_owned(),
            label: (*label).to_owned(),
            selected: ckind_typed == k.as_str(),
        })
        .collect();
    let now = state.service.now();
    let said_at = match typed.get("said_at") {
        "" => fmt::local_input(m.meeting.starts_at.min(now), v.tz),
        s => s.to_owned(),
    };
    let decisions = view
        .decisions
        .iter()
        .map(|d| decision_view(&d.decision, None, state))
        .collect();
    let exceptions = view
        .exceptions
        .iter()
        .map(|e| {
            (
                e.rule.to_string(),
                fmt::words(e.state.as_str()),
                e.reason.clone(),
            )
        })
        .collect();
    let insights = view
        .insights
        .iter()
        .map(|i| InsightView {
            kind: insight_label(i.kind),
            area: i.product_area.clone(),
            text: i.text.clone(),
            by: names.name(i.pm),
            when: fmt::when(i.created_at, v.tz),
        })
        .collect();
    let commitments = view
        .commitments
        .iter()
        .map(|c| CommitmentView {
            kind: COMMITMENT_KINDS
                .iter()
                .find(|k| k.0 == c.kind)
                .map(|k| k.1)
                .unwrap_or("Commitment"),
            text: c.text.clone(),
            to_whom: c.to_whom.clone(),
            said_by: names.name(c.said_by),
            present: if c.present.is_empty() {
                "nobody else from our side".into()
            } else {
                c.present
                    .iter()
                    .map(|p| names.name(*p))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            when: fmt::when(c.said_at, v.tz),
            state: match c.state {
                CommitmentState::Pending => "waiting for a PM lead",
                CommitmentState::Approved => "approved",
                CommitmentState::Rejected => "rejected: walk it back",
            },
            state_key: match c.state {
                CommitmentState::Pending => "watch",
                CommitmentState::Approved => "ok",
                CommitmentState::Rejected => "act",
            },
        })
        .collect();
    let has_account = account.is_some();
    Ok(ShowPage {
        layout: Layout::new(v, m.meeting.title.clone(), "/meetings"),
        id: id.to_string(),
        title: m.meeting.title.clone(),
        account: account
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| "no account recognised".into()),
        account_id: account
            .as_ref()
            .map(|a| a.id.to_string())
            .unwrap_or_default(),
        when: format!(
            "{} – {}",
            fmt::when(m.meeting.starts_at, v.tz),
            fmt::when(m.meeting.ends_at, v.tz)
        ),
        source: source_label(&m.meeting.source),
        owner: names.name_or(m.flags.owner, "the account has no owner"),
        owner_present: m.flags.owner_present,
        has_owner: m.flags.owner.is_some(),
        attendees,
        decisions,
        exceptions,
        insights,
        commitments,
        can_insight: has_account && v.principal.require(Action::CreateInsight).is_ok(),
        can_commit: has_account && v.principal.require(Action::LogCommitment).is_ok(),
        can_ask_access: has_account && v.principal.require(Action::CreateAccess).is_ok(),
        insight_kinds,
        product_area: typed.get("product_area").to_owned(),
        insight_text: typed.get("insight_text").to_owned(),
        commitment_kinds,
        commitment_text: typed.get("commitment_text").to_owned(),
        to_whom: typed.get("to_whom").to_owned(),
        said_by,
        present,
        said_at,
        other_errors: errors.others(&SHOW_FIELDS),
        errors,
    })
}

pub(crate) async fn show(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let page = show_page(
        &state,
        &v,
        parse_meeting_id(&id)?,
        &Fields::default(),
        Errors::default(),
    )
    .await?;
    render(&v, &page)
}

/// The service's errors on an insight or a commitment, named as the form
/// names its fields (both have a `text`).
fn renamed(fe: &[accord_service::FieldError], text: &str, kind: &str) -> Errors {
    let mut errors = Errors::default();
    for e in fe {
        let field = match e.field.as_str() {
            "text" => text,
            "kind" => kind,
            f if f.starts_with("present") => "said_by",
            f => f,
        };
        errors.add(field, &e.message);
    }
    errors
}

pub(crate) async fn add(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_meeting_id(&id)?;
    let f = Fields(pairs);
    let meeting = state.service.get_meeting(&v.principal, id).await?;
    let Some(account) = meeting.meeting.account else {
        let page = show_page(
            &state,
            &v,
            id,
            &f,
            Errors::one(
                "account",
                "This contact has no customer account: nothing can be logged against it.",
            ),
        )
        .await?;
        return render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let mut errors = Errors::default();
    match f.get("action") {
        "insight" => {
            v.principal.require(Action::CreateInsight)?;
            let kind = INSIGHT_KINDS
                .iter()
                .map(|k| k.0)
                .find(|k| k.as_str() == f.get("kind"));
            if kind.is_none() {
                errors.add("kind", "Choose the kind of insight.");
            }
            if f.get("product_area").is_empty() {
                errors.add("product_area", "Which part of the product is it about?");
            }
            if f.get("insight_text").is_empty() {
                errors.add("insight_text", "Say what you learned.");
            }
            if let (Some(kind), true) = (kind, errors.is_empty()) {
                let new = NewInsight {
                    account,
                    meeting: Some(id),
                    kind,
                    product_area: f.get("product_area").to_owned(),
                    text: f.get("insight_text").to_owned(),
                };
                match state.service.create_insight(&v.principal, new).await {
                    Ok(_) => {
                        return Ok(done(&format!("/meetings/{id}#insights"), "Insight saved."));
                    }
                    Err(ServiceError::Invalid(fe)) => errors = renamed(&fe, "insight_text", "kind"),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        "commitment" => {
            v.principal.require(Action::LogCommitment)?;
            let kind = COMMITMENT_KINDS
                .iter()
                .map(|k| k.0)
                .find(|k| k.as_str() == f.get("commitment_kind"));
            if kind.is_none() {
                errors.add("commitment_kind", "Choose what was promised.");
            }
            if f.get("commitment_text").is_empty() {
                errors.add(
                    "commitment_text",
                    "Say what was promised, in the words used.",
                );
            }
            if f.get("to_whom").is_empty() {
                errors.add("to_whom", "Say to whom, e.g. “their head of operations”.");
            }
            let said_by = match f.get("said_by") {
                "" => None,
                s => match s.parse::<uuid::Uuid>() {
                    Ok(u) => Some(PersonId(u)),
                    Err(_) => {
                        errors.add("said_by", "Choose who said it.");
                        None
                    }
                },
            };
            let present: Vec<PersonId> = f
                .all("present")
                .into_iter()
                .filter_map(|p| p.parse::<uuid::Uuid>().ok().map(PersonId))
                .filter(|p| Some(*p) != said_by)
                .collect();
            let said_at = fmt::parse_local(f.get("said_at"), v.tz);
            if said_at.is_none() {
                errors.add("said_at", "Give the date and time it was said.");
            }
            if let (Some(kind), true) = (kind, errors.is_empty()) {
                let new = NewCommitment {
                    account,
                    meeting: Some(id),
                    kind,
                    text: f.get("commitment_text").to_owned(),
                    to_whom: f.get("to_whom").to_owned(),
                    said_by,
                    present,
                    said_at,
                };
                match state.service.log_commitment(&v.principal, new).await {
                    Ok(out) => {
                        let msg = if out.decision.matched.is_empty() {
                            "Commitment logged. A PM lead approves it.".to_owned()
                        } else {
                            format!("Commitment logged. {}", findings_sentence(&out.decision))
                        };
                        return Ok(done(&format!("/meetings/{id}#commitments"), &msg));
                    }
                    Err(ServiceError::Invalid(fe)) => {
                        errors = renamed(&fe, "commitment_text", "commitment_kind")
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        _ => errors.add("action", "Choose what to add: an insight or a commitment."),
    }
    let page = show_page(&state, &v, id, &f, errors).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
}
