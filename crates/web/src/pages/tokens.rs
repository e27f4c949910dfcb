//! An admin's API tokens: who holds which, when each was last used;
//! creating one (its secret shown once) and revoking one.

use std::collections::HashMap;

use accord_service::{Action, Caller, ServiceError};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render_status, role_label};
use crate::names::Names;
use crate::pages::alerts::parse_id;
use crate::pages::requests::{Choice, field_errors};
use crate::session::Viewer;

/// A token as a row.
struct TokenRow {
    id: String,
    name: String,
    person: String,
    created: String,
    last_used: String,
    revoked: String,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    layout: Layout,
    active: Vec<TokenRow>,
    revoked: Vec<TokenRow>,
    people: Vec<Choice>,
    name: String,
    /// A token just created: its name and secret, shown this once.
    created: Option<(String, String)>,
    errors: HashMap<String, String>,
}

impl TokensPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct CreateForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

async fn page(
    state: &WebState,
    v: &Viewer,
    f: &CreateForm,
    created: Option<(String, String)>,
    errors: HashMap<String, String>,
) -> Result<TokensPage, WebError> {
    v.principal.require(Action::ManageTokens)?;
    let names = Names::load(&state.service, &v.principal).await?;
    let tokens = state
        .service
        .list_tokens(&Caller::Person(v.principal.clone()))
        .await?;
    let (mut active, mut revoked) = (Vec::new(), Vec::new());
    for t in tokens {
        let row = TokenRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            person: names.name(t.person),
            created: fmt::when(t.created_at, v.tz),
            last_used: t
                .last_used_at
                .map(|u| fmt::when(u, v.tz))
                .unwrap_or_else(|| "never".into()),
            revoked: t.revoked_at.map(|u| fmt::when(u, v.tz)).unwrap_or_default(),
        };
        if t.revoked_at.is_some() {
            revoked.push(row);
        } else {
            active.push(row);
        }
    }
    let people = names
        .people()
        .into_iter()
        .filter(|p| p.active)
        .map(|p| Choice {
            value: p.email.to_string(),
            label: format!("{} ({}, {})", p.name, role_label(p.role), p.email),
            selected: f.email == p.email.as_str(),
        })
        .collect();
    Ok(TokensPage {
        layout: Layout::new(v, "API tokens", "/admin/tokens"),
        active,
        revoked,
        people,
        name: f.name.clone(),
        created,
        errors,
    })
}

pub(crate) async fn list(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    let p = page(&state, &v, &CreateForm::default(), None, HashMap::new()).await?;
    render_status(&v, StatusCode::OK, &p)
}

/// Creates a token and shows its secret on the page that answers the
/// form — never in a redirect or a cookie — this once.
pub(crate) async fn create(
    State(state): State<WebState>,
    v: Viewer,
    Form(f): Form<CreateForm>,
) -> Result<Response, WebError> {
    v.principal.require(Action::ManageTokens)?;
    let mut errors = HashMap::new();
    if f.email.trim().is_empty() {
        errors.insert("email".to_owned(), "Choose whose token it is.".to_owned());
    }
    if f.name.trim().is_empty() {
        errors.insert(
            "name".to_owned(),
            "Name the token after what uses it (\"crm sync\", \"ci\").".to_owned(),
        );
    }
    if errors.is_empty() {
        match state
            .service
            .create_token(&Caller::Person(v.principal.clone()), &f.email, &f.name)
            .await
        {
            Ok((token, secret)) => {
                let p = page(
                    &state,
                    &v,
                    &CreateForm::default(),
                    Some((token.name, secret)),
                    HashMap::new(),
                )
                .await?;
                let mut r = render_status(&v, StatusCode::OK, &p)?;
                // The secret must not be kept by a cache or a back button.
                r.headers_mut().insert(
                    axum::http::header::CACHE_CONTROL,
                    axum::http::HeaderValue::from_static("no-store"),
                );
                return Ok(r);
            }
            Err(ServiceError::Invalid(fe)) => errors = field_errors(&fe),
            Err(e) => return Err(e.into()),
        }
    }
    let p = page(&state, &v, &f, None, errors).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &p)
}

pub(crate) async fn revoke(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    v.principal.require(Action::ManageTokens)?;
    let id = parse_id(&id, "token")?;
    state
        .service
        .revoke_token(&Caller::Person(v.principal.clone()), id)
        .await?;
    Ok(done(
        "/admin/tokens",
        "Token revoked: it stops working within seconds on every server.",
    ))
}
