//! Conversation memory: which part of a long transcript the model sees.
//!
//! The full transcript is always kept (it is the run's record); a [`ConversationMemory`] strategy only moves the
//! start of the window the model sees and may keep a summary of what fell out of it. Windows start at a message
//! that carries no tool results, so a tool result never loses its call, and a call never loses its result.

mod summarising;

use serde::{Deserialize, Serialize};

pub use summarising::Summarising;

use crate::message::Message;
use crate::model::{ProviderError, Usage};

/// What a memory strategy decided so far; part of the serialised run state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryState {
    /// Index of the first transcript message the model sees.
    pub window_start: usize,
    /// A summary of the messages before `window_start`, shown in the system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// A memory strategy failed (the summarising model call, typically).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MemoryError {
    /// The summariser's model call failed.
    #[error("summarising the conversation failed: {0}")]
    Provider(#[from] ProviderError),
}

/// Decides the window of the transcript sent to the model. Shared as `Arc<dyn ConversationMemory>`.
#[async_trait::async_trait]
pub trait ConversationMemory: Send + Sync {
    /// Updates `state` so the window fits. Returns tokens spent doing so (summaries cost a model call).
    /// Called before every model call, when every tool call in `transcript` has its result.
    async fn fit(&self, transcript: &[Message], state: &mut MemoryState) -> Result<Usage, MemoryError>;
}

/// Sends the whole transcript every time. The default; right for short runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct FullTranscript;

#[async_trait::async_trait]
impl ConversationMemory for FullTranscript {
    async fn fit(&self, _transcript: &[Message], _state: &mut MemoryState) -> Result<Usage, MemoryError> {
        Ok(Usage::default())
    }
}

/// Keeps the newest messages that fit in `max_tokens` (estimated), dropping the oldest.
#[derive(Debug, Clone, Copy)]
pub struct TokenWindow {
    /// The token allowance of the window.
    pub max_tokens: usize,
}

#[async_trait::async_trait]
impl ConversationMemory for TokenWindow {
    async fn fit(&self, transcript: &[Message], state: &mut MemoryState) -> Result<Usage, MemoryError> {
        state.window_start = window_start_for(transcript, state.window_start, self.max_tokens);
        Ok(Usage::default())
    }
}

/// Whether a window may start at `index`: the message there answers no tool call.
#[must_use]
pub fn is_window_boundary(transcript: &[Message], index: usize) -> bool {
    transcript.get(index).is_some_and(|m| !m.has_tool_results())
}

/// The earliest boundary at or after `current` whose suffix fits `max_tokens`; when none fits, the latest
/// boundary (the window can never cut a call from its result, even if that means going over).
#[must_use]
pub fn window_start_for(transcript: &[Message], current: usize, max_tokens: usize) -> usize {
    let mut suffix_tokens = 0usize;
    let mut best = None;
    let mut latest_boundary = None;
    for index in (current..transcript.len()).rev() {
        suffix_tokens += transcript[index].estimated_tokens();
        if is_window_boundary(transcript, index) {
            latest_boundary.get_or_insert(index);
            if suffix_tokens <= max_tokens {
                best = Some(index);
            }
        }
    }
    best.or(latest_boundary).unwrap_or(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ContentBlock, Conversation, Role, ToolCall};
    use serde_json::json;

    fn transcript(turns: usize) -> Vec<Message> {
        let mut out = vec![Message::user("investigate host ws-1 please")];
        for i in 0..turns {
            out.push(Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolUse(ToolCall {
                    id: format!("c{i}"),
                    name: "search".into(),
                    input: json!({"q": "x".repeat(40)}),
                })],
            });
            out.push(Message {
                role: Role::User,
                content: vec![ContentBlock::tool_result(format!("c{i}"), "y".repeat(80), false)],
            });
        }
        out.push(Message::assistant("done"));
        out
    }

    #[tokio::test]
    async fn token_window_never_orphans() {
        let t = transcript(30);
        for max in [1, 10, 50, 100, 200, 1000, 100_000] {
            let mut state = MemoryState::default();
            TokenWindow { max_tokens: max }.fit(&t, &mut state).await.unwrap();
            let window = &t[state.window_start..];
            assert!(
                Conversation::orphans(window).is_empty(),
                "max {max} start {}",
                state.window_start
            );
            assert!(!window.is_empty());
        }
        let mut state = MemoryState::default();
        TokenWindow { max_tokens: 100 }.fit(&t, &mut state).await.unwrap();
        assert!(state.window_start > 0, "a small window drops old messages");
    }
}
