//! Connecting to an MCP server, listing its tools and following their changes.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use rmcp::model::{
    ClientCapabilities, ClientConfig, Implementation, PaginatedRequestParams, ProtocolVersion,
};
use rmcp::service::{
    ClientInitializeError, MaybeSendFuture, NotificationContext, RoleClient, RunningService,
};
use rmcp::transport::common::client_side_sse::ExponentialBackoff;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientCacheConfig, ClientHandler, ServiceError, ServiceExt};
use secops_core::tool::{RiskLevel, Tool, ToolDefinition};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::McpError;
use super::server::{McpServer, Transport, redact};
use super::tool::{
    Connection, McpTool, guard_error, name_problem, refused_credentials, risk_from, root_cause,
};
use crate::egress::EgressClient;

/// More pages than this is a server looping on its cursors.
const MAX_PAGES: usize = 100;

/// Longest wait between two attempts to reopen a broken event stream of an HTTP server.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);

/// How long [`McpClient::close`] waits for the server to shut down before giving up on it (a stdio server is
/// killed by then).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How an [`McpClient`] treats the server's tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpOptions {
    /// Time-out of each request to the server: the handshake, each page of `tools/list`, each `tools/call`.
    /// A [`ToolRegistry`](secops_core::tool::ToolRegistry) also times its calls out; the shorter one wins.
    pub request_timeout: Duration,
    /// Put before every tool name (e.g. `intel_` makes `lookup_ip` into `intel_lookup_ip`), so tools of
    /// several servers cannot collide. At most 63 characters of `A-Z`, `a-z`, `0-9`, `_` and `-`.
    pub name_prefix: Option<String>,
    /// The risk of a tool, keyed by its name as the server lists it or as exposed (with the prefix), whatever
    /// the server's annotations say.
    pub risk_overrides: HashMap<String, RiskLevel>,
}

impl Default for McpOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            name_prefix: None,
            risk_overrides: HashMap::new(),
        }
    }
}

impl McpOptions {
    /// Sets [`request_timeout`](Self::request_timeout).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`name_prefix`](Self::name_prefix).
    #[must_use]
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// Adds a [`risk_overrides`](Self::risk_overrides) entry.
    #[must_use]
    pub fn risk(mut self, tool: impl Into<String>, risk: RiskLevel) -> Self {
        self.risk_overrides.insert(tool.into(), risk);
        self
    }
}

/// A tool the server listed that is not exposed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedTool {
    /// The name as the server listed it.
    pub name: String,
    /// Why it was left out (e.g. a name that breaks `[A-Za-z0-9_-]{1,64}`).
    pub reason: String,
}

/// Hears the server's notifications; `tools/list_changed` wakes the task that lists the tools again.
#[derive(Debug, Clone)]
struct Handler {
    list_changed: Arc<Notify>,
}

impl ClientHandler for Handler {
    fn on_tool_list_changed(
        &self,
        _context: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        // Re-listing here would run on rmcp's notification task, outside the client's control; a stored
        // permit also folds a burst of notifications into one listing.
        self.list_changed.notify_one();
        std::future::ready(())
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("secops", env!("CARGO_PKG_VERSION")),
        )
        // The newest version with the `initialize` handshake and session-wide notifications (later ones
        // deliver `list_changed` only on subscription streams).
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }
}

/// What the client and its background listing share.
struct Shared {
    connection: Arc<Connection>,
    options: McpOptions,
    tools: watch::Sender<Vec<Arc<dyn Tool>>>,
    skipped: std::sync::Mutex<Vec<SkippedTool>>,
    /// One listing at a time, so an older listing never replaces a newer one.
    listing: tokio::sync::Mutex<()>,
}

impl Shared {
    async fn refresh(&self) -> Result<(), McpError> {
        let _one_at_a_time = self.listing.lock().await;
        let listed = self.list().await?;
        let (tools, skipped) = self.expose(listed);
        self.tools.send_replace(tools);
        *self.skipped.lock().unwrap_or_else(PoisonError::into_inner) = skipped;
        Ok(())
    }

