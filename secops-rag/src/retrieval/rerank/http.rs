//! [`HttpReranker`]: a rerank API over HTTP with time-outs, retries that honour `Retry-After`, a response
//! size cap and typed errors.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::time::Instant;

use super::{RerankError, RerankErrorKind, RerankScore, Reranker};

/// The wire format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RerankProtocol {
    /// `{"model","query","documents","top_n"}` → `{"results":[{"index","relevance_score"}]}`: Cohere
    /// (`/v2/rerank`), Jina (`/v1/rerank`), vLLM and Infinity (`/v1/rerank`).
    #[default]
    Cohere,
    /// Hugging Face text-embeddings-inference: `{"query","texts","truncate"}` → `[{"index","score"}]`
    /// (`/rerank`).
    Tei,
}

/// Where and how to call the reranker.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpRerankerConfig {
    /// The full endpoint URL, e.g. `http://127.0.0.1:8080/rerank`.
    pub url: String,
    /// The model to ask for (Cohere, Jina, vLLM need one; TEI serves one).
    pub model: Option<String>,
    /// A bearer token, sent as `Authorization: Bearer ...`; never shown by `Debug` or in errors.
    pub api_key: Option<String>,
    /// The wire format.
    pub protocol: RerankProtocol,
    /// Establishing the connection.
    #[serde(with = "millis")]
    pub connect_timeout: Duration,
    /// One attempt, from sending the request to the end of the response.
    #[serde(with = "millis")]
    pub request_timeout: Duration,
    /// Every attempt and wait together.
    #[serde(with = "millis")]
    pub total_timeout: Duration,
    /// Retries after the first attempt, for time-outs, connection failures, 408, 429 and 5xx.
    pub max_retries: u32,
    /// The first backoff delay; doubles per retry.
    #[serde(with = "millis")]
    pub initial_backoff: Duration,
    /// The largest backoff delay.
    #[serde(with = "millis")]
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited for (the error is returned).
    #[serde(with = "millis")]
    pub max_retry_after: Duration,
    /// The largest response body read.
    pub max_response_bytes: usize,
    /// The most documents in one request.
    pub max_documents: usize,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

impl Default for HttpRerankerConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            model: None,
            api_key: None,
            protocol: RerankProtocol::Cohere,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(30),
            max_retries: 2,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
            max_documents: 1000,
        }
    }
}

impl fmt::Debug for HttpRerankerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRerankerConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("protocol", &self.protocol)
            .field("request_timeout", &self.request_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

/// A reranker behind an HTTP API.
#[derive(Clone)]
pub struct HttpReranker {
    client: reqwest::Client,
    config: HttpRerankerConfig,
}

impl fmt::Debug for HttpReranker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpReranker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct CohereResponse {
    results: Vec<CohereResult>,
}

#[derive(Deserialize)]
struct CohereResult {
    index: usize,
    relevance_score: f32,
}

#[derive(Deserialize)]
struct TeiResult {
    index: usize,
    score: f32,
}

/// What one attempt ended with.
enum Attempt {
    Done(Vec<RerankScore>),
    Failed(RerankError),
}

impl HttpReranker {
    /// A reranker for `config`. Redirects are not followed (the bearer token goes to the configured host only).
    pub fn new(config: HttpRerankerConfig) -> Result<Self, RerankError> {
        let url = reqwest::Url::parse(&config.url)
            .map_err(|e| RerankError::invalid_request(format!("the reranker URL is invalid: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RerankError::invalid_request(
                "the reranker URL must be http or https",
            ));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| RerankError::invalid_request(format!("HTTP client: {e}")))?;
        Ok(Self { client, config })
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &HttpRerankerConfig {
        &self.config
    }

    fn body(&self, query: &str, documents: &[&str], top_n: usize) -> serde_json::Value {
        match self.config.protocol {
            RerankProtocol::Cohere => {
                let mut body = json!({ "query": query, "documents": documents, "top_n": top_n });
                if let Some(model) = &self.config.model {
                    body["model"] = json!(model);
                }
                body
            }
            RerankProtocol::Tei => json!({ "query": query, "texts": documents, "truncate": true }),
        }
    }

    fn scrub(&self, text: &str) -> String {
        let mut out: String = text.chars().take(2048).collect();
        if let Some(key) = self.config.api_key.as_deref().filter(|k| k.len() >= 4) {
            out = out.replace(key, "[REDACTED]");
        }
        out
    }

    fn parse(&self, body: &[u8], documents: usize, top_n: usize) -> Result<Vec<RerankScore>, String> {
        let scores: Vec<RerankScore> = match self.config.protocol {
            RerankProtocol::Cohere => serde_json::from_slice::<CohereResponse>(body)
                .map_err(|e| e.to_string())?
                .results
                .into_iter()
                .map(|r| RerankScore {
                    index: r.index,
                    relevance_score: r.relevance_score,
                })
                .collect(),
            RerankProtocol::Tei => serde_json::from_slice::<Vec<TeiResult>>(body)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|r| RerankScore {
                    index: r.index,
                    relevance_score: r.score,
                })
                .collect(),
        };
        let mut seen = vec![false; documents];
        for s in &scores {
            if !s.relevance_score.is_finite() {
                return Err(format!("document {} has a non-finite score", s.index));
            }
            match seen.get_mut(s.index) {
                None => {
                    return Err(format!(
                        "index {} is out of range for {documents} documents",
                        s.index
                    ));
                }
                Some(true) => return Err(format!("index {} appears twice", s.index)),
                Some(slot) => *slot = true,
            }
        }
        let mut scores = scores;
        scores.sort_by(|a, b| {
            b.relevance_score
                .total_cmp(&a.relevance_score)
                .then(a.index.cmp(&b.index))
        });
        scores.truncate(top_n);
        Ok(scores)
    }

    async fn attempt(
        &self,
        body: &serde_json::Value,
        documents: usize,
        top_n: usize,
        attempts: u32,
    ) -> Attempt {
        let fail = |kind, message: String, status, retry_after| {
            Attempt::Failed(RerankError {
                kind,
                message,
                status,
                retry_after,
                attempts,
            })
        };
        let mut request = self
            .client
            .post(&self.config.url)
            .header("content-type", "application/json");
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let payload = body.to_string();
        let mut response = match request.body(payload).send().await {
            Ok(r) => r,
            Err(e) => {
                let kind = if e.is_timeout() {
                    RerankErrorKind::Timeout
                } else {
                    RerankErrorKind::Connection
                };
                return fail(kind, self.scrub(&without_url(&e)), None, None);
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > self.config.max_response_bytes {
                        return fail(
                            RerankErrorKind::MalformedResponse,
                            format!(
                                "the response is larger than {} bytes",
                                self.config.max_response_bytes
                            ),
                            Some(status.as_u16()),
                            None,
                        );
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let kind = if e.is_timeout() {
                        RerankErrorKind::Timeout
                    } else {
                        RerankErrorKind::Connection
                    };
                    return fail(
                        kind,
                        format!("the response broke off: {}", self.scrub(&without_url(&e))),
                        Some(status.as_u16()),
                        None,
                    );
                }
            }
        }
        if status.is_success() {
            return match self.parse(&bytes, documents, top_n) {
                Ok(scores) => Attempt::Done(scores),
                Err(message) => fail(
                    RerankErrorKind::MalformedResponse,
                    self.scrub(&message),
                    Some(status.as_u16()),
                    None,
                ),
            };
        }
        let kind = match status.as_u16() {
            429 => RerankErrorKind::RateLimited,
            408 => RerankErrorKind::Timeout,
            s if s >= 500 => RerankErrorKind::Server,
            _ => RerankErrorKind::Rejected,
        };
        let text = String::from_utf8_lossy(&bytes);
        fail(kind, self.scrub(text.trim()), Some(status.as_u16()), retry_after)
    }

    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.config
            .initial_backoff
            .saturating_mul(factor)
            .min(self.config.max_backoff)
    }
}

