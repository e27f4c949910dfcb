//! Access requests: a PM's "Ask for customer time" (checked against the
//! playbook before it is sent) and their requests with the answers; the
//! relationship owner's list of requests waiting for an answer, each with
//! its grant / grant-with-conditions / deny forms; one request on its own
//! page (where the notification links).

use std::collections::HashSet;

use accord_domain::access::{AccessPurpose, AccessRequest, AccessState};
use accord_domain::id::{AccessRequestId, AccountId, PersonId};
use accord_domain::people::Role;
use accord_service::contacts::{AccessAnswer, NewAccess};
use accord_service::evaluate::Draft;
use accord_service::{Action, ServiceError};
use accord_store::PageRequest;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::form::Errors;
use super::requests::{Choice, DecisionView, decision_view};
use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render, render_status};
use crate::names::Names;
use crate::session::Viewer;

/// What each purpose means to the owner reading the request.
const PURPOSES: [(AccessPurpose, &str, &str); 3] = [
    (
        AccessPurpose::Discovery,
        "Discovery",
        "learn how they work and what they need",
    ),
    (
        AccessPurpose::Feedback,
        "Feedback",
        "hear how the product performs for them",
    ),
    (
        AccessPurpose::Validation,
        "Validation",
        "test a direction or a design with them",
    ),
];

fn purpose_label(p: AccessPurpose) -> &'static str {
    PURPOSES
        .iter()
        .find(|x| x.0 == p)
        .map(|x| x.1)
        .unwrap_or("Discovery")
}

/// The CSS class of a state.
fn state_key(s: AccessState) -> &'static str {
    match s {
        AccessState::Pending => "watch",
        AccessState::Granted | AccessState::GrantedWithConditions => "ok",
        AccessState::Denied => "act",
        AccessState::Withdrawn => "none",
    }
}

/// An access request as a card, with its answer forms when the viewer
/// answers it.
pub(crate) struct Card {
    pub(crate) id: String,
    pub(crate) account: String,
    pub(crate) pm: String,
    pub(crate) owner: String,
    pub(crate) purpose: String,
    pub(crate) agenda: String,
    pub(crate) wanted: String,
    pub(crate) asked: String,
    pub(crate) state: String,
    pub(crate) state_key: &'static str,
    pub(crate) conditions: String,
    pub(crate) reason: String,
    pub(crate) answered: String,
    pub(crate) can_answer: bool,
    /// Errors of a failed answer, and what was typed.
    pub(crate) errors: Errors,
    pub(crate) typed_conditions: String,
    pub(crate) typed_reason: String,
}

/// The people whose accounts the viewer answers for: themselves, and (a
/// sales manager) the people they manage.
fn answers_for(v: &Viewer, names: &Names) -> HashSet<PersonId> {
    let me = v.principal.person.id;
    let mut owners = HashSet::from([me]);
    if v.role() == Role::SalesManager {
        owners.extend(
            names
                .people()
                .into_iter()
                .filter(|p| p.manager == Some(me))
                .map(|p| p.id),
        );
    }
    owners
}

async fn card(
    state: &WebState,
    v: &Viewer,
    names: &mut Names,
    owners: &HashSet<PersonId>,
    a: &AccessRequest,
) -> Card {
    let answerer = matches!(v.role(), Role::SalesRep | Role::SalesManager);
    Card {
        id: a.id.to_string(),
        account: names
            .account_name(&state.service, &v.principal, a.account)
            .await,
        pm: names.name(a.pm),
        owner: names.name_or(a.owner, "nobody (the account has no owner)"),
        purpose: purpose_label(a.purpose).to_owned(),
        agenda: a.agenda.clone(),
        wanted: a
            .wanted_at
            .map(|t| fmt::when(t, v.tz))
            .unwrap_or_else(|| "no date given".into()),
        asked: fmt::when(a.created_at, v.tz),
        state: match a.state {
            AccessState::Pending => "waiting for an answer".into(),
            s => fmt::words(s.as_str()),
        },
        state_key: state_key(a.state),
        conditions: a.conditions.clone().unwrap_or_default(),
        reason: a.reason.clone().unwrap_or_default(),
        answered: match (a.answered_by, a.answered_at) {
            (Some(by), Some(at)) => format!("{}, {}", names.name(by), fmt::when(at, v.tz)),
            _ => String::new(),
        },
        can_answer: answerer
            && a.state == AccessState::Pending
            && a.owner.is_some_and(|o| owners.contains(&o)),
        errors: Errors::default(),
        typed_conditions: String::new(),
        typed_reason: String::new(),
    }
}

#[derive(Template)]
#[template(path = "access/list.html")]
struct ListPage {
    layout: Layout,
    heading: String,
    /// A PM's own requests (else: requests to answer).
    asking: bool,
    can_ask: bool,
    waiting: Vec<Card>,
    answered: Vec<Card>,
}

