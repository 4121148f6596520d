//! Shared application state.

use std::sync::Arc;

use secops_core::model::ModelProvider;
use secops_core::tool::ToolRegistry;
use secops_store::Store;
use secops_store::crypto::SecretBox;
use secops_store::files::{FileStore, LocalFileStore};

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
    /// Every tool this server offers; each agent gets the ones it names.
    pub tools: Arc<ToolRegistry>,
    /// Tools built from organisations' tool configurations, reused while a configuration is unchanged.
    pub configured_tools: Arc<crate::tools::ConfiguredTools>,
    /// Each organisation's compiled detection rules and correlation state.
    pub detect_engines: Arc<crate::detections::OrgEngines>,
    /// Drives runs in this process.
    pub worker: Arc<crate::runs::Worker>,
    /// Where attachment bytes go; `None` keeps them under the data directory.
    pub files: Option<Arc<dyn FileStore>>,
    /// The data-directory store, made on first use (creating its folder once, not per request).
    default_files: Arc<std::sync::OnceLock<Arc<dyn FileStore>>>,
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
        let worker = Arc::new(crate::runs::Worker::new(
            config.run_worker,
            config.worker_concurrency,
        ));
        let sso_http = crate::auth::oidc::client::SsoHttp::new(config.sso_allow_insecure_issuers);
        Self {
            store,
            config: Arc::new(config),
            secret_box,
            provider,
            tools: Arc::default(),
            configured_tools: Arc::default(),
            detect_engines: Arc::default(),
            worker,
            files: None,
            default_files: Arc::default(),
            login_limiter: Arc::default(),
            sso_http,
        }
    }

    /// The tools agents may use (a server embedding secops registers its own here).
    #[must_use]
    pub fn with_tools(mut self, tools: ToolRegistry) -> Self {
        self.tools = Arc::new(tools);
        self
    }

    /// Keeps attachment bytes in `files` (e.g. [`ObjectStoreFiles`](secops_store::files::ObjectStoreFiles) on S3)
    /// instead of the data directory.
    #[must_use]
    pub fn with_files(mut self, files: Arc<dyn FileStore>) -> Self {
        self.files = Some(files);
        self
    }

    /// The attachment store.
    pub fn files(&self) -> Result<Arc<dyn FileStore>, secops_store::StoreError> {
        if let Some(f) = self.files.as_ref().or_else(|| self.default_files.get()) {
            return Ok(Arc::clone(f));
        }
        let local: Arc<dyn FileStore> =
            Arc::new(LocalFileStore::new(self.config.data_dir.join("attachments"))?);
        Ok(Arc::clone(self.default_files.get_or_init(|| local)))
    }
}
