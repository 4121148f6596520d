//! The run queue on both backends: claims never overlap, leases lapse and are renewed, cancellation reaches the
//! holder, released runs come back at once, and one organisation cannot touch another's queued runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use secops_core::message::Message;
use secops_core::run::{AgentConfig, EventLog, PlanningMode, RunEvent, RunEventKind, RunState};
use secops_core::tenancy::{OrgId, RunId};
use secops_store::agents::NewAgent;
use secops_store::queue::Change;
use secops_store::runs::{NewRun, RunTrigger};
use secops_store::{Dialect, Store};
use serde_json::json;

async fn org(store: &Store, tag: &str) -> OrgId {
    let u = uuid::Uuid::now_v7().simple();
    let user = store
        .create_user(&format!("{tag}-{u}@example.com"), tag, None)
        .await
        .unwrap();
    store
        .create_organization(tag, &format!("{tag}-{u}"), user.id)
        .await
        .unwrap()
        .id
}

/// Creates `n` runs in `org`, each with its initial state, queued for any worker.
async fn queued_runs(store: &Store, org: OrgId, n: usize) -> Vec<RunId> {
    let mut tx = store.tenant(org).await.unwrap();
    let agent = tx
        .create_agent(NewAgent {
            name: format!("triage-{}", uuid::Uuid::now_v7().simple()),
            description: String::new(),
            model: None,
            config: AgentConfig::default(),
            tools: vec![],
            enabled: true,
            system_prompt: "p".into(),
            author: None,
        })
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let state = RunState::new(
            PlanningMode::LoopWithLimits,
            Some(org),
            Message::user(format!("alert {i}")),
        );
        let new = NewRun {
            agent_id: agent.id,
            trigger: RunTrigger::Manual,
            prompt_version: Some(1),
            input: json!({"text": format!("alert {i}")}),
        };
        tx.create_run(state.run_id, new).await.unwrap();
        tx.set_initial_run_state(&state).await.unwrap();
        tx.enqueue_run(state.run_id, None, Duration::from_secs(30))
            .await
            .unwrap();
        ids.push(state.run_id);
    }
    tx.commit().await.unwrap();
    ids
}

