//! Microsoft Defender for Endpoint: machine lookup, isolate and release, following the machine action until it
//! settles.
//!
//! Wire formats, from Microsoft's documentation: a token from Microsoft Entra ID
//! (`POST {login}/{tenant}/oauth2/v2.0/token`, form `client_id`, `client_secret`,
//! `scope=https://api.securitycenter.microsoft.com/.default`, `grant_type=client_credentials`); machines from
//! `GET /api/machines?$filter=computerDnsName eq '...'` (`{"value": [...]}`); `POST /api/machines/{id}/isolate`
//! with `{"Comment", "IsolationType"}` and `POST /api/machines/{id}/unisolate` with `{"Comment"}` answer 201 with
//! a machine action, whose state `GET /api/machineactions/{id}` reports (`Pending`, `InProgress`, `Succeeded`,
//! `Failed`, `TimeOut`, `Cancelled`). Errors are `{"error": {"code", "message"}}`; rate limits are 429 with
//! `Retry-After`.

use std::time::Duration;

use schemars::JsonSchema;
use secops_core::tool::{RiskLevel, ToolContext, ToolError, TypedTool};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::egress::{EgressClient, Method};
use crate::oauth::{ClientAuth, ClientCredentials};

/// Microsoft Entra ID's token service.
pub const ENTRA_LOGIN: &str = "https://login.microsoftonline.com";
/// The Defender for Endpoint API.
pub const DEFENDER_API: &str = "https://api.securitycenter.microsoft.com";

/// A Defender tenant: where to get tokens, the API, and the app registration's credentials.
#[derive(Clone)]
pub struct Defender {
    client: EgressClient,
    api: String,
    credentials: ClientCredentials,
    poll_every: Duration,
    polls: u32,
}

impl std::fmt::Debug for Defender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Defender")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

fn unreachable(e: &crate::egress::EgressError) -> ToolError {
    ToolError::Unavailable(format!("Defender is unreachable: {e}"))
}

impl Defender {
    /// The tenant `tenant_id` through `login` (e.g. [`ENTRA_LOGIN`]) and `api` (e.g. [`DEFENDER_API`]).
    #[must_use]
    pub fn new(
        client: EgressClient,
        login: &str,
        tenant_id: &str,
        api: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let credentials = ClientCredentials::new(
            "Microsoft Entra ID",
            format!("{}/{tenant_id}/oauth2/v2.0/token", login.trim_end_matches('/')),
            (client_id.into(), client_secret.into()),
            ClientAuth::Form,
            vec![
                (
                    "scope",
                    "https://api.securitycenter.microsoft.com/.default".to_owned(),
                ),
                ("grant_type", "client_credentials".to_owned()),
            ],
            Duration::from_secs(60),
        );
        Self {
            client,
            api: api.into().trim_end_matches('/').to_owned(),
            credentials,
            poll_every: Duration::from_secs(2),
            polls: 15,
        }
    }

    /// How often, and how many times, an action's state is checked before answering with its last state.
    #[must_use]
    pub fn polling(mut self, every: Duration, times: u32) -> Self {
        self.poll_every = every;
        self.polls = times;
        self
    }

    /// A token from the tenant's token endpoint: proves the client credentials work.
    pub(crate) async fn token(&self) -> Result<String, ToolError> {
        self.credentials.token(&self.client).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, ToolError> {
        let token = self.credentials.token(&self.client).await?;
        let mut req = self
            .client
            .request(method, &format!("{}{path}", self.api))
            .map_err(|e| unreachable(&e))?
            .bearer_auth(&token)
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = self.client.send(req).await.map_err(|e| unreachable(&e))?;
        let v: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        if res.status.is_success() {
            return Ok(v);
        }
        let code = v["error"]["code"].as_str().unwrap_or("error");
        let message = v["error"]["message"].as_str().unwrap_or("");
        Err(match res.status.as_u16() {
            401 => {
                self.credentials.forget().await;
                ToolError::Unavailable(format!("Defender refused the token ({code}): {message}"))
            }
            403 => ToolError::Unavailable(format!(
                "the app registration lacks a Defender permission: {message}"
            )),
            404 => ToolError::InvalidInput(format!(
                "Defender has no such machine or action ({code}): {message}"
            )),
            429 => {
                let after = res.retry_after().unwrap_or("a few");
                ToolError::Unavailable(format!("Defender is rate limiting; retry after {after} s"))
            }
            s if s >= 500 => ToolError::Unavailable(format!("Defender answered {}", res.status)),
            _ => ToolError::Failed(format!("Defender refused the request ({code}): {message}")),
        })
    }

    /// Follows a machine action until it settles or the polling budget is spent.
    async fn follow(&self, ctx: &ToolContext, action: Value) -> Result<Value, ToolError> {
        let id = action["id"]
            .as_str()
            .filter(|i| i.len() <= 64 && i.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
            .ok_or_else(|| ToolError::Unavailable("Defender returned no usable action id".into()))?
            .to_owned();
        let mut status = action["status"].as_str().unwrap_or("Pending").to_owned();
        for _ in 0..self.polls {
            if !matches!(status.as_str(), "Pending" | "InProgress") {
                break;
            }
            tokio::select! {
                () = ctx.cancellation.cancelled() => break,
                () = tokio::time::sleep(self.poll_every) => {}
            }
            let now = self
                .call(Method::GET, &format!("/api/machineactions/{id}"), None)
                .await?;
            status = now["status"].as_str().unwrap_or("Pending").to_owned();
        }
        if matches!(status.as_str(), "Failed" | "TimeOut" | "Cancelled") {
            return Err(ToolError::Failed(format!(
                "the Defender action {id} ended {status}"
            )));
        }
        Ok(
            json!({"action_id": id, "type": action["type"], "status": status, "machine_id": action["machineId"]}),
        )
    }
}

/// Which machine.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MachineQuery {
    /// DNS name, e.g. `ws-042.contoso.com` (exact).
    #[serde(default)]
    pub hostname: Option<String>,
    /// Last IP address.
    #[serde(default)]
    pub ip: Option<String>,
}

/// A machine as Defender knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Defender's machine id (what isolation takes).
    pub machine_id: String,
    /// DNS name.
    pub hostname: Option<String>,
    /// OS.
    pub os_platform: Option<String>,
    /// Sensor health.
    pub health_status: Option<String>,
    /// Defender's risk score.
    pub risk_score: Option<String>,
    /// Last IP address.
    pub last_ip: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
}

