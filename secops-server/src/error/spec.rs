//! The problems routes answer, written into the OpenAPI document next to the code that makes them, so the spec
//! states them for every route and a client generated from it (the console's) knows every answer.
//!
//! Route annotations name the problems particular to a route (`409` on a stale version, `429` on login, ...).
//! What follows from a route's shape is added here once: a bearer-secured route can answer `401` and `403`, a
//! route with path parameters `400` (not a UUID) and `404`, one with query parameters `400` and `422` (a bad
//! cursor or limit), one with a JSON body `400` (syntax), `413`, `415` and `422` (see
//! [`ApiError`](super::ApiError)'s conversions). Every problem is `application/problem+json`, and a
//! `text/event-stream` response is described event by event.

use serde_json::{Map, Value, json};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Secured routes that never refuse on a permission: every principal may ask who it is and log out.
const NEVER_FORBIDDEN: [&str; 2] = ["/v1/me", "/v1/auth/logout"];

const PROBLEM_REF: &str = "#/components/schemas/Problem";

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}
    })
}

fn reason(status: &str) -> &'static str {
    status
        .parse::<u16>()
        .ok()
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Response")
}

/// One server-sent event as the streaming routes send it: `id` is the run event's sequence number (send it
/// back as `Last-Event-ID`), `event` its kind, `data` the event as JSON.
fn sse_event_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The event's sequence number in its run"},
            "event": {"type": "string", "description": "The event's kind, e.g. `text_delta`"},
            "data": {"type": "string", "description": "The event as JSON"},
            "retry": {"type": "integer"}
        },
        "required": ["data"]
    })
}

fn document_operation(path: &str, op: &mut Map<String, Value>) {
    // Every list pages by keyset: the cursor is the id of the last row seen, which the store refuses (422)
    // unless it is a UUID.
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            if p.get("in").and_then(Value::as_str) == Some("query")
                && p.get("name").and_then(Value::as_str) == Some("cursor")
            {
                p["schema"] = json!({"type": "string", "format": "uuid"});
            }
        }
    }
    let params: Vec<&str> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("in").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let has_path = params.contains(&"path");
    let has_query = params.contains(&"query");
    let json_body = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .is_some_and(|c| c.contains_key("application/json"));
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));

    let Some(responses) = op.entry("responses").or_insert_with(|| json!({})).as_object_mut() else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        response
            .entry("description")
            .or_insert_with(|| Value::String(reason(status).to_owned()));
        if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
            let is_problem = content
                .get("application/json")
                .and_then(|c| c.pointer("/schema/$ref"))
                .and_then(Value::as_str)
                == Some(PROBLEM_REF);
            if is_problem && let Some(c) = content.remove("application/json") {
                content.insert("application/problem+json".into(), c);
            }
            if let Some(stream) = content.get_mut("text/event-stream") {
                stream["schema"] = sse_event_schema();
            }
        }
    }
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status)
            .or_insert_with(|| problem_response(description));
    };
    if secured {
        add(
            "401",
            "Authentication is required, or the credentials are not valid.",
        );
        if !NEVER_FORBIDDEN.contains(&path) {
            add("403", "The caller's role does not allow this.");
        }
    }
    if has_path {
        add("400", "A path parameter is malformed.");
        add("404", "Not found in the caller's organisation.");
    }
    if has_query {
        add("400", "A query parameter is malformed or unknown.");
        add(
            "422",
            "A query parameter breaks a rule (limit out of range, a cursor not made by the server).",
        );
    }
    if json_body {
        add("400", "The body is not valid JSON.");
        add("413", "The body is larger than the server accepts.");
        add("415", "The body is not `application/json`.");
        add("422", "The body breaks the schema or a rule of the domain.");
    }
}

/// The served document: `api` with the problems that follow from each route's shape, problem bodies named
/// `application/problem+json`, and the run events' schema.
#[must_use]
pub fn document_problems(api: utoipa::openapi::OpenApi) -> Value {
    // utoipa's document types always serialise; were that ever to fail, the spec would be empty rather than wrong.
    let mut doc = serde_json::to_value(&api).unwrap_or_else(|_| json!({}));
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if let (true, Some(op)) = (METHODS.contains(&method.as_str()), op.as_object_mut()) {
                    document_operation(path, op);
                }
            }
        }
    }
    add_run_event_schema(&mut doc);
    doc
}

