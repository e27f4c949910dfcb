//! An admin's webhooks: the subscriptions that receive accord's events
//! (signed; JSON or a chat line), registering one (its signing secret
//! shown once), testing and removing one, and the recent deliveries — a
//! dead one can be sent again.

use std::collections::HashMap;

use accord_service::webhooks::{EVENT_TYPES, NewWebhook};
use accord_service::{Action, Caller, ServiceError};
use accord_store::{DeliveryState, PageRequest};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::WebState;
use crate::error::WebError;
use crate::fmt;
use crate::layout::{Layout, done, render_status};
use crate::pages::alerts::parse_id;
use crate::pages::requests::{Choice, field_errors};
use crate::session::Viewer;

/// A subscription as a row.
struct HookRow {
    id: String,
    url: String,
    events: String,
    format: String,
    active: bool,
    created: String,
}

/// A delivery as a row.
struct DeliveryRow {
    id: String,
    url: String,
    state: &'static str,
    state_key: &'static str,
    attempts: i64,
    last: String,
    next: String,
    dead: bool,
}

/// An event type to tick.
struct EventPick {
    id: String,
    value: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    hooks: Vec<HookRow>,
    deliveries: Vec<DeliveryRow>,
    events: Vec<EventPick>,
    all_events: bool,
    formats: Vec<Choice>,
    url: String,
    /// A subscription just registered: its URL and secret, shown this once.
    created: Option<(String, String)>,
    errors: HashMap<String, String>,
}

impl WebhooksPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

/// The form as sent (event types are repeated checkboxes).
#[derive(Default)]
struct HookForm {
    url: String,
    events: Vec<String>,
    format: String,
    secret: String,
}

impl HookForm {
    fn read(body: &[u8]) -> HookForm {
        let mut f = HookForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            match k.as_ref() {
                "url" => f.url = v.trim().to_owned(),
                "event" => f.events.push(v.into_owned()),
                "format" => f.format = v.into_owned(),
                "secret" => f.secret = v.into_owned(),
                _ => {}
            }
        }
        f
    }
}

async fn page(
    state: &WebState,
    v: &Viewer,
    f: &HookForm,
    created: Option<(String, String)>,
    errors: HashMap<String, String>,
) -> Result<WebhooksPage, WebError> {
    v.principal.require(Action::ManageWebhooks)?;
    let caller = Caller::Person(v.principal.clone());
    let webhooks = state.service.list_webhooks(&caller).await?;
    let urls: HashMap<uuid::Uuid, String> =
        webhooks.iter().map(|w| (w.id, w.url.clone())).collect();
    let hooks = webhooks
        .iter()
        .map(|w| HookRow {
            id: w.id.to_string(),
            url: w.url.clone(),
            events: if w.events.iter().any(|e| e == "*") {
                "every event".to_owned()
            } else {
                w.events.join(", ")
            },
            format: if w.format == "slack" {
                "chat line (Slack format)".to_owned()
            } else {
                "JSON".to_owned()
            },
            active: w.active,
            created: fmt::when(w.created_at, v.tz),
        })
        .collect();
    let deliveries = state
        .service
        .list_deliveries(&caller, None, &PageRequest::first(50))
        .await?
        .items
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id.to_string(),
            url: urls
                .get(&d.webhook_id)
                .cloned()
                .unwrap_or_else(|| "a removed subscription".into()),
            state: d.state.as_str(),
            state_key: match d.state {
                DeliveryState::Delivered => "ok",
                DeliveryState::Pending => "watch",
                DeliveryState::Dead => "act",
            },
            attempts: d.attempts,
            last: match (d.last_attempt_at, d.last_status, &d.last_error) {
                (Some(t), Some(s), _) => format!("{}: HTTP {s}", fmt::when(t, v.tz)),
                (Some(t), None, Some(e)) => format!("{}: {e}", fmt::when(t, v.tz)),
                (Some(t), None, None) => fmt::when(t, v.tz),
                (None, _, _) => "not tried yet".to_owned(),
            },
            next: if d.state == DeliveryState::Pending {
                fmt::when(d.next_attempt_at, v.tz)
            } else {
                String::new()
            },
            dead: d.state == DeliveryState::Dead,
        })
        .collect();
    let all_events = f.events.iter().any(|e| e == "*");
    Ok(WebhooksPage {
        layout: Layout::new(v, "Webhooks", "/admin/webhooks"),
        hooks,
        deliveries,
        events: EVENT_TYPES
            .iter()
            .map(|e| EventPick {
                id: format!("event-{}", e.replace('.', "-")),
                value: e,
                checked: f.events.iter().any(|x| x == e),
            })
            .collect(),
        all_events,
        formats: [
            ("json", "JSON (the event envelope)"),
            ("slack", "A chat line (Slack's incoming-webhook format)"),
        ]
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: f.format == *value,
        })
        .collect(),
        url: f.url.clone(),
        created,
        errors,
    })
}

