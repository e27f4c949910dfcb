//! Engagement requests, dry runs and exceptions.

use accord_domain::exception::Exception;
use accord_domain::id::{AccountId, ExceptionId, PersonId, RequestId};
use accord_domain::request::{EngagementRequest, RequestState};
use accord_domain::rules::Decision;
use accord_service::evaluate::Draft;
use accord_service::exceptions::NewException;
use accord_service::requests::{NewRequest, RequestCommand, RequestOutcome, RequestView};
use accord_store::{Page, RequestFilter};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{ApiState, At, Body, Params};

pub(crate) fn routes(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    r.routes(routes!(list_requests, create_request))
        .routes(routes!(get_request))
        .routes(routes!(act_on_request))
        .routes(routes!(evaluate))
        .routes(routes!(list_exceptions, request_exception))
        .routes(routes!(get_exception))
        .routes(routes!(decide_exception))
}

/// Filters for requests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RequestQuery {
    /// Asked of this PM.
    pm: Option<PersonId>,
    /// Asked by this person.
    requester: Option<PersonId>,
    /// On this account.
    account: Option<AccountId>,
    /// In this state (comma-separated for several).
    state: Option<String>,
    /// Created at or after.
    from: Option<DateTime<Utc>>,
    /// Created before.
    to: Option<DateTime<Utc>>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Engagement requests, newest first.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(RequestQuery),
    responses((status = 200, body = Page<EngagementRequest>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_requests(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<RequestQuery>,
) -> ApiResult<Json<Page<EngagementRequest>>> {
    let mut states = Vec::new();
    for part in q
        .state
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        states.push(
            part.parse::<RequestState>()
                .map_err(|e| ApiError::Malformed(e.to_string()))?,
        );
    }
    let filter = RequestFilter {
        pm: q.pm,
        requester: q.requester,
        account: q.account,
        states,
        from: q.from,
        to: q.to,
    };
    Ok(Json(
        s.service
            .list_requests(&auth.principal, &filter, &page(&q.after, q.limit))
            .await?,
    ))
}

/// Ask for a PM. The playbook decides: `deny` → 422 with the rules (unless
/// an approved exception for the request's `id` is in force); `exception` →
/// stored as `needs_exception`, the approver is notified; `warn` → stored,
/// the warnings in `decision`.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = NewRequest,
    responses((status = 201, body = RequestOutcome), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_request(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewRequest>,
) -> ApiResult<(StatusCode, Json<RequestOutcome>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_request(&auth.principal, b).await?),
    ))
}

/// A request with its history, decisions and exceptions.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests", params(("id" = RequestId, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = Problem)))]
async fn get_request(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<RequestId>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(s.service.get_request(&auth.principal, id).await?))
}

/// Accept, decline (reason), redirect (to another type, person, team or
/// sales engineering), schedule, complete (outcome, hours) or cancel. An
/// illegal transition is a 409.
#[utoipa::path(post, path = "/api/v1/requests/{id}/actions", tag = "requests", params(("id" = RequestId, Path)), request_body = RequestCommand,
    responses((status = 200, body = RequestOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act_on_request(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<RequestId>,
    Body(b): Body<RequestCommand>,
) -> ApiResult<Json<RequestOutcome>> {
    Ok(Json(
        s.service.act_on_request(&auth.principal, id, b).await?,
    ))
}

/// What the playbook would say about a draft record, without storing it.
#[utoipa::path(post, path = "/api/v1/evaluate", tag = "evaluate", request_body = Draft,
    responses((status = 200, body = Decision), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn evaluate(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<Draft>,
) -> ApiResult<Json<Decision>> {
    Ok(Json(s.service.evaluate_draft(&auth.principal, b).await?))
}

/// Filters for exceptions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExceptionQuery {
    /// Only those waiting for a decision.
    #[serde(default)]
    pending: bool,
    /// Only for this rule.
    rule: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Exceptions, newest first.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", params(ExceptionQuery),
    responses((status = 200, body = Page<Exception>)))]
async fn list_exceptions(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<ExceptionQuery>,
) -> ApiResult<Json<Page<Exception>>> {
    Ok(Json(
        s.service
            .list_exceptions(
                &auth.principal,
                q.pending,
                q.rule.as_deref(),
                &page(&q.after, q.limit),
            )
            .await?,
    ))
}

/// Ask for a rule to be set aside for one record, with a reason.
#[utoipa::path(post, path = "/api/v1/exceptions", tag = "exceptions", request_body = NewException,
    responses((status = 201, body = Exception), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn request_exception(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewException>,
) -> ApiResult<(StatusCode, Json<Exception>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.request_exception(&auth.principal, b).await?),
    ))
}

/// An exception.
#[utoipa::path(get, path = "/api/v1/exceptions/{id}", tag = "exceptions", params(("id" = ExceptionId, Path)),
    responses((status = 200, body = Exception), (status = 404, body = Problem)))]
async fn get_exception(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<ExceptionId>,
) -> ApiResult<Json<Exception>> {
    Ok(Json(s.service.get_exception(&auth.principal, id).await?))
}

/// A decision: approve or not, with a note.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Verdict {
    /// Approve (true) or refuse (false).
    pub approve: bool,
    /// A note for the record.
    #[serde(default)]
    pub note: Option<String>,
}

/// Grant or refuse an exception (the approver the playbook names for the
/// rule).
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/decision", tag = "exceptions", params(("id" = ExceptionId, Path)), request_body = Verdict,
    responses((status = 200, body = Exception), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn decide_exception(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<ExceptionId>,
    Body(b): Body<Verdict>,
) -> ApiResult<Json<Exception>> {
    Ok(Json(
        s.service
            .decide_exception(&auth.principal, id, b.approve, b.note)
            .await?,
    ))
}
