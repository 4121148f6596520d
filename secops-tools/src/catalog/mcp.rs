//! The `mcp` kind: a remote MCP server reached over streamable HTTP.
//!
//! Its tools are discovered rather than listed in the catalogue: [`discover`] connects once, when the
//! configuration is created or tested, and the caller stores the definitions it returns. Runs get
//! [`lazy_tools`] built from those definitions, which connect on their first call and reconnect after the
//! server went away, so building a run's tools never waits on the network (it happens inside a database
//! transaction). Only HTTP servers can be configured this way: a stdio server would run a command of the
//! configuring user's choice on the host; embedders who want one use [`crate::mcp`] directly.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use secops_core::tool::{RiskLevel, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::{CatalogError, credentials, settings, tool_name};
use crate::egress::EgressClient;
use crate::mcp::{McpClient, McpOptions, McpServer};
use crate::scrub::Secrets;

/// Settings of an MCP server.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpSettings {
    /// The server's streamable HTTP endpoint, e.g. `https://mcp.example.com/mcp`.
    pub url: String,
    /// Risk per tool (the server's own name), overriding what its annotations claim.
    #[serde(default)]
    pub risk: BTreeMap<String, RiskLevel>,
    /// Seconds each request may take (default 60).
    #[serde(default)]
    #[schemars(range(min = 1, max = 600))]
    pub timeout_secs: Option<u64>,
}

/// Credentials of an MCP server.
#[derive(Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpCredentials {
    /// Sent as `Authorization: Bearer <token>`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// Other headers carrying secrets, e.g. `X-Api-Key`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

pub(super) fn parse(s: &Value, c: Option<&Value>) -> Result<(McpSettings, McpCredentials), CatalogError> {
    let st: McpSettings = settings("mcp", s)?;
    if !(st.url.starts_with("https://") || st.url.starts_with("http://")) {
        return Err(CatalogError::InvalidSettings {
            kind: "mcp".into(),
            reason: "`url` must be an http or https URL (stdio servers cannot be configured here)".into(),
        });
    }
    if st.timeout_secs.is_some_and(|t| !(1..=600).contains(&t)) {
        return Err(CatalogError::InvalidSettings {
            kind: "mcp".into(),
            reason: "`timeout_secs` must be 1 to 600".into(),
        });
    }
    let cr = match c {
        None => McpCredentials::default(),
        Some(_) => credentials("mcp", c)?,
    };
    Ok((st, cr))
}

fn options(config: &str, st: &McpSettings) -> McpOptions {
    let mut o = McpOptions::default()
        .name_prefix(format!("{config}_"))
        .request_timeout(Duration::from_secs(st.timeout_secs.unwrap_or(60)));
    for (tool, risk) in &st.risk {
        o = o.risk(tool.clone(), *risk);
    }
    o
}

fn server(st: &McpSettings, cr: &McpCredentials) -> McpServer {
    let mut http = McpServer::http(st.url.clone());
    if let Some(t) = &cr.bearer_token {
        http = http.bearer(t);
    }
    for (k, v) in &cr.headers {
        http = http.header(k.clone(), v.clone());
    }
    http.into()
}

/// Connects to the server of the configuration `config`, lists its tools (named `config_tool`) and
/// disconnects. The definitions are what the caller stores and later hands to [`lazy_tools`].
pub async fn discover(
    config: &str,
    s: &Value,
    c: Option<&Value>,
    client: &EgressClient,
) -> Result<Vec<ToolDefinition>, CatalogError> {
    super::check_config_name(config)?;
    let (st, cr) = parse(s, c)?;
    let mut secrets = Secrets::new();
    if let Some(c) = c {
        secrets.add_json(c);
    }
    let connected = McpClient::connect(server(&st, &cr), client, options(config, &st))
        .await
        .map_err(|e| CatalogError::Unavailable(secrets.scrub(&e.to_string())))?;
    let defs = connected.tools().iter().map(|t| t.definition().clone()).collect();
    connected.close().await;
    Ok(defs)
}

/// One connection per configuration, made on first use and shared by its tools.
struct Connection {
    server: McpServer,
    egress: EgressClient,
    options: McpOptions,
    live: Mutex<Option<McpClient>>,
}

impl Connection {
    /// The live client's tool called `name`, connecting first when there is no live client.
    async fn tool(&self, name: &str) -> Result<Arc<dyn Tool>, ToolError> {
        let mut live = self.live.lock().await;
        if live.is_none() {
            let client = McpClient::connect(self.server.clone(), &self.egress, self.options.clone())
                .await
                .map_err(|e| ToolError::Unavailable(e.to_string()))?;
            *live = Some(client);
        }
        live.as_ref()
            .and_then(|c| c.tools().into_iter().find(|t| t.definition().name == name))
            .ok_or_else(|| {
                ToolError::Unavailable(format!(
                    "the MCP server no longer offers `{name}`; test the tool configuration to refresh its tools"
                ))
            })
    }

    /// Forgets the live client after a transport failure, so the next call connects again.
    async fn reset(&self) {
        if let Some(client) = self.live.lock().await.take() {
            client.close().await;
        }
    }
}

/// A discovered tool, called through the shared connection.
struct LazyMcpTool {
    definition: ToolDefinition,
    connection: Arc<Connection>,
    secrets: Secrets,
}

#[async_trait::async_trait]
impl Tool for LazyMcpTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn call(&self, ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let scrub = |e: ToolError| match e {
            ToolError::InvalidInput(m) => ToolError::InvalidInput(self.secrets.scrub(&m)),
            ToolError::Failed(m) => ToolError::Failed(self.secrets.scrub(&m)),
            ToolError::Unavailable(m) => ToolError::Unavailable(self.secrets.scrub(&m)),
        };
        let tool = self.connection.tool(&self.definition.name).await.map_err(scrub)?;
        match tool.call(ctx, input).await {
            Ok(out) => Ok(ToolOutput::text(self.secrets.scrub(&out.content))),
            Err(e @ ToolError::Unavailable(_)) => {
                self.connection.reset().await;
                Err(scrub(e))
            }
            Err(e) => Err(scrub(e)),
        }
    }
}

/// The tools of the configuration `config` from its stored `discovered` definitions; none connects until it
/// is called.
pub fn lazy_tools(
    config: &str,
    s: &Value,
    c: Option<&Value>,
    client: &EgressClient,
    discovered: &[ToolDefinition],
) -> Result<Vec<Arc<dyn Tool>>, CatalogError> {
    super::check_config_name(config)?;
    let (st, cr) = parse(s, c)?;
    let mut secrets = Secrets::new();
    if let Some(c) = c {
        secrets.add_json(c);
    }
    let connection = Arc::new(Connection {
        server: server(&st, &cr),
        egress: client.clone(),
        options: options(config, &st),
        live: Mutex::new(None),
    });
    let prefix = tool_name(config, "");
    Ok(discovered
        .iter()
        .filter(|d| d.name.starts_with(&prefix))
        .map(|d| {
            let mut definition = d.clone();
            // Whatever was stored, what comes from the server is outside data, and the operator's risk
            // settings of today apply, not those of the day the tools were discovered.
            definition.untrusted_output = true;
            if let Some(risk) = st.risk.get(&definition.name[prefix.len()..]) {
                definition.risk = *risk;
            }
            Arc::new(LazyMcpTool {
                definition,
                connection: Arc::clone(&connection),
                secrets: secrets.clone(),
            }) as Arc<dyn Tool>
        })
        .collect())
}
