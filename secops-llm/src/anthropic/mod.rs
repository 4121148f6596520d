//! Anthropic's Messages API (`POST /v1/messages`), streamed.
//!
//! `client` holds configuration and the [`ModelProvider`](secops_core::model::ModelProvider) impl,
//! `completion` maps a [`ModelRequest`](secops_core::model::ModelRequest) to the wire request, and `streaming`
//! maps the wire's server-sent events to [`StreamEvent`](secops_core::model::StreamEvent)s.

mod client;
mod completion;
mod streaming;

pub use client::{Anthropic, AnthropicConfig, DEFAULT_BASE_URL, DEFAULT_VERSION};
pub use completion::request_body;
pub use streaming::StreamParser;
