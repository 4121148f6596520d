//! # secops-store
//!
//! Persistence for secops, scoped by organisation. One API over two backends chosen by URL:
//! `sqlite://...` (the embedded default, created on first run) and `postgres://...` (row-level security on every
//! tenant table, pgvector for embeddings).
//!
//! Tenant data is reached only through a [`TenantTx`], which can only be made from an
//! [`OrgId`](secops_core::tenancy::OrgId). On PostgreSQL it sets `app.org_id` for row-level security and the
//! server connects as a role without `BYPASSRLS` (checked at start); on SQLite every query filters on the
//! organisation explicitly. The few look-ups that precede an organisation (user by e-mail, a user's
//! memberships, API key by prefix, invitation by token, pending single sign-on by state, user by provider
//! identity) go through [`Store::system`], and nothing else does.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use secops_store::{ConnectOptions, PageRequest, Store};
//! use secops_store::audit::{AuditOutcome, NewAuditEvent};
//!
//! let dir = std::env::temp_dir().join(format!("secops-doc-{}", uuid::Uuid::now_v7()));
//! let store = Store::connect(&format!("sqlite://{}/secops.db", dir.display()), ConnectOptions::default()).await?;
//! store.migrate().await?;
//!
//! let alice = store.create_user("alice@example.com", "Alice", None).await?;
//! let org = store.create_organization("Blue Team", "blue-team", alice.id).await?;
//!
//! let mut tx = store.tenant(org.id).await?;
//! tx.append_audit(NewAuditEvent {
//!     actor_kind: "user".into(),
//!     actor_id: Some(*alice.id.as_uuid()),
//!     action: "org.create".into(),
//!     resource_kind: "organization".into(),
//!     resource_id: Some(org.id.to_string()),
//!     ip: None,
//!     user_agent: None,
//!     context: serde_json::json!({}),
//!     outcome: AuditOutcome::Success,
//! }).await?;
//! assert_eq!(tx.members(&PageRequest::first(10)).await?.items.len(), 1);
//! assert!(tx.verify_audit_chain().await?.first_broken.is_none());
//! tx.commit().await?;
//! # std::fs::remove_dir_all(dir).ok();
//! # Ok::<_, secops_store::StoreError>(())
//! # }).unwrap();
//! ```

pub mod agents;
pub mod audit;
pub mod chats;
pub mod credentials;
pub mod crypto;
mod db;
pub mod detections;
pub mod documents;
mod error;
pub mod feedback;
pub mod files;
pub mod identity;
pub mod knowledge;
mod page;
pub mod queue;
pub mod runs;
pub mod sso;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tool_configs;
pub mod triggers;
mod util;

pub use db::{ConnectOptions, DEFAULT_SQLITE_URL, Dialect, Store, SystemPath, TenantTx};
pub use error::{StoreError, StoreResult};
pub use page::{MAX_PAGE, Page, PageRequest};
