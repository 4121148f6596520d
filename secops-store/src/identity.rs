//! Organisations, users and memberships.

use chrono::{DateTime, Utc};
use secops_core::tenancy::{OrgId, Role, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Store, TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::{now, parse_role};

/// An organisation (tenant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// Unique short name.
    pub slug: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: Uuid,
    name: String,
    slug: String,
    created_at: DateTime<Utc>,
    version: i64,
}

impl From<OrgRow> for Organization {
    fn from(r: OrgRow) -> Self {
        Self {
            id: OrgId::from_uuid(r.id),
            name: r.name,
            slug: r.slug,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

/// A user account (global: users join organisations through memberships).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Login e-mail, unique without regard to case.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A user with the stored password hash, only from the system path for logging in.
#[derive(Debug, Clone, PartialEq)]
pub struct UserLogin {
    /// The user.
    pub user: User,
    /// The argon2id hash (`None` for SSO-only users).
    pub password_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    password_hash: Option<String>,
    disabled: bool,
    created_at: DateTime<Utc>,
    version: i64,
}

impl UserRow {
    fn split(self) -> UserLogin {
        UserLogin {
            password_hash: self.password_hash,
            user: User {
                id: UserId::from_uuid(self.id),
                email: self.email,
                display_name: self.display_name,
                disabled: self.disabled,
                created_at: self.created_at,
                version: self.version,
            },
        }
    }
}

/// A user's role in an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    /// The organisation.
    pub org_id: OrgId,
    /// The user.
    pub user_id: UserId,
    /// The role.
    pub role: Role,
    /// When the user joined.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    organization_id: Uuid,
    user_id: Uuid,
    role: String,
    created_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> StoreResult<Self> {
        Ok(Self {
            org_id: OrgId::from_uuid(r.organization_id),
            user_id: UserId::from_uuid(r.user_id),
            role: parse_role(&r.role)?,
            created_at: r.created_at,
            version: r.version,
        })
    }
}

/// org id, name, slug, created, version, role, joined, membership version.
type MembershipTuple = (
    Uuid,
    String,
    String,
    DateTime<Utc>,
    i64,
    String,
    DateTime<Utc>,
    i64,
);

const MEMBER_COLUMNS: &str = "organization_id, user_id, role, created_at, version";

fn check_name(what: &str, value: &str, max: usize) -> StoreResult<()> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(StoreError::InvalidInput(format!(
            "{what} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

/// Inserts a user in `tx` (a system-path transaction: users belong to no organisation).
pub(crate) async fn insert_user(
    tx: &mut TenantTx,
    email: &str,
    display_name: &str,
    password_hash: Option<&str>,
) -> StoreResult<User> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 320 {
        return Err(StoreError::InvalidInput("the e-mail address is not valid".into()));
    }
    check_name("display name", display_name, 200)?;
    let row: UserRow = on_tx_guarded!(tx, c => sqlx::query_as(
        "INSERT INTO users (id, email, display_name, password_hash, disabled, created_at, version)
         VALUES ($1, $2, $3, $4, false, $5, 1)
         RETURNING id, email, display_name, password_hash, disabled, created_at, version")
        .bind(UserId::new().as_uuid()).bind(email).bind(display_name).bind(password_hash).bind(now())
        .fetch_one(c).await)
    .map_err(|e| match StoreError::from(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate("a user with that e-mail"),
        other => other,
    })?;
    Ok(row.split().user)
}

impl Store {
    /// Creates a user. E-mails are unique without regard to case.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password_hash: Option<&str>,
    ) -> StoreResult<User> {
        let mut tx = self.system().begin_plain().await?;
        let user = insert_user(&mut tx, email, display_name, password_hash).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Creates an organisation with `owner` as its first owner.
    pub async fn create_organization(
        &self,
        name: &str,
        slug: &str,
        owner: UserId,
    ) -> StoreResult<Organization> {
        check_name("organisation name", name, 200)?;
        if slug.is_empty()
            || slug.len() > 64
            || !slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(StoreError::InvalidInput(
                "the slug must be 1 to 64 characters of a-z, 0-9 and -".into(),
            ));
        }
        let id = OrgId::new();
        let mut tx = self.tenant(id).await?;
        let created = now();
        let row: OrgRow = on_tx_guarded!(tx, c => sqlx::query_as(
            "INSERT INTO organizations (id, name, slug, created_at, version) VALUES ($1, $2, $3, $4, 1)
             RETURNING id, name, slug, created_at, version")
            .bind(id.as_uuid()).bind(name).bind(slug).bind(created).fetch_one(c).await)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate(_) => StoreError::Duplicate("an organisation with that slug"),
            other => other,
        })?;
        tx.add_member(owner, Role::Owner).await?;
        tx.commit().await?;
        Ok(row.into())
    }
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// Disable or re-enable.
    pub disabled: Option<bool>,
    /// New password hash (argon2id, made by the caller).
    pub password_hash: Option<String>,
}

impl Store {
    /// Changes a user if it is still at `expected_version`.
    pub async fn update_user(
        &self,
        id: UserId,
        expected_version: i64,
        update: UserUpdate,
    ) -> StoreResult<User> {
        if let Some(name) = &update.display_name {
            check_name("display name", name, 200)?;
        }
        let mut tx = self.system().begin_plain().await?;
        let row: Option<UserRow> = on_tx!(tx, c => sqlx::query_as(
            "UPDATE users SET display_name = COALESCE($2, display_name), disabled = COALESCE($3, disabled),
                 password_hash = COALESCE($4, password_hash), version = version + 1
             WHERE id = $1 AND version = $5
             RETURNING id, email, display_name, password_hash, disabled, created_at, version")
            .bind(id.as_uuid()).bind(update.display_name.as_deref()).bind(update.disabled).bind(update.password_hash.as_deref())
            .bind(expected_version).fetch_optional(c).await)?;
        tx.commit().await?;
        match row {
            Some(r) => Ok(r.split().user),
            None => match self.system().user(id).await? {
                Some(_) => Err(StoreError::Conflict {
                    what: "user",
                    expected: expected_version,
                }),
                None => Err(StoreError::NotFound("user")),
            },
        }
    }
}

impl crate::db::SystemPath<'_> {
    /// A user and password hash by e-mail, for logging in.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserLogin>> {
        let mut tx = self.begin_plain().await?;
        let row: Option<UserRow> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, email, display_name, password_hash, disabled, created_at, version FROM users WHERE lower(email) = lower($1)")
            .bind(email.trim()).fetch_optional(c).await)?;
        tx.commit().await?;
        Ok(row.map(UserRow::split))
    }

    /// A user by id.
    pub async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let mut tx = self.begin_plain().await?;
        let row: Option<UserRow> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, email, display_name, password_hash, disabled, created_at, version FROM users WHERE id = $1")
            .bind(id.as_uuid()).fetch_optional(c).await)?;
        tx.commit().await?;
        Ok(row.map(|r| r.split().user))
    }

    /// The organisations a user belongs to, with the role in each.
    pub async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<(Organization, Membership)>> {
        let mut tx = self.begin_for_user(user).await?;
        let rows: Vec<MembershipTuple> = on_tx!(tx, c => sqlx::query_as(
            "SELECT o.id, o.name, o.slug, o.created_at, o.version, m.role, m.created_at, m.version
             FROM memberships m JOIN organizations o ON o.id = m.organization_id
             WHERE m.user_id = $1 ORDER BY o.name")
            .bind(user.as_uuid()).fetch_all(c).await)?;
        tx.commit().await?;
        rows.into_iter()
            .map(|(id, name, slug, created, version, role, joined, mversion)| {
                let org = Organization {
                    id: OrgId::from_uuid(id),
                    name,
                    slug,
                    created_at: created,
                    version,
                };
                let membership = Membership {
                    org_id: org.id,
                    user_id: user,
                    role: parse_role(&role)?,
                    created_at: joined,
                    version: mversion,
                };
                Ok((org, membership))
            })
            .collect()
    }
}

