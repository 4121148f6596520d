//! Splunk: run a search through the REST API, as a one-shot search or as a search job that is polled until it
//! is done, within a time range and a result cap. Authenticated with a Splunk authentication token (Bearer) or
//! a user and password (Basic).
//!
//! Wire formats, from Splunk's REST API reference: `POST /services/search/jobs` with a form body (`search`,
//! `exec_mode`, `earliest_time`, `latest_time`, `count`, `output_mode=json`). `exec_mode=oneshot` answers the
//! results at once (`{"results": [...]}`); `exec_mode=normal` answers 201 `{"sid"}`, after which
//! `GET /services/search/jobs/{sid}` reports `entry[0].content.isDone`/`isFailed`/`dispatchState` and
//! `GET /services/search/jobs/{sid}/results` returns the results. Errors carry `{"messages": [{"type", "text"}]}`.

use std::time::Duration;

use base64::Engine;
use schemars::JsonSchema;
use secops_core::tool::{ToolContext, ToolError, TypedTool};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::egress::{EgressClient, EgressResponse, Method};

/// How to authenticate to Splunk.
#[derive(Clone, PartialEq, Eq)]
pub enum SplunkAuth {
    /// A Splunk authentication token.
    Token(String),
    /// A user and password.
    Basic {
        /// The user.
        username: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for SplunkAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SplunkAuth([REDACTED])")
    }
}

impl SplunkAuth {
    pub(crate) fn header(&self) -> String {
        match self {
            SplunkAuth::Token(t) => format!("Bearer {t}"),
            SplunkAuth::Basic { username, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            ),
        }
    }
}

/// How a search runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Results in the answer (small, fast searches).
    Oneshot,
    /// A search job, polled until done (long searches).
    Job,
}

/// A search.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplunkQuery {
    /// SPL, e.g. `index=edr host=ws-042 | stats count by process_name`.
    pub query: String,
    /// Start of the time range (Splunk time, default `-24h`).
    #[serde(default)]
    pub earliest: Option<String>,
    /// End of the time range (default `now`).
    #[serde(default)]
    pub latest: Option<String>,
    /// At most this many results (1 to 1000, default 100).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub max_results: Option<u32>,
    /// `oneshot` (default) or `job`.
    #[serde(default)]
    pub mode: Option<SearchMode>,
}

/// Search results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplunkResults {
    /// The rows.
    pub results: Vec<Value>,
    /// Whether the cap cut them off.
    pub truncated: bool,
}

/// The `splunk_search` tool.
#[derive(Debug, Clone)]
pub struct SplunkSearch {
    client: EgressClient,
    base: String,
    auth: SplunkAuth,
    poll_every: Duration,
}

impl SplunkSearch {
    /// Searches the Splunk management API at `base` (`https://splunk.example.com:8089`).
    #[must_use]
    pub fn new(client: EgressClient, base: impl Into<String>, auth: SplunkAuth) -> Self {
        Self {
            client,
            base: base.into().trim_end_matches('/').to_owned(),
            auth,
            poll_every: Duration::from_millis(500),
        }
    }

