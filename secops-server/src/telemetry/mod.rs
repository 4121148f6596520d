//! Telemetry: Prometheus metrics (HTTP requests by route and status with latency, runs by status, tokens and
//! cost) and the process's logs ([`logs`]).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::{ApiError, Problem};

pub mod logs;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once; later calls reuse it.
pub fn init() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed by an embedding application; then we only serve ours.
            let _ = metrics::set_global_recorder(recorder);
            Some(handle)
        })
        .as_ref()
}

/// Counts and times every request by method, route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Records a run that stopped.
pub fn run_stopped(status: &str, usage: &secops_core::model::Usage, cost_usd: f64) {
    metrics::counter!("secops_runs_total", "status" => status.to_owned()).increment(1);
    metrics::counter!("secops_llm_tokens_total", "kind" => "input")
        .increment(usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens);
    metrics::counter!("secops_llm_tokens_total", "kind" => "output").increment(usage.output_tokens);
    metrics::counter!("secops_llm_cost_usd_total")
        .increment((cost_usd * 1_000_000.0).round().max(0.0) as u64);
}

/// Prometheus text exposition of every metric.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String), (status = 503, body = Problem)))]
pub async fn metrics() -> Response {
    match init() {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics_unavailable",
            "metrics are not recorded",
        )
        .into_response(),
    }
}
