//! Slack: post to a channel with `chat.postMessage` (bot token) or through an incoming webhook.
//!
//! Wire formats, from Slack's documentation: `chat.postMessage` takes a JSON body with `channel`, `text` and
//! optional `blocks`, authenticated with `Authorization: Bearer xoxb-...`, and answers HTTP 200 with
//! `{"ok": true, "channel", "ts"}` or `{"ok": false, "error": "channel_not_found"}`; rate limits are HTTP 429
//! with `Retry-After` in seconds. An incoming webhook takes the same `text`/`blocks` body at its secret URL and
//! answers `ok`, or 400 `invalid_payload`, 403 `action_prohibited`, 404 `channel_not_found`, 410
//! `channel_is_archived`.

use schemars::JsonSchema;
use secops_core::tool::{RiskLevel, ToolContext, ToolError, TypedTool};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::egress::{EgressClient, EgressError, EgressResponse, Method};

/// Where Slack's Web API is.
pub const SLACK_API: &str = "https://slack.com/api";

/// A message for a channel.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// Channel id (`C0123ABCD`) or name (`#soc-alerts`).
    pub channel: String,
    /// The text (also the notification text when `blocks` are given).
    pub text: String,
    /// Block Kit blocks, as Slack's JSON.
    #[serde(default)]
    pub blocks: Option<Vec<Value>>,
}

/// A message through the configured incoming webhook.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookMessage {
    /// The text.
    pub text: String,
    /// Block Kit blocks, as Slack's JSON.
    #[serde(default)]
    pub blocks: Option<Vec<Value>>,
}

/// Where a posted message landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posted {
    /// The channel id.
    pub channel: String,
    /// The message's timestamp (its id in Slack).
    pub ts: String,
}

/// Delivered through the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivered {
    /// Always true (failures are errors).
    pub delivered: bool,
}

/// `chat.postMessage` with a bot token.
#[derive(Clone)]
pub struct SlackPostMessage {
    client: EgressClient,
    api: String,
    token: String,
}

impl std::fmt::Debug for SlackPostMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackPostMessage")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl SlackPostMessage {
    /// Posts with `token` (a bot token, `xoxb-...`) to Slack's API at `api` (normally [`SLACK_API`]).
    #[must_use]
    pub fn new(client: EgressClient, api: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            client,
            api: api.into().trim_end_matches('/').to_owned(),
            token: token.into(),
        }
    }
}

/// An incoming webhook, whose URL is the secret.
#[derive(Clone)]
pub struct SlackWebhook {
    client: EgressClient,
    url: String,
}

impl std::fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackWebhook([REDACTED])")
    }
}

impl SlackWebhook {
    /// Posts to the webhook at `url`.
    #[must_use]
    pub fn new(client: EgressClient, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

fn body(text: &str, blocks: Option<&Vec<Value>>, channel: Option<&str>) -> String {
    let mut b = serde_json::Map::new();
    if let Some(c) = channel {
        b.insert("channel".into(), Value::String(c.to_owned()));
    }
    b.insert("text".into(), Value::String(text.to_owned()));
    if let Some(blocks) = blocks {
        b.insert("blocks".into(), Value::Array(blocks.clone()));
    }
    Value::Object(b).to_string()
}

fn transport(e: &EgressError) -> ToolError {
    ToolError::Unavailable(format!("Slack is unreachable: {e}"))
}

/// 429 and 5xx are the service's trouble, not the message's.
fn unavailable_status(res: &EgressResponse) -> Option<ToolError> {
    if res.status.as_u16() == 429 {
        let after = res.retry_after().unwrap_or("a few");
        return Some(ToolError::Unavailable(format!(
            "Slack is rate limiting; retry after {after} s"
        )));
    }
    res.status
        .is_server_error()
        .then(|| ToolError::Unavailable(format!("Slack answered {}", res.status)))
}

impl TypedTool for SlackPostMessage {
    type Input = PostMessage;
    type Output = Posted;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "slack_post_message"
    }

    fn description(&self) -> &str {
        "Post a message to a Slack channel (text, optionally Block Kit blocks)."
    }

    fn risk(&self) -> RiskLevel {
        RiskLevel::Medium
    }

    async fn run(&self, _ctx: &ToolContext, input: PostMessage) -> Result<Posted, ToolError> {
        let req = self
            .client
            .request(Method::POST, &format!("{}/chat.postMessage", self.api))
            .map_err(|e| transport(&e))?
            .bearer_auth(&self.token)
            .header("content-type", "application/json; charset=utf-8")
            .body(body(&input.text, input.blocks.as_ref(), Some(&input.channel)));
        let res = self.client.send(req).await.map_err(|e| transport(&e))?;
        if let Some(e) = unavailable_status(&res) {
            return Err(e);
        }
        let answer: Value = serde_json::from_slice(&res.body).map_err(|_| {
            ToolError::Unavailable(format!(
                "Slack answered {} with something that is not JSON",
                res.status
            ))
        })?;
        if answer["ok"] != Value::Bool(true) {
            let error = answer["error"].as_str().unwrap_or("unknown_error");
            return Err(ToolError::Failed(format!("Slack refused the message: {error}")));
        }
        Ok(Posted {
            channel: answer["channel"].as_str().unwrap_or_default().to_owned(),
            ts: answer["ts"].as_str().unwrap_or_default().to_owned(),
        })
    }
}

impl TypedTool for SlackWebhook {
    type Input = WebhookMessage;
    type Output = Delivered;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "slack_notify"
    }

    fn description(&self) -> &str {
        "Send a message to the team's Slack channel through its incoming webhook."
    }

    fn risk(&self) -> RiskLevel {
        RiskLevel::Medium
    }

    async fn run(&self, _ctx: &ToolContext, input: WebhookMessage) -> Result<Delivered, ToolError> {
        let req = self
            .client
            .request(Method::POST, &self.url)
            // The URL is the secret: say nothing about it.
            .map_err(|_| ToolError::Unavailable("the Slack webhook URL is not usable".into()))?
            .header("content-type", "application/json")
            .body(body(&input.text, input.blocks.as_ref(), None));
        let res = self.client.send(req).await.map_err(|e| transport(&e))?;
        if let Some(e) = unavailable_status(&res) {
            return Err(e);
        }
        if !res.status.is_success() {
            let reason: String = String::from_utf8_lossy(&res.body).chars().take(100).collect();
            return Err(ToolError::Failed(format!(
                "Slack refused the message ({}): {reason}",
                res.status
            )));
        }
        Ok(Delivered { delivered: true })
    }
}
