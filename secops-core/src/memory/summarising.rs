use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use super::{ConversationMemory, MemoryError, MemoryState, is_window_boundary};
use crate::message::{ContentBlock, Message, Role};
use crate::model::{ModelProvider, ModelRequest, ToolChoice, Usage};

const SUMMARY_INSTRUCTIONS: &str = "You compress conversations between a security analyst and an AI agent. \
Write a factual summary that keeps every indicator (hosts, IPs, hashes, users, ticket ids), every finding, every \
action taken and every open question. Plain text, no preamble.";

/// When the window grows past `trigger_tokens`, summarises the older part with a model and keeps only the
/// newest `keep_tokens` verbatim. The summary accumulates: each compaction folds the previous one in.
#[derive(Clone)]
pub struct Summarising {
    provider: Arc<dyn ModelProvider>,
    trigger_tokens: usize,
    keep_tokens: usize,
    max_item_chars: usize,
}

impl std::fmt::Debug for Summarising {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summarising")
            .field("provider", &self.provider.name())
            .field("trigger_tokens", &self.trigger_tokens)
            .field("keep_tokens", &self.keep_tokens)
            .finish()
    }
}

impl Summarising {
    /// Summarise with `provider` once the window exceeds `trigger_tokens`, keeping `keep_tokens` verbatim.
    pub fn new(provider: Arc<dyn ModelProvider>, trigger_tokens: usize, keep_tokens: usize) -> Self {
        Self {
            provider,
            trigger_tokens,
            keep_tokens: keep_tokens.min(trigger_tokens),
            max_item_chars: 2_000,
        }
    }

    fn render(&self, previous: Option<&str>, messages: &[Message]) -> String {
        let mut out = String::new();
        if let Some(previous) = previous {
            let _ = writeln!(out, "Summary so far:\n{previous}\n\nNew messages:");
        }
        for message in messages {
            let who = match message.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            for block in &message.content {
                let line = match block {
                    ContentBlock::Text { text } => format!("{who}: {}", clip(text, self.max_item_chars)),
                    ContentBlock::ToolUse(call) => format!(
                        "{who} called {}({})",
                        call.name,
                        clip(&call.input.to_string(), self.max_item_chars)
                    ),
                    ContentBlock::ToolResult {
                        content, is_error, ..
                    } => {
                        format!(
                            "tool {}: {}",
                            if *is_error { "error" } else { "result" },
                            clip(content, self.max_item_chars)
                        )
                    }
                    ContentBlock::Attachment(a) => format!("{who} attached {} ({})", a.uri, a.media_type),
                    ContentBlock::Reasoning { .. } => continue,
                };
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

fn clip(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

#[async_trait::async_trait]
impl ConversationMemory for Summarising {
    async fn fit(&self, transcript: &[Message], state: &mut MemoryState) -> Result<Usage, MemoryError> {
        let window = transcript.get(state.window_start..).unwrap_or_default();
        let window_tokens: usize = window.iter().map(Message::estimated_tokens).sum();
        if window_tokens <= self.trigger_tokens {
            return Ok(Usage::default());
        }
        let new_start = super::window_start_for(transcript, state.window_start, self.keep_tokens);
        if new_start <= state.window_start || !is_window_boundary(transcript, new_start) {
            return Ok(Usage::default());
        }
        let dropped = &transcript[state.window_start..new_start];
        let prompt = [Message::user(self.render(state.summary.as_deref(), dropped))];
        let mut request = ModelRequest::new(&prompt).with_system(SUMMARY_INSTRUCTIONS);
        request.tool_choice = ToolChoice::None;
        let response = self.provider.complete(&request).await?;
        state.summary = Some(response.text());
        state.window_start = new_start;
        Ok(response.usage)
    }
}
