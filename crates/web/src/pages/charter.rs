//! The PM charter, for everyone: the version in force with its
//! accountabilities, who endorsed it and whether I acknowledged it (with
//! the button to); the drafts open for comments, with a comment form for
//! every constituent, and endorsing and ratifying for the function leads.

use accord_domain::charter::{CharterComment, CharterVersion};
use accord_domain::id::CharterVersionId;
use accord_service::{Action, Caller, ServiceError};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::form::Errors;
use super::requests::Choice;
use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render, render_status};
use crate::names::Names;
use crate::session::Viewer;

struct CommentView {
    author: String,
    text: String,
    when: String,
}

struct Clause {
    id: String,
    title: String,
    text: String,
    comments: Vec<CommentView>,
}

struct VersionView {
    id: String,
    number: i64,
    mission: String,
    clauses: Vec<Clause>,
    /// Comments on the whole draft.
    general: Vec<CommentView>,
    comment_count: usize,
    /// (who, function, when).
    endorsements: Vec<(String, String, String)>,
    required: String,
    missing: String,
    created: String,
    author: String,
    ratified: String,
    acknowledged_by: usize,
    can_ratify: bool,
    clause_choices: Vec<Choice>,
    typed_comment: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "charter/show.html")]
struct CharterPage {
    layout: Layout,
    in_force: Option<VersionView>,
    drafts: Vec<VersionView>,
    acknowledged: bool,
    can_acknowledge: bool,
    can_comment: bool,
    can_endorse: bool,
    can_ratify: bool,
    can_draft: bool,
    /// PMs active in the organisation (for "acknowledged by n of m").
    pms: usize,
    /// Messages about a version no longer open (a draft ratified
    /// meanwhile): shown at the top.
    alert: Vec<String>,
}

fn comment(c: &CharterComment, names: &Names, v: &Viewer) -> CommentView {
    CommentView {
        author: names.name(c.author),
        text: c.text.clone(),
        when: fmt::when(c.at, v.tz),
    }
}

fn version(
    c: &CharterVersion,
    names: &Names,
    v: &Viewer,
    failed: Option<&(CharterVersionId, Errors, CommentForm)>,
) -> VersionView {
    let mine = failed.filter(|f| f.0 == c.id);
    VersionView {
        id: c.id.to_string(),
        number: c.number,
        mission: c.charter.mission.clone(),
        clauses: c
            .charter
            .accountabilities
            .iter()
            .map(|a| Clause {
                id: a.id.to_string(),
                title: a.title.clone(),
                text: a.text.clone(),
                comments: c
                    .comments
                    .iter()
                    .filter(|x| x.clause.as_ref() == Some(&a.id))
                    .map(|x| comment(x, names, v))
                    .collect(),
            })
            .collect(),
        general: c
            .comments
            .iter()
            .filter(|x| x.clause.is_none())
            .map(|x| comment(x, names, v))
            .collect(),
        comment_count: c.comments.len(),
        endorsements: c
            .endorsements
            .iter()
            .map(|e| {
                (
                    names.name(e.person),
                    e.function.clone(),
                    fmt::when(e.at, v.tz),
                )
            })
            .collect(),
        required: c.charter.required_endorsements.join(", "),
        missing: c.missing_endorsements().join(", "),
        created: fmt::when(c.created_at, v.tz),
        author: names.name(c.author),
        ratified: c
            .ratified_at
            .map(|t| fmt::when(t, v.tz))
            .unwrap_or_default(),
        acknowledged_by: c.acknowledgments.len(),
        can_ratify: c.can_ratify(),
        clause_choices: c
            .charter
            .accountabilities
            .iter()
            .map(|a| Choice {
                value: a.id.to_string(),
                label: a.title.clone(),
                selected: mine.is_some_and(|m| m.2.clause == a.id.as_str()),
            })
            .collect(),
        typed_comment: mine.map(|m| m.2.text.clone()).unwrap_or_default(),
        errors: mine.map(|m| m.1.clone()).unwrap_or_default(),
    }
}

