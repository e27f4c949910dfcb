//! Engagement requests: a rep's "Ask a PM" (checked against the playbook
//! before it is sent), their list, a PM's inbox, and one request with what
//! each person may do next.

use std::collections::HashMap;

use accord_domain::id::{EngagementTypeId, OpportunityId, PersonId, RequestId};
use accord_domain::people::Role;
use accord_domain::request::{
    Category, EngagementRequest, RedirectTarget, RequestAction, RequestState,
};
use accord_domain::rules::{Decision, Effect};
use accord_service::ServiceError;
use accord_service::evaluate::Draft;
use accord_service::requests::{NewRequest, RequestCommand};
use accord_store::{PageRequest, RequestFilter};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render, render_status};
use crate::names::Names;
use crate::session::Viewer;

/// A request as a row.
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) account: String,
    pub(crate) opportunity: String,
    pub(crate) engagement_type: String,
    pub(crate) requester: String,
    pub(crate) pm: String,
    pub(crate) needed: String,
    pub(crate) state: String,
    pub(crate) state_key: &'static str,
}

async fn rows(
    state: &WebState,
    v: &Viewer,
    names: &mut Names,
    items: Vec<EngagementRequest>,
) -> Vec<Row> {
    let playbook = state.service.playbook();
    // One read for the page's accounts and opportunities; should it fail,
    // each row asks for its own below.
    let _ = names
        .prefetch(
            &state.service,
            &v.principal,
            items.iter().map(|r| r.account),
            items.iter().map(|r| r.opportunity),
        )
        .await;
    let mut out = Vec::with_capacity(items.len());
    for r in items {
        let opp = names
            .opportunity(&state.service, &v.principal, r.opportunity)
            .await;
        out.push(Row {
            id: r.id.to_string(),
            account: names
                .account_name(&state.service, &v.principal, r.account)
                .await,
            opportunity: opp.map(|o| o.name).unwrap_or_default(),
            engagement_type: playbook
                .playbook
                .engagement_type(r.engagement_type.as_str())
                .map(|t| t.name.clone())
                .unwrap_or_else(|| r.engagement_type.to_string()),
            requester: names.name(r.requester),
            pm: names.name_or(r.pm, "not assigned"),
            needed: fmt::when(r.needed_at, v.tz),
            state: fmt::words(r.state.as_str()),
            state_key: state_key(r.state),
        });
    }
    out
}

/// The CSS class of a state: settled, needs someone, or needs a decision.
fn state_key(s: RequestState) -> &'static str {
    match s {
        RequestState::NeedsException => "act",
        RequestState::Requested => "watch",
        RequestState::Declined | RequestState::Cancelled | RequestState::Redirected => "none",
        _ => "ok",
    }
}

#[derive(Template)]
#[template(path = "requests/list.html")]
struct ListPage {
    layout: Layout,
    heading: String,
    rows: Vec<Row>,
    can_ask: bool,
}

pub(crate) async fn list(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    let mut names = Names::load(&state.service, &v.principal).await?;
    let (heading, filter) = match v.role() {
        Role::SalesRep | Role::SalesEngineer => (
            "My requests for a PM".to_owned(),
            RequestFilter {
                requester: Some(v.principal.person.id),
                ..Default::default()
            },
        ),
        _ => ("Requests for PMs".to_owned(), RequestFilter::default()),
    };
    let page = state
        .service
        .list_requests(&v.principal, &filter, &PageRequest::first(100))
        .await?;
    let rows = rows(&state, &v, &mut names, page.items).await;
    render(
        &v,
        &ListPage {
            layout: Layout::new(&v, heading.clone(), "/requests"),
            heading,
            rows,
            can_ask: v
                .principal
                .require(accord_service::Action::CreateRequest)
                .is_ok(),
        },
    )
}

#[derive(Template)]
#[template(path = "requests/inbox.html")]
struct InboxPage {
    layout: Layout,
    waiting: Vec<Row>,
    planned: Vec<Row>,
    blocked: Vec<Row>,
}

