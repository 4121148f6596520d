//! HTTP load on loopback against the real server: authenticated `GET /v1/agents`, and a chat turn on the
//! scripted provider streamed as server-sent events, on SQLite and on PostgreSQL.
//!
//! `cargo bench -p secops-benches --bench http_load` (PostgreSQL from `SECOPS_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; a throw-away database is created and dropped).
//!
//! The server is `secops_server::app` behind `axum::serve` on `127.0.0.1:0`, on its own tokio runtime; the load
//! generator is a keep-alive `reqwest` client on another runtime in the same process. Setup goes through the
//! API: register (user + organisation, bearer token), create an agent with its prompt, create chats. The model
//! is a cycled `ScriptedProvider` answering one short text, so what is measured is the server's own cost:
//! HTTP, authentication, the database writes of the run, its events, the messages and the audit record, and SSE.
//!
//! Open loop: request i is sent at start + i / rate whatever happened to earlier ones, and its latency counts
//! from that scheduled time (no coordinated omission); for a chat turn, up to the last byte of the stream.
//! The first `SECOPS_BENCH_WARMUP_SECS` are not counted. Chat turn i goes to chat i mod K, with K chosen so
//! that each chat gets about `SECOPS_BENCH_TURNS_PER_CHAT` turns (history stays short and constant, instead of
//! one chat's history growing to the 500-message cap). Closed-loop lines (`SECOPS_BENCH_CLIENTS` clients,
//! each sending its next request when the last one finished) give the latency without queueing (1 client)
//! and the maximum throughput (16 clients).
//!
//! Settings: `SECOPS_BENCH_RPS` (500), `SECOPS_BENCH_SECS` (10), `SECOPS_BENCH_WARMUP_SECS` (2),
//! `SECOPS_BENCH_CLIENTS` (`1,16`), `SECOPS_BENCH_CLOSED_SECS` (5), `SECOPS_BENCH_TURNS_PER_CHAT` (10),
//! `SECOPS_BENCH_MAX_IN_FLIGHT` (1024), `SECOPS_BENCH_NODELAY` (1, as `secops serve` sets it:
//! `TCP_NODELAY` on accepted connections; 0: Nagle's algorithm left on), `SECOPS_BENCH_BACKENDS` (`sqlite,postgres`).
//!
//! Target: p99 latency of a streamed chat turn under 2 ms at 500 requests/s.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    missing_docs
)]

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use secops_core::model::{ScriptedProvider, ScriptedTurn, Usage};
use secops_server::config::Config;
use secops_server::state::AppState;
use secops_store::testing::FreshPostgres;
use secops_store::{ConnectOptions, Store};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

const TARGET_P99: Duration = Duration::from_millis(2);
const CHAT_TEXT: &str = r#"{"text":"Is ws-042 compromised?"}"#;

struct Settings {
    rps: f64,
    secs: f64,
    warmup: f64,
    clients: Vec<usize>,
    closed_secs: f64,
    turns_per_chat: usize,
    max_in_flight: usize,
    nodelay: bool,
    backends: Vec<String>,
}

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Self {
        Self {
            rps: env_or("SECOPS_BENCH_RPS", 500.0_f64).max(1.0),
            secs: env_or("SECOPS_BENCH_SECS", 10.0_f64).max(0.1),
            warmup: env_or("SECOPS_BENCH_WARMUP_SECS", 2.0_f64).max(0.0),
            clients: env_or("SECOPS_BENCH_CLIENTS", "1,16".to_owned())
                .split(',')
                .filter_map(|c| c.trim().parse().ok())
                .filter(|&c| c > 0)
                .collect(),
            closed_secs: env_or("SECOPS_BENCH_CLOSED_SECS", 5.0_f64).max(0.0),
            turns_per_chat: env_or("SECOPS_BENCH_TURNS_PER_CHAT", 10_usize).max(1),
            max_in_flight: env_or("SECOPS_BENCH_MAX_IN_FLIGHT", 1024_usize).max(1),
            nodelay: env_or("SECOPS_BENCH_NODELAY", 1_u8) != 0,
            backends: env_or("SECOPS_BENCH_BACKENDS", "sqlite,postgres".to_owned())
                .split(',')
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty())
                .collect(),
        }
    }

    /// Chats per phase, so each gets about `turns_per_chat` turns at the open-loop rate.
    fn chats(&self) -> usize {
        let turns = (self.rps * (self.warmup + self.secs)).ceil() as usize;
        let clients = self.clients.iter().copied().max().unwrap_or(1);
        turns.div_ceil(self.turns_per_chat).max(clients)
    }
}

