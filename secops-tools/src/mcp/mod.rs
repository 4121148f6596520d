//! An MCP (Model Context Protocol) client: the tools an MCP server offers become secops [`Tool`]s.
//!
//! Connect to a server started as a child process speaking over its standard input and output
//! ([`McpServer::stdio`]) or to one reached over streamable HTTP ([`McpServer::http`]), then register
//! [`McpClient::tools`] in a [`ToolRegistry`], which validates every call's input against the schema the server
//! published before the call reaches the server.
//!
//! What the client guarantees:
//! - **Egress.** The HTTP transport goes through the egress guard: the URL is checked by the
//!   [`EgressPolicy`](crate::egress::EgressPolicy) (scheme, IP literal), host names are resolved by the checked
//!   resolver, redirects are checked, proxies from the environment are ignored, connections time out. A stdio
//!   server is a local process the operator chose to run; it is not an outbound call.
//! - **Untrusted output.** Everything an MCP tool returns is outside data and is marked so
//!   ([`ToolDefinition::untrusted_output`]). The tool descriptions and schemas come from the server too.
//! - **Risk.** A tool annotated `readOnlyHint: true` is [`RiskLevel::Low`], one annotated
//!   `destructiveHint: true` is [`RiskLevel::High`] (also when it claims both: the safer reading), anything
//!   else [`RiskLevel::Medium`]. Annotations are hints from the server, so [`McpOptions::risk_overrides`] lets
//!   the operator decide per tool.
//! - **Time-outs.** Every request (the handshake, each page of `tools/list`, each `tools/call`) has its own
//!   time-out, [`McpOptions::request_timeout`]. A call whose [`ToolContext::cancellation`] fires is abandoned
//!   and the server is told (`notifications/cancelled`).
//! - **Changes.** When the server sends `notifications/tools/list_changed` the tools are listed again, so
//!   [`McpClient::tools`] (and [`McpClient::subscribe`]) reflect the change.
//! - **Server exit.** When the server process exits or the HTTP server goes away, calls fail with
//!   [`ToolError::Unavailable`] saying the server is gone.
//! - **Secrets.** Header values and environment values never appear in `Debug` output or in errors.
//! - **Child processes.** A stdio server gets only a few harmless variables of our environment (`PATH`,
//!   `HOME`, ...) plus those configured, runs in its own process group, and is killed with that group when
//!   the client is closed or dropped.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use secops_core::tool::ToolRegistry;
//! use secops_tools::egress::{EgressClient, EgressConfig, EgressPolicy};
//! use secops_tools::mcp::{McpClient, McpOptions, McpServer};
//!
//! let egress = EgressClient::new(EgressPolicy::public_only(), EgressConfig::default())?;
//! let server = McpServer::http("https://mcp.example.com/mcp").bearer("token from the vault");
//! let client = McpClient::connect(server, &egress, McpOptions::default().name_prefix("intel_")).await?;
//! let mut registry = ToolRegistry::new();
//! for tool in client.tools() {
//!     registry.register(tool)?;
//! }
//! // ... run agents with the registry ...
//! client.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`Tool`]: secops_core::tool::Tool
//! [`ToolRegistry`]: secops_core::tool::ToolRegistry
//! [`ToolDefinition::untrusted_output`]: secops_core::tool::ToolDefinition::untrusted_output
//! [`RiskLevel::Low`]: secops_core::tool::RiskLevel::Low
//! [`RiskLevel::Medium`]: secops_core::tool::RiskLevel::Medium
//! [`RiskLevel::High`]: secops_core::tool::RiskLevel::High
//! [`ToolContext::cancellation`]: secops_core::tool::ToolContext::cancellation
//! [`ToolError::Unavailable`]: secops_core::tool::ToolError::Unavailable

mod client;
mod server;
mod tool;

use std::time::Duration;

pub use client::{McpClient, McpOptions, SkippedTool};
pub use server::{HttpServer, McpServer, StdioServer};

use crate::egress::EgressError;

/// Connecting to an MCP server or listing its tools failed. Never contains header or environment values.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// An option is unusable (e.g. a name prefix with characters tool names may not have).
    #[error("invalid MCP client option: {0}")]
    InvalidOption(String),
    /// A configured header has an unusable name or value (the value is not shown).
    #[error("the header `{name}` cannot be sent to the MCP server: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The egress guard refused the URL (scheme, a forbidden address) or could not resolve its host.
    #[error("the MCP server cannot be reached: {0}")]
    Egress(EgressError),
    /// The stdio server's command could not be started.
    #[error("could not start the MCP server `{command}`: {reason}")]
    Spawn {
        /// The command.
        command: String,
        /// What the operating system said.
        reason: String,
    },
    /// The HTTP server refused the configured credentials (HTTP 401 or 403).
    #[error(
        "the MCP server `{server}` refused the configured credentials (HTTP 401/403); check the headers it is given"
    )]
    Unauthorized {
        /// The server (URL without credentials or query).
        server: String,
    },
    /// A request got no answer in time.
    #[error("the MCP server `{server}` did not answer {request} within {after:?}")]
    Timeout {
        /// The server.
        server: String,
        /// The request (`initialize`, `tools/list`).
        request: &'static str,
        /// The time-out.
        after: Duration,
    },
    /// The `initialize` handshake failed (the server answered something unusable, or the connection failed).
    #[error("the MCP handshake with `{server}` failed: {reason}")]
    Handshake {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
    /// `tools/list` failed.
    #[error("listing the tools of the MCP server `{server}` failed: {reason}")]
    List {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
    /// The server process exited, or the HTTP server went away.
    #[error("the MCP server `{server}` is gone: {reason}")]
    Gone {
        /// The server.
        server: String,
        /// What was seen.
        reason: String,
    },
}