/// `defender_machine_lookup`.
#[derive(Debug, Clone)]
pub struct DefenderMachineLookup(pub Defender);

impl TypedTool for DefenderMachineLookup {
    type Input = MachineQuery;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "defender_machine_lookup"
    }
    fn description(&self) -> &str {
        "Find machines in Microsoft Defender for Endpoint by DNS name or last IP: id, OS, health, risk, last seen."
    }
    async fn run(&self, _ctx: &ToolContext, input: MachineQuery) -> Result<Value, ToolError> {
        let filter = match super::host_key(input.hostname.as_deref(), input.ip.as_deref(), &[], "machine")? {
            super::HostKey::Name(name) => format!("computerDnsName eq '{}'", name.to_ascii_lowercase()),
            super::HostKey::Ip(ip) => format!("lastIpAddress eq '{ip}'"),
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("$filter", &filter)
            .finish();
        let found = self
            .0
            .call(Method::GET, &format!("/api/machines?{query}"), None)
            .await?;
        let machines: Vec<Machine> = found["value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                let s = |k: &str| m[k].as_str().map(str::to_owned);
                Machine {
                    machine_id: s("id").unwrap_or_default(),
                    hostname: s("computerDnsName"),
                    os_platform: s("osPlatform"),
                    health_status: s("healthStatus"),
                    risk_score: s("riskScore"),
                    last_ip: s("lastIpAddress"),
                    last_seen: s("lastSeen"),
                }
            })
            .collect();
        Ok(json!({"machines": machines}))
    }
}

/// Isolation of a machine.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Isolation {
    /// Defender machine id (40 hex digits), from `defender_machine_lookup`.
    pub machine_id: String,
    /// Why (recorded in Defender's action center).
    pub comment: String,
    /// `Full` (default) or `Selective` (keeps Outlook, Teams and Skype working).
    #[serde(default)]
    pub isolation_type: Option<IsolationType>,
}

/// Isolation types Defender knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum IsolationType {
    /// Everything but the Defender service.
    Full,
    /// Full, except some collaboration apps.
    Selective,
}

/// Releasing a machine.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// Defender machine id (40 hex digits).
    pub machine_id: String,
    /// Why.
    pub comment: String,
}

fn machine_id(id: &str) -> Result<&str, ToolError> {
    let id = id.trim();
    if id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(ToolError::InvalidInput(format!(
            "`{id}` is not a Defender machine id (40 hex digits)"
        )))
    }
}

/// `defender_isolate_machine`: network-isolates a machine. High risk.
#[derive(Debug, Clone)]
pub struct DefenderIsolate(pub Defender);

impl TypedTool for DefenderIsolate {
    type Input = Isolation;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "defender_isolate_machine"
    }
    fn description(&self) -> &str {
        "Isolate a machine from the network with Microsoft Defender for Endpoint. Needs approval."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::High
    }
    async fn run(&self, ctx: &ToolContext, input: Isolation) -> Result<Value, ToolError> {
        let id = machine_id(&input.machine_id)?;
        let kind = match input.isolation_type.unwrap_or(IsolationType::Full) {
            IsolationType::Full => "Full",
            IsolationType::Selective => "Selective",
        };
        let action = self
            .0
            .call(
                Method::POST,
                &format!("/api/machines/{id}/isolate"),
                Some(json!({"Comment": input.comment, "IsolationType": kind})),
            )
            .await?;
        self.0.follow(ctx, action).await
    }
}

/// `defender_release_machine`: releases a machine from isolation. High risk.
#[derive(Debug, Clone)]
pub struct DefenderRelease(pub Defender);

impl TypedTool for DefenderRelease {
    type Input = Release;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "defender_release_machine"
    }
    fn description(&self) -> &str {
        "Release a machine from isolation in Microsoft Defender for Endpoint. Needs approval."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::High
    }
    async fn run(&self, ctx: &ToolContext, input: Release) -> Result<Value, ToolError> {
        let id = machine_id(&input.machine_id)?;
        let action = self
            .0
            .call(
                Method::POST,
                &format!("/api/machines/{id}/unisolate"),
                Some(json!({"Comment": input.comment})),
            )
            .await?;
        self.0.follow(ctx, action).await
    }
}
