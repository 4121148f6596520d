use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use secops_core::model::{FinishKind, FinishReason, ProviderError, ProviderErrorKind, StreamEvent, Usage};

use crate::streaming::WireParser;
use crate::transport::SseEvent;

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    // vLLM sends `null` or leaves it out on usage chunks.
    #[serde(borrow, default)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(borrow, default)]
    error: Option<WireError<'a>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(default)]
    index: Option<usize>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct WireError<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

#[derive(Debug)]
struct Call {
    slot: usize,
    named: bool,
}

/// Maps Chat Completions chunks to [`StreamEvent`]s, tolerating what compatible servers do differently:
/// a missing or always-0 tool-call `index` with distinct ids, an empty or "stop" finish reason with tool
/// calls (the accumulator reconciles it), no usage chunk, arguments sent whole or as a JSON object, and a
/// missing `[DONE]` after a finish reason.
#[derive(Debug)]
pub struct StreamParser {
    provider: &'static str,
    started: bool,
    by_id: HashMap<String, usize>,
    by_index: HashMap<usize, usize>,
    calls: Vec<Call>,
    last: Option<usize>,
    finish: Option<String>,
    refused: bool,
    done: bool,
}

impl StreamParser {
    /// A parser at the start of a response; `provider` names it in errors.
    #[must_use]
    pub fn new(provider: &'static str) -> Self {
        Self {
            provider,
            started: false,
            by_id: HashMap::new(),
            by_index: HashMap::new(),
            calls: Vec::new(),
            last: None,
            finish: None,
            refused: false,
            done: false,
        }
    }

    fn new_slot(&mut self, id: String, name: String, out: &mut Vec<StreamEvent>) -> usize {
        let slot = self.calls.len();
        self.calls.push(Call {
            slot,
            named: !name.is_empty(),
        });
        self.by_id.insert(id.clone(), slot);
        out.push(StreamEvent::ToolCallStart {
            index: slot,
            id,
            name,
        });
        slot
    }

    fn tool_delta(&mut self, d: ToolCallDelta<'_>, out: &mut Vec<StreamEvent>) {
        let name = d
            .function
            .as_ref()
            .and_then(|f| f.name.as_deref())
            .unwrap_or_default()
            .to_owned();
        let id = d.id.filter(|id| !id.is_empty());
        let slot = match id {
            Some(id) => match self.by_id.get(id.as_ref()) {
                Some(&slot) => slot,
                None => self.new_slot(id.into_owned(), name.clone(), out),
            },
            None => match d.index.and_then(|i| self.by_index.get(&i).copied()).or(self.last) {
                Some(slot) => slot,
                // A call with neither id nor a known index: give it an id so its result can refer to it.
                None => {
                    let id = format!("call_{}", self.calls.len());
                    self.new_slot(id, name.clone(), out)
                }
            },
        };
        if let Some(index) = d.index {
            // Servers that send index 0 for every call rebind it to the newest call, which is where their
            // argument pieces go.
            self.by_index.insert(index, slot);
        }
        self.last = Some(slot);
        if !name.is_empty() && !self.calls[slot].named {
            self.calls[slot].named = true;
            if let Some((id, _)) = self.by_id.iter().find(|(_, s)| **s == slot) {
                out.push(StreamEvent::ToolCallStart {
                    index: slot,
                    id: id.clone(),
                    name,
                });
            }
        }
        if let Some(raw) = d.function.and_then(|f| f.arguments) {
            let text = raw.get();
            let piece = if text.starts_with('"') {
                serde_json::from_str::<Cow<'_, str>>(text)
                    .map(Cow::into_owned)
                    .ok()
            } else if text == "null" {
                None
            } else {
                // Some servers send the arguments as a JSON object rather than a string.
                Some(text.to_owned())
            };
            if let Some(piece) = piece.filter(|p| !p.is_empty()) {
                out.push(StreamEvent::ToolCallArgsDelta {
                    index: slot,
                    delta: piece,
                });
            }
        }
    }

    fn end_calls(&mut self, out: &mut Vec<StreamEvent>) {
        for call in self.calls.drain(..) {
            out.push(StreamEvent::ToolCallEnd { index: call.slot });
        }
        self.by_id.clear();
        self.by_index.clear();
        self.last = None;
    }

