//! One MCP tool as a secops [`Tool`]: definition from `tools/list`, calls through `tools/call`.

use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceError;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock, ErrorCode, ResourceContents, ToolAnnotations,
};
use rmcp::service::{Peer, RoleClient};
use rmcp::transport::streamable_http_client::StreamableHttpError;
use secops_core::tool::{RiskLevel, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput};
use serde_json::Value;

use super::server::redact;
use crate::egress::EgressError;

/// What every tool of one connection shares.
pub(crate) struct Connection {
    /// How messages name the server (no credentials).
    pub(crate) server: String,
    pub(crate) peer: Peer<RoleClient>,
    pub(crate) request_timeout: Duration,
    /// Values removed from any error text.
    pub(crate) secrets: Vec<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.server)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The message for a request that failed below the tool (transport, protocol), with no secret in it.
    pub(crate) fn failure(&self, error: &ServiceError) -> ToolError {
        let server = &self.server;
        let message = match error {
            ServiceError::TransportClosed => {
                format!(
                    "the MCP server `{server}` is gone (its connection closed); reconnect to use its tools"
                )
            }
            ServiceError::TransportSend(e) => format!(
                "the MCP server `{server}` is gone or unreachable: {}",
                root_cause(e)
            ),
            ServiceError::Timeout { timeout } => {
                format!("the MCP server `{server}` did not answer within {timeout:?}")
            }
            ServiceError::McpError(e) if e.code == ErrorCode::INVALID_PARAMS => {
                // The server is stricter than the schema it published; the model can fix the arguments.
                return ToolError::InvalidInput(redact(
                    &format!("the MCP server `{server}` rejected the arguments: {}", e.message),
                    &self.secrets,
                ));
            }
            ServiceError::McpError(e) => format!(
                "the MCP server `{server}` answered with an error ({}): {}",
                e.code.0, e.message
            ),
            ServiceError::Cancelled { reason } => format!(
                "the MCP server `{server}` cancelled the call: {}",
                reason.as_deref().unwrap_or("no reason given")
            ),
            ServiceError::UnexpectedResponse => format!(
                "the MCP server `{server}` did not answer with a tool result (it may need features this client does not support)"
            ),
            other => format!("the MCP request to `{server}` failed: {other}"),
        };
        ToolError::Unavailable(redact(&message, &self.secrets))
    }
}

/// The errors of a chain, outermost first. rmcp's HTTP error keeps the client's error without exposing it as
/// its source, so the walk steps into it by hand.
pub(crate) fn error_chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        out.push(e);
        current = match e.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            Some(StreamableHttpError::Client(inner)) => Some(inner as &(dyn std::error::Error + 'static)),
            _ => e.source(),
        };
    }
    out
}

/// The egress guard's error inside a chain, if the guard is what stopped the connection.
pub(crate) fn guard_error(error: &(dyn std::error::Error + 'static)) -> Option<EgressError> {
    error_chain(error)
        .into_iter()
        .find_map(crate::egress::guard_error)
}

/// The innermost cause of an error chain (for a refused connection, the operating system's words), or the
/// egress guard's own error when that is what stopped it.
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    if let Some(guard) = guard_error(error) {
        return guard.to_string();
    }
    error_chain(error)
        .last()
        .map_or_else(String::new, ToString::to_string)
}

/// Whether the HTTP server refused our credentials (401 or 403, with or without a challenge).
pub(crate) fn refused_credentials(error: &(dyn std::error::Error + 'static)) -> bool {
    error_chain(error).into_iter().any(|e| {
        matches!(
            e.downcast_ref::<StreamableHttpError<reqwest::Error>>(),
            Some(StreamableHttpError::AuthRequired(_) | StreamableHttpError::InsufficientScope(_))
        ) || matches!(
            e.downcast_ref::<StreamableHttpError<reqwest::Error>>(),
            Some(StreamableHttpError::UnexpectedServerResponse(m))
                if m.starts_with("HTTP 401") || m.starts_with("HTTP 403")
        )
    })
}

/// An MCP server's tool.
#[derive(Debug)]
pub(crate) struct McpTool {
    pub(crate) definition: ToolDefinition,
    /// The name the server knows it by (without our prefix).
    pub(crate) remote_name: String,
    pub(crate) connection: Arc<Connection>,
}

#[async_trait::async_trait]
impl Tool for McpTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn call(&self, ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let connection = &self.connection;
        let mut params = CallToolRequestParams::new(self.remote_name.clone());
        match input {
            Value::Object(arguments) => params = params.with_arguments(arguments),
            Value::Null => {}
            _ => {
                return Err(ToolError::InvalidInput(
                    "the arguments of an MCP tool must be a JSON object".into(),
                ));
            }
        }
        if connection.peer.is_transport_closed() {
            return Err(connection.failure(&ServiceError::TransportClosed));
        }
        // Dropping the request future (cancelled, timed out) tells the server to stop: rmcp sends
        // `notifications/cancelled` for an abandoned request.
        let result = tokio::select! {
            biased;
            () = ctx.cancellation.cancelled() => {
                return Err(ToolError::Unavailable(format!(
                    "the call to `{}` on the MCP server `{}` was cancelled",
                    self.remote_name, connection.server
                )));
            }
            r = tokio::time::timeout(connection.request_timeout, connection.peer.call_tool(params)) => r,
        };
        let result = match result {
            Err(_) => {
                return Err(ToolError::Unavailable(format!(
                    "the MCP server `{}` did not answer the call to `{}` within {:?}",
                    connection.server, self.remote_name, connection.request_timeout
                )));
            }
            Ok(Err(e)) => return Err(connection.failure(&e)),
            Ok(Ok(result)) => result,
        };
        let text = render(&result);
        if result.is_error == Some(true) {
            return Err(ToolError::Failed(if text.is_empty() {
                format!(
                    "the MCP tool `{}` reported an error without a message",
                    self.remote_name
                )
            } else {
                text
            }));
        }
        Ok(ToolOutput::text(text))
    }
}

