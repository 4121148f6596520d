//! API keys, refresh tokens and invitations: secrets shown once, stored only as HMAC digests, found again through
//! the narrow system path by the one key the caller presents.

use chrono::{DateTime, Duration, Utc};
use secops_core::tenancy::{ApiKeyId, OrgId, Role, UserId};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::crypto::{SecretKey, hmac_digest, hmac_verify};
use crate::db::{SystemPath, TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::identity::Membership;
use crate::page::{Page, PageRequest};
use crate::util::{now, parse_role};

fn random_hex(bytes: usize) -> StoreResult<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).map_err(|e| StoreError::Config(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// An API key to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewApiKey {
    /// A name to recognise it by.
    pub name: String,
    /// What it may do (permission names).
    pub scopes: Vec<String>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: Option<UserId>,
}

/// A stored API key (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// The organisation.
    pub org_id: OrgId,
    /// Name.
    pub name: String,
    /// The public prefix (`sk_<prefix>_...`).
    pub prefix: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Creator.
    pub created_by: Option<UserId>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last successful use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A new key and its secret, which is shown this once.
#[derive(Clone, PartialEq)]
pub struct IssuedApiKey {
    /// The stored key.
    pub key: ApiKey,
    /// `sk_<prefix>_<secret>`: give it to the user now; it cannot be read back.
    pub secret: String,
}

impl std::fmt::Debug for IssuedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedApiKey")
            .field("key", &self.key)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    prefix: String,
    scopes: Json<Vec<String>>,
    created_by: Option<Uuid>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> Self {
        Self {
            id: ApiKeyId::from_uuid(r.id),
            org_id: OrgId::from_uuid(r.organization_id),
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.0,
            created_by: r.created_by.map(UserId::from_uuid),
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            created_at: r.created_at,
        }
    }
}

/// token id, organisation, user, expiry, revocation.
type RefreshTuple = (Uuid, Uuid, Uuid, DateTime<Utc>, Option<DateTime<Utc>>);

const KEY_COLUMNS: &str =
    "id, organization_id, name, prefix, scopes, created_by, expires_at, revoked_at, last_used_at, created_at";

/// What became of an attempt to accept an invitation.
#[derive(Debug, Clone, PartialEq)]
pub enum InvitationAcceptance {
    /// The user is now a member.
    Accepted(Membership),
    /// The invitation is addressed to someone else; it was not used and still works for them.
    NotForUser(Box<Invitation>),
    /// No invitation has that token, or it was used, withdrawn or has expired.
    Unusable,
}

/// An invitation to join an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    /// Its id.
    pub id: Uuid,
    /// The organisation.
    pub org_id: OrgId,
    /// Who is invited.
    pub email: String,
    /// The role they get.
    pub role: Role,
    /// Who invited them.
    pub invited_by: Option<UserId>,
    /// When the invitation lapses.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: Uuid,
    organization_id: Uuid,
    email: String,
    role: String,
    invited_by: Option<Uuid>,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;
    fn try_from(r: InvitationRow) -> StoreResult<Self> {
        Ok(Self {
            id: r.id,
            org_id: OrgId::from_uuid(r.organization_id),
            email: r.email,
            role: parse_role(&r.role)?,
            invited_by: r.invited_by.map(UserId::from_uuid),
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
            created_at: r.created_at,
        })
    }
}

const INVITATION_COLUMNS: &str =
    "id, organization_id, email, role, invited_by, expires_at, accepted_at, created_at";

/// A refresh token's owner, after a successful rotation.
#[derive(Clone, PartialEq)]
pub struct RotatedRefreshToken {
    /// The organisation the session is bound to.
    pub org_id: OrgId,
    /// The user.
    pub user_id: UserId,
    /// The replacement token (the presented one no longer works).
    pub token: String,
}