/// What the viewer's list holds: a PM's own requests, an owner's (and a
/// manager's reports') requests, or (an admin) everyone's.
async fn list_page(
    state: &WebState,
    v: &Viewer,
    failed: Option<(AccessRequestId, Errors, AnswerForm)>,
) -> Result<ListPage, WebError> {
    v.principal.require(Action::ReadAccess)?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let me = v.principal.person.id;
    let asking = v.role().is_product();
    let owners = answers_for(v, &names);
    let mut items: Vec<AccessRequest> = Vec::new();
    if asking {
        items = state
            .service
            .list_access(&v.principal, Some(me), None, &PageRequest::first(200))
            .await?
            .items;
    } else if v.role() == Role::Admin {
        items = state
            .service
            .list_access(&v.principal, None, None, &PageRequest::first(200))
            .await?
            .items;
    } else {
        let mut owners: Vec<PersonId> = owners.iter().copied().collect();
        owners.sort();
        for o in owners {
            items.extend(
                state
                    .service
                    .list_access(&v.principal, None, Some(o), &PageRequest::first(200))
                    .await?
                    .items,
            );
        }
        items.sort_by_key(|a| std::cmp::Reverse(a.created_at));
    }
    // Only accounts the page names, each looked up once: a handful of
    // queries for a rep; everyone's accounts at once for a long list.
    if items.len() > 40 {
        names.all_accounts(&state.service, &v.principal).await?;
    }
    let (mut waiting, mut answered) = (Vec::new(), Vec::new());
    for a in &items {
        let mut c = card(state, v, &mut names, &owners, a).await;
        if let Some((id, errors, f)) = &failed
            && *id == a.id
        {
            c.errors = errors.clone();
            c.typed_conditions = f.conditions.clone();
            c.typed_reason = f.reason.clone();
        }
        if a.state == AccessState::Pending {
            waiting.push(c);
        } else {
            answered.push(c);
        }
    }
    // The oldest question first: it has waited longest.
    waiting.reverse();
    let heading = if asking {
        "Customer time"
    } else {
        "Access requests"
    };
    Ok(ListPage {
        layout: Layout::new(v, heading, "/access"),
        heading: heading.into(),
        asking,
        can_ask: v.principal.require(Action::CreateAccess).is_ok(),
        waiting,
        answered,
    })
}

pub(crate) async fn list(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    let page = list_page(&state, &v, None).await?;
    render(&v, &page)
}

#[derive(Template)]
#[template(path = "access/show.html")]
struct ShowPage {
    layout: Layout,
    c: Card,
}

async fn show_page(
    state: &WebState,
    v: &Viewer,
    id: AccessRequestId,
    failed: Option<(Errors, AnswerForm)>,
) -> Result<ShowPage, WebError> {
    let a = state.service.get_access(&v.principal, id).await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let owners = answers_for(v, &names);
    let mut c = card(state, v, &mut names, &owners, &a).await;
    if let Some((errors, f)) = failed {
        c.errors = errors;
        c.typed_conditions = f.conditions;
        c.typed_reason = f.reason;
    }
    Ok(ShowPage {
        layout: Layout::new(v, format!("Customer time with {}", c.account), "/access"),
        c,
    })
}

fn parse_id(id: &str) -> Result<AccessRequestId, WebError> {
    id.parse::<uuid::Uuid>()
        .map(AccessRequestId)
        .map_err(|_| WebError::NotFound("access request".into()))
}

pub(crate) async fn show(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let page = show_page(&state, &v, parse_id(&id)?, None).await?;
    render(&v, &page)
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    conditions: String,
    #[serde(default)]
    reason: String,
    /// `list` when sent from the list (shown again there on error).
    #[serde(default)]
    from: String,
}

