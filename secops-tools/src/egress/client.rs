//! The HTTP client tools use: checked destinations, checked redirects, time-outs and a response cap.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::{EgressError, EgressPolicy};

/// Limits of an [`EgressClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressConfig {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for the whole exchange, body included.
    pub timeout: Duration,
    /// Redirects followed at most (each target is checked like the first URL).
    pub max_redirects: usize,
    /// Largest response body read.
    pub max_response_bytes: usize,
}

impl Default for EgressConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_redirects: 3,
            max_response_bytes: 4 * 1024 * 1024,
        }
    }
}

/// A response read in full (within the cap).
#[derive(Debug, Clone)]
pub struct EgressResponse {
    /// The status code.
    pub status: reqwest::StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Bytes,
    /// Where the answer came from, after redirects.
    pub url: Url,
}

impl EgressResponse {
    /// The `Retry-After` header (seconds or an HTTP date) of a rate-limited or unavailable answer.
    #[must_use]
    pub fn retry_after(&self) -> Option<&str> {
        self.headers.get("retry-after").and_then(|v| v.to_str().ok())
    }
}

/// An HTTP client that reaches only what an [`EgressPolicy`] allows.
#[derive(Debug, Clone)]
pub struct EgressClient {
    http: reqwest::Client,
    policy: Arc<EgressPolicy>,
    config: EgressConfig,
}

/// Resolves host names and keeps only the addresses the policy allows, so the connection is made to a checked
/// address.
#[derive(Debug)]
struct CheckedResolver {
    policy: Arc<EgressPolicy>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| {
                    Box::new(EgressError::Resolve {
                        host: host.clone(),
                        reason: e.to_string(),
                    }) as Box<dyn std::error::Error + Send + Sync>
                })?
                .collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        refused.get_or_insert(r);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let error = match refused {
                    Some(r) => EgressError::Refused(r),
                    None => EgressError::Resolve {
                        host,
                        reason: "no addresses".into(),
                    },
                };
                return Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The scheme and, for an IP literal, the address (names are checked when they are resolved).
fn check_url(policy: &EgressPolicy, url: &Url) -> Result<(), EgressError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EgressError::Scheme(url.scheme().to_owned()));
    }
    match url.host() {
        Some(url::Host::Ipv4(v4)) => policy.check(IpAddr::V4(v4)).map_err(EgressError::Refused),
        Some(url::Host::Ipv6(v6)) => policy.check(IpAddr::V6(v6)).map_err(EgressError::Refused),
        Some(url::Host::Domain(_)) => Ok(()),
        None => Err(EgressError::InvalidUrl(format!("`{url}` has no host"))),
    }
}

/// The guard's own error inside a client error, if that is what stopped the request.
fn guard_error(e: &reqwest::Error) -> Option<EgressError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(ours) = s.downcast_ref::<EgressError>() {
            return Some(ours.clone());
        }
        source = s.source();
    }
    None
}

impl EgressClient {
    /// A client for `policy` with `config`'s limits.
    pub fn new(policy: EgressPolicy, config: EgressConfig) -> Result<Self, EgressError> {
        let policy = Arc::new(policy);
        let redirect_policy = Arc::clone(&policy);
        let max_redirects = config.max_redirects;
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver {
                policy: Arc::clone(&policy),
            }))
            // A proxy from the environment would connect on our behalf to addresses we never checked.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max_redirects {
                    return attempt.error(EgressError::TooManyRedirects(max_redirects));
                }
                match check_url(&redirect_policy, attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            }))
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|e| EgressError::Transport(e.to_string()))?;
        Ok(Self { http, policy, config })
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// Starts a request to `url` after checking it; add headers and a body, then [`send`](Self::send) it.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, EgressError> {
        let parsed = Url::parse(url).map_err(|e| EgressError::InvalidUrl(format!("`{url}`: {e}")))?;
        check_url(&self.policy, &parsed)?;
        Ok(self.http.request(method, parsed))
    }

    /// Sends a request made with [`request`](Self::request) and reads the answer, within the size cap.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<EgressResponse, EgressError> {
        let map = |e: reqwest::Error| {
            if let Some(ours) = guard_error(&e) {
                ours
            } else if e.is_timeout() {
                EgressError::Timeout(self.config.timeout)
            } else {
                // Without the URL: it may carry credentials in its query.
                EgressError::Transport(e.without_url().to_string())
            }
        };
        let mut response = request.send().await.map_err(map)?;
        let max = self.config.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|n| usize::try_from(n).unwrap_or(usize::MAX) > max)
        {
            return Err(EgressError::TooLarge(max));
        }
        let (status, headers, url) = (
            response.status(),
            response.headers().clone(),
            response.url().clone(),
        );
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map)? {
            if body.len() + chunk.len() > max {
                return Err(EgressError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(EgressResponse {
            status,
            headers,
            body: Bytes::from(body),
            url,
        })
    }
}