pub(crate) async fn inbox(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    v.principal.require(accord_service::Action::AnswerRequest)?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let me = v.principal.person.id;
    // A PM sees what is asked of them; a PM lead, what is asked of their
    // team's PMs too.
    let pms: Vec<PersonId> = if v.role() == Role::PmLead {
        let mut team: Vec<PersonId> = names
            .people()
            .into_iter()
            .filter(|p| {
                p.role.is_product()
                    && (p.manager == Some(me)
                        || (p.team.is_some() && p.team == v.principal.person.team))
            })
            .map(|p| p.id)
            .collect();
        if !team.contains(&me) {
            team.push(me);
        }
        team
    } else {
        vec![me]
    };
    let mut all = Vec::new();
    for pm in pms {
        let page = state
            .service
            .list_requests(
                &v.principal,
                &RequestFilter {
                    pm: Some(pm),
                    states: vec![
                        RequestState::Requested,
                        RequestState::NeedsException,
                        RequestState::Accepted,
                        RequestState::Scheduled,
                    ],
                    ..Default::default()
                },
                &PageRequest::first(200),
            )
            .await?;
        all.extend(page.items);
    }
    all.sort_by_key(|r| r.needed_at);
    let (mut waiting, mut planned, mut blocked) = (Vec::new(), Vec::new(), Vec::new());
    for r in all {
        match r.state {
            RequestState::Requested => waiting.push(r),
            RequestState::NeedsException => blocked.push(r),
            _ => planned.push(r),
        }
    }
    let page = InboxPage {
        layout: Layout::new(&v, "Inbox", "/inbox"),
        waiting: rows(&state, &v, &mut names, waiting).await,
        planned: rows(&state, &v, &mut names, planned).await,
        blocked: rows(&state, &v, &mut names, blocked).await,
    };
    render(&v, &page)
}

/// An option in a select.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// What the playbook said, as a page shows it.
pub(crate) struct Finding {
    pub(crate) rule: String,
    pub(crate) effect: String,
    pub(crate) message: String,
    pub(crate) excepted: bool,
}

/// A decision, for a page.
pub(crate) struct DecisionView {
    pub(crate) effect: String,
    pub(crate) summary: String,
    pub(crate) findings: Vec<Finding>,
    /// Where the playbook would send this instead, if anywhere.
    pub(crate) redirect: Option<String>,
}

/// What an effect means to the person asking.
fn summary(effect: Effect) -> &'static str {
    match effect {
        Effect::Allow => "The playbook has nothing against it.",
        Effect::Audit => "Allowed, and noted in the decision log.",
        Effect::Warn => "Allowed, with a warning: read it before you send.",
        Effect::Exception => "It needs an approved exception before a PM takes it.",
        Effect::Deny => "The playbook does not allow this.",
    }
}

pub(crate) fn decision_view(
    d: &Decision,
    engagement_type: Option<&str>,
    state: &WebState,
) -> DecisionView {
    let active = state.service.playbook();
    let redirect = engagement_type
        .and_then(|t| active.playbook.engagement_type(t))
        .filter(|t| t.category == Category::SalesSupport)
        .and_then(|t| t.redirect_to.clone())
        .map(|to| fmt::words(&to));
    DecisionView {
        effect: d.effect.as_str().to_owned(),
        summary: summary(d.effect).to_owned(),
        findings: d
            .matched
            .iter()
            .map(|m| Finding {
                rule: m.rule.to_string(),
                effect: m.applied.as_str().to_owned(),
                message: m.message.clone(),
                excepted: m.excepted,
            })
            .collect(),
        redirect,
    }
}

#[derive(Template)]
#[template(path = "requests/new.html")]
struct NewPage {
    layout: Layout,
    opportunities: Vec<Choice>,
    types_product: Vec<Choice>,
    types_support: Vec<Choice>,
    pms: Vec<Choice>,
    needed_at: String,
    briefing: String,
    exception_reason: String,
    errors: HashMap<String, String>,
    decision: Option<DecisionView>,
}

