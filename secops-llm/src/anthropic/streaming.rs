use std::borrow::Cow;

use serde::Deserialize;

use secops_core::model::{FinishReason, ProviderError, ProviderErrorKind, StreamEvent, Usage};

use crate::streaming::WireParser;
use crate::transport::SseEvent;

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
            cache_read_tokens: self.cache_read_input_tokens.unwrap_or(0),
            cache_write_tokens: self.cache_creation_input_tokens.unwrap_or(0),
            reasoning_tokens: 0,
        }
    }
}

#[derive(Deserialize)]
struct MessageStart<'a> {
    #[serde(borrow)]
    message: WireMessage<'a>,
}

#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct BlockStart<'a> {
    index: usize,
    #[serde(borrow)]
    content_block: WireBlock<'a>,
}

#[derive(Deserialize)]
struct WireBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    input: Option<serde_json::Value>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BlockDelta<'a> {
    index: usize,
    #[serde(borrow)]
    delta: WireDelta<'a>,
}

#[derive(Deserialize)]
struct WireDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BlockStop {
    index: usize,
}

#[derive(Deserialize)]
struct MessageDelta<'a> {
    #[serde(borrow)]
    delta: StopDelta<'a>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StopDelta<'a> {
    #[serde(borrow, default)]
    stop_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ErrorEvent<'a> {
    #[serde(borrow)]
    error: WireError<'a>,
}

#[derive(Deserialize)]
struct WireError<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

#[derive(Debug, Clone)]
enum Block {
    Text,
    Thinking,
    Tool {
        slot: usize,
        got_delta: bool,
        initial_input: Option<String>,
    },
    Other,
}

/// Maps Anthropic's stream events to [`StreamEvent`]s. Public so benchmarks and custom transports can use it.
///
/// Tool-use blocks are numbered 0, 1, ... in order of appearance, whatever their content-block index.
#[derive(Debug, Default)]
pub struct StreamParser {
    blocks: Vec<Block>,
    next_slot: usize,
    stop_reason: Option<String>,
    done: bool,
}

/// Maps an Anthropic error type to a kind.
pub(crate) fn error_kind(kind: &str) -> ProviderErrorKind {
    match kind {
        "overloaded_error" => ProviderErrorKind::Overloaded,
        "rate_limit_error" => ProviderErrorKind::RateLimited,
        "api_error" => ProviderErrorKind::Server,
        "authentication_error" | "permission_error" => ProviderErrorKind::Authentication,
        "invalid_request_error" | "not_found_error" | "request_too_large" => {
            ProviderErrorKind::InvalidRequest
        }
        "timeout_error" => ProviderErrorKind::Timeout,
        _ => ProviderErrorKind::Other,
    }
}

impl StreamParser {
    /// A parser at the start of a message.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn malformed(out: &mut Vec<StreamEvent>, what: &str, e: &serde_json::Error) {
        out.push(StreamEvent::Error(ProviderError::new(
            "anthropic",
            ProviderErrorKind::MalformedResponse,
            format!("malformed {what} event: {e}"),
        )));
    }

    fn block_mut(&mut self, index: usize) -> Option<&mut Block> {
        self.blocks.get_mut(index)
    }
}