pub(crate) async fn answer(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    v.principal.require(Action::AnswerAccess)?;
    let answer = match f.answer.as_str() {
        "grant" => Ok(AccessAnswer::Grant),
        "conditions" if f.conditions.trim().is_empty() => Err(Errors::one(
            "conditions",
            "Say what the conditions are, e.g. “I join the call”.",
        )),
        "conditions" => Ok(AccessAnswer::GrantWithConditions {
            conditions: f.conditions.clone(),
        }),
        "deny" if f.reason.trim().is_empty() => Err(Errors::one(
            "reason",
            "Say why you deny it: the PM reads it, and your leaders see how often PMs are turned away.",
        )),
        "deny" => Ok(AccessAnswer::Deny {
            reason: f.reason.clone(),
        }),
        _ => Err(Errors::one(
            "answer",
            "Choose grant, grant with conditions, or deny.",
        )),
    };
    let errors = match answer {
        Ok(a) => match state.service.answer_access(&v.principal, id, a).await {
            Ok(after) => {
                let msg = match after.state {
                    AccessState::Granted => "Granted. The PM has been told.",
                    AccessState::GrantedWithConditions => {
                        "Granted with your conditions. The PM has been told."
                    }
                    _ => "Denied, with your reason. The PM has been told.",
                };
                let to = if f.from == "list" {
                    "/access".to_owned()
                } else {
                    format!("/access/{id}")
                };
                return Ok(done(&to, msg));
            }
            Err(ServiceError::Invalid(fe)) => Errors::from_service(&fe),
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    if f.from == "list" {
        let page = list_page(&state, &v, Some((id, errors, f))).await?;
        render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        let page = show_page(&state, &v, id, Some((errors, f))).await?;
        render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
    }
}

#[derive(Template)]
#[template(path = "access/new.html")]
struct NewPage {
    layout: Layout,
    accounts: Vec<Choice>,
    purposes: Vec<(Choice, &'static str)>,
    agenda: String,
    wanted_at: String,
    errors: Errors,
    decision: Option<DecisionView>,
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct NewForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    agenda: String,
    #[serde(default)]
    wanted_at: String,
    #[serde(default)]
    action: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct NewQuery {
    account: Option<String>,
}

async fn new_form(
    state: &WebState,
    v: &Viewer,
    f: &NewForm,
    errors: Errors,
    decision: Option<DecisionView>,
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
    let purposes = PURPOSES
        .iter()
        .map(|(p, label, hint)| {
            (
                Choice {
                    value: p.as_str().to_owned(),
                    label: (*label).to_owned(),
                    selected: f.purpose == p.as_str()
                        || (f.purpose.is_empty() && *p == AccessPurpose::Discovery),
                },
                *hint,
            )
        })
        .collect();
    Ok(NewPage {
        layout: Layout::new(v, "Ask for customer time", "/access"),
        accounts,
        purposes,
        agenda: f.agenda.clone(),
        wanted_at: f.wanted_at.clone(),
        errors,
        decision,
    })
}

pub(crate) async fn new_page(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<NewQuery>,
) -> Result<Response, WebError> {
    v.principal.require(Action::CreateAccess)?;
    let f = NewForm {
        account: q.account.unwrap_or_default(),
        wanted_at: fmt::local_input(state.service.now() + chrono::Duration::days(7), v.tz),
        ..Default::default()
    };
    let page = new_form(&state, &v, &f, Errors::default(), None).await?;
    render(&v, &page)
}

pub(crate) async fn create(
    State(state): State<WebState>,
    v: Viewer,
    Form(f): Form<NewForm>,
) -> Result<Response, WebError> {
    v.principal.require(Action::CreateAccess)?;
    let mut errors = Errors::default();
    let account = f.account.parse::<uuid::Uuid>().ok().map(AccountId);
    if account.is_none() {
        errors.add("account", "Choose the customer you want time with.");
    }
    let purpose = PURPOSES
        .iter()
        .map(|p| p.0)
        .find(|p| p.as_str() == f.purpose);
    if purpose.is_none() {
        errors.add("purpose", "Choose what the time is for.");
    }
    let wanted_at = if f.wanted_at.trim().is_empty() {
        None
    } else {
        match fmt::parse_local(&f.wanted_at, v.tz) {
            Some(t) => Some(t),
            None => {
                errors.add("wanted_at", "Give a date and time, or leave it empty.");
                None
            }
        }
    };
    let (Some(account), Some(purpose), true) = (account, purpose, errors.is_empty()) else {
        let page = new_form(&state, &v, &f, errors, None).await?;
        return render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if f.action == "check" {
        let draft = Draft::Access {
            account,
            purpose,
            agenda: f.agenda.trim().to_owned(),
            wanted_at,
        };
        return match state.service.evaluate_draft(&v.principal, draft).await {
            Ok(d) => {
                let page = new_form(
                    &state,
                    &v,
                    &f,
                    Errors::default(),
                    Some(decision_view(&d, None, &state)),
                )
                .await?;
                render(&v, &page)
            }
            Err(ServiceError::Invalid(fe)) => {
                let page = new_form(&state, &v, &f, Errors::from_service(&fe), None).await?;
                render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => Err(e.into()),
        };
    }
    let new = NewAccess {
        account,
        purpose,
        agenda: f.agenda.trim().to_owned(),
        wanted_at,
    };
    match state.service.create_access(&v.principal, new).await {
        Ok(out) => Ok(done(
            &format!("/access/{}", out.record.id),
            "Sent. The account's owner answers here; you will see their answer on this page and under Customer time.",
        )),
        Err(ServiceError::Invalid(fe)) => {
            let page = new_form(&state, &v, &f, Errors::from_service(&fe), None).await?;
            render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(ServiceError::Denied(d)) => {
            let page = new_form(
                &state,
                &v,
                &f,
                Errors::default(),
                Some(decision_view(&d, None, &state)),
            )
            .await?;
            render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}
