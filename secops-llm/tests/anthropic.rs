//! The Anthropic provider against a loopback fake that replays the documented wire format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use secops_core::message::{ContentBlock, Message, Role, ToolCall};
use secops_core::model::{
    FinishKind, ModelProvider, ModelRequest, ProviderErrorKind, StreamEvent, ToolChoice,
};
use secops_core::tool::ToolDefinition;
use secops_llm::anthropic::{Anthropic, AnthropicConfig};
use support::{FakeServer, Reply, fixture, fixture_json, quick_transport};

const KEY: &str = "sk-ant-test-0123456789";

fn provider(server: &FakeServer) -> Anthropic {
    let mut config = AnthropicConfig::new(KEY, "claude-sonnet-4-5");
    config.base_url = server.url("");
    config.transport = quick_transport();
    Anthropic::new(config).unwrap()
}

fn hello() -> Vec<Message> {
    vec![Message::user("Is 203.0.113.7 malicious?")]
}

#[tokio::test]
async fn sends_the_documented_request_for_a_tool_turn() {
    let server = FakeServer::start(vec![Reply::sse(fixture("anthropic/stream_text.sse"))]).await;
    let expected = fixture_json("anthropic/request_tool_use.json");
    // The same conversation, as the runtime holds it.
    let tools: Vec<ToolDefinition> = expected["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            ToolDefinition::new(
                t["name"].as_str().unwrap(),
                t["description"].as_str().unwrap(),
                t["input_schema"].clone(),
            )
        })
        .collect();
    let m = &expected["messages"];
    let call = |b: &serde_json::Value| {
        ContentBlock::ToolUse(ToolCall {
            id: b["id"].as_str().unwrap().into(),
            name: b["name"].as_str().unwrap().into(),
            input: b["input"].clone(),
        })
    };
    let result = |b: &serde_json::Value| {
        ContentBlock::tool_result(
            b["tool_use_id"].as_str().unwrap(),
            b["content"].as_str().unwrap(),
            b["is_error"].as_bool().unwrap(),
        )
    };
    let messages = vec![
        Message::user(m[0]["content"][0]["text"].as_str().unwrap()),
        Message {
            role: Role::Assistant,
            content: vec![
                ContentBlock::text(m[1]["content"][0]["text"].as_str().unwrap()),
                call(&m[1]["content"][1]),
                call(&m[1]["content"][2]),
            ],
        },
        Message {
            role: Role::User,
            content: vec![result(&m[2]["content"][0]), result(&m[2]["content"][1])],
        },
    ];
    let mut request = ModelRequest::new(&messages)
        .with_system(expected["system"][0]["text"].as_str().unwrap().to_owned())
        .with_tools(&tools);
    request.max_tokens = Some(2048);
    request.tool_choice = ToolChoice::Auto;
    let p = provider(&server);
    p.complete(&request).await.unwrap();

    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(
        sent.body, expected,
        "the body matches the documented request exactly"
    );
    assert_eq!(sent.headers["x-api-key"], KEY);
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert_eq!(sent.headers["content-type"], "application/json");
}

#[tokio::test]
async fn streams_text_usage_and_finish() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("anthropic/stream_text.sse"))
            .chunked(7)
            .header("request-id", "req_1"),
    ])
    .await;
    let p = provider(&server);
    let msgs = hello();
    let request = ModelRequest::new(&msgs);
    let events: Vec<StreamEvent> = p.stream(&request).collect().await;
    assert!(matches!(
        &events[0],
        StreamEvent::MessageStart {
            id: Some(_),
            model: Some(_)
        }
    ));
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, StreamEvent::TextDelta { .. }))
            .count()
            > 1,
        "text arrives in pieces"
    );
    let response = secops_core::model::StreamAccumulator::collect(futures::stream::iter(events))
        .await
        .unwrap();
    assert_eq!(response.finish.kind, FinishKind::Stop);
    assert_eq!(response.finish.raw.as_deref(), Some("end_turn"));
    assert!(!response.text().is_empty());
    assert!(response.usage.input_tokens > 0 && response.usage.output_tokens > 0);
    assert!(p.last_rate_limit().is_some());
}

