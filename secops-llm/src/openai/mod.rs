//! OpenAI Chat Completions (`POST /v1/chat/completions`), streamed, and every server that speaks it.
//!
//! `client` holds configuration and the [`ModelProvider`](secops_core::model::ModelProvider) impl,
//! `completion` maps a request to the wire format (with the strict-mode schema sanitiser), and `streaming`
//! maps chunks to [`StreamEvent`](secops_core::model::StreamEvent)s, tolerating the quirks of compatible
//! servers (see [`crate::openai_compat`]).

mod client;
mod completion;
mod streaming;

pub use client::{Auth, DEFAULT_BASE_URL, MaxTokensField, OpenAi, OpenAiConfig};
pub use completion::{request_body, strict_schema};
pub use streaming::StreamParser;
