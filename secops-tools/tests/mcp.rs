//! The MCP client against a real MCP server in a separate process, over stdio and over streamable HTTP.
//!
//! This test binary is its own fixture: run with `SECOPS_MCP_FIXTURE=stdio` it is an MCP server on its standard
//! input and output, with `SECOPS_MCP_FIXTURE=http` one on `127.0.0.1:0` (printing its address, requiring a
//! bearer token). Without it, `main` runs the cases, each of which starts fresh fixture processes. The target
//! has `harness = false`; `main` answers `--list` the way libtest does, so `cargo nextest` works too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs
)]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secops_core::message::ToolCall;
use secops_core::tool::{RiskLevel, Tool, ToolError, ToolOptions, ToolOutcome, ToolOutput, ToolRegistry};
use secops_tools::egress::{EgressClient, EgressConfig, EgressError, EgressPolicy};
use secops_tools::mcp::{McpClient, McpError, McpOptions, McpServer, SkippedTool};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

const FIXTURE_ENV: &str = "SECOPS_MCP_FIXTURE";
const TOKEN_ENV: &str = "SECOPS_MCP_FIXTURE_TOKEN";
const TOKEN: &str = "fixture-token-7f3a9c52e1";

fn main() -> ExitCode {
    match std::env::var(FIXTURE_ENV).as_deref() {
        Ok("stdio") => return fixture::run_stdio(),
        Ok("http") => return fixture::run_http(),
        _ => {}
    }
    harness::run(cases())
}

// ---------------------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stdio,
    Http,
}

type Case = Pin<Box<dyn Future<Output = ()> + Send>>;
type Cases = Vec<(&'static str, fn() -> Case)>;

fn cases() -> Cases {
    vec![
        ("stdio_list", || Box::pin(list(Kind::Stdio))),
        ("stdio_call", || Box::pin(call_success(Kind::Stdio))),
        ("stdio_is_error", || Box::pin(call_is_error(Kind::Stdio))),
        ("stdio_invalid_input_refused_by_registry", || {
            Box::pin(invalid_input(Kind::Stdio))
        }),
        ("stdio_timeout_and_cancellation", || {
            Box::pin(timeout_and_cancellation(Kind::Stdio))
        }),
        ("stdio_list_changed_followed", || {
            Box::pin(list_changed(Kind::Stdio))
        }),
        ("stdio_server_exit", || Box::pin(server_exit(Kind::Stdio))),
        ("stdio_env_passed_ours_withheld", || Box::pin(stdio_env())),
        ("stdio_spawn_failure", || Box::pin(stdio_spawn_failure())),
        ("stdio_drop_kills_server", || Box::pin(stdio_drop_kills_server())),
        ("http_list", || Box::pin(list(Kind::Http))),
        ("http_call", || Box::pin(call_success(Kind::Http))),
        ("http_is_error", || Box::pin(call_is_error(Kind::Http))),
        ("http_invalid_input_refused_by_registry", || {
            Box::pin(invalid_input(Kind::Http))
        }),
        ("http_timeout_and_cancellation", || {
            Box::pin(timeout_and_cancellation(Kind::Http))
        }),
        ("http_list_changed_followed", || {
            Box::pin(list_changed(Kind::Http))
        }),
        ("http_server_exit", || Box::pin(server_exit(Kind::Http))),
        ("http_wrong_token", || Box::pin(http_wrong_token())),
        ("http_egress_refuses_loopback_unless_allowed", || {
            Box::pin(http_egress_loopback())
        }),
        ("http_file_scheme_refused", || Box::pin(http_file_scheme())),
        ("http_handshake_timeout", || Box::pin(http_handshake_timeout())),
    ]
}

/// A fixture server: for stdio the command (the client starts it), for HTTP a running process and its URL.
struct Fixture {
    server: McpServer,
    /// The HTTP fixture process; killed when dropped.
    _process: Option<tokio::process::Child>,
    url: Option<String>,
}

fn exe() -> String {
    std::env::current_exe().unwrap().to_string_lossy().into_owned()
}

async fn start(kind: Kind) -> Fixture {
    match kind {
        Kind::Stdio => Fixture {
            server: McpServer::stdio(exe()).env(FIXTURE_ENV, "stdio").into(),
            _process: None,
            url: None,
        },
        Kind::Http => {
            let (process, url) = start_http().await;
            Fixture {
                server: McpServer::http(url.clone()).bearer(TOKEN).into(),
                _process: Some(process),
                url: Some(url),
            }
        }
    }
}

/// Starts the HTTP fixture and reads the address it prints.
async fn start_http() -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(exe())
        .env(FIXTURE_ENV, "http")
        .env(TOKEN_ENV, TOKEN)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the HTTP fixture printed no address")
        .unwrap()
        .unwrap();
    let addr = line.strip_prefix("listening on ").unwrap().trim().to_owned();
    (child, format!("http://{addr}/mcp"))
}

