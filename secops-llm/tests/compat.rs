//! OpenAI-compatible servers: each quirk, Azure's URL and auth, and the stream_options fallback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use serde_json::json;

use secops_core::message::Message;
use secops_core::model::{FinishKind, ModelProvider, ModelRequest, ProviderErrorKind};
use secops_llm::openai::OpenAi;
use secops_llm::openai_compat;
use support::{FakeServer, Reply, fixture, quick_transport};

fn ollama(server: &FakeServer) -> OpenAi {
    let mut config = openai_compat::compatible("ollama", &server.url("/v1"), "qwen3:8b", None);
    config.transport = quick_transport();
    OpenAi::new(config).unwrap()
}

fn hello() -> Vec<Message> {
    vec![Message::user("check ws-042")]
}

#[tokio::test]
async fn ollama_whole_arguments_in_one_delta() {
    let server = FakeServer::start(vec![Reply::sse(fixture("compat/ollama_stream_tool_call.sse"))]).await;
    let msgs = hello();
    let mut request = ModelRequest::new(&msgs);
    request.max_tokens = Some(300);
    let r = ollama(&server).complete(&request).await.unwrap();
    let call = r.tool_calls().next().unwrap();
    assert_eq!(
        (call.name.as_str(), &call.input),
        (
            "lookup_host",
            &json!({"hostname": "ws-042", "include_ports": true})
        )
    );
    assert_eq!(r.finish.kind, FinishKind::ToolUse);
    let sent = &server.requests()[0];
    assert!(
        sent.headers.get("authorization").is_none(),
        "no credentials for a local server"
    );
    assert_eq!(sent.body["max_tokens"], 300, "Ollama only honours max_tokens");
    assert!(sent.body.get("max_completion_tokens").is_none());
}

#[tokio::test]
async fn index_always_zero_with_distinct_ids_gives_two_calls_and_stop_means_tool_use() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("compat/parallel_tool_calls_index_reused.sse")).chunked(17),
    ])
    .await;
    let msgs = hello();
    let r = ollama(&server).complete(&ModelRequest::new(&msgs)).await.unwrap();
    let calls: Vec<_> = r.tool_calls().map(|c| (c.id.as_str(), c.name.as_str())).collect();
    assert_eq!(
        calls,
        vec![
            ("call_p1a8m2ze", "lookup_host"),
            ("call_r7c4w9nb", "ip_reputation")
        ]
    );
    assert_eq!(
        r.finish.kind,
        FinishKind::ToolUse,
        "\"stop\" with tool calls is tool use"
    );
    assert_eq!(r.finish.raw.as_deref(), Some("stop"));
}

#[tokio::test]
async fn repeated_ids_on_every_chunk_are_one_call() {
    let server = FakeServer::start(vec![Reply::sse(fixture(
        "compat/stream_tool_call_id_repeated.sse",
    ))])
    .await;
    let msgs = hello();
    let r = ollama(&server).complete(&ModelRequest::new(&msgs)).await.unwrap();
    let calls: Vec<_> = r.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].input,
        json!({"hostname": "ws-042", "include_ports": true})
    );
}

#[tokio::test]
async fn no_usage_no_index_no_done_and_empty_finish_reason() {
    let body = concat!(
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"lookup_host\",\"arguments\":{\"hostname\":\"ws-1\"}}}]},\"finish_reason\":\"\"}]}\n\n",
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"lookup_host\",\"arguments\":\"{\\\"hostname\\\":\\\"ws-2\\\"}\"}}]},\"finish_reason\":\"stop\"}]}\n\n",
    );
    let server = FakeServer::start(vec![Reply::sse(body.as_bytes().to_vec())]).await;
    let msgs = hello();
    let r = ollama(&server).complete(&ModelRequest::new(&msgs)).await.unwrap();
    let inputs: Vec<_> = r.tool_calls().map(|c| c.input.clone()).collect();
    assert_eq!(
        inputs,
        vec![json!({"hostname": "ws-1"}), json!({"hostname": "ws-2"})],
        "arguments as an object are accepted too"
    );
    assert_eq!(r.finish.kind, FinishKind::ToolUse);
    assert_eq!(r.usage.total_tokens(), 0, "no usage is not an error");
}

#[tokio::test]
async fn a_server_that_rejects_stream_options_is_asked_again_without_them() {
    let rejected = br#"{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","param":null,"code":null}}"#;
    let server = FakeServer::start(vec![
        Reply::json(400, rejected.to_vec()),
        Reply::sse(fixture("compat/ollama_stream_tool_call.sse")),
        Reply::sse(fixture("compat/ollama_stream_tool_call.sse")),
    ])
    .await;
    let p = ollama(&server);
    let msgs = hello();
    p.complete(&ModelRequest::new(&msgs)).await.unwrap();
    p.complete(&ModelRequest::new(&msgs)).await.unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    assert!(sent[0].body.get("stream_options").is_some());
    assert!(sent[1].body.get("stream_options").is_none());
    assert!(
        sent[2].body.get("stream_options").is_none(),
        "remembered for later calls"
    );
}

#[tokio::test]
async fn azure_deployment_url_api_key_header_and_content_filter() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("compat/azure_stream_content_filter.sse")).header("apim-request-id", "apim-1"),
        Reply::json(400, fixture("compat/azure_error_content_filter.json"))
            .header("apim-request-id", "apim-2"),
    ])
    .await;
    let mut config = openai_compat::azure(
        &server.url(""),
        "gpt4o-triage",
        "2024-10-21",
        "azure-key-123456",
        "gpt-4o-mini",
    );
    config.transport = quick_transport();
    let p = OpenAi::new(config).unwrap();
    let msgs = hello();
    let r = p.complete(&ModelRequest::new(&msgs)).await.unwrap();
    assert_eq!(r.finish.kind, FinishKind::ContentFilter);
    assert!(r.text().starts_with("Decoded payload"));
    let e = p.complete(&ModelRequest::new(&msgs)).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
    assert_eq!(e.request_id.as_deref(), Some("apim-2"));
    assert!(!format!("{e:?}").contains("azure-key-123456"));
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/openai/deployments/gpt4o-triage/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.headers["api-key"], "azure-key-123456");
    assert!(sent.headers.get("authorization").is_none());
}