    /// Every page of `tools/list`, each page with its own time-out.
    async fn list(&self) -> Result<Vec<rmcp::model::Tool>, McpError> {
        let connection = &self.connection;
        let server = || connection.server.clone();
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let params = PaginatedRequestParams::default().with_cursor(cursor.take());
            let page = tokio::time::timeout(
                connection.request_timeout,
                connection.peer.list_tools(Some(params)),
            )
            .await
            .map_err(|_| McpError::Timeout {
                server: server(),
                request: "tools/list",
                after: connection.request_timeout,
            })?
            .map_err(|e| self.list_error(&e))?;
            tools.extend(page.tools);
            match page.next_cursor {
                None => return Ok(tools),
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(McpError::List {
                        server: server(),
                        reason: "the server returned the same page cursor twice".into(),
                    });
                }
                Some(next) => cursor = Some(next),
            }
        }
        Err(McpError::List {
            server: server(),
            reason: format!("the list has more than {MAX_PAGES} pages"),
        })
    }

    fn list_error(&self, error: &ServiceError) -> McpError {
        let server = self.connection.server.clone();
        let secrets = &self.connection.secrets;
        match error {
            ServiceError::TransportClosed => McpError::Gone {
                server,
                reason: "its connection closed".into(),
            },
            ServiceError::TransportSend(e) => McpError::Gone {
                server,
                reason: redact(&root_cause(e), secrets),
            },
            ServiceError::McpError(e) => McpError::List {
                server,
                reason: redact(
                    &format!("the server answered with an error: {}", e.message),
                    secrets,
                ),
            },
            other => McpError::List {
                server,
                reason: redact(&other.to_string(), secrets),
            },
        }
    }

    /// The listed tools as secops tools, and those that cannot be.
    fn expose(&self, listed: Vec<rmcp::model::Tool>) -> (Vec<Arc<dyn Tool>>, Vec<SkippedTool>) {
        let prefix = self.options.name_prefix.as_deref().unwrap_or("");
        let mut tools: Vec<Arc<dyn Tool>> = Vec::with_capacity(listed.len());
        let mut skipped = Vec::new();
        let mut names = HashSet::new();
        for tool in listed {
            let remote = tool.name.to_string();
            let name = format!("{prefix}{remote}");
            if let Some(problem) = name_problem(&name) {
                skipped.push(SkippedTool {
                    name: remote,
                    reason: format!("`{name}` cannot be a tool name: {problem}"),
                });
                continue;
            }
            if !names.insert(name.clone()) {
                skipped.push(SkippedTool {
                    name: remote,
                    reason: "the server listed this name more than once".into(),
                });
                continue;
            }
            let description = tool
                .description
                .as_deref()
                .or(tool.title.as_deref())
                .map_or_else(|| format!("The `{remote}` tool of an MCP server."), str::to_owned);
            let risk = self
                .options
                .risk_overrides
                .get(&name)
                .or_else(|| self.options.risk_overrides.get(&remote))
                .copied()
                .unwrap_or_else(|| risk_from(tool.annotations.as_ref()));
            let definition = ToolDefinition::new(
                name,
                description,
                serde_json::Value::Object(tool.input_schema.as_ref().clone()),
            )
            .with_risk(risk)
            .with_untrusted_output();
            tools.push(Arc::new(McpTool {
                definition,
                remote_name: remote,
                connection: Arc::clone(&self.connection),
            }));
        }
        (tools, skipped)
    }
}

/// A connection to one MCP server, whose tools are exposed as secops tools.
///
/// Dropping the client ends the connection (a stdio server is killed); [`close`](Self::close) does it
/// gracefully. Tools taken from a closed client fail with [`ToolError::Unavailable`].
///
/// [`ToolError::Unavailable`]: secops_core::tool::ToolError::Unavailable
pub struct McpClient {
    shared: Arc<Shared>,
    service: Option<RunningService<RoleClient, Handler>>,
    /// The task following `tools/list_changed`; aborted with the client.
    tasks: JoinSet<()>,
}

impl fmt::Debug for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tools: Vec<String> = self
            .shared
            .tools
            .borrow()
            .iter()
            .map(|t| t.definition().name.clone())
            .collect();
        f.debug_struct("McpClient")
            .field("server", &self.shared.connection.server)
            .field("tools", &tools)
            .finish_non_exhaustive()
    }
}

