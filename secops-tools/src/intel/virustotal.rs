//! VirusTotal API v3: `GET /api/v3/{files|ip_addresses|domains|urls}/{id}` with the `x-apikey` header. URLs are
//! looked up by their id, the unpadded base64url of the URL. Errors are `{"error": {"code", "message"}}`:
//! `NotFoundError` (404), `WrongCredentialsError` (401), `QuotaExceededError` (429), `InvalidArgumentError`
//! (400).

use base64::Engine;
use schemars::JsonSchema;
use secops_core::tool::{ToolContext, ToolError, TypedTool};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{KeyedApi, service_trouble};
use crate::egress::EgressClient;

/// Where VirusTotal's API is.
pub const VIRUSTOTAL_API: &str = "https://www.virustotal.com/api/v3";

/// What kind of indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// An MD5, SHA-1 or SHA-256 file hash.
    File,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A domain name.
    Domain,
    /// An http(s) URL.
    Url,
}

/// An indicator to look up.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirusTotalLookup {
    /// What kind of indicator `value` is.
    pub kind: IndicatorKind,
    /// The hash, address, domain or URL.
    pub value: String,
}

/// VirusTotal's verdict counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VirusTotalReport {
    /// The indicator.
    pub indicator: String,
    /// Its kind.
    pub kind: IndicatorKind,
    /// Whether VirusTotal knows it.
    pub found: bool,
    /// Engines that call it malicious.
    pub malicious: u64,
    /// Engines that call it suspicious.
    pub suspicious: u64,
    /// Engines that call it harmless.
    pub harmless: u64,
    /// Engines with no opinion.
    pub undetected: u64,
    /// VirusTotal's community reputation score.
    pub reputation: i64,
}

/// The `virustotal_lookup` tool.
#[derive(Clone, Debug)]
pub struct VirusTotal(KeyedApi);

impl VirusTotal {
    /// Looks up with `key` at `api` (normally [`VIRUSTOTAL_API`]).
    #[must_use]
    pub fn new(client: EgressClient, api: impl Into<String>, key: impl Into<String>) -> Self {
        Self(KeyedApi::new("VirusTotal", client, api, "x-apikey", key))
    }
}

/// The API path of an indicator, after checking it looks like its kind.
fn path(kind: IndicatorKind, value: &str) -> Result<String, ToolError> {
    let bad = |what: &str| ToolError::InvalidInput(format!("`{value}` is not {what}"));
    let v = value.trim();
    Ok(match kind {
        IndicatorKind::File => {
            if !matches!(v.len(), 32 | 40 | 64) || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("an MD5, SHA-1 or SHA-256 hash"));
            }
            format!("files/{}", v.to_ascii_lowercase())
        }
        IndicatorKind::Ip => {
            let ip: std::net::IpAddr = v.parse().map_err(|_| bad("an IP address"))?;
            format!("ip_addresses/{ip}")
        }
        IndicatorKind::Domain => {
            let ok = !v.is_empty()
                && v.len() <= 253
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(bad("a domain name"));
            }
            format!("domains/{}", v.to_ascii_lowercase())
        }
        IndicatorKind::Url => {
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err(bad("an http(s) URL"));
            }
            format!(
                "urls/{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
            )
        }
    })
}

impl TypedTool for VirusTotal {
    type Input = VirusTotalLookup;
    type Output = VirusTotalReport;
    // Everything these services return was written by someone else (log lines, ticket text, verdicts).
    fn untrusted_output(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "virustotal_lookup"
    }

    fn description(&self) -> &str {
        "Look up a file hash, IP address, domain or URL on VirusTotal: how many engines call it malicious."
    }

    async fn run(&self, _ctx: &ToolContext, input: VirusTotalLookup) -> Result<VirusTotalReport, ToolError> {
        let path = path(input.kind, &input.value)?;
        let res = self.0.get(&format!("{}/{path}", self.0.api)).await?;
        let answer: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        let detail = answer["error"]["message"].as_str().unwrap_or("").to_owned();
        if let Some(e) = service_trouble("VirusTotal", &res, &detail) {
            return Err(e);
        }
        let mut report = VirusTotalReport {
            indicator: input.value.trim().to_owned(),
            kind: input.kind,
            found: false,
            malicious: 0,
            suspicious: 0,
            harmless: 0,
            undetected: 0,
            reputation: 0,
        };
        if res.status.as_u16() == 404 || answer["error"]["code"] == "NotFoundError" {
            return Ok(report);
        }
        if !res.status.is_success() {
            let code = answer["error"]["code"].as_str().unwrap_or("unknown");
            return Err(ToolError::Failed(format!(
                "VirusTotal refused the lookup ({code}): {detail}"
            )));
        }
        let attributes = &answer["data"]["attributes"];
        if attributes.is_null() {
            return Err(ToolError::Unavailable("VirusTotal's answer has no data".into()));
        }
        let stats = &attributes["last_analysis_stats"];
        let count = |k: &str| stats[k].as_u64().unwrap_or(0);
        report.found = true;
        report.malicious = count("malicious");
        report.suspicious = count("suspicious");
        report.harmless = count("harmless");
        report.undetected = count("undetected");
        report.reputation = attributes["reputation"].as_i64().unwrap_or(0);
        Ok(report)
    }
}
