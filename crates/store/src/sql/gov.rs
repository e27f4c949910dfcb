//! The decision log, the audit chain, playbook and charter versions,
//! signal values, alerts and reviews.

use accord_domain::charter::{
    Acknowledgment, Charter, CharterComment, CharterState, CharterVersion, Endorsement,
};
use accord_domain::id::{
    AlertId, CharterVersionId, ClauseId, DecisionId, PersonId, ReviewId, SignalId,
};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::rules::{Decision, RuleMatch};
use accord_domain::signal::{
    Alert, AlertState, Review, ReviewOutcome, SignalPoint, SignalStatus, SignalValue,
};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use super::{
    ROWS_PER_STATEMENT, RowExt, SqlTx, encode_cursor, from_json, id_cursor, json, now, page_of,
    parse_enum, parse_with, pipelined, shaped_chunks, sql_impl,
};
use crate::audit::entry_hash;
use crate::model::{
    Actor, AuditEntry, AuditFilter, DecisionFilter, DecisionRecord, NewAudit, Page, PageRequest,
    PlaybookVersion,
};
use crate::ops::GovOps;
use crate::{Result, StoreError, micros};

const DECISION_COLS: &str = "id, record_kind, record_id, effect, matched, playbook_version, at";
const AUDIT_COLS: &str =
    "seq, at, actor_id, actor, action, record_kind, record_id, before, after, prev_hash, hash";
const ALERT_COLS: &str = "id, signal, subject_kind, subject, addressed_to, state, opened_at, closed_at, closed_reason, value, evidence";
const REVIEW_COLS: &str =
    "id, attendees, agenda, notes, outcome, playbook_version, opened_by, opened_at, closed_at";

fn decision(r: &impl RowExt) -> Result<DecisionRecord> {
    let kind = parse_enum::<RecordKind>(&r.text("record_kind")?, "record kind")?;
    let matched = from_json(&r.text("matched")?)?;
    Ok(DecisionRecord {
        id: DecisionId(r.uuid("id")?),
        record: RecordRef {
            kind,
            id: r.uuid("record_id")?,
        },
        decision: Decision {
            kind,
            effect: parse_enum(&r.text("effect")?, "effect")?,
            matched,
        },
        playbook_version: r.opt_int("playbook_version")?,
        at: r.time("at")?,
    })
}

fn audit_entry(r: &impl RowExt) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.int("seq")?,
        at: r.time("at")?,
        actor: Actor {
            id: r.opt_uuid("actor_id")?.map(PersonId),
            label: r.text("actor")?,
        },
        action: r.text("action")?,
        record_kind: r.text("record_kind")?,
        record_id: r.text("record_id")?,
        before: r.opt_text("before")?.map(|s| from_json(&s)).transpose()?,
        after: r.opt_text("after")?.map(|s| from_json(&s)).transpose()?,
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
    })
}

fn playbook_version(r: &impl RowExt, with_text: bool) -> Result<PlaybookVersion> {
    Ok(PlaybookVersion {
        version: r.int("version")?,
        toml: if with_text {
            r.text("toml")?
        } else {
            String::new()
        },
        author: r.opt_uuid("author_id")?.map(PersonId),
        reason: r.text("reason")?,
        created_at: r.time("created_at")?,
    })
}

fn signal_value(r: &impl RowExt) -> Result<SignalValue> {
    Ok(SignalValue {
        signal: parse_with(&r.text("signal")?, "signal id", SignalId::parse)?,
        subject_kind: r.text("subject_kind")?,
        subject: r.text("subject")?,
        value: r.float("value")?,
        numerator: r.float("numerator")?,
        denominator: r.float("denominator")?,
        status: parse_enum::<SignalStatus>(&r.text("status")?, "signal status")?,
        as_of: r.date("as_of")?,
        window_days: u32::try_from(r.int("window_days")?).unwrap_or(0),
    })
}

fn alert(r: &impl RowExt) -> Result<Alert> {
    Ok(Alert {
        id: AlertId(r.uuid("id")?),
        signal: parse_with(&r.text("signal")?, "signal id", SignalId::parse)?,
        subject_kind: r.text("subject_kind")?,
        subject: r.text("subject")?,
        addressed_to: from_json(&r.text("addressed_to")?)?,
        state: parse_enum::<AlertState>(&r.text("state")?, "alert state")?,
        opened_at: r.time("opened_at")?,
        closed_at: r.opt_time("closed_at")?,
        closed_reason: r.opt_text("closed_reason")?,
        value: r.float("value")?,
        evidence: from_json(&r.text("evidence")?)?,
    })
}

