//! The HTTP transport every provider shares: time-outs at each stage, retries with backoff that honour the
//! server's hints, typed errors with secrets scrubbed, rate-limit headers, and an SSE decoder.

mod rate_limit;
mod sse;

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secops_core::model::{ProviderError, ProviderErrorKind};
use tokio::time::Instant;

pub use rate_limit::{LastRateLimit, Limit, RateLimit, parse_go_duration, retry_after};
pub use sse::{SseDecoder, SseError, SseEvent};

/// A credential. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the one place that puts it in a header.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Time-outs and retry behaviour of one provider's HTTP calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Establishing the TCP + TLS connection.
    pub connect_timeout: Duration,
    /// From sending the request to receiving the response headers.
    pub first_byte_timeout: Duration,
    /// Between two chunks of a streamed body.
    pub idle_timeout: Duration,
    /// The whole call, retries and streaming included.
    pub total_timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff delay; doubles per retry.
    pub initial_backoff: Duration,
    /// The largest backoff delay.
    pub max_backoff: Duration,
    /// A server's `retry-after` longer than this is not waited for; the backoff is used instead.
    pub max_retry_after: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(90),
            total_timeout: Duration::from_secs(600),
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// An HTTP client for one provider.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    config: TransportConfig,
    provider: String,
    secrets: Vec<String>,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("provider", &self.provider)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A successful response whose body is read chunk by chunk under the idle and total time-outs.
