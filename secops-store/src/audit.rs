//! The audit log: append-only and hash-chained per organisation, so a changed or removed row is detectable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::{Dialect, TenantTx, fsql, on_tx};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It happened.
    Success,
    /// It failed.
    Failure,
    /// It was not allowed.
    Denied,
}

impl AuditOutcome {
    fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
            AuditOutcome::Denied => "denied",
        }
    }
}

/// An action to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    /// `user`, `api_key` or `system`.
    pub actor_kind: String,
    /// The user or key id.
    pub actor_id: Option<Uuid>,
    /// What was done, e.g. `agent.update` or `auth.login`.
    pub action: String,
    /// What it was done to, e.g. `agent`.
    pub resource_kind: String,
    /// Its id.
    pub resource_id: Option<String>,
    /// Client IP address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Other ids and details (never secrets).
    pub context: serde_json::Value,
    /// How it ended.
    pub outcome: AuditOutcome,
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Its id.
    pub id: Uuid,
    /// Position in the organisation's chain, from 1.
    pub seq: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The recorded action.
    #[serde(flatten)]
    pub event: NewAuditEvent,
    /// The previous event's hash (hex; 64 zeros for the first).
    pub prev_hash: String,
    /// This event's hash (hex).
    pub hash: String,
}

/// Filters for searching the audit log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor_id: Option<Uuid>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this resource kind.
    pub resource_kind: Option<String>,
    /// Only this resource.
    pub resource_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<AuditOutcome>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

/// The result of checking an organisation's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainVerification {
    /// Events checked.
    pub checked: u64,
    /// The first event that does not fit the chain, if any.
    pub first_broken: Option<BrokenLink>,
}

