//! The run queue: runs waiting for a worker or held by one under a lease, and the change notifications that
//! let workers and event streams in other processes wake without polling (PostgreSQL `LISTEN`/`NOTIFY`).
//!
//! A worker claims runs through [`SystemPath::claim_runs`], renews its leases while it drives them
//! ([`SystemPath::renew_leases`], which also reports cancellations requested elsewhere), and removes a run
//! from the queue when it pauses or ends ([`TenantTx::dequeue_run`]). A lease that lapses means its worker is
//! gone: the next claim picks the run up again and resumes it from its last saved state.

use std::time::Duration;

use secops_core::tenancy::{OrgId, RunId};
use uuid::Uuid;

use crate::db::{Inner, Pool, Store, SystemPath, TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};

/// `NOTIFY` channel: a run was queued without a holder (payload empty).
pub const QUEUE_CHANNEL: &str = "secops_run_queue";
/// `NOTIFY` channel: events of a run were stored (payload: the run id).
pub const EVENTS_CHANNEL: &str = "secops_run_events";

/// A run a worker has claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedRun {
    /// Its organisation (open a tenant transaction with it).
    pub org: OrgId,
    /// The run.
    pub run: RunId,
}

/// A queued run as the API sees it, e.g. before cancelling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The worker holding it, if any holds a live lease.
    pub holder: Option<String>,
}

/// A run whose holder was asked to cancel it, reported when the holder renews its leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRenewal {
    /// The run.
    pub run: RunId,
    /// Whether somebody asked to cancel it.
    pub cancel_requested: bool,
}

fn epoch_ms(offset: Duration) -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    now.saturating_add(i64::try_from(offset.as_millis()).unwrap_or(i64::MAX))
}

