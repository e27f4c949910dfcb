//! Customer contacts, access requests, commitments and insights.

use accord_domain::access::AccessRequest;
use accord_domain::commitment::Commitment;
use accord_domain::id::{AccessRequestId, AccountId, CommitmentId, MeetingId, PersonId};
use accord_domain::insight::Insight;
use accord_service::contacts::{
    AccessAnswer, Decided, NewAccess, NewCommitment, NewInsight, NewMeeting,
};
use accord_store::{MeetingFilter, Page, StoredMeeting};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page;
use super::requests::Verdict;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::{ApiState, At, Body, Params};

pub(crate) fn routes(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    r.routes(routes!(list_meetings, log_meeting))
        .routes(routes!(get_meeting))
        .routes(routes!(list_access, create_access))
        .routes(routes!(get_access))
        .routes(routes!(answer_access))
        .routes(routes!(list_commitments, log_commitment))
        .routes(routes!(get_commitment))
        .routes(routes!(decide_commitment))
        .routes(routes!(list_insights, create_insight))
}

/// Filters for meetings.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MeetingQuery {
    /// With this account.
    account: Option<AccountId>,
    /// With this person invited.
    person: Option<PersonId>,
    /// Starting at or after.
    from: Option<DateTime<Utc>>,
    /// Starting before.
    to: Option<DateTime<Utc>>,
    /// Only customer contacts with a PM present.
    #[serde(default)]
    pm_contacts: bool,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Customer contacts, latest first.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings", params(MeetingQuery),
    responses((status = 200, body = Page<StoredMeeting>)))]
async fn list_meetings(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<MeetingQuery>,
) -> ApiResult<Json<Page<StoredMeeting>>> {
    let f = MeetingFilter {
        account: q.account,
        person: q.person,
        from: q.from,
        to: q.to,
        pm_contacts_only: q.pm_contacts,
    };
    Ok(Json(
        s.service
            .list_meetings(&auth.principal, &f, &page(&q.after, q.limit))
            .await?,
    ))
}

/// Log a customer contact after it happened (`planned: false`: a `deny` is
/// stored as a violation), or plan one (`planned: true`: a `deny` refuses it
/// with 422).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", request_body = NewMeeting,
    responses((status = 201, body = Decided<StoredMeeting>), (status = 422, body = Problem)))]
async fn log_meeting(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewMeeting>,
) -> ApiResult<(StatusCode, Json<Decided<StoredMeeting>>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.log_meeting(&auth.principal, b).await?),
    ))
}

/// A customer contact.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings", params(("id" = MeetingId, Path)),
    responses((status = 200, body = StoredMeeting), (status = 404, body = Problem)))]
async fn get_meeting(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<MeetingId>,
) -> ApiResult<Json<StoredMeeting>> {
    Ok(Json(s.service.get_meeting(&auth.principal, id).await?))
}

/// Filters for access requests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AccessQuery {
    /// Asked by this PM.
    pm: Option<PersonId>,
    /// Waiting for this owner.
    owner: Option<PersonId>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Access requests, newest first.
#[utoipa::path(get, path = "/api/v1/access", tag = "access", params(AccessQuery),
    responses((status = 200, body = Page<AccessRequest>)))]
async fn list_access(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<AccessQuery>,
) -> ApiResult<Json<Page<AccessRequest>>> {
    Ok(Json(
        s.service
            .list_access(&auth.principal, q.pm, q.owner, &page(&q.after, q.limit))
            .await?,
    ))
}

/// A PM asks the account's relationship owner for customer time.
#[utoipa::path(post, path = "/api/v1/access", tag = "access", request_body = NewAccess,
    responses((status = 201, body = Decided<AccessRequest>), (status = 422, body = Problem)))]
async fn create_access(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewAccess>,
) -> ApiResult<(StatusCode, Json<Decided<AccessRequest>>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_access(&auth.principal, b).await?),
    ))
}

