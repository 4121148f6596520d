-- Runs waiting for a worker or held by one (see the PostgreSQL migration for the design). Times are epoch
-- milliseconds.
CREATE TABLE run_queue (
    run_id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    enqueued_at_ms INTEGER NOT NULL,
    worker TEXT,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (organization_id, run_id) REFERENCES agent_runs (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX run_queue_claimable ON run_queue (lease_until_ms, enqueued_at_ms);
CREATE INDEX run_queue_worker ON run_queue (worker);
