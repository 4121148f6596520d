//! [`MemoryIndex`]: a [`ChunkIndex`] in process memory, for tests, examples and small embedded deployments.
//! Vector search is an exact cosine scan; keyword search is BM25 (k1 = 1.2, b = 0.75) over lower-cased words
//! of two or more characters, English stop words left out, computed over the chunks in scope.

use super::cosine;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use secops_core::tenancy::{DocumentId, OrgId};

use super::index::{
    ChunkIndex, IndexError, IndexHit, IndexedChunk, IndexedDocument, MetadataFilter, SearchScope,
};
use crate::chunking::ChunkId;

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has", "have",
    "how", "i", "if", "in", "is", "it", "its", "of", "on", "or", "our", "should", "that", "the", "this",
    "to", "we", "what", "when", "which", "who", "why", "will", "with", "you",
];

/// The words keyword search matches: lower-cased runs of letters and digits, two characters or more, stop
/// words left out.
#[must_use]
pub fn keyword_terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

#[derive(Debug)]
struct StoredChunk {
    chunk: IndexedChunk,
    terms: HashMap<String, u32>,
    length: u32,
}

#[derive(Debug)]
struct StoredDocument {
    document: IndexedDocument,
    chunks: Vec<StoredChunk>,
}

/// A [`ChunkIndex`] in memory. Documents are replaced atomically under a lock; searches scan.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    orgs: RwLock<HashMap<OrgId, HashMap<DocumentId, StoredDocument>>>,
}

impl MemoryIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many chunks the organisation has.
    #[must_use]
    pub fn chunk_count(&self, org: OrgId) -> usize {
        self.orgs
            .read()
            .map(|orgs| {
                orgs.get(&org)
                    .map_or(0, |docs| docs.values().map(|d| d.chunks.len()).sum())
            })
            .unwrap_or(0)
    }

    fn poisoned() -> IndexError {
        IndexError::Storage("the in-memory index lock is poisoned".into())
    }

    /// The chunks in scope, with their documents.
    fn scoped<'a>(
        docs: &'a HashMap<DocumentId, StoredDocument>,
        scope: &SearchScope<'_>,
    ) -> Vec<(&'a StoredDocument, &'a StoredChunk)> {
        docs.values()
            .filter(|d| scope.knowledge_bases.contains(&d.document.knowledge_base))
            .flat_map(|d| d.chunks.iter().map(move |c| (d, c)))
            .filter(|(d, c)| matches(&d.document, &c.chunk, scope.filter))
            .collect()
    }
}

pub(crate) fn check_filter(filter: &MetadataFilter) -> Result<(), IndexError> {
    for (key, value) in filter {
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(IndexError::InvalidInput(format!(
                "metadata key `{key}` must use A-Z, a-z, 0-9, _ and -"
            )));
        }
        if value.is_object() || value.is_array() {
            return Err(IndexError::InvalidInput(
                "metadata filter values must be strings, numbers or booleans".into(),
            ));
        }
    }
    Ok(())
}

fn matches(document: &IndexedDocument, chunk: &IndexedChunk, filter: &MetadataFilter) -> bool {
    filter
        .iter()
        .all(|(k, v)| chunk.chunk.metadata.get(k).or_else(|| document.metadata.get(k)) == Some(v))
}

fn hit(document: &IndexedDocument, chunk: &IndexedChunk, score: f32) -> IndexHit {
    let c = &chunk.chunk;
    IndexHit {
        chunk_id: c.id,
        document_id: document.id,
        knowledge_base: document.knowledge_base,
        title: document.title.clone(),
        source: document.source.clone(),
        text: c.text.clone(),
        heading_path: c.heading_path.clone(),
        page: c.page,
        start: c.start,
        end: c.end,
        score,
        embedding: chunk.embedding.clone(),
    }
}

fn rank(mut hits: Vec<IndexHit>, k: usize) -> Vec<IndexHit> {
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.chunk_id.cmp(&b.chunk_id))
    });
    hits.truncate(k);
    hits
}

