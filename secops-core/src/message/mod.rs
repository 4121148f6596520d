//! The conversation an agent has with a model: roles, content blocks and transcripts.
//!
//! Content is a list of blocks so that one message can carry text, tool calls, tool results, attachments and
//! reasoning side by side, the way Anthropic and OpenAI both model it. A tool result always names the
//! `tool_use_id` of the call it answers; [`Conversation::orphans`] checks that pairing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who wrote a message. The system prompt is not a message; it travels in
/// [`ModelRequest::system`](crate::model::ModelRequest::system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person (or system acting for them), and tool results.
    User,
    /// The model.
    Assistant,
}

/// One model-requested tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToolCall {
    /// The provider's id for the call; tool results refer to it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON. When a provider streams arguments that do not parse, the raw text is kept as a
    /// JSON string so the registry can answer with a clear error instead of losing it.
    pub input: Value,
}

/// A file the user attached, referenced rather than inlined so transcripts stay small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Where the bytes are: an attachment id, `file://`, `s3://` or `https://` URL.
    pub uri: String,
    /// MIME type, e.g. `image/png` or `application/pdf`.
    pub media_type: String,
    /// A name to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// The model asks for a tool call.
    ToolUse(ToolCall),
    /// The answer to a tool call.
    ToolResult {
        /// The id of the [`ToolCall`] this answers.
        tool_use_id: String,
        /// What the tool returned (or why it did not run), as text for the model.
        content: String,
        /// Whether the call failed, was refused or did not run.
        is_error: bool,
    },
    /// A referenced attachment.
    Attachment(AttachmentRef),
    /// Model reasoning ("thinking"), passed back unchanged on later turns when the provider needs it.
    Reasoning {
        /// The reasoning text (may be empty when the provider redacts it).
        text: String,
        /// The provider's integrity signature, when it sends one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text { text: text.into() }
    }

    /// A tool-result block.
    pub fn tool_result(tool_use_id: impl Into<String>, content: impl Into<String>, is_error: bool) -> Self {
        ContentBlock::ToolResult {
            tool_use_id: tool_use_id.into(),
            content: content.into(),
            is_error,
        }
    }

    /// A rough token count: about four bytes per token, which is close enough for window decisions and cheap.
    #[must_use]
    pub fn estimated_tokens(&self) -> usize {
        let bytes = match self {
            ContentBlock::Text { text } | ContentBlock::Reasoning { text, .. } => text.len(),
            ContentBlock::ToolUse(call) => call.name.len() + estimate_json_len(&call.input),
            ContentBlock::ToolResult { content, .. } => content.len(),
            ContentBlock::Attachment(_) => 4 * 256,
        };
        bytes.div_ceil(4) + 3
    }
}

fn estimate_json_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 6,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => items.iter().map(estimate_json_len).sum::<usize>() + 2,
        Value::Object(map) => {
            map.iter()
                .map(|(k, v)| k.len() + 3 + estimate_json_len(v))
                .sum::<usize>()
                + 2
        }
    }
}

/// The text blocks of `blocks` joined, without reasoning.
#[must_use]
pub fn joined_text(blocks: &[ContentBlock]) -> String {
    let mut out = String::new();
    for block in blocks {
        if let ContentBlock::Text { text } = block {
            out.push_str(text);
        }
    }
    out
}

/// The tool calls among `blocks`, in order.
pub fn tool_calls_in(blocks: &[ContentBlock]) -> impl Iterator<Item = &ToolCall> {
    blocks.iter().filter_map(|b| match b {
        ContentBlock::ToolUse(call) => Some(call),
        _ => None,
    })
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says, in order.
    pub content: Vec<ContentBlock>,
}

