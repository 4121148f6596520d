//! `{{name}}` placeholders filled from a tool call's validated input.

use serde_json::Value;

/// The placeholder names in `text`, in order.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push(rest[start + 2..start + 2 + len].trim().to_owned());
        rest = &rest[start + 2 + len + 2..];
    }
    out
}

/// An input value as text: strings as they are, everything else as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Fills `text`, passing every value through `encode` (percent-encoding for a URL path, nothing for a query
/// value the URL library encodes itself). A name the input lacks becomes empty.
pub(crate) fn fill(text: &str, input: &Value, encode: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + 2 + len].trim();
        out.push_str(&encode(&as_text(input.get(name).unwrap_or(&Value::Null))));
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Fills a JSON body template: a string that is exactly one placeholder takes the input value with its type;
/// other strings are filled as text.
pub(crate) fn fill_json(template: &Value, input: &Value) -> Value {
    match template {
        Value::String(s) => {
            let names = placeholders(s);
            let trimmed = s.trim();
            if names.len() == 1 && trimmed.starts_with("{{") && trimmed.ends_with("}}") {
                input.get(names[0].as_str()).cloned().unwrap_or(Value::Null)
            } else {
                Value::String(fill(s, input, str::to_owned))
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, input)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_json(v, input)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Percent-encodes one path segment, so an input can never add segments (`../`) or change the query.
pub(crate) fn path_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        // form encoding writes spaces as `+`, which a path keeps literally
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_text_paths_and_typed_json() {
        let input = json!({"ip": "203.0.113.7", "limit": 5, "path": "../admin?x=1"});
        assert_eq!(placeholders("/v1/{{ip}}/x{{ limit }}"), vec!["ip", "limit"]);
        assert_eq!(
            fill("/v1/ip/{{ip}}?n={{limit}}", &input, str::to_owned),
            "/v1/ip/203.0.113.7?n=5"
        );
        assert_eq!(
            fill("/files/{{path}}", &input, path_segment),
            "/files/..%2Fadmin%3Fx%3D1"
        );
        assert_eq!(fill("{{missing}}-x", &input, str::to_owned), "-x");
        let body = fill_json(
            &json!({"n": "{{limit}}", "q": "ip={{ip}}", "list": ["{{ip}}"]}),
            &input,
        );
        assert_eq!(
            body,
            json!({"n": 5, "q": "ip=203.0.113.7", "list": ["203.0.113.7"]})
        );
    }
}
