//! What waits for a leader's decision: exceptions to the rules (granted by
//! the role the playbook names for the rule) and commitments made to
//! customers (approved by a PM lead) — each approved or rejected with a
//! note, on the list or on its own page.

use std::collections::HashMap;

use accord_domain::commitment::{Commitment, CommitmentState};
use accord_domain::exception::{Exception, ExceptionState};
use accord_domain::id::{CommitmentId, ExceptionId};
use accord_domain::record::{RecordKind, RecordRef};
use accord_service::{Action, Principal, ServiceError};
use accord_store::PageRequest;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render, render_status};
use crate::names::Names;
use crate::pages::alerts::{Evidence, describe, parse_id};
use crate::session::Viewer;

/// The page of a record an exception is for.
pub(crate) fn record_href(r: RecordRef) -> String {
    let kind = match r.kind {
        RecordKind::Request => "requests",
        RecordKind::Meeting => "meetings",
        RecordKind::Commitment => "commitments",
        RecordKind::Access => "access",
    };
    format!("/{kind}/{}", r.id)
}

/// A record kind as people say it.
fn record_words(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Request => "engagement request",
        RecordKind::Meeting => "customer contact",
        RecordKind::Commitment => "commitment",
        RecordKind::Access => "access request",
    }
}

/// Whether `who` may grant or refuse `e`: the rule's approver, not the
/// person who asked, and only while it waits.
fn may_decide_exception(state: &WebState, who: &Principal, e: &Exception) -> bool {
    let active = state.service.playbook();
    e.state == ExceptionState::Requested
        && who.require(Action::DecideException).is_ok()
        && e.requested_by != who.person.id
        && active
            .playbook
            .rule(e.rule.as_str())
            .is_some_and(|r| r.approver == who.role())
}

/// Whether `who` may approve or reject `c`: a PM lead, not the person who
/// said it, while it waits.
fn may_decide_commitment(who: &Principal, c: &Commitment) -> bool {
    c.state == CommitmentState::Pending
        && who.require(Action::DecideCommitment).is_ok()
        && c.said_by != who.person.id
}

/// An exception as a row.
pub(crate) struct ExceptionRow {
    pub(crate) id: String,
    pub(crate) rule: String,
    pub(crate) rule_says: String,
    pub(crate) record: String,
    pub(crate) record_href: String,
    pub(crate) reason: String,
    pub(crate) asked_by: String,
    pub(crate) asked: String,
    pub(crate) state: String,
    pub(crate) state_key: &'static str,
    /// Why the last decision sent was not taken.
    pub(crate) error: String,
}

fn exception_row(state: &WebState, v: &Viewer, names: &Names, e: &Exception) -> ExceptionRow {
    let active = state.service.playbook();
    let rule = active.playbook.rule(e.rule.as_str());
    ExceptionRow {
        id: e.id.to_string(),
        rule: e.rule.to_string(),
        rule_says: rule
            .and_then(|r| r.description.clone())
            .unwrap_or_else(|| rule.map(|r| r.message_text.clone()).unwrap_or_default()),
        record: record_words(e.record.kind).to_owned(),
        record_href: record_href(e.record),
        reason: e.reason.clone(),
        asked_by: names.name(e.requested_by),
        asked: fmt::when(e.requested_at, v.tz),
        state: fmt::words(e.state.as_str()),
        state_key: match e.state {
            ExceptionState::Requested => "watch",
            ExceptionState::Approved => "ok",
            ExceptionState::Denied => "act",
        },
        error: String::new(),
    }
}

/// A commitment as a row.
pub(crate) struct CommitmentRow {
    pub(crate) id: String,
    pub(crate) text: String,
    pub(crate) kind: String,
    pub(crate) account: String,
    pub(crate) to_whom: String,
    pub(crate) said_by: String,
    pub(crate) present: String,
    pub(crate) said: String,
    pub(crate) state: String,
    pub(crate) state_key: &'static str,
    /// Why the last decision sent was not taken.
    pub(crate) error: String,
}

async fn commitment_row(
    state: &WebState,
    v: &Viewer,
    names: &mut Names,
    c: &Commitment,
) -> CommitmentRow {
    CommitmentRow {
        id: c.id.to_string(),
        text: c.text.clone(),
        kind: c.kind.as_str().to_owned(),
        account: names
            .account_name(&state.service, &v.principal, c.account)
            .await,
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
        said: fmt::when(c.said_at, v.tz),
        state: c.state.as_str().to_owned(),
        state_key: match c.state {
            CommitmentState::Pending => "watch",
            CommitmentState::Approved => "ok",
            CommitmentState::Rejected => "act",
        },
        error: String::new(),
    }
}

