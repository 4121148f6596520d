//! Query rewriting through the retriever: the rewritten query is what is searched, and a failing or slow
//! rewriter falls back to the original text, saying so.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use secops_core::model::{ProviderError, ProviderErrorKind, ScriptedProvider, ScriptedTurn};
use secops_core::retrieval::{RetrievalQuery, Retriever};
use secops_core::tenancy::{DocumentId, KnowledgeBaseId, OrgId};
use secops_rag::loaders::ContentHint;
use secops_rag::retrieval::MemoryIndex;
use secops_rag::rewrite::{ModelQueryRewriter, REWRITE_INSTRUCTIONS};
use secops_rag::{
    IngestRequest, Ingestor, KnowledgeRetriever, RetrievalMode, RetrieverConfig, SearchRequest,
};

const RUNBOOK: &str = "# Kerberoasting runbook\n\n## Detection\n\nLook for TGS requests with RC4 encryption \
(event 4769, ticket encryption type 0x17) for service accounts.\n\n## Response\n\nReset the service account \
password and move it to a managed service account.\n";

const UNRELATED: &str = "# Printer guide\n\n## Toner\n\nReplace the toner cartridge when the light blinks.\n";

async fn retriever(provider: ScriptedProvider, timeout: Duration) -> (KnowledgeRetriever, OrgId) {
    let (org, kb) = (OrgId::new(), KnowledgeBaseId::new());
    let index = Arc::new(MemoryIndex::new());
    for (name, text) in [("kerberoasting.md", RUNBOOK), ("printer.md", UNRELATED)] {
        Ingestor::new(index.clone())
            .ingest(IngestRequest {
                org,
                knowledge_base: kb,
                document_id: DocumentId::new(),
                bytes: text.as_bytes(),
                hint: ContentHint::file_name(name),
                title: None,
                source: name.into(),
                metadata: Default::default(),
            })
            .await
            .unwrap();
    }
    let config = RetrieverConfig {
        knowledge_bases: vec![kb],
        mode: RetrievalMode::Keyword,
        ..RetrieverConfig::default()
    };
    let rewriter = ModelQueryRewriter::new(Arc::new(provider)).with_timeout(timeout);
    (
        KnowledgeRetriever::new(org, index, config).with_query_rewriter(Arc::new(rewriter)),
        org,
    )
}

/// A query that finds the runbook by its own words, rewritten or not.
async fn search_plainly_worded(retriever: &KnowledgeRetriever) -> secops_rag::SearchResults {
    retriever
        .search(&SearchRequest::new("service account password reset", 3))
        .await
        .unwrap()
}

/// The analyst's words share nothing with the runbook; the rewritten query does.
const QUESTION: &str = "hey, we got paged about svc_sql on dc01, what now?";

#[tokio::test]
async fn the_rewritten_query_is_searched_and_reported() {
    let provider = ScriptedProvider::new(vec![ScriptedTurn::text(
        "Query: \"kerberoasting TGS RC4 service account svc_sql\"",
    )])
    .recording();
    let (retriever, _) = retriever(provider, Duration::from_secs(5)).await;
    let results = retriever.search(&SearchRequest::new(QUESTION, 3)).await.unwrap();
    assert_eq!(
        results.rewritten_query.as_deref(),
        Some("kerberoasting TGS RC4 service account svc_sql")
    );
    assert!(results.notes.is_empty(), "{:?}", results.notes);
    assert_eq!(results.hits[0].hit.source, "kerberoasting.md");
    assert!(results.hits.iter().all(|h| h.hit.source != "printer.md"));
}

#[tokio::test]
async fn the_model_is_asked_with_the_instructions_and_the_input_as_a_user_message() {
    let provider = Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text("kerberoasting")]).recording());
    let rewriter = ModelQueryRewriter::new(provider.clone());
    let q = secops_rag::rewrite::QueryRewriter::rewrite(&rewriter, QUESTION)
        .await
        .unwrap();
    assert_eq!(q, "kerberoasting");
    let seen = provider.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].system, REWRITE_INSTRUCTIONS);
    assert_eq!(seen[0].messages.len(), 1);
    assert_eq!(seen[0].messages[0].text(), QUESTION);
    assert!(seen[0].tools.is_empty());
}

#[tokio::test]
async fn a_failing_rewriter_falls_back_to_the_original_query() {
    let provider = ScriptedProvider::new(vec![ScriptedTurn::Error(ProviderError::new(
        "scripted",
        ProviderErrorKind::Unavailable,
        "scripted outage",
    ))]);
    let (retriever, _) = retriever(provider, Duration::from_secs(5)).await;
    let results = search_plainly_worded(&retriever).await;
    assert_eq!(results.rewritten_query, None);
    assert_eq!(results.notes.len(), 1);
    assert!(
        results.notes[0].contains("searched the original query"),
        "{:?}",
        results.notes
    );
    assert_eq!(results.hits[0].hit.source, "kerberoasting.md");
}

#[tokio::test]
async fn a_slow_rewriter_times_out_and_the_run_still_gets_context() {
    let provider = ScriptedProvider::new(vec![ScriptedTurn::Delayed(
        Duration::from_secs(30),
        Box::new(ScriptedTurn::text("never used")),
    )]);
    let (retriever, org) = retriever(provider, Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    let passages = retriever
        .retrieve(&RetrievalQuery {
            text: "service account password reset",
            org_id: Some(org),
            top_k: 2,
        })
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(passages[0].source, "kerberoasting.md");
}

#[tokio::test]
async fn an_empty_answer_is_not_searched() {
    let provider = ScriptedProvider::new(vec![ScriptedTurn::text("  \n ")]);
    let (retriever, _) = retriever(provider, Duration::from_secs(5)).await;
    let results = search_plainly_worded(&retriever).await;
    assert_eq!(results.rewritten_query, None);
    assert!(results.notes[0].contains("empty query"), "{:?}", results.notes);
}
