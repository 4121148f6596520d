//! The HTTP reranker against a scripted loopback server (a raw tokio listener, so a test can cut the
//! connection or stall): success in both wire formats, retries on 429 (honouring Retry-After) and 5xx,
//! malformed bodies, cut connections, time-outs, rejected requests.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns are test code too

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use secops_rag::retrieval::{
    HttpReranker, HttpRerankerConfig, RerankErrorKind, RerankProtocol, RerankScore, Reranker,
};

#[derive(Debug, Clone)]
enum Action {
    /// Answer with this status, extra headers and body.
    Respond(u16, Vec<(&'static str, String)>, String),
    /// Read the request, then close the connection without answering.
    Cut,
    /// Read the request, then wait this long before answering 200 with an empty result.
    Stall(Duration),
    /// Send the headers and half the declared body, then close.
    CutBody,
}

#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: String,
    body: Value,
}

struct Fake {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(script: Vec<Action>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (script2, seen2) = (script.clone(), seen.clone());
        // The server lives as long as the test's runtime; each connection gets the next scripted action.
        #[allow(clippy::disallowed_methods)]
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let action = script2.lock().unwrap().pop_front();
                let seen = seen2.clone();
                #[allow(clippy::disallowed_methods)]
                tokio::spawn(async move { serve(stream, action, seen).await });
            }
        });
        Self { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/rerank", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[header_end..]).unwrap_or(Value::Null);
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default().to_owned();
    Some(Seen {
        request_line,
        headers: lines.collect::<Vec<_>>().join("\n").to_ascii_lowercase(),
        body,
    })
}

async fn respond(stream: &mut TcpStream, status: u16, headers: &[(&str, String)], body: &str) {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn serve(mut stream: TcpStream, action: Option<Action>, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    seen.lock().unwrap().push(request);
    match action {
        None => respond(&mut stream, 599, &[], "{\"error\":\"nothing scripted\"}").await,
        Some(Action::Respond(status, headers, body)) => respond(&mut stream, status, &headers, &body).await,
        Some(Action::Cut) => drop(stream),
        Some(Action::Stall(wait)) => {
            tokio::time::sleep(wait).await;
            respond(&mut stream, 200, &[], "{\"results\":[]}").await;
        }
        Some(Action::CutBody) => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"results\":[";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.flush().await;
            drop(stream);
        }
    }
}

fn ok_body() -> String {
    json!({"id": "r1", "results": [
        {"index": 1, "relevance_score": 0.91},
        {"index": 0, "relevance_score": 0.12},
    ]})
    .to_string()
}

fn config(url: String) -> HttpRerankerConfig {
    HttpRerankerConfig {
        url,
        model: Some("rerank-v3.5".into()),
        api_key: Some("sk-rerank-secret".into()),
        request_timeout: Duration::from_millis(500),
        total_timeout: Duration::from_secs(5),
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(2),
        ..HttpRerankerConfig::default()
    }
}

const DOCS: [&str; 2] = ["reset the password", "isolate the host with the EDR"];

#[tokio::test]
async fn success_sends_the_cohere_shape_and_orders_scores() {
    let fake = Fake::start(vec![Action::Respond(200, vec![], ok_body())]).await;
    let reranker = HttpReranker::new(config(fake.url())).unwrap();
    let scores = reranker.rerank("how to contain a host", &DOCS, 5).await.unwrap();
    assert_eq!(
        scores,
        vec![
            RerankScore {
                index: 1,
                relevance_score: 0.91
            },
            RerankScore {
                index: 0,
                relevance_score: 0.12
            },
        ]
    );
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].request_line, "POST /v1/rerank HTTP/1.1");
    assert!(seen[0].headers.contains("authorization: bearer sk-rerank-secret"));
    assert_eq!(
        seen[0].body,
        json!({"model": "rerank-v3.5", "query": "how to contain a host", "documents": DOCS, "top_n": 2})
    );
}

