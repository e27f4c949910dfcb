//! Webhooks: the subscriptions admins register, and the delivery of outbox
//! events to them.
//!
//! Every event is written to the outbox in the transaction of the change
//! that caused it, with a pending delivery per subscription that wants it
//! (`accord_store::OutboxOps::insert_event`). A delivery worker in each
//! server calls [`Service::deliver_due`] in a loop: it claims a batch under a
//! lease, POSTs each event, and records each answer — delivered, retried
//! later with exponential backoff and jitter, or dead. A server killed
//! mid-delivery leaves its claims to run out; another server (or the same
//! one, restarted) takes them again: delivery is at least once, and
//! receivers dedupe on the event id.
//!
//! What a delivery *is* — the envelope, the signature, the Slack text, which
//! answers are retried and when — is plain functions here, tested without
//! HTTP. Sending is behind [`Transport`], which the server implements with
//! an HTTP client.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use accord_domain::id::{AccountId, PersonId};
use accord_store::{Attempt, Delivery, DeliveryState, OutboxEvent, Page, PageRequest, Tx, Webhook};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::authz::{Action, Caller};
use crate::error::{FieldError, Result, ServiceError};
use crate::{Service, record};

/// The event types a subscription may ask for (or `*` for all).
pub const EVENT_TYPES: &[&str] = &[
    "request.created",
    "request.decided",
    "request.updated",
    "access.requested",
    "access.decided",
    "commitment.logged",
    "commitment.decided",
    "exception.requested",
    "exception.decided",
    "alert.opened",
    "alert.closed",
    "playbook.changed",
    "meeting.logged",
    "insight.created",
    "review.opened",
    "charter.ratified",
];

/// The header carrying the event id (receivers dedupe on it).
pub const HEADER_EVENT_ID: &str = "Accord-Event-Id";
/// The header carrying the event type.
pub const HEADER_EVENT_TYPE: &str = "Accord-Event-Type";
/// The header carrying the delivery id.
pub const HEADER_DELIVERY_ID: &str = "Accord-Delivery-Id";
/// The header carrying the attempt number (1 for the first).
pub const HEADER_ATTEMPT: &str = "Accord-Delivery-Attempt";
/// The header carrying the signing time, in Unix seconds.
pub const HEADER_TIMESTAMP: &str = "Accord-Timestamp";
/// The header carrying `v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub const HEADER_SIGNATURE: &str = "Accord-Signature";

/// What a subscription receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The envelope: `{"id", "type", "occurred_at", "data"}`.
    Json,
    /// `{"text": "..."}`: one line for a chat channel (Slack's incoming
    /// webhooks, and the chat tools that accept their format).
    Slack,
}

impl Format {
    /// `json` or `slack`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "slack" => Some(Format::Slack),
            _ => None,
        }
    }
}

/// A subscription to register.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewWebhook {
    /// Where to POST events: an `http` or `https` URL.
    #[serde(default)]
    pub url: String,
    /// The signing secret (at least 16 characters); generated when absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// The event types wanted (`request.created`, ...), or `["*"]` for all.
    #[serde(default)]
    pub events: Vec<String>,
    /// `json` (the default) or `slack`.
    #[serde(default)]
    pub format: Option<String>,
}

/// A registered subscription, with its secret: shown this once.
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    /// The subscription.
    pub webhook: Webhook,
    /// The signing secret. Not shown again.
    pub secret: String,
}

impl fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("webhook", &self.webhook)
            .field("secret", &"***")
            .finish()
    }
}

/// A delivery with the event it carries.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryDetail {
    /// The delivery.
    pub delivery: Delivery,
    /// The event.
    pub event: OutboxEvent,
}

/// What a receiver answered to a ping.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PingAnswer {
    /// The ping's event id.
    pub event_id: Uuid,
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// The start of the body it answered with.
    pub body: String,
    /// Why there was no answer (connection refused, time-out), if so.
    pub error: Option<String>,
}

/// An HTTP POST to make.
#[derive(Clone)]
pub struct Outgoing {
    /// Where.
    pub url: String,
    /// The headers, signature included.
    pub headers: Vec<(String, String)>,
    /// The exact bytes that were signed.
    pub body: Vec<u8>,
    /// How long to wait for the answer, connecting included.
    pub timeout: StdDuration,
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("url", &self.url)
            .field("bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// A receiver's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// A `Retry-After` given in seconds, if any.
    pub retry_after: Option<StdDuration>,
    /// The start of the body (a few KiB at most).
    pub body: String,
}

/// Sends webhook requests. The server implements it with an HTTP client;
/// tests with a script.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// POSTs `req`. `Err` is a failure with no HTTP answer (refused,
    /// unreachable, timed out, cut off), in words for the admin.
    async fn post(&self, req: Outgoing) -> std::result::Result<Answer, String>;
}

/// How deliveries are made and retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// How long one attempt may take.
    pub timeout: StdDuration,
    /// How long a claim holds a delivery: longer than an attempt, so that
    /// only a server that died (or stalled) loses its claims.
    pub lease: Duration,
    /// The wait before the first retry; it doubles with each attempt...
    pub backoff_base: Duration,
    /// ...up to this.
    pub backoff_cap: Duration,
    /// After this long failing (from the first attempt, or a redelivery),
    /// a delivery is dead.
    pub dead_after: Duration,
    /// Deliveries claimed at a time: no more than go out at once, so that
    /// none waits its turn while its lease runs.
    pub batch: i64,
    /// Requests in flight at once, per server.
    pub concurrency: usize,
    /// How often an idle worker looks for due deliveries.
    pub poll: StdDuration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            timeout: StdDuration::from_secs(10),
            lease: Duration::seconds(60),
            backoff_base: Duration::seconds(5),
            backoff_cap: Duration::hours(1),
            dead_after: Duration::hours(24),
            batch: 8,
            concurrency: 8,
            poll: StdDuration::from_secs(1),
        }
    }
}

