//! secops-rag's [`ChunkIndex`] over the store: knowledge-base documents and their chunks, searched by vector
//! and by keyword, always inside one organisation.
//!
//! [`StoreIndex`] is the index to hand to secops-rag (`Arc<dyn ChunkIndex>`); each call runs in its own
//! [`TenantTx`]. The same operations exist on [`TenantTx`] (`replace_indexed_document`, ...) for callers that
//! must combine them with other writes in one transaction (an ingestion job that also records its status).
//!
//! It behaves like secops-rag's [`MemoryIndex`](secops_rag::retrieval::MemoryIndex):
//!
//! - **Replace** deletes the document (and, by cascade, its chunks) and inserts the new version inside a
//!   savepoint: on any failure the old version stays, and the surrounding transaction stays usable.
//! - **Vector search** ranks by cosine similarity among chunks whose embedding has the query's size. PostgreSQL
//!   uses pgvector's HNSW index for the indexed sizes ([`INDEXED_DIMENSIONS`]) with `hnsw.iterative_scan` so
//!   the organisation, knowledge-base and metadata filters do not starve the result, and an exact scan
//!   otherwise; SQLite scans exactly.
//! - **Keyword search** matches the heading context and text of a chunk against *any* word of the query
//!   (the words of [`keyword_terms`]: user text never reaches a query parser as syntax, and is always bound).
//!   SQLite ranks with FTS5's `bm25()` over an `OR` of quoted words. PostgreSQL matches
//!   `websearch_to_tsquery('english', 'w1 or w2 ...')` and ranks by the sum over words of a BM25-style
//!   inverse document frequency (computed over the chunks in scope) times `ts_rank_cd` of that word
//!   (normalised by length and saturating), so more and rarer words rank higher. English stemming applies
//!   on PostgreSQL (`isolating` matches `isolate`); FTS5 and the in-memory index match whole words.
//! - **Metadata filters** compare each key of the chunk's metadata (the document's merged with the record's
//!   own, the record's winning) for equality, in SQL on both backends.
//! - Scores are "higher is better" like the in-memory index's (cosine; BM25-like), ties broken by chunk id.
//!
//! Rows are scoped by organisation: PostgreSQL's row-level security (`app.org_id` set by the tenant
//! transaction) and an explicit `organization_id` filter in every statement on both backends. Documents stored
//! through the older [`documents`](crate::documents) API have no knowledge base and are never returned here.

use std::collections::{HashMap, HashSet};

use secops_core::tenancy::{DocumentId, KnowledgeBaseId, OrgId};
use secops_rag::chunking::{Chunk, ChunkId};
use secops_rag::retrieval::memory::keyword_terms;
use secops_rag::retrieval::{
    ChunkIndex, IndexError, IndexHit, IndexedChunk, IndexedDocument, MetadataFilter, SearchScope,
};
use sqlx::types::Json;
use uuid::Uuid;

pub use crate::documents::INDEXED_DIMENSIONS;

use crate::db::{Dialect, Inner, Store, TenantTx, fsql, on_tx};
use crate::documents::{check_filter, cosine, from_blob, to_blob};
use crate::error::{StoreError, StoreResult};
use crate::util::now;

/// The largest embedding the index stores (pgvector's limit for the `vector` type).
pub const MAX_DIMENSIONS: usize = 16_000;

/// Chunk ids looked up per statement (SQLite limits bound parameters per statement).
const LOOKUP_BATCH: usize = 500;

/// [`ChunkIndex`] over a [`Store`], on SQLite or PostgreSQL. Cheap to clone (it shares the pool).
#[derive(Debug, Clone)]
pub struct StoreIndex {
    store: Store,
}

impl StoreIndex {
    /// The index over `store`.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The store it runs on.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl From<Store> for StoreIndex {
    fn from(store: Store) -> Self {
        Self::new(store)
    }
}

impl From<StoreError> for IndexError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidInput(m) => IndexError::InvalidInput(m),
            StoreError::Duplicate(_) => IndexError::InvalidInput(
                "a document or chunk with that id already exists (chunk ids must be unique)".into(),
            ),
            other => IndexError::Storage(other.to_string()),
        }
    }
}

