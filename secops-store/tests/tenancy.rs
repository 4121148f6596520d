//! Tenant isolation on both backends, and PostgreSQL's row-level security, roles and append-only audit log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;

use serde_json::json;

use secops_core::model::{ScriptedProvider, ScriptedTurn};
use secops_core::run::{Agent as RuntimeAgent, AgentConfig, EventLog};
use secops_core::tenancy::{OrgId, Role, RunId, UserId};
use secops_store::agents::{AgentUpdate, NewAgent};
use secops_store::audit::{AuditFilter, AuditOutcome, NewAuditEvent};
use secops_store::crypto::{SecretBox, SecretKey};
use secops_store::documents::{MetadataFilter, NewChunk, NewDocument};
use secops_store::runs::{NewRun, RunTrigger};
use secops_store::tool_configs::NewToolConfig;
use secops_store::{ConnectOptions, Dialect, PageRequest, Store, StoreError, testing};

/// Every table that holds tenant data.
const TENANT_TABLES: [&str; 22] = [
    "run_queue",
    "memberships",
    "invitations",
    "api_keys",
    "refresh_tokens",
    "agents",
    "agent_prompt_versions",
    "agent_runs",
    "run_events",
    "agent_triggers",
    "chats",
    "chat_messages",
    "attachments",
    "feedback",
    "tool_configs",
    "documents",
    "chunks",
    "detection_rules",
    "detections",
    "audit_events",
    "sso_providers",
    "sso_logins",
];

fn audit(action: &str) -> NewAuditEvent {
    NewAuditEvent {
        actor_kind: "system".into(),
        actor_id: None,
        action: action.into(),
        resource_kind: "test".into(),
        resource_id: None,
        ip: None,
        user_agent: None,
        context: json!({}),
        outcome: AuditOutcome::Success,
    }
}

struct Seeded {
    org: OrgId,
    member: UserId,
    agent: secops_store::agents::Agent,
    run_state: secops_core::run::RunState,
    tool: secops_store::tool_configs::ToolConfig,
    doc: secops_store::documents::Document,
}

