use std::collections::BTreeMap;

use futures::{Stream, StreamExt};
use serde_json::Value;

use super::{FinishReason, ModelResponse, ProviderError, ProviderErrorKind, StreamEvent, Usage};
use crate::message::{ContentBlock, ToolCall};

/// A stream broke the event protocol or failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccumulatorError {
    /// The provider reported an error.
    #[error(transparent)]
    Provider(Box<ProviderError>),
    /// Argument text arrived for a call that never started.
    #[error("tool-call arguments for index {index} arrived before the call started")]
    UnknownCall {
        /// The index.
        index: usize,
    },
    /// Two different calls claimed the same index.
    #[error("tool-call index {index} was started twice (ids `{first}` and `{second}`)")]
    DuplicateIndex {
        /// The index.
        index: usize,
        /// The first call's id.
        first: String,
        /// The second call's id.
        second: String,
    },
    /// The stream ended without a finish event.
    #[error("the stream ended before the model finished")]
    Truncated,
}

impl AccumulatorError {
    /// This error as a provider error, so callers have one error type.
    #[must_use]
    pub fn into_provider_error(self, provider: &str) -> ProviderError {
        match self {
            AccumulatorError::Provider(e) => *e,
            AccumulatorError::Truncated => {
                ProviderError::new(provider, ProviderErrorKind::StreamTruncated, self.to_string())
            }
            other => ProviderError::new(provider, ProviderErrorKind::MalformedResponse, other.to_string()),
        }
    }
}

#[derive(Debug, Default)]
struct CallBuilder {
    id: String,
    name: String,
    args: String,
}

/// Builds a [`ModelResponse`] from [`StreamEvent`]s. Every provider's stream goes through this one type, so
/// they all assemble tool calls, reasoning, usage and finish reasons the same way.
///
/// Tool-call argument pieces are appended per index in arrival order, so pieces of parallel calls may
/// interleave freely. The final content is ordered reasoning, text, then tool calls by index.
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    id: Option<String>,
    model: Option<String>,
    reasoning: Vec<(String, Option<String>)>,
    reasoning_open: bool,
    text: String,
    calls: BTreeMap<usize, CallBuilder>,
    usage: Usage,
    finish: Option<FinishReason>,
}

impl StreamAccumulator {
    /// An empty accumulator.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event into account.
    pub fn push(&mut self, event: StreamEvent) -> Result<(), AccumulatorError> {
        match event {
            StreamEvent::MessageStart { id, model } => {
                self.id = id.or(self.id.take());
                self.model = model.or(self.model.take());
            }
            StreamEvent::TextDelta { text } => {
                self.reasoning_open = false;
                self.text.push_str(&text);
            }
            StreamEvent::ReasoningDelta { text, signature } => {
                if !self.reasoning_open {
                    self.reasoning.push((String::new(), None));
                    self.reasoning_open = true;
                }
                if let Some((buf, sig)) = self.reasoning.last_mut() {
                    buf.push_str(&text);
                    if signature.is_some() {
                        *sig = signature;
                        self.reasoning_open = false;
                    }
                }
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.reasoning_open = false;
                match self.calls.get_mut(&index) {
                    Some(existing) if existing.id != id && !existing.id.is_empty() => {
                        return Err(AccumulatorError::DuplicateIndex {
                            index,
                            first: existing.id.clone(),
                            second: id,
                        });
                    }
                    Some(existing) => {
                        existing.id = id;
                        existing.name = name;
                    }
                    None => {
                        self.calls.insert(
                            index,
                            CallBuilder {
                                id,
                                name,
                                args: String::new(),
                            },
                        );
                    }
                }
            }
            StreamEvent::ToolCallArgsDelta { index, delta } => {
                let call = self
                    .calls
                    .get_mut(&index)
                    .ok_or(AccumulatorError::UnknownCall { index })?;
                call.args.push_str(&delta);
            }
            StreamEvent::ToolCallEnd { index } => {
                if !self.calls.contains_key(&index) {
                    return Err(AccumulatorError::UnknownCall { index });
                }
            }
            StreamEvent::Usage(usage) => self.usage = self.usage.max(usage),
            StreamEvent::Finish(reason) => self.finish = Some(reason),
            StreamEvent::Error(error) => return Err(AccumulatorError::Provider(Box::new(error))),
        }
        Ok(())
    }

    /// The text received so far (for partial answers when a stream fails or is cancelled).
    #[must_use]
    pub fn partial_text(&self) -> &str {
        &self.text
    }