fn loopback() -> EgressClient {
    support::loopback_client()
}

async fn connect(kind: Kind, options: McpOptions) -> (McpClient, Fixture) {
    let fixture = start(kind).await;
    let client = McpClient::connect(fixture.server.clone(), &loopback(), options)
        .await
        .unwrap_or_else(|e| panic!("connect over {kind:?}: {e}"));
    (client, fixture)
}

fn tool(client: &McpClient, name: &str) -> Arc<dyn Tool> {
    client
        .tools()
        .into_iter()
        .find(|t| t.definition().name == name)
        .unwrap_or_else(|| panic!("no tool `{name}`"))
}

async fn call(client: &McpClient, name: &str, input: Value) -> Result<ToolOutput, ToolError> {
    tool(client, name).call(&support::ctx(), input).await
}

fn tool_call(name: &str, input: Value) -> ToolCall {
    ToolCall {
        id: "call_1".into(),
        name: name.into(),
        input,
    }
}

async fn stats(client: &McpClient, name: &str) -> Value {
    let out = call(client, name, json!({})).await.unwrap();
    serde_json::from_str(&out.content).unwrap()
}

/// Waits until `check` holds, polling, for at most `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn list(kind: Kind) {
    let options = McpOptions::default()
        .name_prefix("fx_")
        .risk("exit", RiskLevel::High)
        .risk("fx_add_tool", RiskLevel::Low);
    let (client, _fixture) = connect(kind, options).await;
    let names: Vec<String> = client
        .tools()
        .iter()
        .map(|t| t.definition().name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "fx_lookup_ip",
            "fx_isolate_host",
            "fx_fail",
            "fx_slow",
            "fx_add_tool",
            "fx_exit",
            "fx_report",
            "fx_getenv",
            "fx_stats",
            "fx_pid",
        ]
    );
    assert_eq!(
        client.skipped(),
        [SkippedTool {
            name: "bad name!".into(),
            reason: "`fx_bad name!` cannot be a tool name: the name contains ` `; tool names have only A-Z, a-z, 0-9, `_` and `-`".into(),
        }]
    );
    let lookup = tool(&client, "fx_lookup_ip");
    let def = lookup.definition();
    assert_eq!(
        def.description,
        "Look up an IPv4 address in the fixture's threat intelligence."
    );
    assert_eq!(
        def.input_schema,
        fixture::lookup_schema(),
        "schema passed through unchanged"
    );
    assert_eq!(def.risk, RiskLevel::Low, "readOnlyHint");
    assert!(def.untrusted_output);
    let risk = |name: &str| tool(&client, name).definition().risk;
    assert_eq!(risk("fx_isolate_host"), RiskLevel::High, "destructiveHint");
    assert_eq!(risk("fx_fail"), RiskLevel::Medium, "no annotations");
    assert_eq!(
        risk("fx_exit"),
        RiskLevel::High,
        "overridden by the server's name"
    );
    assert_eq!(
        risk("fx_add_tool"),
        RiskLevel::Low,
        "overridden by the exposed name"
    );
    assert!(client.tools().iter().all(|t| t.definition().untrusted_output));
    // 11 tools, 4 to a page: the client followed the cursor through 3 pages.
    assert_eq!(stats(&client, "fx_stats").await["list_pages"], 3);
    // The tools register as they are: names and schemas are valid for the registry.
    let mut registry = ToolRegistry::new();
    for t in client.tools() {
        registry.register(t).unwrap();
    }
    assert_eq!(registry.len(), 10);
    client.close().await;
}

