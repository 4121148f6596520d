//! # secops-tools
//!
//! Tools for secops agents that act on the world (SIEM searches, EDR actions, tickets, threat intelligence), and
//! the egress guard every outbound call they make goes through ([`egress`]). [`http`] is the generic HTTP tool,
//! declared as data; vendor integrations have a folder each ([`splunk`], [`jira`], [`slack`], [`edr`],
//! [`intel`]). [`mcp`] is a Model Context Protocol client: the tools of an MCP server, reached over stdio or over
//! streamable HTTP through the egress guard, become tools like the others. [`catalog`] lists the kinds an
//! organisation can configure as data and builds their tools.
//!
//! ```
//! use secops_tools::egress::{EgressClient, EgressConfig, EgressError, EgressPolicy, Method};
//!
//! let client = EgressClient::new(EgressPolicy::public_only(), EgressConfig::default()).unwrap();
//! // A model asked for the cloud metadata service: refused before any connection is made.
//! let refused = client.request(Method::GET, "http://169.254.169.254/latest/meta-data/");
//! assert!(matches!(refused, Err(EgressError::Refused(_))));
//! assert!(matches!(client.request(Method::GET, "file:///etc/passwd"), Err(EgressError::Scheme(_))));
//! ```

pub mod catalog;
pub mod edr;
pub mod egress;
pub mod http;
pub mod intel;
pub mod jira;
pub mod mcp;
mod oauth;
pub mod scrub;
pub mod slack;
pub mod splunk;
