//! Shared application state.

use std::sync::Arc;

use secops_core::model::ModelProvider;
use secops_store::Store;
use secops_store::crypto::SecretBox;

use crate::config::Config;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Configuration (with keys).
    pub config: Arc<Config>,
    /// Seals tool credentials.
    pub secret_box: SecretBox,
    /// The model provider, when one is configured.
    pub provider: Option<Arc<dyn ModelProvider>>,
    /// Drives runs in this process.
    pub worker: Arc<crate::runs::Worker>,
    /// Counts failed logins.
    pub login_limiter: Arc<crate::auth::limit::LoginLimiter>,
    /// Talks to organisations' identity providers (redirects off, time-outs, size cap).
    pub sso_http: crate::auth::oidc::client::SsoHttp,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("dialect", &self.store.dialect())
            .field("provider", &self.provider.as_ref().map(|p| p.name().to_owned()))
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `store` with `config`; `provider` may be absent (model calls then answer 503).
    pub fn new(store: Store, config: Config, provider: Option<Arc<dyn ModelProvider>>) -> Self {
        let secret_box = SecretBox::new(config.secrets.encryption.clone());
        let sso_http = crate::auth::oidc::client::SsoHttp::new(config.sso_allow_insecure_issuers);
        Self {
            store,
            config: Arc::new(config),
            secret_box,
            provider,
            worker: Arc::default(),
            login_limiter: Arc::default(),
            sso_http,
        }
    }
}
