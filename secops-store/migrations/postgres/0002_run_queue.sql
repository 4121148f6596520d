-- Runs waiting for a worker or held by one. The queue holds only ids, so a worker can find work in every
-- organisation without reading tenant data; it then opens a tenant transaction for the run itself.
-- A worker holds a run under a lease it renews; a lease that lapses (the worker died) lets another worker
-- resume the run from its last saved state. Times are epoch milliseconds so both dialects compare numbers.
CREATE TABLE run_queue (
    run_id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    enqueued_at_ms bigint NOT NULL,
    worker text,
    lease_until_ms bigint NOT NULL DEFAULT 0,
    cancel_requested boolean NOT NULL DEFAULT false,
    FOREIGN KEY (organization_id, run_id) REFERENCES agent_runs (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX run_queue_claimable ON run_queue (lease_until_ms, enqueued_at_ms);
CREATE INDEX run_queue_worker ON run_queue (worker);

ALTER TABLE run_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_queue FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON run_queue
    USING (organization_id = NULLIF(current_setting('app.org_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.org_id', true), '')::uuid);
-- The worker path: a transaction that names its worker sees the queue's ids across organisations, and nothing
-- else (every other table keeps its tenant policy).
CREATE POLICY system_run_queue_worker ON run_queue
    USING (NULLIF(current_setting('app.run_queue_worker', true), '') IS NOT NULL);