impl NewPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct NewQuery {
    opportunity: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct NewForm {
    #[serde(default)]
    opportunity: String,
    #[serde(default)]
    engagement_type: String,
    #[serde(default)]
    pm: String,
    #[serde(default)]
    needed_at: String,
    #[serde(default)]
    briefing: String,
    #[serde(default)]
    exception_reason: String,
    #[serde(default)]
    action: String,
}

async fn new_form(
    state: &WebState,
    v: &Viewer,
    f: &NewForm,
    errors: HashMap<String, String>,
    decision: Option<DecisionView>,
) -> Result<NewPage, WebError> {
    let owner = matches!(v.role(), Role::SalesRep).then_some(v.principal.person.id);
    let opps = state
        .service
        .list_opportunities(&v.principal, None, owner, &PageRequest::first(500))
        .await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let active = state.service.playbook();
    let mut opportunities = Vec::new();
    for o in opps.items {
        let stage = active
            .playbook
            .stage(o.stage.as_str())
            .map(|s| s.name.clone())
            .unwrap_or_else(|| o.stage.to_string());
        let account = names
            .account_name(&state.service, &v.principal, o.account)
            .await;
        opportunities.push(Choice {
            selected: f.opportunity == o.id.to_string(),
            value: o.id.to_string(),
            label: format!("{account} — {} ({stage})", o.name),
        });
    }
    opportunities.sort_by(|a, b| a.label.cmp(&b.label));
    let ty = |cat: Category| -> Vec<Choice> {
        active
            .playbook
            .engagement_types
            .iter()
            .filter(|t| t.category == cat)
            .map(|t| Choice {
                value: t.id.to_string(),
                label: t.name.clone(),
                selected: f.engagement_type == t.id.as_str(),
            })
            .collect()
    };
    let pms = names
        .people()
        .into_iter()
        .filter(|p| p.active && p.role.is_product())
        .map(|p| Choice {
            value: p.id.to_string(),
            label: format!("{} ({})", p.name, names.team(p.team)),
            selected: f.pm == p.id.to_string(),
        })
        .collect();
    Ok(NewPage {
        layout: Layout::new(v, "Ask a PM", "/requests/new"),
        opportunities,
        types_product: ty(Category::Product),
        types_support: ty(Category::SalesSupport),
        pms,
        needed_at: if f.needed_at.is_empty() {
            fmt::local_input(state.service.now() + chrono::Duration::days(7), v.tz)
        } else {
            f.needed_at.clone()
        },
        briefing: f.briefing.clone(),
        exception_reason: f.exception_reason.clone(),
        errors,
        decision,
    })
}

pub(crate) async fn new_page(
    State(state): State<WebState>,
    v: Viewer,
    Query(q): Query<NewQuery>,
) -> Result<Response, WebError> {
    v.principal.require(accord_service::Action::CreateRequest)?;
    let f = NewForm {
        opportunity: q.opportunity.unwrap_or_default(),
        ..Default::default()
    };
    let page = new_form(&state, &v, &f, HashMap::new(), None).await?;
    render(&v, &page)
}

/// The service's field errors, keyed by field.
pub(crate) fn field_errors(e: &[accord_service::FieldError]) -> HashMap<String, String> {
    e.iter()
        .map(|f| (f.field.clone(), f.message.clone()))
        .collect()
}

pub(crate) async fn create(
    State(state): State<WebState>,
    v: Viewer,
    Form(f): Form<NewForm>,
) -> Result<Response, WebError> {
    v.principal.require(accord_service::Action::CreateRequest)?;
    let mut errors = HashMap::new();
    let opportunity = match f.opportunity.parse::<uuid::Uuid>() {
        Ok(u) => Some(OpportunityId(u)),
        Err(_) => {
            errors.insert(
                "opportunity".into(),
                "Choose the opportunity the PM is needed for.".into(),
            );
            None
        }
    };
    if f.engagement_type.is_empty() {
        errors.insert(
            "engagement_type".into(),
            "Choose what kind of help you need.".into(),
        );
    }
    let needed_at = fmt::parse_local(&f.needed_at, v.tz);
    if needed_at.is_none() {
        errors.insert(
            "needed_at".into(),
            "Give the date and time the PM is needed.".into(),
        );
    }
    let pm = f.pm.parse::<uuid::Uuid>().ok().map(PersonId);
    let (Some(opportunity), Some(needed_at), true) = (opportunity, needed_at, errors.is_empty())
    else {
        let page = new_form(&state, &v, &f, errors, None).await?;
        return render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if f.action == "check" {
        let draft = Draft::Request {
            opportunity,
            engagement_type: f.engagement_type.clone(),
            purpose: None,
            briefing: f.briefing.clone(),
            needed_at,
            pm,
        };
        return match state.service.evaluate_draft(&v.principal, draft).await {
            Ok(d) => {
                let view = decision_view(&d, Some(&f.engagement_type), &state);
                let page = new_form(&state, &v, &f, HashMap::new(), Some(view)).await?;
                render(&v, &page)
            }
            Err(ServiceError::Invalid(fe)) => {
                let page = new_form(&state, &v, &f, field_errors(&fe), None).await?;
                render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => Err(e.into()),
        };
    }
    let new = NewRequest {
        id: None,
        opportunity,
        pm,
        engagement_type: f.engagement_type.clone(),
        purpose: None,
        briefing: f.briefing.clone(),
        needed_at,
        exception_reason: Some(f.exception_reason.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    match state.service.create_request(&v.principal, new).await {
        Ok(out) => {
            let msg = match out.request.state {
                RequestState::NeedsException => {
                    "Request saved. It waits for an approved exception before a PM takes it."
                }
                _ => "Request sent. You will see the PM's answer here.",
            };
            Ok(done(&format!("/requests/{}", out.request.id), msg))
        }
        Err(ServiceError::Invalid(fe)) => {
            let page = new_form(&state, &v, &f, field_errors(&fe), None).await?;
            render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(ServiceError::Denied(d)) => {
            let view = decision_view(&d, Some(&f.engagement_type), &state);
            let page = new_form(&state, &v, &f, HashMap::new(), Some(view)).await?;
            render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// A step in a request's history.
struct Step {
    when: String,
    what: String,
    who: String,
    note: String,
}

#[derive(Template)]
#[template(path = "requests/show.html")]
struct ShowPage {
    layout: Layout,
    id: String,
    row: Row,
    stage: String,
    expectation: String,
    briefing: String,
    purpose: String,
    outcome: String,
    hours: String,
    scheduled: String,
    decisions: Vec<DecisionView>,
    exceptions: Vec<(String, String, String)>,
    history: Vec<Step>,
    can_answer: bool,
    can_schedule: bool,
    can_complete: bool,
    can_cancel: bool,
    types: Vec<Choice>,
    pms: Vec<Choice>,
    errors: HashMap<String, String>,
    default_time: String,
}

impl ShowPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

async fn show_page(
    state: &WebState,
    v: &Viewer,
    id: RequestId,
    errors: HashMap<String, String>,
) -> Result<ShowPage, WebError> {
    let view = state.service.get_request(&v.principal, id).await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let r = view.request.clone();
    let active = state.service.playbook();
    let opp = names
        .opportunity(&state.service, &v.principal, r.opportunity)
        .await;
    let stage = opp
        .as_ref()
        .and_then(|o| active.playbook.stage(o.stage.as_str()));
    let me = v.principal.person.id;
    let allowed = |a: RequestAction| view.allowed_actions.contains(&a);
    let is_pm = v
        .principal
        .require(accord_service::Action::AnswerRequest)
        .is_ok()
        && (r.pm == Some(me) || r.pm.is_none() || v.role() == Role::PmLead);
    let row = rows(state, v, &mut names, vec![r.clone()])
        .await
        .into_iter()
        .next();
    let Some(row) = row else {
        return Err(WebError::NotFound("request".into()));
    };
    let decisions = view
        .decisions
        .iter()
        .map(|d| decision_view(&d.decision, Some(r.engagement_type.as_str()), state))
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
    let history = view
        .history
        .iter()
        .map(|h| Step {
            when: fmt::when(h.at, v.tz),
            what: match h.from {
                None => format!("asked ({})", fmt::words(h.to.as_str())),
                Some(f) => format!("{} → {}", fmt::words(f.as_str()), fmt::words(h.to.as_str())),
            },
            who: names.name_or(h.by, "accord"),
            note: h.note.clone().unwrap_or_default(),
        })
        .collect();
    let types = active
        .playbook
        .engagement_types
        .iter()
        .filter(|t| t.id != r.engagement_type)
        .map(|t| Choice {
            value: t.id.to_string(),
            label: t.name.clone(),
            selected: false,
        })
        .collect();
    let pms = names
        .people()
        .into_iter()
        .filter(|p| p.active && p.role.is_product() && Some(p.id) != r.pm)
        .map(|p| Choice {
            value: p.id.to_string(),
            label: p.name.clone(),
            selected: false,
        })
        .collect();
    Ok(ShowPage {
        layout: Layout::new(
            v,
            format!("{} for {}", row.engagement_type, row.account),
            if is_pm { "/inbox" } else { "/requests" },
        ),
        id: r.id.to_string(),
        stage: stage
            .map(|s| s.name.clone())
            .unwrap_or_else(|| opp.map(|o| o.stage.to_string()).unwrap_or_default()),
        expectation: stage.map(|s| s.expectation.clone()).unwrap_or_default(),
        briefing: r.briefing.clone(),
        purpose: r.purpose.as_str().to_owned(),
        outcome: r.outcome.clone().unwrap_or_default(),
        hours: r.hours.map(|h| format!("{h}")).unwrap_or_default(),
        scheduled: r
            .scheduled_at
            .map(|t| fmt::when(t, v.tz))
            .unwrap_or_default(),
        decisions,
        exceptions,
        history,
        can_answer: is_pm && allowed(RequestAction::Accept),
        can_schedule: is_pm && allowed(RequestAction::Schedule),
        can_complete: is_pm && allowed(RequestAction::Complete),
        can_cancel: r.requester == me && allowed(RequestAction::Cancel),
        types,
        pms,
        errors,
        default_time: fmt::local_input(r.needed_at, v.tz),
        row,
    })
}

pub(crate) async fn show(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = id
        .parse::<uuid::Uuid>()
        .map_err(|_| WebError::NotFound("request".into()))?;
    let page = show_page(&state, &v, RequestId(id), HashMap::new()).await?;
    render(&v, &page)
}

#[derive(Deserialize, Default)]
pub(crate) struct ActForm {
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    engagement_type: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    hours: String,
}

fn command(f: &ActForm, v: &Viewer) -> Result<RequestCommand, (String, String)> {
    let bad = |field: &str, m: &str| (field.to_owned(), m.to_owned());
    Ok(match f.action.as_str() {
        "accept" => RequestCommand::Accept,
        "decline" => RequestCommand::Decline {
            reason: f.reason.clone(),
        },
        "cancel" => RequestCommand::Cancel {
            reason: f.reason.clone(),
        },
        "redirect" => RequestCommand::Redirect {
            target: match f.target.as_str() {
                "type" => RedirectTarget::Type {
                    engagement_type: EngagementTypeId::parse(&f.engagement_type).map_err(|_| {
                        bad(
                            "engagement_type",
                            "Choose the engagement type it should be.",
                        )
                    })?,
                },
                "person" => RedirectTarget::Person {
                    person: PersonId(
                        f.person
                            .parse()
                            .map_err(|_| bad("person", "Choose the PM who should take it."))?,
                    ),
                },
                "sales_engineering" => RedirectTarget::SalesEngineering,
                _ => return Err(bad("target", "Choose where to send it.")),
            },
            note: Some(f.note.trim().to_owned()).filter(|n| !n.is_empty()),
        },
        "schedule" => RequestCommand::Schedule {
            at: fmt::parse_local(&f.at, v.tz)
                .ok_or_else(|| bad("at", "Give the date and time it takes place."))?,
        },
        "complete" => RequestCommand::Complete {
            outcome: f.outcome.clone(),
            hours: f
                .hours
                .trim()
                .parse()
                .map_err(|_| bad("hours", "Give the hours you spent, e.g. 2.5."))?,
        },
        _ => return Err(bad("action", "Unknown action.")),
    })
}

pub(crate) async fn act(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Result<Response, WebError> {
    let id = RequestId(
        id.parse::<uuid::Uuid>()
            .map_err(|_| WebError::NotFound("request".into()))?,
    );
    let errors = match command(&f, &v) {
        Ok(cmd) => match state.service.act_on_request(&v.principal, id, cmd).await {
            Ok(out) => {
                let msg = match f.action.as_str() {
                    "accept" => "Accepted. The rep has been told.".to_owned(),
                    "decline" => "Declined, with your reason.".to_owned(),
                    "redirect" => match out.request.redirected_from {
                        Some(_) => {
                            "Redirected: a new request was made for the right help.".to_owned()
                        }
                        None => "Redirected.".to_owned(),
                    },
                    "schedule" => "Scheduled.".to_owned(),
                    "complete" => "Marked done. Thank you for logging the outcome.".to_owned(),
                    _ => "Cancelled.".to_owned(),
                };
                return Ok(done(&format!("/requests/{id}"), &msg));
            }
            Err(ServiceError::Invalid(fe)) => field_errors(&fe),
            Err(e) => return Err(e.into()),
        },
        Err((field, m)) => HashMap::from([(field, m)]),
    };
    let page = show_page(&state, &v, id, errors).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
}