impl DeliveryPolicy {
    /// The wait before attempt `attempt + 1`, after `attempt` failed
    /// attempts (1, 2, ...): `base × 2^(attempt-1)`, capped, of which a
    /// random half (`jitter` in `[0, 1)`) is taken off, so that the
    /// retries of many deliveries that failed together spread out.
    pub fn backoff(&self, attempt: i64, jitter: f64) -> Duration {
        let base = self.backoff_base.num_milliseconds().max(1);
        let cap = self.backoff_cap.num_milliseconds().max(base);
        let exp = u32::try_from((attempt - 1).clamp(0, 40)).unwrap_or(40);
        let full = base.saturating_mul(2i64.saturating_pow(exp)).min(cap);
        let jitter = jitter.clamp(0.0, 1.0);
        // Equal jitter: never less than half the full wait.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let off = ((full / 2) as f64 * jitter) as i64;
        Duration::milliseconds(full - off)
    }
}

/// Whether an HTTP status is worth another attempt: time-outs (408), rate
/// limits (429) and server errors (5xx). Other 4xx mean the request itself
/// is refused and would be refused again; 3xx are not followed.
pub fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// What an attempt's outcome means for its delivery: the record to write.
/// `attempt` counts this attempt (1 for the first); `retry_from` is when the
/// current run of attempts began.
pub fn judge(
    policy: &DeliveryPolicy,
    outcome: &std::result::Result<Answer, String>,
    attempt: i64,
    retry_from: DateTime<Utc>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Attempt {
    let (status, why, retry_after) = match outcome {
        Ok(a) if (200..300).contains(&a.status) => {
            return Attempt {
                state: DeliveryState::Delivered,
                status: Some(i64::from(a.status)),
                error: None,
                next_attempt_at: now,
                at: now,
            };
        }
        Ok(a) if !retryable(a.status) => {
            return Attempt {
                state: DeliveryState::Dead,
                status: Some(i64::from(a.status)),
                error: Some(format!(
                    "HTTP {}, not retried{}",
                    a.status,
                    snippet(&a.body)
                )),
                next_attempt_at: now,
                at: now,
            };
        }
        Ok(a) => (
            Some(i64::from(a.status)),
            format!("HTTP {}{}", a.status, snippet(&a.body)),
            a.retry_after,
        ),
        Err(e) => (None, e.clone(), None),
    };
    let deadline = retry_from + policy.dead_after;
    if now >= deadline {
        return Attempt {
            state: DeliveryState::Dead,
            status,
            error: Some(format!(
                "{why}; gave up after {attempt} attempt(s) over {}",
                human(policy.dead_after)
            )),
            next_attempt_at: now,
            at: now,
        };
    }
    let mut wait = policy.backoff(attempt, jitter);
    if let Some(asked) = retry_after.and_then(|d| Duration::from_std(d).ok()) {
        // The receiver's own wait, within the cap.
        wait = wait.max(asked.min(policy.backoff_cap));
    }
    // The last attempt falls on the bound itself.
    let next = (now + wait).min(deadline);
    Attempt {
        state: DeliveryState::Pending,
        status,
        error: Some(why),
        next_attempt_at: next,
        at: now,
    }
}

/// ": <start of body>" for an error message, or nothing.
fn snippet(body: &str) -> String {
    let b: String = body.trim().chars().take(200).collect();
    if b.is_empty() {
        String::new()
    } else {
        format!(": {b}")
    }
}

fn human(d: Duration) -> String {
    let s = d.num_seconds();
    if s >= 3600 && s % 3600 == 0 {
        format!("{} h", s / 3600)
    } else if s >= 60 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// The JSON envelope of an event: `{"id", "type", "occurred_at", "data"}`.
/// Fields are only ever added to it, never renamed or removed.
#[derive(Debug, Serialize)]
struct Envelope<'a> {
    id: Uuid,
    #[serde(rename = "type")]
    event_type: &'a str,
    occurred_at: DateTime<Utc>,
    data: &'a serde_json::Value,
}

/// The envelope's bytes, as sent and signed.
pub fn envelope(e: &OutboxEvent) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        id: e.id,
        event_type: &e.event_type,
        occurred_at: e.occurred_at,
        data: &e.payload,
    })
    .unwrap_or_default()
}

/// `v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex(&mac.finalize().into_bytes()))
}

