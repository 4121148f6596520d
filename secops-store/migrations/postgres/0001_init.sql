-- secops schema, PostgreSQL. Every tenant table carries organization_id and is protected by row-level security
-- keyed on the transaction-local setting app.org_id (set by the store's tenant transaction).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE organizations (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    slug text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    display_name text NOT NULL,
    password_hash text,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE memberships (
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    created_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    token_hash bytea NOT NULL UNIQUE,
    invited_by uuid,
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name text NOT NULL,
    prefix text NOT NULL UNIQUE,
    secret_hash bytea NOT NULL,
    scopes jsonb NOT NULL,
    created_by uuid,
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz,
    created_at timestamptz NOT NULL
);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    replaced_by uuid,
    created_at timestamptz NOT NULL
);

CREATE TABLE agents (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name text NOT NULL,
    description text NOT NULL,
    model text,
    config jsonb NOT NULL,
    tools jsonb NOT NULL,
    enabled boolean NOT NULL,
    active_prompt_version integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    UNIQUE (organization_id, name),
    UNIQUE (organization_id, id)
);

CREATE TABLE agent_prompt_versions (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id uuid NOT NULL,
    number integer NOT NULL,
    body text NOT NULL,
    author_id uuid,
    note text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (agent_id, number),
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE agent_runs (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id uuid NOT NULL,
    status text NOT NULL,
    trigger_kind text NOT NULL,
    prompt_version integer,
    input jsonb NOT NULL,
    output jsonb,
    stop_reason text,
    usage jsonb NOT NULL,
    cost_usd double precision NOT NULL DEFAULT 0,
    state jsonb,
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    UNIQUE (organization_id, id),
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_runs_org_id ON agent_runs (organization_id, id DESC);
CREATE INDEX agent_runs_agent ON agent_runs (organization_id, agent_id, id DESC);

CREATE TABLE run_events (
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    run_id uuid NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, seq),
    FOREIGN KEY (organization_id, run_id) REFERENCES agent_runs (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE agent_triggers (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('manual', 'schedule', 'detection')),
    cron text,
    filter jsonb NOT NULL,
    enabled boolean NOT NULL,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    FOREIGN KEY (organization_id, agent_id) REFERENCES agents (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE chats (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    agent_id uuid REFERENCES agents(id) ON DELETE SET NULL,
    title text NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    UNIQUE (organization_id, id)
);

CREATE TABLE chat_messages (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    chat_id uuid NOT NULL,
    role text NOT NULL,
    content jsonb NOT NULL,
    run_id uuid,
    created_at timestamptz NOT NULL,
    FOREIGN KEY (organization_id, chat_id) REFERENCES chats (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX chat_messages_chat ON chat_messages (organization_id, chat_id, id);

CREATE TABLE attachments (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    chat_id uuid,
    message_id uuid,
    file_name text NOT NULL,
    media_type text NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 bytea NOT NULL,
    storage_key text NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    FOREIGN KEY (organization_id, chat_id) REFERENCES chats (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE feedback (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    target_kind text NOT NULL CHECK (target_kind IN ('message', 'run')),
    target_id uuid NOT NULL,
    rating smallint NOT NULL CHECK (rating IN (-1, 1)),
    comment text NOT NULL,
    author_id uuid,
    created_at timestamptz NOT NULL
);

CREATE TABLE tool_configs (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name text NOT NULL,
    kind text NOT NULL,
    settings jsonb NOT NULL,
    credentials bytea,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    UNIQUE (organization_id, name)
);

CREATE TABLE documents (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title text NOT NULL,
    source text NOT NULL,
    metadata jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (organization_id, id)
);

CREATE TABLE chunks (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    document_id uuid NOT NULL,
    ordinal integer NOT NULL,
    text text NOT NULL,
    metadata jsonb NOT NULL,
    dims integer NOT NULL,
    embedding vector NOT NULL,
    search tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    created_at timestamptz NOT NULL,
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE
);
-- pgvector's HNSW needs a fixed dimension: one partial index per common embedding size.
CREATE INDEX chunks_embedding_384 ON chunks USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dims = 384;
CREATE INDEX chunks_embedding_768 ON chunks USING hnsw ((embedding::vector(768)) vector_cosine_ops) WHERE dims = 768;
CREATE INDEX chunks_embedding_1536 ON chunks USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE dims = 1536;
CREATE INDEX chunks_search ON chunks USING gin (search);
CREATE INDEX chunks_document ON chunks (organization_id, document_id, ordinal);

CREATE TABLE detection_rules (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    rule_uid text NOT NULL,
    title text NOT NULL,
    source_yaml text NOT NULL,
    status text NOT NULL,
    level text NOT NULL,
    author text NOT NULL,
    tags jsonb NOT NULL,
    enabled boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    UNIQUE (organization_id, rule_uid),
    UNIQUE (organization_id, id)
);

CREATE TABLE detections (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    rule_id uuid REFERENCES detection_rules(id) ON DELETE SET NULL,
    status text NOT NULL CHECK (status IN ('new', 'triaging', 'true_positive', 'false_positive', 'closed')),
    level text NOT NULL,
    title text NOT NULL,
    event jsonb NOT NULL,
    assignee_id uuid,
    notes jsonb NOT NULL,
    run_id uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1
);

CREATE TABLE audit_events (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_kind text NOT NULL,
    actor_id uuid,
    action text NOT NULL,
    resource_kind text NOT NULL,
    resource_id text,
    ip text,
    user_agent text,
    context jsonb NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    UNIQUE (organization_id, seq)
);
CREATE INDEX audit_events_org_time ON audit_events (organization_id, occurred_at DESC);

-- Row-level security on every tenant table, forced for the table owner as well.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['memberships', 'invitations', 'api_keys', 'refresh_tokens', 'agents',
        'agent_prompt_versions', 'agent_runs', 'run_events', 'agent_triggers', 'chats', 'chat_messages',
        'attachments', 'feedback', 'tool_configs', 'documents', 'chunks', 'detection_rules', 'detections',
        'audit_events']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (organization_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid) WITH CHECK (organization_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid)', t);
    END LOOP;
END $$;
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations
    USING (id = NULLIF(current_setting('app.org_id', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.org_id', true), '')::uuid);

-- The narrow system path: look-ups that come before an organisation is known. Each policy shows only the rows
-- that match the exact key the caller presents, through a transaction-local setting the store's SystemTx sets.
CREATE POLICY system_user_memberships ON memberships FOR SELECT
    USING (user_id = NULLIF(current_setting('app.lookup_user_id', true), '')::uuid);
CREATE POLICY system_user_organizations ON organizations FOR SELECT
    USING (id IN (SELECT organization_id FROM memberships
                  WHERE user_id = NULLIF(current_setting('app.lookup_user_id', true), '')::uuid));
CREATE POLICY system_api_key_prefix ON api_keys FOR SELECT
    USING (prefix = NULLIF(current_setting('app.lookup_api_key_prefix', true), ''));
CREATE POLICY system_invitation_token ON invitations FOR SELECT
    USING (token_hash = decode(NULLIF(current_setting('app.lookup_token_hash', true), ''), 'hex'));
CREATE POLICY system_refresh_token ON refresh_tokens FOR SELECT
    USING (token_hash = decode(NULLIF(current_setting('app.lookup_token_hash', true), ''), 'hex'));
