use std::sync::atomic::{AtomicBool, Ordering};

use secops_core::model::{
    EventStream, ModelCapabilities, ModelPricing, ModelProvider, ModelRequest, ProviderError,
    ProviderErrorKind, StreamEvent,
};

use super::{completion, streaming::StreamParser};
use crate::pricing;
use crate::streaming::stream_sse;
use crate::transport::{ApiKey, HttpTransport, LastRateLimit, RateLimit, TransportConfig};

/// The public API endpoint (with `/v1`).
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer KEY` (OpenAI, vLLM, llama.cpp with `--api-key`, Azure v1 with Entra tokens).
    Bearer(ApiKey),
    /// A named header carrying the key, e.g. Azure's `api-key`.
    Header {
        /// Header name.
        name: String,
        /// The key.
        key: ApiKey,
    },
    /// No credentials (a local Ollama or llama.cpp server).
    None,
}

/// Which request field limits output tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens` (current OpenAI; required by reasoning models).
    MaxCompletionTokens,
    /// `max_tokens` (what most compatible servers understand).
    MaxTokens,
}

/// How to reach an OpenAI-style Chat Completions endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// A name for logs and metrics (`openai`, `ollama`, `azure`, ...).
    pub name: String,
    /// The full Chat Completions URL.
    pub chat_url: String,
    /// Query parameters added to every call (Azure's `api-version`).
    pub query: Vec<(String, String)>,
    /// Authentication.
    pub auth: Auth,
    /// The default model (for Azure deployment URLs, the deployment's model, used for pricing).
    pub model: String,
    /// Send tool schemas in strict mode (sanitised to the supported subset).
    pub strict_tools: bool,
    /// The output-token field.
    pub max_tokens_field: MaxTokensField,
    /// Ask for a final usage chunk (`stream_options.include_usage`); switched off automatically when a server
    /// rejects it.
    pub include_usage: bool,
    /// Time-outs and retries.
    pub transport: TransportConfig,
    /// Prices; the built-in table is used when `None`.
    pub pricing: Option<ModelPricing>,
}

impl OpenAiConfig {
    /// OpenAI itself, for `model`.
    pub fn openai(api_key: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            name: "openai".into(),
            chat_url: format!("{DEFAULT_BASE_URL}/chat/completions"),
            query: Vec::new(),
            auth: Auth::Bearer(ApiKey::new(api_key)),
            model: model.into(),
            strict_tools: true,
            max_tokens_field: MaxTokensField::MaxCompletionTokens,
            include_usage: true,
            transport: TransportConfig::default(),
            pricing: None,
        }
    }

    /// Points the configuration at another base URL (one ending in `/v1`, or wherever the server mounts
    /// `chat/completions`).
    #[must_use]
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.chat_url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
        self
    }
}

/// A Chat Completions provider: OpenAI or any compatible server.
#[derive(Debug)]
pub struct OpenAi {
    config: OpenAiConfig,
    transport: HttpTransport,
    url: reqwest::Url,
    include_usage: AtomicBool,
    last_rate_limit: LastRateLimit,
}

impl OpenAi {
    /// A provider for `config`.
    pub fn new(config: OpenAiConfig) -> Result<Self, ProviderError> {
        let secrets = match &config.auth {
            Auth::Bearer(key) | Auth::Header { key, .. } => vec![key.expose().to_owned()],
            Auth::None => Vec::new(),
        };
        let transport = HttpTransport::new(config.name.clone(), config.transport, secrets)?;
        let include_usage = AtomicBool::new(config.include_usage);
        let url = reqwest::Url::parse_with_params(&config.chat_url, &config.query).map_err(|e| {
            ProviderError::new(
                &config.name,
                ProviderErrorKind::InvalidRequest,
                format!("invalid URL `{}`: {e}", config.chat_url),
            )
        })?;
        Ok(Self {
            config,
            transport,
            url,
            include_usage,
            last_rate_limit: LastRateLimit::default(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The rate-limit headers of the latest successful response.
    #[must_use]
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.last_rate_limit.get()
    }

    fn request(&self, client: &reqwest::Client, body: Vec<u8>) -> reqwest::RequestBuilder {
        let builder = client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(body);
        match &self.config.auth {
            Auth::Bearer(key) => builder.bearer_auth(key.expose()),
            Auth::Header { name, key } => builder.header(name.as_str(), key.expose()),
            Auth::None => builder,
        }
    }
}

fn rejects_stream_options(e: &ProviderError) -> bool {
    e.status.is_some_and(|s| (400..500).contains(&s) && s != 429)
        && (e.message.contains("stream_options") || e.message.contains("include_usage"))
}

#[async_trait::async_trait]
impl ModelProvider for OpenAi {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn capabilities(&self) -> ModelCapabilities {
        ModelCapabilities {
            images: true,
            pricing: self
                .config
                .pricing
                .or_else(|| pricing::lookup(&self.config.model)),
            ..ModelCapabilities::tool_capable(self.config.model.clone())
        }
    }

    fn stream<'a>(&'a self, request: &'a ModelRequest<'a>) -> EventStream<'a> {
        let body_for = |include_usage: bool| {
            serde_json::to_vec(&completion::request_body(
                &self.config,
                request,
                true,
                include_usage,
            ))
        };
        let include_usage = self.include_usage.load(Ordering::Relaxed);
        let (with, without) = match (body_for(include_usage), body_for(false)) {
            (Ok(with), Ok(without)) => (with, without),
            (Err(e), _) | (_, Err(e)) => {
                let err = ProviderError::new(
                    &self.config.name,
                    ProviderErrorKind::InvalidRequest,
                    format!("request: {e}"),
                );
                return Box::pin(futures::stream::iter([StreamEvent::Error(err)]));
            }
        };
        let model = request.model.as_deref().unwrap_or(&self.config.model).to_owned();
        let send = async move {
            let first = self
                .transport
                .send(|client| self.request(client, with.clone()))
                .await;
            match first {
                // Some compatible servers refuse `stream_options`; drop it for good and go on without usage.
                Err(e) if include_usage && rejects_stream_options(&e) => {
                    tracing::info!(provider = %self.config.name, "server rejects stream_options; continuing without usage");
                    self.include_usage.store(false, Ordering::Relaxed);
                    self.transport
                        .send(|client| self.request(client, without.clone()))
                        .await
                }
                other => other,
            }
        };
        let name: &'static str = match self.config.name.as_str() {
            "openai" => "openai",
            "azure" => "azure",
            "ollama" => "ollama",
            "vllm" => "vllm",
            "llama.cpp" => "llama.cpp",
            _ => "openai_compatible",
        };
        stream_sse(name, model, send, StreamParser::new(name), &self.last_rate_limit)
    }
}
