//! Conformance on both backends for credentials (API keys, refresh tokens, invitations), chats with
//! attachments, feedback, triggers, rules and detections; each with the cross-tenant checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use chrono::Duration;
use serde_json::json;

use secops_core::message::{ContentBlock, Role as MessageRole};
use secops_core::run::AgentConfig;
use secops_core::tenancy::{OrgId, Role, RunId, UserId};
use secops_store::agents::NewAgent;
use secops_store::chats::LocalFileStore;
use secops_store::credentials::{InvitationAcceptance, NewApiKey};
use secops_store::crypto::SecretKey;
use secops_store::detections::{
    DetectionFilter, DetectionNote, DetectionStatus, DetectionUpdate, NewDetection, NewRule,
};
use secops_store::feedback::FeedbackTarget;
use secops_store::runs::{NewRun, RunTrigger};
use secops_store::triggers::TriggerSpec;
use secops_store::{PageRequest, Store, StoreError};

async fn org(store: &Store, tag: &str) -> (OrgId, UserId) {
    let u = uuid::Uuid::now_v7().simple();
    let user = store
        .create_user(&format!("{tag}-{u}@example.com"), tag, None)
        .await
        .unwrap();
    let org = store
        .create_organization(tag, &format!("{tag}-{u}"), user.id)
        .await
        .unwrap();
    (org.id, user.id)
}

fn agent() -> NewAgent {
    NewAgent {
        name: "triage".into(),
        description: String::new(),
        model: None,
        config: AgentConfig::default(),
        tools: vec![],
        enabled: true,
        system_prompt: "p".into(),
        author: None,
    }
}