#[tokio::test]
async fn assembles_tool_calls_single_and_parallel() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("anthropic/stream_tool_use.sse")).chunked(5),
        Reply::sse(fixture("anthropic/stream_parallel_tools.sse")).chunked(3),
    ])
    .await;
    let p = provider(&server);
    let msgs = hello();
    let request = ModelRequest::new(&msgs);
    let one = p.complete(&request).await.unwrap();
    assert_eq!(one.finish.kind, FinishKind::ToolUse);
    let calls: Vec<_> = one.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].id.starts_with("toolu_"));
    assert!(
        calls[0].input.is_object() && !calls[0].input.as_object().unwrap().is_empty(),
        "{:?}",
        calls[0].input
    );

    let two = p.complete(&request).await.unwrap();
    let expected = fixture_json("anthropic/response_tool_use.json");
    let want: Vec<(String, serde_json::Value)> = expected["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| (b["id"].as_str().unwrap().to_owned(), b["input"].clone()))
        .collect();
    let got: Vec<(String, serde_json::Value)> = two
        .tool_calls()
        .map(|c| (c.id.clone(), c.input.clone()))
        .collect();
    assert_eq!(
        got, want,
        "the streamed parallel calls equal the documented non-streamed response"
    );
    assert_eq!(two.text(), expected["content"][0]["text"].as_str().unwrap());
    assert_eq!(
        two.usage.output_tokens,
        expected["usage"]["output_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn passes_thinking_through_with_its_signature() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("anthropic/stream_thinking.sse")).chunked(11),
    ])
    .await;
    let msgs = hello();
    let r = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap();
    match &r.content[0] {
        ContentBlock::Reasoning { text, signature } => {
            assert!(!text.is_empty());
            assert!(signature.as_deref().is_some_and(|s| !s.is_empty()));
        }
        other => panic!("reasoning first, got {other:?}"),
    }
    assert!(!r.text().is_empty());
    // And it goes back to the API on the next turn, signed.
    let next = [
        Message::user("q"),
        r.clone().into_message(),
        Message::user("go on"),
    ];
    let body =
        secops_llm::anthropic::request_body(&AnthropicConfig::new("k", "m"), &ModelRequest::new(&next), true);
    assert_eq!(body["messages"][1]["content"][0]["type"], "thinking");
    assert!(body["messages"][1]["content"][0]["signature"].is_string());
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_the_call_with_a_typed_error() {
    let server = FakeServer::start(vec![Reply::sse(fixture("anthropic/stream_error.sse"))]).await;
    let p = provider(&server);
    let msgs = hello();
    let request = ModelRequest::new(&msgs);
    let events: Vec<StreamEvent> = p.stream(&request).collect().await;
    assert!(
        events.iter().any(|e| matches!(e, StreamEvent::TextDelta { .. })),
        "text before the error was delivered"
    );
    let StreamEvent::Error(e) = events.last().unwrap() else {
        panic!("ends with the error: {events:?}")
    };
    assert_eq!(e.kind, ProviderErrorKind::Overloaded);
    assert_eq!(e.provider_code.as_deref(), Some("overloaded_error"));
    assert_eq!(server.requests().len(), 1, "no retry once the stream has started");
}

#[tokio::test]
async fn retries_429_after_retry_after_then_succeeds() {
    let server = FakeServer::start(vec![
        Reply::json(429, fixture("anthropic/error_rate_limit.json"))
            .header("retry-after", "1")
            .header("request-id", "req_429"),
        Reply::sse(fixture("anthropic/stream_text.sse")),
    ])
    .await;
    let started = std::time::Instant::now();
    let msgs = hello();
    let r = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited as the server asked: {:?}",
        started.elapsed()
    );
    assert!(!r.text().is_empty());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retries_529_overloaded_and_500_then_succeeds() {
    let server = FakeServer::start(vec![
        Reply::json(529, fixture("anthropic/error_overloaded.json")),
        Reply::json(
            500,
            br#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#.to_vec(),
        ),
        Reply::sse(fixture("anthropic/stream_text.sse")),
    ])
    .await;
    let msgs = hello();
    let r = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap();
    assert_eq!(r.finish.kind, FinishKind::Stop);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn gives_up_after_max_retries_with_the_last_error() {
    let overloaded =
        Reply::json(529, fixture("anthropic/error_overloaded.json")).header("request-id", "req_529");
    let server = FakeServer::start(vec![overloaded.clone(), overloaded.clone(), overloaded]).await;
    let msgs = hello();
    let e = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ProviderErrorKind::Overloaded, Some(529)));
    assert_eq!(e.request_id.as_deref(), Some("req_529"));
    assert_eq!(server.requests().len(), 3, "1 try + 2 retries");
}

