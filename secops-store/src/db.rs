use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use secops_core::tenancy::{OrgId, UserId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::error::{StoreError, StoreResult};

/// The embedded default database location.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://./secops-data/secops.db";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default.
    Sqlite,
    /// Production: PostgreSQL with row-level security and pgvector.
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Refuse a PostgreSQL role that is a superuser or may bypass row-level security. On for the server;
    /// off only for the owner connection that runs migrations.
    pub require_restricted_role: bool,
    /// Pool size.
    pub max_connections: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            require_restricted_role: true,
            max_connections: 10,
        }
    }
}

/// The database, for every organisation. Tenant data is reached only through [`Store::tenant`]; the few
/// look-ups that precede an organisation go through [`Store::system`].
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`). SQLite files and their folder are created on
    /// first use, with WAL and a busy time-out.
    pub async fn connect(url: &str, options: ConnectOptions) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if let Some(parent) = Path::new(opts.get_filename()).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", parent.display())))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .connect_with(opts)
                .await?;
            Ok(Self {
                pool: Pool::Sqlite(pool),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            let store = Self {
                pool: Pool::Postgres(pool),
            };
            if options.require_restricted_role {
                store.check_restricted_role().await?;
            }
            Ok(store)
        } else {
            Err(StoreError::Config(
                "the database URL must start with sqlite: or postgres:".into(),
            ))
        }
    }

    /// The dialect.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Applies pending migrations. On PostgreSQL this needs the owner role (the app role cannot create tables).
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers and every migration this build knows is applied.
    pub async fn ready(&self) -> StoreResult<()> {
        let (applied, expected): (i64, usize) = match &self.pool {
            Pool::Sqlite(pool) => (
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await?,
                SQLITE_MIGRATIONS.iter().count(),
            ),
            Pool::Postgres(pool) => (
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await?,
                POSTGRES_MIGRATIONS.iter().count(),
            ),
        };
        if usize::try_from(applied).unwrap_or(0) < expected {
            return Err(StoreError::Migration(format!(
                "{applied} of {expected} migrations applied; run `secops migrate`"
            )));
        }
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    async fn check_restricted_role(&self) -> StoreResult<()> {
        if let Pool::Postgres(pool) = &self.pool {
            let (name, superuser, bypass): (String, bool, bool) = sqlx::query_as(
                "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            )
            .fetch_one(pool)
            .await?;
            if superuser || bypass {
                return Err(StoreError::Config(format!(
                    "refusing to run as PostgreSQL role `{name}`: it is a superuser or has BYPASSRLS, so row-level \
                     security would not isolate organisations. Connect as the application role (see `secops migrate \
                     --app-role`)."
                )));
            }
        }
        Ok(())
    }

    /// Creates (if missing) a login role for the application with `NOBYPASSRLS`, and grants it what the
    /// service needs: read and write on tenant tables, but only INSERT and SELECT on the append-only logs.
    /// Run with the owner connection after [`migrate`](Self::migrate). No-op on SQLite.
    pub async fn provision_app_role(&self, role: &str) -> StoreResult<()> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(());
        };
        if role.is_empty()
            || !role
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(StoreError::InvalidInput("role names use a-z, 0-9 and _".into()));
        }
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_roles WHERE rolname = $1")
            .bind(role)
            .fetch_optional(pool)
            .await?;
        if exists.is_none() {
            sqlx::query(fsql!(
                "CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            ))
            .execute(pool)
            .await?;
        }
        for statement in [
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
            format!("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}"),
            format!("REVOKE UPDATE, TRUNCATE ON run_events FROM {role}"),
            format!("REVOKE ALL ON _sqlx_migrations FROM {role}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(pool).await?;
        }
        Ok(())
    }

    /// A transaction scoped to `org`: every statement in it sees and writes only that organisation's rows
    /// (PostgreSQL: `app.org_id` for row-level security; SQLite: every query filters on it).
    pub async fn tenant(&self, org: OrgId) -> StoreResult<TenantTx> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => Inner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT set_config('app.org_id', $1, true)")
                    .bind(org.to_string())
                    .execute(&mut *tx)
                    .await?;
                Inner::Postgres(tx)
            }
        };
        Ok(TenantTx { inner, org })
    }

    /// Like [`tenant`](Self::tenant), for transactions that only read. On SQLite it does not take the write
    /// lock up front, so reads proceed while another connection writes (a write inside it may then fail as
    /// busy: use [`tenant`](Self::tenant) for anything that writes). On PostgreSQL it is the same as `tenant`.
    pub async fn tenant_read(&self, org: OrgId) -> StoreResult<TenantTx> {
        match &self.pool {
            Pool::Sqlite(pool) => Ok(TenantTx {
                inner: Inner::Sqlite(pool.begin().await?),
                org,
            }),
            Pool::Postgres(_) => self.tenant(org).await,
        }
    }

    /// The narrow system path for look-ups that come before an organisation is known. Each method sets
    /// only the one key it looks up, so row-level security shows only matching rows.
    #[must_use]
    pub fn system(&self) -> SystemPath<'_> {
        SystemPath { store: self }
    }
}

pub(crate) enum Inner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A transaction that can only be made for one organisation; all tenant data goes through it.
pub struct TenantTx {
    pub(crate) inner: Inner,
    pub(crate) org: OrgId,
}

impl std::fmt::Debug for TenantTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantTx")
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl TenantTx {
    /// The organisation.
    #[must_use]
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The dialect.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Makes the changes durable.
    pub async fn commit(self) -> StoreResult<()> {
        match self.inner {
            Inner::Sqlite(tx) => tx.commit().await?,
            Inner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Discards the changes (also what dropping the transaction does).
    pub async fn rollback(self) -> StoreResult<()> {
        match self.inner {
            Inner::Sqlite(tx) => tx.rollback().await?,
            Inner::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// `format!` for SQL assembled only from constants and checked numbers (column lists, index dimensions, role
/// names validated by the caller); user input always goes through `bind`.
macro_rules! fsql {
    ($($arg:tt)*) => {
        sqlx::AssertSqlSafe(format!($($arg)*))
    };
}
pub(crate) use fsql;

/// Runs the same statement code on whichever backend the transaction holds. The SQL is shared: `$N`
/// placeholders work in both dialects, and every tenant query filters on `organization_id` explicitly.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::db::Inner::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Inner::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// [`on_tx!`] for a statement that may fail as part of normal use (a duplicate name, a missing parent). On
/// PostgreSQL a failed statement aborts the whole transaction, so the statement runs inside a savepoint that
/// is rolled back on failure: the caller gets a clean error and the transaction stays usable, as on SQLite.
macro_rules! on_tx_guarded {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::db::Inner::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Inner::Postgres(tx) => {
                sqlx::query("SAVEPOINT secops_statement")
                    .execute(&mut **tx)
                    .await?;
                let result = {
                    let $conn = &mut **tx;
                    $body
                };
                let undo = if result.is_ok() {
                    "RELEASE SAVEPOINT secops_statement"
                } else {
                    "ROLLBACK TO SAVEPOINT secops_statement"
                };
                sqlx::query(undo).execute(&mut **tx).await?;
                result
            }
        }
    };
}
pub(crate) use on_tx_guarded;

/// See [`Store::system`].
#[derive(Debug, Clone, Copy)]
pub struct SystemPath<'a> {
    pub(crate) store: &'a Store,
}

impl SystemPath<'_> {
    /// Begins a transaction with one look-up key set (PostgreSQL); on SQLite, an ordinary transaction.
    pub(crate) async fn begin_lookup(&self, setting: &str, value: &str) -> StoreResult<TenantTx> {
        let inner = match &self.store.pool {
            Pool::Sqlite(pool) => Inner::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT set_config($1, $2, true)")
                    .bind(setting)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                Inner::Postgres(tx)
            }
        };
        // Not a tenant: no organisation is set, and the org field is never used for filtering on this path.
        Ok(TenantTx {
            inner,
            org: OrgId::from_uuid(uuid::Uuid::nil()),
        })
    }

    pub(crate) async fn begin_plain(&self) -> StoreResult<TenantTx> {
        self.begin_lookup("app.none", "").await
    }

    /// Look-up key for a user's memberships.
    pub(crate) async fn begin_for_user(&self, user: UserId) -> StoreResult<TenantTx> {
        self.begin_lookup("app.lookup_user_id", &user.to_string()).await
    }
}
