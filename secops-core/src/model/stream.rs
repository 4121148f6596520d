use serde::{Deserialize, Serialize};

use super::{FinishReason, ProviderError, Usage};

/// One normalised event of a streamed model call.
///
/// Tool calls are keyed by `index`: the provider assigns each parallel call a distinct index (providers whose
/// servers omit or repeat indices map them by call id before emitting), and argument deltas for different
/// calls may interleave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The provider accepted the call.
    MessageStart {
        /// The provider's message id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The model that answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// Visible text.
    TextDelta {
        /// The new text.
        text: String,
    },
    /// Reasoning ("thinking") text, or its signature.
    ReasoningDelta {
        /// The new reasoning text (empty for a signature-only delta).
        text: String,
        /// The signature, sent by some providers at the end of a reasoning block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// A tool call begins.
    ToolCallStart {
        /// The call's position among this response's calls.
        index: usize,
        /// The provider's call id.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// A piece of a tool call's JSON arguments.
    ToolCallArgsDelta {
        /// The call's position.
        index: usize,
        /// The next piece of the arguments' JSON text.
        delta: String,
    },
    /// A tool call's arguments are complete.
    ToolCallEnd {
        /// The call's position.
        index: usize,
    },
    /// Token counts so far. Counts are cumulative: the accumulator keeps the largest value seen per field.
    Usage(Usage),
    /// The model stopped.
    Finish(FinishReason),
    /// The call failed; nothing more follows.
    Error(ProviderError),
}
