//! One conformance suite, run against both backends: create, read, list with pagination, update with a version
//! conflict, delete where allowed, for each entity the store offers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;

use serde_json::json;

use secops_core::model::{ScriptedProvider, ScriptedTurn};
use secops_core::run::{Agent as RuntimeAgent, AgentConfig, EventLog, PlanningMode, RunStatus};
use secops_core::tenancy::{Role, UserId};
use secops_store::agents::{AgentUpdate, NewAgent};
use secops_store::audit::{AuditFilter, AuditOutcome, NewAuditEvent};
use secops_store::crypto::{SecretBox, SecretKey};
use secops_store::documents::{MetadataFilter, NewChunk, NewDocument};
use secops_store::runs::{NewRun, RunFilter, RunTrigger};
use secops_store::tool_configs::{NewToolConfig, ToolConfigChange};
use secops_store::{PageRequest, Store, StoreError};

async fn org_with_owner(store: &Store, tag: &str) -> (secops_store::identity::Organization, UserId) {
    let user = store
        .create_user(
            &format!("owner-{tag}-{}@example.com", uuid::Uuid::now_v7().simple()),
            "Owner",
            None,
        )
        .await
        .unwrap();
    let org = store
        .create_organization(
            &format!("Org {tag}"),
            &format!("org-{tag}-{}", uuid::Uuid::now_v7().simple()),
            user.id,
        )
        .await
        .unwrap();
    (org, user.id)
}

fn new_agent(name: &str) -> NewAgent {
    NewAgent {
        name: name.into(),
        description: "triage".into(),
        model: None,
        config: AgentConfig {
            mode: PlanningMode::LoopWithLimits,
            ..AgentConfig::default()
        },
        tools: vec!["lookup_host".into()],
        enabled: true,
        system_prompt: "You are a SOC analyst.".into(),
        author: None,
    }
}

pub fn audit(action: &str) -> NewAuditEvent {
    NewAuditEvent {
        actor_kind: "user".into(),
        actor_id: Some(uuid::Uuid::now_v7()),
        action: action.into(),
        resource_kind: "agent".into(),
        resource_id: Some("a1".into()),
        ip: Some("198.51.100.4".into()),
        user_agent: Some("curl/8".into()),
        context: json!({"request_id": "r1"}),
        outcome: AuditOutcome::Success,
    }
}

