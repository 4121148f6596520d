use serde::Deserialize;
use serde_json::json;

use secops_core::embed::{Embedder, Embeddings};
use secops_core::model::{ProviderError, ProviderErrorKind};

use crate::transport::{HttpTransport, TransportConfig};

/// How to reach Ollama's native embeddings API.
#[derive(Debug, Clone)]
pub struct OllamaEmbeddingsConfig {
    /// The server, e.g. `http://127.0.0.1:11434`.
    pub base_url: String,
    /// The model, e.g. `nomic-embed-text`.
    pub model: String,
    /// The expected vector length, when known.
    pub dimensions: Option<usize>,
    /// Inputs per request.
    pub batch_size: usize,
    /// Time-outs and retries.
    pub transport: TransportConfig,
}

impl OllamaEmbeddingsConfig {
    /// A local Ollama with `model`.
    pub fn local(model: impl Into<String>) -> Self {
        Self {
            base_url: "http://127.0.0.1:11434".into(),
            model: model.into(),
            dimensions: None,
            batch_size: 64,
            transport: TransportConfig::default(),
        }
    }
}

/// Embeddings from Ollama's `POST /api/embed`.
#[derive(Debug)]
pub struct OllamaEmbeddings {
    config: OllamaEmbeddingsConfig,
    url: String,
    transport: HttpTransport,
}

#[derive(Deserialize)]
struct Response {
    embeddings: Vec<Vec<f32>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
}

impl OllamaEmbeddings {
    /// An embedder for `config`.
    pub fn new(config: OllamaEmbeddingsConfig) -> Result<Self, ProviderError> {
        let transport = HttpTransport::new("ollama", config.transport, Vec::new())?;
        let url = format!("{}/api/embed", config.base_url.trim_end_matches('/'));
        Ok(Self {
            config,
            url,
            transport,
        })
    }
}

#[async_trait::async_trait]
impl Embedder for OllamaEmbeddings {
    fn name(&self) -> &str {
        "ollama"
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
            let body =
                serde_json::to_vec(&json!({"model": self.config.model, "input": batch})).map_err(|e| {
                    ProviderError::new("ollama", ProviderErrorKind::InvalidRequest, e.to_string())
                })?;
            let mut response = self
                .transport
                .send(|client| {
                    client
                        .post(&self.url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                })
                .await?;
            let bytes = response.read_all(256 * 1024 * 1024).await?;
            let parsed: Response = serde_json::from_slice(&bytes).map_err(|e| {
                ProviderError::new(
                    "ollama",
                    ProviderErrorKind::MalformedResponse,
                    format!("embed response: {e}"),
                )
            })?;
            super::check_vectors("ollama", batch.len(), &parsed.embeddings, self.config.dimensions)?;
            out.vectors.extend(parsed.embeddings);
            out.input_tokens += parsed.prompt_eval_count.unwrap_or(0);
        }
        Ok(out)
    }
}
