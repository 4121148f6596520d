use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FinishReason, Usage};
use crate::message::{ContentBlock, Message, ToolCall};
use crate::tool::ToolDefinition;

/// How the model may use tools on this call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// A call to this tool.
    Tool(String),
}

/// The shape the answer must have.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    #[default]
    Text,
    /// JSON matching a schema (structured output). Providers never send this on a call that offers tools.
    JsonSchema {
        /// A name for the schema (OpenAI requires one).
        name: String,
        /// The JSON Schema.
        schema: Value,
        /// Ask the provider to enforce the schema strictly, where supported.
        strict: bool,
    },
}

/// What a provider and model can do; the executor adapts to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCapabilities {
    /// The model id, e.g. `claude-sonnet-4-5`.
    pub model: String,
    /// Streams events incrementally (otherwise the stream yields everything at the end).
    pub streaming: bool,
    /// Accepts tool definitions.
    pub tools: bool,
    /// May request several tool calls in one turn.
    pub parallel_tool_calls: bool,
    /// Honours [`ResponseFormat::JsonSchema`].
    pub structured_output: bool,
    /// Produces reasoning blocks.
    pub reasoning: bool,
    /// Accepts image attachments.
    pub images: bool,
    /// Context window in tokens, when known.
    pub context_window: Option<u32>,
    /// Maximum output tokens per call, when known.
    pub max_output_tokens: Option<u32>,
    /// Prices of the model, when known; the executor uses them for cost accounting unless the agent
    /// configuration sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<super::ModelPricing>,
}

impl ModelCapabilities {
    /// A model that supports tools, parallel calls and structured output; the usual starting point.
    pub fn tool_capable(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            streaming: true,
            tools: true,
            parallel_tool_calls: true,
            structured_output: true,
            reasoning: false,
            images: false,
            context_window: None,
            max_output_tokens: None,
            pricing: None,
        }
    }
}

/// One call to a model. Borrows the transcript and tool list so building a request is O(1) in their size.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelRequest<'a> {
    /// The system prompt (instructions, retrieved context, memory summary).
    pub system: Cow<'a, str>,
    /// The conversation the model sees, oldest first. Starts with a user message.
    pub messages: Cow<'a, [Message]>,
    /// Tools the model may call.
    pub tools: Cow<'a, [ToolDefinition]>,
    /// How tools may be used.
    pub tool_choice: ToolChoice,
    /// Whether several tool calls may come in one turn.
    pub parallel_tool_calls: bool,
    /// The answer's required shape.
    pub response_format: ResponseFormat,
    /// Output token limit.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Stop sequences.
    pub stop_sequences: Cow<'a, [String]>,
    /// Overrides the provider's default model.
    pub model: Option<Cow<'a, str>>,
}

impl<'a> ModelRequest<'a> {
    /// A request for `messages` with defaults for everything else.
    #[must_use]
    pub fn new(messages: &'a [Message]) -> Self {
        Self {
            messages: Cow::Borrowed(messages),
            parallel_tool_calls: true,
            ..Self::default()
        }
    }

    /// Sets the system prompt.
    #[must_use]
    pub fn with_system(mut self, system: impl Into<Cow<'a, str>>) -> Self {
        self.system = system.into();
        self
    }

    /// Sets the tools.
    #[must_use]
    pub fn with_tools(mut self, tools: &'a [ToolDefinition]) -> Self {
        self.tools = Cow::Borrowed(tools);
        self
    }
}

/// A completed model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResponse {
    /// The provider's message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Reasoning, text and tool calls, in that order.
    pub content: Vec<ContentBlock>,
    /// Tokens used by this call.
    pub usage: Usage,
    /// Why the model stopped, reconciled with the content.
    pub finish: FinishReason,
    /// The provider's raw response, when the provider keeps it (escape hatch for fields we do not model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Value>,
}

impl ModelResponse {
    /// All visible text joined.
    #[must_use]
    pub fn text(&self) -> String {
        crate::message::joined_text(&self.content)
    }

    /// The tool calls, in index order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        crate::message::tool_calls_in(&self.content)
    }

    /// This response as an assistant message for the transcript.
    #[must_use]
    pub fn into_message(self) -> Message {
        Message {
            role: crate::message::Role::Assistant,
            content: self.content,
        }
    }
}
