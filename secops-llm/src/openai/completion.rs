use serde_json::{Map, Value, json};

use secops_core::message::{ContentBlock, Message, Role};
use secops_core::model::{ModelRequest, ResponseFormat, ToolChoice};

use super::{MaxTokensField, OpenAiConfig};

/// The Chat Completions request body for `request`.
///
/// Tool results become `tool` messages ahead of any other user content of the same turn; `response_format` is
/// sent only on calls that offer no tools (servers reject or ignore the combination); tool and output schemas
/// go out in strict mode when [`strict_schema`] can express them.
#[must_use]
pub fn request_body(
    config: &OpenAiConfig,
    request: &ModelRequest<'_>,
    stream: bool,
    include_usage: bool,
) -> Value {
    let mut body = Map::new();
    body.insert(
        "model".into(),
        json!(request.model.as_deref().unwrap_or(&config.model)),
    );
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !request.system.trim().is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for m in request.messages.iter() {
        push_message(&mut messages, m);
    }
    body.insert("messages".into(), Value::Array(messages));

    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                let strict = config
                    .strict_tools
                    .then(|| strict_schema(&t.input_schema))
                    .flatten();
                let mut function = json!({"name": t.name, "description": t.description});
                match strict {
                    Some(schema) => {
                        function["parameters"] = schema;
                        function["strict"] = json!(true);
                    }
                    None => function["parameters"] = t.input_schema.clone(),
                }
                json!({"type": "function", "function": function})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        let choice = match &request.tool_choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
        };
        body.insert("tool_choice".into(), choice);
        body.insert("parallel_tool_calls".into(), json!(request.parallel_tool_calls));
    } else if let ResponseFormat::JsonSchema { name, schema, strict } = &request.response_format {
        let strict_version = strict.then(|| strict_schema(schema)).flatten();
        let format = json!({
            "type": "json_schema",
            "json_schema": {
                "name": name,
                "strict": strict_version.is_some(),
                "schema": strict_version.unwrap_or_else(|| schema.clone()),
            }
        });
        body.insert("response_format".into(), format);
    }
    if let Some(max) = request.max_tokens {
        let field = match config.max_tokens_field {
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::MaxTokens => "max_tokens",
        };
        body.insert(field.into(), json!(max));
    }
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if !request.stop_sequences.is_empty() {
        body.insert("stop".into(), json!(request.stop_sequences));
    }
    if stream {
        body.insert("stream".into(), json!(true));
        if include_usage {
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
    }
    Value::Object(body)
}

fn push_message(out: &mut Vec<Value>, m: &Message) {
    match m.role {
        Role::User => {
            for block in &m.content {
                if let ContentBlock::ToolResult {
                    tool_use_id,
                    content,
                    is_error,
                } = block
                {
                    // Chat Completions has no error flag on tool messages; say it in the content.
                    let content = if *is_error {
                        format!("[tool error] {content}")
                    } else {
                        content.clone()
                    };
                    out.push(json!({"role": "tool", "tool_call_id": tool_use_id, "content": content}));
                }
            }
            let mut parts = Vec::new();
            let mut only_text = true;
            for block in &m.content {
                match block {
                    ContentBlock::Text { text } if !text.is_empty() => parts.push(json!({"type": "text", "text": text})),
                    ContentBlock::Attachment(a)
                        if a.media_type.starts_with("image/")
                            && (a.uri.starts_with("https://") || a.uri.starts_with("http://") || a.uri.starts_with("data:")) =>
                    {
                        only_text = false;
                        parts.push(json!({"type": "image_url", "image_url": {"url": a.uri}}));
                    }
                    ContentBlock::Attachment(a) => parts.push(json!({
                        "type": "text",
                        "text": format!("[attachment {} ({}) at {}]", a.name.as_deref().unwrap_or("file"), a.media_type, a.uri)
                    })),
                    _ => {}
                }
            }
            if parts.is_empty() {
                return;
            }
            if only_text {
                let text: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
                out.push(json!({"role": "user", "content": text.join("\n")}));
            } else {
                out.push(json!({"role": "user", "content": parts}));
            }
        }
        Role::Assistant => {
            let text = m.text();
            let calls: Vec<Value> = m
                .tool_calls()
                .map(|c| {
                    let arguments = match &c.input {
                        Value::String(raw) => raw.clone(),
                        other => serde_json::to_string(other).unwrap_or_else(|_| "{}".into()),
                    };
                    json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": arguments}})
                })
                .collect();
            let mut msg = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
            if !calls.is_empty() {
                msg["tool_calls"] = Value::Array(calls);
            } else if text.is_empty() {
                return;
            }
            out.push(msg);
        }
    }
}