#[derive(Template)]
#[template(path = "leaders/approvals.html")]
struct ListPage {
    layout: Layout,
    exceptions: Vec<ExceptionRow>,
    commitments: Vec<CommitmentRow>,
    decides_commitments: bool,
    others_exceptions: usize,
}

/// Refuses people who decide nothing here.
fn require_decider(v: &Viewer) -> Result<(), WebError> {
    if v.principal.require(Action::DecideException).is_ok()
        || v.principal.require(Action::DecideCommitment).is_ok()
    {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!(
            "a {} does not approve exceptions or commitments",
            crate::layout::role_label(v.role()).to_lowercase()
        )))
    }
}

async fn list_page(
    state: &WebState,
    v: &Viewer,
    errors: HashMap<String, String>,
) -> Result<ListPage, WebError> {
    require_decider(v)?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let pending = state
        .service
        .list_exceptions(&v.principal, true, None, &PageRequest::first(500))
        .await?
        .items;
    let (mine, others): (Vec<&Exception>, Vec<&Exception>) = pending
        .iter()
        .partition(|e| may_decide_exception(state, &v.principal, e));
    let error = |key: String| errors.get(&key).cloned().unwrap_or_default();
    let mut exceptions: Vec<ExceptionRow> = mine
        .iter()
        .map(|e| ExceptionRow {
            error: error(format!("exception-{}", e.id)),
            ..exception_row(state, v, &names, e)
        })
        .collect();
    // Oldest first: they have waited longest.
    exceptions.reverse();
    let decides_commitments = v.principal.require(Action::DecideCommitment).is_ok();
    let mut commitments = Vec::new();
    if decides_commitments {
        let pending = state
            .service
            .list_commitments(&v.principal, None, true, &PageRequest::first(500))
            .await?
            .items;
        for c in pending
            .iter()
            .rev()
            .filter(|c| may_decide_commitment(&v.principal, c))
        {
            let row = commitment_row(state, v, &mut names, c).await;
            commitments.push(CommitmentRow {
                error: error(format!("commitment-{}", c.id)),
                ..row
            });
        }
    }
    Ok(ListPage {
        layout: Layout::new(v, "Approvals", "/approvals"),
        exceptions,
        commitments,
        decides_commitments,
        others_exceptions: others.len(),
    })
}

pub(crate) async fn list(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    let page = list_page(&state, &v, HashMap::new()).await?;
    render(&v, &page)
}

/// An approve-or-reject form.
#[derive(Deserialize, Default)]
pub(crate) struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    /// Where the form was sent from: `list` or the record's own page.
    #[serde(default)]
    from: String,
}

impl DecideForm {
    fn approve(&self) -> Option<bool> {
        match self.decision.as_str() {
            "approve" => Some(true),
            "reject" => Some(false),
            _ => None,
        }
    }

    fn note(&self) -> Option<String> {
        Some(self.note.trim().to_owned()).filter(|n| !n.is_empty())
    }
}

const CHOOSE: &str = "Choose approve or reject.";

