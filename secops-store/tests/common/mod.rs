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

use secops_store::{ConnectOptions, Dialect, Store};

pub struct Backend {
    pub store: Store,
    /// PostgreSQL: the owner connection (superuser), for tampering and catalog checks.
    pub owner: Option<Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres {
        admin_url: String,
        database: String,
        role: String,
    },
}

pub fn admin_url() -> String {
    std::env::var("SECOPS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, database: &str, user: Option<&str>) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    let base = match user {
        Some(user) => {
            let (scheme, rest) = base.split_once("://").unwrap();
            let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            format!("{scheme}://{user}@{host}")
        }
        None => base.to_owned(),
    };
    format!("{base}/{database}")
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
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let database = format!("secops_test_{suffix}");
    let role = format!("secops_app_{suffix}");
    let owner_opts = ConnectOptions {
        require_restricted_role: false,
        max_connections: 4,
    };
    let admin = Store::connect(&admin_url, owner_opts).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for these tests and is not reachable at {admin_url}: {e}")
    });
    secops_store::testing::execute(&admin, &format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    admin.close().await;
    let owner = Store::connect(&with_database(&admin_url, &database, None), owner_opts)
        .await
        .unwrap();
    owner
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrations (is pgvector installed? run scripts/setup-pgvector.sh): {e}"));
    owner.provision_app_role(&role).await.unwrap();
    let store = Store::connect(
        &with_database(&admin_url, &database, Some(&role)),
        ConnectOptions {
            require_restricted_role: true,
            max_connections: 8,
        },
    )
    .await
    .unwrap();
    assert_eq!(store.dialect(), Dialect::Postgres);
    Backend {
        store,
        owner: Some(owner),
        cleanup: Cleanup::Postgres {
            admin_url,
            database,
            role,
        },
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
        if let Some(owner) = &self.owner {
            owner.close().await;
        }
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres {
                admin_url,
                database,
                role,
            } => {
                let admin = Store::connect(
                    &admin_url,
                    ConnectOptions {
                        require_restricted_role: false,
                        max_connections: 1,
                    },
                )
                .await
                .unwrap();
                let _ = secops_store::testing::execute(
                    &admin,
                    &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
                )
                .await;
                let _ = secops_store::testing::execute(&admin, &format!("DROP ROLE IF EXISTS {role}")).await;
                admin.close().await;
            }
        }
    }
}