#[tokio::test]
async fn api_keys_refresh_tokens_and_invitations() {
    for b in common::both().await {
        let s = &b.store;
        let key = SecretKey::generate().unwrap();
        let (a, alice) = org(s, "alpha").await;
        let (bravo, _) = org(s, "bravo").await;

        let mut tx = s.tenant(a).await.unwrap();
        let issued = tx
            .create_api_key(
                &key,
                NewApiKey {
                    name: "splunk forwarder".into(),
                    scopes: vec!["events_ingest".into()],
                    expires_at: None,
                    created_by: Some(alice),
                },
            )
            .await
            .unwrap();
        assert!(issued.secret.starts_with(&format!("sk_{}_", issued.key.prefix)));
        assert!(
            !format!("{issued:?}").contains(&issued.secret[16..]),
            "the secret never prints"
        );
        let expired = tx
            .create_api_key(
                &key,
                NewApiKey {
                    name: "old".into(),
                    scopes: vec![],
                    expires_at: Some(chrono::Utc::now() - Duration::hours(1)),
                    created_by: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(tx.api_keys(&PageRequest::first(10)).await.unwrap().items.len(), 2);
        tx.commit().await.unwrap();

        let found = s
            .system()
            .authenticate_api_key(&key, &issued.secret)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.id, found.org_id), (issued.key.id, a));
        let last = if issued.secret.ends_with('0') { "1" } else { "0" };
        let tampered = format!("{}{last}", &issued.secret[..issued.secret.len() - 1]);
        assert!(
            s.system()
                .authenticate_api_key(&key, &tampered)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.system()
                .authenticate_api_key(&key, "sk_nothex____x")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.system()
                .authenticate_api_key(&key, "Bearer whatever")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.system()
                .authenticate_api_key(&key, &expired.secret)
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        assert!(
            s.system()
                .authenticate_api_key(&SecretKey::generate().unwrap(), &issued.secret)
                .await
                .unwrap()
                .is_none(),
            "other server key"
        );

        // Another organisation cannot see or revoke it.
        let mut tb = s.tenant(bravo).await.unwrap();
        assert!(
            tb.api_keys(&PageRequest::first(10))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(matches!(
            tb.revoke_api_key(issued.key.id).await,
            Err(StoreError::NotFound(_))
        ));
        tb.commit().await.unwrap();
        assert!(
            s.system()
                .authenticate_api_key(&key, &issued.secret)
                .await
                .unwrap()
                .is_some()
        );

        let mut tx = s.tenant(a).await.unwrap();
        let revoked = tx.revoke_api_key(issued.key.id).await.unwrap();
        assert!(revoked.revoked_at.is_some() && revoked.last_used_at.is_some());
        let t1 = tx
            .issue_refresh_token(&key, alice, Duration::days(1))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            s.system()
                .authenticate_api_key(&key, &issued.secret)
                .await
                .unwrap()
                .is_none(),
            "revoked"
        );

        // Refresh tokens rotate; presenting a rotated one revokes the family.
        let r1 = s
            .system()
            .rotate_refresh_token(&key, &t1, Duration::days(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((r1.org_id, r1.user_id), (a, alice));
        let r2 = s
            .system()
            .rotate_refresh_token(&key, &r1.token, Duration::days(1))
            .await
            .unwrap()
            .unwrap();
        assert!(
            s.system()
                .rotate_refresh_token(&key, &t1, Duration::days(1))
                .await
                .unwrap()
                .is_none(),
            "reuse is refused"
        );
        assert!(
            s.system()
                .rotate_refresh_token(&key, &r2.token, Duration::days(1))
                .await
                .unwrap()
                .is_none(),
            "and revokes the whole family"
        );
        assert!(
            s.system()
                .rotate_refresh_token(&key, "unknown", Duration::days(1))
                .await
                .unwrap()
                .is_none()
        );

        // Invitations: accepted once, by token; another org cannot list or withdraw them.
        let bob = s
            .create_user(
                &format!("bob-{}@example.com", uuid::Uuid::now_v7().simple()),
                "Bob",
                None,
            )
            .await
            .unwrap();
        let mut tx = s.tenant(a).await.unwrap();
        let (inv, token) = tx
            .create_invitation(&key, &bob.email, Role::Analyst, Some(alice), Duration::days(7))
            .await
            .unwrap();
        let (_, stale) = tx
            .create_invitation(
                &key,
                "late@example.com",
                Role::Viewer,
                None,
                Duration::seconds(-1),
            )
            .await
            .unwrap();
        assert!(matches!(
            tx.create_invitation(&key, "nope", Role::Viewer, None, Duration::days(1))
                .await,
            Err(StoreError::InvalidInput(_))
        ));
        tx.commit().await.unwrap();
        let mut tb = s.tenant(bravo).await.unwrap();
        assert!(
            tb.invitations(&PageRequest::first(10))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(matches!(
            tb.delete_invitation(inv.id).await,
            Err(StoreError::NotFound(_))
        ));
        tb.commit().await.unwrap();
        let for_anyone = |_: &secops_store::credentials::Invitation| true;
        let refused = s
            .system()
            .accept_invitation(&key, &token, bob.id, &|_| false)
            .await
            .unwrap();
        assert!(
            matches!(&refused, InvitationAcceptance::NotForUser(i) if i.id == inv.id),
            "{refused:?}"
        );
        let InvitationAcceptance::Accepted(m) = s
            .system()
            .accept_invitation(&key, &token, bob.id, &for_anyone)
            .await
            .unwrap()
        else {
            panic!("a refusal leaves the invitation usable by the right person")
        };
        assert_eq!((m.org_id, m.role), (a, Role::Analyst));
        assert_eq!(
            s.system()
                .accept_invitation(&key, &token, bob.id, &for_anyone)
                .await
                .unwrap(),
            InvitationAcceptance::Unusable,
            "used once"
        );
        assert_eq!(
            s.system()
                .accept_invitation(&key, &stale, bob.id, &for_anyone)
                .await
                .unwrap(),
            InvitationAcceptance::Unusable,
            "expired"
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn chats_messages_attachments_and_feedback() {
    for b in common::both().await {
        let s = &b.store;
        let files_dir = std::env::temp_dir().join(format!("secops-files-{}", uuid::Uuid::now_v7().simple()));
        let files = LocalFileStore::new(&files_dir).unwrap();
        let (a, alice) = org(s, "alpha").await;
        let (bravo, _) = org(s, "bravo").await;
        let mut tx = s.tenant(a).await.unwrap();
        let ag = tx.create_agent(agent()).await.unwrap();
        let chat = tx
            .create_chat(Some(ag.id), "ws-042 beaconing", Some(alice))
            .await
            .unwrap();
        for i in 0..3 {
            tx.create_chat(None, &format!("chat {i}"), None).await.unwrap();
        }
        let page = tx.chats(&PageRequest::first(3)).await.unwrap();
        assert_eq!(page.items.len(), 3);
        assert_eq!(
            tx.chats(&PageRequest {
                limit: 3,
                cursor: page.next_cursor
            })
            .await
            .unwrap()
            .items,
            vec![chat.clone()]
        );
        let renamed = tx.rename_chat(chat.id, "ws-042 C2", chat.version).await.unwrap();
        assert!(matches!(
            tx.rename_chat(chat.id, "x", chat.version).await,
            Err(StoreError::Conflict { .. })
        ));
        let m1 = tx
            .add_chat_message(
                chat.id,
                MessageRole::User,
                vec![ContentBlock::text("Is ws-042 compromised?")],
                None,
            )
            .await
            .unwrap();
        let m2 = tx
            .add_chat_message(
                chat.id,
                MessageRole::Assistant,
                vec![ContentBlock::text("Likely: it beacons to 203.0.113.7.")],
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            tx.chat_messages(chat.id, None, 10).await.unwrap(),
            vec![m1.clone(), m2.clone()]
        );
        assert_eq!(
            tx.chat_messages(chat.id, Some(m1.id), 10).await.unwrap(),
            vec![m2.clone()]
        );
        let pcap = b"\xd4\xc3\xb2\xa1 fake pcap bytes";
        let att = tx
            .add_attachment(
                &files,
                chat.id,
                "capture.pcap",
                "application/vnd.tcpdump.pcap",
                pcap,
                Some(alice),
            )
            .await
            .unwrap();
        assert_eq!(att.size_bytes, pcap.len() as i64);
        let (meta, bytes) = tx.attachment(&files, att.id).await.unwrap();
        assert_eq!((meta, bytes.as_slice()), (att.clone(), &pcap[..]));
        assert!(matches!(
            tx.add_attachment(&files, chat.id, "empty.txt", "text/plain", b"", None)
                .await,
            Err(StoreError::InvalidInput(_))
        ));
        let fb = tx
            .add_feedback(
                FeedbackTarget::Message(*m2.id.as_uuid()),
                1,
                "spot on",
                Some(alice),
            )
            .await
            .unwrap();
        assert!(matches!(
            tx.add_feedback(FeedbackTarget::Message(*m2.id.as_uuid()), 5, "", None)
                .await,
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            tx.add_feedback(FeedbackTarget::Run(uuid::Uuid::now_v7()), 1, "", None)
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(tx.feedback(&PageRequest::first(5)).await.unwrap().items, vec![fb]);
        tx.commit().await.unwrap();

        // Another organisation: nothing visible, nothing changeable, no feedback on foreign messages.
        let mut tb = s.tenant(bravo).await.unwrap();
        assert!(matches!(tb.chat(chat.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            tb.rename_chat(chat.id, "x", renamed.version).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.add_chat_message(chat.id, MessageRole::User, vec![], None)
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(tb.chat_messages(chat.id, None, 10).await.unwrap().is_empty());
        assert!(matches!(
            tb.attachment(&files, att.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.add_attachment(&files, chat.id, "x", "text/plain", b"x", None)
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.add_feedback(FeedbackTarget::Message(*m2.id.as_uuid()), 1, "", None)
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.delete_chat(&files, chat.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(
            matches!(
                tb.create_chat(Some(ag.id), "steal", None).await,
                Err(StoreError::NotFound(_))
            ),
            "another org's agent"
        );
        tb.commit().await.unwrap();

        let mut tx = s.tenant(a).await.unwrap();
        tx.delete_chat(&files, chat.id).await.unwrap();
        assert!(matches!(
            tx.attachment(&files, att.id).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        assert_eq!(
            std::fs::read_dir(files_dir.join(a.to_string())).unwrap().count(),
            0,
            "the bytes are gone too"
        );
        let _ = std::fs::remove_dir_all(files_dir);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn triggers_rules_and_detection_workflow() {
    for b in common::both().await {
        let s = &b.store;
        let (a, alice) = org(s, "alpha").await;
        let (bravo, _) = org(s, "bravo").await;
        let mut tx = s.tenant(a).await.unwrap();
        let ag = tx.create_agent(agent()).await.unwrap();
        let t = tx
            .create_trigger(
                ag.id,
                TriggerSpec::Schedule {
                    cron: "*/15 * * * *".into(),
                },
                true,
            )
            .await
            .unwrap();
        assert!(matches!(
            tx.create_trigger(
                ag.id,
                TriggerSpec::Schedule {
                    cron: "every day".into()
                },
                true
            )
            .await,
            Err(StoreError::InvalidInput(_))
        ));
        let d = tx
            .create_trigger(
                ag.id,
                TriggerSpec::Detection {
                    rules: vec![],
                    min_level: Some("high".into()),
                },
                true,
            )
            .await
            .unwrap();
        assert_eq!(
            tx.triggers(Some(ag.id), &PageRequest::first(10))
                .await
                .unwrap()
                .items
                .len(),
            2
        );
        let t2 = tx
            .update_trigger(t.id, t.version, None, Some(false))
            .await
            .unwrap();
        assert!(!t2.enabled);
        assert!(matches!(
            tx.update_trigger(t.id, t.version, None, None).await,
            Err(StoreError::Conflict { .. })
        ));

        let rule = tx
            .create_rule(NewRule {
                rule_uid: "5f1abf38-3f1e-4d1a-a2ba-3f7d1a0e5c2e".into(),
                title: "Encoded PowerShell".into(),
                source_yaml: "title: Encoded PowerShell\n".into(),
                status: "stable".into(),
                level: "high".into(),
                author: "Florian Roth".into(),
                tags: vec!["attack.t1059.001".into()],
                enabled: true,
            })
            .await
            .unwrap();
        let dup = tx
            .create_rule(NewRule {
                title: "again".into(),
                ..rule.rule.clone()
            })
            .await;
        assert!(matches!(dup, Err(StoreError::Duplicate(_))));
        let off = tx.set_rule_enabled(rule.id, false, rule.version).await.unwrap();
        assert!(
            tx.rules(true, &PageRequest::first(10))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        tx.set_rule_enabled(rule.id, true, off.version).await.unwrap();

        let det = tx
            .create_detection(NewDetection {
                rule_id: Some(rule.id),
                level: "high".into(),
                title: "Encoded PowerShell on ws-042".into(),
                event: json!({"Image": "powershell.exe"}),
            })
            .await
            .unwrap();
        assert_eq!(det.status, DetectionStatus::New);
        let bad = tx
            .update_detection(
                det.id,
                det.version,
                DetectionUpdate {
                    status: Some(DetectionStatus::TruePositive),
                    ..Default::default()
                },
            )
            .await;
        assert!(
            matches!(bad, Err(StoreError::InvalidInput(_))),
            "new cannot jump to true_positive"
        );
        let run = RunId::new();
        tx.create_run(
            run,
            NewRun {
                agent_id: ag.id,
                trigger: RunTrigger::Detection,
                prompt_version: None,
                input: json!({}),
            },
        )
        .await
        .unwrap();
        let triaging = tx
            .update_detection(
                det.id,
                det.version,
                DetectionUpdate {
                    status: Some(DetectionStatus::Triaging),
                    assignee_id: Some(Some(alice)),
                    run_id: Some(run),
                    note: Some(DetectionNote {
                        author_id: Some(alice),
                        text: "looking".into(),
                        at: chrono::Utc::now(),
                    }),
                },
            )
            .await
            .unwrap();
        let tp = tx
            .update_detection(
                det.id,
                triaging.version,
                DetectionUpdate {
                    status: Some(DetectionStatus::TruePositive),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let closed = tx
            .update_detection(
                det.id,
                tp.version,
                DetectionUpdate {
                    status: Some(DetectionStatus::Closed),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (
                closed.status,
                closed.assignee_id,
                closed.run_id,
                closed.notes.len()
            ),
            (DetectionStatus::Closed, Some(alice), Some(run), 1)
        );
        assert!(matches!(
            tx.update_detection(det.id, tp.version, DetectionUpdate::default())
                .await,
            Err(StoreError::Conflict { .. })
        ));
        let listed = tx
            .detections(
                &DetectionFilter {
                    status: Some(DetectionStatus::Closed),
                    ..Default::default()
                },
                &PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(listed.items, vec![closed.clone()]);
        tx.commit().await.unwrap();

        let mut tb = s.tenant(bravo).await.unwrap();
        assert!(matches!(tb.trigger(d.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            tb.update_trigger(d.id, d.version, None, Some(false)).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.delete_trigger(d.id, d.version).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.create_trigger(ag.id, TriggerSpec::Manual, true).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(tb.rule(rule.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            tb.set_rule_enabled(rule.id, false, 1).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.delete_rule(rule.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(tb.detection(det.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            tb.update_detection(det.id, closed.version, DetectionUpdate::default())
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tb.create_detection(NewDetection {
                rule_id: Some(rule.id),
                level: "low".into(),
                title: "x".into(),
                event: json!({})
            })
            .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(
            tb.detections(&DetectionFilter::default(), &PageRequest::first(10))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        tb.commit().await.unwrap();

        let mut tx = s.tenant(a).await.unwrap();
        tx.delete_trigger(d.id, d.version).await.unwrap();
        tx.delete_rule(rule.id).await.unwrap();
        assert_eq!(
            tx.detection(det.id).await.unwrap().rule_id,
            None,
            "detections outlive their rule"
        );
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}
