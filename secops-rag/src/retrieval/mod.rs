//! Retrieval: the [`ChunkIndex`] storage trait, an in-memory index, reciprocal rank fusion, reranking,
//! maximal-marginal-relevance de-duplication and a token budget, composed by
//! [`KnowledgeRetriever`](crate::KnowledgeRetriever).

pub mod budget;
pub mod fusion;
pub mod index;
pub mod memory;
pub mod mmr;
pub mod rerank;

pub use budget::fit_to_budget;
pub use fusion::{FusionConfig, ScoredHit, StageRank, StageScores, fuse, reciprocal_rank_fusion};
pub use index::{
    ChunkIndex, IndexError, IndexHit, IndexedChunk, IndexedDocument, MetadataFilter, SearchScope,
    check_replacement,
};
pub use memory::MemoryIndex;
pub use mmr::{MmrConfig, mmr};
pub use rerank::{
    HttpReranker, HttpRerankerConfig, RerankError, RerankErrorKind, RerankProtocol, RerankScore, Reranker,
    apply_rerank,
};

/// Cosine similarity of two vectors of the same length; 0 when either is all zeros.
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}