fn review(r: &impl RowExt) -> Result<Review> {
    Ok(Review {
        id: ReviewId(r.uuid("id")?),
        alerts: Vec::new(),
        attendees: from_json(&r.text("attendees")?)?,
        agenda: r.text("agenda")?,
        notes: r.text("notes")?,
        outcome: r
            .opt_text("outcome")?
            .map(|s| parse_enum::<ReviewOutcome>(&s, "review outcome"))
            .transpose()?,
        playbook_version: r.opt_int("playbook_version")?,
        opened_by: PersonId(r.uuid("opened_by")?),
        opened_at: r.time("opened_at")?,
        closed_at: r.opt_time("closed_at")?,
    })
}

fn charter_version(r: &impl RowExt) -> Result<CharterVersion> {
    Ok(CharterVersion {
        id: CharterVersionId(r.uuid("id")?),
        number: r.int("number")?,
        charter: from_json::<Charter>(&r.text("charter")?)?,
        state: parse_enum::<CharterState>(&r.text("state")?, "charter state")?,
        author: PersonId(r.uuid("author_id")?),
        created_at: r.time("created_at")?,
        ratified_at: r.opt_time("ratified_at")?,
        comments: Vec::new(),
        endorsements: Vec::new(),
        acknowledgments: Vec::new(),
    })
}

