//! The web console: the single-page app built from `web/` (committed as `web/dist`) compiled into the binary,
//! so `secops serve` serves it at `/` on a machine without Node.
//!
//! Hashed files under `/assets/` are cached for a year (a new build has new names); `index.html` and every
//! other path that is not a file (the app's own routes, answered with `index.html` so a reload of
//! `/agents/…` works) must be revalidated. Every console response carries a strict Content-Security-Policy
//! and the usual security headers; the API under `/v1` keeps its JSON problems, also for unknown routes.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};

use crate::error::ApiError;

/// The built console (`web/dist`); `build.rs` makes cargo rebuild when it changes.
static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../web/dist");

/// The Content-Security-Policy of every console response. Scripts, styles, fonts and connections only from the
/// server itself (WebSocket included: `'self'` covers `ws:`/`wss:` of the same host); no inline script, no
/// framing. Inline *styles* are allowed because the headless UI primitives position popovers with style
/// attributes; they cannot run code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// Paths that belong to the API or the operator, never to the console: unknown ones get a JSON problem.
fn is_api_path(path: &str) -> bool {
    ["/v1", "/docs", "/openapi.json", "/metrics", "/healthz", "/readyz"]
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}

/// Whether the binary holds a built console (a build without `web/dist/index.html` serves the API only).
#[must_use]
pub fn available() -> bool {
    DIST.get_file("index.html").is_some()
}

/// The headers every console response carries.
pub fn security_headers(headers: &mut HeaderMap) {
    let pairs: [(HeaderName, &'static str); 7] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// Whether the client takes gzip (`Accept-Encoding`, without `gzip;q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let refused = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// The gzip form of a bundle file, made once per file on first request (the bundle is fixed for the life of the
/// process, so it is never made again), or `None` for small files and formats that are compressed already.
fn gzipped(path: &str, contents: &'static [u8]) -> Option<&'static [u8]> {
    type Compressed = Mutex<HashMap<String, Option<&'static [u8]>>>;
    static CACHE: OnceLock<Compressed> = OnceLock::new();
    let compressible = [".js", ".css", ".html", ".svg", ".json", ".txt", ".map"]
        .iter()
        .any(|ext| path.ends_with(ext));
    if !compressible || contents.len() < 1024 {
        return None;
    }
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *cache.entry(path.to_owned()).or_insert_with(|| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(contents).ok()?;
        let bytes = encoder.finish().ok()?;
        // Leaked on purpose: one copy per bundle file, for the life of the process, like the bundle itself.
        (bytes.len() < contents.len()).then(|| &*Vec::leak(bytes))
    })
}

fn file_response(path: &str, contents: &'static [u8], head: bool, request: &HeaderMap) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let encoded = if accepts_gzip(request) {
        gzipped(path, contents)
    } else {
        None
    };
    let contents = encoded.unwrap_or(contents);
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let body = if head { Body::empty() } else { Body::from(contents) };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if encoded.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(contents.len()));
    security_headers(headers);
    response
}

/// The router's fallback: a console file, the console's `index.html` for its own routes, or the API's
/// `404 not_found` problem.
pub async fn serve(method: Method, uri: Uri, request: HeaderMap) -> Response {
    let path = uri.path();
    if is_api_path(path) || (method != Method::GET && method != Method::HEAD) {
        return ApiError::not_found("route").into_response();
    }
    let head = method == Method::HEAD;
    let relative = path.trim_start_matches('/');
    if !relative.is_empty()
        && let Some(file) = DIST.get_file(relative)
    {
        return file_response(relative, file.contents(), head, &request);
    }
    // A missing hashed asset is a stale page asking for an old build: answer 404 rather than HTML it would
    // try to run as a script.
    if relative.starts_with("assets/") {
        let mut response = (StatusCode::NOT_FOUND, "not found").into_response();
        security_headers(response.headers_mut());
        return response;
    }
    match DIST.get_file("index.html") {
        Some(index) => file_response("index.html", index.contents(), head, &request),
        None => ApiError::not_found("route").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_offered_only_to_clients_that_take_it() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            h
        };
        assert!(accepts_gzip(&with("gzip, deflate, br")));
        assert!(accepts_gzip(&with("br;q=1.0, gzip;q=0.8")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn api_paths_are_not_the_console() {
        assert!(is_api_path("/v1"));
        assert!(is_api_path("/v1/agents"));
        assert!(is_api_path("/docs/"));
        assert!(is_api_path("/metrics"));
        assert!(!is_api_path("/v1agents"));
        assert!(!is_api_path("/agents/123"));
        assert!(!is_api_path("/"));
    }
}
