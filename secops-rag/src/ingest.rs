//! [`Ingestor`]: load → chunk → embed → index, all or nothing.

use std::fmt;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use secops_core::embed::Embedder;
use secops_core::model::{ProviderError, ProviderErrorKind};
use secops_core::tenancy::{DocumentId, KnowledgeBaseId, OrgId};
use serde::{Deserialize, Serialize};

use crate::chunking::{Chunk, Chunker};
use crate::loaders::{ContentHint, LoadError, LoadOptions, MediaType, load};
use crate::retrieval::{ChunkIndex, IndexError, IndexedChunk, IndexedDocument};

/// One file to ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestRequest<'a> {
    /// The organisation it belongs to.
    pub org: OrgId,
    /// Its knowledge base.
    pub knowledge_base: KnowledgeBaseId,
    /// Its document id: ingesting again under the same id replaces the document.
    pub document_id: DocumentId,
    /// The file's bytes.
    pub bytes: &'a [u8],
    /// Its declared media type and name.
    pub hint: ContentHint<'a>,
    /// A title; defaults to the one found in the file, then to `source`.
    pub title: Option<String>,
    /// Where it came from (file name, URL).
    pub source: String,
    /// Metadata for filtering.
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// What an ingestion did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    /// The document.
    pub document_id: DocumentId,
    /// The format it was read as.
    pub media_type: MediaType,
    /// Its title.
    pub title: String,
    /// Chunks indexed.
    pub chunks: usize,
    /// Their tokens, by the chunker's tokenizer.
    pub tokens: usize,
    /// Pages (PDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Records left out for want of text (JSON, NDJSON).
    pub skipped_records: usize,
    /// Whether the chunks were embedded (false: keyword search only).
    pub embedded: bool,
    /// Tokens the embedding provider billed.
    pub embedding_tokens: u64,
}

/// Why an ingestion failed. Nothing of the document was indexed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// The file could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Embedding failed.
    #[error("embedding failed: {0}")]
    Embedding(ProviderError),
    /// The index refused or failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Loads, chunks, embeds and indexes documents. The index receives a document only once every step has
/// succeeded, in one [`ChunkIndex::replace_document`] call, so a failure leaves nothing half-indexed.
pub struct Ingestor {
    index: Arc<dyn ChunkIndex>,
    embedder: Option<Arc<dyn Embedder>>,
    chunker: Chunker,
    options: LoadOptions,
    batch_size: usize,
    concurrency: usize,
}

impl fmt::Debug for Ingestor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ingestor")
            .field("embedder", &self.embedder.as_ref().map(|e| e.name().to_owned()))
            .field("chunker", &self.chunker)
            .field("options", &self.options)
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Ingestor {
    /// An ingestor into `index` with the default chunker and limits, without embeddings (keyword only).
    #[must_use]
    pub fn new(index: Arc<dyn ChunkIndex>) -> Self {
        Self {
            index,
            embedder: None,
            chunker: Chunker::default(),
            options: LoadOptions::default(),
            batch_size: 32,
            concurrency: 2,
        }
    }

    /// Embeds chunks with `embedder`.
    #[must_use]
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// Uses `chunker`.
    #[must_use]
    pub fn with_chunker(mut self, chunker: Chunker) -> Self {
        self.chunker = chunker;
        self
    }

    /// Uses these load limits and JSON options.
    #[must_use]
    pub fn with_load_options(mut self, options: LoadOptions) -> Self {
        self.options = options;
        self
    }

    /// Sends `batch_size` texts per embedding call (at least 1), with up to `concurrency` calls in flight
    /// (at least 1).
    #[must_use]
    pub fn with_batching(mut self, batch_size: usize, concurrency: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self.concurrency = concurrency.max(1);
        self
    }

    /// Embeds chunks (their [`Chunk::contextual_text`]) in batches; every chunk gets a vector of one size, or
    /// the call fails. Without an embedder the chunks are returned without vectors. Also what re-embedding a
    /// knowledge base under a new embedder calls.
    pub async fn embed_chunks(&self, chunks: Vec<Chunk>) -> Result<(Vec<IndexedChunk>, u64), ProviderError> {
        let Some(embedder) = &self.embedder else {
            return Ok((
                chunks
                    .into_iter()
                    .map(|chunk| IndexedChunk {
                        chunk,
                        embedding: None,
                    })
                    .collect(),
                0,
            ));
        };
        let texts: Vec<String> = chunks.iter().map(|c| c.contextual_text().into_owned()).collect();
        let batches: Vec<Vec<String>> = texts.chunks(self.batch_size).map(<[String]>::to_vec).collect();
        let results: Vec<(usize, secops_core::embed::Embeddings)> = futures::stream::iter(batches)
            .map(|batch| {
                let embedder = Arc::clone(embedder);
                async move {
                    let n = batch.len();
                    embedder.embed(&batch).await.map(|e| (n, e))
                }
            })
            .buffered(self.concurrency)
            .try_collect()
            .await?;
        let malformed =
            |m: String| ProviderError::new(embedder.name(), ProviderErrorKind::MalformedResponse, m);
        let mut vectors = Vec::with_capacity(chunks.len());
        let mut billed = 0;
        for (n, out) in results {
            if out.vectors.len() != n {
                return Err(malformed(format!("{} vectors for {n} texts", out.vectors.len())));
            }
            billed += out.input_tokens;
            vectors.extend(out.vectors);
        }
        let dims = embedder
            .dimensions()
            .or_else(|| vectors.first().map(Vec::len))
            .unwrap_or(0);
        if let Some(bad) = vectors
            .iter()
            .position(|v| v.len() != dims || dims == 0 || v.iter().any(|x| !x.is_finite()))
        {
            return Err(malformed(format!(
                "vector {bad} has {} dimensions or non-finite values (expected {dims})",
                vectors[bad].len()
            )));
        }
        Ok((
            chunks
                .into_iter()
                .zip(vectors)
                .map(|(chunk, v)| IndexedChunk {
                    chunk,
                    embedding: Some(v),
                })
                .collect(),
            billed,
        ))
    }

    /// Ingests one file.
    pub async fn ingest(&self, request: IngestRequest<'_>) -> Result<IngestReport, IngestError> {
        let doc = load(request.bytes, &request.hint, &self.options)?;
        let chunks = self.chunker.chunk(request.document_id, &doc);
        let tokens = chunks.iter().map(|c| c.tokens).sum();
        let (chunks, embedding_tokens) = self.embed_chunks(chunks).await.map_err(IngestError::Embedding)?;
        let title = request
            .title
            .filter(|t| !t.trim().is_empty())
            .or(doc.title)
            .unwrap_or_else(|| request.source.clone());
        let document = IndexedDocument {
            id: request.document_id,
            knowledge_base: request.knowledge_base,
            title: title.clone(),
            source: request.source,
            metadata: request.metadata,
        };
        self.index
            .replace_document(request.org, &document, &chunks)
            .await?;
        Ok(IngestReport {
            document_id: request.document_id,
            media_type: doc.media_type,
            title,
            chunks: chunks.len(),
            tokens,
            pages: doc.pages,
            skipped_records: doc.skipped_records,
            embedded: self.embedder.is_some(),
            embedding_tokens,
        })
    }
}
