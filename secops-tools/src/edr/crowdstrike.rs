//! CrowdStrike Falcon: host lookup by hostname or IP, contain, lift containment.
//!
//! Wire formats, from the Falcon API documentation: an OAuth2 token from `POST /oauth2/token` (form
//! `client_id`, `client_secret`; answers 201 `{"access_token", "expires_in"}`); device ids from
//! `GET /devices/queries/devices/v1?filter=hostname:'ws-042'` (`{"resources": [ids], "errors": []}`); details
//! from `GET /devices/entities/devices/v2?ids=...`; actions with
//! `POST /devices/entities/devices-actions/v2?action_name=contain|lift_containment` and `{"ids": [...]}`
//! (202). Errors are `{"errors": [{"code", "message"}]}`; rate limits are 429 with `X-RateLimit-RetryAfter`
//! (epoch seconds).

use std::time::Duration;

use schemars::JsonSchema;
use secops_core::tool::{RiskLevel, ToolContext, ToolError, TypedTool};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::egress::{EgressClient, EgressResponse, Method};
use crate::oauth::{ClientAuth, ClientCredentials};

/// The US-1 cloud; other clouds have their own base URL.
pub const FALCON_US1: &str = "https://api.crowdstrike.com";

/// A Falcon tenant: the API client, and its cached token.
#[derive(Clone)]
pub struct Falcon {
    client: EgressClient,
    base: String,
    credentials: ClientCredentials,
}

impl std::fmt::Debug for Falcon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Falcon")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn unreachable(e: &crate::egress::EgressError) -> ToolError {
    ToolError::Unavailable(format!("CrowdStrike is unreachable: {e}"))
}

impl Falcon {
    /// The tenant at `base` (e.g. [`FALCON_US1`]) with an API client's id and secret.
    #[must_use]
    pub fn new(
        client: EgressClient,
        base: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let base = base.into().trim_end_matches('/').to_owned();
        let credentials = ClientCredentials::new(
            "CrowdStrike",
            format!("{base}/oauth2/token"),
            (client_id.into(), client_secret.into()),
            ClientAuth::Form,
            Vec::new(),
            Duration::from_secs(60),
        );
        Self {
            client,
            base,
            credentials,
        }
    }

    /// A token from the tenant's token endpoint: proves the client credentials work.
    pub(crate) async fn token(&self) -> Result<String, ToolError> {
        self.credentials.token(&self.client).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, ToolError> {
        for attempt in 0..2 {
            let token = self.credentials.token(&self.client).await?;
            let mut req = self
                .client
                .request(method.clone(), &format!("{}{path}", self.base))
                .map_err(|e| unreachable(&e))?
                .bearer_auth(&token)
                .header("accept", "application/json");
            if let Some(b) = &body {
                req = req.header("content-type", "application/json").body(b.to_string());
            }
            let res = self.client.send(req).await.map_err(|e| unreachable(&e))?;
            match res.status.as_u16() {
                // An expired or revoked token: get a new one once.
                401 if attempt == 0 => self.credentials.forget().await,
                s if (200..300).contains(&s) => {
                    return serde_json::from_slice(&res.body)
                        .map_err(|_| ToolError::Unavailable("CrowdStrike's answer is not JSON".into()));
                }
                429 => {
                    let when = res
                        .headers
                        .get("x-ratelimit-retryafter")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(|epoch| {
                            let now = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .map_or(0, |d| d.as_secs());
                            format!("; retry after {} s", epoch.saturating_sub(now).max(1))
                        })
                        .unwrap_or_default();
                    return Err(ToolError::Unavailable(format!(
                        "CrowdStrike is rate limiting{when}"
                    )));
                }
                401 | 403 => {
                    return Err(ToolError::Unavailable(format!(
                        "CrowdStrike refused the API client's rights ({}): {}",
                        res.status,
                        errors(&res)
                    )));
                }
                s if s >= 500 => {
                    return Err(ToolError::Unavailable(format!(
                        "CrowdStrike answered {}",
                        res.status
                    )));
                }
                _ => {
                    return Err(ToolError::Failed(format!(
                        "CrowdStrike refused the request ({}): {}",
                        res.status,
                        errors(&res)
                    )));
                }
            }
        }
        Err(ToolError::Unavailable(
            "CrowdStrike keeps refusing new tokens".into(),
        ))
    }
}

fn errors(res: &EgressResponse) -> String {
    let v: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
    v["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which host.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostQuery {
    /// Hostname (exact).
    #[serde(default)]
    pub hostname: Option<String>,
    /// Local IP address.
    #[serde(default)]
    pub ip: Option<String>,
}

/// A host as Falcon knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    /// Falcon's device id (what containment takes).
    pub device_id: String,
    /// Hostname.
    pub hostname: Option<String>,
    /// Local IP.
    pub local_ip: Option<String>,
    /// Platform, e.g. Windows.
    pub platform: Option<String>,
    /// OS version.
    pub os_version: Option<String>,
    /// `normal`, `containment_pending`, `contained` or `lift_containment_pending`.
    pub containment: Option<String>,
    /// Last check-in.
    pub last_seen: Option<String>,
}

/// `crowdstrike_host_lookup`.
#[derive(Debug, Clone)]
pub struct FalconHostLookup(pub Falcon);

impl TypedTool for FalconHostLookup {
    type Input = HostQuery;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "crowdstrike_host_lookup"
    }
    fn description(&self) -> &str {
        "Find hosts in CrowdStrike Falcon by hostname or local IP: device id, OS, containment state, last seen."
    }
    async fn run(&self, _ctx: &ToolContext, input: HostQuery) -> Result<Value, ToolError> {
        let filter = match super::host_key(
            input.hostname.as_deref(),
            input.ip.as_deref(),
            &['+', ','],
            "host",
        )? {
            super::HostKey::Name(name) => format!("hostname:'{name}'"),
            super::HostKey::Ip(ip) => format!("local_ip:'{ip}'"),
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &filter)
            .append_pair("limit", "20")
            .finish();
        let ids = self
            .0
            .call(Method::GET, &format!("/devices/queries/devices/v1?{query}"), None)
            .await?;
        let ids: Vec<&str> = ids["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if ids.is_empty() {
            return Ok(json!({"hosts": []}));
        }
        let details = {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for id in &ids {
                q.append_pair("ids", id);
            }
            q.finish()
        };
        let found = self
            .0
            .call(
                Method::GET,
                &format!("/devices/entities/devices/v2?{details}"),
                None,
            )
            .await?;
        let hosts: Vec<Host> = found["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let s = |k: &str| d[k].as_str().map(str::to_owned);
                Host {
                    device_id: s("device_id").unwrap_or_default(),
                    hostname: s("hostname"),
                    local_ip: s("local_ip"),
                    platform: s("platform_name"),
                    os_version: s("os_version"),
                    containment: s("status"),
                    last_seen: s("last_seen"),
                }
            })
            .collect();
        Ok(json!({"hosts": hosts}))
    }
}

