//! An admin's people and teams: who is who, in which team, under which
//! manager; adding and changing a person or a team; giving a person a
//! sign-in (a password shown once).

use std::collections::HashMap;

use accord_domain::id::{Email, PersonId, TeamId};
use accord_domain::people::{Person, Role, Team, TeamKind};
use accord_service::auth::NewUser;
use accord_service::{Action, Caller, ServiceError};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::WebState;
use crate::error::WebError;
use crate::layout::{Layout, done, render, render_status, role_label};
use crate::names::Names;
use crate::pages::alerts::parse_id;
use crate::pages::requests::{Choice, field_errors};
use crate::session::Viewer;

/// A person as a row.
struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    team: String,
    manager: String,
    active: bool,
}

/// A team as a row.
struct TeamRow {
    id: String,
    name: String,
    kind: &'static str,
    lead: String,
    members: usize,
}

fn kind_label(k: TeamKind) -> &'static str {
    match k {
        TeamKind::Product => "Product management",
        TeamKind::Sales => "Sales",
        TeamKind::Other => "Other",
    }
}

#[derive(Template)]
#[template(path = "admin/people.html")]
struct ListPage {
    layout: Layout,
    people: Vec<PersonRow>,
    teams: Vec<TeamRow>,
}

pub(crate) async fn list(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    let names = Names::load(&state.service, &v.principal).await?;
    let people: Vec<&Person> = names.people();
    let teams = names
        .teams()
        .into_iter()
        .map(|t| TeamRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            kind: kind_label(t.kind),
            lead: names.name_or(t.lead, "no lead yet"),
            members: people
                .iter()
                .filter(|p| p.team == Some(t.id) && p.active)
                .count(),
        })
        .collect();
    let people = people
        .iter()
        .map(|p| PersonRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            email: p.email.to_string(),
            role: role_label(p.role),
            team: names.team(p.team),
            manager: names.name_or(p.manager, "—"),
            active: p.active,
        })
        .collect();
    render(
        &v,
        &ListPage {
            layout: Layout::new(&v, "People and teams", "/admin/people"),
            people,
            teams,
        },
    )
}

/// The person form, as sent.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct PersonForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    manager: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    active: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/person.html")]
struct PersonPage {
    layout: Layout,
    /// The person's id; empty for a new one.
    id: String,
    form: PersonForm,
    active: bool,
    roles: Vec<Choice>,
    teams: Vec<Choice>,
    managers: Vec<Choice>,
    errors: HashMap<String, String>,
    /// A password just generated: shown this once.
    password: String,
    signin_errors: HashMap<String, String>,
}

impl PersonPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    fn signin_error(&self, field: &str) -> String {
        self.signin_errors.get(field).cloned().unwrap_or_default()
    }

    fn has_signin_error(&self, field: &str) -> bool {
        self.signin_errors.contains_key(field)
    }
}

fn form_of(p: &Person) -> PersonForm {
    PersonForm {
        name: p.name.clone(),
        email: p.email.to_string(),
        role: p.role.as_str().to_owned(),
        team: p.team.map(|t| t.to_string()).unwrap_or_default(),
        manager: p.manager.map(|m| m.to_string()).unwrap_or_default(),
        function: p.function.clone().unwrap_or_default(),
        active: p.active.then(|| "1".to_owned()),
    }
}

async fn person_page(
    state: &WebState,
    v: &Viewer,
    id: Option<PersonId>,
    form: PersonForm,
    errors: HashMap<String, String>,
) -> Result<PersonPage, WebError> {
    let names = Names::load(&state.service, &v.principal).await?;
    let title = match id.and_then(|i| names.person(i)) {
        Some(p) => p.name.clone(),
        None => "Add a person".to_owned(),
    };
    let mut teams = vec![Choice {
        value: String::new(),
        label: "No team".into(),
        selected: form.team.is_empty(),
    }];
    teams.extend(names.teams().into_iter().map(|t| Choice {
        value: t.id.to_string(),
        label: format!("{} ({})", t.name, kind_label(t.kind).to_lowercase()),
        selected: form.team == t.id.to_string(),
    }));
    let mut managers = vec![Choice {
        value: String::new(),
        label: "No manager".into(),
        selected: form.manager.is_empty(),
    }];
    managers.extend(
        names
            .people()
            .into_iter()
            .filter(|p| p.active && Some(p.id) != id)
            .map(|p| Choice {
                value: p.id.to_string(),
                label: format!("{} ({})", p.name, role_label(p.role)),
                selected: form.manager == p.id.to_string(),
            }),
    );
    Ok(PersonPage {
        layout: Layout::new(v, title, "/admin/people"),
        id: id.map(|i| i.to_string()).unwrap_or_default(),
        active: form.active.is_some() || id.is_none(),
        roles: Role::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                label: role_label(*r).to_owned(),
                selected: form.role == r.as_str(),
            })
            .collect(),
        teams,
        managers,
        form,
        errors,
        password: String::new(),
        signin_errors: HashMap::new(),
    })
}