/// The scripted model: one short final answer, streamed as one delta, with fixed usage (no estimation).
fn provider() -> Arc<ScriptedProvider> {
    Arc::new(
        ScriptedProvider::new(vec![ScriptedTurn::text("Checked: nothing suspicious.")])
            .cycled()
            .with_chunk_bytes(64)
            .with_usage(Usage {
                input_tokens: 200,
                output_tokens: 8,
                ..Usage::default()
            }),
    )
}

/// The server under test, on its own runtime.
struct Server {
    rt: Runtime,
    base: String,
    state: AppState,
    stop: CancellationToken,
    serving: JoinHandle<std::io::Result<()>>,
    background: JoinHandle<()>,
    dir: PathBuf,
    pg: Option<FreshPostgres>,
}

impl Server {
    fn start(postgres: bool, nodelay: bool) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("secops-server")
            .enable_all()
            .build()?;
        let dir = std::env::temp_dir().join(format!("secops-http-load-{}", uuid::Uuid::now_v7().simple()));
        let d = dir.display().to_string();
        let config = Config::load_from(None, |name| (name == "SECOPS_DATA_DIR").then(|| d.clone()))?;
        let (store, pg) = rt.block_on(async {
            if postgres {
                let admin = std::env::var("SECOPS_TEST_DATABASE_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let pg = FreshPostgres::create(&admin)
                    .await
                    .map_err(|e| format!("PostgreSQL at {admin}: {e}"))?;
                Ok::<_, BoxError>((pg.app.clone(), Some(pg)))
            } else {
                // As `secops serve` connects.
                let store = Store::connect(&config.database_url, ConnectOptions::default()).await?;
                store.migrate().await?;
                Ok((store, None))
            }
        })?;
        let state = AppState::new(store, config, Some(provider()));
        let app = secops_server::app(state.clone());
        let stop = CancellationToken::new();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let base = format!("http://{}", listener.local_addr()?);
        let shutdown = stop.clone().cancelled_owned();
        // As `secops serve`: the worker's loop renews leases and, on PostgreSQL, listens for changes.
        let background = rt.spawn(std::sync::Arc::clone(&state.worker).run(state.clone(), stop.clone()));
        // The server's accept loop is owned by this struct and stopped through `stop`.
        let serving = if nodelay {
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            rt.spawn(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await })
        } else {
            rt.spawn(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await })
        };
        Ok(Self {
            rt,
            base,
            state,
            stop,
            serving,
            background,
            dir,
            pg,
        })
    }

    /// Stops serving, waits for runs in flight, and removes the database.
    fn stop(self) -> Result<()> {
        let Self {
            rt,
            state,
            stop,
            serving,
            background,
            dir,
            pg,
            ..
        } = self;
        let result = rt.block_on(async move {
            stop.cancel();
            // Graceful shutdown waits for open connections; the load client is gone by now.
            let _ = tokio::time::timeout(Duration::from_secs(10), serving).await;
            // Its change listener holds a database connection that must close before the database is dropped.
            let _ = background.await;
            state.worker.drain(&state.store, Duration::from_secs(10)).await;
            match pg {
                Some(pg) => pg.drop_all().await?,
                None => state.store.close().await,
            }
            Ok::<(), BoxError>(())
        });
        drop(rt);
        let _ = std::fs::remove_dir_all(dir);
        result
    }
}

/// What the load sends, and where.
struct Target {
    client: reqwest::Client,
    base: String,
    bearer: String,
    chat_urls: Vec<String>,
    next_chat: AtomicUsize,
}

#[derive(Clone, Copy)]
enum Scenario {
    Health,
    Agents,
    ChatTurn,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::Health => "GET /healthz (floor)",
            Scenario::Agents => "GET /v1/agents",
            Scenario::ChatTurn => "chat turn, SSE",
        }
    }
}

