//! Password hashes, API tokens, sessions and shared rate-limit counters.

use accord_domain::id::PersonId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{RowExt, SqlTx, sql_impl};
use crate::model::ApiToken;
use crate::ops::AuthOps;
use crate::{Result, StoreError, micros};

fn token(r: &impl RowExt) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.uuid("id")?,
        person: PersonId(r.uuid("person_id")?),
        name: r.text("name")?,
        created_at: r.time("created_at")?,
        last_used_at: r.opt_time("last_used_at")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

sql_impl!(AuthOps, SqlTx {
    async fn set_password_hash(&mut self, person: PersonId, hash: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO credentials (person_id, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (person_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at")
            .bind(person.0)
            .bind(hash)
            .bind(micros(at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn password_hash(&mut self, person: PersonId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT password_hash FROM credentials WHERE person_id = $1")
            .bind(person.0)
            .fetch_optional(self.conn().await?)
            .await?;
        row.map(|r| r.text("password_hash")).transpose()
    }

    async fn insert_token(&mut self, t: &ApiToken, hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (id, person_id, name, token_hash, created_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(t.id)
            .bind(t.person.0)
            .bind(t.name.as_str())
            .bind(hash)
            .bind(micros(t.created_at))
            .bind(t.last_used_at.map(micros))
            .bind(t.revoked_at.map(micros))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn token_by_hash(&mut self, hash: &str) -> Result<Option<ApiToken>> {
        let row = sqlx::query("SELECT id, person_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(token).transpose()
    }

    async fn touch_token(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(micros(at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn revoke_token(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING 1 AS affected")
            .bind(id)
            .bind(micros(at))
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            return Err(StoreError::not_found("token", id));
        }
        Ok(())
    }

    async fn list_tokens(&mut self, person: Option<PersonId>) -> Result<Vec<ApiToken>> {
        let rows = match person {
            Some(p) => sqlx::query("SELECT id, person_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE person_id = $1 ORDER BY id DESC")
                .bind(p.0)
                .fetch_all(self.conn().await?)
                .await?,
            None => sqlx::query("SELECT id, person_id, name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id DESC")
                .fetch_all(self.conn().await?)
                .await?,
        };
        rows.iter().map(token).collect()
    }

    async fn load_session(&mut self, id: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(micros(now))
            .fetch_optional(self.conn().await?)
            .await?;
        row.map(|r| r.text("data")).transpose()
    }

    async fn save_session(&mut self, id: &str, data: &str, expires_at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at")
            .bind(id)
            .bind(data)
            .bind(micros(expires_at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn delete_session(&mut self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&mut self, now: DateTime<Utc>) -> Result<u64> {
        let gone = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 RETURNING 1 AS affected")
            .bind(micros(now))
            .fetch_all(self.conn().await?)
            .await?;
        Ok(gone.len() as u64)
    }

    async fn hit_rate_limit(&mut self, key: &str, now: DateTime<Utc>, window: chrono::Duration) -> Result<i64> {
        let now = micros(now);
        let cutoff = now - window;
        // One statement: a new key starts at 1, a key whose window has
        // passed restarts at 1, otherwise the count goes up.
        let row = sqlx::query("INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET count = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.count + 1 END, window_start = CASE WHEN rate_limits.window_start <= $3 THEN excluded.window_start ELSE rate_limits.window_start END RETURNING count")
            .bind(key)
            .bind(now)
            .bind(cutoff)
            .fetch_one(self.conn().await?)
            .await?;
        row.int("count")
    }

    async fn clear_rate_limit(&mut self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM rate_limits WHERE key = $1")
            .bind(key)
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }
});
