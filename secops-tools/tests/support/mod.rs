//! What the integration tests share: a fake service on loopback, a client allowed to reach it, a tool context.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;

use axum::Router;
use secops_core::tenancy::RunId;
use secops_core::tool::ToolContext;
use secops_tools::egress::{EgressClient, EgressConfig, EgressPolicy};

/// Serves `app` on a free loopback port until the returned set is dropped.
pub async fn serve(app: Router) -> (SocketAddr, tokio::task::JoinSet<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut server = tokio::task::JoinSet::new();
    server.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, server)
}

/// A client whose egress policy allow-lists loopback, where the fakes run.
pub fn loopback_client() -> EgressClient {
    EgressClient::new(
        EgressPolicy::with_allow_list(&["127.0.0.1/32"]).unwrap(),
        EgressConfig::default(),
    )
    .unwrap()
}

/// A context for a direct call.
pub fn ctx() -> ToolContext {
    ToolContext {
        run_id: RunId::new(),
        org_id: None,
        call_id: "call_1".into(),
        cancellation: tokio_util::sync::CancellationToken::new(),
    }
}
