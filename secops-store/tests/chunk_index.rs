//! secops-rag's `ChunkIndex` on the store: one test body per behaviour, run against secops-rag's `MemoryIndex`
//! (the reference), SQLite and PostgreSQL (row-level security, pgvector). Vector, keyword and hybrid (`fuse`)
//! search, metadata filters, atomic replacement, tenancy isolation and knowledge-base scoping. PostgreSQL must
//! be reachable: these tests fail, never skip, when it is not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use secops_core::embed::Embedder;
use secops_core::tenancy::{DocumentId, KnowledgeBaseId, OrgId};
use secops_rag::chunking::{Chunk, ChunkId};
use secops_rag::loaders::{ContentHint, JsonOptions, LoadOptions};
use secops_rag::retrieval::{
    ChunkIndex, FusionConfig, IndexError, IndexHit, IndexedChunk, IndexedDocument, MemoryIndex,
    MetadataFilter, SearchScope, fuse,
};
use secops_rag::{
    HashingEmbedder, IngestRequest, Ingestor, KnowledgeRetriever, RetrievalMode, RetrieverConfig,
    SearchRequest,
};
use secops_store::documents::{NewChunk, NewDocument};
use secops_store::knowledge::StoreIndex;
use secops_store::testing;
use serde_json::json;

const RUNBOOK: &str = "# Ransomware runbook\n\n## Containment\n\nIsolate the infected host from the EDR console \
and block SMB on port 445 at the firewall.\n\n## Recovery\n\nRestore the file servers from the offline backups \
and rotate the krbtgt password twice.\n";

const PHISHING: &str = r#"<html><head><title>Phishing playbook</title><script>track()</script></head><body>
<nav><a href="/">Home</a></nav><h1>Phishing playbook</h1><h2>Triage</h2><p>Pull the reported message from every
mailbox with a compliance search and block the sender domain at the mail gateway.</p></body></html>"#;

const ASSETS: &str = "{\"host\":\"dc01\",\"role\":\"domain controller for the corp forest\",\"criticality\":\"high\"}\n\
{\"host\":\"web07\",\"role\":\"public web server in the dmz\",\"criticality\":\"medium\"}\n\
{\"host\":\"fs02\",\"role\":\"file server holding finance shares\",\"criticality\":\"high\"}\n";

const DIMS: usize = 384; // an HNSW-indexed size on PostgreSQL

/// One index under test.
struct Target {
    name: &'static str,
    index: Arc<dyn ChunkIndex>,
    backend: Option<common::Backend>,
}

impl Target {
    /// A new organisation (in the database, for the store backends).
    async fn org(&self) -> OrgId {
        let Some(b) = &self.backend else {
            return OrgId::new();
        };
        let tag = uuid::Uuid::now_v7().simple().to_string();
        let user = b
            .store
            .create_user(&format!("owner-{tag}@example.com"), "Owner", None)
            .await
            .unwrap();
        b.store
            .create_organization("Org", &format!("org-{tag}"), user.id)
            .await
            .unwrap()
            .id
    }

    async fn cleanup(self) {
        if let Some(b) = self.backend {
            b.cleanup().await;
        }
    }
}

async fn targets() -> Vec<Target> {
    let mut out = vec![Target {
        name: "memory",
        index: Arc::new(MemoryIndex::new()),
        backend: None,
    }];
    for backend in common::both().await {
        out.push(Target {
            name: backend.name(),
            index: Arc::new(StoreIndex::new(backend.store.clone())),
            backend: Some(backend),
        });
    }
    out
}

fn embedder() -> Arc<HashingEmbedder> {
    Arc::new(HashingEmbedder::new(DIMS))
}

fn ingestor(index: &Arc<dyn ChunkIndex>, embed: bool) -> Ingestor {
    let i = Ingestor::new(index.clone()).with_load_options(LoadOptions {
        json: JsonOptions {
            text_fields: vec!["host".into(), "role".into()],
            title_field: Some("host".into()),
            records_pointer: None,
        },
        ..LoadOptions::default()
    });
    if embed { i.with_embedder(embedder()) } else { i }
}

