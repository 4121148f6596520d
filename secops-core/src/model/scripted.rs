//! A deterministic provider for tests, examples and benchmarks. It is not a model: it replays a script.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::{
    EventStream, FinishKind, FinishReason, ModelCapabilities, ModelProvider, ModelRequest, ProviderError,
    ProviderErrorKind, StreamEvent, Usage,
};
use crate::message::Message;

/// One scripted model turn.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptedTurn {
    /// Answer with text and stop.
    Text(String),
    /// Optionally say something, then call tools (several entries make a parallel turn).
    ToolCalls {
        /// Text before the calls (may be empty).
        text: String,
        /// `(tool name, arguments)` per call, in order.
        calls: Vec<(String, Value)>,
    },
    /// Emit exactly these events (for protocol edge cases).
    Events(Vec<StreamEvent>),
    /// Fail with this error.
    Error(ProviderError),
    /// Wait, then play the inner turn (for time-outs, wall-clock budgets and cancellation).
    Delayed(Duration, Box<ScriptedTurn>),
}

impl ScriptedTurn {
    /// A text answer.
    pub fn text(text: impl Into<String>) -> Self {
        ScriptedTurn::Text(text.into())
    }

    /// One tool call.
    pub fn tool_call(name: impl Into<String>, input: Value) -> Self {
        ScriptedTurn::ToolCalls {
            text: String::new(),
            calls: vec![(name.into(), input)],
        }
    }

    /// Several tool calls in one turn.
    pub fn parallel_calls<N: Into<String>>(calls: impl IntoIterator<Item = (N, Value)>) -> Self {
        ScriptedTurn::ToolCalls {
            text: String::new(),
            calls: calls.into_iter().map(|(n, v)| (n.into(), v)).collect(),
        }
    }
}

/// What the provider saw on one call (kept only when recording is on).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The system prompt.
    pub system: String,
    /// The messages.
    pub messages: Vec<Message>,
    /// Names of the offered tools.
    pub tools: Vec<String>,
    /// Whether a JSON response format was requested.
    pub structured: bool,
    /// The tool choice.
    pub tool_choice: super::ToolChoice,
}

/// Replays scripted turns in order, streaming text and tool-call arguments in small chunks so consumers see
/// realistic interleaving. Deterministic: the same script gives the same events, ids and usage every time.
///
/// Used by secops' own tests, examples and benchmarks, and useful for yours. When the script runs out, calls
/// fail with [`ProviderErrorKind::Unavailable`] unless the provider was made with
/// [`cycled`](ScriptedProvider::cycled).
#[derive(Debug)]
pub struct ScriptedProvider {
    turns: Vec<ScriptedTurn>,
    next: AtomicUsize,
    cycle: bool,
    chunk_bytes: usize,
    record: bool,
    fixed_usage: Option<Usage>,
    recorded: Mutex<Vec<RecordedRequest>>,
    capabilities: ModelCapabilities,
}

impl ScriptedProvider {
    /// A provider that plays `turns` once, in order.
    #[must_use]
    pub fn new(turns: Vec<ScriptedTurn>) -> Self {
        Self {
            turns,
            next: AtomicUsize::new(0),
            cycle: false,
            chunk_bytes: 8,
            record: false,
            fixed_usage: None,
            recorded: Mutex::new(Vec::new()),
            capabilities: ModelCapabilities::tool_capable("scripted"),
        }
    }

    /// Continues a script at turn `turn` (counted from 0), as a process resuming a paused run would: call ids
    /// stay the same as in an uninterrupted replay.
    #[must_use]
    pub fn starting_at(self, turn: usize) -> Self {
        self.next.store(turn, Ordering::SeqCst);
        self
    }

    /// Starts over at the first turn when the script runs out (for benchmarks).
    #[must_use]
    pub fn cycled(mut self) -> Self {
        self.cycle = true;
        self
    }

