//! The handlers, one module per area.

mod access;
mod charter;
mod org;
mod playbook;
mod requests;
mod session;
mod signals;
mod webhooks;

use accord_store::PageRequest;
use utoipa_axum::router::OpenApiRouter;

use crate::ApiState;

/// Every handler, with its OpenAPI path.
pub(crate) fn all(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    let r = session::routes(r);
    let r = requests::routes(r);
    let r = access::routes(r);
    let r = playbook::routes(r);
    let r = charter::routes(r);
    let r = signals::routes(r);
    let r = webhooks::routes(r);
    org::routes(r)
}

/// The page a list asks for.
pub(crate) fn page(after: &Option<String>, limit: Option<u32>) -> PageRequest {
    PageRequest {
        after: after.clone().filter(|s| !s.is_empty()),
        limit: limit.unwrap_or(50),
    }
}
