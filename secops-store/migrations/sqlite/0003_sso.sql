-- Single sign-on with OpenID Connect (see the PostgreSQL migration for the reasoning); tenancy is enforced by
-- the store filtering every query on organization_id.

CREATE TABLE sso_providers (
    organization_id BLOB PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret BLOB NOT NULL,
    default_role TEXT NOT NULL CHECK (default_role IN ('admin', 'analyst', 'viewer')),
    enabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE sso_logins (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    state_hash BLOB NOT NULL UNIQUE,
    issuer TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier BLOB NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sso_logins_expiry ON sso_logins (organization_id, expires_at);

CREATE TABLE user_identities (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
