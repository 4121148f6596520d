//! Store throughput on both backends: audit appends, run-event appends, run reads by id, and vector top-10
//! latency and recall at 100,000 chunks of 384 dimensions.
//!
//! `cargo bench -p secops-benches --bench store` (PostgreSQL from `SECOPS_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, with pgvector; a throw-away database is created and dropped).
//! `SECOPS_BENCH_CHUNKS` changes the corpus size.
//!
//! Targets: >= 5,000 audit appends/s on PostgreSQL (batching allowed); top-10 under 20 ms at recall >= 0.95
//! on pgvector.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss,
    missing_docs
)]

use std::time::{Duration, Instant};

use serde_json::json;

use secops_core::run::{RunEvent, RunEventKind};
use secops_core::tenancy::{OrgId, RunId};
use secops_store::agents::NewAgent;
use secops_store::audit::{AuditOutcome, NewAuditEvent};
use secops_store::documents::{MetadataFilter, NewChunk, NewDocument};
use secops_store::runs::{NewRun, RunTrigger};
use secops_store::testing::{self, FreshPostgres};
use secops_store::{ConnectOptions, Dialect, Store};

const DIMS: usize = 384;

fn audit(i: usize) -> NewAuditEvent {
    NewAuditEvent {
        actor_kind: "user".into(),
        actor_id: Some(uuid::Uuid::now_v7()),
        action: "agent.update".into(),
        resource_kind: "agent".into(),
        resource_id: Some(format!("agent-{i}")),
        ip: Some("198.51.100.7".into()),
        user_agent: Some("secops-bench".into()),
        context: json!({"request_id": i}),
        outcome: AuditOutcome::Success,
    }
}

/// A deterministic xorshift generator, so every run measures the same corpus.
struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Embedding-like data: 1,000 topic centres, each chunk a centre plus noise.
fn corpus(n: usize) -> Vec<Vec<f32>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let centres: Vec<Vec<f32>> = (0..1000)
        .map(|_| (0..DIMS).map(|_| rng.next_f32()).collect())
        .collect();
    (0..n)
        .map(|i| {
            centres[i % centres.len()]
                .iter()
                .map(|c| c + 0.35 * rng.next_f32())
                .collect()
        })
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut d, mut x, mut y) = (0f32, 0f32, 0f32);
    for (p, q) in a.iter().zip(b) {
        d += p * q;
        x += p * p;
        y += q * q;
    }
    d / (x.sqrt() * y.sqrt())
}

