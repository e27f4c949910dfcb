//! Every page, by who uses it. A handler reads its form, calls the
//! service, and renders a typed page; nothing here decides anything the
//! playbook or the service decides.

mod access;
mod alerts;
mod approvals;
mod auth;
mod charter;
mod dashboard;
mod form;
mod import;
mod me;
mod meetings;
mod people;
mod playbook;
mod playbook_admin;
mod requests;
mod reviews;
mod time;
mod tokens;
mod webhooks;

use axum::Router;
use axum::routing::{get, post};

use crate::WebState;

/// The web UI's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(auth::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/requests", get(requests::list))
        .route(
            "/requests/new",
            get(requests::new_page).post(requests::create),
        )
        .route("/requests/{id}", get(requests::show).post(requests::act))
        .route("/inbox", get(requests::inbox))
        .merge(leaders())
        .merge(admin())
        .merge(reps_pms_everyone())
}

/// The team leaders' pages: health, alerts, approvals, reviews.
fn leaders() -> Router<WebState> {
    Router::new()
        .route("/dashboard", get(dashboard::dashboard))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::show))
        .route("/approvals", get(approvals::list))
        .route(
            "/exceptions/{id}",
            get(approvals::exception).post(approvals::decide_exception),
        )
        .route(
            "/commitments/{id}",
            get(approvals::commitment).post(approvals::decide_commitment),
        )
        .route("/reviews", get(reviews::list).post(reviews::open))
        .route("/reviews/{id}", get(reviews::show).post(reviews::record))
}

/// Reps' and PMs' pages (access requests, contacts, time, their own
/// record) and everyone's (the charter, the rules).
fn reps_pms_everyone() -> Router<WebState> {
    Router::new()
        .route("/access", get(access::list))
        .route("/access/new", get(access::new_page).post(access::create))
        .route("/access/{id}", get(access::show).post(access::answer))
        .route("/me", get(me::page))
        .route("/meetings", get(meetings::list))
        .route(
            "/meetings/new",
            get(meetings::new_page).post(meetings::create),
        )
        .route("/meetings/{id}", get(meetings::show).post(meetings::add))
        .route("/time", get(time::page))
        .route("/charter", get(charter::show).post(charter::act))
        .route("/playbook", get(playbook::show))
}

/// The admins' pages: people and teams, playbook versions, imports, API
/// tokens, webhooks. Uploads may be larger than a form.
fn admin() -> Router<WebState> {
    use axum::extract::DefaultBodyLimit;
    Router::new()
        .route("/admin/people", get(people::list))
        .route(
            "/admin/people/new",
            get(people::new_page).post(people::create),
        )
        .route(
            "/admin/people/{id}",
            get(people::edit_page).post(people::update),
        )
        .route("/admin/people/{id}/sign-in", post(people::sign_in))
        .route(
            "/admin/teams/new",
            get(people::new_team_page).post(people::create_team),
        )
        .route(
            "/admin/teams/{id}",
            get(people::team).post(people::update_team),
        )
        .route(
            "/admin/playbook",
            get(playbook_admin::show)
                .post(playbook_admin::upload)
                .layer(DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route(
            "/admin/import",
            get(import::show)
                .post(import::upload)
                .layer(DefaultBodyLimit::max(256 * 1024 * 1024)),
        )
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}/test", post(webhooks::test))
        .route("/admin/webhooks/{id}/delete", post(webhooks::remove))
        .route(
            "/admin/webhooks/deliveries/{id}/redeliver",
            post(webhooks::redeliver),
        )
}