/// A device to act on.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceAction {
    /// Falcon device id (32 hex digits), from `crowdstrike_host_lookup`.
    pub device_id: String,
}

fn device_id(id: &str) -> Result<&str, ToolError> {
    let id = id.trim();
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(ToolError::InvalidInput(format!(
            "`{id}` is not a Falcon device id (32 hex digits)"
        )))
    }
}

async fn act(falcon: &Falcon, action: &str, input: &DeviceAction) -> Result<Value, ToolError> {
    let id = device_id(&input.device_id)?;
    let answer = falcon
        .call(
            Method::POST,
            &format!("/devices/entities/devices-actions/v2?action_name={action}"),
            Some(json!({"ids": [id]})),
        )
        .await?;
    let accepted = answer["resources"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x["id"].as_str() == Some(id)));
    if !accepted {
        return Err(ToolError::Failed(format!(
            "CrowdStrike did not accept `{action}` for {id}"
        )));
    }
    Ok(json!({"device_id": id, "action": action, "accepted": true}))
}

/// `crowdstrike_contain_host`: network-isolates a host. High risk.
#[derive(Debug, Clone)]
pub struct FalconContain(pub Falcon);

impl TypedTool for FalconContain {
    type Input = DeviceAction;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "crowdstrike_contain_host"
    }
    fn description(&self) -> &str {
        "Network-contain a host in CrowdStrike Falcon (it keeps talking only to Falcon). Needs approval."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::High
    }
    async fn run(&self, _ctx: &ToolContext, input: DeviceAction) -> Result<Value, ToolError> {
        act(&self.0, "contain", &input).await
    }
}

/// `crowdstrike_lift_containment`: gives a contained host its network back. High risk.
#[derive(Debug, Clone)]
pub struct FalconLiftContainment(pub Falcon);

impl TypedTool for FalconLiftContainment {
    type Input = DeviceAction;
    type Output = Value;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }
    fn name(&self) -> &str {
        "crowdstrike_lift_containment"
    }
    fn description(&self) -> &str {
        "Lift network containment of a host in CrowdStrike Falcon. Needs approval."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::High
    }
    async fn run(&self, _ctx: &ToolContext, input: DeviceAction) -> Result<Value, ToolError> {
        act(&self.0, "lift_containment", &input).await
    }
}