impl WireParser for StreamParser {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let data = event.data.as_str();
        let kind: Cow<'_, str> = if event.event.is_empty() {
            match serde_json::from_str::<TypeOnly<'_>>(data) {
                Ok(t) => t.kind,
                Err(e) => return Self::malformed(out, "untyped", &e),
            }
        } else {
            Cow::Borrowed(event.event.as_str())
        };
        match kind.as_ref() {
            "message_start" => match serde_json::from_str::<MessageStart<'_>>(data) {
                Ok(m) => {
                    out.push(StreamEvent::MessageStart {
                        id: m.message.id.map(Cow::into_owned),
                        model: m.message.model.map(Cow::into_owned),
                    });
                    if let Some(u) = m.message.usage {
                        out.push(StreamEvent::Usage(u.usage()));
                    }
                }
                Err(e) => Self::malformed(out, "message_start", &e),
            },
            "content_block_start" => match serde_json::from_str::<BlockStart<'_>>(data) {
                Ok(b) => {
                    let block = match b.content_block.kind.as_ref() {
                        "text" => {
                            if let Some(text) = b.content_block.text.filter(|t| !t.is_empty()) {
                                out.push(StreamEvent::TextDelta {
                                    text: text.into_owned(),
                                });
                            }
                            Block::Text
                        }
                        "thinking" => {
                            if let Some(text) = b.content_block.thinking.filter(|t| !t.is_empty()) {
                                out.push(StreamEvent::ReasoningDelta {
                                    text: text.into_owned(),
                                    signature: None,
                                });
                            }
                            Block::Thinking
                        }
                        "tool_use" => {
                            let slot = self.next_slot;
                            self.next_slot += 1;
                            out.push(StreamEvent::ToolCallStart {
                                index: slot,
                                id: b.content_block.id.map(Cow::into_owned).unwrap_or_default(),
                                name: b.content_block.name.map(Cow::into_owned).unwrap_or_default(),
                            });
                            // Usually `{}` with the arguments streamed after; keep a non-empty one in case none
                            // are streamed.
                            let initial_input = b
                                .content_block
                                .input
                                .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
                                .and_then(|v| serde_json::to_string(&v).ok());
                            Block::Tool {
                                slot,
                                got_delta: false,
                                initial_input,
                            }
                        }
                        _ => Block::Other,
                    };
                    if self.blocks.len() <= b.index {
                        self.blocks.resize(b.index + 1, Block::Other);
                    }
                    self.blocks[b.index] = block;
                }
                Err(e) => Self::malformed(out, "content_block_start", &e),
            },
            "content_block_delta" => match serde_json::from_str::<BlockDelta<'_>>(data) {
                Ok(d) => match d.delta.kind.as_ref() {
                    "text_delta" => {
                        if let Some(text) = d.delta.text {
                            out.push(StreamEvent::TextDelta {
                                text: text.into_owned(),
                            });
                        }
                    }
                    "input_json_delta" => {
                        let piece = d.delta.partial_json.unwrap_or_default();
                        match self.block_mut(d.index) {
                            Some(Block::Tool { slot, got_delta, .. }) => {
                                if !piece.is_empty() {
                                    *got_delta = true;
                                    out.push(StreamEvent::ToolCallArgsDelta {
                                        index: *slot,
                                        delta: piece.into_owned(),
                                    });
                                }
                            }
                            _ => out.push(StreamEvent::Error(ProviderError::new(
                                "anthropic",
                                ProviderErrorKind::MalformedResponse,
                                format!(
                                    "input_json_delta for block {} which is not a tool_use block",
                                    d.index
                                ),
                            ))),
                        }
                    }
                    "thinking_delta" => {
                        if let Some(text) = d.delta.thinking {
                            out.push(StreamEvent::ReasoningDelta {
                                text: text.into_owned(),
                                signature: None,
                            });
                        }
                    }
                    "signature_delta" => {
                        if let Some(signature) = d.delta.signature {
                            out.push(StreamEvent::ReasoningDelta {
                                text: String::new(),
                                signature: Some(signature.into_owned()),
                            });
                        }
                    }
                    // citations_delta and future delta kinds carry nothing the runtime models yet.
                    _ => {}
                },
                Err(e) => Self::malformed(out, "content_block_delta", &e),
            },
            "content_block_stop" => match serde_json::from_str::<BlockStop>(data) {
                Ok(s) => {
                    if let Some(Block::Tool {
                        slot,
                        got_delta,
                        initial_input,
                    }) = self.block_mut(s.index)
                    {
                        let slot = *slot;
                        if !*got_delta && let Some(input) = initial_input.take() {
                            out.push(StreamEvent::ToolCallArgsDelta {
                                index: slot,
                                delta: input,
                            });
                        }
                        out.push(StreamEvent::ToolCallEnd { index: slot });
                    }
                }
                Err(e) => Self::malformed(out, "content_block_stop", &e),
            },
            "message_delta" => match serde_json::from_str::<MessageDelta<'_>>(data) {
                Ok(m) => {
                    if let Some(reason) = m.delta.stop_reason {
                        self.stop_reason = Some(reason.into_owned());
                    }
                    if let Some(u) = m.usage {
                        out.push(StreamEvent::Usage(u.usage()));
                    }
                }
                Err(e) => Self::malformed(out, "message_delta", &e),
            },
            "message_stop" => {
                self.done = true;
                let raw = self.stop_reason.take().unwrap_or_default();
                out.push(StreamEvent::Finish(FinishReason::from_raw(&raw)));
            }
            "error" => match serde_json::from_str::<ErrorEvent<'_>>(data) {
                Ok(e) => {
                    self.done = true;
                    let mut error = ProviderError::new(
                        "anthropic",
                        error_kind(&e.error.kind),
                        e.error.message.into_owned(),
                    );
                    error.provider_code = Some(e.error.kind.into_owned());
                    out.push(StreamEvent::Error(error));
                }
                Err(e) => Self::malformed(out, "error", &e),
            },
            // `ping` and event types added after this was written.
            _ => {}
        }
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.done {
            self.done = true;
            out.push(StreamEvent::Error(ProviderError::new(
                "anthropic",
                ProviderErrorKind::StreamTruncated,
                "the stream ended before message_stop",
            )));
        }
    }
}