impl Target {
    async fn request(&self, scenario: Scenario) -> Result<(), String> {
        match scenario {
            Scenario::Health => {
                let res = self
                    .client
                    .get(format!("{}/healthz", self.base))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                drain_json(res).await
            }
            Scenario::Agents => {
                let res = self
                    .client
                    .get(format!("{}/v1/agents", self.base))
                    .header(AUTHORIZATION, &self.bearer)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                drain_json(res).await
            }
            Scenario::ChatTurn => {
                let i = self.next_chat.fetch_add(1, Ordering::Relaxed);
                let url = &self.chat_urls[i % self.chat_urls.len()];
                let mut res = self
                    .client
                    .post(url)
                    .header(AUTHORIZATION, &self.bearer)
                    .header(ACCEPT, "text/event-stream")
                    .header(CONTENT_TYPE, "application/json")
                    .body(CHAT_TEXT)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !res.status().is_success() {
                    let status = res.status();
                    let body = res.text().await.unwrap_or_default();
                    return Err(format!("{status}: {body}"));
                }
                // The stream ends when the run has ended and every event was sent.
                let mut body = Vec::with_capacity(2048);
                while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
                    body.extend_from_slice(&chunk);
                }
                let text = String::from_utf8_lossy(&body);
                if text.contains("event: error") || !text.contains("event: finished") {
                    return Err(format!("the stream did not finish: {text}"));
                }
                Ok(())
            }
        }
    }
}

async fn drain_json(res: reqwest::Response) -> Result<(), String> {
    let status = res.status();
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

/// A call during setup: must succeed, returns the JSON body.
async fn call(client: &reqwest::Client, url: String, bearer: Option<&str>, body: Value) -> Result<Value> {
    let mut req = client
        .post(&url)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(b) = bearer {
        req = req.header(AUTHORIZATION, b);
    }
    let res = req.send().await?;
    let status = res.status();
    let value: Value = serde_json::from_slice(&res.bytes().await?)?;
    if !status.is_success() {
        return Err(format!("POST {url}: {status}: {value}").into());
    }
    Ok(value)
}

fn field(v: &Value, name: &str) -> Result<String> {
    v[name]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no `{name}` in {v}").into())
}

/// Registers a user and organisation, creates an agent (with its prompt); returns the bearer and agent id.
async fn setup(client: &reqwest::Client, base: &str) -> Result<(String, String)> {
    let email = format!("bench-{}@example.com", uuid::Uuid::now_v7().simple());
    let session = call(
        client,
        format!("{base}/v1/auth/register"),
        None,
        json!({"email": email, "password": "correct horse battery", "organization_name": "Bench"}),
    )
    .await?;
    let bearer = format!("Bearer {}", field(&session, "access_token")?);
    let agent = call(
        client,
        format!("{base}/v1/agents"),
        Some(&bearer),
        json!({"name": "triage", "system_prompt": "You triage alerts. Answer in one sentence."}),
    )
    .await?;
    Ok((bearer, field(&agent, "id")?))
}

async fn create_chats(
    client: &reqwest::Client,
    base: &str,
    bearer: &str,
    agent: &str,
    n: usize,
) -> Result<Vec<String>> {
    let mut urls = Vec::with_capacity(n);
    for i in 0..n {
        let chat = call(
            client,
            format!("{base}/v1/chats"),
            Some(bearer),
            json!({"agent_id": agent, "title": format!("bench {i}")}),
        )
        .await?;
        urls.push(format!("{base}/v1/chats/{}/messages", field(&chat, "id")?));
    }
    Ok(urls)
}

struct Sample {
    done: Instant,
    latency: Duration,
    lag: Duration,
    outcome: Result<(), String>,
}

struct Report {
    rate: f64,
    errors: usize,
    first_error: Option<String>,
    /// Latencies of the successful requests, sorted.
    latencies: Vec<Duration>,
    /// How late the generator sent requests (open loop only; part of the latencies).
    lag_p99: Option<Duration>,
}

impl Report {
    fn p(&self, q: f64) -> Duration {
        percentile(&self.latencies, q)
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(samples: Vec<Sample>, rate: f64, with_lag: bool) -> Report {
    let mut latencies = Vec::with_capacity(samples.len());
    let mut lags = Vec::with_capacity(samples.len());
    let mut errors = 0;
    let mut first_error = None;
    for s in samples {
        lags.push(s.lag);
        match s.outcome {
            Ok(()) => latencies.push(s.latency),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    latencies.sort_unstable();
    lags.sort_unstable();
    Report {
        rate,
        errors,
        first_error,
        latencies,
        lag_p99: with_lag.then(|| percentile(&lags, 0.99)),
    }
}

/// Sends requests at a fixed rate from this thread; each runs on `rt` and is timed from its scheduled start.
fn open_loop(rt: &Runtime, target: &Arc<Target>, scenario: Scenario, s: &Settings) -> Report {
    let total = (s.rps * (s.warmup + s.secs)).round() as usize;
    let warm = (s.rps * s.warmup).round() as usize;
    let gate = Arc::new(Semaphore::new(s.max_in_flight));
    let start = Instant::now() + Duration::from_millis(20);
    let mut handles = Vec::with_capacity(total);
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / s.rps);
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            // This is the generator's own thread, not a runtime worker: a thread sleep wakes within tens of µs,
            // a tokio timer only to the millisecond, which would show up in every latency.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(wait);
        }
        let target = Arc::clone(target);
        let gate = Arc::clone(&gate);
        handles.push(rt.spawn(async move {
            let lag = at.elapsed();
            let outcome = match gate.acquire_owned().await {
                Ok(permit) => {
                    let r = target.request(scenario).await;
                    drop(permit);
                    r
                }
                Err(e) => Err(e.to_string()),
            };
            let done = Instant::now();
            Sample {
                done,
                latency: done.duration_since(at),
                lag,
                outcome,
            }
        }));
    }
    let samples: Vec<Sample> = rt.block_on(async move {
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.unwrap_or_else(|e| Sample {
                done: Instant::now(),
                latency: Duration::ZERO,
                lag: Duration::ZERO,
                outcome: Err(e.to_string()),
            }));
        }
        out
    });
    let measured_from = start + Duration::from_secs_f64(warm as f64 / s.rps);
    let measured: Vec<Sample> = samples.into_iter().skip(warm).collect();
    let last = measured.iter().map(|m| m.done).max().unwrap_or(measured_from);
    let ok = measured.iter().filter(|m| m.outcome.is_ok()).count();
    let window = last.duration_since(measured_from).as_secs_f64().max(1e-9);
    report(measured, ok as f64 / window, true)
}