#[tokio::test]
async fn client_errors_are_not_retried_and_keys_never_leak() {
    let echo = format!(
        r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}},"request_id":"req_401"}}"#
    );
    let server = FakeServer::start(vec![
        Reply::json(401, echo.into_bytes()),
        Reply::json(400, fixture("anthropic/error_invalid_request.json")),
    ])
    .await;
    let p = provider(&server);
    let msgs = hello();
    let e = p.complete(&ModelRequest::new(&msgs)).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Authentication);
    assert_eq!(e.request_id.as_deref(), Some("req_401"));
    let shown = format!("{e} {e:?} {p:?}");
    assert!(!shown.contains(KEY), "the key appears nowhere: {shown}");
    assert!(shown.contains("[REDACTED]"));
    let e = p.complete(&ModelRequest::new(&msgs)).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
    assert_eq!(server.requests().len(), 2, "one request each");
}

#[tokio::test]
async fn a_stream_cut_mid_tool_call_is_a_clear_error_without_a_call() {
    let body = fixture("anthropic/stream_tool_use.sse");
    let text = String::from_utf8(body.clone()).unwrap();
    let cut = text.find("input_json_delta").unwrap() + 40;
    let server = FakeServer::start(vec![Reply::sse(body).cut_at(cut)]).await;
    let msgs = hello();
    let e = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::StreamTruncated, "{e}");
}

#[tokio::test]
async fn malformed_json_is_a_clear_error() {
    let body = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"unterminated}\n\n".to_vec();
    let server = FakeServer::start(vec![Reply::sse(body)]).await;
    let msgs = hello();
    let e = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::MalformedResponse);
    assert!(e.message.contains("content_block_delta"), "{e}");
}

#[tokio::test]
async fn an_idle_stream_times_out() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("anthropic/stream_text.sse"))
            .chunked(200)
            .stall_before(1, Duration::from_secs(10)),
    ])
    .await;
    let mut config = AnthropicConfig::new(KEY, "claude-sonnet-4-5");
    config.base_url = server.url("");
    config.transport = quick_transport();
    config.transport.idle_timeout = Duration::from_millis(200);
    let msgs = hello();
    let started = std::time::Instant::now();
    let e = Anthropic::new(config)
        .unwrap()
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn request_shape_follows_the_call() {
    let server = FakeServer::start(vec![Reply::sse(fixture("anthropic/stream_text.sse"))]).await;
    let msgs = hello();
    let tools = [ToolDefinition::new(
        "lookup_host",
        "Find a host.",
        json!({"type": "object", "properties": {}}),
    )];
    let mut request = ModelRequest::new(&msgs).with_tools(&tools);
    request.tool_choice = ToolChoice::Required;
    request.parallel_tool_calls = false;
    request.temperature = Some(0.2);
    request.stop_sequences = vec!["END".to_owned()].into();
    provider(&server).complete(&request).await.unwrap();
    let body = &server.requests()[0].body;
    assert_eq!(
        body["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );
    assert_eq!(body["max_tokens"], 4096, "max_tokens is always sent");
    assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_eq!(body["stop_sequences"], json!(["END"]));
    assert!(body.get("system").is_none());
}
