use std::future::Future;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{RiskLevel, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput};

/// A tool whose input and output are Rust types. The JSON Schema comes from the input type's
/// `schemars::JsonSchema` derive, so the schema the model sees and the type the code gets cannot drift.
///
/// Wrap it in [`Typed`] to get a [`Tool`]:
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use secops_core::tool::{ToolContext, ToolError, Typed, TypedTool};
///
/// /// Looks up a host in the asset inventory.
/// struct HostLookup;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct HostQuery {
///     /// Hostname or IP address.
///     host: String,
/// }
///
/// impl TypedTool for HostLookup {
///     type Input = HostQuery;
///     type Output = serde_json::Value;
///     fn name(&self) -> &str { "host_lookup" }
///     fn description(&self) -> &str { "Find the owner and OS of a host." }
///     async fn run(&self, _ctx: &ToolContext, q: HostQuery) -> Result<Self::Output, ToolError> {
///         Ok(serde_json::json!({ "host": q.host, "owner": "it-ops" }))
///     }
/// }
///
/// let tool = Typed::new(HostLookup);
/// assert_eq!(tool.definition().input_schema["required"][0], "host");
/// # use secops_core::tool::Tool;
/// ```
pub trait TypedTool: Send + Sync + 'static {
    /// The input; its schema is what the model must follow.
    type Input: DeserializeOwned + JsonSchema + Send;
    /// The output; serialised to JSON for the model.
    type Output: Serialize + Send;

    /// Unique tool name.
    fn name(&self) -> &str;
    /// What the tool does, for the model.
    fn description(&self) -> &str;
    /// Risk level; low by default.
    fn risk(&self) -> RiskLevel {
        RiskLevel::Low
    }
    /// Whether the output is data from an outside system, to be handed to the model as untrusted; false by
    /// default (see [`ToolDefinition::untrusted_output`]).
    fn untrusted_output(&self) -> bool {
        false
    }
    /// Does the work.
    fn run(
        &self,
        ctx: &ToolContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, ToolError>> + Send;
}

/// Adapts a [`TypedTool`] to the object-safe [`Tool`] trait.
#[derive(Debug)]
pub struct Typed<T> {
    tool: T,
    definition: ToolDefinition,
}

impl<T: TypedTool> Typed<T> {
    /// Wraps `tool`, generating its schema once.
    pub fn new(tool: T) -> Self {
        let mut schema = schemars::schema_for!(T::Input).to_value();
        if let Value::Object(map) = &mut schema {
            // Providers reject or ignore these top-level keys; the name and description say the same.
            map.remove("$schema");
            map.remove("title");
        }
        let definition = ToolDefinition {
            name: tool.name().to_owned(),
            description: tool.description().to_owned(),
            input_schema: schema,
            risk: tool.risk(),
            untrusted_output: tool.untrusted_output(),
        };
        Self { tool, definition }
    }

    /// The wrapped tool.
    pub fn inner(&self) -> &T {
        &self.tool
    }
}

#[async_trait::async_trait]
impl<T: TypedTool> Tool for Typed<T> {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn call(&self, ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let input: T::Input =
            serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
        let output = self.tool.run(ctx, input).await?;
        match serde_json::to_value(&output) {
            Ok(Value::String(s)) => Ok(ToolOutput::text(s)),
            Ok(v) => ToolOutput::json(&v),
            Err(e) => Err(ToolError::Failed(format!("could not serialise the result: {e}"))),
        }
    }
}
