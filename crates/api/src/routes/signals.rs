//! The report, signals, alerts and reviews.

use accord_domain::id::{AlertId, PersonId, ReviewId};
use accord_domain::signal::{Alert, Review, ReviewOutcome, SignalValue};
use accord_service::Caller;
use accord_service::signals::Report;
use accord_store::Page;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::{ApiState, At, Body, Params};

pub(crate) fn routes(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    r.routes(routes!(report))
        .routes(routes!(mine))
        .routes(routes!(history))
        .routes(routes!(alerts))
        .routes(routes!(alert))
        .routes(routes!(list_reviews, open_review))
        .routes(routes!(get_review))
        .routes(routes!(record_review))
}

/// The report's parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    /// The last day of the window (today when absent).
    as_of: Option<NaiveDate>,
    /// Override every signal's window.
    window_days: Option<u32>,
    /// Only what concerns this team (its people, itself, its pairs).
    team: Option<String>,
}

/// The report: every signal per subject with its status, open alerts,
/// violations and contacts in the window. The JSON form is a stable
/// contract (see the README).
#[utoipa::path(get, path = "/api/v1/report", tag = "signals", params(ReportQuery),
    responses((status = 200, body = Report), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn report(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<ReportQuery>,
) -> ApiResult<Json<Report>> {
    let as_of = q.as_of.unwrap_or_else(|| s.service.now().date_naive());
    let window = q.window_days.filter(|w| *w > 0).map(|w| w.min(3660));
    Ok(Json(
        s.service
            .report(
                &Caller::Person(auth.principal),
                as_of,
                window,
                q.team.as_deref(),
            )
            .await?,
    ))
}

/// A day.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AsOf {
    /// The day (today when absent).
    as_of: Option<NaiveDate>,
}

/// The signals about me (anyone: one's own record).
#[utoipa::path(get, path = "/api/v1/signals/mine", tag = "signals", params(AsOf),
    responses((status = 200, body = Vec<SignalValue>)))]
async fn mine(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<Vec<SignalValue>>> {
    let as_of = q.as_of.unwrap_or_else(|| s.service.now().date_naive());
    Ok(Json(s.service.my_signals(&auth.principal, as_of).await?))
}

/// One subject's history of one signal.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// The signal's id.
    signal: String,
    /// `person`, `team`, `pair`, `rule` or `organisation`.
    subject_kind: String,
    /// The subject.
    subject: String,
    /// From this day.
    from: NaiveDate,
    /// To this day.
    to: NaiveDate,
}

/// A signal's daily values for one subject (trend charts).
#[utoipa::path(get, path = "/api/v1/signals/history", tag = "signals", params(HistoryQuery),
    responses((status = 200, body = Vec<SignalValue>), (status = 403, body = Problem)))]
async fn history(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<HistoryQuery>,
) -> ApiResult<Json<Vec<SignalValue>>> {
    Ok(Json(
        s.service
            .signal_history(
                &auth.principal,
                &q.signal,
                &q.subject_kind,
                &q.subject,
                q.from,
                q.to,
            )
            .await?,
    ))
}

/// Which alerts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertQuery {
    /// Closed ones too.
    #[serde(default)]
    closed: bool,
    /// Only those addressed to me.
    #[serde(default)]
    mine: bool,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "signals", params(AlertQuery),
    responses((status = 200, body = Page<Alert>), (status = 403, body = Problem)))]
async fn alerts(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<AlertQuery>,
) -> ApiResult<Json<Page<Alert>>> {
    Ok(Json(
        s.service
            .alerts(&auth.principal, q.closed, q.mine, &page(&q.after, q.limit))
            .await?,
    ))
}

/// An alert with its evidence.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "signals", params(("id" = AlertId, Path)),
    responses((status = 200, body = Alert), (status = 404, body = Problem)))]
async fn alert(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<AlertId>,
) -> ApiResult<Json<Alert>> {
    Ok(Json(s.service.alert(&auth.principal, id).await?))
}

/// Reviews, newest first.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "signals", params(("after" = Option<String>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Page<Review>)))]
async fn list_reviews(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<PageOnly>,
) -> ApiResult<Json<Page<Review>>> {
    Ok(Json(
        s.service
            .reviews(&auth.principal, &page(&q.after, q.limit))
            .await?,
    ))
}

/// A page.
#[derive(Debug, Deserialize)]
pub(crate) struct PageOnly {
    after: Option<String>,
    limit: Option<u32>,
}

/// A review to open.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewReview {
    /// The alerts it is about.
    alerts: Vec<AlertId>,
    /// Who else takes part (the alerts' leaders always do).
    #[serde(default)]
    attendees: Vec<PersonId>,
}

/// Open a rules-of-engagement review from alerts; its agenda is prefilled
/// with their evidence.
#[utoipa::path(post, path = "/api/v1/reviews", tag = "signals", request_body = NewReview,
    responses((status = 201, body = Review), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn open_review(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewReview>,
) -> ApiResult<(StatusCode, Json<Review>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.service
                .open_review(&auth.principal, &b.alerts, &b.attendees)
                .await?,
        ),
    ))
}

/// A review.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "signals", params(("id" = ReviewId, Path)),
    responses((status = 200, body = Review), (status = 404, body = Problem)))]
async fn get_review(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<ReviewId>,
) -> ApiResult<Json<Review>> {
    Ok(Json(s.service.review(&auth.principal, id).await?))
}

/// What a review decided.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Outcome {
    /// What was said and decided.
    notes: String,
    /// `rules_kept`, `playbook_changed`, `exception_policy_changed`, `other`.
    outcome: ReviewOutcome,
    /// The playbook version it led to (required for `playbook_changed`).
    #[serde(default)]
    playbook_version: Option<i64>,
}

/// Record a review's outcome; its alerts close.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/outcome", tag = "signals", params(("id" = ReviewId, Path)), request_body = Outcome,
    responses((status = 200, body = Review), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_review(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<ReviewId>,
    Body(b): Body<Outcome>,
) -> ApiResult<Json<Review>> {
    Ok(Json(
        s.service
            .record_review(&auth.principal, id, &b.notes, b.outcome, b.playbook_version)
            .await?,
    ))
}