pub struct HttpResponse {
    /// The status (2xx).
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The provider's request id, when it sent one.
    pub request_id: Option<String>,
    /// Rate-limit headers.
    pub rate_limit: RateLimit,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    idle_timeout: Duration,
    deadline: Instant,
    provider: String,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    /// The next chunk of the body, `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, ProviderError> {
        let wait = self
            .idle_timeout
            .min(self.deadline.saturating_duration_since(Instant::now()));
        match tokio::time::timeout(wait, self.body.next()).await {
            Err(_) => Err(ProviderError::new(
                &self.provider,
                ProviderErrorKind::Timeout,
                format!("no data for {} ms while streaming the response", wait.as_millis()),
            )),
            Ok(None) => Ok(None),
            Ok(Some(Ok(bytes))) => Ok(Some(bytes)),
            Ok(Some(Err(e))) => Err(ProviderError::new(
                &self.provider,
                ProviderErrorKind::Connection,
                format!("the connection failed while streaming: {}", without_url(&e)),
            )),
        }
    }

    /// The whole body, failing past `max_bytes`.
    pub async fn read_all(&mut self, max_bytes: usize) -> Result<Vec<u8>, ProviderError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            if out.len() + chunk.len() > max_bytes {
                return Err(ProviderError::new(
                    &self.provider,
                    ProviderErrorKind::MalformedResponse,
                    format!("the response is larger than {max_bytes} bytes"),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

/// reqwest's messages include the URL, which for some providers (Azure) carries the deployment; keep them
/// short and free of query strings.
fn without_url(e: &reqwest::Error) -> String {
    let mut e = e.to_string();
    if let Some(pos) = e.find(" for url (") {
        e.truncate(pos);
    }
    e
}

impl HttpTransport {
    /// A transport for `provider`; `secrets` are scrubbed from every error it returns.
    pub fn new(
        provider: impl Into<String>,
        config: TransportConfig,
        secrets: Vec<String>,
    ) -> Result<Self, ProviderError> {
        let provider = provider.into();
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| {
                ProviderError::new(&provider, ProviderErrorKind::Other, format!("HTTP client: {e}"))
            })?;
        Ok(Self {
            client,
            config,
            provider,
            secrets,
        })
    }

    /// The underlying client, for building requests.
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    fn redact(&self, e: ProviderError) -> ProviderError {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        e.redacted(&secrets)
    }

    /// Sends a request built by `build` (called again for each retry), retrying what may be retried, and
    /// returns the first successful response. Retries stop once a response has started streaming: the caller
    /// owns the body from then on.
    pub async fn send<F>(&self, mut build: F) -> Result<HttpResponse, ProviderError>
    where
        F: FnMut(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let started = Instant::now();
        let deadline = started + self.config.total_timeout;
        let mut attempt = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let wait = self.config.first_byte_timeout.min(remaining);
            let result = tokio::time::timeout(wait, build(&self.client).send()).await;
            let (error, should_retry_header) = match result {
                Err(_) => (
                    ProviderError::new(
                        &self.provider,
                        ProviderErrorKind::Timeout,
                        format!("no response within {} ms", wait.as_millis()),
                    ),
                    None,
                ),
                Ok(Err(e)) => {
                    let kind = if e.is_timeout() {
                        ProviderErrorKind::Timeout
                    } else {
                        ProviderErrorKind::Connection
                    };
                    (ProviderError::new(&self.provider, kind, without_url(&e)), None)
                }
                Ok(Ok(response)) if response.status().is_success() => {
                    let headers = response.headers().clone();
                    return Ok(HttpResponse {
                        status: response.status(),
                        request_id: request_id(&headers),
                        rate_limit: RateLimit::from_headers(&headers),
                        headers,
                        body: Box::pin(response.bytes_stream()),
                        idle_timeout: self.config.idle_timeout,
                        deadline,
                        provider: self.provider.clone(),
                    });
                }
                Ok(Ok(response)) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let should_retry = headers
                        .get("x-should-retry")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| match v {
                            "true" => Some(true),
                            "false" => Some(false),
                            _ => None,
                        });
                    let mut body = HttpResponse {
                        status,
                        request_id: None,
                        rate_limit: RateLimit::default(),
                        headers: HeaderMap::new(),
                        body: Box::pin(response.bytes_stream()),
                        idle_timeout: self.config.idle_timeout.min(Duration::from_secs(30)),
                        deadline,
                        provider: self.provider.clone(),
                    };
                    let bytes = body.read_all(64 * 1024).await.unwrap_or_default();
                    (
                        classify_error(&self.provider, status.as_u16(), &headers, &bytes),
                        should_retry,
                    )
                }
            };
            let error = self.redact(error);
            if attempt >= self.config.max_retries || !should_retry(&error, should_retry_header) {
                return Err(error);
            }
            let delay = error
                .retry_after
                .filter(|d| *d <= self.config.max_retry_after)
                .unwrap_or_else(|| backoff(&self.config, attempt));
            if Instant::now() + delay >= deadline {
                return Err(error);
            }
            tracing::warn!(
                provider = %self.provider,
                status = error.status,
                kind = ?error.kind,
                attempt = attempt + 1,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying model call"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// Whether a failed attempt may be sent again. A server's `x-should-retry` decides when present, except that
/// an exhausted quota is never retried.
#[must_use]
pub fn should_retry(error: &ProviderError, should_retry_header: Option<bool>) -> bool {
    if error.kind == ProviderErrorKind::QuotaExceeded {
        return false;
    }
    if let Some(decided) = should_retry_header {
        return decided;
    }
    match error.status {
        Some(408 | 409 | 429) => true,
        Some(status) => status >= 500,
        None => matches!(
            error.kind,
            ProviderErrorKind::Timeout | ProviderErrorKind::Connection
        ),
    }
}

/// Exponential backoff with up to 25% jitter downwards, so clients that failed together do not retry together.
#[must_use]
pub fn backoff(config: &TransportConfig, attempt: u32) -> Duration {
    let exp = config
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(attempt.min(16)));
    let capped = exp.min(config.max_backoff);
    capped.mul_f64(1.0 - 0.25 * fastrand::f64())
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    ["request-id", "x-request-id", "apim-request-id"]
        .iter()
        .find_map(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
}

/// Turns an error response of either vendor's shape (`{"type":"error","error":{...}}` or `{"error":{...}}`)
/// into a typed error.
#[must_use]
pub fn classify_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let error = json.as_ref().and_then(|v| v.get("error"));
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
        .map(str::to_owned)
        .or_else(|| error.and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)])
                .trim()
                .to_owned();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                text
            }
        });
    let error_type = error.and_then(|e| e.get("type")).and_then(|t| t.as_str());
    let error_code = error.and_then(|e| e.get("code")).and_then(|c| c.as_str());
    let provider_code = error_code.or(error_type).map(str::to_owned);
    let lower = message.to_ascii_lowercase();
    // Exhausted quotas and spend caps fail until someone pays or the month turns: never retried.
    let detail_code = error
        .and_then(|e| e.get("details"))
        .and_then(|d| d.get("error_code"))
        .and_then(|c| c.as_str());
    let quota = [error_code, error_type, detail_code].iter().flatten().any(|c| {
        matches!(
            *c,
            "insufficient_quota"
                | "billing_hard_limit_reached"
                | "credit_balance_exhausted"
                | "enforced_spend_limit_reached"
                | "billing_error"
        )
    });
    let context = error_code == Some("context_length_exceeded")
        || lower.contains("prompt is too long")
        || lower.contains("maximum context length");
    let kind = match status {
        402 | 429 if quota => ProviderErrorKind::QuotaExceeded,
        402 => ProviderErrorKind::QuotaExceeded,
        429 => ProviderErrorKind::RateLimited,
        529 => ProviderErrorKind::Overloaded,
        _ if error_type == Some("overloaded_error") => ProviderErrorKind::Overloaded,
        401 | 403 => ProviderErrorKind::Authentication,
        408 => ProviderErrorKind::Timeout,
        400 | 404 | 413 | 422 if context => ProviderErrorKind::ContextWindowExceeded,
        400 | 404 | 413 | 422 => ProviderErrorKind::InvalidRequest,
        500..=599 => ProviderErrorKind::Server,
        _ => ProviderErrorKind::Other,
    };
    let body_text = String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned();
    ProviderError {
        kind,
        provider: provider.to_owned(),
        message,
        status: Some(status),
        provider_code,
        request_id: request_id(headers).or_else(|| {
            json.as_ref()
                .and_then(|v| v.get("request_id"))
                .and_then(|r| r.as_str())
                .map(str::to_owned)
        }),
        retry_after: retry_after(headers),
        body: (!body_text.is_empty()).then_some(body_text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_both_vendors() {
        let h = HeaderMap::new();
        let e = classify_error("openai", 429, &h, br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#);
        assert_eq!(e.kind, ProviderErrorKind::QuotaExceeded);
        assert!(!should_retry(&e, Some(true)), "quota is never retried");
        let e = classify_error(
            "anthropic",
            529,
            &h,
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(
            (e.kind, e.provider_code.as_deref()),
            (ProviderErrorKind::Overloaded, Some("overloaded_error"))
        );
        assert!(should_retry(&e, None));
        let e = classify_error("anthropic", 400, &h, br#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#);
        assert_eq!(e.kind, ProviderErrorKind::ContextWindowExceeded);
        assert!(!should_retry(&e, None));
        assert!(should_retry(&e, Some(true)), "x-should-retry: true wins");
        let e = classify_error("x", 502, &h, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ProviderErrorKind::Server);
        assert!(e.message.contains("bad gateway"));
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let c = TransportConfig::default();
        for attempt in 0..10 {
            let d = backoff(&c, attempt);
            let nominal = c
                .initial_backoff
                .saturating_mul(1 << attempt.min(16))
                .min(c.max_backoff);
            assert!(
                d <= nominal && d >= nominal.mul_f64(0.75),
                "attempt {attempt}: {d:?}"
            );
        }
    }

    #[test]
    fn api_keys_never_print() {
        let k = ApiKey::new("sk-live-123456");
        assert_eq!(format!("{k:?} {k}"), "ApiKey([REDACTED]) [REDACTED]");
    }
}