async fn call_success(kind: Kind) {
    let (client, _fixture) = connect(kind, McpOptions::default()).await;
    let out = call(&client, "lookup_ip", json!({"ip": "203.0.113.7"}))
        .await
        .unwrap();
    assert_eq!(
        out.content,
        "203.0.113.7: known scanner (fixture), first seen 2024-01-02"
    );
    let out = call(&client, "report", json!({})).await.unwrap();
    assert_eq!(
        out.content,
        "summary: 2 hosts\n[image image/png, 8 bytes of base64 left out]\n{\"hosts\":[\"ws-042\",\"ws-043\"]}"
    );
    // Through a registry the output arrives as untrusted outside data.
    let mut registry = ToolRegistry::new();
    for t in client.tools() {
        registry.register(t).unwrap();
    }
    let done = registry
        .execute(
            &support::ctx(),
            &tool_call("isolate_host", json!({"host": "ws-042"})),
        )
        .await;
    assert_eq!(done.outcome, ToolOutcome::Success);
    assert_eq!(
        done.content,
        "<tool_output source=\"isolate_host\" trust=\"untrusted\">\nisolated ws-042\n</tool_output>"
    );
    client.close().await;
}

async fn call_is_error(kind: Kind) {
    let (client, _fixture) = connect(kind, McpOptions::default()).await;
    let result = call(&client, "fail", json!({})).await;
    assert_eq!(
        result,
        Err(ToolError::Failed(
            "the EDR rejected the request: host ws-999 not found".into()
        ))
    );
    client.close().await;
}

async fn invalid_input(kind: Kind) {
    let (client, _fixture) = connect(kind, McpOptions::default()).await;
    let mut registry = ToolRegistry::new();
    for t in client.tools() {
        registry.register(t).unwrap();
    }
    for input in [
        json!({"ip": 42}),
        json!({}),
        json!({"ip": "1.2.3.4", "extra": true}),
    ] {
        let done = registry
            .execute(&support::ctx(), &tool_call("lookup_ip", input.clone()))
            .await;
        assert_eq!(done.outcome, ToolOutcome::InvalidInput, "{input}");
        assert!(
            done.content
                .starts_with("The arguments for `lookup_ip` do not match its input schema: "),
            "{}",
            done.content
        );
    }
    let seen = stats(&client, "stats").await;
    assert_eq!(
        seen["calls"].get("lookup_ip"),
        None,
        "refused before the server: {seen}"
    );
    let done = registry
        .execute(&support::ctx(), &tool_call("lookup_ip", json!({"ip": "1.2.3.4"})))
        .await;
    assert_eq!(done.outcome, ToolOutcome::Success);
    assert_eq!(stats(&client, "stats").await["calls"]["lookup_ip"], 1);
    client.close().await;
}

