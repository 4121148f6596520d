//! # secops-llm
//!
//! Model providers for [`secops-core`](secops_core): Anthropic's Messages API, OpenAI's Chat Completions,
//! OpenAI-compatible servers (Ollama, vLLM, llama.cpp, TGI, Azure OpenAI) and embeddings over HTTP. Every
//! provider implements [`ModelProvider`](secops_core::model::ModelProvider) and streams one normalised
//! [`StreamEvent`](secops_core::model::StreamEvent) enum, so the agent runtime never knows which vendor
//! answers.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`anthropic`] | `client` (config, provider), `completion` (request body), `streaming` (SSE events) |
//! | [`openai`] | the same three for Chat Completions, plus the strict-mode schema sanitiser |
//! | [`openai_compat`] | constructors for Ollama, vLLM, llama.cpp and Azure deployments |
//! | [`embeddings`] | OpenAI-style `/embeddings` and Ollama `/api/embed` [`Embedder`](secops_core::embed::Embedder)s |
//! | [`transport`] | time-outs (connect, first byte, idle, total), retries with backoff honouring `retry-after-ms`, `retry-after` and `x-should-retry`, typed errors with secrets scrubbed, rate-limit headers, the SSE decoder |
//! | [`pricing`] | list prices for cost accounting |
//! | [`telemetry`] | GenAI semantic-convention spans; content capture off by default |
//! | [`config`] | a provider from `ANTHROPIC_API_KEY`, `OPENAI_API_KEY` or `SECOPS_LLM_BASE_URL` |
//!
//! ## Example
//!
//! What a request looks like on the wire (no network needed):
//!
//! ```
//! use secops_core::message::Message;
//! use secops_core::model::ModelRequest;
//! use secops_llm::anthropic::{request_body, AnthropicConfig};
//!
//! let config = AnthropicConfig::new("sk-ant-example", "claude-sonnet-4-5");
//! let messages = [Message::user("Summarise alert 4711")];
//! let request = ModelRequest::new(&messages).with_system("You are a SOC analyst.");
//! let body = request_body(&config, &request, true);
//! assert_eq!(body["max_tokens"], 4096);
//! assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
//! assert_eq!(body["messages"][0]["content"][0]["text"], "Summarise alert 4711");
//! assert!(!format!("{config:?}").contains("sk-ant-example"), "keys never print");
//! ```
//!
//! An agent on whatever provider the environment configures:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = secops_llm::config::provider_from_env()?;
//! let agent = secops_core::run::Agent::builder(provider).build()?;
//! let run = agent.run("Which hosts talked to 203.0.113.7 today?").await;
//! println!("{}", run.output.map(|o| o.text).unwrap_or_default());
//! # Ok(()) }
//! ```

pub mod anthropic;
pub mod config;
pub mod embeddings;
pub mod openai;
pub mod openai_compat;
pub mod pricing;
pub mod streaming;
pub mod telemetry;
pub mod transport;
