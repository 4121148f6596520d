//! Tools an agent can call: the object-safe [`Tool`] trait, the [`TypedTool`] helper for tools whose input is
//! a Rust type, the [`ToolRegistry`] that validates and runs calls, and the [`ApprovalPolicy`] that decides
//! which calls wait for a person.
//!
//! Nothing a tool does aborts a run: unknown tools, invalid input, failures, time-outs and denials all become
//! an error tool result the model can read and react to.

mod approval;
pub(crate) mod registry;
mod typed;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use approval::ApprovalPolicy;
pub(crate) use registry::schema_problems;
pub use registry::{RegistryError, ToolExecution, ToolOptions, ToolOutcome, ToolRegistry};
pub use typed::{Typed, TypedTool};

use crate::tenancy::{OrgId, RunId};

/// How much harm a tool call can do; decides approval.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Reads data (search the SIEM, look up an indicator).
    #[default]
    Low,
    /// Changes something recoverable (comment on a ticket, post to a channel).
    Medium,
    /// Acts on the estate (isolate a host, disable an account, close a ticket).
    High,
}

/// What the model is told about a tool, plus its risk level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Unique name, `[A-Za-z0-9_-]{1,64}` (the providers' common constraint).
    pub name: String,
    /// What the tool does and when to use it; the model reads this.
    pub description: String,
    /// JSON Schema of the input object.
    pub input_schema: Value,
    /// Risk level; not sent to the model.
    #[serde(default)]
    pub risk: RiskLevel,
    /// Whether the output is data from an outside system (a SIEM, a threat-intel service, a web page). Such
    /// output reaches the model inside a `<tool_output trust="untrusted">` envelope naming its source, and the
    /// system prompt tells the model never to follow instructions found there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untrusted_output: bool,
}

impl ToolDefinition {
    /// A low-risk definition.
    pub fn new(name: impl Into<String>, description: impl Into<String>, input_schema: Value) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
            risk: RiskLevel::Low,
            untrusted_output: false,
        }
    }

    /// Sets the risk level.
    #[must_use]
    pub fn with_risk(mut self, risk: RiskLevel) -> Self {
        self.risk = risk;
        self
    }

    /// Marks the output as data from an outside system (see [`untrusted_output`](Self::untrusted_output)).
    #[must_use]
    pub fn with_untrusted_output(mut self) -> Self {
        self.untrusted_output = true;
        self
    }
}

/// Where a tool call runs: which run and organisation, and a token that fires when the call must stop.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// The run making the call.
    pub run_id: RunId,
    /// The organisation the run belongs to, when it has one (SDK users may run agents outside any tenant).
    pub org_id: Option<OrgId>,
    /// The model's id for this call.
    pub call_id: String,
    /// Cancelled when the run is cancelled or the call times out; long-running tools should watch it.
    pub cancellation: CancellationToken,
}

/// What a tool returns to the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolOutput {
    /// The result as text (JSON results are serialised compactly).
    pub content: String,
}

impl ToolOutput {
    /// A text result.
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
        }
    }

    /// A JSON result.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, ToolError> {
        serde_json::to_string(value)
            .map(|content| Self { content })
            .map_err(|e| ToolError::Failed(format!("could not serialise the result: {e}")))
    }
}

/// A tool call failed. The message goes back to the model, so it must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The input passed the schema but is still unusable (e.g. a host that does not exist).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The tool ran and failed.
    #[error("{0}")]
    Failed(String),
    /// The system behind the tool is unreachable or refused us.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// A capability the agent can invoke. Shared as `Arc<dyn Tool>`.
///
/// The registry has validated `input` against [`definition`](Tool::definition)'s schema before `call` runs,
/// and enforces the time-out; implementations need only do the work.
#[async_trait::async_trait]
pub trait Tool: Send + Sync {
    /// Name, description, schema and risk.
    fn definition(&self) -> &ToolDefinition;

    /// Runs the tool.
    async fn call(&self, ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError>;
}