    /// Streams text and arguments in pieces of at most `bytes` bytes (cut at character boundaries).
    #[must_use]
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// Reports `usage` for every turn instead of estimating it from the request, which costs time in
    /// proportion to the transcript (benchmarks that measure the executor alone use this).
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.fixed_usage = Some(usage);
        self
    }

    /// Keeps a copy of every request, readable through [`requests`](Self::requests).
    #[must_use]
    pub fn recording(mut self) -> Self {
        self.record = true;
        self
    }

    /// The requests seen so far (empty unless [`recording`](Self::recording)).
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorded
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// How many calls were made.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.next.load(Ordering::SeqCst)
    }

    fn events_for(&self, turn_no: usize, turn: ScriptedTurn, request: &ModelRequest<'_>) -> Vec<StreamEvent> {
        let mut events = vec![StreamEvent::MessageStart {
            id: Some(format!("msg_{turn_no}")),
            model: Some(self.capabilities.model.clone()),
        }];
        let mut output_bytes = 0usize;
        let (text, calls, finish) = match turn {
            ScriptedTurn::Text(text) => (text, Vec::new(), "end_turn"),
            ScriptedTurn::ToolCalls { text, calls } => (text, calls, "tool_use"),
            ScriptedTurn::Events(list) => return list,
            ScriptedTurn::Error(e) => return vec![StreamEvent::Error(e)],
            ScriptedTurn::Delayed(_, inner) => return self.events_for(turn_no, *inner, request),
        };
        for piece in chunks(&text, self.chunk_bytes) {
            events.push(StreamEvent::TextDelta {
                text: piece.to_owned(),
            });
        }
        output_bytes += text.len();
        for (index, (name, input)) in calls.into_iter().enumerate() {
            let args = serde_json::to_string(&input).unwrap_or_default();
            output_bytes += args.len() + name.len();
            events.push(StreamEvent::ToolCallStart {
                index,
                id: format!("call_{turn_no}_{index}"),
                name,
            });
            for piece in chunks(&args, self.chunk_bytes) {
                events.push(StreamEvent::ToolCallArgsDelta {
                    index,
                    delta: piece.to_owned(),
                });
            }
            events.push(StreamEvent::ToolCallEnd { index });
        }
        let usage = self.fixed_usage.unwrap_or_else(|| {
            let input_tokens: usize = request.system.len().div_ceil(4)
                + request
                    .messages
                    .iter()
                    .map(Message::estimated_tokens)
                    .sum::<usize>();
            Usage {
                input_tokens: u64::try_from(input_tokens).unwrap_or(u64::MAX),
                output_tokens: u64::try_from(output_bytes.div_ceil(4).max(1)).unwrap_or(u64::MAX),
                ..Usage::default()
            }
        });
        events.push(StreamEvent::Usage(usage));
        events.push(StreamEvent::Finish(FinishReason {
            kind: FinishKind::Stop,
            raw: Some(finish.into()),
        }));
        events
    }
}

/// Splits `s` into pieces of at most `max` bytes without cutting a character.
fn chunks(s: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = max.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (head, tail) = rest.split_at(end);
        rest = tail;
        Some(head)
    })
}

#[async_trait::async_trait]
impl ModelProvider for ScriptedProvider {
    fn name(&self) -> &str {
        "scripted"
    }

    fn capabilities(&self) -> ModelCapabilities {
        self.capabilities.clone()
    }

    fn stream<'a>(&'a self, request: &'a ModelRequest<'a>) -> EventStream<'a> {
        let turn_no = self.next.fetch_add(1, Ordering::SeqCst);
        if self.record {
            let copy = RecordedRequest {
                system: request.system.to_string(),
                messages: request.messages.to_vec(),
                tools: request.tools.iter().map(|t| t.name.clone()).collect(),
                structured: !matches!(request.response_format, super::ResponseFormat::Text),
                tool_choice: request.tool_choice.clone(),
            };
            match self.recorded.lock() {
                Ok(mut r) => r.push(copy),
                Err(e) => e.into_inner().push(copy),
            }
        }
        let index = if self.cycle && !self.turns.is_empty() {
            turn_no % self.turns.len()
        } else {
            turn_no
        };
        let Some(turn) = self.turns.get(index).cloned() else {
            let err = ProviderError::new(
                "scripted",
                ProviderErrorKind::Unavailable,
                format!(
                    "the script has {} turns and turn {} was requested",
                    self.turns.len(),
                    turn_no + 1
                ),
            );
            return Box::pin(futures::stream::iter([StreamEvent::Error(err)]));
        };
        let delay = match &turn {
            ScriptedTurn::Delayed(d, _) => Some(*d),
            _ => None,
        };
        let events = self.events_for(turn_no, turn, request);
        match delay {
            None => Box::pin(futures::stream::iter(events)),
            Some(d) => Box::pin(
                futures::stream::once(async move {
                    tokio::time::sleep(d).await;
                    futures::stream::iter(events)
                })
                .flatten(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn plays_turns_in_order_and_then_fails() {
        let p = ScriptedProvider::new(vec![
            ScriptedTurn::tool_call("lookup", json!({"host": "wörkstation-ü"})),
            ScriptedTurn::text("done"),
        ])
        .with_chunk_bytes(3);
        let msgs = [Message::user("hi")];
        let req = ModelRequest::new(&msgs);
        let r1 = p.complete(&req).await.unwrap();
        assert_eq!(
            r1.tool_calls().next().unwrap().input,
            json!({"host": "wörkstation-ü"})
        );
        assert_eq!(r1.finish.kind, FinishKind::ToolUse);
        let r2 = p.complete(&req).await.unwrap();
        assert_eq!(r2.text(), "done");
        let err = p.complete(&req).await.unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::Unavailable);
    }

    #[test]
    fn chunks_respect_char_boundaries() {
        let s = "aü✓🚀b";
        let pieces: Vec<_> = chunks(s, 1).collect();
        assert_eq!(pieces.concat(), s);
        assert!(pieces.iter().all(|p| !p.is_empty()));
    }
}
