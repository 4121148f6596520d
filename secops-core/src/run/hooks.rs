use serde_json::Value;

use crate::message::ToolCall;
use crate::model::{ModelRequest, ModelResponse};
use crate::tenancy::{OrgId, RunId};
use crate::tool::ToolExecution;

/// Which run a hook is called for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookContext {
    /// The run.
    pub run_id: RunId,
    /// Its organisation.
    pub org_id: Option<OrgId>,
}

/// A hook's verdict on a model call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelCallDecision {
    /// Go ahead (possibly with the request changed in place).
    Allow,
    /// Do not call the model; the run ends with stop reason `hook_denied`.
    Deny {
        /// Why; recorded in the run's output.
        reason: String,
    },
}

/// A hook's verdict on a tool call.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolCallDecision {
    /// Run it as asked.
    Allow,
    /// Do not run it; the model gets an error result with the reason.
    Deny {
        /// Why; the model reads this.
        reason: String,
    },
    /// Run it with these arguments instead (they are validated again, and the transcript shows them).
    Rewrite {
        /// The new arguments.
        input: Value,
    },
}

/// Policy and observation points around model and tool calls: guardrails, redaction, metrics. All methods have
/// permissive defaults, so a hook implements only what it needs. Hooks run in the order they were added.
#[async_trait::async_trait]
pub trait RunHooks: Send + Sync {
    /// Before each model call; may change the request.
    async fn before_model_call(
        &self,
        _ctx: HookContext,
        _request: &mut ModelRequest<'_>,
    ) -> ModelCallDecision {
        ModelCallDecision::Allow
    }

    /// After each successful model call.
    async fn after_model_call(&self, _ctx: HookContext, _response: &ModelResponse) {}

    /// Before each tool call that is about to run (after approval).
    async fn before_tool_call(&self, _ctx: HookContext, _call: &ToolCall) -> ToolCallDecision {
        ToolCallDecision::Allow
    }

    /// After each tool call; may change the result the model sees (e.g. to redact it).
    async fn after_tool_call(&self, _ctx: HookContext, _call: &ToolCall, _result: &mut ToolExecution) {}
}
