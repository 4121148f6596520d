//! One span per model call with the GenAI semantic-convention attributes; content only when enabled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use secops_core::message::Message;
use secops_core::model::{ModelProvider, ModelRequest};
use secops_llm::anthropic::{Anthropic, AnthropicConfig};
use support::{FakeServer, Reply, fixture, quick_transport};

/// Collects every field recorded on `gen_ai.chat` spans.
#[derive(Clone, Default)]
struct Spans {
    next: Arc<Mutex<u64>>,
    names: Arc<Mutex<HashMap<u64, String>>>,
    fields: Arc<Mutex<HashMap<u64, HashMap<String, String>>>>,
}

struct Collect<'a>(&'a mut HashMap<String, String>);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut next = self.next.lock().unwrap();
        *next += 1;
        let id = *next;
        let mut map = HashMap::new();
        attrs.record(&mut Collect(&mut map));
        self.names
            .lock()
            .unwrap()
            .insert(id, attrs.metadata().name().to_owned());
        self.fields.lock().unwrap().insert(id, map);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = self.fields.lock().unwrap();
        values.record(&mut Collect(fields.entry(span.into_u64()).or_default()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Spans {
    fn chat_spans(&self) -> Vec<HashMap<String, String>> {
        let names = self.names.lock().unwrap();
        let fields = self.fields.lock().unwrap();
        names
            .iter()
            .filter(|(_, n)| *n == "gen_ai.chat")
            .map(|(id, _)| fields[id].clone())
            .collect()
    }
}

fn call_once(capture: bool) -> Vec<HashMap<String, String>> {
    secops_llm::telemetry::set_capture_content(capture);
    let spans = Spans::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(spans.clone(), || {
        rt.block_on(async {
            let server = FakeServer::start(vec![Reply::sse(fixture("anthropic/stream_text.sse"))]).await;
            let mut config = AnthropicConfig::new("sk-ant-telemetry", "claude-sonnet-4-5");
            config.base_url = server.url("");
            config.transport = quick_transport();
            let provider = Anthropic::new(config).unwrap();
            let msgs = [Message::user("secret indicator 203.0.113.7")];
            provider.complete(&ModelRequest::new(&msgs)).await.unwrap();
        });
    });
    secops_llm::telemetry::set_capture_content(false);
    spans.chat_spans()
}

#[test]
fn one_span_per_call_with_genai_attributes_and_no_content_by_default() {
    let spans = call_once(false);
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s["gen_ai.operation.name"], "chat");
    assert_eq!(s["gen_ai.provider.name"], "anthropic");
    assert_eq!(s["gen_ai.request.model"], "claude-sonnet-4-5");
    assert!(
        s.contains_key("gen_ai.response.model") && s.contains_key("gen_ai.response.id"),
        "{s:?}"
    );
    assert_eq!(s["gen_ai.response.finish_reasons"], "end_turn");
    assert!(s["gen_ai.usage.input_tokens"].parse::<u64>().unwrap() > 0);
    assert!(s["gen_ai.usage.output_tokens"].parse::<u64>().unwrap() > 0);
    assert!(!s.contains_key("gen_ai.output.text"), "content is off by default");
    assert!(
        s.values()
            .all(|v| !v.contains("203.0.113.7") && !v.contains("sk-ant-telemetry"))
    );

    let spans = call_once(true);
    assert!(
        spans[0].get("gen_ai.output.text").is_some_and(|t| !t.is_empty()),
        "content when enabled"
    );
}
