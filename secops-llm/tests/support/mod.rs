//! A loopback fake of a vendor API: replays scripted responses (fixtures, chunked as asked, with stalls and
//! cut-offs) and records every request for assertions.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use secops_llm::transport::TransportConfig;

pub fn fixture(path: &str) -> Vec<u8> {
    let full: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", path]
        .iter()
        .collect();
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

/// Fast retries and short time-outs so failure tests run in milliseconds.
pub fn quick_transport() -> TransportConfig {
    TransportConfig {
        connect_timeout: Duration::from_secs(2),
        first_byte_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(20),
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(3),
    }
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub chunks: Vec<Vec<u8>>,
    /// Wait this long before the chunk with this index, e.g. to stall a stream.
    pub stall: Option<(usize, Duration)>,
}

impl Reply {
    pub fn sse(body: Vec<u8>) -> Self {
        Self::with_status(200, body).header("content-type", "text/event-stream")
    }

    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Self::with_status(status, body).header("content-type", "application/json")
    }

    fn with_status(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            chunks: vec![body],
            stall: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Re-cuts the body into pieces of `size` bytes.
    pub fn chunked(mut self, size: usize) -> Self {
        let all: Vec<u8> = self.chunks.concat();
        self.chunks = all.chunks(size.max(1)).map(<[u8]>::to_vec).collect();
        self
    }

    /// Cuts the body off after `bytes` bytes: the server closes the connection there.
    pub fn cut_at(mut self, bytes: usize) -> Self {
        let mut all: Vec<u8> = self.chunks.concat();
        all.truncate(bytes);
        self.chunks = vec![all];
        self
    }

    pub fn stall_before(mut self, chunk: usize, wait: Duration) -> Self {
        self.stall = Some((chunk, wait));
        self
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone, Default)]
struct Shared {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

pub struct FakeServer {
    pub addr: SocketAddr,
    shared: Shared,
}

impl FakeServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let shared = Shared::default();
        shared.replies.lock().unwrap().extend(replies);
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server lives as long as the test's runtime; nothing else needs to stop it.
        #[allow(clippy::disallowed_methods)]
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.requests.lock().unwrap().push(Recorded {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body: parsed,
    });
    let reply = shared.replies.lock().unwrap().pop_front();
    let Some(reply) = reply else {
        return Response::builder()
            .status(500)
            .body(Body::from("fake server: no reply scripted"))
            .unwrap();
    };
    let stall = reply.stall;
    let chunks = reply.chunks.clone();
    let stream = async_stream::stream! {
        for (i, chunk) in chunks.into_iter().enumerate() {
            if let Some((at, wait)) = stall
                && at == i
            {
                tokio::time::sleep(wait).await;
            }
            yield Ok::<_, std::io::Error>(Bytes::from(chunk));
        }
    };
    let mut builder = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    for (k, v) in &reply.headers {
        builder = builder.header(k, v);
    }
    builder.body(Body::from_stream(stream)).unwrap()
}
