//! Helpers for secops' own tests and benchmarks: raw statements outside any tenant transaction. They exist to
//! set up databases and to play an attacker with direct database access; nothing in the product calls them.

use crate::db::{Pool, Store};
use crate::error::StoreResult;

/// Runs `sql` (trusted, test-authored) on the store's pool and returns the rows affected.
pub async fn execute(store: &Store, sql: &str) -> StoreResult<u64> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    Ok(match &store.pool {
        Pool::Sqlite(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
        Pool::Postgres(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
    })
}

/// Runs a query returning one `i64` (e.g. `count(*)`), outside any tenant transaction.
pub async fn scalar_i64(store: &Store, sql: &str) -> StoreResult<i64> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    Ok(match &store.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
    })
}

/// Runs a query returning text rows, outside any tenant transaction.
pub async fn strings(store: &Store, sql: &str) -> StoreResult<Vec<String>> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    Ok(match &store.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
    })
}

/// Reads a byte column, outside any tenant transaction.
pub async fn bytes(store: &Store, sql: &str) -> StoreResult<Vec<Vec<u8>>> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    Ok(match &store.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
    })
}

/// Runs `sql` inside a tenant transaction, as an attacker who controls a statement would.
pub async fn execute_in(tx: &mut crate::db::TenantTx, sql: &str) -> StoreResult<u64> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    crate::db::on_tx_guarded!(tx, c => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))
        .map_err(Into::into)
}

/// Counts rows of `table` inside a tenant transaction.
pub async fn count_in(tx: &mut crate::db::TenantTx, table: &str) -> StoreResult<i64> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
    crate::db::on_tx!(tx, c => sqlx::query_scalar(sql).fetch_one(c).await).map_err(Into::into)
}

/// A transaction on the system path with no look-up key set: no organisation is visible.
pub async fn unscoped(store: &Store) -> StoreResult<crate::db::TenantTx> {
    store.system().begin_plain().await
}

/// A throw-away PostgreSQL database: created from `admin_url`, migrated by the owner, used through a new
/// restricted application role. [`FreshPostgres::drop_all`] removes both.
#[derive(Debug)]
pub struct FreshPostgres {
    /// The store as the application role (row-level security applies).
    pub app: Store,
    /// The owner connection (superuser on the test server).
    pub owner: Store,
    admin_url: String,
    database: String,
    role: String,
}

fn with_database(url: &str, database: &str, user: Option<&str>) -> StoreResult<String> {
    let bad = || crate::error::StoreError::Config(format!("cannot derive a database URL from `{url}`"));
    let (url, query) = match url.split_once('?') {
        Some((u, q)) => (u, format!("?{q}")),
        None => (url, String::new()),
    };
    let (base, _) = url.rsplit_once('/').ok_or_else(bad)?;
    let base = match user {
        Some(user) => {
            let (scheme, rest) = base.split_once("://").ok_or_else(bad)?;
            let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            format!("{scheme}://{user}@{host}")
        }
        None => base.to_owned(),
    };
    Ok(format!("{base}/{database}{query}"))
}

impl FreshPostgres {
    /// Creates the database and role (names are unique per call).
    pub async fn create(admin_url: &str) -> StoreResult<Self> {
        use crate::db::ConnectOptions;
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        let database = format!("secops_test_{suffix}");
        let role = format!("secops_app_{suffix}");
        let owner_opts = ConnectOptions {
            require_restricted_role: false,
            max_connections: 4,
        };
        let admin = Store::connect(admin_url, owner_opts).await?;
        execute(&admin, &format!("CREATE DATABASE {database}")).await?;
        admin.close().await;
        let owner = Store::connect(&with_database(admin_url, &database, None)?, owner_opts).await?;
        owner.migrate().await?;
        owner.provision_app_role(&role).await?;
        let app = Store::connect(
            &with_database(admin_url, &database, Some(&role))?,
            ConnectOptions {
                require_restricted_role: true,
                max_connections: 8,
            },
        )
        .await?;
        Ok(Self {
            app,
            owner,
            admin_url: admin_url.to_owned(),
            database,
            role,
        })
    }

    /// Closes the pools and drops the database and role.
    pub async fn drop_all(self) -> StoreResult<()> {
        self.app.close().await;
        self.owner.close().await;
        let admin = Store::connect(
            &self.admin_url,
            crate::db::ConnectOptions {
                require_restricted_role: false,
                max_connections: 1,
            },
        )
        .await?;
        execute(
            &admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
        )
        .await?;
        execute(&admin, &format!("DROP ROLE IF EXISTS {}", self.role)).await?;
        admin.close().await;
        Ok(())
    }
}
