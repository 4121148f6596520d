use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The class of a provider failure; decides whether a retry can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProviderErrorKind {
    /// 429 with a rate limit that resets: retry after the indicated delay.
    RateLimited,
    /// 429 for an exhausted quota or spend cap: retrying cannot help.
    QuotaExceeded,
    /// 529 or an "overloaded" error.
    Overloaded,
    /// 401/403: the key is missing, wrong or lacks access.
    Authentication,
    /// 400/404/422: the request itself is wrong.
    InvalidRequest,
    /// The prompt does not fit the model's context window.
    ContextWindowExceeded,
    /// 5xx.
    Server,
    /// A connect, first-byte, idle or total time-out.
    Timeout,
    /// The connection failed or dropped.
    Connection,
    /// The provider sent something that is not its documented format.
    MalformedResponse,
    /// The stream ended before the provider said it was done.
    StreamTruncated,
    /// No provider is configured.
    Unavailable,
    /// The run was cancelled while the call was in flight.
    Cancelled,
    /// Anything else.
    Other,
}

impl ProviderErrorKind {
    /// Whether the same request may succeed if sent again, before any output was delivered.
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            ProviderErrorKind::RateLimited
                | ProviderErrorKind::Overloaded
                | ProviderErrorKind::Server
                | ProviderErrorKind::Timeout
                | ProviderErrorKind::Connection
        )
    }
}

impl fmt::Display for ProviderErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ProviderErrorKind::RateLimited => "rate limited",
            ProviderErrorKind::QuotaExceeded => "quota exceeded",
            ProviderErrorKind::Overloaded => "overloaded",
            ProviderErrorKind::Authentication => "authentication failed",
            ProviderErrorKind::InvalidRequest => "invalid request",
            ProviderErrorKind::ContextWindowExceeded => "context window exceeded",
            ProviderErrorKind::Server => "server error",
            ProviderErrorKind::Timeout => "timed out",
            ProviderErrorKind::Connection => "connection failed",
            ProviderErrorKind::MalformedResponse => "malformed response",
            ProviderErrorKind::StreamTruncated => "stream truncated",
            ProviderErrorKind::Unavailable => "no model provider configured",
            ProviderErrorKind::Cancelled => "cancelled",
            ProviderErrorKind::Other => "error",
        };
        f.write_str(s)
    }
}

/// A failed model call, with everything needed to decide on a retry and to report it.
///
/// Providers must pass every string through [`ProviderError::redacted`] with their credentials before
/// returning it, so keys never reach logs, `Debug` output or API responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{provider}: {kind}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct ProviderError {
    /// The class of failure.
    pub kind: ProviderErrorKind,
    /// The provider's name.
    pub provider: String,
    /// A human-readable message.
    pub message: String,
    /// The HTTP status, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The provider's error type, e.g. `overloaded_error` or `insufficient_quota`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_code: Option<String>,
    /// The provider's request id, for support tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// How long the provider asked us to wait.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_millis")]
    pub retry_after: Option<Duration>,
    /// The response body, cut to a few KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl ProviderError {
    /// An error with a kind and message; other fields empty.
    pub fn new(provider: impl Into<String>, kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            provider: provider.into(),
            message: message.into(),
            status: None,
            provider_code: None,
            request_id: None,
            retry_after: None,
            body: None,
        }
    }

    /// Replaces every occurrence of each secret in the message and body with `[REDACTED]`.
    #[must_use]
    pub fn redacted(mut self, secrets: &[&str]) -> Self {
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            self.message = self.message.replace(secret, "[REDACTED]");
            if let Some(body) = &mut self.body {
                *body = body.replace(secret, "[REDACTED]");
            }
        }
        self
    }
}

mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_scrubs_message_and_body() {
        let mut e = ProviderError::new("x", ProviderErrorKind::Authentication, "bad key sk-secret-123");
        e.body = Some("{\"key\":\"sk-secret-123\"}".into());
        let e = e.redacted(&["sk-secret-123"]);
        assert!(!format!("{e:?}").contains("sk-secret-123"));
        assert!(e.to_string().contains("[REDACTED]"));
    }

    #[test]
    fn display_names_status_and_serialises_retry_after() {
        let mut e = ProviderError::new("anthropic", ProviderErrorKind::RateLimited, "slow down");
        e.status = Some(429);
        e.retry_after = Some(Duration::from_millis(1500));
        assert_eq!(e.to_string(), "anthropic: rate limited (HTTP 429): slow down");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["retry_after"], 1500);
        let back: ProviderError = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
        assert!(ProviderErrorKind::RateLimited.is_retryable());
        assert!(!ProviderErrorKind::QuotaExceeded.is_retryable());
    }
}