/// Checks a delivery as a receiver would: the signature header holds a
/// `v1=` signature of `"{timestamp}.{body}"` with the secret (compared in
/// constant time), and the timestamp is within `tolerance` of `now` (an
/// old, replayed request is refused).
pub fn verify(
    secret: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> bool {
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    if (now.timestamp() - ts).abs() > tolerance.num_seconds() {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    // Several signatures may be sent while a secret is rotated.
    signature_header
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("v1="))
        .filter_map(unhex)
        .any(|sig| mac.clone().verify_slice(&sig).is_ok())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// The signed request for one event to one subscription.
#[allow(clippy::too_many_arguments)]
pub fn request_for(
    w: &Webhook,
    e: &OutboxEvent,
    delivery: Uuid,
    attempt: i64,
    now: DateTime<Utc>,
    names: &Names,
    base_url: &str,
    timeout: StdDuration,
) -> Outgoing {
    let body = match Format::parse(&w.format) {
        Some(Format::Slack) => serde_json::to_vec(&serde_json::json!({
            "text": slack_text(e, names, base_url)
        }))
        .unwrap_or_default(),
        _ => envelope(e),
    };
    let ts = now.timestamp();
    let headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        (
            "User-Agent".to_owned(),
            concat!("accord-webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
        (HEADER_EVENT_ID.to_owned(), e.id.to_string()),
        (HEADER_EVENT_TYPE.to_owned(), e.event_type.clone()),
        (HEADER_DELIVERY_ID.to_owned(), delivery.to_string()),
        (HEADER_ATTEMPT.to_owned(), attempt.to_string()),
        (HEADER_TIMESTAMP.to_owned(), ts.to_string()),
        (HEADER_SIGNATURE.to_owned(), signature(&w.secret, ts, &body)),
    ];
    Outgoing {
        url: w.url.clone(),
        headers,
        body,
        timeout,
    }
}

/// Human names for the ids and codes an event's data carries: people and
/// accounts by id, engagement types by id (`type:demo`).
#[derive(Clone, Debug, Default)]
pub struct Names(pub HashMap<String, String>);

impl Names {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The name of the person or account whose id is at `v`, else
    /// `fallback`.
    fn of(&self, v: &serde_json::Value, fallback: &str) -> String {
        v.as_str()
            .and_then(|id| self.get(id))
            .map(str::to_owned)
            .or_else(|| v.as_str().filter(|s| s.contains('@')).map(str::to_owned))
            .unwrap_or_else(|| fallback.to_owned())
    }
}

/// Keys of event data that hold a person's or an account's id.
const NAMED_KEYS: &[&str] = &[
    "requester",
    "pm",
    "account",
    "owner",
    "answered_by",
    "said_by",
    "decided_by",
    "requested_by",
];

/// The person and account ids an event's data mentions.
fn mentioned_ids(v: &serde_json::Value, out: &mut BTreeSet<Uuid>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if NAMED_KEYS.contains(&k.as_str())
                    && let Some(id) = v.as_str().and_then(|s| Uuid::parse_str(s).ok())
                {
                    out.insert(id);
                }
                mentioned_ids(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| mentioned_ids(i, out)),
        _ => {}
    }
}

/// Slack's escaping for message text: `&`, `<` and `>`.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn text_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("")
}

fn short(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>().trim_end())
    }
}