pub(crate) async fn new_page(
    State(state): State<WebState>,
    v: Viewer,
) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    let page = person_page(&state, &v, None, PersonForm::default(), HashMap::new()).await?;
    render(&v, &page)
}

pub(crate) async fn edit_page(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    let id = PersonId(parse_id(&id, "person")?);
    let p = state.service.get_person(&v.principal, id).await?;
    let page = person_page(&state, &v, Some(id), form_of(&p), HashMap::new()).await?;
    render(&v, &page)
}

/// Reads the form into a person, or says what is wrong, field by field.
fn read_person(
    f: &PersonForm,
    existing: Option<&Person>,
) -> Result<Person, HashMap<String, String>> {
    let mut errors = HashMap::new();
    let name = f.name.trim();
    if name.is_empty() {
        errors.insert("name".to_owned(), "Give the person's name.".to_owned());
    }
    let email = match existing {
        Some(p) => Some(p.email.clone()),
        None => match Email::parse(&f.email) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.insert(
                    "email".to_owned(),
                    format!("Not an email address: {}.", e.why),
                );
                None
            }
        },
    };
    let role = match f.role.parse::<Role>() {
        Ok(r) => Some(r),
        Err(_) => {
            errors.insert("role".to_owned(), "Choose a role.".to_owned());
            None
        }
    };
    let uuid = |s: &str| s.parse::<uuid::Uuid>().ok();
    let team = uuid(&f.team).map(TeamId);
    let manager = uuid(&f.manager).map(PersonId);
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(Person {
        id: existing.map(|p| p.id).unwrap_or_default(),
        email,
        name: name.to_owned(),
        role,
        team,
        manager,
        function: Some(f.function.trim().to_owned()).filter(|s| !s.is_empty()),
        active: f.active.is_some(),
        external: existing.and_then(|p| p.external.clone()),
    })
}

async fn save(
    state: &WebState,
    v: &Viewer,
    id: Option<PersonId>,
    f: PersonForm,
) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    let existing = match id {
        Some(id) => Some(state.service.get_person(&v.principal, id).await?),
        None => None,
    };
    let errors = match read_person(&f, existing.as_ref()) {
        Ok(p) => match state
            .service
            .save_person(&Caller::Person(v.principal.clone()), &p)
            .await
        {
            Ok(saved) => {
                let msg = if existing.is_some() {
                    "Saved."
                } else {
                    "Person added. Give them a sign-in below if they use accord."
                };
                return Ok(done(&format!("/admin/people/{}", saved.id), msg));
            }
            Err(ServiceError::Invalid(fe)) => field_errors(&fe),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    let page = person_page(state, v, id, f, errors).await?;
    render_status(v, StatusCode::UNPROCESSABLE_ENTITY, &page)
}

pub(crate) async fn create(
    State(state): State<WebState>,
    v: Viewer,
    Form(f): Form<PersonForm>,
) -> Result<Response, WebError> {
    save(&state, &v, None, f).await
}

pub(crate) async fn update(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<PersonForm>,
) -> Result<Response, WebError> {
    let id = PersonId(parse_id(&id, "person")?);
    save(&state, &v, Some(id), f).await
}

#[derive(Deserialize, Default)]
pub(crate) struct SignInForm {
    #[serde(default)]
    password: String,
}

/// Gives a person a password: the one typed, or one generated and shown
/// this once.
pub(crate) async fn sign_in(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<SignInForm>,
) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    let id = PersonId(parse_id(&id, "person")?);
    let p = state.service.get_person(&v.principal, id).await?;
    let new = NewUser {
        email: p.email.to_string(),
        name: None,
        role: None,
        password: Some(f.password.clone()).filter(|s| !s.is_empty()),
    };
    let (status, password, signin_errors) = match state
        .service
        .add_user(&Caller::Person(v.principal.clone()), new)
        .await
    {
        Ok((_, generated)) => match generated {
            Some(pw) => (StatusCode::OK, pw, HashMap::new()),
            None => {
                return Ok(done(
                    &format!("/admin/people/{id}"),
                    "Password set: they can sign in now.",
                ));
            }
        },
        Err(ServiceError::Invalid(fe)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            String::new(),
            field_errors(&fe),
        ),
        Err(e) => return Err(e.into()),
    };
    let mut page = person_page(&state, &v, Some(id), form_of(&p), HashMap::new()).await?;
    page.password = password;
    page.signin_errors = signin_errors;
    render_status(&v, status, &page)
}

/// The team form, as sent.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct TeamForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    lead: String,
}

#[derive(Template)]
#[template(path = "admin/team.html")]
struct TeamPage {
    layout: Layout,
    id: String,
    form: TeamForm,
    kinds: Vec<Choice>,
    leads: Vec<Choice>,
    members: Vec<PersonRow>,
    errors: HashMap<String, String>,
}

impl TeamPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