async fn timeout_and_cancellation(kind: Kind) {
    let options = McpOptions::default().request_timeout(Duration::from_secs(1));
    let (client, _fixture) = connect(kind, options).await;
    let server = client.server().to_owned();

    // The client's own request time-out.
    let started = Instant::now();
    let result = call(&client, "slow", json!({"seconds": 30})).await;
    assert_eq!(
        result,
        Err(ToolError::Unavailable(format!(
            "the MCP server `{server}` did not answer the call to `slow` within 1s"
        )))
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The server was told to stop.
    eventually(
        Duration::from_secs(5),
        "the server saw the cancellation",
        || async { stats(&client, "stats").await["cancelled"] == 1 },
    )
    .await;

    // The caller's cancellation.
    let ctx = support::ctx();
    let token = ctx.cancellation.clone();
    let slow = tool(&client, "slow");
    let started = Instant::now();
    let (result, ()) = tokio::join!(slow.call(&ctx, json!({"seconds": 30})), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        token.cancel();
    });
    assert_eq!(
        result,
        Err(ToolError::Unavailable(format!(
            "the call to `slow` on the MCP server `{server}` was cancelled"
        )))
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    eventually(
        Duration::from_secs(5),
        "the server saw the second cancellation",
        || async { stats(&client, "stats").await["cancelled"] == 2 },
    )
    .await;

    // A registry's time-out, shorter than the client's.
    let mut registry = ToolRegistry::new().with_defaults(ToolOptions {
        timeout: Duration::from_millis(300),
        ..ToolOptions::default()
    });
    for t in client.tools() {
        registry.register(t).unwrap();
    }
    let done = registry
        .execute(&support::ctx(), &tool_call("slow", json!({"seconds": 30})))
        .await;
    assert_eq!(done.outcome, ToolOutcome::TimedOut);
    assert_eq!(done.content, "`slow` did not finish within 300 ms.");

    // The connection is still usable.
    let out = call(&client, "lookup_ip", json!({"ip": "198.51.100.1"}))
        .await
        .unwrap();
    assert_eq!(out.content, "198.51.100.1: no record (fixture)");
    client.close().await;
}

async fn list_changed(kind: Kind) {
    let (client, _fixture) = connect(kind, McpOptions::default()).await;
    let mut changes = client.subscribe();
    assert!(!client.tools().iter().any(|t| t.definition().name == "whois"));
    let out = call(&client, "add_tool", json!({"name": "whois"})).await.unwrap();
    assert_eq!(out.content, "added whois");
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if changes
                .borrow_and_update()
                .iter()
                .any(|t| t.definition().name == "whois")
            {
                break;
            }
            changes.changed().await.unwrap();
        }
    })
    .await
    .expect("the new tool did not appear within 10 s");
    let whois = tool(&client, "whois");
    assert_eq!(whois.definition().description, "Added at run time: whois.");
    assert_eq!(whois.definition().risk, RiskLevel::Medium);
    assert!(whois.definition().untrusted_output);
    let out = whois.call(&support::ctx(), json!({})).await.unwrap();
    assert_eq!(out.content, "whois called");
    assert_eq!(client.tools().len(), 11);
    client.close().await;
}

