//! Text embeddings: the [`Embedder`] trait that HTTP embedding APIs (`secops-llm`) and local models implement,
//! and that retrieval (`secops-rag`) consumes.

use crate::model::ProviderError;

/// Vectors for a batch of texts.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// One vector per input text, in input order.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens the provider billed, when it says.
    pub input_tokens: u64,
}

/// Turns text into vectors. Shared as `Arc<dyn Embedder>`.
#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// A short name for logs, e.g. `openai` or `ollama`.
    fn name(&self) -> &str;

    /// The length of every vector, when known before the first call.
    fn dimensions(&self) -> Option<usize>;

    /// Embeds `texts`; implementations split large batches as their API requires.
    async fn embed(&self, texts: &[String]) -> Result<Embeddings, ProviderError>;
}
