//! Single sign-on with OpenID Connect: each organisation's identity provider (its client secret sealed with
//! [`SecretBox`]), the pending logins between the redirect to the provider and its callback (found by an HMAC of
//! the `state` value, usable once), and the provider identities (issuer and subject) linked to users.

use chrono::{DateTime, Duration, Utc};
use secops_core::tenancy::{OrgId, Role, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::{SecretBox, SecretKey, hmac_digest};
use crate::db::{Store, SystemPath, TenantTx, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::identity::User;
use crate::util::{now, parse_role};

/// An organisation's identity provider, as shown to its admins (never the client secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoProvider {
    /// The organisation.
    pub org_id: OrgId,
    /// The OpenID Connect issuer URL (discovery is `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The role users get when single sign-on makes them members.
    pub default_role: Role,
    /// Whether logins through the provider are accepted.
    pub enabled: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// The settings to store for an organisation's identity provider.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoProviderInput {
    /// Issuer URL (the caller checks its form and scheme).
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret; `None` keeps the stored one (required when there is none yet).
    pub client_secret: Option<String>,
    /// Role for just-in-time members; never [`Role::Owner`].
    pub default_role: Role,
    /// Whether logins are accepted.
    pub enabled: bool,
}

impl std::fmt::Debug for SsoProviderInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoProviderInput")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("default_role", &self.default_role)
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// A login to remember between the redirect to the provider and its callback.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSsoLogin {
    /// The issuer the login was started against (a changed configuration refuses the callback).
    pub issuer: String,
    /// The nonce sent to the provider, expected back in the ID token.
    pub nonce: String,
    /// The PKCE code verifier (sealed before storing).
    pub pkce_verifier: String,
    /// The redirect URI sent to the provider; the token request must repeat it.
    pub redirect_uri: String,
    /// How long the login may take.
    pub ttl: Duration,
}