impl TenantTx {
    /// Puts a created run in the queue. With `holder`, the run is claimed at once by that worker for `lease`
    /// (a process that drives the run itself); without, any worker may claim it, and on PostgreSQL idle workers
    /// are woken when this transaction commits.
    pub async fn enqueue_run(
        &mut self,
        run: RunId,
        holder: Option<&str>,
        lease: Duration,
    ) -> StoreResult<()> {
        let org = self.org;
        let lease_until = if holder.is_some() { epoch_ms(lease) } else { 0 };
        on_tx_guarded!(self, c => sqlx::query(
            "INSERT INTO run_queue (run_id, organization_id, enqueued_at_ms, worker, lease_until_ms, cancel_requested)
             VALUES ($1, $2, $3, $4, $5, false)
             ON CONFLICT (run_id) DO UPDATE SET worker = $4, lease_until_ms = $5, cancel_requested = false")
            .bind(run.as_uuid()).bind(org.as_uuid()).bind(epoch_ms(Duration::ZERO)).bind(holder).bind(lease_until)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if holder.is_none() {
            self.notify(QUEUE_CHANNEL, "").await?;
        }
        Ok(())
    }

    /// Takes a run out of the queue (it paused for approval or ended). Not an error if it was not queued.
    pub async fn dequeue_run(&mut self, run: RunId) -> StoreResult<()> {
        let org = self.org;
        on_tx!(self, c => sqlx::query("DELETE FROM run_queue WHERE organization_id = $1 AND run_id = $2")
            .bind(org.as_uuid()).bind(run.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Asks the worker holding `run` to cancel it. `None` if the run is not queued; otherwise who holds it
    /// (`holder: None` means nobody does yet, so the caller may end the run itself).
    pub async fn request_run_cancel(&mut self, run: RunId) -> StoreResult<Option<QueueEntry>> {
        let org = self.org;
        let row: Option<(Option<String>, i64)> = on_tx!(self, c => sqlx::query_as(
            "UPDATE run_queue SET cancel_requested = true WHERE organization_id = $1 AND run_id = $2
             RETURNING worker, lease_until_ms")
            .bind(org.as_uuid()).bind(run.as_uuid()).fetch_optional(c).await)?;
        let now = epoch_ms(Duration::ZERO);
        Ok(row.map(|(worker, lease_until)| QueueEntry {
            holder: worker.filter(|_| lease_until > now),
        }))
    }

    /// Removes events of `run` from sequence number `from` on: what a worker that lost its lease wrote after
    /// the state the run now resumes from.
    pub async fn discard_run_events_from(&mut self, run: RunId, from: i64) -> StoreResult<u64> {
        let org = self.org;
        let removed = on_tx!(self, c => sqlx::query(
            "DELETE FROM run_events WHERE organization_id = $1 AND run_id = $2 AND seq >= $3")
            .bind(org.as_uuid()).bind(run.as_uuid()).bind(from).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(removed)
    }

    /// Tells listeners in other processes that events of `run` were stored (PostgreSQL; delivered on commit).
    pub(crate) async fn notify_run_events(&mut self, run: RunId) -> StoreResult<()> {
        self.notify(EVENTS_CHANNEL, &run.to_string()).await
    }

    async fn notify(&mut self, channel: &str, payload: &str) -> StoreResult<()> {
        if let Inner::Postgres(tx) = &mut self.inner {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

impl SystemPath<'_> {
    async fn begin_worker(&self, worker: &str) -> StoreResult<TenantTx> {
        if worker.is_empty() || worker.len() > 200 {
            return Err(StoreError::InvalidInput(
                "a worker id must be 1 to 200 bytes".into(),
            ));
        }
        self.begin_lookup("app.run_queue_worker", worker).await
    }

    /// Claims up to `limit` runs nobody holds (queued, or whose holder's lease lapsed), oldest first, for
    /// `worker` until `lease` from now. Concurrent workers never claim the same run.
    pub async fn claim_runs(
        &self,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedRun>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_worker(worker).await?;
        let now = epoch_ms(Duration::ZERO);
        // SKIP LOCKED: PostgreSQL workers racing for the same rows each take different ones instead of
        // waiting. SQLite serialises writers, so its sub-select and update see the same rows anyway.
        let skip_locked = match tx.inner {
            Inner::Postgres(_) => "FOR UPDATE SKIP LOCKED",
            Inner::Sqlite(_) => "",
        };
        let rows: Vec<(Uuid, Uuid)> = on_tx!(tx, c => sqlx::query_as(fsql!(
            "UPDATE run_queue SET worker = $1, lease_until_ms = $2, cancel_requested = false
             WHERE run_id IN (SELECT run_id FROM run_queue WHERE lease_until_ms < $3
                              ORDER BY enqueued_at_ms LIMIT $4 {skip_locked})
             RETURNING run_id, organization_id"))
            .bind(worker).bind(epoch_ms(lease)).bind(now).bind(i64::from(limit)).fetch_all(c).await)?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(run, org)| ClaimedRun {
                org: OrgId::from_uuid(org),
                run: RunId::from_uuid(run),
            })
            .collect())
    }

    /// Extends every lease `worker` holds to `lease` from now, and says which of its runs were asked to
    /// cancel.
    pub async fn renew_leases(&self, worker: &str, lease: Duration) -> StoreResult<Vec<LeaseRenewal>> {
        let mut tx = self.begin_worker(worker).await?;
        let rows: Vec<(Uuid, bool)> = on_tx!(tx, c => sqlx::query_as(
            "UPDATE run_queue SET lease_until_ms = $2 WHERE worker = $1 RETURNING run_id, cancel_requested")
            .bind(worker).bind(epoch_ms(lease)).fetch_all(c).await)?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(run, cancel_requested)| LeaseRenewal {
                run: RunId::from_uuid(run),
                cancel_requested,
            })
            .collect())
    }

    /// Gives up `runs` held by `worker` (it is shutting down before they ended), so that another worker
    /// resumes them at once instead of after the lease lapses.
    pub async fn release_runs(&self, worker: &str, runs: &[RunId]) -> StoreResult<()> {
        let mut tx = self.begin_worker(worker).await?;
        for run in runs {
            on_tx!(tx, c => sqlx::query(
                "UPDATE run_queue SET worker = NULL, lease_until_ms = 0 WHERE worker = $1 AND run_id = $2")
                .bind(worker).bind(run.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await
    }
}

/// Change notifications from other processes (PostgreSQL `LISTEN`). On SQLite there is none: everything that
/// changes the database runs in processes that poll it.
pub struct ChangeListener {
    inner: sqlx::postgres::PgListener,
}

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeListener").finish_non_exhaustive()
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A run was queued for any worker.
    RunQueued,
    /// Events of this run were stored.
    RunEvents(RunId),
}

impl ChangeListener {
    /// The next change. After a lost connection the listener reconnects by itself; changes made meanwhile are
    /// missed, so callers keep a slow poll as a safety net.
    pub async fn recv(&mut self) -> StoreResult<Change> {
        loop {
            let n = self.inner.recv().await?;
            match n.channel() {
                QUEUE_CHANNEL => return Ok(Change::RunQueued),
                EVENTS_CHANNEL => {
                    if let Ok(id) = n.payload().parse::<Uuid>() {
                        return Ok(Change::RunEvents(RunId::from_uuid(id)));
                    }
                }
                _ => {}
            }
        }
    }
}

impl Store {
    /// Listens for queue and run-event changes made by any process (PostgreSQL); `None` on SQLite.
    pub async fn listen(&self) -> StoreResult<Option<ChangeListener>> {
        match &self.pool {
            Pool::Sqlite(_) => Ok(None),
            Pool::Postgres(pool) => {
                let mut inner = sqlx::postgres::PgListener::connect_with(pool).await?;
                inner.listen_all([QUEUE_CHANNEL, EVENTS_CHANNEL]).await?;
                Ok(Some(ChangeListener { inner }))
            }
        }
    }
}