/// An access request.
#[utoipa::path(get, path = "/api/v1/access/{id}", tag = "access", params(("id" = AccessRequestId, Path)),
    responses((status = 200, body = AccessRequest), (status = 404, body = Problem)))]
async fn get_access(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<AccessRequestId>,
) -> ApiResult<Json<AccessRequest>> {
    Ok(Json(s.service.get_access(&auth.principal, id).await?))
}

/// The owner (or their manager) grants, grants with conditions, or denies
/// with a reason.
#[utoipa::path(post, path = "/api/v1/access/{id}/answer", tag = "access", params(("id" = AccessRequestId, Path)), request_body = AccessAnswer,
    responses((status = 200, body = AccessRequest), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn answer_access(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<AccessRequestId>,
    Body(b): Body<AccessAnswer>,
) -> ApiResult<Json<AccessRequest>> {
    Ok(Json(s.service.answer_access(&auth.principal, id, b).await?))
}

/// Filters for commitments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CommitmentQuery {
    /// Made to this account.
    account: Option<AccountId>,
    /// Only those waiting for a PM lead.
    #[serde(default)]
    pending: bool,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Commitments, newest first.
#[utoipa::path(get, path = "/api/v1/commitments", tag = "commitments", params(CommitmentQuery),
    responses((status = 200, body = Page<Commitment>)))]
async fn list_commitments(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<CommitmentQuery>,
) -> ApiResult<Json<Page<Commitment>>> {
    Ok(Json(
        s.service
            .list_commitments(
                &auth.principal,
                q.account,
                q.pending,
                &page(&q.after, q.limit),
            )
            .await?,
    ))
}

/// Log something promised to a customer (stored whatever the rules say; a
/// `deny` is recorded as a violation).
#[utoipa::path(post, path = "/api/v1/commitments", tag = "commitments", request_body = NewCommitment,
    responses((status = 201, body = Decided<Commitment>), (status = 422, body = Problem)))]
async fn log_commitment(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewCommitment>,
) -> ApiResult<(StatusCode, Json<Decided<Commitment>>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.log_commitment(&auth.principal, b).await?),
    ))
}

/// A commitment.
#[utoipa::path(get, path = "/api/v1/commitments/{id}", tag = "commitments", params(("id" = CommitmentId, Path)),
    responses((status = 200, body = Commitment), (status = 404, body = Problem)))]
async fn get_commitment(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<CommitmentId>,
) -> ApiResult<Json<Commitment>> {
    Ok(Json(s.service.get_commitment(&auth.principal, id).await?))
}

/// A PM lead approves or rejects a commitment.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/decision", tag = "commitments", params(("id" = CommitmentId, Path)), request_body = Verdict,
    responses((status = 200, body = Commitment), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn decide_commitment(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<CommitmentId>,
    Body(b): Body<Verdict>,
) -> ApiResult<Json<Commitment>> {
    Ok(Json(
        s.service
            .decide_commitment(&auth.principal, id, b.approve, b.note)
            .await?,
    ))
}

/// Filters for insights.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InsightQuery {
    /// From this account.
    account: Option<AccountId>,
    /// Captured by this PM.
    pm: Option<PersonId>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Insights, newest first.
#[utoipa::path(get, path = "/api/v1/insights", tag = "insights", params(InsightQuery),
    responses((status = 200, body = Page<Insight>)))]
async fn list_insights(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<InsightQuery>,
) -> ApiResult<Json<Page<Insight>>> {
    Ok(Json(
        s.service
            .list_insights(&auth.principal, q.account, q.pm, &page(&q.after, q.limit))
            .await?,
    ))
}

/// Capture what was learned: context of use, futures or performance.
#[utoipa::path(post, path = "/api/v1/insights", tag = "insights", request_body = NewInsight,
    responses((status = 201, body = Insight), (status = 422, body = Problem)))]
async fn create_insight(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewInsight>,
) -> ApiResult<(StatusCode, Json<Insight>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_insight(&auth.principal, b).await?),
    ))
}