impl McpClient {
    /// Starts or reaches `server`, completes the MCP handshake and lists its tools.
    ///
    /// An HTTP server is reached through `egress`'s policy (its connect time-out and response cap too); a
    /// stdio server does not use it.
    pub async fn connect(
        server: impl Into<McpServer>,
        egress: &EgressClient,
        options: McpOptions,
    ) -> Result<Self, McpError> {
        let server = server.into();
        check_prefix(options.name_prefix.as_deref())?;
        let name = server.display_name();
        let secrets = server.secrets();
        let list_changed = Arc::new(Notify::new());
        let handler = Handler {
            list_changed: Arc::clone(&list_changed),
        };
        let timeout = options.request_timeout;
        let handshake = match &server.transport {
            Transport::Stdio(stdio) => {
                let mut command = process_wrap::tokio::CommandWrap::from(stdio.command());
                // Its own process group, so killing it also kills what it started (`npx` runs `node`).
                #[cfg(unix)]
                command.wrap(process_wrap::tokio::ProcessGroup::leader());
                let (transport, _stderr) =
                    TokioChildProcess::builder(command)
                        .spawn()
                        .map_err(|e| McpError::Spawn {
                            command: name.clone(),
                            reason: redact(&e.to_string(), &secrets),
                        })?;
                tokio::time::timeout(timeout, handler.serve(transport)).await
            }
            Transport::Http(http) => {
                let url = egress.check_url(http.url()).map_err(McpError::Egress)?;
                let headers = http.header_map()?;
                // Reads may wait as long as a request may; each request is timed out here.
                let read_timeout = timeout.max(egress.config().timeout);
                let client = egress.streaming_http(read_timeout).map_err(McpError::Egress)?;
                let cap = egress.config().max_response_bytes;
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .custom_headers(headers)
                    .max_json_response_size(cap)
                    .max_sse_event_size(cap);
                // rmcp's default doubles the wait between reconnections without bound, so after a long outage
                // the server's notifications would come back only hours later.
                let mut backoff = ExponentialBackoff::default();
                backoff.max_delay = Some(MAX_RECONNECT_DELAY);
                config.retry_config = Arc::new(backoff);
                let transport = StreamableHttpClientTransport::with_client(client, config);
                tokio::time::timeout(timeout, handler.serve(transport)).await
            }
        };
        let mut service = match handshake {
            Err(_) => {
                return Err(McpError::Timeout {
                    server: name,
                    request: "initialize",
                    after: timeout,
                });
            }
            Ok(Err(e)) => return Err(handshake_error(&e, name, &secrets)),
            Ok(Ok(service)) => service,
        };
        // Our listing must always ask the server: a cached or stale answer would hide a change or an exit.
        service
            .peer()
            .set_response_cache_config(ClientCacheConfig::disabled())
            .await;
        let shared = Arc::new(Shared {
            connection: Arc::new(Connection {
                server: name,
                peer: service.peer().clone(),
                request_timeout: timeout,
                secrets,
            }),
            options,
            tools: watch::Sender::new(Vec::new()),
            skipped: std::sync::Mutex::default(),
            listing: tokio::sync::Mutex::new(()),
        });
        if let Err(e) = shared.refresh().await {
            let _ = service.close_with_timeout(CLOSE_TIMEOUT).await;
            return Err(e);
        }
        let mut tasks = JoinSet::new();
        let follower = Arc::clone(&shared);
        tasks.spawn(async move {
            loop {
                list_changed.notified().await;
                if let Err(e) = follower.refresh().await {
                    tracing::warn!(
                        server = %follower.connection.server,
                        error = %e,
                        "the MCP server's tools changed but could not be listed again"
                    );
                    if matches!(e, McpError::Gone { .. }) {
                        return;
                    }
                }
            }
        });
        Ok(Self {
            shared,
            service: Some(service),
            tasks,
        })
    }

    /// The server's tools as they were last listed. Each is named with the prefix, has the server's
    /// description and input schema, a risk from its annotations (or the override), and untrusted output.
    #[must_use]
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.shared.tools.borrow().clone()
    }

    /// A receiver that sees every new list of tools (after `tools/list_changed` or [`refresh`](Self::refresh)).
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Vec<Arc<dyn Tool>>> {
        self.shared.tools.subscribe()
    }

    /// The tools the server listed that are not exposed, and why.
    #[must_use]
    pub fn skipped(&self) -> Vec<SkippedTool> {
        self.shared
            .skipped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How errors name the server: its command, or its URL without credentials or query.
    #[must_use]
    pub fn server(&self) -> &str {
        &self.shared.connection.server
    }

    /// Lists the tools again now.
    pub async fn refresh(&self) -> Result<(), McpError> {
        self.shared.refresh().await
    }

    /// Ends the connection: an HTTP session is deleted, a stdio server's input is closed and it is given a
    /// few seconds to exit before it is killed.
    pub async fn close(mut self) {
        self.tasks.abort_all();
        if let Some(mut service) = self.service.take() {
            let _ = service.close_with_timeout(CLOSE_TIMEOUT).await;
        }
    }
}

fn check_prefix(prefix: Option<&str>) -> Result<(), McpError> {
    let Some(prefix) = prefix else {
        return Ok(());
    };
    if let Some(problem) = name_problem(prefix) {
        return Err(McpError::InvalidOption(format!(
            "the name prefix `{prefix}` is unusable: {problem}"
        )));
    }
    if prefix.len() > 63 {
        return Err(McpError::InvalidOption(
            "the name prefix leaves no room for a tool name (at most 63 characters)".into(),
        ));
    }
    Ok(())
}

fn handshake_error(error: &ClientInitializeError, server: String, secrets: &[String]) -> McpError {
    if error.is_authorization_required() {
        return McpError::Unauthorized { server };
    }
    let reason = match error {
        ClientInitializeError::TransportError { error, .. } => {
            if let Some(guard) = guard_error(error) {
                return McpError::Egress(guard);
            }
            if refused_credentials(error) {
                return McpError::Unauthorized { server };
            }
            root_cause(error)
        }
        ClientInitializeError::ConnectionClosed(_) => {
            "the server closed the connection before answering `initialize` (its standard error may say why)"
                .to_owned()
        }
        ClientInitializeError::JsonRpcError(e) => {
            format!("the server answered `initialize` with an error: {}", e.message)
        }
        other => other.to_string(),
    };
    McpError::Handshake {
        server,
        reason: redact(&reason, secrets),
    }
}
