//! Single sign-on storage on both backends: provider settings with a sealed secret, single-use pending logins,
//! and identities linked to users.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use chrono::Duration;
use secops_core::tenancy::Role;
use secops_store::StoreError;
use secops_store::crypto::{SecretBox, SecretKey};
use secops_store::sso::{NewSsoLogin, SsoProviderInput};
use secops_store::testing;

fn input(secret: Option<&str>, role: Role) -> SsoProviderInput {
    SsoProviderInput {
        issuer: "https://idp.example".into(),
        client_id: "secops".into(),
        client_secret: secret.map(str::to_owned),
        default_role: role,
        enabled: true,
    }
}

fn login(ttl: Duration) -> NewSsoLogin {
    NewSsoLogin {
        issuer: "https://idp.example".into(),
        nonce: "nonce-1".into(),
        pkce_verifier: "verifier-that-is-secret".into(),
        redirect_uri: "https://secops.example/v1/auth/sso/callback".into(),
        ttl,
    }
}

#[tokio::test]
async fn providers_keep_their_secret_sealed_and_refuse_owner_as_default() {
    for b in common::both().await {
        let s = &b.store;
        let secrets = SecretBox::new(SecretKey::generate().unwrap());
        let u = uuid::Uuid::now_v7().simple();
        let owner = s
            .create_user(&format!("o-{u}@example.com"), "O", None)
            .await
            .unwrap();
        let org = s
            .create_organization("SSO", &format!("sso-{u}"), owner.id)
            .await
            .unwrap();
        let mut tx = s.tenant(org.id).await.unwrap();
        assert!(matches!(tx.sso_provider().await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            tx.put_sso_provider(&secrets, input(None, Role::Viewer), None)
                .await,
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            tx.put_sso_provider(&secrets, input(Some("s3cret"), Role::Owner), None)
                .await,
            Err(StoreError::InvalidInput(_))
        ));
        let created = tx
            .put_sso_provider(&secrets, input(Some("s3cret"), Role::Analyst), None)
            .await
            .unwrap();
        assert_eq!((created.version, created.default_role), (1, Role::Analyst));
        let mut changed = input(None, Role::Viewer);
        changed.enabled = false;
        let updated = tx
            .put_sso_provider(&secrets, changed.clone(), Some(1))
            .await
            .unwrap();
        assert_eq!((updated.version, updated.enabled), (2, false));
        assert_eq!(
            tx.sso_client_secret(&secrets).await.unwrap(),
            "s3cret",
            "leaving the secret out keeps it"
        );
        assert!(matches!(
            tx.put_sso_provider(&secrets, changed, Some(1)).await,
            Err(StoreError::Conflict { .. })
        ));
        let other = SecretBox::new(SecretKey::generate().unwrap());
        assert!(matches!(
            tx.sso_client_secret(&other).await,
            Err(StoreError::Decrypt)
        ));
        tx.commit().await.unwrap();
        let raw = b.owner.as_ref().unwrap_or(s);
        let stored = testing::bytes(raw, "SELECT client_secret FROM sso_providers")
            .await
            .unwrap();
        assert!(
            stored.iter().all(|c| !c.windows(6).any(|w| w == b"s3cret")),
            "{}: the secret is not stored plain",
            b.name()
        );
        let mut tx = s.tenant(org.id).await.unwrap();
        tx.delete_sso_provider().await.unwrap();
        assert!(matches!(
            tx.delete_sso_provider().await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        b.cleanup().await;
    }
}

#[tokio::test]
async fn pending_logins_work_once_and_lapse() {
    for b in common::both().await {
        let s = &b.store;
        let secrets = SecretBox::new(SecretKey::generate().unwrap());
        let hmac = SecretKey::generate().unwrap();
        let u = uuid::Uuid::now_v7().simple();
        let owner = s
            .create_user(&format!("o-{u}@example.com"), "O", None)
            .await
            .unwrap();
        let org = s
            .create_organization("SSO", &format!("sso-{u}"), owner.id)
            .await
            .unwrap();
        let mut tx = s.tenant(org.id).await.unwrap();
        tx.create_sso_login(
            &hmac,
            &secrets,
            "state-live-0123456789",
            login(Duration::minutes(10)),
        )
        .await
        .unwrap();
        tx.create_sso_login(
            &hmac,
            &secrets,
            "state-lapsed-0123456789",
            login(Duration::seconds(-1)),
        )
        .await
        .unwrap();
        assert!(matches!(
            tx.create_sso_login(&hmac, &secrets, "short", login(Duration::minutes(1)))
                .await,
            Err(StoreError::InvalidInput(_))
        ));
        tx.commit().await.unwrap();

        let sys = s.system();
        let taken = sys
            .take_sso_login(&hmac, &secrets, "state-live-0123456789")
            .await
            .unwrap()
            .expect("a live login");
        assert_eq!(taken.org_id, org.id);
        assert_eq!(taken.pkce_verifier, "verifier-that-is-secret");
        assert_eq!(taken.nonce, "nonce-1");
        assert!(!format!("{taken:?}").contains("verifier-that-is-secret"));
        assert!(
            sys.take_sso_login(&hmac, &secrets, "state-live-0123456789")
                .await
                .unwrap()
                .is_none(),
            "{}: a state works once",
            b.name()
        );
        assert!(
            sys.take_sso_login(&hmac, &secrets, "state-lapsed-0123456789")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            sys.take_sso_login(&hmac, &secrets, "state-unknown-0123456789")
                .await
                .unwrap()
                .is_none()
        );
        let other_key = SecretKey::generate().unwrap();
        let mut tx = s.tenant(org.id).await.unwrap();
        tx.create_sso_login(
            &hmac,
            &secrets,
            "state-again-0123456789",
            login(Duration::minutes(10)),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(
            sys.take_sso_login(&other_key, &secrets, "state-again-0123456789")
                .await
                .unwrap()
                .is_none(),
            "the state is found through the server's HMAC key only"
        );
        let raw = b.owner.as_ref().unwrap_or(s);
        assert_eq!(
            testing::scalar_i64(raw, "SELECT count(*) FROM sso_logins")
                .await
                .unwrap(),
            1,
            "used and lapsed logins are gone"
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn identities_link_to_one_user() {
    for b in common::both().await {
        let s = &b.store;
        let u = uuid::Uuid::now_v7().simple();
        let issuer = format!("https://idp-{u}.example");
        let sys = s.system();
        assert!(sys.user_by_identity(&issuer, "alice").await.unwrap().is_none());
        let alice = s
            .create_sso_user(&format!("alice-{u}@example.com"), "Alice", &issuer, "alice")
            .await
            .unwrap();
        let login = sys.user_by_email(&alice.email).await.unwrap().unwrap();
        assert_eq!(login.password_hash, None, "SSO users have no password");
        assert_eq!(
            sys.user_by_identity(&issuer, "alice").await.unwrap(),
            Some(alice.clone())
        );
        assert!(
            sys.user_by_identity("https://other.example", "alice")
                .await
                .unwrap()
                .is_none(),
            "subjects are per issuer"
        );
        assert!(matches!(
            s.create_sso_user(&format!("ALICE-{u}@example.com"), "Alice 2", &issuer, "alice-2")
                .await,
            Err(StoreError::Duplicate(_))
        ));
        assert!(
            sys.user_by_identity(&issuer, "alice-2").await.unwrap().is_none(),
            "{}: a failed creation links nothing",
            b.name()
        );
        assert!(matches!(
            s.link_identity(alice.id, &issuer, "alice").await,
            Err(StoreError::Duplicate(_))
        ));
        s.link_identity(alice.id, &issuer, "alice-2").await.unwrap();
        assert_eq!(
            sys.user_by_identity(&issuer, "alice-2")
                .await
                .unwrap()
                .map(|u| u.id),
            Some(alice.id)
        );
        b.cleanup().await;
    }
}