    /// Whether the provider has sent its finish event.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    /// The assembled response. Fails with [`AccumulatorError::Truncated`] if no finish event arrived.
    pub fn finish(self) -> Result<ModelResponse, AccumulatorError> {
        let finish = self.finish.ok_or(AccumulatorError::Truncated)?;
        let mut content = Vec::with_capacity(self.reasoning.len() + 1 + self.calls.len());
        for (text, signature) in self.reasoning {
            content.push(ContentBlock::Reasoning { text, signature });
        }
        if !self.text.is_empty() {
            content.push(ContentBlock::Text { text: self.text });
        }
        let has_calls = !self.calls.is_empty();
        for (_, call) in self.calls {
            content.push(ContentBlock::ToolUse(ToolCall {
                id: call.id,
                name: call.name,
                input: parse_arguments(call.args),
            }));
        }
        Ok(ModelResponse {
            id: self.id,
            model: self.model,
            content,
            usage: self.usage,
            finish: finish.reconciled(has_calls),
            raw: None,
        })
    }

    /// Drains `stream` into a response; protocol errors become [`ProviderError`]s.
    pub async fn collect<S>(stream: S) -> Result<ModelResponse, ProviderError>
    where
        S: Stream<Item = StreamEvent> + Send,
    {
        let mut stream = std::pin::pin!(stream);
        let mut acc = StreamAccumulator::new();
        while let Some(event) = stream.next().await {
            acc.push(event).map_err(|e| e.into_provider_error("stream"))?;
        }
        acc.finish().map_err(|e| e.into_provider_error("stream"))
    }
}

/// Empty arguments mean "no arguments"; text that is not JSON is kept as a string so the tool registry can
/// tell the model exactly what was wrong rather than the call silently losing its input.
fn parse_arguments(args: String) -> Value {
    if args.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(&args).unwrap_or(Value::String(args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FinishKind;
    use serde_json::json;

    fn start(index: usize, id: &str) -> StreamEvent {
        StreamEvent::ToolCallStart {
            index,
            id: id.into(),
            name: "lookup".into(),
        }
    }
    fn delta(index: usize, s: &str) -> StreamEvent {
        StreamEvent::ToolCallArgsDelta {
            index,
            delta: s.into(),
        }
    }

    #[test]
    fn interleaved_calls_assemble_in_index_order() {
        let mut acc = StreamAccumulator::new();
        for e in [
            StreamEvent::MessageStart {
                id: Some("m1".into()),
                model: Some("x".into()),
            },
            StreamEvent::ReasoningDelta {
                text: "think".into(),
                signature: None,
            },
            StreamEvent::ReasoningDelta {
                text: String::new(),
                signature: Some("sig".into()),
            },
            StreamEvent::TextDelta {
                text: "Checking ".into(),
            },
            start(1, "b"),
            start(0, "a"),
            delta(1, "{\"ip\":"),
            delta(0, "{\"host\":\"ws1\"}"),
            delta(1, "\"10.0.0.1\"}"),
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::TextDelta { text: "both.".into() },
            StreamEvent::Usage(Usage {
                input_tokens: 10,
                ..Usage::default()
            }),
            StreamEvent::Usage(Usage {
                input_tokens: 10,
                output_tokens: 7,
                ..Usage::default()
            }),
            StreamEvent::Finish(FinishReason::from_raw("stop")),
        ] {
            acc.push(e).unwrap();
        }
        let r = acc.finish().unwrap();
        assert_eq!(
            r.finish.kind,
            FinishKind::ToolUse,
            "stop with calls counts as tool use"
        );
        assert_eq!(r.text(), "Checking both.");
        let calls: Vec<_> = r.tool_calls().collect();
        assert_eq!(calls[0].id, "a");
        assert_eq!(calls[0].input, json!({"host": "ws1"}));
        assert_eq!(calls[1].input, json!({"ip": "10.0.0.1"}));
        assert_eq!(r.usage.output_tokens, 7);
        assert!(matches!(&r.content[0], ContentBlock::Reasoning { signature: Some(s), .. } if s == "sig"));
    }

    #[test]
    fn protocol_violations_are_errors() {
        let mut acc = StreamAccumulator::new();
        assert_eq!(
            acc.push(delta(3, "{}")),
            Err(AccumulatorError::UnknownCall { index: 3 })
        );
        acc.push(start(0, "a")).unwrap();
        assert!(matches!(
            acc.push(start(0, "z")),
            Err(AccumulatorError::DuplicateIndex { .. })
        ));
        let acc = StreamAccumulator::new();
        assert_eq!(acc.finish(), Err(AccumulatorError::Truncated));
    }

    #[test]
    fn unparseable_arguments_are_kept_verbatim() {
        let mut acc = StreamAccumulator::new();
        acc.push(start(0, "a")).unwrap();
        acc.push(delta(0, "{\"ip\": ")).unwrap();
        acc.push(StreamEvent::Finish(FinishReason::from_raw("tool_use")))
            .unwrap();
        let r = acc.finish().unwrap();
        assert_eq!(r.tool_calls().next().unwrap().input, json!("{\"ip\": "));
    }
}
