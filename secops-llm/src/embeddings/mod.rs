//! Embeddings over HTTP: OpenAI's `/v1/embeddings` (and compatible servers), and Ollama's `/api/embed`.
//! Both implement [`Embedder`](secops_core::embed::Embedder), split large inputs into batches and check that
//! every text got a vector of the same length.

mod ollama;
mod openai;

pub use ollama::{OllamaEmbeddings, OllamaEmbeddingsConfig};
pub use openai::{OpenAiEmbeddings, OpenAiEmbeddingsConfig};

use secops_core::model::{ProviderError, ProviderErrorKind};

/// Checks a batch's vectors: one per input, all of one length (and of `expected` length when known).
pub(crate) fn check_vectors(
    provider: &str,
    inputs: usize,
    vectors: &[Vec<f32>],
    expected: Option<usize>,
) -> Result<(), ProviderError> {
    let malformed = |m: String| {
        Err(ProviderError::new(
            provider,
            ProviderErrorKind::MalformedResponse,
            m,
        ))
    };
    if vectors.len() != inputs {
        return malformed(format!("{} vectors for {inputs} inputs", vectors.len()));
    }
    let dims = expected.or_else(|| vectors.first().map(Vec::len));
    if let Some(d) = dims
        && let Some(bad) = vectors.iter().position(|v| v.len() != d)
    {
        return malformed(format!(
            "vector {bad} has {} dimensions, expected {d}",
            vectors[bad].len()
        ));
    }
    Ok(())
}
