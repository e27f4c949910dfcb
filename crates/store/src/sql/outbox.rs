//! Webhook subscriptions, the outbox, and deliveries.

use accord_domain::id::PersonId;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{
    RowExt, SqlTx, encode_cursor, from_json, id_cursor, json, page_of, parse_enum, sql_impl,
};
use crate::model::{Attempt, Delivery, DeliveryState, OutboxEvent, Page, PageRequest, Webhook};
use crate::ops::OutboxOps;
use crate::{Result, StoreError, micros};

/// Every subscription, oldest first.
const WEBHOOKS: &str = "SELECT id, url, secret, events, format, active, created_by, created_at FROM webhooks ORDER BY id";

const DELIVERY_COLS: &str = "id, event_id, webhook_id, state, attempts, next_attempt_at, last_status, last_error, delivered_at, created_at, last_attempt_at, retry_from";

fn webhook(r: &impl RowExt) -> Result<Webhook> {
    Ok(Webhook {
        id: r.uuid("id")?,
        url: r.text("url")?,
        secret: r.text("secret")?,
        events: from_json(&r.text("events")?)?,
        format: r.text("format")?,
        active: r.flag("active")?,
        created_by: r.opt_uuid("created_by")?.map(PersonId),
        created_at: r.time("created_at")?,
    })
}

fn event(r: &impl RowExt) -> Result<OutboxEvent> {
    Ok(OutboxEvent {
        id: r.uuid("id")?,
        event_type: r.text("event_type")?,
        payload: from_json(&r.text("payload")?)?,
        occurred_at: r.time("occurred_at")?,
    })
}

fn delivery(r: &impl RowExt) -> Result<Delivery> {
    let created_at = r.time("created_at")?;
    Ok(Delivery {
        id: r.uuid("id")?,
        event_id: r.uuid("event_id")?,
        webhook_id: r.uuid("webhook_id")?,
        state: parse_enum::<DeliveryState>(&r.text("state")?, "delivery state")?,
        attempts: r.int("attempts")?,
        next_attempt_at: r.time("next_attempt_at")?,
        last_status: r.opt_int("last_status")?,
        last_error: r.opt_text("last_error")?,
        delivered_at: r.opt_time("delivered_at")?,
        created_at,
        last_attempt_at: r.opt_time("last_attempt_at")?,
        // Rows from before the column existed count from their creation.
        retry_from: r.opt_time("retry_from")?.unwrap_or(created_at),
    })
}