/// Adds `RunEvent` (what the event streams of runs and chats carry, in an SSE event's `data` or a WebSocket
/// `run_event` frame's `event`) and the types it refers to, from the runtime's own JSON Schema, so clients
/// generate them instead of writing them by hand.
fn add_run_event_schema(doc: &mut Value) {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let mut root = settings
        .into_generator()
        .into_root_schema_for::<secops_core::run::RunEvent>()
        .to_value();
    let definitions = root
        .as_object_mut()
        .and_then(|o| o.remove("components"))
        .and_then(|mut c| c.get_mut("schemas").map(Value::take));
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(Value::Object(defs)) = definitions {
        for (name, schema) in defs {
            // Never replace a schema of the API's own with a runtime type of the same name.
            schemas.entry(name).or_insert(schema);
        }
    }
    schemas.entry("RunEvent").or_insert(root);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_bring_their_problems() {
        let mut op = json!({
            "parameters": [{"name": "id", "in": "path"}, {"name": "limit", "in": "query"}],
            "requestBody": {"content": {"application/json": {"schema": {}}}},
            "security": [{"bearer": []}],
            "responses": {"200": {"content": {"application/json": {"schema": {}}}},
                          "409": {"content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}}}}
        });
        document_operation("/v1/things/{id}", op.as_object_mut().unwrap());
        let r = &op["responses"];
        for s in ["400", "401", "403", "404", "409", "413", "415", "422"] {
            assert!(
                r[s]["content"]["application/problem+json"].is_object(),
                "{s}: {r}"
            );
            assert!(r[s]["description"].is_string(), "{s}");
        }
        assert!(r["200"]["content"]["application/json"].is_object());
        assert_eq!(r["200"]["description"], "OK");
    }

    #[test]
    fn run_events_are_described_with_every_kind() {
        let mut doc = json!({"components": {"schemas": {}}});
        add_run_event_schema(&mut doc);
        let schemas = &doc["components"]["schemas"];
        let text = schemas.to_string();
        for kind in ["text_delta", "awaiting_approval", "tool_result", "finished"] {
            assert!(text.contains(kind), "{kind} missing");
        }
        assert!(schemas["RunEvent"].is_object());
        assert!(
            !text.contains("#/$defs/"),
            "references point into components: {text}"
        );
        // Every reference resolves.
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(schemas.get(name).is_some(), "dangling reference to {name}");
        }
    }

    #[test]
    fn operation_ids_are_unique_so_generated_clients_do_not_mix_routes() {
        let doc = crate::routes().1;
        let mut seen = std::collections::HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                assert!(
                    seen.insert(id.clone()),
                    "{method} {path} repeats the operation id `{id}`"
                );
            }
        }
    }

    #[test]
    fn the_served_spec_has_the_problems_and_the_run_events() {
        let (_, doc) = crate::routes();
        assert!(
            doc["components"]["schemas"]["RunEvent"].is_object(),
            "RunEvent is in the served spec"
        );
        let created = &doc["paths"]["/v1/agents"]["post"]["responses"];
        assert!(
            created["415"]["content"]["application/problem+json"].is_object(),
            "{created}"
        );
        assert!(created["401"].is_object(), "{created}");
    }

    #[test]
    fn a_public_route_without_input_gains_nothing() {
        let mut op = json!({"responses": {"200": {"description": "fine"}}});
        document_operation("/healthz", op.as_object_mut().unwrap());
        assert_eq!(op["responses"].as_object().unwrap().len(), 1);
        let mut me = json!({"security": [{"bearer": []}], "responses": {}});
        document_operation("/v1/me", me.as_object_mut().unwrap());
        assert!(me["responses"]["401"].is_object() && me["responses"].get("403").is_none());
    }
}