sql_impl!(GovOps, SqlTx {
    async fn insert_decision(&mut self, d: &DecisionRecord) -> Result<()> {
        self.insert_decisions(std::slice::from_ref(d)).await
    }

    async fn insert_decisions(&mut self, ds: &[DecisionRecord]) -> Result<()> {
        let rules: Vec<(&DecisionRecord, &RuleMatch)> = ds
            .iter()
            .flat_map(|d| d.decision.matched.iter().map(move |m| (d, m)))
            .collect();
        let matched = ds.iter().map(|d| json(&d.decision.matched)).collect::<Result<Vec<_>>>()?;
        let rows: Vec<(&DecisionRecord, String)> = ds.iter().zip(matched).collect();
        let push_decisions = |q: &mut QueryBuilder<DB>, chunk: &[(&DecisionRecord, String)]| {
            q.push("INSERT INTO decisions (id, record_kind, record_id, effect, matched, playbook_version, at) ");
            q.push_values(chunk.iter(), |mut b, (d, matched)| {
                b.push_bind(d.id.0)
                    .push_bind(d.record.kind.as_str())
                    .push_bind(d.record.id)
                    .push_bind(d.decision.effect.as_str())
                    .push_bind(matched.as_str())
                    .push_bind(d.playbook_version)
                    .push_bind(micros(d.at));
            });
        };
        let push_rules = |q: &mut QueryBuilder<DB>, chunk: &[(&DecisionRecord, &RuleMatch)]| {
            q.push("INSERT INTO decision_rules (decision_id, rule_id, effect, applied, excepted, at) ");
            q.push_values(chunk.iter(), |mut b, (d, m)| {
                b.push_bind(d.id.0)
                    .push_bind(m.rule.as_str())
                    .push_bind(m.effect.as_str())
                    .push_bind(m.applied.as_str())
                    .push_bind(m.excepted)
                    .push_bind(micros(d.at));
            });
        };
        if rows.len() + rules.len() <= SMALL {
            // A workflow's decision: two small INSERTs, deferred.
            if !rows.is_empty() {
                self.defer(|q| push_decisions(q, &rows)).await?;
            }
            if !rules.is_empty() {
                self.defer(|q| push_rules(q, &rules)).await?;
            }
        } else {
            let mut jobs: Vec<Job<'_>> = shaped_chunks(&rows, ROWS_PER_STATEMENT).into_iter().map(Job::Decisions).collect();
            jobs.extend(shaped_chunks(&rules, ROWS_PER_STATEMENT).into_iter().map(Job::Rules));
            pipelined(self.conn().await?, &jobs, |job| {
                let mut q = QueryBuilder::<DB>::new("");
                match job {
                    Job::Decisions(chunk) => push_decisions(&mut q, chunk),
                    Job::Rules(chunk) => push_rules(&mut q, chunk),
                }
                Ok(q)
            })
            .await?;
        }
        // The daily violation roll-ups, in the same transaction.
        super::signals::rollup_decisions(self, ds, 1).await
    }

    async fn decisions_for(&mut self, record: RecordRef) -> Result<Vec<DecisionRecord>> {
        let rows = sqlx::query("SELECT id, record_kind, record_id, effect, matched, playbook_version, at FROM decisions WHERE record_kind = $1 AND record_id = $2 ORDER BY at, id")
            .bind(record.kind.as_str())
            .bind(record.id)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(decision).collect()
    }

    async fn list_decisions(&mut self, f: &DecisionFilter, page: &PageRequest) -> Result<Page<DecisionRecord>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {DECISION_COLS} FROM decisions WHERE 1 = 1"));
        if let Some(k) = f.kind {
            q.push(" AND record_kind = ").push_bind(k.as_str());
        }
        if let Some(r) = f.record {
            q.push(" AND record_id = ").push_bind(r);
        }
        if let Some(e) = f.effect {
            q.push(" AND effect = ").push_bind(e.as_str());
        }
        if let Some(rule) = &f.rule {
            q.push(" AND id IN (SELECT decision_id FROM decision_rules WHERE rule_id = ").push_bind(rule.as_str().to_owned()).push(")");
        }
        if let Some(from) = f.from {
            q.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = f.to {
            q.push(" AND at < ").push_bind(to);
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(decision).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |d| encode_cursor(&d.id.0.to_string())))
    }

    async fn append_audit(&mut self, e: &NewAudit) -> Result<AuditEntry> {
        // Take the chain's head first: the UPDATE locks it (a row lock on
        // PostgreSQL, the write lock on SQLite) until this transaction ends,
        // so appends from every connection and server form one chain. The
        // entry and the head's new hash are deferred writes: on SQLite they
        // travel with whatever the transaction writes next.
        let rows = self
            .fetch_after_deferred(|q| {
                q.push("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash");
            })
            .await?;
        let head = rows.first().ok_or_else(|| StoreError::Other("the audit chain has no head row".into()))?;
        let seq = head.int("seq")?;
        let prev_hash = head.text("hash")?;
        let mut entry = AuditEntry {
            seq,
            at: micros(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            record_kind: e.record_kind.clone(),
            record_id: e.record_id.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
            prev_hash: prev_hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry_hash(&prev_hash, &entry);
        self.defer(|q| {
            q.push("INSERT INTO audit_log (seq, at, actor_id, actor, action, record_kind, record_id, before, after, prev_hash, hash) ");
            q.push_values([&entry], |mut b, entry| {
                b.push_bind(entry.seq)
                    .push_bind(entry.at)
                    .push_bind(entry.actor.id.map(|p| p.0))
                    .push_bind(entry.actor.label.as_str())
                    .push_bind(entry.action.as_str())
                    .push_bind(entry.record_kind.as_str())
                    .push_bind(entry.record_id.as_str())
                    .push_bind(entry.before.as_ref().map(|v| v.to_string()))
                    .push_bind(entry.after.as_ref().map(|v| v.to_string()))
                    .push_bind(entry.prev_hash.as_str())
                    .push_bind(entry.hash.as_str());
            });
        })
        .await?;
        self.defer(|q| {
            q.push("UPDATE audit_head SET hash = ").push_bind(entry.hash.as_str()).push(" WHERE id = 1");
        })
        .await?;
        Ok(entry)
    }

    async fn list_audit(&mut self, f: &AuditFilter, page: &PageRequest) -> Result<Page<AuditEntry>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {AUDIT_COLS} FROM audit_log WHERE 1 = 1"));
        if let Some(k) = &f.record_kind {
            q.push(" AND record_kind = ").push_bind(k.clone());
        }
        if let Some(id) = &f.record_id {
            q.push(" AND record_id = ").push_bind(id.clone());
        }
        if let Some(a) = f.actor {
            q.push(" AND actor_id = ").push_bind(a.0);
        }
        if let Some(p) = &f.action_prefix {
            q.push(" AND action LIKE ").push_bind(format!("{}%", p.replace(['%', '_'], "")));
        }
        if let Some(from) = f.from {
            q.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = f.to {
            q.push(" AND at < ").push_bind(to);
        }
        if let Some(c) = &page.after {
            let seq: i64 = super::decode_cursor(c)?
                .parse()
                .map_err(|_| StoreError::Invalid(format!("malformed page cursor {c:?}")))?;
            q.push(" AND seq < ").push_bind(seq);
        }
        q.push(" ORDER BY seq DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(audit_entry).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |e| encode_cursor(&e.seq.to_string())))
    }

    async fn audit_after(&mut self, seq: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT seq, at, actor_id, actor, action, record_kind, record_id, before, after, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(seq)
            .bind(limit)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(audit_entry).collect()
    }

    async fn insert_playbook_version(&mut self, toml: &str, author: Option<PersonId>, reason: &str, at: DateTime<Utc>) -> Result<PlaybookVersion> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM playbook_versions")
            .fetch_one(self.conn().await?)
            .await?;
        let version = row.int("v")? + 1;
        let at = micros(at);
        sqlx::query("INSERT INTO playbook_versions (version, toml, author_id, reason, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(version)
            .bind(toml)
            .bind(author.map(|a| a.0))
            .bind(reason)
            .bind(at)
            .execute(self.conn().await?)
            .await?;
        Ok(PlaybookVersion {
            version,
            toml: toml.to_owned(),
            author,
            reason: reason.to_owned(),
            created_at: at,
        })
    }

    async fn get_playbook_version(&mut self, version: i64) -> Result<PlaybookVersion> {
        let row = sqlx::query("SELECT version, toml, author_id, reason, created_at FROM playbook_versions WHERE version = $1")
            .bind(version)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("playbook version", version))?;
        playbook_version(&row, true)
    }

    async fn latest_playbook_version(&mut self) -> Result<Option<PlaybookVersion>> {
        let row = sqlx::query("SELECT version, toml, author_id, reason, created_at FROM playbook_versions ORDER BY version DESC LIMIT 1")
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(|r| playbook_version(r, true)).transpose()
    }

    async fn list_playbook_versions(&mut self) -> Result<Vec<PlaybookVersion>> {
        let rows = sqlx::query("SELECT version, author_id, reason, created_at FROM playbook_versions ORDER BY version DESC")
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(|r| playbook_version(r, false)).collect()
    }

    async fn insert_charter_version(&mut self, v: &CharterVersion) -> Result<()> {
        sqlx::query("INSERT INTO charter_versions (id, number, charter, state, author_id, created_at, ratified_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(v.id.0)
            .bind(v.number)
            .bind(json(&v.charter)?)
            .bind(v.state.as_str())
            .bind(v.author.0)
            .bind(micros(v.created_at))
            .bind(v.ratified_at.map(micros))
            .bind(now())
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn set_charter_state(&mut self, id: CharterVersionId, state: CharterState, ratified_at: Option<DateTime<Utc>>, at: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE charter_versions SET state = $2, ratified_at = COALESCE($3, ratified_at), updated_at = $4 WHERE id = $1 RETURNING 1 AS affected")
            .bind(id.0)
            .bind(state.as_str())
            .bind(ratified_at.map(micros))
            .bind(micros(at))
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            return Err(StoreError::not_found("charter version", id));
        }
        Ok(())
    }

    async fn get_charter_version(&mut self, id: CharterVersionId) -> Result<CharterVersion> {
        let row = sqlx::query("SELECT id, number, charter, state, author_id, created_at, ratified_at FROM charter_versions WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("charter version", id))?;
        let mut v = charter_version(&row)?;
        let rows = sqlx::query("SELECT author_id, clause, text, at FROM charter_comments WHERE version_id = $1 ORDER BY seq")
            .bind(id.0)
            .fetch_all(self.conn().await?)
            .await?;
        v.comments = rows
            .iter()
            .map(|r| {
                Ok(CharterComment {
                    author: PersonId(r.uuid("author_id")?),
                    clause: r.opt_text("clause")?.map(|c| parse_with(&c, "clause id", ClauseId::parse)).transpose()?,
                    text: r.text("text")?,
                    at: r.time("at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query("SELECT person_id, function, at FROM charter_endorsements WHERE version_id = $1 ORDER BY at, function")
            .bind(id.0)
            .fetch_all(self.conn().await?)
            .await?;
        v.endorsements = rows
            .iter()
            .map(|r| {
                Ok(Endorsement {
                    person: PersonId(r.uuid("person_id")?),
                    function: r.text("function")?,
                    at: r.time("at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query("SELECT person_id, at FROM charter_acknowledgments WHERE version_id = $1 ORDER BY at, person_id")
            .bind(id.0)
            .fetch_all(self.conn().await?)
            .await?;
        v.acknowledgments = rows
            .iter()
            .map(|r| {
                Ok(Acknowledgment {
                    person: PersonId(r.uuid("person_id")?),
                    at: r.time("at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(v)
    }

    async fn list_charter_versions(&mut self) -> Result<Vec<CharterVersion>> {
        let rows = sqlx::query("SELECT id FROM charter_versions ORDER BY number DESC")
            .fetch_all(self.conn().await?)
            .await?;
        let ids = rows.iter().map(|r| r.uuid("id")).collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.get_charter_version(CharterVersionId(id)).await?);
        }
        Ok(out)
    }

    async fn add_charter_comment(&mut self, id: CharterVersionId, c: &CharterComment) -> Result<()> {
        sqlx::query("INSERT INTO charter_comments (version_id, author_id, clause, text, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.0)
            .bind(c.author.0)
            .bind(c.clause.as_ref().map(|c| c.as_str()))
            .bind(c.text.as_str())
            .bind(micros(c.at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn add_endorsement(&mut self, id: CharterVersionId, e: &Endorsement) -> Result<()> {
        sqlx::query("INSERT INTO charter_endorsements (version_id, function, person_id, at) VALUES ($1, $2, $3, $4)")
            .bind(id.0)
            .bind(e.function.as_str())
            .bind(e.person.0)
            .bind(micros(e.at))
            .execute(self.conn().await?)
            .await
            .map_err(|err| match StoreError::from(err) {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "the {} function has already endorsed this charter version",
                    e.function
                )),
                other => other,
            })?;
        Ok(())
    }

    async fn add_acknowledgment(&mut self, id: CharterVersionId, a: &Acknowledgment) -> Result<()> {
        sqlx::query("INSERT INTO charter_acknowledgments (version_id, person_id, at) VALUES ($1, $2, $3) ON CONFLICT (version_id, person_id) DO NOTHING")
            .bind(id.0)
            .bind(a.person.0)
            .bind(micros(a.at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn put_signal_values(&mut self, values: &[SignalValue], at: DateTime<Utc>) -> Result<()> {
        let at = micros(at);
        for v in values {
            sqlx::query("INSERT INTO signal_values (signal, subject_kind, subject, as_of, window_days, value, numerator, denominator, status, computed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (signal, subject_kind, subject, as_of) DO UPDATE SET window_days = excluded.window_days, value = excluded.value, numerator = excluded.numerator, denominator = excluded.denominator, status = excluded.status, computed_at = excluded.computed_at")
                .bind(v.signal.as_str())
                .bind(v.subject_kind.as_str())
                .bind(v.subject.as_str())
                .bind(v.as_of)
                .bind(i64::from(v.window_days))
                .bind(if v.value.is_finite() { v.value } else { 0.0 })
                .bind(v.numerator)
                .bind(v.denominator)
                .bind(v.status.as_str())
                .bind(at)
                .execute(self.conn().await?)
                .await?;
        }
        Ok(())
    }

    async fn signal_values_on(&mut self, as_of: NaiveDate) -> Result<Vec<SignalValue>> {
        let rows = sqlx::query("SELECT signal, subject_kind, subject, as_of, window_days, value, numerator, denominator, status FROM signal_values WHERE as_of = $1 ORDER BY signal, subject_kind, subject")
            .bind(as_of)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(signal_value).collect()
    }

    async fn signal_history(&mut self, signal: &str, subject_kind: &str, subject: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<SignalValue>> {
        let rows = sqlx::query("SELECT signal, subject_kind, subject, as_of, window_days, value, numerator, denominator, status FROM signal_values WHERE signal = $1 AND subject_kind = $2 AND subject = $3 AND as_of >= $4 AND as_of <= $5 ORDER BY as_of")
            .bind(signal)
            .bind(subject_kind)
            .bind(subject)
            .bind(from)
            .bind(to)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(signal_value).collect()
    }

    async fn signal_trends(&mut self, series: &[(String, String, String)], from: NaiveDate, to: NaiveDate) -> Result<Vec<Vec<SignalPoint>>> {
        // One row per series, its days folded into a JSON array by the
        // database, each series a range of the covering index
        // `signal_values_trend`: a dashboard draws thousands of daily
        // values, and row by row each would cross from the engine to this
        // task on its own.
        let days = match self.dialect.engine {
            crate::EngineKind::Sqlite => "json_group_array(json_array(as_of, value, status))",
            crate::EngineKind::Postgres => "json_agg(json_build_array(as_of, value, status))::text",
        };
        // Series per statement: a UNION ALL of this many ranges.
        const SERIES: usize = 100;
        let mut out = vec![Vec::new(); series.len()];
        for (chunk_no, chunk) in series.chunks(SERIES).enumerate() {
            let mut q = QueryBuilder::<DB>::new("");
            for (i, (signal, kind, subject)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(" UNION ALL ");
                }
                q.push(format!("SELECT CAST({} AS BIGINT) AS n, {days} AS days FROM signal_values WHERE signal = ", chunk_no * SERIES + i));
                q.push_bind(signal.clone());
                q.push(" AND subject_kind = ").push_bind(kind.clone());
                q.push(" AND subject = ").push_bind(subject.clone());
                q.push(" AND as_of >= ").push_bind(from);
                q.push(" AND as_of <= ").push_bind(to);
            }
            for row in q.build().fetch_all(self.conn().await?).await? {
                let n = row.int("n")?;
                let Some(slot) = usize::try_from(n).ok().and_then(|n| out.get_mut(n)) else {
                    return Err(StoreError::Other(format!("a trend query answered for series {n}, which it was not asked")));
                };
                // An empty range aggregates to NULL on PostgreSQL, `[]` on SQLite.
                let Some(days) = row.opt_text("days")? else {
                    continue;
                };
                let days: Vec<(NaiveDate, f64, String)> = from_json(&days)?;
                let mut points = days
                    .into_iter()
                    .map(|(as_of, value, status)| {
                        Ok(SignalPoint {
                            as_of,
                            value,
                            status: parse_enum::<SignalStatus>(&status, "signal status")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                points.sort_by_key(|p| p.as_of);
                *slot = points;
            }
        }
        Ok(out)
    }

    async fn insert_alert(&mut self, a: &Alert) -> Result<()> {
        sqlx::query("INSERT INTO alerts (id, signal, subject_kind, subject, addressed_to, state, opened_at, closed_at, closed_reason, value, evidence, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(a.id.0)
            .bind(a.signal.as_str())
            .bind(a.subject_kind.as_str())
            .bind(a.subject.as_str())
            .bind(json(&a.addressed_to)?)
            .bind(a.state.as_str())
            .bind(micros(a.opened_at))
            .bind(a.closed_at.map(micros))
            .bind(a.closed_reason.as_deref())
            .bind(a.value)
            .bind(json(&a.evidence)?)
            .bind(now())
            .execute(self.conn().await?)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "an alert for {} on {} {} is already open",
                    a.signal, a.subject_kind, a.subject
                )),
                other => other,
            })?;
        Ok(())
    }

    async fn update_alert(&mut self, a: &Alert) -> Result<()> {
        let done = sqlx::query("UPDATE alerts SET addressed_to = $2, state = $3, closed_at = $4, closed_reason = $5, value = $6, evidence = $7, updated_at = $8 WHERE id = $1 RETURNING 1 AS affected")
            .bind(a.id.0)
            .bind(json(&a.addressed_to)?)
            .bind(a.state.as_str())
            .bind(a.closed_at.map(micros))
            .bind(a.closed_reason.as_deref())
            .bind(a.value)
            .bind(json(&a.evidence)?)
            .bind(now())
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            return Err(StoreError::not_found("alert", a.id));
        }
        Ok(())
    }

    async fn get_alert(&mut self, id: AlertId) -> Result<Alert> {
        let row = sqlx::query("SELECT id, signal, subject_kind, subject, addressed_to, state, opened_at, closed_at, closed_reason, value, evidence FROM alerts WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("alert", id))?;
        alert(&row)
    }

    async fn open_alert_for(&mut self, signal: &str, subject_kind: &str, subject: &str) -> Result<Option<Alert>> {
        let row = sqlx::query("SELECT id, signal, subject_kind, subject, addressed_to, state, opened_at, closed_at, closed_reason, value, evidence FROM alerts WHERE signal = $1 AND subject_kind = $2 AND subject = $3 AND state <> 'closed'")
            .bind(signal)
            .bind(subject_kind)
            .bind(subject)
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(alert).transpose()
    }

    async fn list_alerts(&mut self, include_closed: bool, addressed_to: Option<PersonId>, page: &PageRequest) -> Result<Page<Alert>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {ALERT_COLS} FROM alerts WHERE 1 = 1"));
        if !include_closed {
            q.push(" AND state <> 'closed'");
        }
        if let Some(p) = addressed_to {
            // addressed_to is a JSON array of ids; a LIKE on the text is
            // exact enough for UUIDs and portable across engines.
            q.push(" AND addressed_to LIKE ").push_bind(format!("%{}%", p.0));
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(alert).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |a| encode_cursor(&a.id.0.to_string())))
    }

    async fn insert_review(&mut self, r: &Review) -> Result<()> {
        sqlx::query("INSERT INTO reviews (id, attendees, agenda, notes, outcome, playbook_version, opened_by, opened_at, closed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(r.id.0)
            .bind(json(&r.attendees)?)
            .bind(r.agenda.as_str())
            .bind(r.notes.as_str())
            .bind(r.outcome.map(|o| o.as_str()))
            .bind(r.playbook_version)
            .bind(r.opened_by.0)
            .bind(micros(r.opened_at))
            .bind(r.closed_at.map(micros))
            .bind(now())
            .execute(self.conn().await?)
            .await?;
        for a in &r.alerts {
            sqlx::query("INSERT INTO review_alerts (review_id, alert_id) VALUES ($1, $2)")
                .bind(r.id.0)
                .bind(a.0)
                .execute(self.conn().await?)
                .await?;
        }
        Ok(())
    }

    async fn update_review(&mut self, r: &Review) -> Result<()> {
        let done = sqlx::query("UPDATE reviews SET attendees = $2, agenda = $3, notes = $4, outcome = $5, playbook_version = $6, closed_at = $7, updated_at = $8 WHERE id = $1 RETURNING 1 AS affected")
            .bind(r.id.0)
            .bind(json(&r.attendees)?)
            .bind(r.agenda.as_str())
            .bind(r.notes.as_str())
            .bind(r.outcome.map(|o| o.as_str()))
            .bind(r.playbook_version)
            .bind(r.closed_at.map(micros))
            .bind(now())
            .fetch_optional(self.conn().await?)
            .await?;
        if done.is_none() {
            return Err(StoreError::not_found("review", r.id));
        }
        Ok(())
    }

    async fn get_review(&mut self, id: ReviewId) -> Result<Review> {
        let row = sqlx::query("SELECT id, attendees, agenda, notes, outcome, playbook_version, opened_by, opened_at, closed_at FROM reviews WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("review", id))?;
        let mut r = review(&row)?;
        let rows = sqlx::query("SELECT alert_id FROM review_alerts WHERE review_id = $1 ORDER BY alert_id")
            .bind(id.0)
            .fetch_all(self.conn().await?)
            .await?;
        r.alerts = rows.iter().map(|x| Ok(AlertId(x.uuid("alert_id")?))).collect::<Result<Vec<_>>>()?;
        Ok(r)
    }

    async fn list_reviews(&mut self, page: &PageRequest) -> Result<Page<Review>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {REVIEW_COLS} FROM reviews WHERE 1 = 1"));
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let ids = rows.iter().map(|r| r.uuid("id")).collect::<Result<Vec<_>>>()?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            items.push(self.get_review(ReviewId(id)).await?);
        }
        Ok(page_of(items, limit, |r| encode_cursor(&r.id.0.to_string())))
    }
});
/// Decisions and matched rules, together, that `insert_decisions` defers
/// rather than sending in bulk.
const SMALL: usize = 16;

/// A bulk statement of `insert_decisions`.
enum Job<'a> {
    Decisions(&'a [(&'a DecisionRecord, String)]),
    Rules(&'a [(&'a DecisionRecord, &'a RuleMatch)]),
}