impl Message {
    /// A user message with one text block.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: vec![ContentBlock::text(text)],
        }
    }

    /// An assistant message with one text block.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: vec![ContentBlock::text(text)],
        }
    }

    /// All text blocks joined, without reasoning.
    #[must_use]
    pub fn text(&self) -> String {
        joined_text(&self.content)
    }

    /// The tool calls this message makes, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        tool_calls_in(&self.content)
    }

    /// The ids of the tool calls this message answers.
    pub fn tool_result_ids(&self) -> impl Iterator<Item = &str> {
        self.content.iter().filter_map(|b| match b {
            ContentBlock::ToolResult { tool_use_id, .. } => Some(tool_use_id.as_str()),
            _ => None,
        })
    }

    /// Whether this message answers tool calls (and so must directly follow them).
    #[must_use]
    pub fn has_tool_results(&self) -> bool {
        self.tool_result_ids().next().is_some()
    }

    /// A rough token count of the whole message.
    #[must_use]
    pub fn estimated_tokens(&self) -> usize {
        4 + self
            .content
            .iter()
            .map(ContentBlock::estimated_tokens)
            .sum::<usize>()
    }
}

/// A pairing problem between tool calls and tool results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Orphan {
    /// A tool result whose call is not in the transcript before it.
    ResultWithoutCall {
        /// The dangling id.
        tool_use_id: String,
    },
    /// A tool call that no later message answers.
    CallWithoutResult {
        /// The unanswered id.
        tool_use_id: String,
    },
}

/// An ordered transcript of messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Conversation {
    messages: Vec<Message>,
}

impl Conversation {
    /// An empty conversation.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a message.
    pub fn push(&mut self, message: Message) {
        self.messages.push(message);
    }

    /// The messages, oldest first.
    #[must_use]
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Mutable access to the messages (used to rewrite an approved call's edited arguments).
    pub fn messages_mut(&mut self) -> &mut [Message] {
        &mut self.messages
    }

    /// Number of messages.
    #[must_use]
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether there are no messages.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The last message, if any.
    #[must_use]
    pub fn last(&self) -> Option<&Message> {
        self.messages.last()
    }

    /// Pairing problems in `messages`: results without an earlier call, and calls never answered.
    ///
    /// A well-formed transcript, and every window a [`memory`](crate::memory) strategy selects, has none.
    #[must_use]
    pub fn orphans(messages: &[Message]) -> Vec<Orphan> {
        let mut open: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for message in messages {
            for block in &message.content {
                match block {
                    ContentBlock::ToolUse(call) => open.push(&call.id),
                    ContentBlock::ToolResult { tool_use_id, .. } => {
                        if let Some(pos) = open.iter().position(|id| *id == tool_use_id) {
                            open.swap_remove(pos);
                        } else {
                            out.push(Orphan::ResultWithoutCall {
                                tool_use_id: tool_use_id.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        out.extend(open.into_iter().map(|id| Orphan::CallWithoutResult {
            tool_use_id: id.to_owned(),
        }));
        out
    }
}

impl From<Vec<Message>> for Conversation {
    fn from(messages: Vec<Message>) -> Self {
        Self { messages }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_blocks_serialise_with_a_type_tag() {
        let block = ContentBlock::ToolUse(ToolCall {
            id: "c1".into(),
            name: "lookup".into(),
            input: json!({"ip": "1.2.3.4"}),
        });
        assert_eq!(
            serde_json::to_value(&block).unwrap(),
            json!({"type": "tool_use", "id": "c1", "name": "lookup", "input": {"ip": "1.2.3.4"}})
        );
        let back: ContentBlock = serde_json::from_value(serde_json::to_value(&block).unwrap()).unwrap();
        assert_eq!(back, block);
    }

    #[test]
    fn orphans_are_found_both_ways() {
        let call = ToolCall {
            id: "a".into(),
            name: "t".into(),
            input: json!({}),
        };
        let msgs = vec![
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolUse(call)],
            },
            Message {
                role: Role::User,
                content: vec![ContentBlock::tool_result("b", "x", false)],
            },
        ];
        let orphans = Conversation::orphans(&msgs);
        assert_eq!(
            orphans,
            vec![
                Orphan::ResultWithoutCall {
                    tool_use_id: "b".into()
                },
                Orphan::CallWithoutResult {
                    tool_use_id: "a".into()
                }
            ]
        );
    }
}