sql_impl!(OutboxOps, SqlTx {
    async fn insert_webhook(&mut self, w: &Webhook) -> Result<()> {
        sqlx::query("INSERT INTO webhooks (id, url, secret, events, format, active, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
            .bind(w.id)
            .bind(w.url.as_str())
            .bind(w.secret.as_str())
            .bind(json(&w.events)?)
            .bind(w.format.as_str())
            .bind(w.active)
            .bind(w.created_by.map(|p| p.0))
            .bind(micros(w.created_at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn update_webhook(&mut self, w: &Webhook) -> Result<()> {
        let done = sqlx::query("UPDATE webhooks SET url = $2, secret = $3, events = $4, format = $5, active = $6, updated_at = $7 WHERE id = $1 RETURNING 1 AS affected")
            .bind(w.id)
            .bind(w.url.as_str())
            .bind(w.secret.as_str())
            .bind(json(&w.events)?)
            .bind(w.format.as_str())
            .bind(w.active)
            .bind(super::now())
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            return Err(StoreError::not_found("webhook", w.id));
        }
        Ok(())
    }

    async fn delete_webhook(&mut self, id: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND state = 'pending'")
            .bind(id)
            .execute(self.conn().await?)
            .await?;
        // Delivered and dead deliveries keep their history: deactivate the
        // subscription instead of deleting it when it has any.
        let left = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = $1")
            .bind(id)
            .fetch_one(self.conn().await?)
            .await?
            .int("n")?;
        let done = if left > 0 {
            sqlx::query("UPDATE webhooks SET active = $2, updated_at = $3 WHERE id = $1 RETURNING 1 AS affected")
                .bind(id)
                .bind(false)
                .bind(super::now())
                .fetch_optional(self.conn().await?)
                .await?
        } else {
            sqlx::query("DELETE FROM webhooks WHERE id = $1 RETURNING 1 AS affected")
                .bind(id)
                .fetch_optional(self.conn().await?)
                .await?
        };
        if done.is_none() {
            return Err(StoreError::not_found("webhook", id));
        }
        Ok(())
    }

    async fn get_webhook(&mut self, id: Uuid) -> Result<Webhook> {
        let row = sqlx::query("SELECT id, url, secret, events, format, active, created_by, created_at FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("webhook", id))?;
        webhook(&row)
    }

    async fn list_webhooks(&mut self) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(WEBHOOKS)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(webhook).collect()
    }

    async fn insert_event(&mut self, e: &OutboxEvent) -> Result<()> {
        let at = micros(e.occurred_at);
        let payload = e.payload.to_string();
        let dialect = self.dialect;
        // The event and its deliveries, one to each active webhook that
        // wants it, without reading the webhooks first: nothing waits on
        // these writes, so on SQLite they join the transaction's batch.
        // The deliveries' ids are a fresh time-ordered id with the last two
        // bytes numbering the webhooks (the listing is newest first by id).
        self.defer(|q| {
            q.push("INSERT INTO outbox (id, event_type, payload, occurred_at) ");
            q.push_values([e], |mut b, e| {
                b.push_bind(e.id)
                    .push_bind(e.event_type.as_str())
                    .push_bind(payload.as_str())
                    .push_bind(at);
            });
        })
        .await?;
        self.defer(|q| {
            q.push("INSERT INTO webhook_deliveries (id, event_id, webhook_id, state, attempts, next_attempt_at, created_at, retry_from) SELECT ")
                .push(dialect.delivery_id.0)
                .push_bind(Uuid::now_v7())
                .push(dialect.delivery_id.1)
                .push(", ")
                .push_bind(e.id)
                .push(", w.id, 'pending', 0, ")
                .push_bind(at)
                .push(", ")
                .push_bind(at)
                .push(", ")
                .push_bind(at)
                .push(format!(" FROM webhooks w WHERE w.active AND EXISTS (SELECT 1 FROM {} WHERE value IN ('*', ", dialect.webhook_events))
                .push_bind(e.event_type.as_str())
                .push("))");
        })
        .await
    }

    async fn get_event(&mut self, id: Uuid) -> Result<OutboxEvent> {
        let row = sqlx::query("SELECT id, event_type, payload, occurred_at FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("event", id))?;
        event(&row)
    }

    async fn claim_deliveries(&mut self, lease_id: Uuid, now: DateTime<Utc>, lease: chrono::Duration, limit: i64) -> Result<Vec<(Delivery, OutboxEvent, Webhook)>> {
        let now = micros(now);
        // Due: pending, its time has come, and nobody holds a live lease.
        // The rows are picked first (PostgreSQL: locked, skipping rows
        // another server is claiming right now), then leased by id — not
        // with `UPDATE ... WHERE id IN (SELECT ... LIMIT ... FOR UPDATE SKIP
        // LOCKED)`, which PostgreSQL may evaluate more than once.
        let select = format!(
            "SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) ORDER BY next_attempt_at, id LIMIT $2{}",
            self.dialect.claim_lock
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(select))
            .bind(now)
            .bind(limit)
            .fetch_all(self.conn().await?)
            .await?;
        let ids = rows.iter().map(|r| r.uuid("id")).collect::<Result<Vec<_>>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<DB>::new("UPDATE webhook_deliveries SET locked_until = ");
        q.push_bind(micros(now + lease)).push(", lease_id = ").push_bind(lease_id).push(" WHERE id IN (");
        let mut list = q.separated(", ");
        for id in &ids {
            list.push_bind(*id);
        }
        q.push(format!(") RETURNING {DELIVERY_COLS}"));
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let mut claimed = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|d| (d.next_attempt_at, d.id));

        let mut q = QueryBuilder::<DB>::new("SELECT id, event_type, payload, occurred_at FROM outbox WHERE id IN (");
        let mut list = q.separated(", ");
        let mut event_ids: Vec<Uuid> = claimed.iter().map(|d| d.event_id).collect();
        event_ids.sort();
        event_ids.dedup();
        for id in &event_ids {
            list.push_bind(*id);
        }
        q.push(")");
        let events = q
            .build()
            .fetch_all(self.conn().await?)
            .await?
            .iter()
            .map(|r| event(r).map(|e| (e.id, e)))
            .collect::<Result<std::collections::HashMap<_, _>>>()?;
        let hooks = self
            .list_webhooks()
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect::<std::collections::HashMap<_, _>>();
        claimed
            .into_iter()
            .map(|d| {
                let e = events.get(&d.event_id).cloned().ok_or_else(|| StoreError::not_found("event", d.event_id))?;
                let w = hooks.get(&d.webhook_id).cloned().ok_or_else(|| StoreError::not_found("webhook", d.webhook_id))?;
                Ok((d, e, w))
            })
            .collect()
    }

    async fn finish_delivery(&mut self, id: Uuid, lease_id: Uuid, a: &Attempt) -> Result<bool> {
        let at = micros(a.at);
        let done = sqlx::query("UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1, last_status = $4, last_error = $5, next_attempt_at = $6, last_attempt_at = $7, locked_until = NULL, lease_id = NULL, delivered_at = CASE WHEN $3 = 'delivered' THEN $7 ELSE delivered_at END WHERE id = $1 AND lease_id = $2 RETURNING 1 AS affected")
            .bind(id)
            .bind(lease_id)
            .bind(a.state.as_str())
            .bind(a.status)
            .bind(a.error.as_deref())
            .bind(micros(a.next_attempt_at))
            .bind(at)
            .fetch_optional(self.conn().await?)
            .await?;
        Ok(done.is_some())
    }

    async fn get_delivery(&mut self, id: Uuid) -> Result<Delivery> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("delivery", id))?;
        delivery(&row)
    }

    async fn list_deliveries(&mut self, state: Option<DeliveryState>, page: &PageRequest) -> Result<Page<Delivery>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE 1 = 1"));
        if let Some(s) = state {
            q.push(" AND state = ").push_bind(s.as_str());
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |d| encode_cursor(&d.id.to_string())))
    }

    async fn redeliver(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        // A live lease is left alone: the server holding it records its
        // attempt as usual, and the delivery stays due.
        let done = sqlx::query("UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $2, retry_from = $2 WHERE id = $1 RETURNING 1 AS affected")
            .bind(id)
            .bind(micros(now))
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            return Err(StoreError::not_found("delivery", id));
        }
        Ok(())
    }
});