/// Keywords strict mode rejects; dropping them loosens validation slightly, and the tool registry still
/// validates against the full schema before any call runs.
const UNSUPPORTED: &[&str] = &[
    "$schema",
    "minLength",
    "maxLength",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "patternProperties",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "default",
    "examples",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
];

/// Rewrites a JSON Schema into the subset OpenAI's strict mode accepts: every object closed
/// (`additionalProperties: false`) with every property required (optional ones made nullable), `oneOf` as
/// `anyOf`, unsupported keywords removed. `None` when the schema cannot be expressed (`not`, `allOf`, open
/// maps), in which case it is sent as is without `strict`.
#[must_use]
pub fn strict_schema(schema: &Value) -> Option<Value> {
    let mut schema = schema.clone();
    sanitise(&mut schema).then_some(schema)
}

fn sanitise(node: &mut Value) -> bool {
    let Value::Object(map) = node else {
        return true;
    };
    if map.contains_key("not") || map.contains_key("allOf") {
        return false;
    }
    for key in UNSUPPORTED {
        map.remove(*key);
    }
    if let Some(one_of) = map.remove("oneOf") {
        map.insert("anyOf".into(), one_of);
    }
    let is_object = map
        .get("type")
        .is_some_and(|t| t == "object" || t.as_array().is_some_and(|a| a.contains(&json!("object"))))
        || map.contains_key("properties");
    if is_object {
        match map.get("additionalProperties") {
            Some(Value::Bool(false)) | None => {}
            // An open map (additionalProperties: true or a schema) has no strict equivalent.
            Some(_) => return false,
        }
        map.insert("additionalProperties".into(), json!(false));
        let required: Vec<String> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let mut all = Vec::new();
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            for (name, prop) in props.iter_mut() {
                if !sanitise(prop) {
                    return false;
                }
                if !required.contains(name) {
                    make_nullable(prop);
                }
                all.push(json!(name));
            }
        } else {
            map.insert("properties".into(), json!({}));
        }
        map.insert("required".into(), Value::Array(all));
    }
    for key in ["items", "anyOf", "$defs", "definitions", "prefixItems"] {
        let ok = match map.get_mut(key) {
            Some(Value::Array(items)) => items.iter_mut().all(sanitise),
            Some(Value::Object(defs)) if key == "$defs" || key == "definitions" => {
                defs.values_mut().all(sanitise)
            }
            Some(item @ Value::Object(_)) => sanitise(item),
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn make_nullable(prop: &mut Value) {
    let Value::Object(map) = prop else { return };
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
        }
        _ => {
            let inner = std::mem::take(prop);
            *prop = json!({"anyOf": [inner, {"type": "null"}]});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_mode_closes_objects_and_requires_everything() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "host": {"type": "string", "minLength": 1},
                "limit": {"type": "integer"},
                "filter": {"type": "object", "properties": {"since": {"type": "string"}}, "required": ["since"]},
                "mode": {"oneOf": [{"const": "fast"}, {"const": "deep"}]}
            },
            "required": ["host"]
        });
        let strict = strict_schema(&schema).unwrap();
        assert_eq!(strict["additionalProperties"], false);
        assert_eq!(strict["required"], json!(["filter", "host", "limit", "mode"]));
        assert_eq!(strict["properties"]["limit"]["type"], json!(["integer", "null"]));
        assert_eq!(strict["properties"]["host"], json!({"type": "string"}));
        assert_eq!(strict["properties"]["filter"]["additionalProperties"], false);
        assert_eq!(strict["properties"]["filter"]["type"], json!(["object", "null"]));
        assert!(
            strict["properties"]["mode"]["anyOf"][0]["anyOf"].is_array(),
            "{strict}"
        );
        assert!(strict.get("$schema").is_none());
    }

    #[test]
    fn inexpressible_schemas_are_not_strict() {
        assert!(
            strict_schema(&json!({"type": "object", "additionalProperties": {"type": "string"}})).is_none()
        );
        assert!(strict_schema(&json!({"not": {"type": "string"}})).is_none());
    }
}
