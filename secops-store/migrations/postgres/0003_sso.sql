-- Single sign-on with OpenID Connect: one identity provider per organisation, the pending logins between the
-- redirect to the provider and its callback, and the provider identities linked to users.

CREATE TABLE sso_providers (
    organization_id uuid PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    issuer text NOT NULL,
    client_id text NOT NULL,
    -- Sealed with the server's encryption key (SecretBox), bound to the organisation; never stored plain.
    client_secret bytea NOT NULL,
    -- Just-in-time members get this role; owner is never handed out by an identity provider.
    default_role text NOT NULL CHECK (default_role IN ('admin', 'analyst', 'viewer')),
    enabled boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL DEFAULT 1
);

-- Found by an HMAC of the `state` value the browser brings back; deleted when used, so each works once.
CREATE TABLE sso_logins (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    state_hash bytea NOT NULL UNIQUE,
    issuer text NOT NULL,
    nonce text NOT NULL,
    -- The PKCE verifier, sealed like the client secret.
    pkce_verifier bytea NOT NULL,
    redirect_uri text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sso_logins_expiry ON sso_logins (organization_id, expires_at);

-- Users are global, and so are their identities: the same person at the same issuer is one user in every
-- organisation that trusts that issuer. No organisation column, hence no tenant policy (like users).
CREATE TABLE user_identities (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    issuer text NOT NULL,
    subject text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

ALTER TABLE sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_providers
    USING (organization_id = NULLIF(current_setting('app.org_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.org_id', true), '')::uuid);
ALTER TABLE sso_logins ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_logins FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_logins
    USING (organization_id = NULLIF(current_setting('app.org_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.org_id', true), '')::uuid);

-- System path: the callback knows only the state, so it finds the one pending login with that state's hash.
-- Consuming it happens afterwards in that organisation's tenant transaction.
CREATE POLICY system_sso_login_state ON sso_logins FOR SELECT
    USING (state_hash = decode(NULLIF(current_setting('app.lookup_sso_state', true), ''), 'hex'));