    fn finish_event(&mut self) -> StreamEvent {
        self.done = true;
        let raw = self.finish.take().unwrap_or_default();
        let mut reason = FinishReason::from_raw(&raw);
        if self.refused && reason.kind == FinishKind::Stop {
            reason.kind = FinishKind::Refusal;
        }
        StreamEvent::Finish(reason)
    }

    fn error(&mut self, e: WireError<'_>) -> StreamEvent {
        self.done = true;
        let code = e
            .code
            .as_ref()
            .and_then(|c| c.as_str().map(str::to_owned))
            .or_else(|| e.kind.as_deref().map(str::to_owned));
        let kind = match code.as_deref() {
            Some("rate_limit_exceeded") => ProviderErrorKind::RateLimited,
            Some("insufficient_quota" | "credit_balance_exhausted" | "billing_hard_limit_reached") => {
                ProviderErrorKind::QuotaExceeded
            }
            Some("server_error" | "internal_error") => ProviderErrorKind::Server,
            Some("context_length_exceeded") => ProviderErrorKind::ContextWindowExceeded,
            Some("invalid_request_error") => ProviderErrorKind::InvalidRequest,
            _ => ProviderErrorKind::Other,
        };
        let mut error = ProviderError::new(
            self.provider,
            kind,
            e.message
                .map(Cow::into_owned)
                .unwrap_or_else(|| "error in stream".into()),
        );
        error.provider_code = code;
        StreamEvent::Error(error)
    }
}

impl WireParser for StreamParser {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            self.end_calls(out);
            let finish = self.finish_event();
            out.push(finish);
            return;
        }
        let chunk: Chunk<'_> = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(e) => {
                self.done = true;
                out.push(StreamEvent::Error(ProviderError::new(
                    self.provider,
                    ProviderErrorKind::MalformedResponse,
                    format!("malformed chunk: {e}"),
                )));
                return;
            }
        };
        if let Some(error) = chunk.error {
            let error = self.error(error);
            out.push(error);
            return;
        }
        // Azure opens with a content-filter chunk whose id and model are empty; wait for a real one.
        let id = chunk.id.filter(|s| !s.is_empty());
        let model = chunk.model.filter(|s| !s.is_empty());
        if !self.started && (id.is_some() || model.is_some()) {
            self.started = true;
            out.push(StreamEvent::MessageStart {
                id: id.map(Cow::into_owned),
                model: model.map(Cow::into_owned),
            });
        }
        for choice in chunk.choices.into_iter().flatten().filter(|c| c.index == 0) {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta
                    .reasoning_content
                    .or(delta.reasoning)
                    .filter(|t| !t.is_empty())
                {
                    out.push(StreamEvent::ReasoningDelta {
                        text: text.into_owned(),
                        signature: None,
                    });
                }
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::TextDelta {
                        text: text.into_owned(),
                    });
                }
                if let Some(text) = delta.refusal.filter(|t| !t.is_empty()) {
                    self.refused = true;
                    out.push(StreamEvent::TextDelta {
                        text: text.into_owned(),
                    });
                }
                for call in delta.tool_calls.into_iter().flatten() {
                    self.tool_delta(call, out);
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finish = Some(reason.into_owned());
                self.end_calls(out);
            }
        }
        if let Some(u) = chunk.usage {
            let cached = u.prompt_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0);
            out.push(StreamEvent::Usage(Usage {
                input_tokens: u.prompt_tokens.saturating_sub(cached),
                output_tokens: u.completion_tokens,
                cache_read_tokens: cached,
                cache_write_tokens: 0,
                reasoning_tokens: u
                    .completion_tokens_details
                    .and_then(|d| d.reasoning_tokens)
                    .unwrap_or(0),
            }));
        }
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        if self.finish.is_some() {
            // A finish reason but no `[DONE]`: some servers close the stream right after the last chunk.
            self.end_calls(out);
            let finish = self.finish_event();
            out.push(finish);
        } else {
            self.done = true;
            out.push(StreamEvent::Error(ProviderError::new(
                self.provider,
                ProviderErrorKind::StreamTruncated,
                "the stream ended before a finish reason or [DONE]",
            )));
        }
    }
}
