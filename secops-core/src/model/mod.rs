//! The model side of an agent: the [`ModelProvider`] trait every LLM integration implements, the request and
//! response types, one normalised [`StreamEvent`] enum and the [`StreamAccumulator`] that turns any provider's
//! stream into a [`ModelResponse`].
//!
//! Providers translate their wire format into these types and nothing more; normalisation rules that every
//! provider needs (finish reasons, tool-call assembly, usage merging) live here once.

mod accumulator;
mod error;
mod request;
mod scripted;
mod stream;
mod usage;

use std::pin::Pin;

use futures::Stream;

pub use accumulator::{AccumulatorError, StreamAccumulator};
pub use error::{ProviderError, ProviderErrorKind};
pub use request::{ModelCapabilities, ModelRequest, ModelResponse, ResponseFormat, ToolChoice};
pub use scripted::{RecordedRequest, ScriptedProvider, ScriptedTurn};
pub use stream::StreamEvent;
pub use usage::{FinishKind, FinishReason, ModelPricing, Usage};

/// A stream of normalised events for one model call.
pub type EventStream<'a> = Pin<Box<dyn Stream<Item = StreamEvent> + Send + 'a>>;

/// A large language model behind some API. Implementations are shared as `Arc<dyn ModelProvider>`.
///
/// Only [`stream`](ModelProvider::stream) is required: [`complete`](ModelProvider::complete) defaults to
/// accumulating the stream, so a provider gets both from one wire implementation. A provider with a cheaper
/// non-streaming endpoint may override `complete`.
///
/// Errors are reported in-band as [`StreamEvent::Error`] so that a stream that fails after delivering text keeps
/// what it delivered.
#[async_trait::async_trait]
pub trait ModelProvider: Send + Sync {
    /// A short name for logs and metrics, e.g. `anthropic` or `openai`.
    fn name(&self) -> &str;

    /// What this provider and model support.
    fn capabilities(&self) -> ModelCapabilities;

    /// Starts a call and streams its events. The request is borrowed for the life of the stream so the
    /// transcript is never copied per turn; HTTP providers serialise it before the first poll returns.
    fn stream<'a>(&'a self, request: &'a ModelRequest<'a>) -> EventStream<'a>;

    /// Runs a call to completion.
    async fn complete(&self, request: &ModelRequest<'_>) -> Result<ModelResponse, ProviderError> {
        StreamAccumulator::collect(self.stream(request)).await
    }
}
