//! One `tracing` span per model call, with the OpenTelemetry GenAI semantic-convention attributes.
//!
//! Message content is not recorded unless [`set_capture_content`] turned it on: prompts in a SOC carry
//! indicators, user names and sometimes secrets.

use std::sync::atomic::{AtomicBool, Ordering};

use secops_core::model::{ProviderError, StreamEvent};
use tracing::field::Empty;

static CAPTURE_CONTENT: AtomicBool = AtomicBool::new(false);

/// Records streamed answer text on call spans (`gen_ai.output.text`) when `true`. Off by default.
pub fn set_capture_content(enabled: bool) {
    CAPTURE_CONTENT.store(enabled, Ordering::Relaxed);
}

/// Whether content capture is on.
#[must_use]
pub fn capture_content() -> bool {
    CAPTURE_CONTENT.load(Ordering::Relaxed)
}

/// The span of one model call and what has been recorded on it.
pub(crate) struct CallSpan {
    span: tracing::Span,
    input_tokens: u64,
    output_tokens: u64,
    text: Option<String>,
}

impl CallSpan {
    pub(crate) fn new(provider: &str, model: &str) -> Self {
        let span = tracing::info_span!(
            "gen_ai.chat",
            otel.name = format!("chat {model}"),
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = provider,
            gen_ai.request.model = model,
            gen_ai.response.model = Empty,
            gen_ai.response.id = Empty,
            gen_ai.response.finish_reasons = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.usage.cache_read.input_tokens = Empty,
            gen_ai.output.text = Empty,
            error.type = Empty,
        );
        Self {
            span,
            input_tokens: 0,
            output_tokens: 0,
            text: capture_content().then(String::new),
        }
    }

    pub(crate) fn observe(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::MessageStart { id, model } => {
                if let Some(id) = id {
                    self.span.record("gen_ai.response.id", id.as_str());
                }
                if let Some(model) = model {
                    self.span.record("gen_ai.response.model", model.as_str());
                }
            }
            StreamEvent::TextDelta { text } => {
                if let Some(buf) = &mut self.text {
                    buf.push_str(text);
                }
            }
            StreamEvent::Usage(u) => {
                self.input_tokens = self
                    .input_tokens
                    .max(u.input_tokens + u.cache_read_tokens + u.cache_write_tokens);
                self.output_tokens = self.output_tokens.max(u.output_tokens);
                self.span.record("gen_ai.usage.input_tokens", self.input_tokens);
                self.span.record("gen_ai.usage.output_tokens", self.output_tokens);
                if u.cache_read_tokens > 0 {
                    self.span
                        .record("gen_ai.usage.cache_read.input_tokens", u.cache_read_tokens);
                }
            }
            StreamEvent::Finish(reason) => {
                let raw = reason.raw.clone().unwrap_or_else(|| format!("{:?}", reason.kind));
                self.span.record("gen_ai.response.finish_reasons", raw.as_str());
                if let Some(text) = &self.text {
                    self.span.record("gen_ai.output.text", text.as_str());
                }
            }
            StreamEvent::Error(e) => self.error(e),
            _ => {}
        }
    }

    pub(crate) fn error(&self, error: &ProviderError) {
        let kind = error
            .provider_code
            .clone()
            .unwrap_or_else(|| format!("{:?}", error.kind));
        self.span.record("error.type", kind.as_str());
    }
}
