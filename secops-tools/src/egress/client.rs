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

/// Which redirects a client follows (each target is checked by the policy either way).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Redirects {
    /// Any, up to the configured number.
    Any,
    /// Only to the same origin, and only 307 and 308, which keep the method and body. A client that sends
    /// credentials in custom headers uses this: reqwest drops `Authorization` on a cross-origin redirect, but
    /// not an `X-Api-Key`.
    SameOrigin,
}

/// A client builder that connects only to checked addresses: the guarded resolver, checked redirects, no proxy
/// and the connect time-out. Each client adds its own exchange or read time-out.
fn guarded_builder(
    policy: &Arc<EgressPolicy>,
    config: &EgressConfig,
    redirects: Redirects,
) -> reqwest::ClientBuilder {
    let redirect_policy = Arc::clone(policy);
    let max_redirects = config.max_redirects;
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver {
            policy: Arc::clone(policy),
        }))
        // A proxy from the environment would connect on our behalf to addresses we never checked.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if redirects == Redirects::SameOrigin {
                let keeps_body = matches!(
                    attempt.status(),
                    reqwest::StatusCode::TEMPORARY_REDIRECT | reqwest::StatusCode::PERMANENT_REDIRECT
                );
                let same_origin = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| first.origin() == attempt.url().origin());
                if !keeps_body || !same_origin {
                    // The caller gets the redirect itself as the answer.
                    return attempt.stop();
                }
            }
            if attempt.previous().len() > max_redirects {
                return attempt.error(EgressError::TooManyRedirects(max_redirects));
            }
            match check_url(&redirect_policy, attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        }))
        .connect_timeout(config.connect_timeout)
}

