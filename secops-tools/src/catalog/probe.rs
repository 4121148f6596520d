//! "Test connection": one cheap, read-only, authenticated request per kind, so an administrator learns at once
//! that a URL is wrong or a credential was refused, instead of at an agent's first tool call.

use serde::Serialize;
use serde_json::Value;

use super::{CatalogError, Parsed, parse};
use crate::edr::crowdstrike::Falcon;
use crate::edr::defender::{Defender, ENTRA_LOGIN};
use crate::egress::{EgressClient, Method};
use crate::scrub::Secrets;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    /// Whether the service answered and accepted the credentials.
    pub ok: bool,
    /// `connection` when a request was made; `configuration` when the kind cannot be checked without acting
    /// (posting to a webhook), so only the configuration was checked.
    pub checked: &'static str,
    /// What happened, for a person; never holds a credential.
    pub detail: String,
}

/// Checks the configuration of `kind` against its service through `client`. A service that is unreachable or
/// refuses the credentials is a report with `ok: false`; only an unusable configuration is an error.
pub async fn probe(
    kind: &str,
    settings: &Value,
    credentials: Option<&Value>,
    client: &EgressClient,
) -> Result<ProbeReport, CatalogError> {
    let mut secrets = Secrets::new();
    if let Some(c) = credentials {
        secrets.add_json(c);
    }
    let c = client.clone();
    let outcome: Result<String, String> = match parse(kind, settings, credentials)? {
        Parsed::Splunk(base, auth) => get(
            client,
            &format!(
                "{}/services/server/info?output_mode=json",
                base.trim_end_matches('/')
            ),
            &[("authorization", auth.header())],
        )
        .await
        .map(|v| {
            let version = v["entry"][0]["content"]["version"].as_str().unwrap_or("unknown");
            format!("Splunk {version} accepted the credentials")
        }),
        Parsed::Jira(st, token) => {
            secrets.add_basic(&st.email, &token);
            let basic = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{}:{token}", st.email),
            );
            get(
                client,
                &format!("{}/rest/api/3/myself", st.base_url.trim_end_matches('/')),
                &[("authorization", format!("Basic {basic}"))],
            )
            .await
            .map(|v| {
                format!(
                    "signed in to Jira as {}",
                    v["displayName"].as_str().unwrap_or("an unnamed account")
                )
            })
        }
        Parsed::Slack(api, token) => slack_auth_test(client, &api, &token).await,
        Parsed::SlackWebhook(_) => {
            return Ok(ProbeReport {
                ok: true,
                checked: "configuration",
                detail: "a webhook cannot be tested without posting a message; the configuration is valid"
                    .into(),
            });
        }
        Parsed::VirusTotal(api, key) => get(
            client,
            &format!("{}/ip_addresses/8.8.8.8", api.trim_end_matches('/')),
            &[("x-apikey", key)],
        )
        .await
        .map(|_| "VirusTotal accepted the API key".to_owned()),
        Parsed::AbuseIpDb(api, key) => get(
            client,
            &format!(
                "{}/check?ipAddress=8.8.8.8&maxAgeInDays=1",
                api.trim_end_matches('/')
            ),
            &[("key", key)],
        )
        .await
        .map(|_| "AbuseIPDB accepted the API key".to_owned()),
        Parsed::CrowdStrike(base, cr) => Falcon::new(c, base, cr.client_id, cr.client_secret)
            .token()
            .await
            .map(|_| "CrowdStrike issued a token for the API client".to_owned())
            .map_err(|e| e.to_string()),
        Parsed::Defender(st, cr) => Defender::new(
            c,
            st.login_url.as_deref().unwrap_or(ENTRA_LOGIN),
            &st.tenant_id,
            st.api_url.unwrap_or_default(),
            cr.client_id,
            cr.client_secret,
        )
        .token()
        .await
        .map(|_| "Microsoft Entra ID issued a token for the app registration".to_owned())
        .map_err(|e| e.to_string()),
        Parsed::Mcp => super::mcp::discover("probe", settings, credentials, client)
            .await
            .map(|tools| {
                let names: Vec<&str> = tools
                    .iter()
                    .map(|t| t.name.strip_prefix("probe_").unwrap_or(&t.name))
                    .collect();
                format!(
                    "the MCP server offers {} tool(s): {}",
                    names.len(),
                    names.join(", ")
                )
            })
            .map_err(|e| e.to_string()),
        Parsed::Http(st, _) => {
            return Ok(ProbeReport {
                ok: true,
                checked: "configuration",
                detail: format!(
                    "{} declared tool(s) are valid; declared tools are tested by calling them",
                    st.tools.len()
                ),
            });
        }
    };
    Ok(match outcome {
        Ok(detail) => ProbeReport {
            ok: true,
            checked: "connection",
            detail: secrets.scrub(&detail),
        },
        Err(detail) => ProbeReport {
            ok: false,
            checked: "connection",
            detail: secrets.scrub(&detail),
        },
    })
}

/// A GET whose answer must be a 2xx JSON document.
async fn get(client: &EgressClient, url: &str, headers: &[(&str, String)]) -> Result<Value, String> {
    let mut req = client
        .request(Method::GET, url)
        .map_err(|e| e.to_string())?
        .header("accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let res = client.send(req).await.map_err(|e| e.to_string())?;
    if !res.status.is_success() {
        let hint = match res.status.as_u16() {
            401 | 403 => ": the credentials were refused",
            404 => ": check the base URL",
            429 => ": rate limited, try again later",
            _ => "",
        };
        return Err(format!("the service answered {}{hint}", res.status));
    }
    serde_json::from_slice(&res.body).map_err(|_| "the service's answer is not JSON".to_owned())
}

/// Slack answers 200 with `{"ok": false, "error": ...}` for a bad token.
async fn slack_auth_test(client: &EgressClient, api: &str, token: &str) -> Result<String, String> {
    let req = client
        .request(Method::POST, &format!("{}/auth.test", api.trim_end_matches('/')))
        .map_err(|e| e.to_string())?
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded");
    let res = client.send(req).await.map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&res.body).map_err(|_| format!("Slack answered {}", res.status))?;
    if v["ok"] == true {
        Ok(format!(
            "signed in to Slack workspace {} as {}",
            v["team"].as_str().unwrap_or("?"),
            v["user"].as_str().unwrap_or("?")
        ))
    } else {
        Err(format!(
            "Slack refused the token: {}",
            v["error"].as_str().unwrap_or("unknown error")
        ))
    }
}