async fn server_exit(kind: Kind) {
    let options = McpOptions::default().request_timeout(Duration::from_secs(5));
    let (client, _fixture) = connect(kind, options).await;
    let server = client.server().to_owned();
    let gone = format!("the MCP server `{server}` is gone");

    let started = Instant::now();
    let result = call(&client, "exit", json!({})).await;
    let Err(ToolError::Unavailable(message)) = result else {
        panic!("{result:?}");
    };
    if kind == Kind::Stdio {
        assert_eq!(
            message,
            format!("{gone} (its connection closed); reconnect to use its tools")
        );
    } else {
        // The HTTP response stream broke mid-call: either seen as gone, or waited out.
        assert!(
            message.starts_with(&format!("the MCP server `{server}` ")),
            "{message}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    // Later calls fail at once, clearly.
    let started = Instant::now();
    let result = call(&client, "lookup_ip", json!({"ip": "203.0.113.7"})).await;
    let Err(ToolError::Unavailable(message)) = result else {
        panic!("{result:?}");
    };
    assert!(message.starts_with(&gone), "{message}");
    assert!(!message.contains(TOKEN), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let refreshed = client.refresh().await;
    assert!(
        matches!(&refreshed, Err(McpError::Gone { server: s, .. }) if *s == server),
        "{refreshed:?}"
    );
    client.close().await;
}

async fn stdio_env() {
    let secret = "s3cret-value-for-the-server";
    let server = McpServer::stdio(exe())
        .env(FIXTURE_ENV, "stdio")
        .env("FIXTURE_SECRET", secret);
    assert!(!format!("{server:?}").contains(secret));
    let client = McpClient::connect(server, &loopback(), McpOptions::default())
        .await
        .unwrap();
    assert!(!format!("{client:?}").contains(secret));
    let getenv = |name: &str| {
        let client = &client;
        let name = name.to_owned();
        async move {
            call(client, "getenv", json!({"name": name}))
                .await
                .unwrap()
                .content
        }
    };
    assert_eq!(getenv("FIXTURE_SECRET").await, secret);
    assert_eq!(getenv("PATH").await, std::env::var("PATH").unwrap());
    // Our variables beyond the short list do not reach the server (cargo and nextest set several).
    let passed = [
        "HOME", "LANG", "LC_ALL", "LOGNAME", "PATH", "SHELL", "TERM", "TMPDIR", "USER",
    ];
    let ours: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| !passed.contains(&k.as_str()))
        .take(5)
        .collect();
    assert!(!ours.is_empty());
    for name in ours {
        assert_eq!(getenv(&name).await, "(unset)", "{name} leaked");
    }
    client.close().await;
}

async fn stdio_spawn_failure() {
    let result = McpClient::connect(
        McpServer::stdio("/nonexistent/secops-mcp-server").env("TOKEN", "never-shown-123"),
        &loopback(),
        McpOptions::default(),
    )
    .await;
    let Err(McpError::Spawn { command, reason }) = &result else {
        panic!("{result:?}");
    };
    assert_eq!(command, "/nonexistent/secops-mcp-server");
    assert!(reason.contains("No such file or directory"), "{reason}");
    assert!(!format!("{result:?}").contains("never-shown-123"));
}

async fn stdio_drop_kills_server() {
    let (client, _fixture) = connect(Kind::Stdio, McpOptions::default()).await;
    let pid: u32 = call(&client, "pid", json!({}))
        .await
        .unwrap()
        .content
        .parse()
        .unwrap();
    assert!(alive(pid));
    drop(client);
    eventually(
        Duration::from_secs(10),
        "the server process ended",
        || async move { !alive(pid) },
    )
    .await;
}

/// Whether a process runs (a zombie, dead but not yet reaped, does not count).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

async fn http_wrong_token() {
    let (_process, url) = start_http().await;
    let wrong = "wrong-token-0d1e2f3a4b";
    let result = McpClient::connect(
        McpServer::http(url.clone()).bearer(wrong),
        &loopback(),
        McpOptions::default(),
    )
    .await;
    let Err(error) = &result else {
        panic!("connected with a wrong token");
    };
    assert!(
        matches!(error, McpError::Unauthorized { server } if *server == url),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the MCP server `{url}` refused the configured credentials (HTTP 401/403); check the headers it is given"
        )
    );
    assert!(!error.to_string().contains(wrong));
    assert!(!format!("{error:?}").contains(wrong));
    // No header at all is refused the same way.
    let result = McpClient::connect(McpServer::http(url.clone()), &loopback(), McpOptions::default()).await;
    assert!(matches!(result, Err(McpError::Unauthorized { .. })), "{result:?}");
}

async fn http_egress_loopback() {
    let fixture = start(Kind::Http).await;
    let url = fixture.url.clone().unwrap();
    let public_only = EgressClient::new(EgressPolicy::public_only(), EgressConfig::default()).unwrap();

    // An IP literal is refused before any connection.
    let result = McpClient::connect(fixture.server.clone(), &public_only, McpOptions::default()).await;
    let Err(McpError::Egress(EgressError::Refused(refused))) = &result else {
        panic!("{result:?}");
    };
    assert_eq!(refused.address, "127.0.0.1".parse::<std::net::IpAddr>().unwrap());
    assert_eq!(refused.reason, "loopback (this machine)");

    // A name resolving to loopback is refused by the checked resolver.
    let by_name = url.replace("127.0.0.1", "localhost");
    let result = McpClient::connect(
        McpServer::http(by_name.clone()).bearer(TOKEN),
        &public_only,
        McpOptions::default(),
    )
    .await;
    let Err(McpError::Egress(EgressError::Refused(refused))) = &result else {
        panic!("{result:?}");
    };
    assert!(refused.address.is_loopback(), "{refused:?}");
    assert!(!format!("{result:?}").contains(TOKEN));

    // Allow-listed, both work.
    for server in [
        fixture.server.clone(),
        McpServer::http(by_name).bearer(TOKEN).into(),
    ] {
        let client = McpClient::connect(server, &loopback(), McpOptions::default())
            .await
            .unwrap();
        assert_eq!(client.tools().len(), 10);
        client.close().await;
    }
}

async fn http_file_scheme() {
    let result = McpClient::connect(
        McpServer::http("file:///etc/passwd"),
        &loopback(),
        McpOptions::default(),
    )
    .await;
    assert!(
        matches!(&result, Err(McpError::Egress(EgressError::Scheme(s))) if s == "file"),
        "{result:?}"
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        "the MCP server cannot be reached: the scheme `file` is not allowed; use http or https"
    );
}

async fn http_handshake_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut silent = tokio::task::JoinSet::new();
    silent.spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let url = format!("http://{addr}/mcp");
    let started = Instant::now();
    let result = McpClient::connect(
        McpServer::http(url.clone()),
        &loopback(),
        McpOptions::default().request_timeout(Duration::from_secs(1)),
    )
    .await;
    let Err(error) = result else {
        panic!("connected to a silent server");
    };
    assert!(
        matches!(&error, McpError::Timeout { server, request: "initialize", after } if *server == url && *after == Duration::from_secs(1)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("the MCP server `{url}` did not answer initialize within 1s")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ---------------------------------------------------------------------------------------------------------
// A small harness: libtest's output and `--list`, so `cargo test` and `cargo nextest` both run the cases
// ---------------------------------------------------------------------------------------------------------

mod harness {
    use std::process::ExitCode;
    use std::time::{Duration, Instant};

    use super::Cases;

    /// A case that takes longer has hung.
    const CASE_TIMEOUT: Duration = Duration::from_secs(90);

    pub(crate) fn run(cases: Cases) -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut filters = Vec::new();
        let (mut list, mut exact, mut ignored) = (false, false, false);
        let mut skip_next = false;
        for arg in &args {
            if skip_next {
                skip_next = false;
                continue;
            }
            match arg.as_str() {
                "--list" => list = true,
                "--exact" => exact = true,
                "--ignored" => ignored = true,
                "--format" | "--test-threads" | "--color" | "--logfile" | "--skip" | "-Z" => {
                    skip_next = true;
                }
                flag if flag.starts_with('-') => {}
                filter => filters.push(filter.to_owned()),
            }
        }
        let selected: Vec<_> = cases
            .into_iter()
            .filter(|(name, _)| {
                filters.is_empty()
                    || filters.iter().any(|f| {
                        if exact {
                            name == f
                        } else {
                            name.contains(f.as_str())
                        }
                    })
            })
            .collect();
        if list {
            // No case is ignored.
            if !ignored {
                for (name, _) in &selected {
                    println!("{name}: test");
                }
            }
            return ExitCode::SUCCESS;
        }
        if ignored {
            println!(
                "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n"
            );
            return ExitCode::SUCCESS;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        println!("\nrunning {} tests", selected.len());
        let mut failed = Vec::new();
        let mut passed = 0;
        for (name, case) in &selected {
            let outcome = runtime.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                set.spawn(case());
                match tokio::time::timeout(CASE_TIMEOUT, set.join_next()).await {
                    Ok(Some(Ok(()))) => Ok(()),
                    Ok(Some(Err(e))) => Err(if e.is_panic() {
                        "panicked".to_owned()
                    } else {
                        e.to_string()
                    }),
                    Ok(None) => Err("did not run".to_owned()),
                    Err(_) => Err(format!("timed out after {CASE_TIMEOUT:?}")),
                }
            });
            match outcome {
                Ok(()) => {
                    passed += 1;
                    println!("test {name} ... ok");
                }
                Err(why) => {
                    println!("test {name} ... FAILED ({why})");
                    failed.push(*name);
                }
            }
        }
        runtime.shutdown_timeout(Duration::from_secs(5));
        if !failed.is_empty() {
            println!("\nfailures:");
            for name in &failed {
                println!("    {name}");
            }
        }
        println!(
            "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
            if failed.is_empty() { "ok" } else { "FAILED" },
            failed.len(),
            started.elapsed().as_secs_f64()
        );
        if failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The fixture MCP server (rmcp's server side), run in a separate process
// ---------------------------------------------------------------------------------------------------------

mod fixture {
    use std::collections::BTreeMap;
    use std::io::Write;
    use std::process::ExitCode;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::extract::Request;
    use axum::http::{StatusCode, header};
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};
    use rmcp::model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData, JsonObject,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
    };
    use rmcp::service::{RequestContext, RoleServer};
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
    use rmcp::{ServerHandler, ServiceExt};
    use serde_json::{Value, json};

    use super::{TOKEN_ENV, Tokio};

    const PAGE: usize = 4;

    pub(crate) fn lookup_schema() -> Value {
        json!({
            "type": "object",
            "properties": {"ip": {"type": "string", "description": "An IPv4 address, e.g. 203.0.113.7"}},
            "required": ["ip"],
            "additionalProperties": false
        })
    }

    fn object(v: Value) -> JsonObject {
        match v {
            Value::Object(m) => m,
            _ => JsonObject::new(),
        }
    }

    fn base_tools() -> Vec<Tool> {
        let ro = || ToolAnnotations::new().read_only(true);
        let empty = || object(json!({"type": "object"}));
        vec![
            Tool::new(
                "lookup_ip",
                "Look up an IPv4 address in the fixture's threat intelligence.",
                object(lookup_schema()),
            )
            .with_annotations(ro()),
            Tool::new(
                "isolate_host",
                "Isolate a host from the network.",
                object(json!({"type": "object", "properties": {"host": {"type": "string"}}, "required": ["host"]})),
            )
            .with_annotations(ToolAnnotations::new().destructive(true)),
            Tool::new("fail", "Always fails.", empty()),
            Tool::new(
                "slow",
                "Sleeps.",
                object(json!({"type": "object", "properties": {"seconds": {"type": "number"}}, "required": ["seconds"]})),
            )
            .with_annotations(ro()),
            Tool::new(
                "add_tool",
                "Adds a tool and says the list changed.",
                object(json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})),
            ),
            Tool::new("exit", "Ends the server process.", empty()),
            Tool::new("report", "Text, an image and structured content.", empty()).with_annotations(ro()),
            Tool::new(
                "getenv",
                "Reads an environment variable of the server.",
                object(json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})),
            )
            .with_annotations(ro()),
            Tool::new("stats", "What the server saw.", empty()).with_annotations(ro()),
            Tool::new("pid", "The server's process id.", empty()).with_annotations(ro()),
            Tool::new("bad name!", "A name no provider accepts.", empty()),
        ]
    }

    #[derive(Default)]
    struct State {
        added: Vec<String>,
        calls: BTreeMap<String, u32>,
        cancelled: u32,
        list_pages: u32,
    }

    #[derive(Clone, Default)]
    struct Fixture {
        state: Arc<Mutex<State>>,
    }

    impl Fixture {
        fn tools(&self) -> Vec<Tool> {
            let mut tools = base_tools();
            for name in &self.state.lock().unwrap().added {
                tools.push(Tool::new(
                    name.clone(),
                    format!("Added at run time: {name}."),
                    object(json!({"type": "object"})),
                ));
            }
            tools
        }
    }

    fn text(t: impl Into<String>) -> Result<CallToolResponse, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text(t)]).into())
    }

    impl ServerHandler for Fixture {
        fn get_info(&self) -> ServerConfig {
            ServerConfig::new(
                ServerCapabilities::builder()
                    .enable_tools()
                    .enable_tool_list_changed()
                    .build(),
            )
        }

        async fn list_tools(
            &self,
            request: Option<PaginatedRequestParams>,
            _context: RequestContext<RoleServer>,
        ) -> Result<ListToolsResult, ErrorData> {
            self.state.lock().unwrap().list_pages += 1;
            let start: usize = request
                .and_then(|r| r.cursor)
                .map_or(0, |c| c.parse().unwrap_or(0));
            let all = self.tools();
            let end = (start + PAGE).min(all.len());
            let mut page = ListToolsResult::with_all_items(all[start.min(end)..end].to_vec());
            page.next_cursor = (end < all.len()).then(|| end.to_string());
            Ok(page)
        }

        async fn call_tool(
            &self,
            request: CallToolRequestParams,
            context: RequestContext<RoleServer>,
        ) -> Result<CallToolResponse, ErrorData> {
            let name = request.name.to_string();
            let args = request.arguments.unwrap_or_default();
            let arg = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            *self.state.lock().unwrap().calls.entry(name.clone()).or_default() += 1;
            match name.as_str() {
                "lookup_ip" => match arg("ip").as_str() {
                    "203.0.113.7" => text("203.0.113.7: known scanner (fixture), first seen 2024-01-02"),
                    ip => text(format!("{ip}: no record (fixture)")),
                },
                "isolate_host" => text(format!("isolated {}", arg("host"))),
                "fail" => Ok(CallToolResult::error(vec![ContentBlock::text(
                    "the EDR rejected the request: host ws-999 not found",
                )])
                .into()),
                "slow" => {
                    let seconds = args.get("seconds").and_then(Value::as_f64).unwrap_or(1.0);
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs_f64(seconds)) => text("slept"),
                        () = context.ct.cancelled() => {
                            self.state.lock().unwrap().cancelled += 1;
                            Err(ErrorData::internal_error("cancelled", None))
                        }
                    }
                }
                "add_tool" => {
                    let added = arg("name");
                    self.state.lock().unwrap().added.push(added.clone());
                    context.peer.notify_tool_list_changed().await.unwrap();
                    text(format!("added {added}"))
                }
                "exit" => std::process::exit(0),
                "report" => {
                    let mut result = CallToolResult::success(vec![
                        ContentBlock::text("summary: 2 hosts"),
                        ContentBlock::image("aGVsbG8=", "image/png"),
                    ]);
                    result.structured_content = Some(json!({"hosts": ["ws-042", "ws-043"]}));
                    Ok(result.into())
                }
                "getenv" => text(std::env::var(arg("name")).unwrap_or_else(|_| "(unset)".into())),
                "stats" => {
                    let state = self.state.lock().unwrap();
                    text(
                        json!({"calls": state.calls, "cancelled": state.cancelled, "list_pages": state.list_pages})
                            .to_string(),
                    )
                }
                "pid" => text(std::process::id().to_string()),
                added if self.state.lock().unwrap().added.iter().any(|a| a == added) => {
                    text(format!("{added} called"))
                }
                other => Err(ErrorData::invalid_params(format!("no tool `{other}`"), None)),
            }
        }
    }

    fn runtime() -> Tokio {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    pub(crate) fn run_stdio() -> ExitCode {
        runtime().block_on(async {
            let service = Fixture::default().serve(rmcp::transport::stdio()).await.unwrap();
            let _ = service.waiting().await;
        });
        ExitCode::SUCCESS
    }

    async fn require_token(request: Request, next: Next) -> Response {
        let expected = format!("Bearer {}", std::env::var(TOKEN_ENV).unwrap_or_default());
        let given = request.headers().get(header::AUTHORIZATION);
        if given.is_none_or(|v| v.as_bytes() != expected.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"fixture\"")],
                "missing or wrong bearer token",
            )
                .into_response();
        }
        next.run(request).await
    }

    pub(crate) fn run_http() -> ExitCode {
        runtime().block_on(async {
            let fixture = Fixture::default();
            let service: StreamableHttpService<Fixture, LocalSessionManager> = StreamableHttpService::new(
                move || Ok(fixture.clone()),
                Arc::default(),
                StreamableHttpServerConfig::default(),
            );
            let app = axum::Router::new()
                .nest_service("/mcp", service)
                .layer(axum::middleware::from_fn(require_token));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut out = std::io::stdout();
            writeln!(out, "listening on {addr}").unwrap();
            out.flush().unwrap();
            let mut tasks = tokio::task::JoinSet::new();
            tasks.spawn(async move { axum::serve(listener, app).await.unwrap() });
            // The parent holds our stdin: when it goes away, so do we.
            let mut stdin = tokio::io::stdin();
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdin, &mut sink).await;
        });
        ExitCode::SUCCESS
    }
}

type Tokio = tokio::runtime::Runtime;
