//! Where an MCP server is: a command to start (stdio) or a URL (streamable HTTP).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use reqwest::header::{HeaderName, HeaderValue};

use super::McpError;

/// What a stdio server gets from our environment without being told: enough to find programs, a home and a
/// locale, and none of the credentials our own process holds.
const DEFAULT_INHERITED_ENV: &[&str] = &[
    "HOME", "LANG", "LC_ALL", "LOGNAME", "PATH", "SHELL", "TERM", "TMPDIR", "USER",
];

/// Headers the streamable HTTP transport sets itself; a configured value would break the session.
const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
];

/// Shortest secret searched for in error text: shorter values would match ordinary words.
const MIN_REDACTED_LEN: usize = 4;

/// An MCP server to connect to: build one with [`McpServer::stdio`] or [`McpServer::http`].
#[derive(Clone)]
pub struct McpServer {
    pub(crate) transport: Transport,
}

#[derive(Clone)]
pub(crate) enum Transport {
    Stdio(StdioServer),
    Http(HttpServer),
}

impl McpServer {
    /// A server started as a child process speaking MCP over its standard input and output. `command` is found
    /// on `PATH` like a shell would.
    #[must_use]
    pub fn stdio(command: impl Into<String>) -> StdioServer {
        StdioServer {
            command: command.into(),
            args: Vec::new(),
            env: Vec::new(),
            inherit: Vec::new(),
            current_dir: None,
        }
    }

    /// A server reached over streamable HTTP at `url` (e.g. `https://mcp.example.com/mcp`).
    #[must_use]
    pub fn http(url: impl Into<String>) -> HttpServer {
        HttpServer {
            url: url.into(),
            headers: Vec::new(),
        }
    }

    /// How errors name the server: the command, or the URL without credentials, query or fragment.
    pub(crate) fn display_name(&self) -> String {
        match &self.transport {
            Transport::Stdio(s) => s.command.clone(),
            Transport::Http(h) => h.display_url(),
        }
    }

    /// Every configured value that must never appear in an error: environment values, header values (and the
    /// token inside `Bearer <token>`), and the URL's password and query.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        match &self.transport {
            Transport::Stdio(s) => out.extend(s.env.iter().map(|(_, v)| v.clone())),
            Transport::Http(h) => {
                for (_, value) in &h.headers {
                    out.push(value.clone());
                    out.extend(value.split_whitespace().map(str::to_owned));
                }
                if let Ok(url) = url::Url::parse(&h.url) {
                    out.extend(url.password().map(str::to_owned));
                    out.extend(url.query().map(str::to_owned));
                    out.extend(url.query_pairs().map(|(_, v)| v.into_owned()));
                }
            }
        }
        out.retain(|s| s.len() >= MIN_REDACTED_LEN);
        // Longest first, so a value containing a shorter one is replaced whole.
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        out.dedup();
        out
    }
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Stdio(s) => s.fmt(f),
            Transport::Http(h) => h.fmt(f),
        }
    }
}

/// A server started as a child process, speaking MCP over stdin and stdout; made by [`McpServer::stdio`].
///
/// The child does not inherit our environment: it gets `PATH`, `HOME`, `LANG`, `LC_ALL`, `LOGNAME`, `SHELL`,
/// `TERM`, `TMPDIR` and `USER` when we have them, the variables named with [`inherit_env`](Self::inherit_env),
/// and those set with [`env`](Self::env). Its standard error goes to ours, so its logs are not lost.
#[derive(Clone)]
pub struct StdioServer {
    command: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    inherit: Vec<String>,
    current_dir: Option<PathBuf>,
}

impl StdioServer {
    /// Adds an argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the server (e.g. its API token). The value is treated as a secret:
    /// it never appears in `Debug` output or errors. Prefer this to an argument for credentials.
    #[must_use]
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Passes one variable of our own environment through to the server, when it is set.
    #[must_use]
    pub fn inherit_env(mut self, name: impl Into<String>) -> Self {
        self.inherit.push(name.into());
        self
    }

    /// Sets the server's working directory.
    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// The command to spawn, with its environment built from scratch.
    pub(crate) fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.command);
        command.args(&self.args).env_clear();
        for name in DEFAULT_INHERITED_ENV
            .iter()
            .copied()
            .chain(self.inherit.iter().map(String::as_str))
        {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        // Dropping the client must not leave the server running, whatever else fails.
        command.kill_on_drop(true);
        command
    }
}