async fn setup_org(store: &Store) -> (OrgId, secops_core::tenancy::AgentId) {
    let u = uuid::Uuid::now_v7().simple();
    let user = store
        .create_user(&format!("bench-{u}@example.com"), "Bench", None)
        .await
        .unwrap();
    let org = store
        .create_organization("Bench", &format!("bench-{u}"), user.id)
        .await
        .unwrap();
    let mut tx = store.tenant(org.id).await.unwrap();
    let agent = tx
        .create_agent(NewAgent {
            name: "bench".into(),
            description: String::new(),
            model: None,
            config: Default::default(),
            tools: vec![],
            enabled: true,
            system_prompt: "x".into(),
            author: None,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (org.id, agent.id)
}

async fn bench_backend(name: &str, store: &Store, owner: Option<&Store>, chunks: usize) {
    let (org, agent) = setup_org(store).await;

    // Audit appends: one per transaction, and batches of 100 per transaction.
    let n = 500;
    let t = Instant::now();
    for i in 0..n {
        let mut tx = store.tenant(org).await.unwrap();
        tx.append_audit(audit(i)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let single = n as f64 / t.elapsed().as_secs_f64();
    let n = 20_000;
    let t = Instant::now();
    for b in 0..n / 100 {
        let mut tx = store.tenant(org).await.unwrap();
        tx.append_audit_batch((0..100).map(|i| audit(b * 100 + i)).collect())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let batched = n as f64 / t.elapsed().as_secs_f64();
    println!("{name:<9} audit appends/s            {single:>10.0} (1 per tx)   {batched:>10.0} (100 per tx)");

    // Run events: batches of 50 per transaction, as the executor flushes them.
    let mut tx = store.tenant(org).await.unwrap();
    let run_id = RunId::new();
    tx.create_run(
        run_id,
        NewRun {
            agent_id: agent,
            trigger: RunTrigger::Manual,
            prompt_version: None,
            input: json!({}),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let n = 20_000u64;
    let t = Instant::now();
    for b in 0..n / 50 {
        let events: Vec<RunEvent> = (1..=50)
            .map(|i| RunEvent {
                seq: b * 50 + i,
                run_id,
                at_ms: 0,
                kind: RunEventKind::TextDelta {
                    text: "the host ws-042 beaconed".into(),
                },
            })
            .collect();
        let mut tx = store.tenant(org).await.unwrap();
        tx.append_run_events(run_id, &events).await.unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "{name:<9} run-event appends/s        {:>10.0} (50 per tx)",
        n as f64 / t.elapsed().as_secs_f64()
    );

    // Run reads by id, each in its own tenant transaction.
    let mut ids = Vec::new();
    let mut tx = store.tenant(org).await.unwrap();
    for _ in 0..200 {
        let id = RunId::new();
        tx.create_run(
            id,
            NewRun {
                agent_id: agent,
                trigger: RunTrigger::Manual,
                prompt_version: None,
                input: json!({"q": "x"}),
            },
        )
        .await
        .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    let n = 5_000;
    let t = Instant::now();
    for i in 0..n {
        let mut tx = store.tenant(org).await.unwrap();
        std::hint::black_box(tx.run(ids[i % ids.len()]).await.unwrap());
        tx.commit().await.unwrap();
    }
    println!(
        "{name:<9} run reads by id/s          {:>10.0}",
        n as f64 / t.elapsed().as_secs_f64()
    );

    // Vector search.
    let vectors = corpus(chunks);
    if let (Dialect::Postgres, Some(owner)) = (store.dialect(), owner) {
        // Bulk loads build the HNSW index once at the end rather than per row.
        testing::execute(owner, "DROP INDEX chunks_embedding_384")
            .await
            .unwrap();
    }
    let t = Instant::now();
    for (d, group) in vectors.chunks(1000).enumerate() {
        let mut tx = store.tenant(org).await.unwrap();
        tx.add_document(
            NewDocument {
                title: format!("doc {d}"),
                source: "bench".into(),
                metadata: serde_json::Map::new(),
            },
            group
                .iter()
                .map(|v| NewChunk {
                    text: "chunk".into(),
                    embedding: v.clone(),
                })
                .collect(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let load = t.elapsed();
    if let (Dialect::Postgres, Some(owner)) = (store.dialect(), owner) {
        let t = Instant::now();
        testing::execute(owner, "SET maintenance_work_mem = '1GB'")
            .await
            .ok();
        testing::execute(owner, "CREATE INDEX chunks_embedding_384 ON chunks USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dims = 384").await.unwrap();
        testing::execute(owner, "ANALYZE chunks").await.unwrap();
        println!(
            "{name:<9} loaded {chunks} chunks in {:.1} s, HNSW index built in {:.1} s",
            load.as_secs_f64(),
            t.elapsed().as_secs_f64()
        );
    } else {
        println!(
            "{name:<9} loaded {chunks} chunks in {:.1} s (exact scan, no index)",
            load.as_secs_f64()
        );
    }
    let mut rng = Rng(42);
    let queries: Vec<Vec<f32>> = (0..if store.dialect() == Dialect::Postgres {
        100
    } else {
        10
    })
        .map(|q| {
            vectors[(q * 7919) % vectors.len()]
                .iter()
                .map(|x| x + 0.2 * rng.next_f32())
                .collect()
        })
        .collect();
    let mut latencies = Vec::new();
    let mut recall_sum = 0.0;
    for q in &queries {
        let t = Instant::now();
        let mut tx = store.tenant(org).await.unwrap();
        let hits = tx.vector_search(q, 10, &MetadataFilter::new()).await.unwrap();
        tx.commit().await.unwrap();
        latencies.push(t.elapsed());
        // Exact top-10 by brute force.
        let mut scored: Vec<(f32, usize)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (cosine(q, v), i))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let exact: Vec<f32> = scored[..10].iter().map(|s| s.0).collect();
        let threshold = exact[9] - 1e-5;
        let found = hits.iter().filter(|h| h.score >= threshold).count().min(10);
        recall_sum += found as f64 / 10.0;
    }
    latencies.sort_unstable();
    let p50 = latencies[latencies.len() / 2];
    let p95 = latencies[latencies.len() * 95 / 100];
    println!(
        "{name:<9} vector top-10 at {chunks} x {DIMS}: p50 {:.2} ms, p95 {:.2} ms, recall@10 {:.3} ({} queries)",
        ms(p50),
        ms(p95),
        recall_sum / queries.len() as f64,
        queries.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let chunks: usize = std::env::var("SECOPS_BENCH_CHUNKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("secops-bench-{}", uuid::Uuid::now_v7().simple()));
        let sqlite = Store::connect(
            &format!("sqlite://{}/bench.db", dir.display()),
            ConnectOptions::default(),
        )
        .await
        .unwrap();
        sqlite.migrate().await.unwrap();
        bench_backend("sqlite", &sqlite, None, chunks).await;
        sqlite.close().await;
        let _ = std::fs::remove_dir_all(dir);

        let admin = std::env::var("SECOPS_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let pg = FreshPostgres::create(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL with pgvector at {admin}: {e}"));
        bench_backend("postgres", &pg.app, Some(&pg.owner), chunks).await;
        pg.drop_all().await.unwrap();
    });
}
