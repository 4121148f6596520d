-- secops schema, SQLite. The same tables as PostgreSQL; tenancy is enforced by the store filtering every query
-- on organization_id, and the audit log is made append-only by triggers.

CREATE TABLE organizations (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE);

CREATE TABLE memberships (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    token_hash BLOB NOT NULL UNIQUE,
    invited_by BLOB,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL,
    scopes TEXT NOT NULL,
    created_by BLOB,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE refresh_tokens (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    replaced_by BLOB,
    created_at TEXT NOT NULL
);

CREATE TABLE agents (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    model TEXT,
    config TEXT NOT NULL,
    tools TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    active_prompt_version INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (organization_id, name),
    UNIQUE (organization_id, id)
);

CREATE TABLE agent_prompt_versions (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id BLOB NOT NULL,
    number INTEGER NOT NULL,
    body TEXT NOT NULL,
    author_id BLOB,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (agent_id, number),
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE agent_runs (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id BLOB NOT NULL,
    status TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    prompt_version INTEGER,
    input TEXT NOT NULL,
    output TEXT,
    stop_reason TEXT,
    usage TEXT NOT NULL,
    cost_usd REAL NOT NULL DEFAULT 0,
    state TEXT,
    started_at TEXT,
    finished_at TEXT,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (organization_id, id),
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_runs_org_id ON agent_runs (organization_id, id DESC);
CREATE INDEX agent_runs_agent ON agent_runs (organization_id, agent_id, id DESC);

CREATE TABLE run_events (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    run_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq),
    FOREIGN KEY (organization_id, run_id) REFERENCES agent_runs (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE agent_triggers (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('manual', 'schedule', 'detection')),
    cron TEXT,
    filter TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE chats (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id BLOB REFERENCES agents(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    created_by BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (organization_id, id)
);

CREATE TABLE chat_messages (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    chat_id BLOB NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    run_id BLOB,
    created_at TEXT NOT NULL,
    FOREIGN KEY (organization_id, chat_id) REFERENCES chats (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX chat_messages_chat ON chat_messages (organization_id, chat_id, id);

CREATE TABLE attachments (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    chat_id BLOB,
    message_id BLOB,
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 BLOB NOT NULL,
    storage_key TEXT NOT NULL,
    created_by BLOB,
    created_at TEXT NOT NULL,
    FOREIGN KEY (organization_id, chat_id) REFERENCES chats (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE feedback (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('message', 'run')),
    target_id BLOB NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL,
    author_id BLOB,
    created_at TEXT NOT NULL
);

CREATE TABLE tool_configs (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL,
    credentials BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (organization_id, name)
);

CREATE TABLE documents (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (organization_id, id)
);

CREATE TABLE chunks (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    document_id BLOB NOT NULL,
    ordinal INTEGER NOT NULL,
    TEXT TEXT NOT NULL,
    metadata TEXT NOT NULL,
    dims INTEGER NOT NULL,
    embedding BLOB NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE
);
-- pgvector's HNSW needs a fixed dimension: one partial index per common embedding size.
CREATE INDEX chunks_document ON chunks (organization_id, document_id, ordinal);

CREATE TABLE detection_rules (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    rule_uid TEXT NOT NULL,
    title TEXT NOT NULL,
    source_yaml TEXT NOT NULL,
    status TEXT NOT NULL,
    level TEXT NOT NULL,
    author TEXT NOT NULL,
    tags TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (organization_id, rule_uid),
    UNIQUE (organization_id, id)
);

CREATE TABLE detections (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    rule_id BLOB REFERENCES detection_rules(id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('new', 'triaging', 'true_positive', 'false_positive', 'closed')),
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    event TEXT NOT NULL,
    assignee_id BLOB,
    notes TEXT NOT NULL,
    run_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE audit_events (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BLOB,
    action TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_id TEXT,
    ip TEXT,
    user_agent TEXT,
    context TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL,
    UNIQUE (organization_id, seq)
);
CREATE INDEX audit_events_org_time ON audit_events (organization_id, occurred_at DESC);

CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='rowid');
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text);
END;

-- The audit log is append-only.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER run_events_no_update BEFORE UPDATE ON run_events BEGIN
    SELECT RAISE(ABORT, 'run_events is append-only');
END;