/// `clients` tasks, each sending its next request when the last one finished; one second of warm-up.
fn closed_loop(rt: &Runtime, target: &Arc<Target>, scenario: Scenario, clients: usize, secs: f64) -> Report {
    let samples: Vec<Sample> = rt.block_on(async {
        let begin = Instant::now();
        let from = begin + Duration::from_secs(1);
        let until = from + Duration::from_secs_f64(secs);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let target = Arc::clone(target);
            set.spawn(async move {
                let mut out = Vec::new();
                loop {
                    let t0 = Instant::now();
                    if t0 >= until {
                        break;
                    }
                    let outcome = target.request(scenario).await;
                    let done = Instant::now();
                    if t0 >= from {
                        out.push(Sample {
                            done,
                            latency: done.duration_since(t0),
                            lag: Duration::ZERO,
                            outcome,
                        });
                    }
                }
                out
            });
        }
        let mut all = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(mut v) = r {
                all.append(&mut v);
            }
        }
        all
    });
    let ok = samples.iter().filter(|m| m.outcome.is_ok()).count();
    report(samples, ok as f64 / secs.max(1e-9), false)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_row(backend: &str, scenario: Scenario, mode: &str, r: &Report) {
    let lag = r
        .lag_p99
        .map_or_else(|| "-".to_owned(), |l| format!("{:.2}", ms(l)));
    println!(
        "{backend:<9} {:<21} {mode:<11} {:>8.0} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {lag:>8}",
        scenario.label(),
        r.rate,
        r.errors,
        ms(r.p(0.50)),
        ms(r.p(0.90)),
        ms(r.p(0.99)),
        ms(r.latencies.last().copied().unwrap_or_default()),
    );
    if let Some(e) = &r.first_error {
        let e: String = e.chars().take(300).collect();
        eprintln!("{backend:<9} {}: first error: {e}", scenario.label());
    }
}