/// The result as text for the model: text blocks as they are, other kinds described (binary data is left
/// out: it would only cost tokens), and structured content as JSON unless a text block already carries it.
pub(crate) fn render(result: &CallToolResult) -> String {
    let mut parts: Vec<String> = result.content.iter().map(render_block).collect();
    if let Some(structured) = &result.structured_content {
        let already_there = result.content.iter().any(|block| {
            block
                .as_text()
                .and_then(|t| serde_json::from_str::<Value>(&t.text).ok())
                .is_some_and(|v| &v == structured)
        });
        if !already_there {
            parts.push(structured.to_string());
        }
    }
    parts.join("\n")
}

fn render_block(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!(
            "[image {}, {} bytes of base64 left out]",
            image.mime_type,
            image.data.len()
        ),
        ContentBlock::Audio(audio) => format!(
            "[audio {}, {} bytes of base64 left out]",
            audio.mime_type,
            audio.data.len()
        ),
        ContentBlock::Resource(resource) => match &resource.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[resource {uri}]\n{text}")
            }
            ResourceContents::BlobResourceContents {
                uri, mime_type, blob, ..
            } => format!(
                "[resource {uri} ({}), {} bytes of base64 left out]",
                mime_type.as_deref().unwrap_or("binary"),
                blob.len()
            ),
            other => serde_json::to_string(other).unwrap_or_default(),
        },
        ContentBlock::ResourceLink(link) => {
            format!("[resource link {} ({})]", link.uri, link.name)
        }
        // A kind added to the protocol later: its JSON is still readable.
        #[allow(unreachable_patterns)]
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// The risk the annotations suggest: read-only is low, destructive is high (also when a server claims both),
/// anything else medium.
pub(crate) fn risk_from(annotations: Option<&ToolAnnotations>) -> RiskLevel {
    let hint = |f: fn(&ToolAnnotations) -> Option<bool>| annotations.and_then(f) == Some(true);
    if hint(|a| a.destructive_hint) {
        RiskLevel::High
    } else if hint(|a| a.read_only_hint) {
        RiskLevel::Low
    } else {
        RiskLevel::Medium
    }
}

/// Why `name` cannot be a tool name (`[A-Za-z0-9_-]{1,64}`), if it cannot.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if name.len() > 64 {
        return Some(format!(
            "the name is {} bytes long; tool names have at most 64",
            name.len()
        ));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        .map(|c| format!("the name contains `{c}`; tool names have only A-Z, a-z, 0-9, `_` and `-`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::Resource;
    use serde_json::json;

    #[test]
    fn results_render_as_text_for_the_model() {
        let mut result = CallToolResult::success(vec![
            ContentBlock::text("first"),
            ContentBlock::image("aGVsbG8=", "image/png"),
            ContentBlock::embedded_text("file:///notes.txt", "note body"),
            ContentBlock::resource_link(Resource::new("file:///big.log", "big.log")),
        ]);
        result.structured_content = Some(json!({"verdict": "malicious"}));
        assert_eq!(
            render(&result),
            "first\n[image image/png, 8 bytes of base64 left out]\n[resource file:///notes.txt]\nnote body\n[resource link file:///big.log (big.log)]\n{\"verdict\":\"malicious\"}"
        );
        let mut both = CallToolResult::success(vec![ContentBlock::text("{\"a\": 1}")]);
        both.structured_content = Some(json!({"a": 1}));
        assert_eq!(
            render(&both),
            "{\"a\": 1}",
            "structured content repeated as text is not doubled"
        );
    }

    #[test]
    fn annotations_give_the_risk() {
        let ro = ToolAnnotations::new().read_only(true);
        let destructive = ToolAnnotations::new().destructive(true);
        let both = ToolAnnotations::new().read_only(true).destructive(true);
        assert_eq!(risk_from(Some(&ro)), RiskLevel::Low);
        assert_eq!(risk_from(Some(&destructive)), RiskLevel::High);
        assert_eq!(risk_from(Some(&both)), RiskLevel::High);
        assert_eq!(risk_from(Some(&ToolAnnotations::new())), RiskLevel::Medium);
        assert_eq!(risk_from(None), RiskLevel::Medium);
    }

    #[test]
    fn names_follow_the_providers_rule() {
        assert_eq!(name_problem("lookup_ip-2"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem(&"a".repeat(65)).unwrap().contains("65 bytes"));
        assert!(name_problem("lookup.ip").unwrap().contains('.'));
    }
}
