//! The PM charter.

use accord_domain::charter::{Charter, CharterVersion};
use accord_domain::id::CharterVersionId;
use accord_service::Caller;
use accord_service::charter::CharterView;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::{ApiState, At, Body};

pub(crate) fn routes(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    r.routes(routes!(charter))
        .routes(routes!(versions, draft))
        .routes(routes!(version))
        .routes(routes!(comment))
        .routes(routes!(endorse))
        .routes(routes!(ratify))
        .routes(routes!(acknowledge))
}

/// The version in force, open drafts, and whether I acknowledged.
#[utoipa::path(get, path = "/api/v1/charter", tag = "charter", responses((status = 200, body = CharterView)))]
async fn charter(State(s): State<ApiState>, auth: Auth) -> ApiResult<Json<CharterView>> {
    Ok(Json(s.service.charter(&auth.principal).await?))
}

/// Every version, newest first.
#[utoipa::path(get, path = "/api/v1/charter/versions", operation_id = "charter_versions", tag = "charter", responses((status = 200, body = Vec<CharterVersion>)))]
async fn versions(State(s): State<ApiState>, auth: Auth) -> ApiResult<Json<Vec<CharterVersion>>> {
    Ok(Json(s.service.charter_versions(&auth.principal).await?))
}

/// A new draft.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Draft {
    /// Its content; the playbook's charter when absent.
    #[serde(default)]
    charter: Option<Charter>,
}

/// A PM lead opens a draft, from the given content or the playbook's charter.
#[utoipa::path(post, path = "/api/v1/charter/versions", tag = "charter", request_body = Draft,
    responses((status = 201, body = CharterVersion), (status = 403, body = Problem)))]
async fn draft(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<Draft>,
) -> ApiResult<(StatusCode, Json<CharterVersion>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.service
                .draft_charter(&Caller::Person(auth.principal), b.charter)
                .await?,
        ),
    ))
}

/// A version with its comments, endorsements and acknowledgments.
#[utoipa::path(get, path = "/api/v1/charter/versions/{id}", operation_id = "charter_version", tag = "charter", params(("id" = CharterVersionId, Path)),
    responses((status = 200, body = CharterVersion), (status = 404, body = Problem)))]
async fn version(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<CharterVersionId>,
) -> ApiResult<Json<CharterVersion>> {
    Ok(Json(s.service.charter_version(&auth.principal, id).await?))
}

/// A comment on a draft.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Comment {
    /// The accountability it is about, if any.
    #[serde(default)]
    clause: Option<String>,
    /// What you have to say.
    text: String,
}

/// Comment on a draft (constituents especially).
#[utoipa::path(post, path = "/api/v1/charter/versions/{id}/comments", tag = "charter", params(("id" = CharterVersionId, Path)), request_body = Comment,
    responses((status = 201, body = CharterVersion), (status = 409, body = Problem)))]
async fn comment(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<CharterVersionId>,
    Body(b): Body<Comment>,
) -> ApiResult<(StatusCode, Json<CharterVersion>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.service
                .comment_charter(&auth.principal, id, b.clause, &b.text)
                .await?,
        ),
    ))
}

/// A function lead endorses a draft for their function.
#[utoipa::path(post, path = "/api/v1/charter/versions/{id}/endorsements", tag = "charter", params(("id" = CharterVersionId, Path)),
    responses((status = 201, body = CharterVersion), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn endorse(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<CharterVersionId>,
) -> ApiResult<(StatusCode, Json<CharterVersion>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.endorse_charter(&auth.principal, id).await?),
    ))
}

/// Ratify a fully endorsed draft: it is in force.
#[utoipa::path(post, path = "/api/v1/charter/versions/{id}/ratification", tag = "charter", params(("id" = CharterVersionId, Path)),
    responses((status = 200, body = CharterVersion), (status = 409, body = Problem)))]
async fn ratify(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<CharterVersionId>,
) -> ApiResult<Json<CharterVersion>> {
    Ok(Json(s.service.ratify_charter(&auth.principal, id).await?))
}

/// A PM acknowledges the version in force.
#[utoipa::path(post, path = "/api/v1/charter/versions/{id}/acknowledgments", tag = "charter", params(("id" = CharterVersionId, Path)),
    responses((status = 201, body = CharterVersion), (status = 409, body = Problem)))]
async fn acknowledge(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<CharterVersionId>,
) -> ApiResult<(StatusCode, Json<CharterVersion>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.acknowledge_charter(&auth.principal, id).await?),
    ))
}
