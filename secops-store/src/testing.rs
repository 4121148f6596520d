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
