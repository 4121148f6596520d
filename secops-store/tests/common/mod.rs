//! Test backends: a fresh SQLite file, and a fresh PostgreSQL database migrated by the owner role and used
//! through a restricted application role, as production runs it. PostgreSQL must be reachable: these tests
//! fail, never skip, when it is not.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use secops_store::testing::FreshPostgres;
use secops_store::{ConnectOptions, Dialect, Store};

pub struct Backend {
    pub store: Store,
    /// PostgreSQL: the owner connection (superuser), for tampering and catalog checks.
    pub owner: Option<Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres(FreshPostgres),
}

pub fn admin_url() -> String {
    std::env::var("SECOPS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub async fn sqlite() -> Backend {
    let dir = std::env::temp_dir().join(format!("secops-store-test-{}", uuid::Uuid::now_v7().simple()));
    let url = format!("sqlite://{}/secops.db", dir.display());
    let store = Store::connect(&url, ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    Backend {
        store,
        owner: None,
        cleanup: Cleanup::Dir(dir),
    }
}

pub async fn postgres() -> Backend {
    let admin_url = admin_url();
    let fresh = FreshPostgres::create(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL with pgvector is required for these tests (run scripts/setup-pgvector.sh); {admin_url}: {e}")
    });
    Backend {
        store: fresh.app.clone(),
        owner: Some(fresh.owner.clone()),
        cleanup: Cleanup::Postgres(fresh),
    }
}

pub async fn both() -> Vec<Backend> {
    vec![sqlite().await, postgres().await]
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self.store.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// Drops what the test created (best effort: a failed test leaves a uniquely named database behind).
    pub async fn cleanup(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres(fresh) => {
                let _ = fresh.drop_all().await;
            }
        }
    }
}
