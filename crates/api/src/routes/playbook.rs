//! The playbook and its versions; the audit and decision logs.

use accord_domain::id::{PersonId, RuleId};
use accord_domain::record::RecordKind;
use accord_domain::rules::Effect;
use accord_service::Caller;
use accord_service::playbooks::{PlaybookDiff, VersionInfo};
use accord_store::{
    AuditEntry, AuditFilter, DecisionFilter, DecisionRecord, Page, PlaybookVersion,
};
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
    r.routes(routes!(current))
        .routes(routes!(versions, upload))
        .routes(routes!(version))
        .routes(routes!(diff))
        .routes(routes!(audit))
        .routes(routes!(decisions))
}

/// The playbook version in force, with its TOML text.
#[utoipa::path(get, path = "/api/v1/playbook", tag = "playbook",
    responses((status = 200, body = PlaybookVersion)))]
async fn current(State(s): State<ApiState>, auth: Auth) -> ApiResult<Json<PlaybookVersion>> {
    Ok(Json(s.service.current_playbook(&auth.principal).await?))
}

/// Every version, newest first (without their text).
#[utoipa::path(get, path = "/api/v1/playbook/versions", operation_id = "playbook_versions", tag = "playbook",
    responses((status = 200, body = Vec<VersionInfo>)))]
async fn versions(State(s): State<ApiState>, auth: Auth) -> ApiResult<Json<Vec<VersionInfo>>> {
    Ok(Json(s.service.playbook_versions(&auth.principal).await?))
}

/// A new playbook version.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Upload {
    /// The full TOML text.
    toml: String,
    /// Why it changes.
    reason: String,
}

/// Upload a new version: it must check and pass its own `[[tests]]`, else
/// 422 with the located diagnostics and the failing tests. It takes effect
/// at once.
#[utoipa::path(post, path = "/api/v1/playbook/versions", tag = "playbook", request_body = Upload,
    responses((status = 201, body = PlaybookVersion), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn upload(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<Upload>,
) -> ApiResult<(StatusCode, Json<PlaybookVersion>)> {
    let v = s
        .service
        .upload_playbook(&Caller::Person(auth.principal), &b.toml, &b.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// One version, with its text.
#[utoipa::path(get, path = "/api/v1/playbook/versions/{version}", operation_id = "playbook_version", tag = "playbook", params(("version" = i64, Path)),
    responses((status = 200, body = PlaybookVersion), (status = 404, body = Problem)))]
async fn version(
    State(s): State<ApiState>,
    auth: Auth,
    At(v): At<i64>,
) -> ApiResult<Json<PlaybookVersion>> {
    Ok(Json(s.service.playbook_version(&auth.principal, v).await?))
}

/// Two versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffQuery {
    /// From this version.
    from: i64,
    /// To this one.
    to: i64,
}

/// A unified diff between two versions.
#[utoipa::path(get, path = "/api/v1/playbook/diff", tag = "playbook", params(DiffQuery),
    responses((status = 200, body = PlaybookDiff), (status = 404, body = Problem)))]
async fn diff(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<DiffQuery>,
) -> ApiResult<Json<PlaybookDiff>> {
    Ok(Json(
        s.service
            .diff_playbooks(&auth.principal, q.from, q.to)
            .await?,
    ))
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only this kind of record (`request`, `person`, ...).
    record_kind: Option<String>,
    /// Only this record.
    record_id: Option<String>,
    /// Only this person's actions.
    actor: Option<PersonId>,
    /// Only actions starting with this (`request.`, `login.failed`).
    action: Option<String>,
    /// At or after.
    from: Option<DateTime<Utc>>,
    /// Before.
    to: Option<DateTime<Utc>>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// The audit log, newest first (admins and team leaders).
#[utoipa::path(get, path = "/api/v1/audit", tag = "logs", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem)))]
async fn audit(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let f = AuditFilter {
        record_kind: q.record_kind,
        record_id: q.record_id,
        actor: q.actor,
        action_prefix: q.action,
        from: q.from,
        to: q.to,
    };
    Ok(Json(
        s.service
            .audit_log(&auth.principal, &f, &page(&q.after, q.limit))
            .await?,
    ))
}

/// Filters for the decision log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DecisionQuery {
    /// Only this record kind (`request`, `meeting`, `commitment`, `access`).
    kind: Option<String>,
    /// Only this record.
    record: Option<uuid::Uuid>,
    /// Only where this rule matched.
    rule: Option<String>,
    /// Only with this overall effect.
    effect: Option<String>,
    /// At or after.
    from: Option<DateTime<Utc>>,
    /// Before.
    to: Option<DateTime<Utc>>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// The decision log: what the playbook said about each record, newest first.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "logs", params(DecisionQuery),
    responses((status = 200, body = Page<DecisionRecord>), (status = 403, body = Problem)))]
async fn decisions(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<DecisionQuery>,
) -> ApiResult<Json<Page<DecisionRecord>>> {
    let bad = |e: accord_domain::id::InvalidValue| ApiError::Malformed(e.to_string());
    let f = DecisionFilter {
        kind: q
            .kind
            .as_deref()
            .map(str::parse::<RecordKind>)
            .transpose()
            .map_err(bad)?,
        record: q.record,
        rule: q
            .rule
            .as_deref()
            .map(RuleId::parse)
            .transpose()
            .map_err(bad)?,
        effect: q
            .effect
            .as_deref()
            .map(str::parse::<Effect>)
            .transpose()
            .map_err(bad)?,
        from: q.from,
        to: q.to,
    };
    Ok(Json(
        s.service
            .decision_log(&auth.principal, &f, &page(&q.after, q.limit))
            .await?,
    ))
}