async fn seed(store: &Store, secrets: &SecretBox, tag: &str) -> Seeded {
    let u = uuid::Uuid::now_v7().simple();
    let owner = store
        .create_user(&format!("{tag}-owner-{u}@example.com"), "Owner", None)
        .await
        .unwrap();
    let member = store
        .create_user(&format!("{tag}-member-{u}@example.com"), "Member", None)
        .await
        .unwrap();
    let org = store
        .create_organization(tag, &format!("{tag}-{u}"), owner.id)
        .await
        .unwrap();
    let mut tx = store.tenant(org.id).await.unwrap();
    tx.add_member(member.id, Role::Analyst).await.unwrap();
    let agent = tx
        .create_agent(NewAgent {
            name: "triage".into(),
            description: String::new(),
            model: None,
            config: AgentConfig::default(),
            tools: vec![],
            enabled: true,
            system_prompt: format!("secret prompt of {tag}"),
            author: None,
        })
        .await
        .unwrap();
    let runtime = RuntimeAgent::builder(Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text("done")])))
        .build()
        .unwrap();
    let mut state = runtime.start("go").in_org(org.id);
    let run = tx
        .create_run(
            state.run_id,
            NewRun {
                agent_id: agent.id,
                trigger: RunTrigger::Manual,
                prompt_version: Some(1),
                input: json!({}),
            },
        )
        .await
        .unwrap();
    tx.enqueue_run(state.run_id, None, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let events = EventLog::new();
    runtime
        .drive(&mut state, &events, &tokio_util::sync::CancellationToken::new())
        .await;
    tx.save_run_state(&state, run.version).await.unwrap();
    tx.append_run_events(state.run_id, &events.events())
        .await
        .unwrap();
    tx.append_audit(audit(&format!("{tag}.seeded"))).await.unwrap();
    let tool = tx
        .create_tool_config(
            secrets,
            NewToolConfig {
                name: "siem".into(),
                kind: "splunk".into(),
                settings: json!({}),
                credentials: Some(json!({"token": format!("{tag}-token")})),
                egress_allow: Vec::new(),
                discovered_tools: Vec::new(),
            },
        )
        .await
        .unwrap();
    let doc = tx
        .add_document(
            NewDocument {
                title: format!("{tag} playbook"),
                source: "pb.md".into(),
                metadata: serde_json::Map::new(),
            },
            vec![NewChunk {
                text: format!("{tag} lateral movement playbook"),
                embedding: vec![0.1; 384],
            }],
        )
        .await
        .unwrap();
    // One row in every other tenant table too, so isolation checks never pass on empty tables.
    let hmac = SecretKey::generate().unwrap();
    tx.create_api_key(
        &hmac,
        secops_store::credentials::NewApiKey {
            name: "k".into(),
            scopes: vec![],
            expires_at: None,
            created_by: None,
        },
    )
    .await
    .unwrap();
    tx.issue_refresh_token(&hmac, owner.id, chrono::Duration::days(1))
        .await
        .unwrap();
    tx.create_invitation(
        &hmac,
        "new@example.com",
        Role::Viewer,
        None,
        chrono::Duration::days(1),
    )
    .await
    .unwrap();
    tx.create_trigger(agent.id, secops_store::triggers::TriggerSpec::Manual, true)
        .await
        .unwrap();
    let chat = tx.create_chat(Some(agent.id), "c", None).await.unwrap();
    let message = tx
        .add_chat_message(
            chat.id,
            secops_core::message::Role::User,
            vec![secops_core::message::ContentBlock::text("hi")],
            None,
        )
        .await
        .unwrap();
    let files = secops_store::chats::LocalFileStore::new(
        std::env::temp_dir().join(format!("secops-tenancy-files-{u}")),
    )
    .unwrap();
    tx.add_attachment(&files, chat.id, "a.txt", "text/plain", b"x", None)
        .await
        .unwrap();
    tx.add_feedback(
        secops_store::feedback::FeedbackTarget::Message(*message.id.as_uuid()),
        1,
        "",
        None,
    )
    .await
    .unwrap();
    let rule = tx
        .create_rule(secops_store::detections::NewRule {
            rule_uid: format!("rule-{tag}"),
            title: "r".into(),
            source_yaml: "title: r".into(),
            status: "test".into(),
            level: "low".into(),
            author: "a".into(),
            tags: vec![],
            enabled: true,
        })
        .await
        .unwrap();
    tx.create_detection(secops_store::detections::NewDetection {
        rule_id: Some(rule.id),
        level: "low".into(),
        title: "d".into(),
        event: json!({}),
    })
    .await
    .unwrap();
    tx.put_sso_provider(
        secrets,
        secops_store::sso::SsoProviderInput {
            issuer: format!("https://{tag}.idp.example"),
            client_id: format!("{tag}-client"),
            client_secret: Some(format!("{tag}-client-secret")),
            default_role: Role::Viewer,
            enabled: true,
        },
        None,
    )
    .await
    .unwrap();
    tx.create_sso_login(
        &hmac,
        secrets,
        &format!("{tag}-state-0123456789abcdef"),
        secops_store::sso::NewSsoLogin {
            issuer: format!("https://{tag}.idp.example"),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            redirect_uri: "https://secops.example/v1/auth/sso/callback".into(),
            ttl: chrono::Duration::minutes(10),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Seeded {
        org: org.id,
        member: member.id,
        agent,
        run_state: state,
        tool,
        doc,
    }
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(r, Err(StoreError::NotFound(_))),
        "{what}: expected not found, got {r:?}"
    );
}

#[tokio::test]
async fn another_organisation_can_neither_read_nor_change_anything() {
    for b in common::both().await {
        let s = &b.store;
        let secrets = SecretBox::new(SecretKey::generate().unwrap());
        let a = seed(s, &secrets, "alpha").await;
        let bravo = seed(s, &secrets, "bravo").await;
        let mut tx = s.tenant(bravo.org).await.unwrap();

        // Read.
        not_found(tx.agent(a.agent.id).await, "agent");
        not_found(tx.prompt_version(a.agent.id, 1).await, "prompt version");
        not_found(tx.active_prompt(a.agent.id).await, "active prompt");
        not_found(tx.run(a.run_state.run_id).await, "run");
        not_found(tx.run_state(a.run_state.run_id).await, "run state");
        assert!(
            tx.run_events(a.run_state.run_id, 0, 100)
                .await
                .unwrap()
                .is_empty()
        );
        not_found(tx.tool_config(a.tool.id).await, "tool config");
        let same_name = tx
            .tool_configs_named(std::slice::from_ref(&a.tool.name))
            .await
            .unwrap();
        assert_eq!(
            same_name.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![bravo.tool.id],
            "a name finds the organisation's own configuration, never another's"
        );
        not_found(tx.tool_credentials(&secrets, a.tool.id).await, "credentials");
        not_found(tx.document(a.doc.id).await, "document");
        not_found(tx.member(a.member).await, "member");
        assert_eq!(
            tx.sso_provider().await.unwrap().issuer,
            "https://bravo.idp.example",
            "one provider per organisation, its own"
        );
        assert_eq!(
            tx.sso_client_secret(&secrets).await.unwrap(),
            "bravo-client-secret"
        );
        let agents = tx.agents(&PageRequest::first(100)).await.unwrap();
        assert!(agents.items.iter().all(|x| x.id != a.agent.id));
        let audit_page = tx
            .audit_events(&AuditFilter::default(), &PageRequest::first(100))
            .await
            .unwrap();
        assert!(
            audit_page
                .items
                .iter()
                .all(|e| !e.event.action.starts_with("alpha")),
            "{}",
            b.name()
        );
        let hits = tx
            .vector_search(&[0.1; 384], 10, &MetadataFilter::new())
            .await
            .unwrap();
        assert!(hits.iter().all(|h| h.document_id != a.doc.id));
        assert!(
            tx.keyword_search("alpha", 10, &MetadataFilter::new())
                .await
                .unwrap()
                .is_empty()
        );

        // Change and delete.
        not_found(
            tx.update_agent(a.agent.id, a.agent.version, AgentUpdate::default())
                .await,
            "update agent",
        );
        not_found(tx.delete_agent(a.agent.id, a.agent.version).await, "delete agent");
        not_found(
            tx.add_prompt_version(a.agent.id, "pwned", None, "").await,
            "add prompt version",
        );
        not_found(
            tx.activate_prompt_version(a.agent.id, 1, a.agent.version).await,
            "activate",
        );
        not_found(tx.save_run_state(&a.run_state, 2).await, "save run state");
        not_found(
            tx.update_tool_config(
                &secrets,
                a.tool.id,
                a.tool.version,
                secops_store::tool_configs::ToolConfigChange {
                    settings: Some(json!({})),
                    ..Default::default()
                },
            )
            .await,
            "update tool",
        );
        not_found(
            tx.delete_tool_config(a.tool.id, a.tool.version).await,
            "delete tool",
        );
        not_found(tx.delete_document(a.doc.id).await, "delete document");
        not_found(tx.set_member_role(a.member, Role::Owner, 1).await, "set role");
        not_found(tx.remove_member(a.member).await, "remove member");
        tx.delete_sso_provider().await.unwrap();
        not_found(tx.delete_sso_provider().await, "delete the other's SSO provider");

        // Insert rows that point into the other organisation.
        let stolen_run = tx
            .create_run(
                RunId::new(),
                NewRun {
                    agent_id: a.agent.id,
                    trigger: RunTrigger::Manual,
                    prompt_version: None,
                    input: json!({}),
                },
            )
            .await;
        assert!(
            matches!(stolen_run, Err(StoreError::InvalidInput(_))),
            "{}: a run for another org's agent: {stolen_run:?}",
            b.name()
        );
        let bogus = secops_core::run::RunEvent {
            seq: 1000,
            run_id: a.run_state.run_id,
            at_ms: 0,
            kind: secops_core::run::RunEventKind::ContextRetrieved { passages: 0 },
        };
        assert!(
            tx.append_run_events(a.run_state.run_id, &[bogus]).await.is_err(),
            "{}: events for another org's run",
            b.name()
        );
        assert_eq!(
            tx.request_run_cancel(a.run_state.run_id).await.unwrap(),
            None,
            "{}: cancel another org's queued run",
            b.name()
        );
        tx.dequeue_run(a.run_state.run_id).await.unwrap();
        assert!(
            tx.verify_audit_chain().await.unwrap().first_broken.is_none(),
            "the transaction is still usable after refusals"
        );
        tx.commit().await.unwrap();

        // Nothing of alpha's changed.
        let mut tx = s.tenant(a.org).await.unwrap();
        assert_eq!(tx.agent(a.agent.id).await.unwrap(), a.agent);
        assert_eq!(
            tx.active_prompt(a.agent.id).await.unwrap().body,
            "secret prompt of alpha"
        );
        assert_eq!(
            tx.tool_credentials(&secrets, a.tool.id).await.unwrap(),
            Some(json!({"token": "alpha-token"}))
        );
        assert_eq!(
            tx.run_events(a.run_state.run_id, 0, 1000).await.unwrap().len() as u64,
            a.run_state.next_seq - 1
        );
        assert_eq!(tx.member(a.member).await.unwrap().role, Role::Analyst);
        assert!(
            tx.request_run_cancel(a.run_state.run_id).await.unwrap().is_some(),
            "alpha's run is still queued"
        );
        assert_eq!(
            tx.sso_client_secret(&secrets).await.unwrap(),
            "alpha-client-secret"
        );
        assert!(tx.verify_audit_chain().await.unwrap().first_broken.is_none());
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}

#[tokio::test]
async fn postgres_row_level_security_holds_even_for_raw_sql() {
    let b = common::postgres().await;
    let s = &b.store;
    let owner = b.owner.as_ref().unwrap();
    let secrets = SecretBox::new(SecretKey::generate().unwrap());
    let a = seed(s, &secrets, "alpha").await;
    let bravo = seed(s, &secrets, "bravo").await;

    // Every table with an organization_id column has RLS enabled and forced, with a policy on app.org_id.
    let tables = testing::strings(owner, "SELECT table_name::text FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'organization_id' ORDER BY 1").await.unwrap();
    let mut expected: Vec<String> = TENANT_TABLES.iter().map(|t| (*t).to_owned()).collect();
    expected.sort();
    assert_eq!(
        tables, expected,
        "the list of tenant tables in this test is complete"
    );
    for table in tables.iter().chain(std::iter::once(&"organizations".to_owned())) {
        let flags = testing::strings(owner, &format!("SELECT relrowsecurity::text || ',' || relforcerowsecurity::text FROM pg_class WHERE oid = 'public.{table}'::regclass")).await.unwrap();
        assert_eq!(flags, vec!["true,true".to_owned()], "{table}");
        let check = testing::strings(owner, &format!("SELECT coalesce(with_check, '') FROM pg_policies WHERE tablename = '{table}' AND policyname = 'tenant_isolation'")).await.unwrap();
        assert!(
            check.len() == 1 && check[0].contains("app.org_id"),
            "{table}: {check:?}"
        );
    }

    for table in TENANT_TABLES {
        let rows = testing::scalar_i64(owner, &format!("SELECT count(*) FROM {table}"))
            .await
            .unwrap();
        assert!(rows >= 2, "{table} has rows of both organisations ({rows})");
    }
    // The app role without app.org_id sees nothing, in every tenant table.
    let mut tx = testing::unscoped(s).await.unwrap();
    for table in TENANT_TABLES.iter().chain(["organizations"].iter()) {
        assert_eq!(
            testing::count_in(&mut tx, table).await.unwrap(),
            0,
            "{table} without app.org_id"
        );
    }
    assert!(
        testing::scalar_i64(owner, "SELECT count(*) FROM agents")
            .await
            .unwrap()
            >= 2,
        "the rows exist"
    );
    tx.rollback().await.unwrap();

    // Raw statements inside bravo's transaction cannot touch alpha's rows or write rows for alpha.
    let mut tx = s.tenant(bravo.org).await.unwrap();
    let alpha = a.org.to_string();
    assert_eq!(
        testing::execute_in(
            &mut tx,
            &format!("UPDATE agents SET name = 'pwned' WHERE organization_id = '{alpha}'")
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        testing::execute_in(
            &mut tx,
            &format!("DELETE FROM documents WHERE organization_id = '{alpha}'")
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        testing::execute_in(&mut tx, "DELETE FROM tool_configs WHERE true")
            .await
            .unwrap(),
        1,
        "only bravo's own row"
    );
    let insert = testing::execute_in(&mut tx, &format!(
        "INSERT INTO agents (organization_id, id, name, description, config, tools, enabled, created_at, updated_at) VALUES ('{alpha}', '{}', 'x', '', '{{}}', '[]', true, now(), now())",
        uuid::Uuid::now_v7()
    )).await;
    assert!(
        insert.is_err(),
        "inserting a row for another organisation violates the policy"
    );
    let insert = testing::execute_in(&mut tx, &format!(
        "INSERT INTO audit_events (organization_id, id, seq, occurred_at, actor_kind, action, resource_kind, context, outcome, prev_hash, hash) VALUES ('{alpha}', '{}', 99, now(), 'user', 'x', 'x', '{{}}', 'success', '\\x00', '\\x00')",
        uuid::Uuid::now_v7()
    )).await;
    assert!(insert.is_err());
    tx.rollback().await.unwrap();
    assert_eq!(
        testing::scalar_i64(
            owner,
            &format!("SELECT count(*) FROM documents WHERE organization_id = '{alpha}'")
        )
        .await
        .unwrap(),
        1
    );
    b.cleanup().await;
}

#[tokio::test]
async fn postgres_refuses_superusers_and_the_app_role_cannot_rewrite_history() {
    let b = common::postgres().await;
    let refused = Store::connect(&common::admin_url(), ConnectOptions::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::Config(m)) if m.contains("superuser")),
        "{refused:?}"
    );

    let s = &b.store;
    let secrets = SecretBox::new(SecretKey::generate().unwrap());
    let a = seed(s, &secrets, "alpha").await;
    let mut tx = s.tenant(a.org).await.unwrap();
    assert!(
        testing::execute_in(&mut tx, "UPDATE audit_events SET action = 'nothing happened'")
            .await
            .is_err(),
        "no UPDATE grant"
    );
    assert!(
        testing::execute_in(&mut tx, "DELETE FROM audit_events")
            .await
            .is_err(),
        "no DELETE grant"
    );
    assert!(
        testing::execute_in(&mut tx, "UPDATE run_events SET kind = 'x'")
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();
    b.cleanup().await;
}

#[tokio::test]
async fn tampering_with_one_audit_row_is_found_and_named() {
    for b in common::both().await {
        let s = &b.store;
        let secrets = SecretBox::new(SecretKey::generate().unwrap());
        let a = seed(s, &secrets, "alpha").await;
        let mut tx = s.tenant(a.org).await.unwrap();
        let events = tx
            .append_audit_batch((0..5).map(|i| audit(&format!("step.{i}"))).collect())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let target = &events[2];

        // The attacker has direct database access: the owner role on PostgreSQL, the file on SQLite (where
        // the append-only trigger must be dropped first, which the app never does).
        let raw = match b.store.dialect() {
            Dialect::Postgres => b.owner.as_ref().unwrap(),
            Dialect::Sqlite => {
                let mut tx = s.tenant(a.org).await.unwrap();
                assert!(
                    testing::execute_in(&mut tx, "UPDATE audit_events SET action = 'x'")
                        .await
                        .is_err(),
                    "sqlite: append-only trigger"
                );
                assert!(
                    testing::execute_in(&mut tx, "DELETE FROM audit_events")
                        .await
                        .is_err()
                );
                tx.rollback().await.unwrap();
                testing::execute(s, "DROP TRIGGER audit_events_no_update")
                    .await
                    .unwrap();
                testing::execute(s, "DROP TRIGGER audit_events_no_delete")
                    .await
                    .unwrap();
                s
            }
        };
        let id_literal = match b.store.dialect() {
            Dialect::Postgres => format!("'{}'", target.id),
            Dialect::Sqlite => format!("x'{}'", target.id.simple()),
        };
        testing::execute(
            raw,
            &format!("UPDATE audit_events SET action = 'step.harmless' WHERE id = {id_literal}"),
        )
        .await
        .unwrap();
        let mut tx = s.tenant(a.org).await.unwrap();
        let v = tx.verify_audit_chain().await.unwrap();
        let broken = v
            .first_broken
            .unwrap_or_else(|| panic!("{}: tampering not detected", b.name()));
        assert_eq!((broken.id, broken.seq), (target.id, target.seq), "{}", b.name());
        assert!(broken.reason.contains("changed"), "{}", broken.reason);
        tx.rollback().await.unwrap();

        // Removing a row is found too.
        let later = &events[4];
        let later_literal = match b.store.dialect() {
            Dialect::Postgres => format!("'{}'", events[3].id),
            Dialect::Sqlite => format!("x'{}'", events[3].id.simple()),
        };
        testing::execute(
            raw,
            &format!("UPDATE audit_events SET action = 'step.2' WHERE id = {id_literal}"),
        )
        .await
        .unwrap();
        testing::execute(
            raw,
            &format!("DELETE FROM audit_events WHERE id = {later_literal}"),
        )
        .await
        .unwrap();
        let mut tx = s.tenant(a.org).await.unwrap();
        let broken = tx.verify_audit_chain().await.unwrap().first_broken.unwrap();
        assert_eq!(
            broken.seq,
            later.seq,
            "{}: the event after the gap is named",
            b.name()
        );
        tx.rollback().await.unwrap();
        b.cleanup().await;
    }
}
