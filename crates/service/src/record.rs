//! What every change writes beside itself, in its own transaction: the
//! audit entry, the rule decision, the outbox event.

use accord_domain::id::DecisionId;
use accord_domain::record::RecordRef;
use accord_domain::rules::Decision;
use accord_store::{Actor, DecisionRecord, NewAudit, OutboxEvent, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;

/// The JSON of a record, for audit entries and events.
pub fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Appends an audit entry. (Its fields are the arguments, in the order an
/// entry reads: when, who, what, which record, before, after.)
#[allow(clippy::too_many_arguments)]
pub async fn audit<B: Serialize, A: Serialize>(
    tx: &mut dyn Tx,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    record_kind: &str,
    record_id: impl ToString,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    tx.append_audit(&NewAudit {
        at,
        actor: actor.clone(),
        action: action.to_owned(),
        record_kind: record_kind.to_owned(),
        record_id: record_id.to_string(),
        before: before.map(to_json),
        after: after.map(to_json),
    })
    .await?;
    Ok(())
}

/// Stores a rule decision about a record.
pub async fn decision(
    tx: &mut dyn Tx,
    record: RecordRef,
    decision: &Decision,
    playbook_version: i64,
    at: DateTime<Utc>,
) -> Result<DecisionRecord> {
    let d = DecisionRecord {
        id: DecisionId::new(),
        record,
        decision: decision.clone(),
        playbook_version: Some(playbook_version),
        at,
    };
    tx.insert_decision(&d).await?;
    Ok(d)
}

/// Writes an event to the outbox (delivered to webhooks after commit).
pub async fn emit(
    tx: &mut dyn Tx,
    event_type: &str,
    data: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.insert_event(&OutboxEvent {
        id: uuid::Uuid::now_v7(),
        event_type: event_type.to_owned(),
        payload: data,
        occurred_at: at,
    })
    .await?;
    Ok(())
}
