//! The frame around every page: who is signed in, the navigation for
//! their role, the CSRF token for the page's forms, the one-time message —
//! and [`render`], which turns a page into a response.

use accord_domain::people::Role;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::error::WebError;
use crate::session::{FLASH_COOKIE, Viewer};

/// One link in the navigation.
#[derive(Clone, Debug)]
pub(crate) struct NavItem {
    /// Where.
    pub(crate) href: &'static str,
    /// The label.
    pub(crate) label: &'static str,
    /// Whether it is the current section.
    pub(crate) current: bool,
}

/// What the base template needs.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// The page's title.
    pub(crate) title: String,
    /// The signed-in person's name.
    pub(crate) name: String,
    /// Their role, as people say it.
    pub(crate) role: &'static str,
    /// The navigation for their role.
    pub(crate) nav: Vec<NavItem>,
    /// The CSRF token for the page's forms.
    pub(crate) csrf: String,
    /// A one-time message from the previous step.
    pub(crate) flash: Option<String>,
    /// The time zone dates are shown in.
    pub(crate) tz: String,
}

/// A role as people say it.
pub(crate) fn role_label(r: Role) -> &'static str {
    match r {
        Role::Pm => "Product manager",
        Role::PmLead => "PM lead",
        Role::SalesRep => "Sales rep",
        Role::SalesManager => "Sales manager",
        Role::SalesEngineer => "Sales engineer",
        Role::Admin => "Admin",
        Role::Constituent => "Constituent",
    }
}

/// The sections a role works in, in order.
fn sections(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut s: Vec<(&'static str, &'static str)> = Vec::new();
    match role {
        Role::SalesRep | Role::SalesEngineer => {
            s.push(("/requests", "My requests"));
            s.push(("/requests/new", "Ask a PM"));
            // Sales engineers own no accounts: PMs ask the owners.
            if role == Role::SalesRep {
                s.push(("/access", "Access requests"));
            }
            s.push(("/me", "My record"));
        }
        Role::Pm => {
            s.push(("/inbox", "Inbox"));
            s.push(("/access", "Customer time"));
            s.push(("/meetings", "Contacts"));
            s.push(("/time", "My time"));
            s.push(("/me", "My record"));
        }
        Role::PmLead | Role::SalesManager => {
            s.push(("/dashboard", "Health"));
            s.push(("/alerts", "Alerts"));
            s.push(("/approvals", "Approvals"));
            s.push(("/reviews", "Reviews"));
            if role == Role::PmLead {
                s.push(("/inbox", "Inbox"));
                s.push(("/meetings", "Contacts"));
            } else {
                s.push(("/requests", "Requests"));
                s.push(("/access", "Access requests"));
            }
        }
        Role::Admin => {
            s.push(("/admin/people", "People"));
            s.push(("/admin/playbook", "Playbook"));
            s.push(("/admin/import", "Import"));
            s.push(("/admin/tokens", "API tokens"));
            s.push(("/admin/webhooks", "Webhooks"));
            s.push(("/dashboard", "Health"));
        }
        Role::Constituent => {}
    }
    s.push(("/charter", "Charter"));
    s.push(("/playbook", "Rules"));
    s
}

/// Where a role starts.
pub(crate) fn home(role: Role) -> &'static str {
    match role {
        Role::SalesRep | Role::SalesEngineer => "/requests",
        Role::Pm => "/inbox",
        Role::PmLead | Role::SalesManager => "/dashboard",
        Role::Admin => "/admin/people",
        Role::Constituent => "/charter",
    }
}

impl Layout {
    /// The frame of a page titled `title` in the section at `section`.
    pub(crate) fn new(v: &Viewer, title: impl Into<String>, section: &str) -> Self {
        Self {
            title: title.into(),
            name: v.principal.person.name.clone(),
            role: role_label(v.role()),
            nav: sections(v.role())
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: href == section,
                })
                .collect(),
            csrf: v.csrf.clone(),
            flash: v.flash.clone(),
            tz: v.tz.name().to_owned(),
        }
    }
}

/// A page as a response: its HTML, and the one-time message cleared once
/// shown.
pub(crate) fn render<T: Template>(v: &Viewer, page: &T) -> Result<Response, WebError> {
    render_status(v, StatusCode::OK, page)
}

/// [`render`] with a status (a form shown again with its errors is 422).
pub(crate) fn render_status<T: Template>(
    v: &Viewer,
    status: StatusCode,
    page: &T,
) -> Result<Response, WebError> {
    let html = page.render().map_err(|e| {
        WebError::Service(accord_service::ServiceError::Internal(format!(
            "template: {e}"
        )))
    })?;
    let mut r = (status, Html(html)).into_response();
    if v.flash.is_some() {
        r.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("accord_flash=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly"),
        );
    }
    Ok(r)
}

/// After a change: to `to`, with a message for the next page.
pub(crate) fn done(to: &str, message: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    let value = format!(
        "{FLASH_COOKIE}={}; Path=/; Max-Age=60; SameSite=Lax; HttpOnly",
        form_urlencoded::byte_serialize(message.as_bytes()).collect::<String>()
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
