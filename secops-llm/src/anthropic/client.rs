use secops_core::model::{
    EventStream, ModelCapabilities, ModelPricing, ModelProvider, ModelRequest, ProviderError,
    ProviderErrorKind, StreamEvent,
};

use super::{completion, streaming::StreamParser};
use crate::pricing;
use crate::streaming::stream_sse;
use crate::transport::{ApiKey, HttpTransport, LastRateLimit, RateLimit, TransportConfig};

/// The public API endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The API version header value this implementation speaks.
pub const DEFAULT_VERSION: &str = "2023-06-01";

/// How to reach Anthropic and which model to use.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// The API key (`x-api-key`).
    pub api_key: ApiKey,
    /// The endpoint, without `/v1/messages`.
    pub base_url: String,
    /// The default model, e.g. `claude-sonnet-4-5`.
    pub model: String,
    /// The `anthropic-version` header.
    pub version: String,
    /// Mark the system prompt and tool list as cacheable (`cache_control: ephemeral`).
    pub prompt_caching: bool,
    /// Enable extended thinking with this many budget tokens.
    pub thinking_budget: Option<u32>,
    /// `max_tokens` when the request does not set one (the API requires it).
    pub default_max_tokens: u32,
    /// Time-outs and retries.
    pub transport: TransportConfig,
    /// Prices; the built-in table is used when `None`.
    pub pricing: Option<ModelPricing>,
}

impl AnthropicConfig {
    /// The defaults for `model` with `api_key`.
    pub fn new(api_key: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            api_key: ApiKey::new(api_key),
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: model.into(),
            version: DEFAULT_VERSION.to_owned(),
            prompt_caching: true,
            thinking_budget: None,
            default_max_tokens: 4096,
            transport: TransportConfig::default(),
            pricing: None,
        }
    }
}

/// Claude through the Anthropic Messages API.
#[derive(Debug)]
pub struct Anthropic {
    config: AnthropicConfig,
    transport: HttpTransport,
    url: String,
    last_rate_limit: LastRateLimit,
}

impl Anthropic {
    /// A provider for `config`.
    pub fn new(config: AnthropicConfig) -> Result<Self, ProviderError> {
        let transport = HttpTransport::new(
            "anthropic",
            config.transport,
            vec![config.api_key.expose().to_owned()],
        )?;
        let url = format!("{}/v1/messages", config.base_url.trim_end_matches('/'));
        Ok(Self {
            config,
            transport,
            url,
            last_rate_limit: LastRateLimit::default(),
        })
    }

    /// The rate-limit headers of the latest successful response.
    #[must_use]
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.last_rate_limit.get()
    }
}

#[async_trait::async_trait]
impl ModelProvider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn capabilities(&self) -> ModelCapabilities {
        ModelCapabilities {
            reasoning: self.config.thinking_budget.is_some(),
            images: true,
            context_window: Some(200_000),
            pricing: self
                .config
                .pricing
                .or_else(|| pricing::lookup(&self.config.model)),
            ..ModelCapabilities::tool_capable(self.config.model.clone())
        }
    }

    fn stream<'a>(&'a self, request: &'a ModelRequest<'a>) -> EventStream<'a> {
        let body = match serde_json::to_vec(&completion::request_body(&self.config, request, true)) {
            Ok(body) => body,
            Err(e) => {
                let err = ProviderError::new(
                    "anthropic",
                    ProviderErrorKind::InvalidRequest,
                    format!("request: {e}"),
                );
                return Box::pin(futures::stream::iter([StreamEvent::Error(err)]));
            }
        };
        let model = request.model.as_deref().unwrap_or(&self.config.model).to_owned();
        let send = self.transport.send(move |client| {
            client
                .post(&self.url)
                .header("x-api-key", self.config.api_key.expose())
                .header("anthropic-version", &self.config.version)
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .body(body.clone())
        });
        stream_sse(
            "anthropic",
            model,
            send,
            StreamParser::new(),
            &self.last_rate_limit,
        )
    }
}