/// The one-line message of the Slack format: who did what, for which
/// account, and the link to the record in the web UI.
pub fn slack_text(e: &OutboxEvent, names: &Names, base_url: &str) -> String {
    let d = &e.payload;
    let base = base_url.trim_end_matches('/');
    let n = |v: &serde_json::Value, fallback: &str| esc(&names.of(v, fallback));
    let kind_name = |v: &serde_json::Value| {
        let id = v.as_str().unwrap_or("");
        esc(names.get(&format!("type:{id}")).unwrap_or(id))
    };
    let (line, link) = match e.event_type.as_str() {
        "request.created" => {
            let r = &d["request"];
            let state = match text_of(r, "state") {
                "needs_exception" => " — it waits for an exception",
                _ => "",
            };
            (
                format!(
                    "{} asked {} for a {} with {}, needed {}{state}",
                    n(&r["requester"], "a rep"),
                    n(&r["pm"], "a PM"),
                    kind_name(&r["engagement_type"]),
                    n(&r["account"], "an account"),
                    text_of(r, "needed_at").get(..10).unwrap_or("soon"),
                ),
                format!("{base}/requests/{}", text_of(r, "id")),
            )
        }
        "request.decided" | "request.updated" => {
            let r = &d["request"];
            let done = match text_of(d, "action") {
                "accept" => "accepted",
                "decline" => "declined",
                "redirect" => "redirected",
                "schedule" => "scheduled",
                "complete" => "completed",
                "cancel" => "cancelled",
                "exception_approved" => "cleared (exception granted)",
                "exception_denied" => "refused (exception denied)",
                other => other,
            };
            let by = d
                .get("by")
                .map(|b| format!(" by {}", n(b, "someone")))
                .unwrap_or_default();
            (
                format!(
                    "{}'s request for a {} with {} was {done}{by}",
                    n(&r["requester"], "A rep"),
                    kind_name(&r["engagement_type"]),
                    n(&r["account"], "an account"),
                ),
                format!("{base}/requests/{}", text_of(r, "id")),
            )
        }
        "access.requested" => {
            let a = &d["access"];
            (
                format!(
                    "{} asked {} for time with {} ({}): {}",
                    n(&a["pm"], "A PM"),
                    n(&a["owner"], "the account's owner"),
                    d.get("account")
                        .and_then(|x| x.as_str())
                        .map(esc)
                        .unwrap_or_else(|| n(&a["account"], "an account")),
                    text_of(a, "purpose").replace('_', " "),
                    esc(&short(text_of(a, "agenda"), 80)),
                ),
                format!("{base}/access/{}", text_of(a, "id")),
            )
        }
        "access.decided" => {
            let a = &d["access"];
            let done = match text_of(a, "state") {
                "granted" => "granted",
                "granted_with_conditions" => "granted with conditions",
                "denied" => "denied",
                "withdrawn" => "withdrawn",
                other => other,
            };
            (
                format!(
                    "{} {done} {}'s request for time with {}",
                    n(&d["by"], "The owner"),
                    n(&a["pm"], "a PM"),
                    n(&a["account"], "an account"),
                ),
                format!("{base}/access/{}", text_of(a, "id")),
            )
        }
        "commitment.logged" => {
            let c = &d["commitment"];
            (
                format!(
                    "{} made a {} commitment to {}: “{}”",
                    n(&c["said_by"], "Someone"),
                    text_of(c, "kind"),
                    d.get("account")
                        .and_then(|x| x.as_str())
                        .map(esc)
                        .unwrap_or_else(|| n(&c["account"], "an account")),
                    esc(&short(text_of(c, "text"), 80)),
                ),
                format!("{base}/commitments/{}", text_of(c, "id")),
            )
        }
        "commitment.decided" => {
            let c = &d["commitment"];
            let done = if d["approved"].as_bool() == Some(true) {
                "approved"
            } else {
                "rejected"
            };
            (
                format!(
                    "{} {done} {}'s {} commitment to {}",
                    n(&d["by"], "A PM lead"),
                    n(&c["said_by"], "someone"),
                    text_of(c, "kind"),
                    n(&c["account"], "an account"),
                ),
                format!("{base}/commitments/{}", text_of(c, "id")),
            )
        }
        "exception.requested" => {
            let x = &d["exception"];
            let approver = text_of(d, "approver").replace('_', " ");
            (
                format!(
                    "{} asked for an exception to rule {}{}: {}",
                    n(&x["requested_by"], "Someone"),
                    esc(text_of(x, "rule")),
                    if approver.is_empty() {
                        String::new()
                    } else {
                        format!(" (a {approver} decides)")
                    },
                    esc(&short(text_of(x, "reason"), 80)),
                ),
                format!("{base}/exceptions/{}", text_of(x, "id")),
            )
        }
        "exception.decided" => {
            let x = &d["exception"];
            let done = if d["approved"].as_bool() == Some(true) {
                "granted"
            } else {
                "refused"
            };
            (
                format!(
                    "{} {done} the exception to rule {} asked by {}",
                    n(&d["by"], "An approver"),
                    esc(text_of(x, "rule")),
                    n(&x["requested_by"], "someone"),
                ),
                format!("{base}/exceptions/{}", text_of(x, "id")),
            )
        }
        "alert.opened" => {
            let a = &d["alert"];
            let signal = d
                .get("signal")
                .and_then(|s| s.as_str())
                .unwrap_or_else(|| text_of(a, "signal"));
            (
                format!(
                    "Alert: {} is at act for {} ({})",
                    esc(signal),
                    esc(text_of(a, "subject")),
                    a["value"]
                        .as_f64()
                        .map(|v| format!("{v:.2}"))
                        .unwrap_or_default(),
                ),
                format!("{base}/alerts/{}", text_of(a, "id")),
            )
        }
        "alert.closed" => {
            let a = &d["alert"];
            (
                format!(
                    "Alert closed: {} for {} — {}",
                    esc(text_of(a, "signal")),
                    esc(text_of(a, "subject")),
                    esc(d["reason"].as_str().unwrap_or("closed")),
                ),
                format!("{base}/alerts/{}", text_of(a, "id")),
            )
        }
        "playbook.changed" => (
            format!(
                "{} published playbook version {}: {}",
                n(&d["by"], "Someone"),
                d["version"],
                esc(&short(d["reason"].as_str().unwrap_or(""), 100)),
            ),
            format!("{base}/playbook"),
        ),
        "meeting.logged" => {
            let m = &d["meeting"];
            (
                format!(
                    "Customer contact logged: “{}” with {}",
                    esc(&short(text_of(m, "title"), 80)),
                    n(&m["account"], "an account"),
                ),
                format!("{base}/"),
            )
        }
        "insight.created" => (
            format!(
                "New insight from {}: {}",
                n(&d["account"], "a customer"),
                esc(&short(text_of(d, "text"), 100)),
            ),
            format!("{base}/"),
        ),
        "review.opened" => (
            "A rules-of-engagement review was opened".to_owned(),
            format!("{base}/"),
        ),
        "charter.ratified" => (
            format!("Charter version {} was ratified", d["version"]),
            format!("{base}/"),
        ),
        "ping" => (
            "accord webhook test: this subscription works".to_owned(),
            format!("{base}/"),
        ),
        other => (format!("accord: {}", esc(other)), format!("{base}/")),
    };
    format!("{line} — {link}")
}

/// One pass of the delivery worker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryRun {
    /// Deliveries claimed.
    pub claimed: usize,
    /// Received with a 2xx.
    pub delivered: usize,
    /// Failed, to be tried again.
    pub retried: usize,
    /// Given up on.
    pub dead: usize,
    /// Answers not recorded because the claim had run out and another
    /// server took the delivery over.
    pub stale: usize,
}

/// 32 random bytes as hex.
fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(hex(&bytes))
}

/// A number in `[0, 1)` for jitter.
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    #[allow(clippy::cast_precision_loss)]
    let x = (u64::from_le_bytes(b) >> 11) as f64;
    x / (1u64 << 53) as f64
}