pub(crate) async fn list(State(state): State<WebState>, v: Viewer) -> Result<Response, WebError> {
    let p = page(&state, &v, &HookForm::default(), None, HashMap::new()).await?;
    render_status(&v, StatusCode::OK, &p)
}

/// Registers a subscription and shows its secret on the page that answers
/// the form, this once.
pub(crate) async fn create(
    State(state): State<WebState>,
    v: Viewer,
    body: Bytes,
) -> Result<Response, WebError> {
    v.principal.require(Action::ManageWebhooks)?;
    let f = HookForm::read(&body);
    let mut errors = HashMap::new();
    if f.events.is_empty() {
        errors.insert(
            "events".to_owned(),
            "Choose the events to send, or every event.".to_owned(),
        );
    }
    if errors.is_empty() {
        let new = NewWebhook {
            url: f.url.clone(),
            secret: Some(f.secret.trim().to_owned()).filter(|s| !s.is_empty()),
            events: if f.events.iter().any(|e| e == "*") {
                vec!["*".to_owned()]
            } else {
                f.events.clone()
            },
            format: Some(f.format.clone()).filter(|s| !s.is_empty()),
        };
        match state
            .service
            .create_webhook(&Caller::Person(v.principal.clone()), new)
            .await
        {
            Ok(c) => {
                let p = page(
                    &state,
                    &v,
                    &HookForm::default(),
                    Some((c.webhook.url, c.secret)),
                    HashMap::new(),
                )
                .await?;
                let mut r = render_status(&v, StatusCode::OK, &p)?;
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return Ok(r);
            }
            Err(ServiceError::Invalid(fe)) => errors = field_errors(&fe),
            Err(e) => return Err(e.into()),
        }
    }
    let p = page(&state, &v, &f, None, errors).await?;
    render_status(&v, StatusCode::UNPROCESSABLE_ENTITY, &p)
}

pub(crate) async fn remove(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id, "webhook")?;
    state
        .service
        .delete_webhook(&Caller::Person(v.principal.clone()), id)
        .await?;
    Ok(done(
        "/admin/webhooks",
        "Subscription removed: it receives nothing more.",
    ))
}

/// Sends a test event now and says what the receiver answered.
pub(crate) async fn test(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id, "webhook")?;
    let msg = match state
        .service
        .test_webhook(&Caller::Person(v.principal.clone()), id)
        .await
    {
        Ok(a) => match (a.status, a.error) {
            (Some(s), _) if (200..300).contains(&s) => {
                format!("Test sent: the receiver answered HTTP {s}. The subscription works.")
            }
            (Some(s), _) => format!(
                "Test sent, but the receiver answered HTTP {s}: check its URL and that it accepts accord's events."
            ),
            (None, Some(e)) => format!("Test not received: {e}."),
            (None, None) => "Test sent; no answer came back.".to_owned(),
        },
        Err(ServiceError::Internal(e)) => {
            tracing::warn!(error = %e, "cannot send a webhook test");
            "This server cannot send webhooks just now (see its log).".to_owned()
        }
        Err(e) => return Err(e.into()),
    };
    Ok(done("/admin/webhooks", &msg))
}

pub(crate) async fn redeliver(
    State(state): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id, "delivery")?;
    state
        .service
        .redeliver(&Caller::Person(v.principal.clone()), id)
        .await?;
    Ok(done(
        "/admin/webhooks#deliveries",
        "Delivery queued again: it is sent within seconds.",
    ))
}