impl TenantTx {
    /// This transaction's organisation.
    pub async fn organization(&mut self) -> StoreResult<Organization> {
        let org = self.org;
        let row: Option<OrgRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT id, name, slug, created_at, version FROM organizations WHERE id = $1")
            .bind(org.as_uuid()).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::NotFound("organisation"))
    }

    /// Renames the organisation.
    pub async fn rename_organization(
        &mut self,
        name: &str,
        expected_version: i64,
    ) -> StoreResult<Organization> {
        check_name("organisation name", name, 200)?;
        let org = self.org;
        let row: Option<OrgRow> = on_tx!(self, c => sqlx::query_as(
            "UPDATE organizations SET name = $2, version = version + 1 WHERE id = $1 AND version = $3
             RETURNING id, name, slug, created_at, version")
            .bind(org.as_uuid()).bind(name).bind(expected_version).fetch_optional(c).await)?;
        match row {
            Some(r) => Ok(r.into()),
            None => {
                self.organization().await?;
                Err(StoreError::Conflict {
                    what: "organisation",
                    expected: expected_version,
                })
            }
        }
    }

    /// Adds a user to the organisation.
    pub async fn add_member(&mut self, user: UserId, role: Role) -> StoreResult<Membership> {
        let org = self.org;
        let row: MembershipRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO memberships ({MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4, 1) RETURNING {MEMBER_COLUMNS}"))
            .bind(org.as_uuid()).bind(user.as_uuid()).bind(role.as_str()).bind(now()).fetch_one(c).await)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate(_) => StoreError::Duplicate("that membership"),
            other => other,
        })?;
        row.try_into()
    }

    /// One member.
    pub async fn member(&mut self, user: UserId) -> StoreResult<Membership> {
        let org = self.org;
        let row: Option<MembershipRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {MEMBER_COLUMNS} FROM memberships WHERE organization_id = $1 AND user_id = $2"))
            .bind(org.as_uuid()).bind(user.as_uuid()).fetch_optional(c).await)?;
        row.ok_or(StoreError::NotFound("membership"))?.try_into()
    }

    /// Members, newest user id first.
    pub async fn members(&mut self, page: &PageRequest) -> StoreResult<Page<Membership>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<MembershipRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {MEMBER_COLUMNS} FROM memberships WHERE organization_id = $1 AND user_id < $2
             ORDER BY user_id DESC LIMIT $3"))
            .bind(org.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        let rows = rows
            .into_iter()
            .map(Membership::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |m| *m.user_id.as_uuid()))
    }

    async fn owner_count(&mut self) -> StoreResult<i64> {
        let org = self.org;
        Ok(on_tx!(self, c => sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM memberships WHERE organization_id = $1 AND role = 'owner'")
            .bind(org.as_uuid()).fetch_one(c).await)?)
    }

    /// Changes a member's role; the last owner cannot be demoted.
    pub async fn set_member_role(
        &mut self,
        user: UserId,
        role: Role,
        expected_version: i64,
    ) -> StoreResult<Membership> {
        let current = self.member(user).await?;
        if current.role == Role::Owner && role != Role::Owner && self.owner_count().await? <= 1 {
            return Err(StoreError::InvalidInput(
                "the last owner cannot be demoted".into(),
            ));
        }
        let org = self.org;
        let row: Option<MembershipRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE memberships SET role = $3, version = version + 1
             WHERE organization_id = $1 AND user_id = $2 AND version = $4 RETURNING {MEMBER_COLUMNS}"))
            .bind(org.as_uuid()).bind(user.as_uuid()).bind(role.as_str()).bind(expected_version).fetch_optional(c).await)?;
        row.ok_or(StoreError::Conflict {
            what: "membership",
            expected: expected_version,
        })?
        .try_into()
    }

    /// Removes a member; the last owner cannot be removed.
    pub async fn remove_member(&mut self, user: UserId) -> StoreResult<()> {
        let current = self.member(user).await?;
        if current.role == Role::Owner && self.owner_count().await? <= 1 {
            return Err(StoreError::InvalidInput(
                "the last owner cannot be removed".into(),
            ));
        }
        let org = self.org;
        on_tx!(self, c => sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
            .bind(org.as_uuid()).bind(user.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