impl std::fmt::Debug for RotatedRefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedRefreshToken")
            .field("org_id", &self.org_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl TenantTx {
    /// Creates an API key; the returned secret is the only copy.
    pub async fn create_api_key(
        &mut self,
        hmac_key: &SecretKey,
        new: NewApiKey,
    ) -> StoreResult<IssuedApiKey> {
        if new.name.trim().is_empty() || new.name.len() > 100 {
            return Err(StoreError::InvalidInput(
                "the key name must be 1 to 100 characters".into(),
            ));
        }
        let prefix = random_hex(6)?;
        let secret = random_hex(24)?;
        let digest = hmac_digest(hmac_key, secret.as_bytes())?;
        let org = self.org;
        let row: ApiKeyRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, scopes, created_by, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {KEY_COLUMNS}"))
            .bind(ApiKeyId::new().as_uuid()).bind(org.as_uuid()).bind(&new.name).bind(&prefix).bind(&digest)
            .bind(Json(&new.scopes)).bind(new.created_by.map(|u| *u.as_uuid())).bind(new.expires_at).bind(now())
            .fetch_one(c).await)?;
        Ok(IssuedApiKey {
            secret: format!("sk_{prefix}_{secret}"),
            key: row.into(),
        })
    }

    /// API keys, newest first.
    pub async fn api_keys(&mut self, page: &PageRequest) -> StoreResult<Page<ApiKey>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<ApiKeyRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
            .bind(org.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        Ok(Page::from_rows(
            rows.into_iter().map(ApiKey::from).collect(),
            limit,
            |k| *k.id.as_uuid(),
        ))
    }

    /// Revokes a key; it stops working at once.
    pub async fn revoke_api_key(&mut self, id: ApiKeyId) -> StoreResult<ApiKey> {
        let org = self.org;
        let row: Option<ApiKeyRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE organization_id = $1 AND id = $2 RETURNING {KEY_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(now()).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::NotFound("API key"))
    }

    async fn touch_api_key(&mut self, id: ApiKeyId) -> StoreResult<()> {
        let org = self.org;
        on_tx!(self, c => sqlx::query("UPDATE api_keys SET last_used_at = $3 WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(now()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Issues a refresh token for `user` in this organisation, valid for `ttl`.
    pub async fn issue_refresh_token(
        &mut self,
        hmac_key: &SecretKey,
        user: UserId,
        ttl: Duration,
    ) -> StoreResult<String> {
        self.issue_refresh_token_replacing(hmac_key, user, ttl, None)
            .await
    }

    async fn issue_refresh_token_replacing(
        &mut self,
        hmac_key: &SecretKey,
        user: UserId,
        ttl: Duration,
        replaces: Option<Uuid>,
    ) -> StoreResult<String> {
        let token = random_hex(32)?;
        let digest = hmac_digest(hmac_key, token.as_bytes())?;
        let org = self.org;
        let id = Uuid::now_v7();
        let t = now();
        on_tx_guarded!(self, c => sqlx::query(
            "INSERT INTO refresh_tokens (id, organization_id, user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id).bind(org.as_uuid()).bind(user.as_uuid()).bind(&digest).bind(t + ttl).bind(t)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if let Some(old) = replaces {
            on_tx!(self, c => sqlx::query("UPDATE refresh_tokens SET revoked_at = $3, replaced_by = $4 WHERE organization_id = $1 AND id = $2")
                .bind(org.as_uuid()).bind(old).bind(t).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(token)
    }

    /// Revokes every refresh token of `user` in this organisation (logout everywhere, suspected theft).
    pub async fn revoke_refresh_tokens(&mut self, user: UserId) -> StoreResult<u64> {
        let org = self.org;
        Ok(on_tx!(self, c => sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 WHERE organization_id = $1 AND user_id = $2 AND revoked_at IS NULL")
            .bind(org.as_uuid()).bind(user.as_uuid()).bind(now()).execute(c).await.map(|r| r.rows_affected()))?)
    }

    /// Invites `email` with `role`; the returned token is the only copy.
    pub async fn create_invitation(
        &mut self,
        hmac_key: &SecretKey,
        email: &str,
        role: Role,
        invited_by: Option<UserId>,
        ttl: Duration,
    ) -> StoreResult<(Invitation, String)> {
        if !email.contains('@') || email.len() > 320 {
            return Err(StoreError::InvalidInput("the e-mail address is not valid".into()));
        }
        let token = random_hex(32)?;
        let digest = hmac_digest(hmac_key, token.as_bytes())?;
        let org = self.org;
        let t = now();
        let row: InvitationRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {INVITATION_COLUMNS}"))
            .bind(Uuid::now_v7()).bind(org.as_uuid()).bind(email.trim()).bind(role.as_str()).bind(&digest)
            .bind(invited_by.map(|u| *u.as_uuid())).bind(t + ttl).bind(t).fetch_one(c).await)?;
        Ok((row.try_into()?, token))
    }

    /// Invitations, newest first.
    pub async fn invitations(&mut self, page: &PageRequest) -> StoreResult<Page<Invitation>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<InvitationRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
            .bind(org.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        let rows = rows
            .into_iter()
            .map(Invitation::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |i| i.id))
    }

    /// Withdraws an invitation.
    pub async fn delete_invitation(&mut self, id: Uuid) -> StoreResult<()> {
        let org = self.org;
        let n = on_tx!(self, c => sqlx::query("DELETE FROM invitations WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound("invitation"));
        }
        Ok(())
    }
}

impl SystemPath<'_> {
    /// Checks a presented API key (`sk_<prefix>_<secret>`): the key if it exists, matches, is not revoked and
    /// has not expired; records the use. Every failure is `None`, so callers cannot tell which part was wrong.
    pub async fn authenticate_api_key(
        &self,
        hmac_key: &SecretKey,
        presented: &str,
    ) -> StoreResult<Option<ApiKey>> {
        let Some((prefix, secret)) = presented
            .strip_prefix("sk_")
            .and_then(|rest| rest.split_once('_'))
        else {
            return Ok(None);
        };
        if prefix.len() != 12 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let mut tx = self.begin_lookup("app.lookup_api_key_prefix", prefix).await?;
        let row: Option<ApiKeyRow> = on_tx!(tx, c => sqlx::query_as(fsql!("SELECT {KEY_COLUMNS} FROM api_keys WHERE prefix = $1"))
            .bind(prefix).fetch_optional(c).await)?;
        let digest: Option<Vec<u8>> = on_tx!(tx, c => sqlx::query_scalar("SELECT secret_hash FROM api_keys WHERE prefix = $1")
            .bind(prefix).fetch_optional(c).await)?;
        tx.commit().await?;
        let (Some(row), Some(digest)) = (row, digest) else {
            return Ok(None);
        };
        if !hmac_verify(hmac_key, secret.as_bytes(), &digest)? {
            return Ok(None);
        }
        let key = ApiKey::from(row);
        let t = now();
        if key.revoked_at.is_some() || key.expires_at.is_some_and(|e| e <= t) {
            return Ok(None);
        }
        // Record the use at most once a minute: a write per request would serialise every API call.
        if key.last_used_at.is_none_or(|at| t - at > Duration::minutes(1)) {
            let mut tx = self.store.tenant(key.org_id).await?;
            tx.touch_api_key(key.id).await?;
            tx.commit().await?;
        }
        Ok(Some(key))
    }

    /// Exchanges a refresh token for a new one. Presenting a token that was already rotated means it leaked:
    /// every token of that user in that organisation is revoked and `None` is returned.
    pub async fn rotate_refresh_token(
        &self,
        hmac_key: &SecretKey,
        presented: &str,
        ttl: Duration,
    ) -> StoreResult<Option<RotatedRefreshToken>> {
        let digest = hmac_digest(hmac_key, presented.as_bytes())?;
        let mut tx = self
            .begin_lookup("app.lookup_token_hash", &hex::encode(&digest))
            .await?;
        let row: Option<RefreshTuple> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, organization_id, user_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(&digest).fetch_optional(c).await)?;
        tx.commit().await?;
        let Some((id, org, user, expires_at, revoked_at)) = row else {
            return Ok(None);
        };
        let (org, user) = (OrgId::from_uuid(org), UserId::from_uuid(user));
        let mut tx = self.store.tenant(org).await?;
        if revoked_at.is_some() {
            tx.revoke_refresh_tokens(user).await?;
            tx.commit().await?;
            return Ok(None);
        }
        if expires_at <= now() {
            return Ok(None);
        }
        let token = tx
            .issue_refresh_token_replacing(hmac_key, user, ttl, Some(id))
            .await?;
        tx.commit().await?;
        Ok(Some(RotatedRefreshToken {
            org_id: org,
            user_id: user,
            token,
        }))
    }

    /// Accepts an invitation for `user` when `is_for_user` says the invitation is addressed to them. An
    /// unknown, used or expired token is [`InvitationAcceptance::Unusable`]; one that `is_for_user` refuses is
    /// [`InvitationAcceptance::NotForUser`] and stays usable by the right person.
    pub async fn accept_invitation(
        &self,
        hmac_key: &SecretKey,
        token: &str,
        user: UserId,
        is_for_user: &(dyn Fn(&Invitation) -> bool + Send + Sync),
    ) -> StoreResult<InvitationAcceptance> {
        let digest = hmac_digest(hmac_key, token.as_bytes())?;
        let mut tx = self
            .begin_lookup("app.lookup_token_hash", &hex::encode(&digest))
            .await?;
        let row: Option<InvitationRow> = on_tx!(tx, c => sqlx::query_as(fsql!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1")).bind(&digest).fetch_optional(c).await)?;
        tx.commit().await?;
        let Some(invitation) = row.map(Invitation::try_from).transpose()? else {
            return Ok(InvitationAcceptance::Unusable);
        };
        if invitation.accepted_at.is_some() || invitation.expires_at <= now() {
            return Ok(InvitationAcceptance::Unusable);
        }
        if !is_for_user(&invitation) {
            return Ok(InvitationAcceptance::NotForUser(Box::new(invitation)));
        }
        let mut tx = self.store.tenant(invitation.org_id).await?;
        let org = invitation.org_id;
        let claimed = on_tx!(tx, c => sqlx::query(
            "UPDATE invitations SET accepted_at = $3 WHERE organization_id = $1 AND id = $2 AND accepted_at IS NULL")
            .bind(org.as_uuid()).bind(invitation.id).bind(now()).execute(c).await.map(|r| r.rows_affected()))?;
        if claimed == 0 {
            return Ok(InvitationAcceptance::Unusable);
        }
        let membership = tx.add_member(user, invitation.role).await?;
        tx.commit().await?;
        Ok(InvitationAcceptance::Accepted(membership))
    }
}