#[async_trait::async_trait]
impl ChunkIndex for MemoryIndex {
    async fn replace_document(
        &self,
        org: OrgId,
        document: &IndexedDocument,
        chunks: &[IndexedChunk],
    ) -> Result<(), IndexError> {
        super::check_replacement(document, chunks).map_err(IndexError::InvalidInput)?;
        let stored = StoredDocument {
            document: document.clone(),
            chunks: chunks
                .iter()
                .map(|c| {
                    let words = keyword_terms(&c.chunk.contextual_text());
                    let mut terms = HashMap::new();
                    for w in &words {
                        *terms.entry(w.clone()).or_insert(0) += 1;
                    }
                    StoredChunk {
                        chunk: c.clone(),
                        terms,
                        length: u32::try_from(words.len()).unwrap_or(u32::MAX),
                    }
                })
                .collect(),
        };
        let mut orgs = self.orgs.write().map_err(|_| Self::poisoned())?;
        orgs.entry(org).or_default().insert(document.id, stored);
        Ok(())
    }

    async fn delete_document(&self, org: OrgId, document: DocumentId) -> Result<bool, IndexError> {
        let mut orgs = self.orgs.write().map_err(|_| Self::poisoned())?;
        Ok(orgs
            .get_mut(&org)
            .and_then(|docs| docs.remove(&document))
            .is_some())
    }

    async fn vector_search(
        &self,
        scope: &SearchScope<'_>,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<IndexHit>, IndexError> {
        check_filter(scope.filter)?;
        if query.is_empty() || query.iter().any(|x| !x.is_finite()) {
            return Err(IndexError::InvalidInput(
                "the query vector must be non-empty and finite".into(),
            ));
        }
        let orgs = self.orgs.read().map_err(|_| Self::poisoned())?;
        let Some(docs) = orgs.get(&scope.org) else {
            return Ok(Vec::new());
        };
        let hits = Self::scoped(docs, scope)
            .into_iter()
            .filter_map(|(d, c)| {
                let e = c.chunk.embedding.as_ref().filter(|e| e.len() == query.len())?;
                Some(hit(&d.document, &c.chunk, cosine(query, e)))
            })
            .collect();
        Ok(rank(hits, k))
    }

    async fn keyword_search(
        &self,
        scope: &SearchScope<'_>,
        query: &str,
        k: usize,
    ) -> Result<Vec<IndexHit>, IndexError> {
        check_filter(scope.filter)?;
        let mut words = keyword_terms(query);
        words.sort();
        words.dedup();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let orgs = self.orgs.read().map_err(|_| Self::poisoned())?;
        let Some(docs) = orgs.get(&scope.org) else {
            return Ok(Vec::new());
        };
        let scoped = Self::scoped(docs, scope);
        if scoped.is_empty() {
            return Ok(Vec::new());
        }
        #[allow(clippy::cast_precision_loss)]
        let n = scoped.len() as f32;
        #[allow(clippy::cast_precision_loss)]
        let avg_len = scoped.iter().map(|(_, c)| c.length as f32).sum::<f32>() / n;
        let (k1, b) = (1.2f32, 0.75f32);
        let idf: Vec<f32> = words
            .iter()
            .map(|w| {
                #[allow(clippy::cast_precision_loss)]
                let df = scoped.iter().filter(|(_, c)| c.terms.contains_key(w)).count() as f32;
                ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
            })
            .collect();
        let hits = scoped
            .into_iter()
            .filter_map(|(d, c)| {
                #[allow(clippy::cast_precision_loss)]
                let len = c.length as f32;
                let mut score = 0f32;
                for (w, idf) in words.iter().zip(&idf) {
                    if let Some(&tf) = c.terms.get(w) {
                        #[allow(clippy::cast_precision_loss)]
                        let tf = tf as f32;
                        score += idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / avg_len.max(1.0)));
                    }
                }
                (score > 0.0).then(|| hit(&d.document, &c.chunk, score))
            })
            .collect();
        Ok(rank(hits, k))
    }

    async fn chunks(&self, org: OrgId, ids: &[ChunkId]) -> Result<Vec<IndexHit>, IndexError> {
        let orgs = self.orgs.read().map_err(|_| Self::poisoned())?;
        let Some(docs) = orgs.get(&org) else {
            return Ok(Vec::new());
        };
        let wanted: HashSet<&ChunkId> = ids.iter().collect();
        Ok(docs
            .values()
            .flat_map(|d| d.chunks.iter().map(move |c| (d, c)))
            .filter(|(_, c)| wanted.contains(&c.chunk.chunk.id))
            .map(|(d, c)| hit(&d.document, &c.chunk, 0.0))
            .collect())
    }
}
