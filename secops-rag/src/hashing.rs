//! [`HashingEmbedder`]: a deterministic, offline [`Embedder`] for tests and examples.

use secops_core::embed::{Embedder, Embeddings};
use secops_core::model::{ProviderError, ProviderErrorKind};

use crate::retrieval::memory::keyword_terms;

/// Feature hashing of keyword terms: each term adds ±1 to one of `dimensions` slots (FNV-1a of the term picks
/// the slot and the sign), and the vector is scaled to unit length. Texts that share words are close; it
/// knows nothing of meaning (`host` and `endpoint` are unrelated to it). For tests, examples and offline
/// demos, not for production retrieval: use an HTTP embedder from `secops-llm` or a local model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingEmbedder {
    dimensions: usize,
}

impl HashingEmbedder {
    /// An embedder of `dimensions` (at least 1) slots.
    #[must_use]
    pub fn new(dimensions: usize) -> Self {
        Self {
            dimensions: dimensions.max(1),
        }
    }

    /// The vector of one text (all zeros for a text without terms).
    #[must_use]
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dimensions];
        for term in keyword_terms(text) {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in term.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            let slot = usize::try_from(h % self.dimensions as u64).unwrap_or(0);
            v[slot] += if h >> 63 == 1 { -1.0 } else { 1.0 };
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut v {
                *x /= norm;
            }
        }
        v
    }
}

#[async_trait::async_trait]
impl Embedder for HashingEmbedder {
    fn name(&self) -> &str {
        "hashing"
    }

    fn dimensions(&self) -> Option<usize> {
        Some(self.dimensions)
    }

    async fn embed(&self, texts: &[String]) -> Result<Embeddings, ProviderError> {
        if texts.len() > 10_000 {
            return Err(ProviderError::new(
                "hashing",
                ProviderErrorKind::InvalidRequest,
                "more than 10,000 texts in one call",
            ));
        }
        Ok(Embeddings {
            vectors: texts.iter().map(|t| self.vector(t)).collect(),
            input_tokens: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_unit_vectors_close_for_shared_words() {
        let e = HashingEmbedder::new(128);
        let a = e.vector("isolate the infected host");
        assert_eq!(a, e.vector("isolate the infected host"));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        let near = e.vector("isolate infected host now");
        let far = e.vector("quarterly budget review");
        assert!(dot(&a, &near) > dot(&a, &far));
        assert!(e.vector("the of").iter().all(|x| *x == 0.0));
    }
}