/// Runs every scenario against one backend; returns the open-loop chat turn's report.
fn bench_backend(
    client_rt: &Runtime,
    server: &Server,
    name: &str,
    s: &Settings,
    floor: bool,
) -> Result<Report> {
    let client = client_rt.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(s.max_in_flight)
            .timeout(Duration::from_secs(30))
            .build()
    })?;
    let base = server.base.clone();
    let (bearer, agent) = client_rt.block_on(setup(&client, &base))?;
    let open = format!("open {}/s", s.rps);
    let target = |chat_urls: Vec<String>| {
        Arc::new(Target {
            client: client.clone(),
            base: base.clone(),
            bearer: bearer.clone(),
            chat_urls,
            next_chat: AtomicUsize::new(0),
        })
    };
    let plain = target(Vec::new());
    if floor {
        let r = open_loop(client_rt, &plain, Scenario::Health, s);
        print_row(name, Scenario::Health, &open, &r);
    }
    let r = open_loop(client_rt, &plain, Scenario::Agents, s);
    print_row(name, Scenario::Agents, &open, &r);
    let chats = client_rt.block_on(create_chats(&client, &base, &bearer, &agent, s.chats()))?;
    let chat_open = open_loop(client_rt, &target(chats), Scenario::ChatTurn, s);
    print_row(name, Scenario::ChatTurn, &open, &chat_open);
    for &clients in s.clients.iter().filter(|_| s.closed_secs > 0.0) {
        let closed = format!("closed x{clients}");
        let r = closed_loop(client_rt, &plain, Scenario::Agents, clients, s.closed_secs);
        print_row(name, Scenario::Agents, &closed, &r);
        let chats = client_rt.block_on(create_chats(&client, &base, &bearer, &agent, s.chats()))?;
        let r = closed_loop(
            client_rt,
            &target(chats),
            Scenario::ChatTurn,
            clients,
            s.closed_secs,
        );
        print_row(name, Scenario::ChatTurn, &closed, &r);
    }
    Ok(chat_open)
}

fn main() -> Result<()> {
    let s = Settings::from_env();
    println!(
        "secops-server HTTP load on loopback: open loop at {} req/s for {} s after {} s warm-up (latency from the \
         scheduled send); closed loop with {:?} clients for {} s each; scripted model; {} chats per phase (~{} turns each); \
         TCP_NODELAY on the server: {}; {} CPUs shared by server and load generator",
        s.rps,
        s.secs,
        s.warmup,
        s.clients,
        s.closed_secs,
        s.chats(),
        s.turns_per_chat,
        if s.nodelay {
            "yes"
        } else {
            "no (as `secops serve`)"
        },
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
    );
    println!(
        "{:<9} {:<21} {:<11} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "backend", "scenario", "mode", "req/s", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "lag p99"
    );
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load")
        .enable_all()
        .build()?;
    let mut verdicts = Vec::new();
    for (i, name) in s.backends.iter().enumerate() {
        let postgres = match name.as_str() {
            "sqlite" => false,
            "postgres" => true,
            other => return Err(format!("unknown backend `{other}` (sqlite, postgres)").into()),
        };
        let server = Server::start(postgres, s.nodelay)?;
        let result = bench_backend(&client_rt, &server, name, &s, i == 0);
        let stopped = server.stop();
        let chat = result?;
        stopped?;
        verdicts.push(format!(
            "{name} p99 {:.2} ms{}: {}",
            ms(chat.p(0.99)),
            if chat.errors > 0 {
                format!(" ({} errors)", chat.errors)
            } else {
                String::new()
            },
            if chat.errors == 0 && chat.p(0.99) < TARGET_P99 {
                "met"
            } else {
                "NOT met"
            }
        ));
    }
    println!(
        "target: streamed chat turn p99 < 2 ms at {} req/s: {}",
        s.rps,
        verdicts.join("; ")
    );
    Ok(())
}