    /// How often a job's status is checked.
    #[must_use]
    pub fn poll_every(mut self, every: Duration) -> Self {
        self.poll_every = every;
        self
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Result<EgressResponse, ToolError> {
        let mut req = self
            .client
            .request(method, &format!("{}{path}", self.base))
            .map_err(|e| ToolError::Unavailable(format!("Splunk is unreachable: {e}")))?
            .header("authorization", self.auth.header());
        if let Some(form) = form {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter().copied())
                .finish();
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let res = self
            .client
            .send(req)
            .await
            .map_err(|e| ToolError::Unavailable(format!("Splunk is unreachable: {e}")))?;
        if res.status.is_success() {
            return Ok(res);
        }
        let answer: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        let detail: Vec<String> = answer["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect();
        let detail = detail.join("; ");
        Err(match res.status.as_u16() {
            400 => ToolError::InvalidInput(format!("Splunk rejected the search: {detail}")),
            401 | 403 => {
                ToolError::Unavailable(format!("Splunk refused the configured credentials: {detail}"))
            }
            429 | 503 => {
                ToolError::Unavailable(format!("Splunk is busy ({}); retry later: {detail}", res.status))
            }
            _ => ToolError::Failed(format!("Splunk answered {}: {detail}", res.status)),
        })
    }

    fn json(res: &EgressResponse) -> Result<Value, ToolError> {
        serde_json::from_slice(&res.body)
            .map_err(|_| ToolError::Unavailable("Splunk's answer is not JSON".into()))
    }
}

fn rows(answer: &Value, cap: usize) -> SplunkResults {
    let all = answer["results"].as_array().cloned().unwrap_or_default();
    SplunkResults {
        truncated: all.len() >= cap,
        results: all.into_iter().take(cap).collect(),
    }
}

impl TypedTool for SplunkSearch {
    type Input = SplunkQuery;
    type Output = SplunkResults;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "splunk_search"
    }

    fn description(&self) -> &str {
        "Run an SPL search in Splunk over a time range and return the result rows."
    }

    async fn run(&self, ctx: &ToolContext, input: SplunkQuery) -> Result<SplunkResults, ToolError> {
        let query = input.query.trim();
        if query.is_empty() {
            return Err(ToolError::InvalidInput("the search is empty".into()));
        }
        // The REST API wants a generating command first; a bare filter means `search`.
        let spl = if query.starts_with('|') || query.starts_with("search ") {
            query.to_owned()
        } else {
            format!("search {query}")
        };
        let cap = input.max_results.unwrap_or(100).clamp(1, 1000);
        let count = cap.to_string();
        let earliest = input.earliest.as_deref().unwrap_or("-24h");
        let latest = input.latest.as_deref().unwrap_or("now");
        let mode = input.mode.unwrap_or(SearchMode::Oneshot);
        let exec_mode = match mode {
            SearchMode::Oneshot => "oneshot",
            SearchMode::Job => "normal",
        };
        let form = [
            ("search", spl.as_str()),
            ("exec_mode", exec_mode),
            ("earliest_time", earliest),
            ("latest_time", latest),
            ("count", count.as_str()),
            ("output_mode", "json"),
        ];
        let created = Self::json(
            &self
                .call(Method::POST, "/services/search/jobs", Some(&form))
                .await?,
        )?;
        let cap = usize::try_from(cap).unwrap_or(usize::MAX);
        if mode == SearchMode::Oneshot {
            return Ok(rows(&created, cap));
        }
        let sid = created["sid"]
            .as_str()
            .filter(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
            })
            .ok_or_else(|| ToolError::Unavailable("Splunk did not return a usable search id".into()))?
            .to_owned();
        loop {
            let status = Self::json(
                &self
                    .call(
                        Method::GET,
                        &format!("/services/search/jobs/{sid}?output_mode=json"),
                        None,
                    )
                    .await?,
            )?;
            let content = &status["entry"][0]["content"];
            if content["isFailed"] == Value::Bool(true) || content["dispatchState"] == "FAILED" {
                let why: Vec<&str> = content["messages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["text"].as_str())
                    .collect();
                return Err(ToolError::Failed(format!(
                    "the Splunk search failed: {}",
                    why.join("; ")
                )));
            }
            if content["isDone"] == Value::Bool(true) {
                break;
            }
            tokio::select! {
                () = ctx.cancellation.cancelled() => {
                    return Err(ToolError::Failed("cancelled while the Splunk search ran".into()));
                }
                () = tokio::time::sleep(self.poll_every) => {}
            }
        }
        let results = Self::json(
            &self
                .call(
                    Method::GET,
                    &format!("/services/search/jobs/{sid}/results?output_mode=json&count={cap}"),
                    None,
                )
                .await?,
        )?;
        Ok(rows(&results, cap))
    }
}
