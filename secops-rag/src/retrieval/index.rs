//! The storage trait retrieval runs on: [`ChunkIndex`], which `secops-store` implements over SQLite and
//! PostgreSQL and [`MemoryIndex`](super::MemoryIndex) implements in memory.

use secops_core::tenancy::{DocumentId, KnowledgeBaseId, OrgId};
use serde::{Deserialize, Serialize};

use crate::chunking::{Chunk, ChunkId};

/// Exact-match metadata filter: every key must have the given value (strings, numbers, booleans). The same
/// shape as `secops_store::documents::MetadataFilter`.
pub type MetadataFilter = serde_json::Map<String, serde_json::Value>;

/// A document as the index keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedDocument {
    /// Its id.
    pub id: DocumentId,
    /// The knowledge base it belongs to.
    pub knowledge_base: KnowledgeBaseId,
    /// Its title.
    pub title: String,
    /// Where it came from (file name, URL).
    pub source: String,
    /// Its metadata, matched by [`MetadataFilter`]s together with each chunk's own.
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A chunk ready for the index: the chunk and, when the knowledge base has an embedder, its vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedChunk {
    /// The chunk.
    pub chunk: Chunk,
    /// Its embedding (of [`Chunk::contextual_text`]); `None` in a keyword-only knowledge base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
}

/// What to search: one organisation's chunks in some of its knowledge bases, filtered by metadata.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchScope<'a> {
    /// The organisation. An index never returns another organisation's chunks.
    pub org: OrgId,
    /// The knowledge bases searched (at least one).
    pub knowledge_bases: &'a [KnowledgeBaseId],
    /// Document and chunk metadata that must match.
    pub filter: &'a MetadataFilter,
}

/// One search result from an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexHit {
    /// The chunk's id.
    pub chunk_id: ChunkId,
    /// Its document.
    pub document_id: DocumentId,
    /// Its knowledge base.
    pub knowledge_base: KnowledgeBaseId,
    /// The document's title.
    pub title: String,
    /// The document's source.
    pub source: String,
    /// The chunk's text.
    pub text: String,
    /// The headings it sits under.
    pub heading_path: Vec<String>,
    /// Its page (PDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Byte offset of its start in the document's text.
    pub start: usize,
    /// Byte offset just past its end.
    pub end: usize,
    /// The index's score, higher is better: cosine similarity for vector search, a BM25-like rank for
    /// keyword search (not comparable across the two).
    pub score: f32,
    /// The chunk's embedding, when the index returns it (used for MMR de-duplication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
}

/// An index failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The request cannot be served (empty or non-finite vector, a vector of another size than the indexed
    /// ones, a bad filter key, a chunk of another document).
    #[error("invalid index request: {0}")]
    InvalidInput(String),
    /// The storage behind the index failed.
    #[error("index storage failed: {0}")]
    Storage(String),
}

/// Where chunks are kept and searched. Shared as `Arc<dyn ChunkIndex>`.
///
/// Every method is scoped to one organisation; implementations must never read or write another's rows.
#[async_trait::async_trait]
pub trait ChunkIndex: Send + Sync {
    /// Stores `document` with exactly `chunks`, replacing whatever the index held for that document id, in
    /// one transaction: on error nothing of it is stored, and readers never see a mix of old and new chunks.
    async fn replace_document(
        &self,
        org: OrgId,
        document: &IndexedDocument,
        chunks: &[IndexedChunk],
    ) -> Result<(), IndexError>;

    /// Removes a document and its chunks; `false` when there was none.
    async fn delete_document(&self, org: OrgId, document: DocumentId) -> Result<bool, IndexError>;

    /// The `k` chunks nearest to `query` by cosine similarity, best first, among chunks whose embedding has
    /// the query's length.
    async fn vector_search(
        &self,
        scope: &SearchScope<'_>,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<IndexHit>, IndexError>;

    /// The `k` chunks that best match the words of `query`, best first. A chunk matching any word may be
    /// returned; more and rarer words rank higher. Query text is never interpreted as query syntax.
    async fn keyword_search(
        &self,
        scope: &SearchScope<'_>,
        query: &str,
        k: usize,
    ) -> Result<Vec<IndexHit>, IndexError>;

    /// The chunks with these ids, in any order; unknown ids are left out (for resolving citations).
    async fn chunks(&self, org: OrgId, ids: &[ChunkId]) -> Result<Vec<IndexHit>, IndexError>;
}

/// What every [`ChunkIndex::replace_document`] checks before it writes anything: the chunks belong to the
/// document, their embeddings all have one non-zero size (or none has one), and every value is finite. The
/// message says what is wrong.
pub fn check_replacement(document: &IndexedDocument, chunks: &[IndexedChunk]) -> Result<(), String> {
    if let Some(bad) = chunks.iter().find(|c| c.chunk.document_id != document.id) {
        return Err(format!(
            "chunk {} belongs to document {}, not {}",
            bad.chunk.id, bad.chunk.document_id, document.id
        ));
    }
    let dims: std::collections::HashSet<Option<usize>> = chunks
        .iter()
        .map(|c| c.embedding.as_ref().map(Vec::len))
        .collect();
    if dims.len() > 1 || dims.contains(&Some(0)) {
        return Err("every chunk needs an embedding of the same, non-zero size, or none has one".into());
    }
    if chunks.iter().any(|c| {
        c.embedding
            .as_ref()
            .is_some_and(|e| e.iter().any(|x| !x.is_finite()))
    }) {
        return Err("embeddings must be finite numbers".into());
    }
    Ok(())
}