#[tokio::test]
async fn tei_protocol_shape() {
    let body = json!([{"index": 0, "score": 0.7}, {"index": 1, "score": 0.2}]).to_string();
    let fake = Fake::start(vec![Action::Respond(200, vec![], body)]).await;
    let reranker = HttpReranker::new(HttpRerankerConfig {
        protocol: RerankProtocol::Tei,
        model: None,
        ..config(fake.url())
    })
    .unwrap();
    let scores = reranker.rerank("q", &DOCS, 1).await.unwrap();
    assert_eq!(
        scores,
        vec![RerankScore {
            index: 0,
            relevance_score: 0.7
        }]
    );
    assert_eq!(
        fake.seen()[0].body,
        json!({"query": "q", "texts": DOCS, "truncate": true})
    );
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    let fake = Fake::start(vec![
        Action::Respond(
            429,
            vec![("retry-after", "1".into())],
            "{\"message\":\"slow down\"}".into(),
        ),
        Action::Respond(200, vec![], ok_body()),
    ])
    .await;
    let reranker = HttpReranker::new(config(fake.url())).unwrap();
    let started = Instant::now();
    let scores = reranker.rerank("q", &DOCS, 2).await.unwrap();
    assert_eq!(scores.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_waited_for() {
    let fake = Fake::start(vec![Action::Respond(
        429,
        vec![("retry-after", "120".into())],
        "{}".into(),
    )])
    .await;
    let reranker = HttpReranker::new(config(fake.url())).unwrap();
    let started = Instant::now();
    let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
    assert_eq!(err.kind, RerankErrorKind::RateLimited);
    assert_eq!(err.status, Some(429));
    assert_eq!(err.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(err.attempts, 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let fake = Fake::start(vec![
        Action::Respond(500, vec![], "{\"error\":\"boom\"}".into()),
        Action::Respond(200, vec![], ok_body()),
    ])
    .await;
    let reranker = HttpReranker::new(config(fake.url())).unwrap();
    assert_eq!(reranker.rerank("q", &DOCS, 2).await.unwrap().len(), 2);

    let always = Fake::start(vec![
        Action::Respond(503, vec![], "down sk-rerank-secret".into()),
        Action::Respond(500, vec![], "down".into()),
        Action::Respond(502, vec![], "still down sk-rerank-secret".into()),
    ])
    .await;
    let reranker = HttpReranker::new(config(always.url())).unwrap();
    let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
    assert_eq!(err.kind, RerankErrorKind::Server);
    assert_eq!(err.status, Some(502));
    assert_eq!(err.attempts, 3);
    assert!(err.message.contains("still down [REDACTED]"), "{err}");
    assert!(!err.to_string().contains("sk-rerank-secret"));
    assert_eq!(always.seen().len(), 3);
}

#[tokio::test]
async fn malformed_bodies_are_not_retried() {
    for body in [
        "not json".to_owned(),
        json!({"results": [{"index": 5, "relevance_score": 0.3}]}).to_string(),
        json!({"results": [{"index": 0, "relevance_score": 0.3}, {"index": 0, "relevance_score": 0.2}]})
            .to_string(),
        json!({"data": []}).to_string(),
    ] {
        let fake = Fake::start(vec![Action::Respond(200, vec![], body.clone())]).await;
        let reranker = HttpReranker::new(config(fake.url())).unwrap();
        let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
        assert_eq!(err.kind, RerankErrorKind::MalformedResponse, "{body}: {err}");
        assert_eq!(err.attempts, 1);
        assert_eq!(fake.seen().len(), 1);
    }
}

#[tokio::test]
async fn rejected_requests_are_not_retried() {
    let fake = Fake::start(vec![Action::Respond(
        401,
        vec![],
        "{\"message\":\"invalid api token\"}".into(),
    )])
    .await;
    let reranker = HttpReranker::new(config(fake.url())).unwrap();
    let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
    assert_eq!(err.kind, RerankErrorKind::Rejected);
    assert_eq!(err.status, Some(401));
    assert!(err.message.contains("invalid api token"));
    assert_eq!(err.attempts, 1);
}

#[tokio::test]
async fn cut_connections_are_retried_then_reported() {
    let fake = Fake::start(vec![Action::Cut, Action::Respond(200, vec![], ok_body())]).await;
    let reranker = HttpReranker::new(config(fake.url())).unwrap();
    assert_eq!(reranker.rerank("q", &DOCS, 2).await.unwrap().len(), 2);
    assert_eq!(fake.seen().len(), 2);

    let fake = Fake::start(vec![Action::Cut, Action::CutBody, Action::Cut]).await;
    let reranker = HttpReranker::new(config(fake.url())).unwrap();
    let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
    assert_eq!(err.kind, RerankErrorKind::Connection, "{err}");
    assert_eq!(err.attempts, 3);
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let fake = Fake::start(vec![Action::Stall(Duration::from_secs(3))]).await;
    let reranker = HttpReranker::new(HttpRerankerConfig {
        max_retries: 0,
        request_timeout: Duration::from_millis(200),
        ..config(fake.url())
    })
    .unwrap();
    let started = Instant::now();
    let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
    assert_eq!(err.kind, RerankErrorKind::Timeout);
    assert_eq!(err.attempts, 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // The total time-out bounds retries too.
    let fake = Fake::start(vec![
        Action::Stall(Duration::from_secs(3)),
        Action::Stall(Duration::from_secs(3)),
        Action::Stall(Duration::from_secs(3)),
    ])
    .await;
    let reranker = HttpReranker::new(HttpRerankerConfig {
        max_retries: 5,
        request_timeout: Duration::from_millis(200),
        total_timeout: Duration::from_millis(500),
        ..config(fake.url())
    })
    .unwrap();
    let started = Instant::now();
    let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
    assert_eq!(err.kind, RerankErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn nothing_is_sent_for_empty_or_oversized_requests() {
    let fake = Fake::start(vec![]).await;
    let reranker = HttpReranker::new(HttpRerankerConfig {
        max_documents: 1,
        ..config(fake.url())
    })
    .unwrap();
    assert!(reranker.rerank("q", &[], 3).await.unwrap().is_empty());
    let err = reranker.rerank("q", &DOCS, 2).await.unwrap_err();
    assert_eq!(err.kind, RerankErrorKind::InvalidRequest);
    assert_eq!(err.attempts, 0);
    assert!(fake.seen().is_empty());
}
