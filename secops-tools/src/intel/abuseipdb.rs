//! AbuseIPDB API v2: `GET /api/v2/check?ipAddress=&maxAgeInDays=` with the `Key` header and
//! `Accept: application/json`. Errors are `{"errors": [{"detail", "status"}]}`; rate limits are 429 with
//! `Retry-After`.

use schemars::JsonSchema;
use secops_core::tool::{ToolContext, ToolError, TypedTool};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{KeyedApi, service_trouble};
use crate::egress::EgressClient;

/// Where AbuseIPDB's API is.
pub const ABUSEIPDB_API: &str = "https://api.abuseipdb.com/api/v2";

/// An address to check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AbuseIpCheck {
    /// IPv4 or IPv6 address.
    pub ip: String,
    /// Only reports of the last this many days (1 to 365, default 90).
    #[serde(default)]
    #[schemars(range(min = 1, max = 365))]
    pub max_age_in_days: Option<u32>,
}

/// What AbuseIPDB knows of an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbuseIpReport {
    /// The address.
    pub ip: String,
    /// Confidence it is abusive, 0 to 100.
    pub abuse_confidence_score: u64,
    /// Reports in the period.
    pub total_reports: u64,
    /// Distinct reporters.
    pub distinct_reporters: u64,
    /// Country code.
    pub country_code: Option<String>,
    /// Network owner.
    pub isp: Option<String>,
    /// Kind of network (data center, ISP, ...).
    pub usage_type: Option<String>,
    /// Last report.
    pub last_reported_at: Option<String>,
}

/// The `abuseipdb_check` tool.
#[derive(Clone, Debug)]
pub struct AbuseIpDb(KeyedApi);

impl AbuseIpDb {
    /// Checks with `key` at `api` (normally [`ABUSEIPDB_API`]).
    #[must_use]
    pub fn new(client: EgressClient, api: impl Into<String>, key: impl Into<String>) -> Self {
        Self(KeyedApi::new("AbuseIPDB", client, api, "key", key))
    }
}

impl TypedTool for AbuseIpDb {
    type Input = AbuseIpCheck;
    type Output = AbuseIpReport;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "abuseipdb_check"
    }

    fn description(&self) -> &str {
        "Check an IP address on AbuseIPDB: abuse confidence, report count, network owner."
    }

    async fn run(&self, _ctx: &ToolContext, input: AbuseIpCheck) -> Result<AbuseIpReport, ToolError> {
        let ip: std::net::IpAddr = input
            .ip
            .trim()
            .parse()
            .map_err(|_| ToolError::InvalidInput(format!("`{}` is not an IP address", input.ip)))?;
        let days = input.max_age_in_days.unwrap_or(90).clamp(1, 365);
        let mut url = url::Url::parse(&format!("{}/check", self.0.api))
            .map_err(|e| ToolError::Unavailable(format!("the AbuseIPDB address is invalid: {e}")))?;
        url.query_pairs_mut()
            .append_pair("ipAddress", &ip.to_string())
            .append_pair("maxAgeInDays", &days.to_string());
        let res = self.0.get(url.as_str()).await?;
        let answer: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        let detail = answer["errors"][0]["detail"].as_str().unwrap_or("").to_owned();
        if let Some(e) = service_trouble("AbuseIPDB", &res, &detail) {
            return Err(e);
        }
        if !res.status.is_success() {
            return Err(ToolError::Failed(format!(
                "AbuseIPDB refused the check ({}): {detail}",
                res.status
            )));
        }
        let d = &answer["data"];
        if d.is_null() {
            return Err(ToolError::Unavailable("AbuseIPDB's answer has no data".into()));
        }
        let text = |k: &str| d[k].as_str().map(str::to_owned);
        Ok(AbuseIpReport {
            ip: ip.to_string(),
            abuse_confidence_score: d["abuseConfidenceScore"].as_u64().unwrap_or(0),
            total_reports: d["totalReports"].as_u64().unwrap_or(0),
            distinct_reporters: d["numDistinctUsers"].as_u64().unwrap_or(0),
            country_code: text("countryCode"),
            isp: text("isp"),
            usage_type: text("usageType"),
            last_reported_at: text("lastReportedAt"),
        })
    }
}