/// Checks a subscription to register; errors name their field.
fn validate(new: &NewWebhook) -> Result<(String, Option<String>, Vec<String>, Format)> {
    let mut errors = Vec::new();
    let url = new.url.trim().to_owned();
    if url.is_empty() {
        errors.push(FieldError::new("url", "required"));
    } else if url.len() > 2048 {
        errors.push(FieldError::new("url", "at most 2048 characters"));
    } else {
        match url::Url::parse(&url) {
            Ok(u) if !matches!(u.scheme(), "http" | "https") => errors.push(FieldError::new(
                "url",
                format!("must be http or https, not {}", u.scheme()),
            )),
            Ok(u) if u.host_str().is_none_or(str::is_empty) => {
                errors.push(FieldError::new("url", "has no host"));
            }
            Ok(_) => {}
            Err(e) => errors.push(FieldError::new("url", format!("not a URL: {e}"))),
        }
    }
    let secret = new
        .secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(s) = secret {
        if s.chars().count() < 16 {
            errors.push(FieldError::new("secret", "at least 16 characters"));
        } else if s.len() > 256 {
            errors.push(FieldError::new("secret", "at most 256 bytes"));
        }
    }
    let mut events: Vec<String> = Vec::new();
    if new.events.is_empty() {
        errors.push(FieldError::new(
            "events",
            "name at least one event type, or \"*\" for all",
        ));
    }
    for (i, e) in new.events.iter().enumerate() {
        let e = e.trim();
        if e == "*" || EVENT_TYPES.contains(&e) {
            if !events.iter().any(|x| x == e) {
                events.push(e.to_owned());
            }
        } else {
            errors.push(FieldError::new(
                format!("events[{i}]"),
                format!(
                    "unknown event type {e:?}; known: {}, or \"*\"",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
    }
    let format = match new.format.as_deref().map(str::trim) {
        None | Some("") => Format::Json,
        Some(f) => Format::parse(f).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "format",
                format!("{f:?} is not a format: json or slack"),
            ));
            Format::Json
        }),
    };
    if errors.is_empty() {
        Ok((url, secret.map(str::to_owned), events, format))
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// A subscription without its secret, for lists.
fn redacted(mut w: Webhook) -> Webhook {
    w.secret = String::new();
    w
}

impl Service {
    /// Installs the HTTP client deliveries and pings are sent with (the
    /// server's). The first one installed stays.
    pub fn set_transport(&self, t: Arc<dyn Transport>) {
        let _ = self.inner.transport.set(t);
    }

    /// The HTTP client, once installed.
    pub fn transport(&self) -> Result<Arc<dyn Transport>> {
        self.inner
            .transport
            .get()
            .cloned()
            .ok_or_else(|| ServiceError::Internal("no HTTP client installed for webhooks".into()))
    }

    /// Registers a subscription; its secret is returned this once.
    pub async fn create_webhook(&self, caller: &Caller, new: NewWebhook) -> Result<CreatedWebhook> {
        caller.require(Action::ManageWebhooks)?;
        let (url, secret, events, format) = validate(&new)?;
        let secret = match secret {
            Some(s) => s,
            None => random_secret()?,
        };
        let now = self.now();
        let w = Webhook {
            id: Uuid::now_v7(),
            url,
            secret: secret.clone(),
            events,
            format: match format {
                Format::Json => "json",
                Format::Slack => "slack",
            }
            .to_owned(),
            active: true,
            created_by: caller.person().map(|p| p.id),
            created_at: now,
        };
        let mut tx = self.store().write().await?;
        tx.insert_webhook(&w).await?;
        // The secret is not serialized: the audit log never holds it.
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "webhook.created",
            "webhook",
            w.id,
            None::<&()>,
            Some(&w),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(webhook = %w.id, url = %w.url, "webhook registered");
        Ok(CreatedWebhook {
            webhook: redacted(w),
            secret,
        })
    }

    /// Every subscription (secrets left out), removed ones included as
    /// inactive while their deliveries are kept.
    pub async fn list_webhooks(&self, caller: &Caller) -> Result<Vec<Webhook>> {
        caller.require(Action::ManageWebhooks)?;
        let mut tx = self.store().read().await?;
        Ok(tx
            .list_webhooks()
            .await?
            .into_iter()
            .map(redacted)
            .collect())
    }

    /// One subscription (secret left out).
    pub async fn get_webhook(&self, caller: &Caller, id: Uuid) -> Result<Webhook> {
        caller.require(Action::ManageWebhooks)?;
        let mut tx = self.store().read().await?;
        Ok(redacted(tx.get_webhook(id).await?))
    }

    /// Removes a subscription: its pending deliveries are dropped; one
    /// with delivery history is kept, inactive, for that history.
    pub async fn delete_webhook(&self, caller: &Caller, id: Uuid) -> Result<()> {
        caller.require(Action::ManageWebhooks)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let before = tx.get_webhook(id).await?;
        if !before.active {
            return Err(accord_store::StoreError::not_found("webhook", id).into());
        }
        // The audit record first: every write that audits and fans an event
        // out to the subscriptions locks the audit chain's head before the
        // subscriptions' rows (their deliveries refer to them). Removing the
        // subscription first took the two in the other order, and on
        // PostgreSQL deadlocked with such a write.
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "webhook.removed",
            "webhook",
            id,
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.delete_webhook(id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends a `ping` event to a subscription now, signed like any
    /// delivery, and returns what the receiver answered. Nothing is stored.
    pub async fn test_webhook(&self, caller: &Caller, id: Uuid) -> Result<PingAnswer> {
        caller.require(Action::ManageWebhooks)?;
        let w = self.store().read().await?.get_webhook(id).await?;
        let transport = self.transport()?;
        let now = self.now();
        let event = OutboxEvent {
            id: Uuid::now_v7(),
            event_type: "ping".into(),
            payload: serde_json::json!({
                "webhook": w.id,
                "message": "a test from accord: this subscription works",
            }),
            occurred_at: now,
        };
        let req = request_for(
            &w,
            &event,
            Uuid::now_v7(),
            1,
            now,
            &Names::default(),
            &self.settings().base_url,
            self.delivery_policy().timeout,
        );
        Ok(match transport.post(req).await {
            Ok(a) => PingAnswer {
                event_id: event.id,
                status: Some(a.status),
                body: a.body,
                error: None,
            },
            Err(e) => PingAnswer {
                event_id: event.id,
                status: None,
                body: String::new(),
                error: Some(e),
            },
        })
    }

    /// Deliveries, newest first, optionally in one state (`dead`).
    pub async fn list_deliveries(
        &self,
        caller: &Caller,
        state: Option<DeliveryState>,
        page: &PageRequest,
    ) -> Result<Page<Delivery>> {
        caller.require(Action::ManageWebhooks)?;
        let mut tx = self.store().read().await?;
        Ok(tx.list_deliveries(state, page).await?)
    }

    /// A delivery and its event.
    pub async fn get_delivery(&self, caller: &Caller, id: Uuid) -> Result<DeliveryDetail> {
        caller.require(Action::ManageWebhooks)?;
        let mut tx = self.store().read().await?;
        let delivery = tx.get_delivery(id).await?;
        let event = tx.get_event(delivery.event_id).await?;
        Ok(DeliveryDetail { delivery, event })
    }

    /// Puts a delivery (a dead one, usually) back in the queue, due now;
    /// it gets a full dead-after bound again.
    pub async fn redeliver(&self, caller: &Caller, id: Uuid) -> Result<Delivery> {
        caller.require(Action::ManageWebhooks)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let before = tx.get_delivery(id).await?;
        let hook = tx.get_webhook(before.webhook_id).await?;
        if !hook.active {
            return Err(ServiceError::Conflict(format!(
                "the subscription {} was removed: its deliveries cannot be redelivered",
                hook.id
            )));
        }
        tx.redeliver(id, now).await?;
        let after = tx.get_delivery(id).await?;
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "delivery.redelivered",
            "delivery",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The delivery policy in force (the settings').
    pub fn delivery_policy(&self) -> &DeliveryPolicy {
        &self.settings().delivery
    }

    /// Names for the people, accounts and engagement types the events
    /// mention (for the Slack text).
    async fn names_for(&self, tx: &mut dyn Tx, events: &[&OutboxEvent]) -> Result<Names> {
        let mut ids = BTreeSet::new();
        for e in events {
            mentioned_ids(&e.payload, &mut ids);
        }
        let mut names = HashMap::new();
        for id in ids {
            if let Ok(p) = tx.get_person(PersonId(id)).await {
                names.insert(id.to_string(), p.name);
            } else if let Ok(a) = tx.get_account(AccountId(id)).await {
                names.insert(id.to_string(), a.name);
            }
        }
        let playbook = self.playbook();
        for t in &playbook.playbook.engagement_types {
            names.insert(format!("type:{}", t.id), t.name.clone());
        }
        Ok(Names(names))
    }

    /// One pass of the delivery worker: claims the deliveries due (at most
    /// a batch), POSTs them (`concurrency` at a time), and records each
    /// answer as it comes. Returns what happened; an empty run means
    /// nothing was due.
    pub async fn deliver_due(&self) -> Result<DeliveryRun> {
        let transport = self.transport()?;
        let policy = self.delivery_policy().clone();
        let lease_id = Uuid::now_v7();
        let mut tx = self.store().write().await?;
        let claimed = tx
            .claim_deliveries(lease_id, self.now(), policy.lease, policy.batch)
            .await?;
        tx.commit().await?;
        let mut run = DeliveryRun {
            claimed: claimed.len(),
            ..DeliveryRun::default()
        };
        if claimed.is_empty() {
            return Ok(run);
        }
        let slack: Vec<&OutboxEvent> = claimed
            .iter()
            .filter(|(_, _, w)| w.format == "slack")
            .map(|(_, e, _)| e)
            .collect();
        let names = if slack.is_empty() {
            Names::default()
        } else {
            let mut tx = self.store().read().await?;
            self.names_for(tx.as_mut(), &slack).await?
        };
        let gate = Arc::new(tokio::sync::Semaphore::new(policy.concurrency.max(1)));
        let mut flying = tokio::task::JoinSet::new();
        for (d, e, w) in claimed {
            let attempt = d.attempts + 1;
            let req = request_for(
                &w,
                &e,
                d.id,
                attempt,
                self.now(),
                &names,
                &self.settings().base_url,
                policy.timeout,
            );
            let transport = Arc::clone(&transport);
            let gate = Arc::clone(&gate);
            flying.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let outcome = transport.post(req).await;
                (d, e.event_type, outcome)
            });
        }
        while let Some(joined) = flying.join_next().await {
            let (d, event_type, outcome) = match joined {
                Ok(x) => x,
                Err(e) => {
                    // Its lease runs out and another pass takes it again.
                    tracing::error!(error = %e, "a webhook delivery task failed");
                    continue;
                }
            };
            let attempt = judge(
                &policy,
                &outcome,
                d.attempts + 1,
                d.retry_from,
                self.now(),
                jitter(),
            );
            let mut tx = self.store().write().await?;
            let held = tx.finish_delivery(d.id, lease_id, &attempt).await?;
            tx.commit().await?;
            if !held {
                run.stale += 1;
                tracing::warn!(delivery = %d.id, "a delivery's lease ran out before its answer was recorded; another server took it over");
                continue;
            }
            match attempt.state {
                DeliveryState::Delivered => {
                    run.delivered += 1;
                    tracing::debug!(delivery = %d.id, event = %d.event_id, %event_type, status = ?attempt.status, "webhook delivered");
                }
                DeliveryState::Pending => {
                    run.retried += 1;
                    tracing::info!(delivery = %d.id, event = %d.event_id, %event_type, attempt = d.attempts + 1, next = %attempt.next_attempt_at, error = attempt.error.as_deref().unwrap_or(""), "webhook delivery failed; will retry");
                }
                DeliveryState::Dead => {
                    run.dead += 1;
                    tracing::warn!(delivery = %d.id, event = %d.event_id, %event_type, webhook = %d.webhook_id, error = attempt.error.as_deref().unwrap_or(""), "webhook delivery is dead; an admin may redeliver it");
                }
            }
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> DeliveryPolicy {
        DeliveryPolicy {
            backoff_base: Duration::seconds(2),
            backoff_cap: Duration::seconds(60),
            dead_after: Duration::hours(1),
            ..DeliveryPolicy::default()
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_770_000_000 + s, 0).unwrap_or_default()
    }

    fn ok(status: u16) -> std::result::Result<Answer, String> {
        Ok(Answer {
            status,
            retry_after: None,
            body: "nope".into(),
        })
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_jitter_takes_at_most_half() {
        let p = policy();
        let ms = |a, j| p.backoff(a, j).num_milliseconds();
        assert_eq!(ms(1, 0.0), 2_000);
        assert_eq!(ms(2, 0.0), 4_000);
        assert_eq!(ms(3, 0.0), 8_000);
        assert_eq!(ms(10, 0.0), 60_000, "capped");
        assert_eq!(ms(1_000, 0.0), 60_000, "no overflow");
        assert_eq!(ms(1, 0.999_999), 1_000 + 1);
        for a in 1..12 {
            let full = ms(a, 0.0);
            let j = ms(a, 0.7);
            assert!(j <= full && j >= full / 2, "{a}: {j} of {full}");
        }
    }

    #[test]
    fn which_answers_are_retried() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(retryable(s), "{s}");
        }
        for s in [200, 301, 302, 400, 401, 403, 404, 410, 413, 422] {
            assert!(!retryable(s), "{s}");
        }
    }

    #[test]
    fn judging_an_attempt() {
        let p = policy();
        let d = judge(&p, &ok(204), 1, t(0), t(5), 0.0);
        assert_eq!(
            (d.state, d.status, d.error),
            (DeliveryState::Delivered, Some(204), None)
        );

        let d = judge(&p, &ok(410), 1, t(0), t(5), 0.0);
        assert_eq!(d.state, DeliveryState::Dead, "a 4xx is not retried");
        assert_eq!(d.status, Some(410));
        assert!(
            d.error
                .as_deref()
                .unwrap_or("")
                .contains("HTTP 410, not retried: nope")
        );

        for s in [408, 429, 503] {
            let d = judge(&p, &ok(s), 3, t(0), t(100), 0.0);
            assert_eq!(d.state, DeliveryState::Pending, "{s}");
            assert_eq!(d.next_attempt_at, t(108), "{s}");
        }
        let refused = Err("connection refused".to_owned());
        let d = judge(&p, &refused, 1, t(0), t(1), 0.0);
        assert_eq!((d.state, d.status), (DeliveryState::Pending, None));
        assert_eq!(d.error.as_deref(), Some("connection refused"));
        assert_eq!(d.next_attempt_at, t(3));

        // Retry-After is honoured, within the cap.
        let slow = Ok(Answer {
            status: 429,
            retry_after: Some(StdDuration::from_secs(30)),
            body: String::new(),
        });
        assert_eq!(judge(&p, &slow, 1, t(0), t(0), 0.0).next_attempt_at, t(30));
        let slower = Ok(Answer {
            status: 503,
            retry_after: Some(StdDuration::from_secs(3600)),
            body: String::new(),
        });
        assert_eq!(
            judge(&p, &slower, 1, t(0), t(0), 0.0).next_attempt_at,
            t(60)
        );

        // The last retry falls on the bound; failing then, it is dead.
        let d = judge(&p, &refused, 20, t(0), t(3590), 0.0);
        assert_eq!(
            (d.state, d.next_attempt_at),
            (DeliveryState::Pending, t(3600))
        );
        let d = judge(&p, &refused, 21, t(0), t(3600), 0.0);
        assert_eq!(d.state, DeliveryState::Dead);
        assert!(
            d.error
                .as_deref()
                .unwrap_or("")
                .contains("gave up after 21 attempt(s) over 1 h")
        );
    }

    #[test]
    fn signatures_verify_and_reject_tampering_and_stale_times() {
        let body = br#"{"id":"x","type":"ping"}"#;
        let ts = t(0).timestamp();
        let sig = signature("s3cret-s3cret-s3cret", ts, body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        let tol = Duration::minutes(5);
        let ok = |secret: &str, ts: &str, sig: &str, body: &[u8], now| {
            verify(secret, ts, sig, body, now, tol)
        };
        let tss = ts.to_string();
        assert!(ok("s3cret-s3cret-s3cret", &tss, &sig, body, t(10)));
        assert!(ok(
            "s3cret-s3cret-s3cret",
            &tss,
            &format!("v1=00, {sig}"),
            body,
            t(10)
        ));
        assert!(!ok("another-secret-here", &tss, &sig, body, t(10)));
        assert!(!ok("s3cret-s3cret-s3cret", &tss, &sig, b"{}", t(10)));
        assert!(!ok(
            "s3cret-s3cret-s3cret",
            &(ts + 1).to_string(),
            &sig,
            body,
            t(10)
        ));
        assert!(
            !ok("s3cret-s3cret-s3cret", &tss, &sig, body, t(301)),
            "stale"
        );
        assert!(!ok("s3cret-s3cret-s3cret", &tss, "v1=zz", body, t(10)));
        assert!(!ok("s3cret-s3cret-s3cret", "soon", &sig, body, t(10)));
        // A known vector, computed independently:
        // `printf '1.{}' | openssl dgst -sha256 -hmac key`.
        assert_eq!(
            signature("key", 1, b"{}"),
            "v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn the_envelope_is_stable() {
        let e = OutboxEvent {
            id: Uuid::nil(),
            event_type: "request.created".into(),
            payload: serde_json::json!({"request": {"id": "r1"}}),
            occurred_at: t(0),
        };
        assert_eq!(
            String::from_utf8(envelope(&e)).unwrap_or_default(),
            r#"{"id":"00000000-0000-0000-0000-000000000000","type":"request.created","occurred_at":"2026-02-02T02:40:00Z","data":{"request":{"id":"r1"}}}"#
        );
    }

    #[test]
    fn subscriptions_are_validated_field_by_field() {
        let bad = NewWebhook {
            url: "ftp://example.com/x".into(),
            secret: Some("short".into()),
            events: vec!["request.created".into(), "request.exploded".into()],
            format: Some("teams".into()),
        };
        let Err(ServiceError::Invalid(errors)) = validate(&bad) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "secret", "events[1]", "format"]);
        let Err(ServiceError::Invalid(errors)) = validate(&NewWebhook::default()) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events"]);
        for url in ["not a url", "http://", "javascript:alert(1)"] {
            let w = NewWebhook {
                url: url.into(),
                events: vec!["*".into()],
                ..NewWebhook::default()
            };
            assert!(validate(&w).is_err(), "{url}");
        }
        let good = NewWebhook {
            url: " https://hooks.example.com/T0/B0/x ".into(),
            secret: None,
            events: vec!["*".into(), "*".into()],
            format: Some("slack".into()),
        };
        let (url, secret, events, format) = validate(&good).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "https://hooks.example.com/T0/B0/x");
        assert_eq!(
            (secret, events, format),
            (None, vec!["*".to_owned()], Format::Slack)
        );
    }

    #[test]
    fn slack_lines_name_people_and_link_the_record() {
        let rita = Uuid::now_v7();
        let paula = Uuid::now_v7();
        let acme = Uuid::now_v7();
        let names = Names(HashMap::from([
            (rita.to_string(), "Rita Rep".to_owned()),
            (paula.to_string(), "Paula PM".to_owned()),
            (acme.to_string(), "Acme <&> Co".to_owned()),
            (
                "type:roadmap-briefing".to_owned(),
                "Roadmap briefing".to_owned(),
            ),
        ]));
        let e = |kind: &str, payload| OutboxEvent {
            id: Uuid::now_v7(),
            event_type: kind.into(),
            payload,
            occurred_at: t(0),
        };
        let created = e(
            "request.created",
            serde_json::json!({"request": {"id": "R1", "requester": rita, "pm": paula, "account": acme,
                "engagement_type": "roadmap-briefing", "needed_at": "2026-03-10T09:00:00Z", "state": "requested"}}),
        );
        assert_eq!(
            slack_text(&created, &names, "https://accord.example.com/"),
            "Rita Rep asked Paula PM for a Roadmap briefing with Acme &lt;&amp;&gt; Co, needed 2026-03-10 — https://accord.example.com/requests/R1"
        );
        let decided = e(
            "request.decided",
            serde_json::json!({"request": {"id": "R1", "requester": rita, "account": acme, "engagement_type": "roadmap-briefing"},
                "action": "decline", "by": "paula.pm@example.com"}),
        );
        assert_eq!(
            slack_text(&decided, &names, "https://a"),
            "Rita Rep's request for a Roadmap briefing with Acme &lt;&amp;&gt; Co was declined by paula.pm@example.com — https://a/requests/R1"
        );
        let access = e(
            "access.requested",
            serde_json::json!({"access": {"id": "A1", "pm": paula, "owner": rita, "account": acme, "purpose": "feedback", "agenda": "Their reporting."},
                "account": "Acme"}),
        );
        assert_eq!(
            slack_text(&access, &names, "https://a"),
            "Paula PM asked Rita Rep for time with Acme (feedback): Their reporting. — https://a/access/A1"
        );
        for (kind, payload, link) in [
            (
                "access.decided",
                serde_json::json!({"access": {"id": "A1", "state": "granted"}}),
                "/access/A1",
            ),
            (
                "commitment.logged",
                serde_json::json!({"commitment": {"id": "C1", "kind": "feature"}}),
                "/commitments/C1",
            ),
            (
                "commitment.decided",
                serde_json::json!({"commitment": {"id": "C1"}, "approved": true}),
                "/commitments/C1",
            ),
            (
                "exception.requested",
                serde_json::json!({"exception": {"id": "X1", "rule": "owner-present"}}),
                "/exceptions/X1",
            ),
            (
                "exception.decided",
                serde_json::json!({"exception": {"id": "X1"}, "approved": false}),
                "/exceptions/X1",
            ),
            (
                "alert.opened",
                serde_json::json!({"alert": {"id": "L1", "subject": "paula", "value": 0.5}, "signal": "Owner presence"}),
                "/alerts/L1",
            ),
            (
                "alert.closed",
                serde_json::json!({"alert": {"id": "L1"}}),
                "/alerts/L1",
            ),
            (
                "playbook.changed",
                serde_json::json!({"version": 2, "reason": "tighter"}),
                "/playbook",
            ),
            ("charter.ratified", serde_json::json!({"version": 2}), "/"),
            ("ping", serde_json::json!({}), "/"),
        ] {
            let text = slack_text(&e(kind, payload), &names, "https://a");
            assert!(
                text.ends_with(&format!(" — https://a{link}")),
                "{kind}: {text}"
            );
            assert!(!text.contains('\n'), "{kind}: one line");
        }
    }

    #[test]
    fn jitter_is_a_fraction() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
