//! # secops-rag
//!
//! Knowledge that agents search and cite: runbooks, incident reports, asset inventories, ATT&CK.
//! Documents go in through [`loaders`] and [`chunking`], are embedded by any
//! [`Embedder`](secops_core::embed::Embedder) (the HTTP ones of `secops-llm`, or [`HashingEmbedder`] offline)
//! and indexed by a [`ChunkIndex`](retrieval::ChunkIndex) (`secops-store` on SQLite/PostgreSQL, or
//! [`MemoryIndex`](retrieval::MemoryIndex)). [`KnowledgeRetriever`] implements secops-core's
//! [`Retriever`](secops_core::retrieval::Retriever) hook: vector, keyword or hybrid search fused by reciprocal
//! rank, an optional [`Reranker`](retrieval::Reranker), MMR de-duplication, a token budget, passages wrapped
//! as untrusted data, and citations resolved back to chunk, document, heading and page. [`eval`] measures
//! it (recall@k, MRR, nDCG@10).
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`loaders`] | plain text, Markdown, HTML, JSON/NDJSON records, PDF; media-type checks, size/page/record limits, [`LoadError`](loaders::LoadError) |
//! | [`chunking`] | structure-following, token-bounded chunks with overlap and stable [`ChunkId`](chunking::ChunkId)s; the [`Tokenizer`](chunking::Tokenizer) trait |
//! | [`retrieval`] | [`ChunkIndex`](retrieval::ChunkIndex), [`MemoryIndex`](retrieval::MemoryIndex), [`fuse`](retrieval::fuse) (RRF), [`HttpReranker`](retrieval::HttpReranker), [`mmr`](retrieval::mmr()), [`fit_to_budget`](retrieval::fit_to_budget) |
//! | [`eval`] | recall@k, MRR, nDCG@k with graded relevance; JSONL query sets |
//! | [`rewrite`] | [`QueryRewriter`](rewrite::QueryRewriter): a run's input turned into a search query by a model, with a time-out and fallback |
//! | root | [`Ingestor`] (load → chunk → embed → index, all or nothing), [`KnowledgeRetriever`], [`HashingEmbedder`] |
//!
//! ## Example
//!
//! Index a runbook, let an agent retrieve from it (the deterministic
//! [`ScriptedProvider`](secops_core::model::ScriptedProvider) stands in for a model), and resolve the
//! answer's `[1]` to the section it came from:
//!
//! ```
//! use std::sync::Arc;
//! use secops_core::model::{ScriptedProvider, ScriptedTurn};
//! use secops_core::run::{Agent, AgentConfig};
//! use secops_core::tenancy::{DocumentId, KnowledgeBaseId, OrgId};
//! use secops_rag::loaders::ContentHint;
//! use secops_rag::retrieval::MemoryIndex;
//! use secops_rag::{
//!     HashingEmbedder, IngestRequest, Ingestor, KnowledgeRetriever, RetrieverConfig, UNTRUSTED_PASSAGES_NOTICE,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let (org, kb) = (OrgId::new(), KnowledgeBaseId::new());
//! let index = Arc::new(MemoryIndex::new());
//! let embedder = Arc::new(HashingEmbedder::new(256));
//!
//! let runbook = b"# Ransomware runbook\n\n## Containment\n\nIsolate the infected host from the EDR console \
//!     and block SMB (445) at the firewall.\n\n## Recovery\n\nRestore the file servers from offline backups.\n";
//! let report = Ingestor::new(index.clone())
//!     .with_embedder(embedder.clone())
//!     .ingest(IngestRequest {
//!         org,
//!         knowledge_base: kb,
//!         document_id: DocumentId::new(),
//!         bytes: runbook,
//!         hint: ContentHint::file_name("ransomware.md"),
//!         title: None,
//!         source: "ransomware.md".into(),
//!         metadata: Default::default(),
//!     })
//!     .await?;
//! assert_eq!((report.title.as_str(), report.chunks), ("Ransomware runbook", 2));
//!
//! let config = RetrieverConfig { knowledge_bases: vec![kb], ..RetrieverConfig::default() };
//! let retriever = Arc::new(KnowledgeRetriever::new(org, index, config).with_embedder(embedder));
//!
//! let provider = Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text(
//!     "Isolate the host in the EDR console and block SMB [1].",
//! )]));
//! let agent = Agent::builder(provider)
//!     .retriever(retriever.clone())
//!     .config(AgentConfig {
//!         system_prompt: format!("You are a SOC analyst.{UNTRUSTED_PASSAGES_NOTICE}"),
//!         retrieval_top_k: 1,
//!         ..AgentConfig::default()
//!     })
//!     .build()?;
//! let run = agent.run("How do we isolate an infected host?").await;
//! let output = run.output.expect("the run finished");
//!
//! let cited = retriever.resolve_citations(&output.citations).await?;
//! assert_eq!(cited[0].heading_path, ["Ransomware runbook", "Containment"]);
//! assert!(cited[0].referenced);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod chunking;
pub mod eval;
mod hashing;
mod ingest;
pub mod loaders;
pub mod retrieval;
mod retriever;
pub mod rewrite;

pub use hashing::HashingEmbedder;
pub use ingest::{IngestError, IngestReport, IngestRequest, Ingestor};
pub use retriever::{
    CitedSource, KnowledgeRetriever, RetrievalMode, RetrieverConfig, SearchError, SearchRequest,
    SearchResults, UNTRUSTED_PASSAGES_NOTICE, passage_label, untrusted_passage,
};