#[tokio::test]
async fn claims_leases_cancellation_and_release() {
    for b in common::both().await {
        let s = &b.store;
        let mut listener = s.listen().await.unwrap();
        assert_eq!(listener.is_some(), s.dialect() == Dialect::Postgres);
        let (alpha, bravo) = (org(s, "alpha").await, org(s, "bravo").await);
        let a_runs = queued_runs(s, alpha, 6).await;
        let b_runs = queued_runs(s, bravo, 4).await;
        if let Some(l) = listener.as_mut() {
            let change = tokio::time::timeout(Duration::from_secs(5), l.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(change, Change::RunQueued);
        }

        // Two workers racing for more than there is: every run is claimed exactly once, oldest first.
        let lease = Duration::from_secs(30);
        let system = s.system();
        let (w1, w2) = tokio::join!(
            system.claim_runs("w1", lease, 7),
            system.claim_runs("w2", lease, 7)
        );
        let (w1, w2) = (w1.unwrap(), w2.unwrap());
        assert_eq!(w1.len() + w2.len(), 10);
        let all: HashSet<RunId> = w1.iter().chain(&w2).map(|c| c.run).collect();
        assert_eq!(all, a_runs.iter().chain(&b_runs).copied().collect::<HashSet<_>>());
        for c in w1.iter().chain(&w2) {
            let expected = if a_runs.contains(&c.run) { alpha } else { bravo };
            assert_eq!(c.org, expected, "each claim names its run's organisation");
        }
        assert!(
            s.system().claim_runs("w3", lease, 10).await.unwrap().is_empty(),
            "nothing left while leases hold"
        );

        // Cancellation asked through the run's organisation reaches its holder at the next renewal.
        let held_by_w1 = w1[0].run;
        let mut tx = s.tenant(bravo).await.unwrap();
        if !b_runs.contains(&held_by_w1) {
            assert_eq!(
                tx.request_run_cancel(held_by_w1).await.unwrap(),
                None,
                "another organisation sees nothing"
            );
        }
        tx.commit().await.unwrap();
        let owner = if a_runs.contains(&held_by_w1) {
            alpha
        } else {
            bravo
        };
        let mut tx = s.tenant(owner).await.unwrap();
        let entry = tx.request_run_cancel(held_by_w1).await.unwrap().unwrap();
        assert_eq!(entry.holder.as_deref(), Some("w1"));
        tx.commit().await.unwrap();
        let renewed = s.system().renew_leases("w1", lease).await.unwrap();
        assert_eq!(renewed.len(), w1.len());
        assert!(renewed.iter().any(|r| r.run == held_by_w1 && r.cancel_requested));
        assert!(
            renewed
                .iter()
                .filter(|r| r.run != held_by_w1)
                .all(|r| !r.cancel_requested)
        );

        // A released run comes back at once; a lapsed lease lets another worker take the run over.
        s.system().release_runs("w1", &[held_by_w1]).await.unwrap();
        let again = s.system().claim_runs("w3", Duration::ZERO, 10).await.unwrap();
        assert_eq!(again.iter().map(|c| c.run).collect::<Vec<_>>(), vec![held_by_w1]);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let taken_over = s.system().claim_runs("w4", lease, 10).await.unwrap();
        assert_eq!(
            taken_over.iter().map(|c| c.run).collect::<Vec<_>>(),
            vec![held_by_w1]
        );
        assert!(
            s.system().renew_leases("w3", lease).await.unwrap().is_empty(),
            "w3 lost it"
        );

        // Dequeued runs are gone for good; another organisation cannot dequeue.
        let mut tx = s.tenant(bravo).await.unwrap();
        tx.dequeue_run(held_by_w1).await.unwrap();
        tx.commit().await.unwrap();
        if a_runs.contains(&held_by_w1) {
            assert_eq!(
                s.system().renew_leases("w4", lease).await.unwrap().len(),
                1,
                "bravo's dequeue did nothing"
            );
        }
        let mut tx = s.tenant(owner).await.unwrap();
        tx.dequeue_run(held_by_w1).await.unwrap();
        tx.commit().await.unwrap();
        assert!(s.system().renew_leases("w4", lease).await.unwrap().is_empty());
        assert!(
            s.system()
                .claim_runs("w5", Duration::ZERO, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.system().claim_runs("", lease, 1).await.is_err(),
            "a worker needs an id"
        );
        drop(listener);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn a_resumed_run_drops_what_its_lost_worker_wrote_and_starts_running() {
    for b in common::both().await {
        let s = &b.store;
        let alpha = org(s, "alpha").await;
        let run = queued_runs(s, alpha, 1).await[0];
        let mut tx = s.tenant(alpha).await.unwrap();
        let state = tx.run_state(run).await.unwrap().unwrap();
        assert_eq!(tx.run(run).await.unwrap().status, "queued");
        tx.mark_run_running(run).await.unwrap();
        let stored = tx.run(run).await.unwrap();
        assert_eq!(
            (stored.status.as_str(), stored.version),
            ("running", 1),
            "the version the worker holds stays valid"
        );
        // Events a lost worker wrote past the saved state.
        let lost: Vec<RunEvent> = (state.next_seq..state.next_seq + 3)
            .map(|seq| RunEvent {
                seq,
                run_id: run,
                at_ms: 0,
                kind: RunEventKind::ModelCallStarted { call: 1 },
            })
            .collect();
        tx.append_run_events(run, &lost).await.unwrap();
        assert_eq!(
            tx.discard_run_events_from(run, i64::try_from(state.next_seq).unwrap())
                .await
                .unwrap(),
            3
        );
        assert!(tx.run_events(run, 0, 100).await.unwrap().is_empty());
        assert!(
            tx.set_initial_run_state(&state).await.is_err(),
            "only a queued run takes an initial state"
        );
        tx.commit().await.unwrap();
        let _ = EventLog::new();
        b.cleanup().await;
    }
}