async fn charter_page(
    state: &WebState,
    v: &Viewer,
    failed: Option<(CharterVersionId, Errors, CommentForm)>,
) -> Result<CharterPage, WebError> {
    let view = state.service.charter(&v.principal).await?;
    let names = Names::load(&state.service, &v.principal).await?;
    let pms = names
        .people()
        .into_iter()
        .filter(|p| p.active && p.role.is_product())
        .count();
    let allowed = |a: Action| v.principal.require(a).is_ok();
    let alert = match &failed {
        Some((id, errors, _)) if !view.drafts.iter().any(|d| d.id == *id) => errors.others(&[]),
        _ => Vec::new(),
    };
    Ok(CharterPage {
        alert,
        layout: Layout::new(v, "The PM charter", "/charter"),
        in_force: view
            .in_force
            .as_ref()
            .map(|c| version(c, &names, v, failed.as_ref())),
        drafts: view
            .drafts
            .iter()
            .map(|c| version(c, &names, v, failed.as_ref()))
            .collect(),
        acknowledged: view.acknowledged,
        can_acknowledge: allowed(Action::AcknowledgeCharter),
        can_comment: allowed(Action::CommentCharter),
        can_endorse: allowed(Action::EndorseCharter),
        can_ratify: allowed(Action::RatifyCharter),
        can_draft: allowed(Action::DraftCharter),
        pms,
    })
}

pub(crate) async fn show(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    let page = charter_page(&state, &v, None).await?;
    render(&v, &page)
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct CommentForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    clause: String,
    #[serde(default)]
    text: String,
}

pub(crate) async fn act(
    State(state): State<WebState>,
    v: Viewer,
    Form(f): Form<CommentForm>,
) -> Result<Response, WebError> {
    let s = &state.service;
    let p = &v.principal;
    if f.action == "draft" {
        let d = s.draft_charter(&Caller::Person(p.clone()), None).await?;
        return Ok(done(
            &format!("/charter#draft-{}", d.id),
            "A new draft is open for comments, from the playbook's charter.",
        ));
    }
    let id = f
        .version
        .parse::<uuid::Uuid>()
        .map(CharterVersionId)
        .map_err(|_| WebError::NotFound("charter version".into()))?;
    let result = match f.action.as_str() {
        "acknowledge" => s.acknowledge_charter(p, id).await.map(|_| {
            (
                "/charter".to_owned(),
                "Acknowledged. Thank you: the charter is what others expect of you.",
            )
        }),
        "comment" => {
            if f.text.trim().is_empty() {
                Err(ServiceError::invalid(
                    "text",
                    "Write your comment: what should change, and why.",
                ))
            } else {
                let clause = Some(f.clause.clone()).filter(|c| !c.is_empty());
                s.comment_charter(p, id, clause, &f.text).await.map(|_| {
                    (
                        format!("/charter#draft-{id}"),
                        "Comment added. The PM leads read every comment before they ratify.",
                    )
                })
            }
        }
        "endorse" => s.endorse_charter(p, id).await.map(|_| {
            (
                format!("/charter#draft-{id}"),
                "Endorsed for your function.",
            )
        }),
        "ratify" => s.ratify_charter(p, id).await.map(|_| {
            (
                "/charter".to_owned(),
                "Ratified: this version is in force, and every PM is asked to acknowledge it.",
            )
        }),
        _ => Err(ServiceError::invalid("action", "Unknown action.")),
    };
    let errors = match result {
        Ok((to, msg)) => return Ok(done(&to, msg)),
        Err(ServiceError::Invalid(fe)) => Errors::from_service(&fe),
        // Endorsing for a function the draft does not need, or ratifying
        // too early: said next to the button, not on an error page.
        Err(ServiceError::Forbidden(m) | ServiceError::Conflict(m))
            if f.action != "acknowledge" =>
        {
            Errors::one(
                if f.action == "comment" {
                    "text"
                } else {
                    &f.action
                },
                &m,
            )
        }
        Err(e) => return Err(e.into()),
    };
    let page = charter_page(&state, &v, Some((id, errors, f))).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
}