#[async_trait::async_trait]
impl ChunkIndex for StoreIndex {
    async fn replace_document(
        &self,
        org: OrgId,
        document: &IndexedDocument,
        chunks: &[IndexedChunk],
    ) -> Result<(), IndexError> {
        let mut tx = self.store.tenant(org).await?;
        tx.replace_indexed_document(document, chunks).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_document(&self, org: OrgId, document: DocumentId) -> Result<bool, IndexError> {
        let mut tx = self.store.tenant(org).await?;
        let deleted = tx.delete_indexed_document(document).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn vector_search(
        &self,
        scope: &SearchScope<'_>,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<IndexHit>, IndexError> {
        let mut tx = self.store.tenant_read(scope.org).await?;
        let hits = tx
            .index_vector_search(scope.knowledge_bases, scope.filter, query, k)
            .await?;
        tx.commit().await?;
        Ok(hits)
    }

    async fn keyword_search(
        &self,
        scope: &SearchScope<'_>,
        query: &str,
        k: usize,
    ) -> Result<Vec<IndexHit>, IndexError> {
        let mut tx = self.store.tenant_read(scope.org).await?;
        let hits = tx
            .index_keyword_search(scope.knowledge_bases, scope.filter, query, k)
            .await?;
        tx.commit().await?;
        Ok(hits)
    }

    async fn chunks(&self, org: OrgId, ids: &[ChunkId]) -> Result<Vec<IndexHit>, IndexError> {
        let mut tx = self.store.tenant_read(org).await?;
        let hits = tx.indexed_chunks(ids).await?;
        tx.commit().await?;
        Ok(hits)
    }
}

/// A bound value of a dynamically assembled statement.
enum Arg {
    Uuid(Uuid),
    Text(String),
    Json(serde_json::Value),
    Int(i64),
}

/// Bound values in placeholder order: `push` returns the placeholder (`$N`) of the value it adds.
#[derive(Default)]
struct Args(Vec<Arg>);

impl Args {
    fn push(&mut self, arg: Arg) -> String {
        self.0.push(arg);
        format!("${}", self.0.len())
    }

    /// The placeholder of the `n`-th (from 1) value bound after these.
    fn after(&self, n: usize) -> String {
        format!("${}", self.0.len() + n)
    }
}

/// Binds [`Args`] in order onto a query of either backend.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in &$args.0 {
            q = match arg {
                Arg::Uuid(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Json(v) => q.bind(Json(v.clone())),
                Arg::Int(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// The `WHERE` conditions on chunk rows `k` for one organisation, some knowledge bases (at least one) and a
/// metadata filter (checked by [`check_filter`]). Only placeholders and constants go into the text.
fn scope_sql(
    args: &mut Args,
    dialect: Dialect,
    org: OrgId,
    knowledge_bases: &[KnowledgeBaseId],
    filter: &MetadataFilter,
) -> String {
    let mut sql = format!("k.organization_id = {}", args.push(Arg::Uuid(*org.as_uuid())));
    let kbs: Vec<String> = knowledge_bases
        .iter()
        .map(|kb| args.push(Arg::Uuid(*kb.as_uuid())))
        .collect();
    sql.push_str(&format!(" AND k.knowledge_base_id IN ({})", kbs.join(", ")));
    for (key, value) in filter {
        match dialect {
            Dialect::Postgres => {
                let key = args.push(Arg::Text(key.clone()));
                let value = args.push(Arg::Json(value.clone()));
                sql.push_str(&format!(" AND (k.metadata -> {key}) = {value}"));
            }
            Dialect::Sqlite => {
                // The type check keeps `true` from matching 1, as JSON equality does.
                let path = args.push(Arg::Text(format!("$.\"{key}\"")));
                let value = args.push(Arg::Text(value.to_string()));
                sql.push_str(&format!(
                    " AND json_type(k.metadata, {path}) = json_type({value}) \
                     AND json_extract(k.metadata, {path}) IS json_extract({value}, '$')"
                ));
            }
        }
    }
    sql
}

/// What [`Chunk::contextual_text`] puts before the text (the heading path), matched by keyword search.
fn context_of(chunk: &Chunk) -> String {
    let full = chunk.contextual_text();
    full.strip_suffix(chunk.text.as_str())
        .unwrap_or("")
        .trim_end()
        .to_owned()
}

fn validate(document: &IndexedDocument, chunks: &[IndexedChunk]) -> StoreResult<()> {
    secops_rag::retrieval::check_replacement(document, chunks).map_err(StoreError::InvalidInput)?;
    let dims: HashSet<Option<usize>> = chunks
        .iter()
        .map(|c| c.embedding.as_ref().map(Vec::len))
        .collect();
    if dims.iter().flatten().any(|d| *d > MAX_DIMENSIONS) {
        return Err(StoreError::InvalidInput(format!(
            "embeddings may have at most {MAX_DIMENSIONS} dimensions"
        )));
    }
    let mut seen = HashSet::new();
    if let Some(dup) = chunks.iter().find(|c| !seen.insert(c.chunk.id)) {
        return Err(StoreError::InvalidInput(format!(
            "chunk id {} appears twice",
            dup.chunk.id
        )));
    }
    Ok(())
}

fn too_large(what: &str) -> StoreError {
    StoreError::InvalidInput(format!("{what} is too large to store"))
}

/// The columns of a hit every backend reads alike: chunk id, document id, knowledge base, title, source,
/// text, heading path, page, start and end offsets.
type HitColumns = (
    Uuid,
    Uuid,
    Option<Uuid>,
    String,
    String,
    String,
    Json<Vec<String>>,
    Option<i32>,
    i64,
    i64,
);
/// [`HitColumns`] and the embedding as pgvector reads it.
type PgHitRow = (
    Uuid,
    Uuid,
    Option<Uuid>,
    String,
    String,
    String,
    Json<Vec<String>>,
    Option<i32>,
    i64,
    i64,
    Option<pgvector::Vector>,
);
/// [`HitColumns`] and the embedding as SQLite stores it (little-endian `f32`s).
type SqliteHitRow = (
    Uuid,
    Uuid,
    Option<Uuid>,
    String,
    String,
    String,
    Json<Vec<String>>,
    Option<i32>,
    i64,
    i64,
    Option<Vec<u8>>,
);

const HIT_COLUMNS: &str = "k.id, k.document_id, k.knowledge_base_id, d.title, d.source, k.text, k.heading_path, \
     k.page, k.start_offset, k.end_offset, k.embedding";

fn make_hit(columns: HitColumns, embedding: Option<Vec<f32>>) -> StoreResult<IndexHit> {
    let (id, document, kb, title, source, text, heading_path, page, start, end) = columns;
    let corrupt = |what: &str| StoreError::Database(format!("chunk {id} has an invalid {what}"));
    Ok(IndexHit {
        chunk_id: ChunkId::from_bytes(*id.as_bytes()),
        document_id: DocumentId::from_uuid(document),
        knowledge_base: KnowledgeBaseId::from_uuid(kb.ok_or_else(|| corrupt("knowledge base"))?),
        title,
        source,
        text,
        heading_path: heading_path.0,
        page: page.map(u32::try_from).transpose().map_err(|_| corrupt("page"))?,
        start: usize::try_from(start).map_err(|_| corrupt("start offset"))?,
        end: usize::try_from(end).map_err(|_| corrupt("end offset"))?,
        score: 0.0,
        embedding,
    })
}

/// Best first, ties by chunk id (as the in-memory index orders them).
fn rank(hits: &mut [IndexHit]) {
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.chunk_id.cmp(&b.chunk_id))
    });
}

#[allow(clippy::cast_possible_truncation)]
fn score_of(x: f64) -> f32 {
    if x.is_finite() { x as f32 } else { 0.0 }
}

impl TenantTx {
    /// Stores `document` with exactly `chunks`, replacing the organisation's document with that id and all its
    /// chunks. The chunks' metadata is stored merged over the document's (for filters). Runs inside a savepoint:
    /// on error nothing changed and the transaction stays usable. Fails with
    /// [`InvalidInput`](StoreError::InvalidInput) for chunks of another document, embeddings of mixed or zero
    /// size, non-finite numbers or repeated chunk ids, and with [`Duplicate`](StoreError::Duplicate) when a
    /// chunk id is taken by another document.
    pub async fn replace_indexed_document(
        &mut self,
        document: &IndexedDocument,
        chunks: &[IndexedChunk],
    ) -> StoreResult<()> {
        validate(document, chunks)?;
        on_tx!(self, c => sqlx::query("SAVEPOINT secops_replace_document").execute(c).await.map(|_| ()))?;
        let result = self.replace_unguarded(document, chunks).await;
        if result.is_err() {
            on_tx!(self, c => sqlx::query("ROLLBACK TO SAVEPOINT secops_replace_document").execute(c).await.map(|_| ()))?;
        }
        on_tx!(self, c => sqlx::query("RELEASE SAVEPOINT secops_replace_document").execute(c).await.map(|_| ()))?;
        result
    }

    async fn replace_unguarded(
        &mut self,
        document: &IndexedDocument,
        chunks: &[IndexedChunk],
    ) -> StoreResult<()> {
        let org = *self.org.as_uuid();
        let (id, kb) = (*document.id.as_uuid(), *document.knowledge_base.as_uuid());
        let t = now();
        on_tx!(self, c => sqlx::query("DELETE FROM documents WHERE organization_id = $1 AND id = $2")
            .bind(org).bind(id).execute(c).await.map(|_| ()))?;
        let doc_metadata = serde_json::Value::Object(document.metadata.clone());
        on_tx!(self, c => sqlx::query(
            "INSERT INTO documents (organization_id, id, knowledge_base_id, title, source, metadata, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(org).bind(id).bind(kb).bind(&document.title).bind(&document.source).bind(Json(&doc_metadata))
            .bind(t).execute(c).await.map(|_| ()))?;
        let sql =
            "INSERT INTO chunks (organization_id, id, document_id, knowledge_base_id, ordinal, text, context,
                       heading_path, page, start_offset, end_offset, metadata, dims, embedding, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
        for indexed in chunks {
            let chunk = &indexed.chunk;
            let mut metadata = document.metadata.clone();
            metadata.extend(chunk.metadata.clone());
            let metadata = serde_json::Value::Object(metadata);
            let ordinal = i32::try_from(chunk.ordinal).map_err(|_| too_large("the chunk ordinal"))?;
            let page = chunk
                .page
                .map(i32::try_from)
                .transpose()
                .map_err(|_| too_large("the page number"))?;
            let start = i64::try_from(chunk.start).map_err(|_| too_large("the start offset"))?;
            let end = i64::try_from(chunk.end).map_err(|_| too_large("the end offset"))?;
            // At most MAX_DIMENSIONS (checked above).
            let dims = indexed
                .embedding
                .as_ref()
                .map(|e| i32::try_from(e.len()))
                .transpose()
                .map_err(|_| too_large("the embedding"))?;
            let chunk_id = Uuid::from_bytes(*chunk.id.as_bytes());
            let context = context_of(chunk);
            let heading_path = Json(&chunk.heading_path);
            match &mut self.inner {
                Inner::Sqlite(tx) => {
                    sqlx::query(sql)
                        .bind(org)
                        .bind(chunk_id)
                        .bind(id)
                        .bind(kb)
                        .bind(ordinal)
                        .bind(&chunk.text)
                        .bind(&context)
                        .bind(heading_path)
                        .bind(page)
                        .bind(start)
                        .bind(end)
                        .bind(Json(&metadata))
                        .bind(dims)
                        .bind(indexed.embedding.as_deref().map(to_blob))
                        .bind(t)
                        .execute(&mut **tx)
                        .await?;
                }
                Inner::Postgres(tx) => {
                    sqlx::query(sql)
                        .bind(org)
                        .bind(chunk_id)
                        .bind(id)
                        .bind(kb)
                        .bind(ordinal)
                        .bind(&chunk.text)
                        .bind(&context)
                        .bind(heading_path)
                        .bind(page)
                        .bind(start)
                        .bind(end)
                        .bind(Json(&metadata))
                        .bind(dims)
                        .bind(indexed.embedding.clone().map(pgvector::Vector::from))
                        .bind(t)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Deletes the organisation's document with this id and its chunks; `false` when there was none (another
    /// organisation's document of that id is never touched).
    pub async fn delete_indexed_document(&mut self, id: DocumentId) -> StoreResult<bool> {
        let org = self.org;
        let n = on_tx!(self, c => sqlx::query("DELETE FROM documents WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(id.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The `k` chunks of these knowledge bases nearest to `query` by cosine similarity, best first, among the
    /// chunks matching `filter` whose embedding has the query's size. See the [module](self) docs.
    pub async fn index_vector_search(
        &mut self,
        knowledge_bases: &[KnowledgeBaseId],
        filter: &MetadataFilter,
        query: &[f32],
        k: usize,
    ) -> StoreResult<Vec<IndexHit>> {
        check_filter(filter)?;
        if query.is_empty() || query.iter().any(|x| !x.is_finite()) {
            return Err(StoreError::InvalidInput(
                "the query vector must be non-empty and finite".into(),
            ));
        }
        let dims = query.len();
        if k == 0 || knowledge_bases.is_empty() || dims > MAX_DIMENSIONS {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(k).unwrap_or(i64::MAX);
        let org = self.org;
        let mut args = Args::default();
        let scored: Vec<(Uuid, f32)> = match &mut self.inner {
            Inner::Postgres(tx) => {
                let scope = scope_sql(&mut args, Dialect::Postgres, org, knowledge_bases, filter);
                let lim = args.push(Arg::Int(limit));
                let vector = args.after(1);
                // Candidate list size: see `documents::vector_search` and the store benchmark.
                let ef = (k.saturating_mul(10)).clamp(100, 1000);
                sqlx::query(fsql!("SET LOCAL hnsw.ef_search = {ef}"))
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("SET LOCAL hnsw.iterative_scan = relaxed_order")
                    .execute(&mut **tx)
                    .await?;
                // The expression and the `dims` literal must match the partial index for the planner to use it
                // (a bound parameter cannot prove the index predicate); `dims` is a number.
                let column = if INDEXED_DIMENSIONS.contains(&dims) {
                    format!("k.embedding::vector({dims})")
                } else {
                    "k.embedding".to_owned()
                };
                let sql = fsql!(
                    "SELECT id, distance FROM (
                        SELECT k.id, ({column} <=> {vector}) AS distance FROM chunks k
                        WHERE {scope} AND k.dims = {dims}
                        ORDER BY {column} <=> {vector} LIMIT {lim}) hits
                     ORDER BY distance"
                );
                let q = bind_args!(sqlx::query_as::<_, (Uuid, Option<f64>)>(sql), args);
                q.bind(pgvector::Vector::from(query.to_vec()))
                    .fetch_all(&mut **tx)
                    .await?
                    .into_iter()
                    .map(|(id, distance)| (id, score_of(1.0 - distance.unwrap_or(1.0))))
                    .collect()
            }
            Inner::Sqlite(tx) => {
                let scope = scope_sql(&mut args, Dialect::Sqlite, org, knowledge_bases, filter);
                let d = args.push(Arg::Int(i64::try_from(dims).unwrap_or(i64::MAX)));
                let sql = fsql!("SELECT k.id, k.embedding FROM chunks k WHERE {scope} AND k.dims = {d}");
                let rows: Vec<(Uuid, Vec<u8>)> =
                    bind_args!(sqlx::query_as(sql), args).fetch_all(&mut **tx).await?;
                let mut scored: Vec<(Uuid, f32)> = rows
                    .into_iter()
                    .map(|(id, blob)| (id, cosine(query, &from_blob(&blob))))
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                scored.truncate(k);
                scored
            }
        };
        self.ranked(scored, k).await
    }

    /// The `k` chunks of these knowledge bases matching `filter` that best match the words of `query`, best
    /// first: any word may match; more and rarer words rank higher. See the [module](self) docs.
    pub async fn index_keyword_search(
        &mut self,
        knowledge_bases: &[KnowledgeBaseId],
        filter: &MetadataFilter,
        query: &str,
        k: usize,
    ) -> StoreResult<Vec<IndexHit>> {
        check_filter(filter)?;
        let mut words = keyword_terms(query);
        words.sort();
        words.dedup();
        if words.is_empty() || k == 0 || knowledge_bases.is_empty() {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(k).unwrap_or(i64::MAX);
        let org = self.org;
        let scored: Vec<(Uuid, f32)> = match &mut self.inner {
            Inner::Sqlite(tx) => {
                let mut args = Args::default();
                // Quoted words joined by OR: FTS5 reads them as plain strings, whatever they contain.
                let matching = words
                    .iter()
                    .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                let m = args.push(Arg::Text(matching));
                let scope = scope_sql(&mut args, Dialect::Sqlite, org, knowledge_bases, filter);
                let lim = args.push(Arg::Int(limit));
                let sql = fsql!(
                    "SELECT k.id, -bm25(chunks_fts) FROM chunks_fts JOIN chunks k ON k.rowid = chunks_fts.rowid
                     WHERE chunks_fts MATCH {m} AND {scope}
                     ORDER BY bm25(chunks_fts), k.id LIMIT {lim}"
                );
                let rows: Vec<(Uuid, f64)> =
                    bind_args!(sqlx::query_as(sql), args).fetch_all(&mut **tx).await?;
                rows.into_iter().map(|(id, s)| (id, score_of(s))).collect()
            }
            Inner::Postgres(tx) => {
                // Document frequency of each word among the chunks in scope; words without a lexeme in
                // English (stop words) are dropped.
                let mut args = Args::default();
                let scope = scope_sql(&mut args, Dialect::Postgres, org, knowledge_bases, filter);
                let terms = args.after(1);
                let sql = fsql!(
                    "SELECT u.t, (SELECT count(*) FROM chunks k
                                  WHERE {scope} AND k.search @@ plainto_tsquery('english', u.t))
                     FROM unnest({terms}::text[]) AS u(t)
                     WHERE length(to_tsvector('english', u.t)) > 0"
                );
                let df: Vec<(String, i64)> = bind_args!(sqlx::query_as(sql), args)
                    .bind(words.clone())
                    .fetch_all(&mut **tx)
                    .await?;
                if df.iter().all(|(_, n)| *n == 0) {
                    return Ok(Vec::new());
                }
                let sql = fsql!("SELECT count(*) FROM chunks k WHERE {scope}");
                let n: i64 = bind_args!(sqlx::query_scalar(sql), args)
                    .fetch_one(&mut **tx)
                    .await?;
                #[allow(clippy::cast_precision_loss)]
                let n = n as f64;
                let (terms, idf): (Vec<String>, Vec<f64>) = df
                    .into_iter()
                    .filter(|(_, df)| *df > 0)
                    .map(|(t, df)| {
                        #[allow(clippy::cast_precision_loss)]
                        let df = df as f64;
                        (t, ((n - df + 0.5) / (df + 0.5) + 1.0).ln())
                    })
                    .unzip();
                let lim = args.push(Arg::Int(limit));
                let q = args.push(Arg::Text(terms.join(" or ")));
                let (t, w) = (args.after(1), args.after(2));
                // ts_rank_cd normalisation 1|32: divided by 1 + log(length), then scaled to rank / (rank + 1).
                let sql = fsql!(
                    "SELECT k.id, (SELECT sum(w.idf * ts_rank_cd(k.search, plainto_tsquery('english', w.t), 33))
                                   FROM unnest({t}::text[], {w}::float8[]) AS w(t, idf))::float8 AS score
                     FROM chunks k
                     WHERE {scope} AND k.search @@ websearch_to_tsquery('english', {q})
                     ORDER BY score DESC, k.id LIMIT {lim}"
                );
                let rows: Vec<(Uuid, Option<f64>)> = bind_args!(sqlx::query_as(sql), args)
                    .bind(terms)
                    .bind(idf)
                    .fetch_all(&mut **tx)
                    .await?;
                rows.into_iter()
                    .map(|(id, s)| (id, score_of(s.unwrap_or(0.0))))
                    .collect()
            }
        };
        self.ranked(scored, k).await
    }

    /// The organisation's indexed chunks with these ids, in any order; unknown ids (and chunks stored through
    /// the older documents API) are left out. Scores are 0.
    pub async fn indexed_chunks(&mut self, ids: &[ChunkId]) -> StoreResult<Vec<IndexHit>> {
        let ids: Vec<Uuid> = ids.iter().map(|id| Uuid::from_bytes(*id.as_bytes())).collect();
        Ok(self.load_hits(&ids).await?.into_values().collect())
    }

    /// Hits for these chunk ids with their scores, ordered by [`rank`], at most `k`.
    async fn ranked(&mut self, scored: Vec<(Uuid, f32)>, k: usize) -> StoreResult<Vec<IndexHit>> {
        let ids: Vec<Uuid> = scored.iter().map(|(id, _)| *id).collect();
        let mut found = self.load_hits(&ids).await?;
        let mut hits: Vec<IndexHit> = scored
            .into_iter()
            .filter_map(|(id, score)| {
                let mut hit = found.remove(&id)?;
                hit.score = score;
                Some(hit)
            })
            .collect();
        rank(&mut hits);
        hits.truncate(k);
        Ok(hits)
    }

    async fn load_hits(&mut self, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, IndexHit>> {
        let org = *self.org.as_uuid();
        let mut out = HashMap::with_capacity(ids.len());
        for batch in ids.chunks(LOOKUP_BATCH) {
            let mut args = Args::default();
            let o = args.push(Arg::Uuid(org));
            let list: Vec<String> = batch.iter().map(|id| args.push(Arg::Uuid(*id))).collect();
            let list = list.join(", ");
            let sql = format!(
                "SELECT {HIT_COLUMNS} FROM chunks k
                 JOIN documents d ON d.organization_id = k.organization_id AND d.id = k.document_id
                 WHERE k.organization_id = {o} AND k.knowledge_base_id IS NOT NULL AND k.id IN ({list})"
            );
            match &mut self.inner {
                Inner::Postgres(tx) => {
                    let rows: Vec<PgHitRow> = bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
                        .fetch_all(&mut **tx)
                        .await?;
                    for (a, b, c, d, e, f, g, h, i, j, embedding) in rows {
                        let hit = make_hit((a, b, c, d, e, f, g, h, i, j), embedding.map(|v| v.to_vec()))?;
                        out.insert(a, hit);
                    }
                }
                Inner::Sqlite(tx) => {
                    let rows: Vec<SqliteHitRow> = bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
                        .fetch_all(&mut **tx)
                        .await?;
                    for (a, b, c, d, e, f, g, h, i, j, embedding) in rows {
                        let hit = make_hit(
                            (a, b, c, d, e, f, g, h, i, j),
                            embedding.as_deref().map(from_blob),
                        )?;
                        out.insert(a, hit);
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sql_binds_everything_and_numbers_placeholders() {
        let (org, kb1, kb2) = (OrgId::new(), KnowledgeBaseId::new(), KnowledgeBaseId::new());
        let mut filter = MetadataFilter::new();
        filter.insert("team".into(), serde_json::json!("ir' OR 1=1 --"));
        let mut args = Args::default();
        let pg = scope_sql(&mut args, Dialect::Postgres, org, &[kb1, kb2], &filter);
        assert_eq!(
            pg,
            "k.organization_id = $1 AND k.knowledge_base_id IN ($2, $3) AND (k.metadata -> $4) = $5"
        );
        assert_eq!(args.after(1), "$6");
        let mut args = Args::default();
        let lite = scope_sql(&mut args, Dialect::Sqlite, org, &[kb1], &filter);
        assert!(!lite.contains("ir'") && lite.contains("json_type(k.metadata, $3) = json_type($4)"));
    }

    #[test]
    fn context_is_what_contextual_text_adds() {
        let mut chunk = Chunk {
            id: ChunkId::from_bytes([1; 16]),
            document_id: DocumentId::new(),
            ordinal: 0,
            text: "Isolate the host.".into(),
            start: 0,
            end: 17,
            heading_path: vec!["Runbook".into(), "Containment".into()],
            page: None,
            record: None,
            tokens: 4,
            metadata: serde_json::Map::new(),
        };
        assert_eq!(context_of(&chunk), "Runbook > Containment");
        chunk.heading_path = vec!["Isolate".into()];
        assert_eq!(context_of(&chunk), "");
        chunk.heading_path.clear();
        assert_eq!(context_of(&chunk), "");
    }
}
