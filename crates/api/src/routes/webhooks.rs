//! Webhook subscriptions and their deliveries (admins).

use accord_service::Caller;
use accord_service::webhooks::{CreatedWebhook, DeliveryDetail, NewWebhook, PingAnswer};
use accord_store::{Delivery, DeliveryState, Page, Webhook};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::{ApiState, At, Body, Params};

pub(crate) fn routes(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    r.routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, delete_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(redeliver))
}

/// Subscriptions (secrets are never shown again after creation).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = Problem)))]
async fn list_webhooks(State(s): State<ApiState>, auth: Auth) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(
        s.service
            .list_webhooks(&Caller::Person(auth.principal))
            .await?,
    ))
}

/// Register a subscription: a URL, the event types (or `*`), a format
/// (`json` or `slack`) and a signing secret (generated when absent). The
/// secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn create_webhook(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let created = s
        .service
        .create_webhook(&Caller::Person(auth.principal), b)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Webhook), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_webhook(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<uuid::Uuid>,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(
        s.service
            .get_webhook(&Caller::Person(auth.principal), id)
            .await?,
    ))
}

/// Remove a subscription: its pending deliveries are dropped.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_webhook(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    s.service
        .delete_webhook(&Caller::Person(auth.principal), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a signed `ping` event now and return the receiver's answer
/// (nothing is stored).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PingAnswer), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn test_webhook(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<uuid::Uuid>,
) -> ApiResult<Json<PingAnswer>> {
    Ok(Json(
        s.service
            .test_webhook(&Caller::Person(auth.principal), id)
            .await?,
    ))
}

/// Filters for deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveriesQuery {
    /// Only deliveries in this state (`dead`: given up on, to redeliver).
    state: Option<DeliveryState>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "webhooks", params(DeliveriesQuery),
    responses((status = 200, body = Page<Delivery>), (status = 403, body = Problem)))]
async fn list_deliveries(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<DeliveriesQuery>,
) -> ApiResult<Json<Page<Delivery>>> {
    Ok(Json(
        s.service
            .list_deliveries(
                &Caller::Person(auth.principal),
                q.state,
                &page(&q.after, q.limit),
            )
            .await?,
    ))
}

/// A delivery and the event it carries.
#[utoipa::path(get, path = "/api/v1/deliveries/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_delivery(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<uuid::Uuid>,
) -> ApiResult<Json<DeliveryDetail>> {
    Ok(Json(
        s.service
            .get_delivery(&Caller::Person(auth.principal), id)
            .await?,
    ))
}

/// Put a delivery (a dead one, usually) back in the queue, due now.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/redeliver", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Delivery), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn redeliver(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<uuid::Uuid>,
) -> ApiResult<Json<Delivery>> {
    Ok(Json(
        s.service
            .redeliver(&Caller::Person(auth.principal), id)
            .await?,
    ))
}
