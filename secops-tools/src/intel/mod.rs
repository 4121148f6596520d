//! Threat intelligence lookups: VirusTotal (file hash, IP, domain, URL) and AbuseIPDB (IP check). Both are
//! read-only, low-risk tools; an indicator the service does not know is an answer (`found: false`), not an
//! error.

mod abuseipdb;
mod virustotal;

pub use abuseipdb::{ABUSEIPDB_API, AbuseIpCheck, AbuseIpDb, AbuseIpReport};
pub use virustotal::{IndicatorKind, VIRUSTOTAL_API, VirusTotal, VirusTotalLookup, VirusTotalReport};

use secops_core::tool::ToolError;

use crate::egress::{EgressError, EgressResponse};

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
