//! Runs over a real socket, on both backends, with the API and the worker in one process and split apart
//! (`serve --no-worker` plus `secops worker`): a WebSocket chat with an approval round trip, cancelling a run
//! mid-tool, and attachments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures::{SinkExt, StreamExt};
use secops_core::model::{ModelProvider, ScriptedProvider, ScriptedTurn};
use secops_core::tool::{RiskLevel, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput, ToolRegistry};
use secops_server::state::AppState;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

mod support;

/// A high-risk tool: isolating a host needs a person's approval.
struct IsolateHost {
    def: ToolDefinition,
    calls: Arc<Mutex<Vec<Value>>>,
}

#[async_trait::async_trait]
impl Tool for IsolateHost {
    fn definition(&self) -> &ToolDefinition {
        &self.def
    }
    async fn call(&self, _ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        self.calls.lock().unwrap().push(input.clone());
        Ok(ToolOutput::text(format!(
            "{} isolated",
            input["host"].as_str().unwrap_or("?")
        )))
    }
}

/// A search that takes until it is cancelled.
struct SlowSearch {
    def: ToolDefinition,
    entered: Arc<tokio::sync::Notify>,
    saw_cancel: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl Tool for SlowSearch {
    fn definition(&self) -> &ToolDefinition {
        &self.def
    }
    async fn call(&self, ctx: &ToolContext, _input: Value) -> Result<ToolOutput, ToolError> {
        // Cancelling a run either fires the token or drops the call: either way the search must stop.
        struct Stopped(Arc<AtomicBool>);
        impl Drop for Stopped {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _stopped = Stopped(Arc::clone(&self.saw_cancel));
        self.entered.notify_one();
        tokio::select! {
            () = ctx.cancellation.cancelled() => Err(ToolError::Failed("cancelled".into())),
            () = tokio::time::sleep(Duration::from_secs(60)) => Ok(ToolOutput::text("no results")),
        }
    }
}

#[derive(Clone, Default)]
struct Probes {
    isolate_calls: Arc<Mutex<Vec<Value>>>,
    search_entered: Arc<tokio::sync::Notify>,
    search_saw_cancel: Arc<AtomicBool>,
}

impl Probes {
    fn registry(&self) -> ToolRegistry {
        let mut tools = ToolRegistry::new();
        tools
            .register(Arc::new(IsolateHost {
                def: ToolDefinition::new(
                    "isolate_host",
                    "Network-isolate a host.",
                    json!({"type": "object", "properties": {"host": {"type": "string"}}, "required": ["host"], "additionalProperties": false}),
                )
                .with_risk(RiskLevel::High),
                calls: Arc::clone(&self.isolate_calls),
            }))
            .unwrap();
        tools
            .register(Arc::new(SlowSearch {
                def: ToolDefinition::new(
                    "slow_search",
                    "Search the SIEM (slow).",
                    json!({"type": "object", "properties": {"query": {"type": "string"}}, "additionalProperties": false}),
                ),
                entered: Arc::clone(&self.search_entered),
                saw_cancel: Arc::clone(&self.search_saw_cancel),
            }))
            .unwrap();
        tools
    }
}

struct Deployment {
    app: Router,
    addr: SocketAddr,
    tasks: JoinSet<()>,
    stop: CancellationToken,
    backend: support::Backend,
    name: String,
    probes: Probes,
}

/// One deployment: on PostgreSQL or SQLite; `split` runs the API with `--no-worker` and a separate worker
/// (its own state, as another process would have) on the same database.
async fn deploy(
    postgres: bool,
    split: bool,
    provider: Arc<dyn ModelProvider>,
    extra_env: &[(&str, &str)],
) -> Deployment {
    let env = |run_worker: bool| {
        let mut env: Vec<(&str, String)> = extra_env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        env.push(("SECOPS_RUN_WORKER", run_worker.to_string()));
        env
    };
    let (backend, api_config) = support::backend(postgres, &env(!split)).await;
    let probes = Probes::default();
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let store = backend.store.clone();
    let api =
        AppState::new(store.clone(), api_config, Some(Arc::clone(&provider))).with_tools(probes.registry());
    tasks.spawn(Arc::clone(&api.worker).run(api.clone(), stop.clone()));
    if split {
        let worker_config = support::config(&backend.dir, &env(true));
        let worker = AppState::new(store, worker_config, Some(provider)).with_tools(probes.registry());
        tasks.spawn(Arc::clone(&worker.worker).run(worker, stop.clone()));
    }
    let app = secops_server::app(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = app.clone();
    let until = stop.clone();
    tasks.spawn(async move {
        axum::serve(listener, serving)
            .with_graceful_shutdown(until.cancelled_owned())
            .await
            .unwrap();
    });
    Deployment {
        app,
        addr,
        tasks,
        stop,
        name: format!("{} {}", backend.name, if split { "split" } else { "in-process" }),
        backend,
        probes,
    }
}

/// Every combination of backend and process layout.
async fn deployments(provider: Arc<dyn ModelProvider>, extra_env: &[(&str, &str)]) -> Vec<Deployment> {
    let mut out = Vec::new();
    for (postgres, split) in [(false, false), (false, true), (true, false), (true, true)] {
        out.push(deploy(postgres, split, Arc::clone(&provider), extra_env).await);
    }
    out
}

impl Deployment {
    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(Vec<u8>, String)>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some((b, ctype)) => req
                .header(header::CONTENT_TYPE, ctype)
                .body(Body::from(b))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let (status, headers, json) = support::send(&self.app, req).await;
        (status, json, headers)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| (b.to_string().into_bytes(), "application/json".to_owned()));
        let (s, v, _) = self.raw(method, path, token, body).await;
        (s, v)
    }

    async fn owner(&self, org: &str) -> String {
        let email = format!("{org}-{}@example.com", uuid::Uuid::now_v7().simple());
        let (s, body) = self
            .call(
                Method::POST,
                "/v1/auth/register",
                None,
                Some(json!({"email": email, "password": "correct horse battery", "organization_name": org})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn agent(&self, token: &str, tools: &[&str]) -> String {
        let (s, agent) = self
            .call(
                Method::POST,
                "/v1/agents",
                Some(token),
                Some(json!({"name": format!("triage-{}", uuid::Uuid::now_v7().simple()), "system_prompt": "You triage alerts.", "tools": tools})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{agent}");
        agent["id"].as_str().unwrap().to_owned()
    }

    async fn chat(&self, token: &str, agent: &str) -> String {
        let (s, chat) = self
            .call(
                Method::POST,
                "/v1/chats",
                Some(token),
                Some(json!({"agent_id": agent, "title": "ws-042"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{chat}");
        chat["id"].as_str().unwrap().to_owned()
    }

    async fn wait_for_status(&self, token: &str, run: &str, want: &str) -> Value {
        for _ in 0..200 {
            let (s, r) = self
                .call(Method::GET, &format!("/v1/runs/{run}"), Some(token), None)
                .await;
            assert_eq!(s, StatusCode::OK, "{r}");
            if r["status"] == want {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}: run {run} never became {want}", self.name);
    }

    async fn shutdown(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.backend.cleanup().await;
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    addr: SocketAddr,
    chat: &str,
    token: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{addr}/v1/chats/{chat}/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
}

async fn send(ws: &mut Socket, frame: Value) {
    ws.send(Frame::Text(frame.to_string().into())).await.unwrap();
}

async fn next_frame(ws: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a frame within 20 s")
            .expect("the socket stays open")
            .unwrap();
        if let Frame::Text(t) = frame {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn websocket_chat_with_an_approval_round_trip() {
    let provider: Arc<dyn ModelProvider> = Arc::new(
        ScriptedProvider::new(vec![
            ScriptedTurn::tool_call("isolate_host", json!({"host": "ws-042"})),
            ScriptedTurn::text("ws-042 is isolated; the beacon stopped."),
        ])
        .cycled(),
    );
    for dep in deployments(provider, &[]).await {
        let name = dep.name.clone();
        let token = dep.owner("Blue Team").await;
        let agent = dep.agent(&token, &["isolate_host"]).await;
        let chat = dep.chat(&token, &agent).await;

        // A browser cannot set headers: its token rides in the subprotocol list.
        let mut req = format!("ws://{}/v1/chats/{chat}/ws", dep.addr)
            .into_client_request()
            .unwrap();
        req.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            format!("secops.v1, bearer.{token}").parse().unwrap(),
        );
        let (mut browser, res) = tokio_tungstenite::connect_async(req).await.unwrap();
        assert_eq!(
            res.headers()[header::SEC_WEBSOCKET_PROTOCOL],
            "secops.v1",
            "{name}"
        );
        assert_eq!(next_frame(&mut browser).await["type"], "ready", "{name}");
        drop(browser);
        let mut forged = format!("ws://{}/v1/chats/{chat}/ws", dep.addr)
            .into_client_request()
            .unwrap();
        forged.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            "secops.v1, bearer.not-a-token".parse().unwrap(),
        );
        match tokio_tungstenite::connect_async(forged).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED)
            }
            other => panic!("{name}: expected 401, got {:?}", other.map(|_| ())),
        }

        let mut ws = connect(dep.addr, &chat, &token).await.unwrap();
        assert_eq!(next_frame(&mut ws).await["type"], "ready", "{name}");

        // A bad frame is answered, and the socket stays usable.
        send(&mut ws, json!({"type": "shout"})).await;
        let bad = next_frame(&mut ws).await;
        assert_eq!(
            (bad["type"].as_str(), bad["code"].as_str()),
            (Some("error"), Some("invalid_frame")),
            "{name}"
        );

        send(
            &mut ws,
            json!({"type": "message", "text": "Isolate ws-042, it beacons to 203.0.113.7"}),
        )
        .await;
        let started = next_frame(&mut ws).await;
        assert_eq!(started["type"], "run_started", "{name}: {started}");
        let run = started["run_id"].as_str().unwrap().to_owned();

        let call_id = loop {
            let f = next_frame(&mut ws).await;
            assert_eq!(f["type"], "run_event", "{name}: {f}");
            if f["kind"] == "awaiting_approval" {
                let call = &f["event"]["calls"][0];
                assert_eq!(
                    (call["tool"].as_str(), &call["input"]),
                    (Some("isolate_host"), &json!({"host": "ws-042"}))
                );
                break call["call_id"].as_str().unwrap().to_owned();
            }
        };
        assert!(
            dep.probes.isolate_calls.lock().unwrap().is_empty(),
            "{name}: nothing runs before approval"
        );
        dep.wait_for_status(&token, &run, "awaiting_approval").await;

        send(
            &mut ws,
            json!({"type": "approval", "run_id": run, "tool_call_id": call_id, "decision": "approve"}),
        )
        .await;
        let mut kinds = Vec::new();
        let mut acked = false;
        loop {
            let f = next_frame(&mut ws).await;
            match f["type"].as_str() {
                Some("ack") => {
                    assert_eq!(f["action"], "approval", "{name}: {f}");
                    acked = true;
                }
                Some("run_event") => kinds.push(f["kind"].as_str().unwrap().to_owned()),
                Some("run_ended") => {
                    assert_eq!(f["run_id"], run.as_str());
                    break;
                }
                _ => panic!("{name}: unexpected {f}"),
            }
        }
        assert!(acked, "{name}");
        for kind in ["approval_resolved", "tool_result", "finished"] {
            assert!(kinds.iter().any(|k| k == kind), "{name}: no {kind} in {kinds:?}");
        }
        assert_eq!(
            *dep.probes.isolate_calls.lock().unwrap(),
            vec![json!({"host": "ws-042"})],
            "{name}"
        );
        let finished = dep.wait_for_status(&token, &run, "finished").await;
        assert_eq!(
            finished["output"]["text"], "ws-042 is isolated; the beacon stopped.",
            "{name}"
        );

        // The answer joined the chat, and the decision is in the audit log.
        let mut answered = false;
        for _ in 0..100 {
            let (_, messages) = dep
                .call(
                    Method::GET,
                    &format!("/v1/chats/{chat}/messages"),
                    Some(&token),
                    None,
                )
                .await;
            if messages["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["role"] == "assistant")
            {
                answered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(answered, "{name}");
        let (_, audit) = dep
            .call(
                Method::GET,
                "/v1/audit-events?resource_kind=runs",
                Some(&token),
                None,
            )
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(
            actions.contains(&"WS approval /v1/chats/{id}/ws"),
            "{name}: {actions:?}"
        );
        assert!(
            actions.contains(&"WS message /v1/chats/{id}/ws"),
            "{name}: {actions:?}"
        );

        // Every tool call is audited: the tool, a digest of its arguments (not the arguments), outcome, duration.
        let (_, tools) = dep
            .call(
                Method::GET,
                "/v1/audit-events?resource_kind=tools",
                Some(&token),
                None,
            )
            .await;
        let call = &tools["items"][0];
        assert_eq!(
            (
                call["action"].as_str(),
                call["outcome"].as_str(),
                call["actor_kind"].as_str()
            ),
            (Some("tool_call isolate_host"), Some("success"), Some("agent")),
            "{name}: {tools}"
        );
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(br#"{"host":"ws-042"}"#));
        assert_eq!(call["context"]["arguments_sha256"], digest.as_str(), "{name}");
        assert_eq!(call["context"]["run_id"], run.as_str());
        assert!(
            call["context"]["duration_ms"].is_u64() && !call.to_string().contains("\"ws-042\""),
            "{name}: {call}"
        );

        // Another organisation cannot open this chat, nor decide on its runs.
        let other = dep.owner("Red Team").await;
        match connect(dep.addr, &chat, &other).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                assert_eq!(res.status(), StatusCode::NOT_FOUND, "{name}")
            }
            other => panic!("{name}: expected 404, got {:?}", other.map(|_| ())),
        }
        let other_agent = dep.agent(&other, &[]).await;
        let other_chat = dep.chat(&other, &other_agent).await;
        let mut theirs = connect(dep.addr, &other_chat, &other).await.unwrap();
        assert_eq!(next_frame(&mut theirs).await["type"], "ready");
        send(&mut theirs, json!({"type": "cancel", "run_id": run})).await;
        let refused = next_frame(&mut theirs).await;
        assert_eq!(
            (refused["code"].as_str(), refused["status"].as_u64()),
            (Some("not_found"), Some(404)),
            "{name}: {refused}"
        );
        send(&mut theirs, json!({"type": "follow", "run_id": run})).await;
        assert_eq!(next_frame(&mut theirs).await["status"], 404, "{name}");

        // Without an upgrade the route says what it is.
        let (s, body, _) = dep
            .raw(Method::GET, &format!("/v1/chats/{chat}/ws"), Some(&token), None)
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UPGRADE_REQUIRED, Some("websocket_required")),
            "{name}"
        );
        dep.shutdown().await;
    }
}

#[tokio::test]
async fn cancelling_a_run_mid_tool_stops_it_wherever_it_runs() {
    let provider: Arc<dyn ModelProvider> = Arc::new(
        ScriptedProvider::new(vec![ScriptedTurn::tool_call(
            "slow_search",
            json!({"query": "index=edr host=ws-042"}),
        )])
        .cycled(),
    );
    for dep in deployments(provider, &[]).await {
        let name = dep.name.clone();
        let token = dep.owner("Blue Team").await;
        let agent = dep.agent(&token, &["slow_search"]).await;
        let (s, run) = dep
            .call(
                Method::POST,
                &format!("/v1/agents/{agent}/runs"),
                Some(&token),
                Some(json!({"input": "Look up ws-042"})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{name}: {run}");
        let run = run["id"].as_str().unwrap().to_owned();
        tokio::time::timeout(Duration::from_secs(20), dep.probes.search_entered.notified())
            .await
            .unwrap_or_else(|_| panic!("{name}: the tool never started"));
        assert_eq!(
            dep.wait_for_status(&token, &run, "running").await["status"],
            "running"
        );

        // Another organisation cannot cancel it.
        let other = dep.owner("Red Team").await;
        let (s, _) = dep
            .call(
                Method::POST,
                &format!("/v1/runs/{run}/cancel"),
                Some(&other),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{name}");

        let (s, body) = dep
            .call(
                Method::POST,
                &format!("/v1/runs/{run}/cancel"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{name}: {body}");
        let cancelled = dep.wait_for_status(&token, &run, "cancelled").await;
        assert_eq!(
            cancelled["output"]["stop_reason"], "cancelled",
            "{name}: {cancelled}"
        );
        assert!(
            dep.probes.search_saw_cancel.swap(false, Ordering::SeqCst),
            "{name}: the search was stopped"
        );

        // The stored events end with the cancellation, and a second cancel is a conflict.
        let (s, body) = dep
            .call(
                Method::POST,
                &format!("/v1/runs/{run}/cancel"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("run_ended")),
            "{name}"
        );
        let req = Request::get(format!("/v1/runs/{run}/events"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = dep.app.clone().oneshot(req).await.unwrap();
        let text = String::from_utf8(
            axum::body::to_bytes(res.into_body(), 1 << 22)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        let last = text
            .lines()
            .rfind(|l| l.starts_with("event: "))
            .unwrap_or_default();
        assert_eq!(last, "event: cancelled", "{name}: {text}");
        dep.shutdown().await;
    }
}

fn multipart(file_name: &str, media_type: &str, bytes: &[u8]) -> (Vec<u8>, String) {
    let boundary = "secops-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {media_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[tokio::test]
async fn attachments_are_checked_stored_scoped_and_reach_the_model() {
    let scripted = Arc::new(
        ScriptedProvider::new(vec![ScriptedTurn::text("The log shows one failed login.")])
            .cycled()
            .recording(),
    );
    let provider: Arc<dyn ModelProvider> = scripted.clone();
    for postgres in [false, true] {
        let dep = deploy(
            postgres,
            false,
            Arc::clone(&provider),
            &[("SECOPS_MAX_ATTACHMENT_BYTES", "4096")],
        )
        .await;
        let name = dep.name.clone();
        let token = dep.owner("Blue Team").await;
        let agent = dep.agent(&token, &[]).await;
        let chat = dep.chat(&token, &agent).await;
        let path = format!("/v1/chats/{chat}/attachments");
        let log = b"2026-11-29T06:00:00Z sshd[811]: Failed password for root from 203.0.113.7\n";

        let (s, a, _) = dep
            .raw(
                Method::POST,
                &path,
                Some(&token),
                Some(multipart("../../auth.log", "text/plain", log)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{name}: {a}");
        assert_eq!(
            (a["file_name"].as_str(), a["size_bytes"].as_u64()),
            (Some("auth.log"), Some(log.len() as u64)),
            "{name}"
        );
        let id = a["id"].as_str().unwrap().to_owned();

        for (case, (body, ctype), status, code) in [
            (
                "too large",
                multipart("big.txt", "text/plain", &[b'a'; 5000]),
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment_too_large",
            ),
            (
                "type not allowed",
                multipart("tool.exe", "application/x-msdownload", b"MZ\x90\x00"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "attachment_type_not_allowed",
            ),
            (
                "content is not the type",
                multipart("shot.png", "image/png", b"<script>alert(1)</script>"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_attachment",
            ),
            (
                "not a form",
                (b"{}".to_vec(), "application/json".to_owned()),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
        ] {
            let (s, body, _) = dep
                .raw(Method::POST, &path, Some(&token), Some((body, ctype)))
                .await;
            assert_eq!(
                (s, body["code"].as_str()),
                (status, Some(code)),
                "{name}: {case}: {body}"
            );
        }
        let (s, list) = dep.call(Method::GET, &path, Some(&token), None).await;
        assert_eq!(
            (s, list["items"].as_array().map(Vec::len)),
            (StatusCode::OK, Some(1)),
            "{name}: refused uploads left nothing"
        );

        let (s, bytes, headers) = dep
            .raw(Method::GET, &format!("{path}/{id}"), Some(&token), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{name}");
        assert_eq!(bytes, Value::String(String::from_utf8(log.to_vec()).unwrap()));
        assert_eq!(headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");

        // The message refers to it, and the model sees the reference.
        let (s, sent) = dep
            .call(
                Method::POST,
                &format!("/v1/chats/{chat}/messages"),
                Some(&token),
                Some(json!({"text": "What does this log show?", "attachment_ids": [id]})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{name}: {sent}");
        let run = sent["run_id"].as_str().unwrap().to_owned();
        dep.wait_for_status(&token, &run, "finished").await;
        let seen = scripted.requests().last().unwrap().clone();
        let seen = serde_json::to_string(&seen.messages).unwrap();
        assert!(
            seen.contains(&format!("attachment:{id}")) && seen.contains("auth.log"),
            "{name}: {seen}"
        );

        // Another organisation can neither read, list, nor refer to it.
        let other = dep.owner("Red Team").await;
        let (s, _, _) = dep
            .raw(Method::GET, &format!("{path}/{id}"), Some(&other), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{name}");
        let (s, _) = dep.call(Method::GET, &path, Some(&other), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{name}");
        let (s, _, _) = dep
            .raw(
                Method::POST,
                &path,
                Some(&other),
                Some(multipart("x.txt", "text/plain", b"x")),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{name}");
        let other_agent = dep.agent(&other, &[]).await;
        let other_chat = dep.chat(&other, &other_agent).await;
        let (s, _) = dep
            .call(
                Method::POST,
                &format!("/v1/chats/{other_chat}/messages"),
                Some(&other),
                Some(json!({"text": "read theirs", "attachment_ids": [id]})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{name}");
        dep.shutdown().await;
    }
}
