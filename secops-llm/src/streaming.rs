//! The part of streaming every SSE provider shares: send, decode server-sent events, hand them to the
//! provider's wire parser, and record the call's telemetry span.

use std::future::Future;

use secops_core::model::{EventStream, ProviderError, ProviderErrorKind, StreamEvent};

use crate::telemetry::CallSpan;
use crate::transport::{HttpResponse, LastRateLimit, SseDecoder, SseEvent};

/// Turns one provider's server-sent events into normalised stream events.
pub trait WireParser: Send {
    /// Handles one event, appending what it means to `out`. A [`StreamEvent::Error`] ends the stream.
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>);

    /// Called at the end of the body: appends the finish event, or an error if the stream was cut short.
    fn finish(&mut self, out: &mut Vec<StreamEvent>);
}

/// Runs `send`, then streams the response body through an SSE decoder and `parser`.
pub(crate) fn stream_sse<'a, F, P>(
    provider: &'static str,
    model: String,
    send: F,
    mut parser: P,
    rate_limit: &'a LastRateLimit,
) -> EventStream<'a>
where
    F: Future<Output = Result<HttpResponse, ProviderError>> + Send + 'a,
    P: WireParser + 'a,
{
    let mut span = CallSpan::new(provider, &model);
    Box::pin(async_stream::stream! {
        let mut response = match send.await {
            Ok(response) => response,
            Err(error) => {
                span.error(&error);
                yield StreamEvent::Error(error);
                return;
            }
        };
        rate_limit.set(response.rate_limit.clone());
        let mut decoder = SseDecoder::new();
        let mut sse = Vec::new();
        let mut out = Vec::new();
        loop {
            let at_end = match response.next_chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(e) = decoder.feed(&chunk, &mut sse) {
                        let error = ProviderError::new(provider, ProviderErrorKind::MalformedResponse, e.to_string());
                        span.error(&error);
                        yield StreamEvent::Error(error);
                        return;
                    }
                    for event in sse.drain(..) {
                        parser.on_event(&event, &mut out);
                    }
                    false
                }
                Ok(None) => {
                    parser.finish(&mut out);
                    true
                }
                Err(error) => {
                    span.error(&error);
                    yield StreamEvent::Error(error);
                    return;
                }
            };
            for event in out.drain(..) {
                span.observe(&event);
                let stop = matches!(event, StreamEvent::Error(_) | StreamEvent::Finish(_));
                yield event;
                if stop {
                    return;
                }
            }
            if at_end {
                return;
            }
        }
    })
}