#[tokio::test]
async fn identity_users_organisations_memberships() {
    for b in common::both().await {
        let s = &b.store;
        let (org, owner) = org_with_owner(s, "id").await;
        let dup = s
            .create_user(
                &s.system()
                    .user(owner)
                    .await
                    .unwrap()
                    .unwrap()
                    .email
                    .to_uppercase(),
                "X",
                None,
            )
            .await;
        assert!(
            matches!(dup, Err(StoreError::Duplicate(_))),
            "{}: e-mails are unique without regard to case",
            b.name()
        );
        assert!(matches!(
            s.create_user("not-an-email", "X", None).await,
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            s.create_organization("", "x", owner).await,
            Err(StoreError::InvalidInput(_))
        ));
        let analyst = s
            .create_user(
                &format!("analyst-{}@example.com", uuid::Uuid::now_v7().simple()),
                "Ana",
                Some("$argon2id$v=19$..."),
            )
            .await
            .unwrap();
        let login = s.system().user_by_email(&analyst.email).await.unwrap().unwrap();
        assert_eq!(login.password_hash.as_deref(), Some("$argon2id$v=19$..."));
        let renamed = s
            .update_user(
                analyst.id,
                analyst.version,
                secops_store::identity::UserUpdate {
                    display_name: Some("Ana B".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (renamed.display_name.as_str(), renamed.version),
            ("Ana B", analyst.version + 1)
        );
        assert!(matches!(
            s.update_user(
                analyst.id,
                analyst.version,
                secops_store::identity::UserUpdate::default()
            )
            .await,
            Err(StoreError::Conflict { .. })
        ));
        assert!(matches!(
            s.update_user(UserId::new(), 1, secops_store::identity::UserUpdate::default())
                .await,
            Err(StoreError::NotFound(_))
        ));

        let mut tx = s.tenant(org.id).await.unwrap();
        let m = tx.add_member(analyst.id, Role::Analyst).await.unwrap();
        assert!(matches!(
            tx.add_member(analyst.id, Role::Viewer).await,
            Err(StoreError::Duplicate(_))
        ));
        let page = tx.members(&PageRequest::first(1)).await.unwrap();
        assert_eq!(page.items.len(), 1);
        let page2 = tx
            .members(&PageRequest {
                limit: 1,
                cursor: page.next_cursor.clone(),
            })
            .await
            .unwrap();
        assert_eq!(page2.items.len(), 1);
        assert!(page2.next_cursor.is_none());
        assert_ne!(page.items[0].user_id, page2.items[0].user_id);
        let m2 = tx
            .set_member_role(analyst.id, Role::Admin, m.version)
            .await
            .unwrap();
        assert_eq!((m2.role, m2.version), (Role::Admin, m.version + 1));
        assert!(matches!(
            tx.set_member_role(analyst.id, Role::Viewer, m.version).await,
            Err(StoreError::Conflict { .. })
        ));
        let owner_m = tx.member(owner).await.unwrap();
        assert!(matches!(
            tx.set_member_role(owner, Role::Viewer, owner_m.version).await,
            Err(StoreError::InvalidInput(_))
        ));
        assert!(
            matches!(tx.remove_member(owner).await, Err(StoreError::InvalidInput(_))),
            "the last owner stays"
        );
        tx.remove_member(analyst.id).await.unwrap();
        assert!(matches!(
            tx.member(analyst.id).await,
            Err(StoreError::NotFound(_))
        ));
        let renamed = tx.rename_organization("Blue Team", org.version).await.unwrap();
        assert!(matches!(
            tx.rename_organization("Red", org.version).await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(renamed.name, "Blue Team");
        tx.commit().await.unwrap();
        let mine = s.system().memberships_of(owner).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].0.id, mine[0].1.role), (org.id, Role::Owner));
        assert!(
            matches!(PageRequest { limit: 5, cursor: Some("junk".into()) }, ref p if s.tenant(org.id).await.unwrap().members(p).await.is_err())
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn agents_and_prompt_versions() {
    for b in common::both().await {
        let s = &b.store;
        let (org, owner) = org_with_owner(s, "ag").await;
        let mut tx = s.tenant(org.id).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                tx.create_agent(new_agent(&format!("agent-{i}")))
                    .await
                    .unwrap()
                    .id,
            );
        }
        assert!(matches!(
            tx.create_agent(new_agent("agent-0")).await,
            Err(StoreError::Duplicate(_))
        ));
        assert!(matches!(
            tx.create_agent(new_agent(" ")).await,
            Err(StoreError::InvalidInput(_))
        ));
        // Pagination: newest first, 2 + 2 + 1.
        let mut seen = Vec::new();
        let mut page = PageRequest::first(2);
        loop {
            let p = tx.agents(&page).await.unwrap();
            seen.extend(p.items.iter().map(|a| a.id));
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        ids.reverse();
        assert_eq!(seen, ids, "{}", b.name());

        let a = tx.agent(ids[0]).await.unwrap();
        assert_eq!(a.active_prompt_version, Some(1));
        assert!(
            a.config.system_prompt.is_empty(),
            "the prompt lives in its versions"
        );
        let updated = tx
            .update_agent(
                a.id,
                a.version,
                AgentUpdate {
                    description: Some("phishing triage".into()),
                    enabled: Some(false),
                    ..AgentUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (updated.description.as_str(), updated.enabled, updated.version),
            ("phishing triage", false, a.version + 1)
        );
        assert!(matches!(
            tx.update_agent(a.id, a.version, AgentUpdate::default()).await,
            Err(StoreError::Conflict { .. })
        ));

        let v2 = tx
            .add_prompt_version(a.id, "You are a careful SOC analyst.", Some(owner), "be careful")
            .await
            .unwrap();
        assert_eq!(v2.number, 2);
        let a2 = tx
            .activate_prompt_version(a.id, 2, updated.version)
            .await
            .unwrap();
        assert_eq!(
            tx.active_prompt(a.id).await.unwrap().body,
            "You are a careful SOC analyst."
        );
        let a3 = tx.activate_prompt_version(a.id, 1, a2.version).await.unwrap();
        assert_eq!(
            a3.active_prompt_version,
            Some(1),
            "an older version can be activated again"
        );
        assert!(matches!(
            tx.activate_prompt_version(a.id, 9, a3.version).await,
            Err(StoreError::NotFound(_))
        ));
        let versions = tx.prompt_versions(a.id, &PageRequest::first(10)).await.unwrap();
        assert_eq!(
            versions.items.iter().map(|v| v.number).collect::<Vec<_>>(),
            vec![2, 1]
        );

        assert!(matches!(
            tx.delete_agent(a.id, a.version).await,
            Err(StoreError::Conflict { .. })
        ));
        tx.delete_agent(a.id, a3.version).await.unwrap();
        assert!(matches!(tx.agent(a.id).await, Err(StoreError::NotFound(_))));
        assert!(
            matches!(tx.prompt_version(a.id, 1).await, Err(StoreError::NotFound(_))),
            "versions go with the agent"
        );
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}

#[tokio::test]
async fn runs_state_and_events() {
    for b in common::both().await {
        let s = &b.store;
        let (org, _) = org_with_owner(s, "run").await;
        let mut tx = s.tenant(org.id).await.unwrap();
        let agent = tx.create_agent(new_agent("triage")).await.unwrap();

        // A real run of the runtime, persisted as the server will.
        let provider = Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text(
            "No alerts for ws-042.",
        )]));
        let runtime = RuntimeAgent::builder(provider).build().unwrap();
        let mut state = runtime.start("Any alerts for ws-042?").in_org(org.id);
        let run = tx
            .create_run(
                state.run_id,
                NewRun {
                    agent_id: agent.id,
                    trigger: RunTrigger::Manual,
                    prompt_version: Some(1),
                    input: json!({"text": "Any alerts for ws-042?"}),
                },
            )
            .await
            .unwrap();
        assert_eq!(run.status, "queued");
        let events = EventLog::new();
        runtime
            .drive(&mut state, &events, &tokio_util::sync::CancellationToken::new())
            .await;
        assert_eq!(state.status, RunStatus::Finished);
        let saved = tx.save_run_state(&state, run.version).await.unwrap();
        assert_eq!(saved.status, "finished");
        assert_eq!(saved.output.as_ref().unwrap().text, "No alerts for ws-042.");
        assert_eq!(saved.stop_reason.as_deref(), Some("completed"));
        assert!(saved.finished_at.is_some() && saved.usage.total_tokens() > 0);
        assert!(matches!(
            tx.save_run_state(&state, run.version).await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(
            tx.run_state(state.run_id).await.unwrap().unwrap(),
            state,
            "the state round-trips for resuming"
        );

        tx.append_run_events(state.run_id, &events.events())
            .await
            .unwrap();
        let stored = tx.run_events(state.run_id, 0, 100).await.unwrap();
        assert_eq!(stored.len(), events.events().len());
        assert_eq!(stored[0].kind, "run_started");
        let later = tx.run_events(state.run_id, 2, 100).await.unwrap();
        assert_eq!(
            later.first().map(|e| e.seq),
            Some(3),
            "resume after a Last-Event-ID"
        );
        assert!(matches!(
            tx.append_run_events(state.run_id, &events.events()[..1]).await,
            Err(StoreError::Duplicate(_))
        ));

        for _ in 0..3 {
            tx.create_run(
                secops_core::tenancy::RunId::new(),
                NewRun {
                    agent_id: agent.id,
                    trigger: RunTrigger::Schedule,
                    prompt_version: None,
                    input: json!({}),
                },
            )
            .await
            .unwrap();
        }
        let scheduled = tx
            .runs(
                &RunFilter {
                    trigger: Some(RunTrigger::Schedule),
                    ..RunFilter::default()
                },
                &PageRequest::first(2),
            )
            .await
            .unwrap();
        assert_eq!(scheduled.items.len(), 2);
        assert!(scheduled.next_cursor.is_some());
        let finished = tx
            .runs(
                &RunFilter {
                    status: Some("finished".into()),
                    agent_id: Some(agent.id),
                    ..RunFilter::default()
                },
                &PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(finished.items.len(), 1);
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}

#[tokio::test]
async fn audit_log_searches_exports_and_verifies() {
    for b in common::both().await {
        let s = &b.store;
        let (org, _) = org_with_owner(s, "au").await;
        let mut tx = s.tenant(org.id).await.unwrap();
        tx.append_audit(audit("agent.create")).await.unwrap();
        let mut failed = audit("auth.login");
        failed.outcome = AuditOutcome::Failure;
        tx.append_audit_batch(vec![audit("agent.update"), failed, audit("agent.delete")])
            .await
            .unwrap();
        let page = tx
            .audit_events(&AuditFilter::default(), &PageRequest::first(3))
            .await
            .unwrap();
        assert_eq!(
            page.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![4, 3, 2]
        );
        let failures = tx
            .audit_events(
                &AuditFilter {
                    outcome: Some(AuditOutcome::Failure),
                    ..AuditFilter::default()
                },
                &PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(failures.items.len(), 1);
        assert_eq!(failures.items[0].event.action, "auth.login");
        let mut ndjson = Vec::new();
        assert_eq!(
            tx.export_audit_ndjson(&AuditFilter::default(), &mut ndjson)
                .await
                .unwrap(),
            4
        );
        let lines: Vec<serde_json::Value> = String::from_utf8(ndjson)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["seq"], 1);
        assert_eq!(lines[3]["action"], "agent.delete");
        let v = tx.verify_audit_chain().await.unwrap();
        assert_eq!((v.checked, v.first_broken), (4, None));
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}

#[tokio::test]
async fn tool_configs_encrypt_credentials() {
    for b in common::both().await {
        let s = &b.store;
        let (org, _) = org_with_owner(s, "tc").await;
        let key = SecretKey::generate().unwrap();
        let secrets = SecretBox::new(key);
        let mut tx = s.tenant(org.id).await.unwrap();
        let secret = "splunk-hec-token-7f3a9c";
        let cfg = tx
            .create_tool_config(
                &secrets,
                NewToolConfig {
                    name: "splunk-prod".into(),
                    kind: "splunk".into(),
                    settings: json!({"url": "https://splunk.example:8089"}),
                    credentials: Some(json!({"token": secret})),
                    egress_allow: vec!["10.20.0.5/32".into()],
                    discovered_tools: Vec::new(),
                },
            )
            .await
            .unwrap();
        assert!(cfg.has_credentials);
        assert!(
            !serde_json::to_string(&cfg).unwrap().contains(secret),
            "never returned"
        );
        assert!(
            !format!(
                "{:?}",
                NewToolConfig {
                    name: "x".into(),
                    kind: "x".into(),
                    settings: json!({}),
                    credentials: Some(json!({"token": secret})),
                    egress_allow: Vec::new(),
                    discovered_tools: Vec::new(),
                }
            )
            .contains(secret)
        );
        assert_eq!(
            tx.tool_credentials(&secrets, cfg.id).await.unwrap(),
            Some(json!({"token": secret}))
        );
        let wrong = SecretBox::new(SecretKey::generate().unwrap());
        assert!(
            matches!(
                tx.tool_credentials(&wrong, cfg.id).await,
                Err(StoreError::Decrypt)
            ),
            "a wrong key fails cleanly"
        );
        let listed = tx.tool_configs(&PageRequest::first(10)).await.unwrap();
        assert_eq!(listed.items, vec![cfg.clone()]);
        let updated = tx
            .update_tool_config(
                &secrets,
                cfg.id,
                cfg.version,
                ToolConfigChange {
                    credentials: Some(None),
                    ..ToolConfigChange::default()
                },
            )
            .await
            .unwrap();
        assert!(!updated.has_credentials);
        assert_eq!(updated.egress_allow, ["10.20.0.5/32"], "kept when not changed");
        assert!(matches!(
            tx.update_tool_config(&secrets, cfg.id, cfg.version, ToolConfigChange::default())
                .await,
            Err(StoreError::Conflict { .. })
        ));
        let again = tx
            .update_tool_config(
                &secrets,
                cfg.id,
                updated.version,
                ToolConfigChange {
                    settings: Some(json!({"url": "https://b"})),
                    credentials: Some(Some(json!({"token": secret}))),
                    egress_allow: Some(Vec::new()),
                    discovered_tools: None,
                },
            )
            .await
            .unwrap();
        assert!(again.egress_allow.is_empty());
        assert_eq!(
            tx.tool_configs_named(&["splunk-prod".into(), "missing".into()])
                .await
                .unwrap(),
            vec![again.clone()]
        );
        tx.commit().await.unwrap();
        // The bytes at rest never contain the plaintext.
        let raw_store = b.owner.as_ref().unwrap_or(&b.store);
        let raw = secops_store::testing::bytes(
            raw_store,
            "SELECT credentials FROM tool_configs WHERE credentials IS NOT NULL",
        )
        .await;
        match (b.owner.is_some(), raw) {
            (_, Ok(rows)) => {
                assert_eq!(rows.len(), 1);
                assert!(!rows[0].windows(secret.len()).any(|w| w == secret.as_bytes()));
            }
            (has_owner, Err(e)) => panic!("{}: raw read failed (owner: {has_owner}): {e}", b.name()),
        }
        let mut tx = s.tenant(org.id).await.unwrap();
        tx.delete_tool_config(again.id, again.version).await.unwrap();
        assert!(matches!(
            tx.tool_config(again.id).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}

fn embedding(seed: u32, dims: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..dims)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x % 2000) as f32 / 1000.0 - 1.0
        })
        .collect()
}

#[tokio::test]
async fn documents_vector_and_keyword_search() {
    for b in common::both().await {
        let s = &b.store;
        let (org, _) = org_with_owner(s, "doc").await;
        let mut tx = s.tenant(org.id).await.unwrap();
        let texts = [
            "Lateral movement over SMB from ws-042",
            "Phishing mail with a macro attachment",
            "Beaconing to 203.0.113.7 every minute",
        ];
        let mut docs = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let mut metadata = serde_json::Map::new();
            metadata.insert("team".into(), json!(if i == 1 { "email" } else { "network" }));
            let doc = tx
                .add_document(
                    NewDocument {
                        title: format!("playbook {i}"),
                        source: format!("playbooks/{i}.md"),
                        metadata,
                    },
                    vec![NewChunk {
                        text: (*text).into(),
                        embedding: embedding(i as u32, 384),
                    }],
                )
                .await
                .unwrap();
            docs.push(doc);
        }
        assert!(matches!(
            tx.add_document(
                NewDocument {
                    title: "bad".into(),
                    source: "x".into(),
                    metadata: serde_json::Map::new()
                },
                vec![NewChunk {
                    text: "x".into(),
                    embedding: vec![f32::NAN]
                }]
            )
            .await,
            Err(StoreError::InvalidInput(_))
        ));
        let hits = tx
            .vector_search(&embedding(2, 384), 2, &MetadataFilter::new())
            .await
            .unwrap();
        assert_eq!(
            hits[0].document_id,
            docs[2].id,
            "{}: the nearest chunk is the identical one",
            b.name()
        );
        assert!((hits[0].score - 1.0).abs() < 1e-4);
        let mut only_email = MetadataFilter::new();
        only_email.insert("team".into(), json!("email"));
        let hits = tx
            .vector_search(&embedding(2, 384), 3, &only_email)
            .await
            .unwrap();
        assert_eq!(
            hits.iter().map(|h| h.document_id).collect::<Vec<_>>(),
            vec![docs[1].id],
            "filters apply before top-k"
        );
        let words = tx
            .keyword_search("lateral SMB", 5, &MetadataFilter::new())
            .await
            .unwrap();
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].document_id, docs[0].id);
        assert!(
            tx.keyword_search("\"unbalanced OR", 5, &MetadataFilter::new())
                .await
                .is_ok(),
            "query syntax never errors"
        );
        let mut bad = MetadataFilter::new();
        bad.insert("team'; --".into(), json!("x"));
        assert!(matches!(
            tx.vector_search(&embedding(1, 384), 3, &bad).await,
            Err(StoreError::InvalidInput(_))
        ));
        let listed = tx.documents(&PageRequest::first(2)).await.unwrap();
        assert_eq!(listed.items.len(), 2);
        assert_eq!(listed.items[0].chunks, 1);
        tx.delete_document(docs[0].id).await.unwrap();
        assert!(
            tx.keyword_search("lateral", 5, &MetadataFilter::new())
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            tx.delete_document(docs[0].id).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}
