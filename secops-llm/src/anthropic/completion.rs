use serde_json::{Map, Value, json};

use secops_core::message::{AttachmentRef, ContentBlock, Message, Role};
use secops_core::model::{ModelRequest, ResponseFormat, ToolChoice};

use super::AnthropicConfig;

/// The Messages API request body for `request`.
///
/// Tool results lead their user message (the API requires them first), empty text blocks are dropped (the API
/// rejects them), reasoning is passed back only with its signature, and a JSON response format becomes an
/// instruction in the system prompt on calls without tools.
#[must_use]
pub fn request_body(config: &AnthropicConfig, request: &ModelRequest<'_>, stream: bool) -> Value {
    let mut body = Map::new();
    body.insert(
        "model".into(),
        json!(request.model.as_deref().unwrap_or(&config.model)),
    );
    let mut max_tokens = request.max_tokens.unwrap_or(config.default_max_tokens);
    if let Some(budget) = config.thinking_budget {
        // The thinking budget counts against max_tokens and must leave room for the answer.
        max_tokens = max_tokens.max(budget.saturating_add(1024));
        body.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": budget}),
        );
    }
    body.insert("max_tokens".into(), json!(max_tokens));

    let mut system = request.system.to_string();
    if let ResponseFormat::JsonSchema { schema, .. } = &request.response_format
        && request.tools.is_empty()
    {
        let schema = serde_json::to_string(schema).unwrap_or_default();
        system
            .push_str("\n\nReply with only a JSON value that matches this JSON Schema, and nothing else:\n");
        system.push_str(&schema);
    }
    if !system.trim().is_empty() {
        let system = if config.prompt_caching {
            json!([{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}])
        } else {
            json!(system)
        };
        body.insert("system".into(), system);
    }

    body.insert(
        "messages".into(),
        Value::Array(request.messages.iter().filter_map(message).collect()),
    );

    if !request.tools.is_empty() {
        let count = request.tools.len();
        let tools: Vec<Value> = request
            .tools
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut tool =
                    json!({"name": t.name, "description": t.description, "input_schema": t.input_schema});
                if config.prompt_caching && i + 1 == count {
                    tool["cache_control"] = json!({"type": "ephemeral"});
                }
                tool
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        let mut choice = match &request.tool_choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
        };
        if !request.parallel_tool_calls && request.tool_choice != ToolChoice::None {
            choice["disable_parallel_tool_use"] = json!(true);
        }
        body.insert("tool_choice".into(), choice);
    }
    if let Some(t) = request.temperature
        && config.thinking_budget.is_none()
    {
        body.insert("temperature".into(), json!(t));
    }
    if !request.stop_sequences.is_empty() {
        body.insert("stop_sequences".into(), json!(request.stop_sequences));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    Value::Object(body)
}

fn message(m: &Message) -> Option<Value> {
    let role = match m.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    let mut blocks: Vec<Value> = Vec::with_capacity(m.content.len());
    // Tool results first: the API rejects a user turn whose tool results follow other content.
    for block in m
        .content
        .iter()
        .filter(|b| matches!(b, ContentBlock::ToolResult { .. }))
    {
        blocks.extend(content_block(block));
    }
    for block in m
        .content
        .iter()
        .filter(|b| !matches!(b, ContentBlock::ToolResult { .. }))
    {
        blocks.extend(content_block(block));
    }
    if blocks.is_empty() {
        return None;
    }
    Some(json!({"role": role, "content": blocks}))
}

fn content_block(block: &ContentBlock) -> Option<Value> {
    match block {
        ContentBlock::Text { text } if text.is_empty() => None,
        ContentBlock::Text { text } => Some(json!({"type": "text", "text": text})),
        ContentBlock::ToolUse(call) => {
            let input = match &call.input {
                Value::Object(_) => call.input.clone(),
                // Arguments that never parsed: the API needs an object; the registry already told the model.
                Value::String(raw) => serde_json::from_str::<Value>(raw)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({})),
                _ => json!({}),
            };
            Some(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}))
        }
        ContentBlock::ToolResult {
            tool_use_id,
            content,
            is_error,
        } => Some(
            json!({"type": "tool_result", "tool_use_id": tool_use_id, "content": content, "is_error": is_error}),
        ),
        ContentBlock::Attachment(a) => Some(attachment(a)),
        ContentBlock::Reasoning {
            text,
            signature: Some(signature),
        } => Some(json!({"type": "thinking", "thinking": text, "signature": signature})),
        ContentBlock::Reasoning { signature: None, .. } => None,
    }
}

fn attachment(a: &AttachmentRef) -> Value {
    let is_url = a.uri.starts_with("https://") || a.uri.starts_with("http://");
    match (a.media_type.as_str(), is_url) {
        (t, true) if t.starts_with("image/") => {
            json!({"type": "image", "source": {"type": "url", "url": a.uri}})
        }
        ("application/pdf", true) => json!({"type": "document", "source": {"type": "url", "url": a.uri}}),
        _ => json!({
            "type": "text",
            "text": format!("[attachment {} ({}) at {}]", a.name.as_deref().unwrap_or("file"), a.media_type, a.uri)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secops_core::message::ToolCall;

    #[test]
    fn tool_results_lead_and_empty_text_is_dropped() {
        let m = Message {
            role: Role::User,
            content: vec![
                ContentBlock::text("and also"),
                ContentBlock::text(""),
                ContentBlock::tool_result("t1", "ok", true),
            ],
        };
        let v = message(&m).unwrap();
        assert_eq!(v["content"][0]["type"], "tool_result");
        assert_eq!(v["content"][0]["is_error"], true);
        assert_eq!(v["content"][1]["text"], "and also");
        assert_eq!(v["content"].as_array().unwrap().len(), 2);
        let unparsed = ContentBlock::ToolUse(ToolCall {
            id: "x".into(),
            name: "t".into(),
            input: json!("{\"a\":"),
        });
        assert_eq!(content_block(&unparsed).unwrap()["input"], json!({}));
    }
}