/// The form again, with the message next to its buttons.
async fn again(
    state: &WebState,
    v: &Viewer,
    from_list: bool,
    key: String,
    message: String,
    show: impl AsyncFnOnce(HashMap<String, String>) -> Result<Response, WebError>,
) -> Result<Response, WebError> {
    let errors = HashMap::from([(key, message)]);
    if from_list {
        let page = list_page(state, v, errors).await?;
        render_status(v, StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        show(errors).await
    }
}

#[derive(Template)]
#[template(path = "leaders/exception.html")]
struct ExceptionPage {
    layout: Layout,
    row: ExceptionRow,
    record: Evidence,
    approver: String,
    expires: String,
    decided: String,
    note: String,
    can_decide: bool,
}

async fn exception_page(
    state: &WebState,
    v: &Viewer,
    id: ExceptionId,
    errors: HashMap<String, String>,
) -> Result<Response, WebError> {
    let e = state.service.get_exception(&v.principal, id).await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let active = state.service.playbook();
    let kind = record_href(e.record);
    let record = describe(state, v, &mut names, &format!("/api/v1{kind}")).await;
    let row = ExceptionRow {
        error: errors
            .get(&format!("exception-{}", e.id))
            .cloned()
            .unwrap_or_default(),
        ..exception_row(state, v, &names, &e)
    };
    let page = ExceptionPage {
        layout: Layout::new(v, format!("Exception to {}", e.rule), "/approvals"),
        approver: active
            .playbook
            .rule(e.rule.as_str())
            .map(|r| crate::layout::role_label(r.approver).to_lowercase())
            .unwrap_or_else(|| "nobody: the rule is no longer in the playbook".into()),
        expires: e
            .expires_at
            .map(|t| fmt::when(t, v.tz))
            .unwrap_or_else(|| "never".into()),
        decided: match (e.decided_by, e.decided_at) {
            (Some(p), Some(t)) => format!("{} by {}", fmt::when(t, v.tz), names.name(p)),
            _ => String::new(),
        },
        note: e.decision_note.clone().unwrap_or_default(),
        can_decide: may_decide_exception(state, &v.principal, &e),
        record,
        row,
    };
    render_status(
        v,
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &page,
    )
}

pub(crate) async fn exception(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = ExceptionId(parse_id(&id, "exception")?);
    exception_page(&state, &v, id, HashMap::new()).await
}

pub(crate) async fn decide_exception(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, WebError> {
    let id = ExceptionId(parse_id(&id, "exception")?);
    let from_list = f.from == "list";
    let Some(approve) = f.approve() else {
        return again(
            &state,
            &v,
            from_list,
            format!("exception-{id}"),
            CHOOSE.into(),
            async |errors| exception_page(&state, &v, id, errors).await,
        )
        .await;
    };
    match state
        .service
        .decide_exception(&v.principal, id, approve, f.note())
        .await
    {
        Ok(e) => {
            let msg = if approve {
                format!("Exception to {} granted.", e.rule)
            } else {
                format!("Exception to {} refused.", e.rule)
            };
            let to = if from_list {
                "/approvals".to_owned()
            } else {
                format!("/exceptions/{id}")
            };
            Ok(done(&to, &msg))
        }
        Err(ServiceError::Invalid(fe)) => {
            let msg = fe.first().map(|f| f.message.clone()).unwrap_or_default();
            again(
                &state,
                &v,
                from_list,
                format!("exception-{id}"),
                msg,
                async |errors| exception_page(&state, &v, id, errors).await,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "leaders/commitment.html")]
struct CommitmentPage {
    layout: Layout,
    row: CommitmentRow,
    meeting: String,
    decided: String,
    note: String,
    can_decide: bool,
    waits_for: String,
}

async fn commitment_page(
    state: &WebState,
    v: &Viewer,
    id: CommitmentId,
    errors: HashMap<String, String>,
) -> Result<Response, WebError> {
    let c = state.service.get_commitment(&v.principal, id).await?;
    let mut names = Names::load(&state.service, &v.principal).await?;
    let row = CommitmentRow {
        error: errors
            .get(&format!("commitment-{}", c.id))
            .cloned()
            .unwrap_or_default(),
        ..commitment_row(state, v, &mut names, &c).await
    };
    let can_decide = may_decide_commitment(&v.principal, &c);
    let page = CommitmentPage {
        layout: Layout::new(
            v,
            format!("Commitment to {}", row.account),
            if v.role().is_leader() {
                "/approvals"
            } else {
                ""
            },
        ),
        meeting: c
            .meeting
            .map(|m| format!("/meetings/{m}"))
            .unwrap_or_default(),
        decided: match (c.decided_by, c.decided_at) {
            (Some(p), Some(t)) => format!("{} by {}", fmt::when(t, v.tz), names.name(p)),
            _ => String::new(),
        },
        note: c.decision_note.clone().unwrap_or_default(),
        waits_for: if c.state == CommitmentState::Pending && !can_decide {
            "It waits for a PM lead's approval (not the person who made it).".into()
        } else {
            String::new()
        },
        can_decide,
        row,
    };
    render_status(
        v,
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &page,
    )
}

pub(crate) async fn commitment(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = CommitmentId(parse_id(&id, "commitment")?);
    commitment_page(&state, &v, id, HashMap::new()).await
}

pub(crate) async fn decide_commitment(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, WebError> {
    let id = CommitmentId(parse_id(&id, "commitment")?);
    let from_list = f.from == "list";
    let Some(approve) = f.approve() else {
        return again(
            &state,
            &v,
            from_list,
            format!("commitment-{id}"),
            CHOOSE.into(),
            async |errors| commitment_page(&state, &v, id, errors).await,
        )
        .await;
    };
    match state
        .service
        .decide_commitment(&v.principal, id, approve, f.note())
        .await
    {
        Ok(_) => {
            let msg = if approve {
                "Commitment approved: the organisation stands behind it."
            } else {
                "Commitment rejected: someone has to walk it back with the customer."
            };
            let to = if from_list {
                "/approvals".to_owned()
            } else {
                format!("/commitments/{id}")
            };
            Ok(done(&to, msg))
        }
        Err(ServiceError::Invalid(fe)) => {
            let msg = fe.first().map(|f| f.message.clone()).unwrap_or_default();
            again(
                &state,
                &v,
                from_list,
                format!("commitment-{id}"),
                msg,
                async |errors| commitment_page(&state, &v, id, errors).await,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