fn request<'a>(
    org: OrgId,
    kb: KnowledgeBaseId,
    id: DocumentId,
    bytes: &'a [u8],
    name: &'a str,
) -> IngestRequest<'a> {
    IngestRequest {
        org,
        knowledge_base: kb,
        document_id: id,
        bytes,
        hint: ContentHint::file_name(name),
        title: None,
        source: name.to_owned(),
        metadata: serde_json::Map::new(),
    }
}

/// Fixed document ids, so every target derives the same chunk ids.
#[derive(Clone, Copy)]
struct Ids {
    runbook: DocumentId,
    phishing: DocumentId,
    assets: DocumentId,
    plan: DocumentId,
}

impl Ids {
    fn new() -> Self {
        Self {
            runbook: DocumentId::new(),
            phishing: DocumentId::new(),
            assets: DocumentId::new(),
            plan: DocumentId::new(),
        }
    }
}

fn chunk(document: DocumentId, ordinal: u32, text: &str, page: Option<u32>) -> Chunk {
    let start = ordinal as usize * 100;
    Chunk {
        id: ChunkId::derive(document, ordinal, start, text),
        document_id: document,
        ordinal,
        text: text.to_owned(),
        start,
        end: start + text.len(),
        heading_path: Vec::new(),
        page,
        record: None,
        tokens: text.split_whitespace().count(),
        metadata: serde_json::Map::new(),
    }
}

async fn embedded(chunks: Vec<Chunk>) -> Vec<IndexedChunk> {
    let e = embedder();
    let texts: Vec<String> = chunks.iter().map(|c| c.contextual_text().into_owned()).collect();
    let vectors = e.embed(&texts).await.unwrap().vectors;
    chunks
        .into_iter()
        .zip(vectors)
        .map(|(chunk, v)| IndexedChunk {
            chunk,
            embedding: Some(v),
        })
        .collect()
}

fn document(id: DocumentId, kb: KnowledgeBaseId, title: &str) -> IndexedDocument {
    IndexedDocument {
        id,
        knowledge_base: kb,
        title: title.to_owned(),
        source: format!("{title}.txt"),
        metadata: serde_json::Map::new(),
    }
}

/// The runbook (2 chunks, metadata team=ir), the phishing page (1), the asset inventory (3 records) and a
/// two-page plan built by hand (pages 1 and 2).
async fn corpus(t: &Target, org: OrgId, kb: KnowledgeBaseId, ids: Ids) {
    let ing = ingestor(&t.index, true);
    let mut req = request(org, kb, ids.runbook, RUNBOOK.as_bytes(), "ransomware.md");
    req.metadata.insert("team".into(), json!("ir"));
    req.metadata.insert("reviewed".into(), json!(true));
    assert_eq!(ing.ingest(req).await.unwrap().chunks, 2);
    ing.ingest(request(
        org,
        kb,
        ids.phishing,
        PHISHING.as_bytes(),
        "phishing.html",
    ))
    .await
    .unwrap();
    assert_eq!(
        ing.ingest(request(org, kb, ids.assets, ASSETS.as_bytes(), "assets.ndjson"))
            .await
            .unwrap()
            .chunks,
        3
    );
    let chunks = embedded(vec![
        chunk(
            ids.plan,
            0,
            "Call the incident commander within fifteen minutes.",
            Some(1),
        ),
        chunk(
            ids.plan,
            1,
            "Preserve volatile memory with a forensic image before reboot.",
            Some(2),
        ),
    ])
    .await;
    t.index
        .replace_document(org, &document(ids.plan, kb, "Incident response plan"), &chunks)
        .await
        .unwrap();
}

fn retriever(t: &Target, org: OrgId, kbs: Vec<KnowledgeBaseId>, mode: RetrievalMode) -> KnowledgeRetriever {
    KnowledgeRetriever::new(
        org,
        t.index.clone(),
        RetrieverConfig {
            knowledge_bases: kbs,
            mode,
            ..RetrieverConfig::default()
        },
    )
    .with_embedder(embedder())
}

fn scope<'a>(org: OrgId, kbs: &'a [KnowledgeBaseId], filter: &'a MetadataFilter) -> SearchScope<'a> {
    SearchScope {
        org,
        knowledge_bases: kbs,
        filter,
    }
}

