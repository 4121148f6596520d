//! Slack against a fake Slack on loopback that answers as Slack documents: the exact request, `ok: false`
//! errors, 429 with `Retry-After`, 5xx, non-JSON, and webhook error codes; the webhook URL (its secret) and the
//! token never appear in results or errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use secops_core::tool::{Tool, Typed};
use secops_tools::egress::EgressClient;
use secops_tools::slack::{SlackPostMessage, SlackWebhook};
use serde_json::{Value, json};

type Log = Arc<Mutex<Vec<(String, HeaderMap, String)>>>;

async fn fake_slack() -> (SocketAddr, Log, tokio::task::JoinSet<()>) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = Arc::clone(&seen);
        async move {
            let text = String::from_utf8_lossy(&body).into_owned();
            seen.lock().unwrap().push((uri.path().to_owned(), headers.clone(), text.clone()));
            let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            match (uri.path(), parsed["channel"].as_str(), parsed["text"].as_str()) {
                ("/api/chat.postMessage", Some("#nowhere"), _) => axum::Json(json!({"ok": false, "error": "channel_not_found"})).into_response(),
                ("/api/chat.postMessage", _, Some("flood")) => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "30")], "").into_response(),
                ("/api/chat.postMessage", _, Some("boom")) => (StatusCode::SERVICE_UNAVAILABLE, "").into_response(),
                ("/api/chat.postMessage", _, Some("garbled")) => "<html>proxy error</html>".into_response(),
                ("/api/chat.postMessage", Some(channel), _) => {
                    axum::Json(json!({"ok": true, "channel": channel.trim_start_matches('#').to_uppercase(), "ts": "1732870000.000100", "message": {"text": parsed["text"]}})).into_response()
                }
                ("/services/T000/B000/XXXXSECRETXXXX", _, Some("archived")) => (StatusCode::GONE, "channel_is_archived").into_response(),
                ("/services/T000/B000/XXXXSECRETXXXX", _, _) => "ok".into_response(),
                _ => (StatusCode::NOT_FOUND, "no_service").into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    (addr, log, server)
}

fn client() -> EgressClient {
    support::loopback_client()
}

const TOKEN: &str = "xoxb-0000-SECRET-token";

#[tokio::test]
async fn post_message_sends_what_slack_documents_and_reads_its_answers() {
    let (addr, log, _server) = fake_slack().await;
    let tool = Typed::new(SlackPostMessage::new(
        client(),
        format!("http://{addr}/api"),
        TOKEN,
    ));
    assert_eq!(tool.definition().name, "slack_post_message");
    assert_eq!(
        tool.definition().input_schema["required"],
        json!(["channel", "text"])
    );

    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*ws-042* isolated"}}]);
    let out = tool
        .call(
            &support::ctx(),
            json!({"channel": "#soc-alerts", "text": "ws-042 isolated", "blocks": blocks}),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        json!({"channel": "SOC-ALERTS", "ts": "1732870000.000100"})
    );
    let (path, headers, body) = log.lock().unwrap()[0].clone();
    assert_eq!(path, "/api/chat.postMessage");
    assert_eq!(headers["authorization"], format!("Bearer {TOKEN}").as_str());
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"channel": "#soc-alerts", "text": "ws-042 isolated", "blocks": blocks})
    );

    for (text, channel, expect) in [
        ("hello", "#nowhere", "channel_not_found"),
        ("flood", "#soc", "retry after 30 s"),
        ("boom", "#soc", "503"),
        ("garbled", "#soc", "not JSON"),
    ] {
        let err = tool
            .call(&support::ctx(), json!({"channel": channel, "text": text}))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{text}: {err}");
        assert!(!err.contains(TOKEN), "{err}");
    }
}

#[tokio::test]
async fn the_webhook_posts_and_never_reveals_its_url() {
    let (addr, log, _server) = fake_slack().await;
    let url = format!("http://{addr}/services/T000/B000/XXXXSECRETXXXX");
    let tool = Typed::new(SlackWebhook::new(client(), url.clone()));
    let out = tool
        .call(&support::ctx(), json!({"text": "Phishing wave contained"}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        json!({"delivered": true})
    );
    let (_, headers, body) = log.lock().unwrap()[0].clone();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"text": "Phishing wave contained"})
    );

    let err = tool
        .call(&support::ctx(), json!({"text": "archived"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("410") && err.contains("channel_is_archived"),
        "{err}"
    );
    let gone = Typed::new(SlackWebhook::new(
        client(),
        "http://127.0.0.1:9/services/T000/B000/XXXXSECRETXXXX",
    ));
    let err = gone
        .call(&support::ctx(), json!({"text": "x"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("XXXXSECRETXXXX"), "{err}");
    assert_eq!(
        format!("{:?}", SlackWebhook::new(client(), url)),
        "SlackWebhook([REDACTED])"
    );
}