impl fmt::Debug for StdioServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(name, _)| format!("{name}=[REDACTED]"))
            .collect();
        f.debug_struct("StdioServer")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &env)
            .field("inherit_env", &self.inherit)
            .field("current_dir", &self.current_dir)
            .finish()
    }
}

impl From<StdioServer> for McpServer {
    fn from(server: StdioServer) -> Self {
        Self {
            transport: Transport::Stdio(server),
        }
    }
}

/// A server reached over streamable HTTP; made by [`McpServer::http`]. The connection goes through the
/// egress guard.
#[derive(Clone)]
pub struct HttpServer {
    url: String,
    headers: Vec<(String, String)>,
}

impl HttpServer {
    /// Adds a header sent with every request (e.g. an API key). The value is treated as a secret: it never
    /// appears in `Debug` output or errors.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer(self, token: impl AsRef<str>) -> Self {
        let value = format!("Bearer {}", token.as_ref());
        self.header("authorization", value)
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The URL without credentials, query or fragment.
    pub(crate) fn display_url(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut url) => {
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.set_query(None);
                url.set_fragment(None);
                url.to_string()
            }
            Err(_) => "(an invalid URL)".to_owned(),
        }
    }

    /// The headers for the transport, checked; values are marked sensitive so HTTP tooling does not print them.
    pub(crate) fn header_map(&self) -> Result<HashMap<HeaderName, HeaderValue>, McpError> {
        let mut out = HashMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let invalid = |reason| McpError::InvalidHeader {
                name: name.clone(),
                reason,
            };
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("it is not a valid header name"))?;
            if RESERVED_HEADERS.contains(&header.as_str()) {
                return Err(invalid("the MCP transport sets this header itself"));
            }
            let mut value =
                HeaderValue::from_str(value).map_err(|_| invalid("its value is not a valid header value"))?;
            value.set_sensitive(true);
            out.insert(header, value);
        }
        Ok(out)
    }
}

impl fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, _)| format!("{name}: [REDACTED]"))
            .collect();
        f.debug_struct("HttpServer")
            .field("url", &self.display_url())
            .field("headers", &headers)
            .finish()
    }
}

impl From<HttpServer> for McpServer {
    fn from(server: HttpServer) -> Self {
        Self {
            transport: Transport::Http(server),
        }
    }
}

/// `text` with every secret replaced by `[REDACTED]`: errors from the transport may quote what was sent.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "[REDACTED]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_and_secrets_hide_values() {
        let http = McpServer::http("https://user:hunter22@mcp.example.com/mcp?key=abcdef123#frag")
            .bearer("tok_very_secret")
            .header("x-api-key", "k-123456");
        let debug = format!("{http:?}");
        for secret in ["tok_very_secret", "k-123456", "hunter22", "abcdef123"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("authorization: [REDACTED]"), "{debug}");
        assert!(debug.contains("https://mcp.example.com/mcp"), "{debug}");
        let server: McpServer = http.into();
        assert_eq!(server.display_name(), "https://mcp.example.com/mcp");
        let secrets = server.secrets();
        let text = redact(
            "sent Authorization: Bearer tok_very_secret to ?key=abcdef123 with k-123456",
            &secrets,
        );
        assert_eq!(
            text,
            "sent Authorization: [REDACTED] to ?[REDACTED] with [REDACTED]"
        );

        let stdio = McpServer::stdio("npx")
            .args(["-y", "server"])
            .env("API_TOKEN", "s3cr3t-value");
        let debug = format!("{stdio:?}");
        assert!(!debug.contains("s3cr3t-value"), "{debug}");
        assert!(debug.contains("API_TOKEN=[REDACTED]"), "{debug}");
    }

    #[test]
    fn reserved_and_malformed_headers_are_refused_without_their_value() {
        let bad = McpServer::http("https://x.example/mcp").header("Accept", "text/html");
        assert!(matches!(
            bad.header_map(),
            Err(McpError::InvalidHeader { ref name, .. }) if name == "Accept"
        ));
        let bad = McpServer::http("https://x.example/mcp").header("x-key", "line\nbreak-secret");
        let err = bad.header_map().unwrap_err().to_string();
        assert!(!err.contains("break-secret"), "{err}");
        let ok = McpServer::http("https://x.example/mcp")
            .bearer("abc")
            .header_map()
            .unwrap();
        let value = &ok[&HeaderName::from_static("authorization")];
        assert!(value.is_sensitive());
        assert_eq!(value, "Bearer abc");
    }
}