impl std::fmt::Debug for NewSsoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSsoLogin")
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A pending login, taken (and so used up) by the callback.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSsoLogin {
    /// The organisation whose provider the login went to.
    pub org_id: OrgId,
    /// The issuer at the time the login started.
    pub issuer: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier, decrypted.
    pub pkce_verifier: String,
    /// The redirect URI sent to the provider.
    pub redirect_uri: String,
    /// When the login lapses.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for PendingSsoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSsoLogin")
            .field("org_id", &self.org_id)
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct ProviderRow {
    organization_id: Uuid,
    issuer: String,
    client_id: String,
    default_role: String,
    enabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<ProviderRow> for SsoProvider {
    type Error = StoreError;
    fn try_from(r: ProviderRow) -> StoreResult<Self> {
        Ok(Self {
            org_id: OrgId::from_uuid(r.organization_id),
            issuer: r.issuer,
            client_id: r.client_id,
            default_role: parse_role(&r.default_role)?,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: Uuid,
    organization_id: Uuid,
    issuer: String,
    nonce: String,
    pkce_verifier: Vec<u8>,
    redirect_uri: String,
    expires_at: DateTime<Utc>,
}

const PROVIDER_COLUMNS: &str =
    "organization_id, issuer, client_id, default_role, enabled, created_at, updated_at, version";

/// Binds a sealed client secret to its organisation, so it cannot be copied to another one.
fn secret_associated(org: OrgId) -> Vec<u8> {
    let mut aad = b"sso_provider:".to_vec();
    aad.extend_from_slice(org.as_uuid().as_bytes());
    aad
}

/// Binds a sealed PKCE verifier to its organisation and pending login.
fn verifier_associated(org: Uuid, id: Uuid) -> Vec<u8> {
    let mut aad = b"sso_login:".to_vec();
    aad.extend_from_slice(org.as_bytes());
    aad.extend_from_slice(id.as_bytes());
    aad
}

fn check_text(what: &str, value: &str, max: usize) -> StoreResult<()> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(StoreError::InvalidInput(format!(
            "{what} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

impl TenantTx {
    /// The organisation's identity provider ([`StoreError::NotFound`] when none is configured).
    pub async fn sso_provider(&mut self) -> StoreResult<SsoProvider> {
        let org = self.org;
        let row: Option<ProviderRow> = on_tx!(self, c => sqlx::query_as(crate::db::fsql!(
            "SELECT {PROVIDER_COLUMNS} FROM sso_providers WHERE organization_id = $1"))
            .bind(org.as_uuid()).fetch_optional(c).await)?;
        row.ok_or(StoreError::NotFound("single sign-on configuration"))?
            .try_into()
    }

    /// The decrypted client secret, for the token request. Never for API responses.
    pub async fn sso_client_secret(&mut self, secrets: &SecretBox) -> StoreResult<String> {
        let org = self.org;
        let sealed: Option<Vec<u8>> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT client_secret FROM sso_providers WHERE organization_id = $1")
            .bind(org.as_uuid()).fetch_optional(c).await)?;
        let sealed = sealed.ok_or(StoreError::NotFound("single sign-on configuration"))?;
        let plain = secrets.open(&sealed, &secret_associated(org))?;
        String::from_utf8(plain).map_err(|_| StoreError::Decrypt)
    }

    /// Creates or replaces the organisation's identity provider. With `expected_version`, the stored one must
    /// still be at that version ([`StoreError::Conflict`] otherwise). The client secret is sealed before it is
    /// stored; leaving it out keeps the stored one.
    pub async fn put_sso_provider(
        &mut self,
        secrets: &SecretBox,
        input: SsoProviderInput,
        expected_version: Option<i64>,
    ) -> StoreResult<SsoProvider> {
        check_text("the issuer", &input.issuer, 2048)?;
        check_text("the client id", &input.client_id, 255)?;
        if let Some(secret) = &input.client_secret {
            check_text("the client secret", secret, 4096)?;
        }
        if input.default_role == Role::Owner {
            return Err(StoreError::InvalidInput(
                "single sign-on cannot make owners; pick admin, analyst or viewer".into(),
            ));
        }
        let org = self.org;
        let sealed = input
            .client_secret
            .as_deref()
            .map(|s| secrets.seal(s.as_bytes(), &secret_associated(org)))
            .transpose()?;
        let current = match self.sso_provider().await {
            Ok(p) => Some(p),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let t = now();
        let row: Option<ProviderRow> = match current {
            None => {
                if let Some(expected) = expected_version {
                    return Err(StoreError::Conflict {
                        what: "single sign-on configuration",
                        expected,
                    });
                }
                let sealed =
                    sealed.ok_or_else(|| StoreError::InvalidInput("a client secret is required".into()))?;
                on_tx_guarded!(self, c => sqlx::query_as(crate::db::fsql!(
                    "INSERT INTO sso_providers (organization_id, issuer, client_id, client_secret, default_role, enabled, created_at, updated_at, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1) RETURNING {PROVIDER_COLUMNS}"))
                    .bind(org.as_uuid()).bind(&input.issuer).bind(&input.client_id).bind(sealed)
                    .bind(input.default_role.as_str()).bind(input.enabled).bind(t)
                    .fetch_optional(c).await)
                .map_err(|e| match StoreError::from(e) {
                    // Someone configured it at the same moment.
                    StoreError::Duplicate(_) => StoreError::Conflict {
                        what: "single sign-on configuration",
                        expected: 0,
                    },
                    other => other,
                })?
            }
            Some(current) => {
                let expected = expected_version.unwrap_or(current.version);
                on_tx!(self, c => sqlx::query_as(crate::db::fsql!(
                    "UPDATE sso_providers SET issuer = $2, client_id = $3, client_secret = COALESCE($4, client_secret),
                         default_role = $5, enabled = $6, updated_at = $7, version = version + 1
                     WHERE organization_id = $1 AND version = $8 RETURNING {PROVIDER_COLUMNS}"))
                    .bind(org.as_uuid()).bind(&input.issuer).bind(&input.client_id).bind(sealed)
                    .bind(input.default_role.as_str()).bind(input.enabled).bind(t).bind(expected)
                    .fetch_optional(c).await)?
            }
        };
        row.ok_or(StoreError::Conflict {
            what: "single sign-on configuration",
            expected: expected_version.unwrap_or_default(),
        })?
        .try_into()
    }

    /// Removes the organisation's identity provider and its pending logins.
    pub async fn delete_sso_provider(&mut self) -> StoreResult<()> {
        let org = self.org;
        let n = on_tx!(self, c => sqlx::query("DELETE FROM sso_providers WHERE organization_id = $1")
            .bind(org.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound("single sign-on configuration"));
        }
        on_tx!(self, c => sqlx::query("DELETE FROM sso_logins WHERE organization_id = $1")
            .bind(org.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Remembers a login sent to the provider with `state`. Only an HMAC of the state is stored, and the PKCE
    /// verifier is sealed. Lapsed logins of the organisation are purged on the way, so abandoned ones do not
    /// pile up.
    pub async fn create_sso_login(
        &mut self,
        hmac_key: &SecretKey,
        secrets: &SecretBox,
        state: &str,
        new: NewSsoLogin,
    ) -> StoreResult<()> {
        if state.len() < 16 {
            return Err(StoreError::InvalidInput("the state is too short".into()));
        }
        let org = self.org;
        let t = now();
        on_tx!(self, c => sqlx::query("DELETE FROM sso_logins WHERE organization_id = $1 AND expires_at <= $2")
            .bind(org.as_uuid()).bind(t).execute(c).await.map(|r| r.rows_affected()))?;
        let id = Uuid::now_v7();
        let digest = hmac_digest(hmac_key, state.as_bytes())?;
        let sealed = secrets.seal(
            new.pkce_verifier.as_bytes(),
            &verifier_associated(*org.as_uuid(), id),
        )?;
        on_tx_guarded!(self, c => sqlx::query(
            "INSERT INTO sso_logins (id, organization_id, state_hash, issuer, nonce, pkce_verifier, redirect_uri, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(id).bind(org.as_uuid()).bind(&digest).bind(&new.issuer).bind(&new.nonce).bind(&sealed)
            .bind(&new.redirect_uri).bind(t).bind(t + new.ttl)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl SystemPath<'_> {
    /// Takes the pending login started with `state`: found by the state's HMAC, deleted in its organisation's
    /// transaction, and returned only if this call deleted it and it has not lapsed. Unknown, used and lapsed
    /// states are all `None`, so callers cannot tell them apart.
    pub async fn take_sso_login(
        &self,
        hmac_key: &SecretKey,
        secrets: &SecretBox,
        state: &str,
    ) -> StoreResult<Option<PendingSsoLogin>> {
        let digest = hmac_digest(hmac_key, state.as_bytes())?;
        let mut tx = self
            .begin_lookup("app.lookup_sso_state", &hex::encode(&digest))
            .await?;
        let row: Option<LoginRow> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, organization_id, issuer, nonce, pkce_verifier, redirect_uri, expires_at
             FROM sso_logins WHERE state_hash = $1")
            .bind(&digest).fetch_optional(c).await)?;
        tx.commit().await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let org = OrgId::from_uuid(row.organization_id);
        let mut tx = self.store.tenant(org).await?;
        // Two callbacks racing with the same state: only the one whose delete removed the row goes on.
        let taken = on_tx!(tx, c => sqlx::query("DELETE FROM sso_logins WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(row.id).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        if taken == 0 || row.expires_at <= now() {
            return Ok(None);
        }
        let verifier = secrets.open(
            &row.pkce_verifier,
            &verifier_associated(row.organization_id, row.id),
        )?;
        Ok(Some(PendingSsoLogin {
            org_id: org,
            issuer: row.issuer,
            nonce: row.nonce,
            pkce_verifier: String::from_utf8(verifier).map_err(|_| StoreError::Decrypt)?,
            redirect_uri: row.redirect_uri,
            expires_at: row.expires_at,
        }))
    }

    /// The user linked to the identity `subject` at `issuer`, if any.
    pub async fn user_by_identity(&self, issuer: &str, subject: &str) -> StoreResult<Option<User>> {
        let mut tx = self.begin_plain().await?;
        let id: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2")
            .bind(issuer).bind(subject).fetch_optional(c).await)?;
        tx.commit().await?;
        match id {
            Some(id) => self.user(UserId::from_uuid(id)).await,
            None => Ok(None),
        }
    }
}

async fn insert_identity(tx: &mut TenantTx, user: UserId, issuer: &str, subject: &str) -> StoreResult<()> {
    check_text("the issuer", issuer, 2048)?;
    check_text("the subject", subject, 255)?;
    on_tx_guarded!(tx, c => sqlx::query(
        "INSERT INTO user_identities (id, user_id, issuer, subject, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(Uuid::now_v7()).bind(user.as_uuid()).bind(issuer).bind(subject).bind(now())
        .execute(c).await.map(|r| r.rows_affected()))
    .map_err(|e| match StoreError::from(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate("that identity"),
        other => other,
    })?;
    Ok(())
}

impl Store {
    /// Links the identity `subject` at `issuer` to an existing user ([`StoreError::Duplicate`] if it is
    /// linked already).
    pub async fn link_identity(&self, user: UserId, issuer: &str, subject: &str) -> StoreResult<()> {
        let mut tx = self.system().begin_plain().await?;
        insert_identity(&mut tx, user, issuer, subject).await?;
        tx.commit().await
    }

    /// Creates a user without a password (it can only log in through single sign-on) and links the identity
    /// to it, in one transaction: a failure leaves neither behind.
    pub async fn create_sso_user(
        &self,
        email: &str,
        display_name: &str,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<User> {
        let mut tx = self.system().begin_plain().await?;
        let user = crate::identity::insert_user(&mut tx, email, display_name, None).await?;
        insert_identity(&mut tx, user.id, issuer, subject).await?;
        tx.commit().await?;
        Ok(user)
    }
}
