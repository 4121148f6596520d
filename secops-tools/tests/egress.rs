//! The egress guard against a real server on loopback: forbidden ranges, names that resolve into them and
//! redirects into them are refused before any connection; an allow-listed loopback target works; size caps and
//! time-outs hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use secops_tools::egress::{EgressClient, EgressConfig, EgressError, EgressPolicy, Method};

struct Fake {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    /// Serves until the test ends (dropping the set stops it).
    _server: tokio::task::JoinSet<()>,
}

async fn fake() -> Fake {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let app = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/to-metadata",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://169.254.169.254/latest/meta-data/")],
                )
            }),
        )
        .route(
            "/to-private",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "http://10.0.0.1/")]) }),
        )
        .route(
            "/to-ftp",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "ftp://example.com/x")]) }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .route(
            "/to-ok",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ok")]) }),
        )
        .route("/big", get(|| async { vec![b'x'; 2048] }))
        .route(
            "/big-chunked",
            get(|| async {
                // No Content-Length: the cap must hold while reading.
                let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 100])));
                axum::body::Body::from_stream(futures::stream::iter(chunks)).into_response()
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        )
        .layer(axum::middleware::from_fn(
            move |req, next: axum::middleware::Next| {
                let counted = Arc::clone(&counted);
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    next.run(req).await
                }
            },
        ));
    let (addr, server) = support::serve(app).await;
    Fake {
        addr,
        hits,
        _server: server,
    }
}

fn client(policy: EgressPolicy) -> EgressClient {
    EgressClient::new(
        policy,
        EgressConfig {
            timeout: Duration::from_millis(500),
            max_response_bytes: 1024,
            ..EgressConfig::default()
        },
    )
    .unwrap()
}

async fn get_url(c: &EgressClient, url: &str) -> Result<secops_tools::egress::EgressResponse, EgressError> {
    let req = c.request(Method::GET, url)?;
    c.send(req).await
}

#[tokio::test]
async fn an_allow_listed_loopback_target_works_and_redirects_inside_it_are_followed() {
    let f = fake().await;
    let c = client(EgressPolicy::with_allow_list(&["127.0.0.1/32"]).unwrap());
    let ok = get_url(&c, &format!("http://{}/ok", f.addr)).await.unwrap();
    assert_eq!((ok.status.as_u16(), &ok.body[..]), (200, &b"ok"[..]));
    let followed = get_url(&c, &format!("http://{}/to-ok", f.addr)).await.unwrap();
    assert_eq!(followed.url.path(), "/ok");
}

#[tokio::test]
async fn every_forbidden_range_is_refused_before_connecting() {
    let f = fake().await;
    let c = client(EgressPolicy::public_only());
    let port = f.addr.port();
    for host in [
        "127.0.0.1".to_owned(),
        "10.0.0.1".into(),
        "172.16.5.4".into(),
        "192.168.1.1".into(),
        "169.254.169.254".into(),
        "100.64.0.1".into(),
        "0.0.0.0".into(),
        "[::1]".into(),
        "[fd00::1]".into(),
        "[fe80::1]".into(),
        "[::ffff:127.0.0.1]".into(),
    ] {
        let url = format!("http://{host}:{port}/ok");
        match get_url(&c, &url).await {
            Err(EgressError::Refused(r)) => assert!(r.to_string().contains("allow-list"), "{r}"),
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(f.hits.load(Ordering::SeqCst), 0, "nothing reached the server");
}

#[tokio::test]
async fn a_name_that_resolves_into_a_forbidden_range_is_refused() {
    let f = fake().await;
    let c = client(EgressPolicy::public_only());
    // `localhost` resolves (from /etc/hosts, no network) to loopback addresses only.
    let err = get_url(&c, &format!("http://localhost:{}/ok", f.addr.port()))
        .await
        .unwrap_err();
    assert!(matches!(err, EgressError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("loopback"), "{err}");
    assert_eq!(f.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn redirects_are_checked_like_the_first_url_and_limited() {
    let f = fake().await;
    let c = client(EgressPolicy::with_allow_list(&["127.0.0.1/32"]).unwrap());
    for (path, expect) in [
        ("/to-metadata", "refused"),
        ("/to-private", "refused"),
        ("/to-ftp", "scheme"),
        ("/loop", "redirects"),
    ] {
        let err = get_url(&c, &format!("http://{}{path}", f.addr))
            .await
            .unwrap_err();
        let ok = match expect {
            "refused" => matches!(err, EgressError::Refused(_)),
            "scheme" => matches!(err, EgressError::Scheme(_)),
            _ => matches!(err, EgressError::TooManyRedirects(3)),
        };
        assert!(ok, "{path}: {err:?}");
    }
}

#[tokio::test]
async fn only_http_and_https_and_well_formed_urls() {
    let c = client(EgressPolicy::public_only());
    for url in [
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/",
    ] {
        assert!(
            matches!(c.request(Method::GET, url), Err(EgressError::Scheme(_))),
            "{url}"
        );
    }
    assert!(matches!(
        c.request(Method::GET, "not a url"),
        Err(EgressError::InvalidUrl(_))
    ));
}

#[tokio::test]
async fn responses_are_capped_and_slow_servers_time_out() {
    let f = fake().await;
    let c = client(EgressPolicy::with_allow_list(&["127.0.0.1/32"]).unwrap());
    for path in ["/big", "/big-chunked"] {
        let err = get_url(&c, &format!("http://{}{path}", f.addr))
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::TooLarge(1024)), "{path}: {err:?}");
    }
    let err = get_url(&c, &format!("http://{}/slow", f.addr)).await.unwrap_err();
    assert!(matches!(err, EgressError::Timeout(_)), "{err:?}");
}