/// Where and how a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    /// The event's id.
    pub id: Uuid,
    /// Its sequence number.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Uuid,
    seq: i64,
    occurred_at: DateTime<Utc>,
    actor_kind: String,
    actor_id: Option<Uuid>,
    action: String,
    resource_kind: String,
    resource_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    context: Json<serde_json::Value>,
    outcome: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl AuditRow {
    fn event(&self) -> StoreResult<NewAuditEvent> {
        let outcome = match self.outcome.as_str() {
            "success" => AuditOutcome::Success,
            "failure" => AuditOutcome::Failure,
            "denied" => AuditOutcome::Denied,
            other => {
                return Err(StoreError::Database(format!(
                    "stored outcome `{other}` is unknown"
                )));
            }
        };
        Ok(NewAuditEvent {
            actor_kind: self.actor_kind.clone(),
            actor_id: self.actor_id,
            action: self.action.clone(),
            resource_kind: self.resource_kind.clone(),
            resource_id: self.resource_id.clone(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            context: self.context.0.clone(),
            outcome,
        })
    }

    fn into_event(self) -> StoreResult<AuditEvent> {
        Ok(AuditEvent {
            event: self.event()?,
            id: self.id,
            seq: self.seq,
            occurred_at: self.occurred_at,
            prev_hash: hex::encode(&self.prev_hash),
            hash: hex::encode(&self.hash),
        })
    }
}

/// Events per INSERT on PostgreSQL. Statements stay under sqlx's 8 KiB write buffer: sqlx 0.9.0 does not set
/// TCP_NODELAY (transact-rs/sqlx#4335), and larger writes over TCP stall on Nagle plus delayed ACKs.
const PG_AUDIT_CHUNK: usize = 20;

const AUDIT_COLUMNS: &str = "id, seq, occurred_at, actor_kind, actor_id, action, resource_kind, resource_id, ip, \
                             user_agent, context, outcome, prev_hash, hash";

/// The hash of one event: SHA-256 over the previous hash and a canonical JSON of every stored field, so
/// changing any field, reordering or deleting events breaks the chain.
fn event_hash(
    org: Uuid,
    id: Uuid,
    seq: i64,
    at: &DateTime<Utc>,
    e: &NewAuditEvent,
    prev: &[u8],
) -> StoreResult<Vec<u8>> {
    let canonical = serde_json::to_vec(&serde_json::json!([
        org.to_string(),
        id.to_string(),
        seq,
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.actor_kind,
        e.actor_id.map(|a| a.to_string()),
        e.action,
        e.resource_kind,
        e.resource_id,
        e.ip,
        e.user_agent,
        e.context,
        e.outcome.as_str(),
    ]))
    .map_err(|err| StoreError::InvalidInput(err.to_string()))?;
    let mut h = Sha256::new();
    h.update(prev);
    h.update(&canonical);
    Ok(h.finalize().to_vec())
}

impl TenantTx {
    /// Appends one event to the organisation's chain.
    pub async fn append_audit(&mut self, event: NewAuditEvent) -> StoreResult<AuditEvent> {
        let mut out = self.append_audit_batch(vec![event]).await?;
        out.pop()
            .ok_or(StoreError::Database("append returned nothing".into()))
    }

    /// Appends events in order, in this transaction (batching makes high write rates cheap).
    pub async fn append_audit_batch(&mut self, events: Vec<NewAuditEvent>) -> StoreResult<Vec<AuditEvent>> {
        let org = self.org;
        if self.dialect() == Dialect::Postgres {
            // One writer per organisation's chain at a time; other organisations are not blocked.
            on_tx!(self, c => sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
                .bind(org.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let last: Option<(i64, Vec<u8>)> = on_tx!(self, c => sqlx::query_as(
            "SELECT seq, hash FROM audit_events WHERE organization_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(org.as_uuid()).fetch_optional(c).await)?;
        let (mut seq, mut prev) = last.unwrap_or((0, vec![0u8; 32]));
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            if e.action.is_empty() || e.action.len() > 200 {
                return Err(StoreError::InvalidInput(
                    "the action must be 1 to 200 characters".into(),
                ));
            }
            seq += 1;
            let id = Uuid::now_v7();
            let at = now();
            let hash = event_hash(*org.as_uuid(), id, seq, &at, &e, &prev)?;
            out.push((
                AuditEvent {
                    id,
                    seq,
                    occurred_at: at,
                    event: e,
                    prev_hash: hex::encode(&prev),
                    hash: hex::encode(&hash),
                },
                prev,
                hash.clone(),
            ));
            prev = hash;
        }
        // One statement per batch: arrays through UNNEST on PostgreSQL (one round trip, one plan whatever the
        // batch size), multi-row VALUES on SQLite.
        match &mut self.inner {
            crate::db::Inner::Postgres(tx) => {
                for chunk in out.chunks(PG_AUDIT_CHUNK) {
                    let events: Vec<&AuditEvent> = chunk.iter().map(|(a, _, _)| a).collect();
                    sqlx::query(
                    "INSERT INTO audit_events (organization_id, id, seq, occurred_at, actor_kind, actor_id, action,
                         resource_kind, resource_id, ip, user_agent, context, outcome, prev_hash, hash)
                     SELECT $1, * FROM UNNEST($2::uuid[], $3::int8[], $4::timestamptz[], $5::text[], $6::uuid[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::text[], $14::bytea[], $15::bytea[])",
                )
                .bind(*org.as_uuid())
                .bind(events.iter().map(|a| a.id).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.seq).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.occurred_at).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.actor_kind.clone()).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.actor_id).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.action.clone()).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.resource_kind.clone()).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.resource_id.clone()).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.ip.clone()).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.user_agent.clone()).collect::<Vec<_>>())
                .bind(events.iter().map(|a| Json(a.event.context.clone())).collect::<Vec<_>>())
                .bind(events.iter().map(|a| a.event.outcome.as_str()).collect::<Vec<_>>())
                .bind(chunk.iter().map(|(_, prev, _)| prev.clone()).collect::<Vec<_>>())
                .bind(chunk.iter().map(|(_, _, hash)| hash.clone()).collect::<Vec<_>>())
                .execute(&mut **tx)
                .await?;
                }
            }
            crate::db::Inner::Sqlite(tx) => {
                for batch in out.chunks(500) {
                    let mut q = sqlx::QueryBuilder::new(format!(
                        "INSERT INTO audit_events (organization_id, {AUDIT_COLUMNS}) "
                    ));
                    q.push_values(batch, |mut row, (a, prev, hash)| {
                        let e = &a.event;
                        row.push_bind(*org.as_uuid())
                            .push_bind(a.id)
                            .push_bind(a.seq)
                            .push_bind(a.occurred_at)
                            .push_bind(e.actor_kind.clone())
                            .push_bind(e.actor_id)
                            .push_bind(e.action.clone())
                            .push_bind(e.resource_kind.clone())
                            .push_bind(e.resource_id.clone())
                            .push_bind(e.ip.clone())
                            .push_bind(e.user_agent.clone())
                            .push_bind(Json(e.context.clone()))
                            .push_bind(e.outcome.as_str())
                            .push_bind(prev.clone())
                            .push_bind(hash.clone());
                    });
                    q.build().execute(&mut **tx).await?;
                }
            }
        }
        Ok(out.into_iter().map(|(a, _, _)| a).collect())
    }

    /// Events matching `filter`, newest first.
    pub async fn audit_events(
        &mut self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEvent>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<AuditRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events
             WHERE organization_id = $1 AND id < $2
               AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR resource_kind = $5)
               AND ($6 IS NULL OR resource_id = $6) AND ($7 IS NULL OR outcome = $7)
               AND ($8 IS NULL OR occurred_at >= $8) AND ($9 IS NULL OR occurred_at < $9)
             ORDER BY id DESC LIMIT $10"))
            .bind(org.as_uuid()).bind(before).bind(filter.actor_id).bind(filter.action.as_deref())
            .bind(filter.resource_kind.as_deref()).bind(filter.resource_id.as_deref()).bind(filter.outcome.map(AuditOutcome::as_str))
            .bind(filter.since).bind(filter.until).bind(limit + 1).fetch_all(c).await)?;
        let rows = rows
            .into_iter()
            .map(AuditRow::into_event)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |e| e.id))
    }

    /// Writes every event matching `filter`, oldest first, as one JSON object per line.
    pub async fn export_audit_ndjson(
        &mut self,
        filter: &AuditFilter,
        out: &mut impl std::io::Write,
    ) -> StoreResult<u64> {
        let mut all = Vec::new();
        let mut page = PageRequest::first(200);
        loop {
            let p = self.audit_events(filter, &page).await?;
            all.extend(p.items);
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        let mut written = 0;
        for e in all.iter().rev() {
            serde_json::to_writer(&mut *out, e).map_err(|err| StoreError::Database(err.to_string()))?;
            out.write_all(b"\n")
                .map_err(|err| StoreError::Database(err.to_string()))?;
            written += 1;
        }
        Ok(written)
    }

    /// Recomputes the organisation's chain and reports the first event that does not fit.
    pub async fn verify_audit_chain(&mut self) -> StoreResult<ChainVerification> {
        let org = self.org;
        let mut prev = vec![0u8; 32];
        let mut expected_seq = 1i64;
        let mut after = 0i64;
        let mut checked = 0u64;
        loop {
            let rows: Vec<AuditRow> = on_tx!(self, c => sqlx::query_as(fsql!(
                "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT 1000"))
                .bind(org.as_uuid()).bind(after).fetch_all(c).await)?;
            if rows.is_empty() {
                return Ok(ChainVerification {
                    checked,
                    first_broken: None,
                });
            }
            for row in rows {
                let broken = |reason: String| {
                    Ok(ChainVerification {
                        checked,
                        first_broken: Some(BrokenLink {
                            id: row.id,
                            seq: row.seq,
                            reason,
                        }),
                    })
                };
                if row.seq != expected_seq {
                    return broken(format!(
                        "expected sequence number {expected_seq}, found {} (an event is missing)",
                        row.seq
                    ));
                }
                if row.prev_hash != prev {
                    return broken("its previous-hash does not match the event before it".into());
                }
                let recomputed = event_hash(
                    *org.as_uuid(),
                    row.id,
                    row.seq,
                    &row.occurred_at,
                    &row.event()?,
                    &prev,
                )?;
                if recomputed != row.hash {
                    return broken("its content does not match its hash (the row was changed)".into());
                }
                prev = row.hash.clone();
                after = row.seq;
                expected_seq += 1;
                checked += 1;
            }
        }
    }
}