async fn query_vector(text: &str) -> Vec<f32> {
    embedder()
        .embed(&[text.to_owned()])
        .await
        .unwrap()
        .vectors
        .remove(0)
}

fn ids_of(hits: &[IndexHit]) -> Vec<ChunkId> {
    hits.iter().map(|h| h.chunk_id).collect()
}

#[tokio::test]
async fn vector_keyword_and_hybrid_search_behave_like_the_memory_index() {
    let ids = Ids::new();
    let none = MetadataFilter::new();
    let mut reference: Option<(Vec<IndexHit>, HashMap<ChunkId, IndexHit>)> = None;
    for t in targets().await {
        let name = t.name;
        let (org, kb) = (t.org().await, KnowledgeBaseId::new());
        corpus(&t, org, kb, ids).await;
        let kbs = [kb];

        // Every mode of the retriever finds the containment section first.
        for mode in [
            RetrievalMode::Keyword,
            RetrievalMode::Vector,
            RetrievalMode::Hybrid,
        ] {
            let results = retriever(&t, org, vec![kb], mode)
                .search(&SearchRequest::new("isolate the infected host and block SMB", 3))
                .await
                .unwrap();
            assert!(results.notes.is_empty(), "{name}: {:?}", results.notes);
            let top = &results.hits[0];
            assert_eq!(
                top.hit.document_id, ids.runbook,
                "{name} {mode:?}: {:#?}",
                results.hits
            );
            assert_eq!(
                top.hit.heading_path,
                ["Ransomware runbook", "Containment"],
                "{name}"
            );
            if mode == RetrievalMode::Hybrid {
                assert_eq!(top.scores.vector.unwrap().rank, 1, "{name}");
                assert_eq!(top.scores.keyword.unwrap().rank, 1, "{name}");
                assert!((top.scores.fused.unwrap() - 2.0 / 61.0).abs() < 1e-6, "{name}");
            }
        }

        // Hybrid by hand: both lists fused by reciprocal rank.
        let q = "forensic image of volatile memory";
        let vector = t
            .index
            .vector_search(&scope(org, &kbs, &none), &query_vector(q).await, 5)
            .await
            .unwrap();
        let keyword = t
            .index
            .keyword_search(&scope(org, &kbs, &none), q, 5)
            .await
            .unwrap();
        let fused = fuse(vector.clone(), keyword, &FusionConfig::default());
        assert_eq!(fused[0].hit.title, "Incident response plan", "{name}");
        assert_eq!(fused[0].hit.page, Some(2), "{name}");
        assert!(
            fused[0].hit.embedding.is_some(),
            "{name}: hits carry embeddings for MMR"
        );

        // Keyword search takes natural-language questions: any word may match, query syntax is inert.
        for question in [
            "How do we restore the file servers after an attack?",
            "restore \"backups OR NOT (krbtgt* NEAR/2 x) -- ' ; DROP TABLE chunks",
        ] {
            let hits = t
                .index
                .keyword_search(&scope(org, &kbs, &none), question, 3)
                .await
                .unwrap();
            assert_eq!(
                hits[0].heading_path,
                ["Ransomware runbook", "Recovery"],
                "{name}: {question}"
            );
        }
        let hits = t
            .index
            .keyword_search(&scope(org, &kbs, &none), "zebra unicorn isolate", 10)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "{name}: {hits:#?}");
        assert_eq!(
            hits[0].heading_path,
            ["Ransomware runbook", "Containment"],
            "{name}"
        );
        // Heading words count: "Containment" is only in the heading path.
        let hits = t
            .index
            .keyword_search(&scope(org, &kbs, &none), "containment", 10)
            .await
            .unwrap();
        assert_eq!(ids_of(&hits), ids_of(&hits[..1]), "{name}");
        assert_eq!(
            hits[0].heading_path,
            ["Ransomware runbook", "Containment"],
            "{name}"
        );
        for nothing in ["", "the and of", "zebra"] {
            assert!(
                t.index
                    .keyword_search(&scope(org, &kbs, &none), nothing, 10)
                    .await
                    .unwrap()
                    .is_empty(),
                "{name}: {nothing}"
            );
        }
        assert!(
            t.index
                .keyword_search(&scope(org, &kbs, &none), "host", 0)
                .await
                .unwrap()
                .is_empty()
        );

        // Vector search: the same ranking and scores as the exact in-memory scan, and every stored field back.
        let all = t
            .index
            .vector_search(
                &scope(org, &kbs, &none),
                &query_vector("file server shares").await,
                100,
            )
            .await
            .unwrap();
        assert_eq!(all.len(), 8, "{name}");
        let by_id: HashMap<ChunkId, IndexHit> = t
            .index
            .chunks(org, &ids_of(&all))
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.chunk_id, h))
            .collect();
        assert_eq!(by_id.len(), 8, "{name}");
        match &reference {
            None => reference = Some((all, by_id)),
            Some((ref_hits, ref_chunks)) => {
                assert_eq!(ids_of(&all), ids_of(ref_hits), "{name}: vector ranking differs");
                for (a, b) in all.iter().zip(ref_hits) {
                    assert!(
                        (a.score - b.score).abs() < 1e-4,
                        "{name}: {} vs {}",
                        a.score,
                        b.score
                    );
                }
                for (id, expected) in ref_chunks {
                    let got = &by_id[id];
                    let strip = |h: &IndexHit| IndexHit {
                        knowledge_base: KnowledgeBaseId::from_uuid(uuid::Uuid::nil()),
                        ..h.clone()
                    };
                    assert_eq!(strip(got), strip(expected), "{name}: chunk {id} round trip");
                    assert_eq!(got.knowledge_base, kb, "{name}");
                }
            }
        }

        // Bad input is refused the same way.
        let err = t
            .index
            .vector_search(&scope(org, &kbs, &none), &[], 3)
            .await
            .unwrap_err();
        assert!(matches!(err, IndexError::InvalidInput(_)), "{name}: {err}");
        let err = t
            .index
            .vector_search(&scope(org, &kbs, &none), &[f32::NAN; DIMS], 3)
            .await
            .unwrap_err();
        assert!(matches!(err, IndexError::InvalidInput(_)), "{name}: {err}");
        // A query of another size finds nothing (no chunk has it).
        assert!(
            t.index
                .vector_search(&scope(org, &kbs, &none), &[1.0, 0.0], 3)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn keyword_search_ranks_more_and_rarer_words_higher() {
    for t in targets().await {
        let name = t.name;
        let (org, kb) = (t.org().await, KnowledgeBaseId::new());
        let d = DocumentId::new();
        let texts = [
            "host seen talking to the domain controller",
            "host host host inventory refresh",
            "host rotated the krbtgt password",
            "host patch window",
            "password policy for the users",
        ];
        let chunks: Vec<IndexedChunk> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| IndexedChunk {
                chunk: chunk(d, u32::try_from(i).unwrap(), text, None),
                embedding: None,
            })
            .collect();
        t.index
            .replace_document(org, &document(d, kb, "notes"), &chunks)
            .await
            .unwrap();
        let (kbs, none) = ([kb], MetadataFilter::new());
        let search = |q: &'static str| {
            let index = t.index.clone();
            let none = none.clone();
            async move {
                index
                    .keyword_search(&scope(org, &kbs, &none), q, 10)
                    .await
                    .unwrap()
            }
        };
        // The rare word wins over the common one repeated; every chunk with any word is returned.
        let hits = search("host krbtgt").await;
        assert_eq!(hits[0].text, texts[2], "{name}: {hits:#?}");
        assert_eq!(hits.len(), 4, "{name}");
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "{name}");
        assert!(
            hits.iter().all(|h| h.score > 0.0 && h.embedding.is_none()),
            "{name}"
        );
        // More matching words rank higher.
        let hits = search("krbtgt password").await;
        assert_eq!(ids_of(&hits), [chunks[2].chunk.id, chunks[4].chunk.id], "{name}");
        // A keyword-only knowledge base has nothing for vector search.
        let v = t
            .index
            .vector_search(&scope(org, &kbs, &none), &query_vector("host").await, 10)
            .await
            .unwrap();
        assert!(v.is_empty(), "{name}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn metadata_filters_match_document_and_record_fields() {
    let ids = Ids::new();
    for t in targets().await {
        let name = t.name;
        let (org, kb) = (t.org().await, KnowledgeBaseId::new());
        corpus(&t, org, kb, ids).await;
        let kbs = [kb];
        let filter = |pairs: &[(&str, serde_json::Value)]| -> MetadataFilter {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
        };

        // A record field (NDJSON), by keyword and by vector.
        let high = filter(&[("criticality", json!("high"))]);
        let hits = t
            .index
            .keyword_search(&scope(org, &kbs, &high), "server domain controller finance", 10)
            .await
            .unwrap();
        let mut hosts: Vec<&str> = hits.iter().map(|h| h.heading_path[0].as_str()).collect();
        hosts.sort_unstable();
        assert_eq!(hosts, ["dc01", "fs02"], "{name}");
        let hits = t
            .index
            .vector_search(
                &scope(org, &kbs, &high),
                &query_vector("public web server").await,
                10,
            )
            .await
            .unwrap();
        assert_eq!(hits.len(), 2, "{name}");
        assert!(hits.iter().all(|h| h.document_id == ids.assets), "{name}");

        // A document field, and two keys at once; a value of another JSON type does not match.
        let team = filter(&[("team", json!("ir")), ("reviewed", json!(true))]);
        let hits = t
            .index
            .keyword_search(&scope(org, &kbs, &team), "backups host", 10)
            .await
            .unwrap();
        assert_eq!(hits.len(), 2, "{name}");
        assert!(hits.iter().all(|h| h.document_id == ids.runbook), "{name}");
        for no in [
            filter(&[("reviewed", json!(1))]),
            filter(&[("reviewed", json!("true"))]),
            filter(&[("team", json!("ir")), ("criticality", json!("high"))]),
            filter(&[("missing", json!(null))]),
        ] {
            let hits = t
                .index
                .keyword_search(&scope(org, &kbs, &no), "backups host", 10)
                .await
                .unwrap();
            assert!(hits.is_empty(), "{name}: {no:?} {hits:#?}");
        }

        // Keys that could be syntax are refused before any query runs.
        let bad = filter(&[("x'); drop", json!(1))]);
        for err in [
            t.index
                .keyword_search(&scope(org, &kbs, &bad), "host", 10)
                .await
                .unwrap_err(),
            t.index
                .vector_search(&scope(org, &kbs, &bad), &query_vector("host").await, 10)
                .await
                .unwrap_err(),
        ] {
            assert!(err.to_string().contains("metadata key"), "{name}: {err}");
        }
        let nested = filter(&[("team", json!({"a": 1}))]);
        let err = t
            .index
            .keyword_search(&scope(org, &kbs, &nested), "host", 10)
            .await
            .unwrap_err();
        assert!(matches!(err, IndexError::InvalidInput(_)), "{name}: {err}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn replacing_a_document_is_all_or_nothing() {
    for t in targets().await {
        let name = t.name;
        let (org, kb) = (t.org().await, KnowledgeBaseId::new());
        let (kbs, none) = ([kb], MetadataFilter::new());
        let (d, other) = (DocumentId::new(), DocumentId::new());
        ingestor(&t.index, true)
            .ingest(request(org, kb, d, RUNBOOK.as_bytes(), "ransomware.md"))
            .await
            .unwrap();
        let other_chunks = embedded(vec![chunk(other, 0, "Escalate to the duty manager.", None)]).await;
        t.index
            .replace_document(org, &document(other, kb, "escalation"), &other_chunks)
            .await
            .unwrap();
        let v1 = t
            .index
            .keyword_search(&scope(org, &kbs, &none), "krbtgt isolate", 10)
            .await
            .unwrap();
        assert_eq!(v1.len(), 2, "{name}");
        let v1_ids = ids_of(&v1);
        let unchanged = async || {
            let found = t.index.chunks(org, &v1_ids).await.unwrap();
            assert_eq!(found.len(), 2, "{name}: the old version is gone");
            let hits = t
                .index
                .keyword_search(&scope(org, &kbs, &none), "krbtgt", 10)
                .await
                .unwrap();
            assert_eq!(hits[0].document_id, d, "{name}");
            assert_eq!(hits[0].title, "Ransomware runbook", "{name}");
        };

        // Refused before anything is written: a chunk of another document, mixed sizes, non-finite numbers.
        let new_doc = document(d, kb, "v2");
        let mut good = embedded(vec![
            chunk(d, 0, "Version two: page the on-call engineer.", None),
            chunk(d, 1, "Version two: open a bridge call.", None),
        ])
        .await;
        let mut foreign = good.clone();
        foreign[1].chunk.document_id = other;
        let mut mixed = good.clone();
        mixed[1].embedding = Some(vec![1.0; DIMS + 1]);
        let mut half = good.clone();
        half[1].embedding = None;
        let mut nan = good.clone();
        nan[0].embedding.as_mut().unwrap()[3] = f32::INFINITY;
        for bad in [&foreign, &mixed, &half, &nan] {
            let err = t.index.replace_document(org, &new_doc, bad).await.unwrap_err();
            assert!(matches!(err, IndexError::InvalidInput(_)), "{name}: {err}");
            unchanged().await;
        }

        // The store fails in the middle (after the old version was deleted): the chunk id is another
        // document's. The transaction rolls back to the old version. (The in-memory index has no global ids.)
        if t.backend.is_some() {
            let mut clash = good.clone();
            clash[1].chunk.id = other_chunks[0].chunk.id;
            let err = t.index.replace_document(org, &new_doc, &clash).await.unwrap_err();
            assert!(matches!(err, IndexError::InvalidInput(_)), "{name}: {err}");
            unchanged().await;
            assert_eq!(
                t.index
                    .chunks(org, &[other_chunks[0].chunk.id])
                    .await
                    .unwrap()
                    .len(),
                1
            );
        }

        // A good replacement swaps every chunk at once.
        good[0].chunk.metadata.insert("version".into(), json!(2));
        t.index.replace_document(org, &new_doc, &good).await.unwrap();
        assert!(t.index.chunks(org, &v1_ids).await.unwrap().is_empty(), "{name}");
        assert!(
            t.index
                .keyword_search(&scope(org, &kbs, &none), "krbtgt", 10)
                .await
                .unwrap()
                .is_empty()
        );
        let hits = t
            .index
            .keyword_search(&scope(org, &kbs, &none), "version two", 10)
            .await
            .unwrap();
        assert_eq!(hits.len(), 2, "{name}");
        assert!(hits.iter().all(|h| h.title == "v2"), "{name}");
        let v2: MetadataFilter = [("version".to_owned(), json!(2))].into_iter().collect();
        let hits = t
            .index
            .keyword_search(&scope(org, &kbs, &v2), "version two", 10)
            .await
            .unwrap();
        assert_eq!(ids_of(&hits), [good[0].chunk.id], "{name}");

        // Replacing with no chunks keeps the document without chunks; deleting reports what it did.
        t.index.replace_document(org, &new_doc, &[]).await.unwrap();
        assert!(
            t.index
                .keyword_search(&scope(org, &kbs, &none), "version", 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(t.index.delete_document(org, d).await.unwrap(), "{name}");
        assert!(!t.index.delete_document(org, d).await.unwrap(), "{name}");
        assert_eq!(
            t.index
                .chunks(org, &[other_chunks[0].chunk.id])
                .await
                .unwrap()
                .len(),
            1
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_failed_replace_leaves_the_tenant_transaction_usable() {
    for b in common::both().await {
        let name = b.name();
        let index = StoreIndex::new(b.store.clone());
        let t = Target {
            name,
            index: Arc::new(index),
            backend: None,
        };
        let user = b.store.create_user("tx@example.com", "Tx", None).await.unwrap();
        let org = b
            .store
            .create_organization("Tx", "tx-org", user.id)
            .await
            .unwrap()
            .id;
        let kb = KnowledgeBaseId::new();
        let (d1, d2) = (DocumentId::new(), DocumentId::new());
        let c1 = vec![IndexedChunk {
            chunk: chunk(d1, 0, "first document", None),
            embedding: None,
        }];
        t.index
            .replace_document(org, &document(d1, kb, "one"), &c1)
            .await
            .unwrap();

        let mut tx = b.store.tenant(org).await.unwrap();
        let mut clash = c1.clone();
        clash[0].chunk.document_id = d2;
        let err = tx
            .replace_indexed_document(&document(d2, kb, "two"), &clash)
            .await
            .unwrap_err();
        assert!(
            matches!(err, secops_store::StoreError::Duplicate(_)),
            "{name}: {err}"
        );
        let c2 = vec![IndexedChunk {
            chunk: chunk(d2, 0, "second document", None),
            embedding: None,
        }];
        tx.replace_indexed_document(&document(d2, kb, "two"), &c2)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let none = MetadataFilter::new();
        let hits = t
            .index
            .keyword_search(&scope(org, &[kb], &none), "document", 10)
            .await
            .unwrap();
        assert_eq!(hits.len(), 2, "{name}");
        b.cleanup().await;
    }
}

#[tokio::test]
async fn another_organisation_can_neither_read_nor_delete() {
    let ids = Ids::new();
    for t in targets().await {
        let name = t.name;
        let (a, b, kb) = (t.org().await, t.org().await, KnowledgeBaseId::new());
        corpus(&t, a, kb, ids).await;
        let (kbs, none) = ([kb], MetadataFilter::new());
        let q = "isolate the infected host";
        let a_hits = t
            .index
            .keyword_search(&scope(a, &kbs, &none), q, 10)
            .await
            .unwrap();
        assert!(!a_hits.is_empty(), "{name}");
        let a_ids = ids_of(&a_hits);

        // B, naming A's knowledge base, chunk ids and document: nothing to read, nothing deleted.
        assert!(
            t.index
                .keyword_search(&scope(b, &kbs, &none), q, 10)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let v = t
            .index
            .vector_search(&scope(b, &kbs, &none), &query_vector(q).await, 10)
            .await
            .unwrap();
        assert!(v.is_empty(), "{name}");
        assert!(t.index.chunks(b, &a_ids).await.unwrap().is_empty(), "{name}");
        assert!(!t.index.delete_document(b, ids.runbook).await.unwrap(), "{name}");
        // Writing under A's document id never touches A's: the store refuses (ids are global), the
        // in-memory index keeps a separate copy for B.
        let b_chunks = vec![IndexedChunk {
            chunk: chunk(ids.runbook, 0, "isolate everything, says B", None),
            embedding: None,
        }];
        let _ = t
            .index
            .replace_document(b, &document(ids.runbook, kb, "B's"), &b_chunks)
            .await;
        let after = t
            .index
            .keyword_search(&scope(a, &kbs, &none), q, 10)
            .await
            .unwrap();
        assert_eq!(ids_of(&after), a_ids, "{name}");
        assert!(after.iter().all(|h| h.title != "B's"), "{name}");
        assert_eq!(
            t.index.chunks(a, &a_ids).await.unwrap().len(),
            a_ids.len(),
            "{name}"
        );

        // PostgreSQL: even raw statements in B's transaction see and delete none of A's rows (RLS).
        if let Some(backend) = &t.backend
            && backend.owner.is_some()
        {
            let mut tx = backend.store.tenant(b).await.unwrap();
            assert_eq!(testing::count_in(&mut tx, "chunks").await.unwrap(), 0);
            assert_eq!(testing::count_in(&mut tx, "documents").await.unwrap(), 0);
            assert_eq!(
                testing::execute_in(&mut tx, "DELETE FROM chunks").await.unwrap(),
                0
            );
            assert_eq!(
                testing::execute_in(&mut tx, "DELETE FROM documents")
                    .await
                    .unwrap(),
                0
            );
            tx.commit().await.unwrap();
            let mut tx = backend.store.tenant(a).await.unwrap();
            assert_eq!(testing::count_in(&mut tx, "chunks").await.unwrap(), 8);
            tx.rollback().await.unwrap();
        }
        assert!(t.index.delete_document(a, ids.runbook).await.unwrap(), "{name}");
        assert!(t.index.chunks(a, &a_ids).await.unwrap().is_empty(), "{name}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn searches_stay_in_the_knowledge_bases_asked_for() {
    let ids = Ids::new();
    for t in targets().await {
        let name = t.name;
        let org = t.org().await;
        let (kb, other, keyword_only) = (
            KnowledgeBaseId::new(),
            KnowledgeBaseId::new(),
            KnowledgeBaseId::new(),
        );
        corpus(&t, org, kb, ids).await;
        ingestor(&t.index, true)
            .ingest(request(
                org,
                other,
                DocumentId::new(),
                b"Isolate the host: legacy notes.",
                "old.txt",
            ))
            .await
            .unwrap();
        ingestor(&t.index, false)
            .ingest(request(
                org,
                keyword_only,
                DocumentId::new(),
                b"Isolate the host, keyword only.",
                "kw.txt",
            ))
            .await
            .unwrap();
        let none = MetadataFilter::new();
        let v = query_vector("isolate host").await;
        for (kbs, expected) in [
            (vec![kb], vec![kb]),
            (vec![other], vec![other]),
            (vec![kb, other, keyword_only], vec![kb, other, keyword_only]),
            (vec![], vec![]),
            (vec![KnowledgeBaseId::new()], vec![]),
        ] {
            let hits = t
                .index
                .keyword_search(&scope(org, &kbs, &none), "isolate host", 20)
                .await
                .unwrap();
            let mut got: Vec<KnowledgeBaseId> = hits.iter().map(|h| h.knowledge_base).collect();
            got.sort();
            got.dedup();
            let mut want = expected.clone();
            want.sort();
            assert_eq!(got, want, "{name}: keyword in {kbs:?}");
            let hits = t
                .index
                .vector_search(&scope(org, &kbs, &none), &v, 20)
                .await
                .unwrap();
            assert!(hits.iter().all(|h| kbs.contains(&h.knowledge_base)), "{name}");
            assert!(
                hits.iter().all(|h| h.knowledge_base != keyword_only),
                "{name}: no vectors there"
            );
        }
        let r = retriever(&t, org, vec![kb], RetrievalMode::Hybrid);
        let hits = r
            .search(&SearchRequest::new("isolate host", 10))
            .await
            .unwrap()
            .hits;
        assert!(
            !hits.is_empty() && hits.iter().all(|h| h.hit.knowledge_base == kb),
            "{name}"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn the_older_documents_api_still_works_beside_the_index() {
    for b in common::both().await {
        let name = b.name();
        let user = b
            .store
            .create_user("docs@example.com", "Docs", None)
            .await
            .unwrap();
        let org = b
            .store
            .create_organization("Docs", "docs-org", user.id)
            .await
            .unwrap()
            .id;
        let mut tx = b.store.tenant(org).await.unwrap();
        let legacy = tx
            .add_document(
                NewDocument {
                    title: "legacy".into(),
                    source: "legacy.txt".into(),
                    metadata: serde_json::Map::new(),
                },
                vec![NewChunk {
                    text: "isolate the host (legacy)".into(),
                    embedding: query_vector("isolate the host").await,
                }],
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let index = StoreIndex::new(b.store.clone());
        let kb = KnowledgeBaseId::new();
        let d = DocumentId::new();
        let chunks = embedded(vec![chunk(d, 0, "isolate the host (indexed)", None)]).await;
        index
            .replace_document(org, &document(d, kb, "indexed"), &chunks)
            .await
            .unwrap();

        let mut tx = b.store.tenant(org).await.unwrap();
        let none = MetadataFilter::new();
        let old = tx.keyword_search("isolate host", 10, &none).await.unwrap();
        assert_eq!(old.len(), 2, "{name}");
        let old = tx
            .vector_search(&query_vector("isolate the host").await, 10, &none)
            .await
            .unwrap();
        assert_eq!(old.len(), 2, "{name}");
        assert_eq!(tx.document(legacy.id).await.unwrap().chunks, 1);
        tx.commit().await.unwrap();
        // The index sees only knowledge-base documents.
        let hits = index
            .keyword_search(&scope(org, &[kb], &none), "isolate host", 10)
            .await
            .unwrap();
        assert_eq!(ids_of(&hits), [chunks[0].chunk.id], "{name}");
        b.cleanup().await;
    }
}
