//! Rate-limit response headers of Anthropic and OpenAI-style APIs, parsed into one type.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// One limit: how many per window, how many are left, when it resets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limit {
    /// The limit for the window.
    pub limit: Option<u64>,
    /// What is left in the window.
    pub remaining: Option<u64>,
    /// When the window resets, as the server wrote it (an RFC 3339 time or a duration like `6m0s`).
    pub reset: Option<String>,
    /// The reset as a duration from now, when the server gave a duration.
    pub reset_after: Option<Duration>,
}

impl Limit {
    fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }
}

/// Everything a response said about rate limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per window.
    pub requests: Limit,
    /// Tokens per window (all kinds).
    pub tokens: Limit,
    /// Input tokens per window (Anthropic).
    pub input_tokens: Limit,
    /// Output tokens per window (Anthropic).
    pub output_tokens: Limit,
    /// How long the server asked us to wait (`retry-after-ms` or `retry-after`).
    pub retry_after: Option<Duration>,
}

impl RateLimit {
    /// Reads both vendors' headers; absent headers stay `None`.
    #[must_use]
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let anthropic = |kind: &str| Limit {
            limit: number(headers, &format!("anthropic-ratelimit-{kind}-limit")),
            remaining: number(headers, &format!("anthropic-ratelimit-{kind}-remaining")),
            reset: text(headers, &format!("anthropic-ratelimit-{kind}-reset")),
            reset_after: None,
        };
        let openai = |kind: &str| {
            let reset = text(headers, &format!("x-ratelimit-reset-{kind}"));
            Limit {
                limit: number(headers, &format!("x-ratelimit-limit-{kind}")),
                remaining: number(headers, &format!("x-ratelimit-remaining-{kind}")),
                reset_after: reset.as_deref().and_then(parse_go_duration),
                reset,
            }
        };
        let pick = |a: Limit, o: Limit| if a.is_empty() { o } else { a };
        RateLimit {
            requests: pick(anthropic("requests"), openai("requests")),
            tokens: pick(anthropic("tokens"), openai("tokens")),
            input_tokens: anthropic("input-tokens"),
            output_tokens: anthropic("output-tokens"),
            retry_after: retry_after(headers),
        }
    }

    /// Whether no rate-limit header was present.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
            && self.tokens.is_empty()
            && self.input_tokens.is_empty()
            && self.output_tokens.is_empty()
            && self.retry_after.is_none()
    }
}

/// The rate-limit headers of a provider's latest successful response, shared between its calls.
#[derive(Debug, Default)]
pub struct LastRateLimit(std::sync::Mutex<Option<RateLimit>>);

impl LastRateLimit {
    /// The latest value, if any call has succeeded yet.
    #[must_use]
    pub fn get(&self) -> Option<RateLimit> {
        match self.0.lock() {
            Ok(slot) => slot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn set(&self, value: RateLimit) {
        match self.0.lock() {
            Ok(mut slot) => *slot = Some(value),
            Err(poisoned) => *poisoned.into_inner() = Some(value),
        }
    }
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    text(headers, name).and_then(|s| s.parse().ok())
}

/// `retry-after-ms` (milliseconds, OpenAI) wins over `retry-after` (seconds or an HTTP date).
#[must_use]
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = text(headers, "retry-after-ms").and_then(|s| s.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(&value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Parses Go-style durations as OpenAI sends them: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
#[must_use]
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (num, tail) = rest.split_at(split);
        let value: f64 = num.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let factor = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * factor;
        rest = tail;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn parses_both_vendors() {
        let a = RateLimit::from_headers(&headers(&[
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "49"),
            ("anthropic-ratelimit-requests-reset", "2026-11-25T10:00:00Z"),
            ("anthropic-ratelimit-input-tokens-remaining", "39000"),
            ("retry-after", "12"),
        ]));
        assert_eq!(a.requests.limit, Some(50));
        assert_eq!(a.requests.reset.as_deref(), Some("2026-11-25T10:00:00Z"));
        assert_eq!(a.input_tokens.remaining, Some(39000));
        assert_eq!(a.retry_after, Some(Duration::from_secs(12)));

        let o = RateLimit::from_headers(&headers(&[
            ("x-ratelimit-limit-requests", "5000"),
            ("x-ratelimit-remaining-tokens", "159000"),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("retry-after-ms", "250"),
            ("retry-after", "3"),
        ]));
        assert_eq!(o.requests.limit, Some(5000));
        assert_eq!(o.tokens.remaining, Some(159000));
        assert_eq!(o.tokens.reset_after, Some(Duration::from_secs(360)));
        assert_eq!(o.retry_after, Some(Duration::from_millis(250)));
        assert!(RateLimit::from_headers(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(
            parse_go_duration("1h2m3.5s"),
            Some(Duration::from_secs_f64(3723.5))
        );
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(parse_go_duration(""), None);
    }
}