/// The guard's own error inside a client error, if that is what stopped the request.
pub(crate) fn guard_error(e: &(dyn std::error::Error + 'static)) -> Option<EgressError> {
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
        let http = guarded_builder(&policy, &config, Redirects::Any)
            .timeout(config.timeout)
            .build()
            .map_err(|e| EgressError::Transport(e.to_string()))?;
        Ok(Self { http, policy, config })
    }

    /// A reqwest client with the same guard (checked resolver, checked redirects, no proxy, connect time-out)
    /// but no whole-exchange time-out, for long-lived streams such as an MCP server's server-sent events: a
    /// read that waits longer than `read_timeout` fails instead. Callers time each request out themselves.
    /// It follows only same-origin 307 and 308 redirects, since its callers send credentials in headers.
    ///
    /// Crate-private: it hands out a raw client, so every URL given to it must first pass
    /// [`check_url`](Self::check_url).
    pub(crate) fn streaming_http(&self, read_timeout: Duration) -> Result<reqwest::Client, EgressError> {
        guarded_builder(&self.policy, &self.config, Redirects::SameOrigin)
            .read_timeout(read_timeout)
            .build()
            .map_err(|e| EgressError::Transport(e.to_string()))
    }

    /// Parses `url` and checks its scheme and, for an IP literal, its address (host names are checked when
    /// the guarded resolver resolves them).
    pub(crate) fn check_url(&self, url: &str) -> Result<Url, EgressError> {
        let parsed = Url::parse(url).map_err(|e| EgressError::InvalidUrl(format!("`{url}`: {e}")))?;
        check_url(&self.policy, &parsed)?;
        Ok(parsed)
    }

    /// The limits.
    pub(crate) fn config(&self) -> &EgressConfig {
        &self.config
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
        let parsed = self.check_url(url)?;
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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::Router;
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};

    use super::*;

    /// Serves `app` on loopback until the returned set is dropped.
    async fn serve(app: Router) -> (SocketAddr, tokio::task::JoinSet<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut server = tokio::task::JoinSet::new();
        server.spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, server)
    }

    /// A body that trickles out over `total`, one chunk every `every`.
    fn trickle(total: Duration, every: Duration) -> axum::response::Response {
        let chunks = (total.as_millis() / every.as_millis()) as usize;
        let stream = futures::stream::unfold(0, move |n| async move {
            if n == chunks {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((
                Ok::<_, std::io::Error>(Bytes::from_static(b"data: ping\n\n")),
                n + 1,
            ))
        });
        axum::body::Body::from_stream(stream).into_response()
    }

    fn client(timeout: Duration) -> EgressClient {
        let policy = EgressPolicy::with_allow_list(&["127.0.0.1/32"]).unwrap();
        let config = EgressConfig {
            timeout,
            ..EgressConfig::default()
        };
        EgressClient::new(policy, config).unwrap()
    }

    #[tokio::test]
    async fn the_streaming_client_has_a_read_time_out_but_no_total_one() {
        let app = Router::new()
            .route(
                "/stream",
                get(|| async { trickle(Duration::from_millis(800), Duration::from_millis(100)) }),
            )
            .route(
                "/stall",
                get(|| async { trickle(Duration::from_millis(1000), Duration::from_millis(1000)) }),
            );
        let (addr, _server) = serve(app).await;
        let egress = client(Duration::from_millis(300));
        let url = format!("http://{addr}/stream");

        // The whole-exchange time-out cuts the ordinary client off...
        let request = egress.request(reqwest::Method::GET, &url).unwrap();
        assert!(matches!(egress.send(request).await, Err(EgressError::Timeout(_))));

        // ...while the streaming one reads a stream longer than that, as long as data keeps coming.
        let streaming = egress.streaming_http(Duration::from_millis(400)).unwrap();
        let started = Instant::now();
        let body = streaming
            .get(egress.check_url(&url).unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len(), 8 * b"data: ping\n\n".len());
        assert!(started.elapsed() >= Duration::from_millis(700));

        // A stream that goes quiet for longer than the read time-out fails.
        let stalled = streaming
            .get(format!("http://{addr}/stall"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
        assert!(stalled.is_err_and(|e| e.is_timeout()));
    }

    #[tokio::test]
    async fn the_streaming_client_keeps_the_guard_and_stays_on_its_origin() {
        let app = Router::new()
            .route("/ok", post(|| async { "ok" }))
            .route(
                "/same-origin",
                post(|| async { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, "/ok")]) }),
            )
            .route(
                "/found",
                post(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ok")]) }),
            )
            .route(
                "/elsewhere",
                post(|| async {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [(header::LOCATION, "http://localhost:1/ok")],
                    )
                }),
            );
        let (addr, _server) = serve(app).await;
        let egress = client(Duration::from_secs(5));
        let streaming = egress.streaming_http(Duration::from_secs(5)).unwrap();
        let post = |path: &str| streaming.post(format!("http://{addr}{path}")).body("{}").send();

        let followed = post("/same-origin").await.unwrap();
        assert_eq!(followed.status(), StatusCode::OK);
        assert_eq!(followed.url().path(), "/ok");
        // A redirect that would turn the POST into a GET, or leave the origin with our headers, is not followed.
        assert_eq!(post("/found").await.unwrap().status(), StatusCode::FOUND);
        assert_eq!(
            post("/elsewhere").await.unwrap().status(),
            StatusCode::TEMPORARY_REDIRECT
        );

        // The checked resolver and the policy hold as in the ordinary client.
        let public_only = EgressClient::new(EgressPolicy::public_only(), EgressConfig::default()).unwrap();
        let streaming = public_only.streaming_http(Duration::from_secs(5)).unwrap();
        let refused = streaming
            .get(format!("http://localhost:{}/ok", addr.port()))
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(guard_error(&refused), Some(EgressError::Refused(_))),
            "{refused:?}"
        );
        assert!(matches!(
            public_only.check_url(&format!("http://{addr}/ok")),
            Err(EgressError::Refused(_))
        ));
        assert!(matches!(
            public_only.check_url("file:///etc/passwd"),
            Err(EgressError::Scheme(s)) if s == "file"
        ));
    }
}
