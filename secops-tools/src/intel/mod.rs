//! Threat intelligence lookups: VirusTotal (file hash, IP, domain, URL) and AbuseIPDB (IP check). Both are
//! read-only, low-risk tools; an indicator the service does not know is an answer (`found: false`), not an
//! error.

mod abuseipdb;
mod virustotal;

pub use abuseipdb::{ABUSEIPDB_API, AbuseIpCheck, AbuseIpDb, AbuseIpReport};
pub use virustotal::{IndicatorKind, VIRUSTOTAL_API, VirusTotal, VirusTotalLookup, VirusTotalReport};

use secops_core::tool::ToolError;

use crate::egress::{EgressClient, EgressError, EgressResponse, Method};

/// A lookup service reached with one API key in a header: where it is and the key, which `Debug` never
/// shows.
#[derive(Clone)]
struct KeyedApi {
    /// The service's name in errors.
    service: &'static str,
    client: EgressClient,
    api: String,
    key_header: &'static str,
    key: String,
}

impl std::fmt::Debug for KeyedApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(self.service)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl KeyedApi {
    fn new(
        service: &'static str,
        client: EgressClient,
        api: impl Into<String>,
        key_header: &'static str,
        key: impl Into<String>,
    ) -> Self {
        Self {
            service,
            client,
            api: api.into().trim_end_matches('/').to_owned(),
            key_header,
            key: key.into(),
        }
    }

    /// `GET` `url` (built on [`Self::api`]) with the key, asking for JSON.
    async fn get(&self, url: &str) -> Result<EgressResponse, ToolError> {
        let req = self
            .client
            .request(Method::GET, url)
            .map_err(|e| unreachable(self.service, &e))?
            .header(self.key_header, &self.key)
            .header("accept", "application/json");
        self.client
            .send(req)
            .await
            .map_err(|e| unreachable(self.service, &e))
    }
}

fn unreachable(service: &str, e: &EgressError) -> ToolError {
    ToolError::Unavailable(format!("{service} is unreachable: {e}"))
}

/// Rate limits, bad credentials and server errors are the service's state, not the indicator's.
fn service_trouble(service: &str, res: &EgressResponse, detail: &str) -> Option<ToolError> {
    match res.status.as_u16() {
        429 => {
            let after = res
                .retry_after()
                .map_or_else(String::new, |s| format!("; retry after {s} s"));
            Some(ToolError::Unavailable(format!(
                "{service} quota is exhausted{after}: {detail}"
            )))
        }
        401 | 403 => Some(ToolError::Unavailable(format!(
            "{service} refused the configured API key: {detail}"
        ))),
        s if s >= 500 => Some(ToolError::Unavailable(format!(
            "{service} answered {}",
            res.status
        ))),
        _ => None,
    }
}