const KINDS: [(TeamKind, &str); 3] = [
    (TeamKind::Product, "product"),
    (TeamKind::Sales, "sales"),
    (TeamKind::Other, "other"),
];

async fn team_page(
    state: &WebState,
    v: &Viewer,
    id: Option<TeamId>,
    form: TeamForm,
    errors: HashMap<String, String>,
) -> Result<TeamPage, WebError> {
    let names = Names::load(&state.service, &v.principal).await?;
    let mut leads = vec![Choice {
        value: String::new(),
        label: "No lead yet".into(),
        selected: form.lead.is_empty(),
    }];
    leads.extend(
        names
            .people()
            .into_iter()
            .filter(|p| {
                p.active
                    && (p.role.is_leader() || Some(p.id.to_string()) == Some(form.lead.clone()))
            })
            .map(|p| Choice {
                value: p.id.to_string(),
                label: format!("{} ({})", p.name, role_label(p.role)),
                selected: form.lead == p.id.to_string(),
            }),
    );
    let members = names
        .people()
        .into_iter()
        .filter(|p| id.is_some() && p.team == id)
        .map(|p| PersonRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            email: p.email.to_string(),
            role: role_label(p.role),
            team: String::new(),
            manager: names.name_or(p.manager, "—"),
            active: p.active,
        })
        .collect();
    Ok(TeamPage {
        layout: Layout::new(
            v,
            if id.is_some() {
                form.name.clone()
            } else {
                "Add a team".to_owned()
            },
            "/admin/people",
        ),
        id: id.map(|i| i.to_string()).unwrap_or_default(),
        kinds: KINDS
            .iter()
            .map(|(k, s)| Choice {
                value: (*s).to_owned(),
                label: kind_label(*k).to_owned(),
                selected: form.kind == *s,
            })
            .collect(),
        leads,
        members,
        form,
        errors,
    })
}

pub(crate) async fn new_team_page(
    State(state): State<WebState>,
    v: Viewer,
) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    let f = TeamForm {
        kind: "sales".into(),
        ..Default::default()
    };
    let page = team_page(&state, &v, None, f, HashMap::new()).await?;
    render(&v, &page)
}

pub(crate) async fn team(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    let id = TeamId(parse_id(&id, "team")?);
    let t = state.service.get_team(&v.principal, id).await?;
    let f = TeamForm {
        name: t.name,
        kind: KINDS
            .iter()
            .find(|(k, _)| *k == t.kind)
            .map(|(_, s)| (*s).to_owned())
            .unwrap_or_default(),
        lead: t.lead.map(|l| l.to_string()).unwrap_or_default(),
    };
    let page = team_page(&state, &v, Some(id), f, HashMap::new()).await?;
    render(&v, &page)
}

async fn save_team(
    state: &WebState,
    v: &Viewer,
    id: Option<TeamId>,
    f: TeamForm,
) -> Result<Response, WebError> {
    v.principal.require(Action::WriteOrg)?;
    if let Some(id) = id {
        // It must exist: an unknown id is a mistyped link, not a new team.
        state.service.get_team(&v.principal, id).await?;
    }
    let mut errors = HashMap::new();
    let kind = KINDS.iter().find(|(_, s)| *s == f.kind).map(|(k, _)| *k);
    if kind.is_none() {
        errors.insert(
            "kind".to_owned(),
            "Choose which side of the relationship the team is on.".to_owned(),
        );
    }
    let name_taken = Names::load(&state.service, &v.principal)
        .await?
        .teams()
        .iter()
        .any(|t| t.name.eq_ignore_ascii_case(f.name.trim()) && Some(t.id) != id);
    if name_taken {
        errors.insert(
            "name".to_owned(),
            "Another team has this name: signals group teams by name.".to_owned(),
        );
    }
    if let (Some(kind), true) = (kind, errors.is_empty()) {
        let t = Team {
            id: id.unwrap_or_default(),
            name: f.name.trim().to_owned(),
            kind,
            lead: f.lead.parse::<uuid::Uuid>().ok().map(PersonId),
        };
        match state
            .service
            .save_team(&Caller::Person(v.principal.clone()), &t)
            .await
        {
            Ok(t) => return Ok(done(&format!("/admin/teams/{}", t.id), "Team saved.")),
            Err(ServiceError::Invalid(fe)) => errors = field_errors(&fe),
            Err(e) => return Err(e.into()),
        }
    }
    let page = team_page(state, v, id, f, errors).await?;
    render_status(v, StatusCode::UNPROCESSABLE_ENTITY, &page)
}

pub(crate) async fn create_team(
    State(state): State<WebState>,
    v: Viewer,
    Form(f): Form<TeamForm>,
) -> Result<Response, WebError> {
    save_team(&state, &v, None, f).await
}

pub(crate) async fn update_team(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<TeamForm>,
) -> Result<Response, WebError> {
    let id = TeamId(parse_id(&id, "team")?);
    save_team(&state, &v, Some(id), f).await
}