/// reqwest's messages name the URL; keep them short.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(pos) = text.find(" for url (") {
        text.truncate(pos);
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[async_trait::async_trait]
impl Reranker for HttpReranker {
    fn name(&self) -> &str {
        "http-rerank"
    }

    async fn rerank(
        &self,
        query: &str,
        documents: &[&str],
        top_n: usize,
    ) -> Result<Vec<RerankScore>, RerankError> {
        if documents.is_empty() || top_n == 0 {
            return Ok(Vec::new());
        }
        if documents.len() > self.config.max_documents {
            return Err(RerankError::invalid_request(format!(
                "{} documents, more than the limit of {}",
                documents.len(),
                self.config.max_documents
            )));
        }
        let top_n = top_n.min(documents.len());
        let body = self.body(query, documents, top_n);
        let deadline = Instant::now() + self.config.total_timeout;
        let mut attempts = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let wait = self.config.request_timeout.min(remaining);
            attempts += 1;
            let error =
                match tokio::time::timeout(wait, self.attempt(&body, documents.len(), top_n, attempts)).await
                {
                    Ok(Attempt::Done(scores)) => return Ok(scores),
                    Ok(Attempt::Failed(error)) => error,
                    Err(_) => RerankError {
                        kind: RerankErrorKind::Timeout,
                        message: format!("no complete response within {} ms", wait.as_millis()),
                        status: None,
                        retry_after: None,
                        attempts,
                    },
                };
            if !error.kind.is_retryable() || attempts > self.config.max_retries {
                return Err(error);
            }
            let delay = match error.retry_after {
                Some(asked) if asked > self.config.max_retry_after => return Err(error),
                Some(asked) => asked,
                None => self.backoff(attempts - 1),
            };
            if Instant::now() + delay >= deadline {
                return Err(error);
            }
            tracing::warn!(
                kind = %error.kind,
                status = error.status,
                attempt = attempts,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying rerank call"
            );
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn settings_are_checked_and_the_key_is_hidden() {
        assert!(HttpReranker::new(HttpRerankerConfig::default()).is_err());
        let bad = HttpRerankerConfig {
            url: "ftp://x/rerank".into(),
            ..HttpRerankerConfig::default()
        };
        assert_eq!(
            HttpReranker::new(bad).unwrap_err().kind,
            RerankErrorKind::InvalidRequest
        );
        let config = HttpRerankerConfig {
            url: "http://127.0.0.1:9/rerank".into(),
            api_key: Some("sk-very-secret".into()),
            ..HttpRerankerConfig::default()
        };
        assert!(!format!("{config:?}").contains("sk-very-secret"));
        let r = HttpReranker::new(config).unwrap();
        assert!(!format!("{r:?}").contains("sk-very-secret"));
        assert_eq!(r.scrub("echo sk-very-secret"), "echo [REDACTED]");
    }
}
