use serde::Deserialize;
use serde_json::json;

use secops_core::embed::{Embedder, Embeddings};
use secops_core::model::{ProviderError, ProviderErrorKind};

use crate::openai::Auth;
use crate::transport::{ApiKey, HttpTransport, TransportConfig};

/// How to reach an OpenAI-style embeddings endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiEmbeddingsConfig {
    /// A name for logs (`openai`, `azure`, `vllm`, ...).
    pub name: String,
    /// The full embeddings URL, e.g. `https://api.openai.com/v1/embeddings`.
    pub url: String,
    /// Authentication.
    pub auth: Auth,
    /// The model, e.g. `text-embedding-3-small`.
    pub model: String,
    /// Ask for shorter vectors (text-embedding-3 models); also the expected length of every vector.
    pub dimensions: Option<usize>,
    /// Inputs per request (OpenAI accepts up to 2,048).
    pub batch_size: usize,
    /// Time-outs and retries.
    pub transport: TransportConfig,
}

impl OpenAiEmbeddingsConfig {
    /// OpenAI with `api_key` and `model`.
    pub fn openai(api_key: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            name: "openai".into(),
            url: "https://api.openai.com/v1/embeddings".into(),
            auth: Auth::Bearer(ApiKey::new(api_key)),
            model: model.into(),
            dimensions: None,
            batch_size: 256,
            transport: TransportConfig::default(),
        }
    }
}

/// Embeddings from an OpenAI-style `/embeddings` endpoint.
#[derive(Debug)]
pub struct OpenAiEmbeddings {
    config: OpenAiEmbeddingsConfig,
    transport: HttpTransport,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
}

impl OpenAiEmbeddings {
    /// An embedder for `config`.
    pub fn new(config: OpenAiEmbeddingsConfig) -> Result<Self, ProviderError> {
        let secrets = match &config.auth {
            Auth::Bearer(key) | Auth::Header { key, .. } => vec![key.expose().to_owned()],
            Auth::None => Vec::new(),
        };
        let transport = HttpTransport::new(config.name.clone(), config.transport, secrets)?;
        Ok(Self { config, transport })
    }

    async fn batch(&self, texts: &[String]) -> Result<(Vec<Vec<f32>>, u64), ProviderError> {
        let mut body = json!({"model": self.config.model, "input": texts, "encoding_format": "float"});
        if let Some(d) = self.config.dimensions {
            body["dimensions"] = json!(d);
        }
        let body = serde_json::to_vec(&body).map_err(|e| {
            ProviderError::new(
                &self.config.name,
                ProviderErrorKind::InvalidRequest,
                e.to_string(),
            )
        })?;
        let mut response = self
            .transport
            .send(|client| {
                let builder = client
                    .post(&self.config.url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                match &self.config.auth {
                    Auth::Bearer(key) => builder.bearer_auth(key.expose()),
                    Auth::Header { name, key } => builder.header(name.as_str(), key.expose()),
                    Auth::None => builder,
                }
            })
            .await?;
        let bytes = response.read_all(256 * 1024 * 1024).await?;
        let parsed: Response = serde_json::from_slice(&bytes).map_err(|e| {
            ProviderError::new(
                &self.config.name,
                ProviderErrorKind::MalformedResponse,
                format!("embeddings response: {e}"),
            )
        })?;
        let mut items = parsed.data;
        items.sort_by_key(|i| i.index);
        let vectors: Vec<Vec<f32>> = items.into_iter().map(|i| i.embedding).collect();
        super::check_vectors(&self.config.name, texts.len(), &vectors, self.config.dimensions)?;
        Ok((vectors, parsed.usage.map_or(0, |u| u.prompt_tokens)))
    }
}

#[async_trait::async_trait]
impl Embedder for OpenAiEmbeddings {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn dimensions(&self) -> Option<usize> {
        self.config.dimensions
    }

    async fn embed(&self, texts: &[String]) -> Result<Embeddings, ProviderError> {
        let mut out = Embeddings {
            vectors: Vec::with_capacity(texts.len()),
            input_tokens: 0,
        };
        for batch in texts.chunks(self.config.batch_size.max(1)) {
            let (vectors, tokens) = self.batch(batch).await?;
            out.vectors.extend(vectors);
            out.input_tokens += tokens;
        }
        Ok(out)
    }
}
