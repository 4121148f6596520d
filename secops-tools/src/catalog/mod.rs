//! The catalogue of tool kinds an organisation can configure without writing Rust: each [`ToolKind`] says what
//! settings and credentials it takes (as JSON Schemas, for forms and validation) and which tools it yields.
//! [`build`] turns a stored configuration into tools; [`probe`] checks that a configuration reaches its
//! service and that the service accepts its credentials.
//!
//! A configuration named `splunk-prod` of kind `splunk` yields the tool `splunk-prod_search`: the
//! configuration's name, `_`, then the action. Configuration names hold no `_`, so a tool name says which
//! configuration it came from. Every tool built here scrubs the configuration's credentials (and their
//! base64 forms) from its results and errors, whatever the service echoes back.
//!
//! ```
//! use secops_tools::catalog;
//!
//! let splunk = catalog::kind("splunk").unwrap();
//! assert_eq!(splunk.actions[0].action, "search");
//! assert_eq!(catalog::tool_name("splunk-prod", "search"), "splunk-prod_search");
//! assert_eq!(catalog::split_tool_name("splunk-prod_search"), Some(("splunk-prod", "search")));
//! assert!(catalog::check_config_name("splunk_prod").is_err());
//! ```

pub mod mcp;
mod probe;

use std::sync::Arc;

use schemars::JsonSchema;
use secops_core::tool::{RiskLevel, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput, Typed};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::edr::crowdstrike::{FALCON_US1, Falcon, FalconContain, FalconHostLookup, FalconLiftContainment};
use crate::edr::defender::{
    DEFENDER_API, Defender, DefenderIsolate, DefenderMachineLookup, DefenderRelease, ENTRA_LOGIN,
};
use crate::egress::EgressClient;
use crate::http::{HttpTool, HttpToolSpec};
use crate::intel::{ABUSEIPDB_API, AbuseIpDb, VIRUSTOTAL_API, VirusTotal};
use crate::jira::{JiraAddComment, JiraCreateIssue, JiraSearch, JiraSite, JiraTransition};
use crate::scrub::Secrets;
use crate::slack::{SLACK_API, SlackPostMessage, SlackWebhook};
use crate::splunk::{SplunkAuth, SplunkSearch};

pub use probe::{ProbeReport, probe};

/// A kind of tool configuration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolKind {
    /// The kind, e.g. `splunk`.
    pub kind: &'static str,
    /// What it connects to.
    pub description: &'static str,
    /// JSON Schema of the settings (not secret; returned by the API).
    pub settings_schema: Value,
    /// JSON Schema of the credentials (secret; stored encrypted, never returned).
    pub credentials_schema: Value,
    /// The tools a configuration of this kind yields. Empty for kinds whose tools are declared in the settings
    /// (`http`) or discovered from the service (`mcp`).
    pub actions: Vec<ActionInfo>,
}

/// One tool of a kind.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActionInfo {
    /// The action, appended to the configuration's name to make the tool's name.
    pub action: String,
    /// What the tool does.
    pub description: String,
    /// Its risk; high-risk tools wait for approval under the default policy.
    pub risk: RiskLevel,
}

/// A configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// No such kind.
    #[error("unknown tool kind `{0}`")]
    UnknownKind(String),
    /// The configuration's name breaks the naming rule.
    #[error("invalid configuration name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// The rule.
        reason: &'static str,
    },
    /// The settings do not fit the kind's schema.
    #[error("invalid settings for `{kind}`: {reason}")]
    InvalidSettings {
        /// The kind.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// The credentials do not fit the kind's schema. The reason names fields, never values.
    #[error("invalid credentials for `{kind}`: {reason}")]
    InvalidCredentials {
        /// The kind.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// The service could not be reached or set up.
    #[error("{0}")]
    Unavailable(String),
}

/// Checks a configuration name: 1 to 32 lowercase letters, digits and `-`, starting with a letter. No `_`, so
/// a tool name splits back into configuration and action.
pub fn check_config_name(name: &str) -> Result<(), CatalogError> {
    let ok = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::InvalidName {
            name: name.to_owned(),
            reason: "use 1 to 32 lowercase letters, digits and `-`, starting with a letter",
        })
    }
}

/// The tool name for `action` of the configuration `config`.
#[must_use]
pub fn tool_name(config: &str, action: &str) -> String {
    format!("{config}_{action}")
}

/// The configuration name and action of a tool name built by [`tool_name`].
#[must_use]
pub fn split_tool_name(tool: &str) -> Option<(&str, &str)> {
    tool.split_once('_')
        .filter(|(c, a)| check_config_name(c).is_ok() && !a.is_empty())
}

fn schema<T: JsonSchema>() -> Value {
    let mut s = schemars::schema_for!(T).to_value();
    if let Value::Object(map) = &mut s {
        map.remove("$schema");
    }
    s
}

/// Settings of a service reached at one base URL.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaseUrlSettings {
    /// The service's base URL; the vendor's public API when left out (required for self-hosted services).
    #[serde(default)]
    pub base_url: Option<String>,
}

/// Splunk settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplunkSettings {
    /// The management API, e.g. `https://splunk.example.com:8089`.
    pub base_url: String,
}

/// Splunk credentials: a token, or a user and password.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplunkCredentials {
    /// A Splunk authentication token.
    #[serde(default)]
    pub token: Option<String>,
    /// A user, with `password`.
    #[serde(default)]
    pub username: Option<String>,
    /// The user's password.
    #[serde(default)]
    pub password: Option<String>,
}

/// Jira Cloud settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JiraSettings {
    /// The site, e.g. `https://your-domain.atlassian.net`.
    pub base_url: String,
    /// The account the API token belongs to.
    pub email: String,
}

/// A single API token or key.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenCredentials {
    /// The token.
    pub api_token: String,
}

/// A Slack bot token.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackCredentials {
    /// The bot token (`xoxb-...`).
    pub bot_token: String,
}

/// A Slack incoming webhook, whose URL is the secret.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackWebhookCredentials {
    /// The webhook URL (`https://hooks.slack.com/services/...`).
    pub webhook_url: String,
}

/// No settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

/// OAuth 2.0 client credentials.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCredentialsSecret {
    /// The API client's id.
    pub client_id: String,
    /// The API client's secret.
    pub client_secret: String,
}

/// Microsoft Defender for Endpoint settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefenderSettings {
    /// The Microsoft Entra tenant id.
    pub tenant_id: String,
    /// The sign-in service; Microsoft's global cloud when left out.
    #[serde(default)]
    pub login_url: Option<String>,
    /// The Defender API; the global endpoint when left out.
    #[serde(default)]
    pub api_url: Option<String>,
}

/// Settings of the generic HTTP kind: the tools, declared as data.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// The tools; each `name` is the action.
    pub tools: Vec<HttpToolSpec>,
}

fn action(action: &str, description: &str, risk: RiskLevel) -> ActionInfo {
    ActionInfo {
        action: action.to_owned(),
        description: description.to_owned(),
        risk,
    }
}

/// Every kind, in a stable order.
#[must_use]
pub fn kinds() -> Vec<ToolKind> {
    use RiskLevel::{High, Low, Medium};
    vec![
        ToolKind {
            kind: "splunk",
            description: "Splunk Enterprise or Cloud: run SPL searches (one-shot, or as a polled job).",
            settings_schema: schema::<SplunkSettings>(),
            credentials_schema: schema::<SplunkCredentials>(),
            actions: vec![action("search", "Run a Splunk search over a time range.", Low)],
        },
        ToolKind {
            kind: "jira",
            description: "Jira Cloud: open, comment on, search and transition issues.",
            settings_schema: schema::<JiraSettings>(),
            credentials_schema: schema::<ApiTokenCredentials>(),
            actions: vec![
                action(
                    "create_issue",
                    "Open an issue (description as Atlassian Document Format).",
                    Medium,
                ),
                action("add_comment", "Comment on an issue.", Medium),
                action("search", "Search issues with JQL.", Low),
                action("transition_issue", "Move an issue to another status.", Medium),
            ],
        },
        ToolKind {
            kind: "slack",
            description: "Slack Web API: post messages with blocks as a bot (`chat.postMessage`).",
            settings_schema: schema::<BaseUrlSettings>(),
            credentials_schema: schema::<SlackCredentials>(),
            actions: vec![action("post_message", "Post a message to a channel.", Medium)],
        },
        ToolKind {
            kind: "slack_webhook",
            description: "A Slack incoming webhook: post to the one channel it belongs to.",
            settings_schema: schema::<NoSettings>(),
            credentials_schema: schema::<SlackWebhookCredentials>(),
            actions: vec![action("notify", "Post a message through the webhook.", Medium)],
        },
        ToolKind {
            kind: "virustotal",
            description: "VirusTotal: reputation of a file hash, IP address, domain or URL.",
            settings_schema: schema::<BaseUrlSettings>(),
            credentials_schema: schema::<ApiTokenCredentials>(),
            actions: vec![action("lookup", "Look up an indicator's reputation.", Low)],
        },
        ToolKind {
            kind: "abuseipdb",
            description: "AbuseIPDB: abuse reports about an IP address.",
            settings_schema: schema::<BaseUrlSettings>(),
            credentials_schema: schema::<ApiTokenCredentials>(),
            actions: vec![action("check", "Check an IP address's abuse reports.", Low)],
        },
        ToolKind {
            kind: "crowdstrike",
            description: "CrowdStrike Falcon: find hosts, contain them and lift containment.",
            settings_schema: schema::<BaseUrlSettings>(),
            credentials_schema: schema::<ClientCredentialsSecret>(),
            actions: vec![
                action("host_lookup", "Find hosts by hostname or IP.", Low),
                action(
                    "contain_host",
                    "Cut a host off the network (network containment).",
                    High,
                ),
                action(
                    "lift_containment",
                    "Give a contained host its network back.",
                    High,
                ),
            ],
        },
        ToolKind {
            kind: "defender",
            description: "Microsoft Defender for Endpoint: find machines, isolate and release them.",
            settings_schema: schema::<DefenderSettings>(),
            credentials_schema: schema::<ClientCredentialsSecret>(),
            actions: vec![
                action("machine_lookup", "Find machines by DNS name or IP.", Low),
                action("isolate_machine", "Isolate a machine from the network.", High),
                action("release_machine", "Release a machine from isolation.", High),
            ],
        },
        ToolKind {
            kind: "mcp",
            description: "A remote MCP server (streamable HTTP): its tools, discovered when the configuration is created or tested.",
            settings_schema: schema::<mcp::McpSettings>(),
            credentials_schema: schema::<mcp::McpCredentials>(),
            actions: Vec::new(),
        },
        ToolKind {
            kind: "http",
            description: "Any HTTP API, declared as data: URL, query, header and body templates, auth, extraction.",
            settings_schema: schema::<HttpSettings>(),
            credentials_schema: schema::<crate::http::Credentials>(),
            actions: Vec::new(),
        },
    ]
}

/// The kind named `kind`.
#[must_use]
pub fn kind(kind: &str) -> Option<ToolKind> {
    kinds().into_iter().find(|k| k.kind == kind)
}

fn settings<T: DeserializeOwned>(kind: &str, v: &Value) -> Result<T, CatalogError> {
    serde_json::from_value(v.clone()).map_err(|e| CatalogError::InvalidSettings {
        kind: kind.to_owned(),
        reason: e.to_string(),
    })
}

/// Parses credentials without ever echoing a value: serde's messages for wrong types quote the value, so only
/// messages about fields (missing, unknown) are passed on.
fn credentials<T: DeserializeOwned>(kind: &str, v: Option<&Value>) -> Result<T, CatalogError> {
    let bad = |reason: String| CatalogError::InvalidCredentials {
        kind: kind.to_owned(),
        reason,
    };
    let v = v.ok_or_else(|| bad("credentials are required".into()))?;
    serde_json::from_value(v.clone()).map_err(|e| {
        let message = e.to_string();
        if message.starts_with("missing field") || message.starts_with("unknown field") {
            bad(message)
        } else {
            bad("every credential must be a string field of the kind's credentials schema".into())
        }
    })
}

fn or_default(url: Option<String>, default: &str) -> String {
    url.unwrap_or_else(|| default.to_owned())
}

/// A configuration's settings and credentials, parsed; what [`build`] and [`probe`] work from.
pub(crate) enum Parsed {
    Splunk(String, SplunkAuth),
    Jira(JiraSettings, String),
    Slack(String, String),
    SlackWebhook(String),
    VirusTotal(String, String),
    AbuseIpDb(String, String),
    CrowdStrike(String, ClientCredentialsSecret),
    Defender(DefenderSettings, ClientCredentialsSecret),
    Http(HttpSettings, crate::http::Credentials),
    Mcp,
}

/// Checks `settings` and `credentials` against `kind` without connecting anywhere.
pub fn validate(kind: &str, settings: &Value, credentials: Option<&Value>) -> Result<(), CatalogError> {
    let parsed = parse(kind, settings, credentials)?;
    if let Parsed::Http(s, c) = parsed {
        // Building checks each declared tool (method, URL template, auth).
        let client = EgressClient::new(
            crate::egress::EgressPolicy::public_only(),
            crate::egress::EgressConfig::default(),
        )
        .map_err(|e| CatalogError::Unavailable(e.to_string()))?;
        http_tools(s, c, &client)?;
    }
    Ok(())
}

pub(crate) fn parse(kind: &str, s: &Value, c: Option<&Value>) -> Result<Parsed, CatalogError> {
    Ok(match kind {
        "splunk" => {
            let st: SplunkSettings = settings(kind, s)?;
            let cr: SplunkCredentials = credentials(kind, c)?;
            let auth = match (cr.token, cr.username, cr.password) {
                (Some(t), None, None) => SplunkAuth::Token(t),
                (None, Some(username), Some(password)) => SplunkAuth::Basic { username, password },
                _ => {
                    return Err(CatalogError::InvalidCredentials {
                        kind: kind.to_owned(),
                        reason: "give either `token`, or `username` and `password`".into(),
                    });
                }
            };
            Parsed::Splunk(st.base_url, auth)
        }
        "jira" => {
            let st: JiraSettings = settings(kind, s)?;
            let cr: ApiTokenCredentials = credentials(kind, c)?;
            Parsed::Jira(st, cr.api_token)
        }
        "slack" => {
            let st: BaseUrlSettings = settings(kind, s)?;
            let cr: SlackCredentials = credentials(kind, c)?;
            Parsed::Slack(or_default(st.base_url, SLACK_API), cr.bot_token)
        }
        "slack_webhook" => {
            let _: NoSettings = settings(kind, s)?;
            let cr: SlackWebhookCredentials = credentials(kind, c)?;
            Parsed::SlackWebhook(cr.webhook_url)
        }
        "virustotal" => {
            let st: BaseUrlSettings = settings(kind, s)?;
            let cr: ApiTokenCredentials = credentials(kind, c)?;
            Parsed::VirusTotal(or_default(st.base_url, VIRUSTOTAL_API), cr.api_token)
        }
        "abuseipdb" => {
            let st: BaseUrlSettings = settings(kind, s)?;
            let cr: ApiTokenCredentials = credentials(kind, c)?;
            Parsed::AbuseIpDb(or_default(st.base_url, ABUSEIPDB_API), cr.api_token)
        }
        "crowdstrike" => {
            let st: BaseUrlSettings = settings(kind, s)?;
            Parsed::CrowdStrike(or_default(st.base_url, FALCON_US1), credentials(kind, c)?)
        }
        "defender" => Parsed::Defender(settings(kind, s)?, credentials(kind, c)?),
        "http" => {
            let st: HttpSettings = settings(kind, s)?;
            // Tools declared without authentication need no credentials.
            let cr = match c {
                None => crate::http::Credentials::default(),
                Some(_) => credentials(kind, c)?,
            };
            Parsed::Http(st, cr)
        }
        "mcp" => {
            mcp::parse(s, c)?;
            Parsed::Mcp
        }
        other => return Err(CatalogError::UnknownKind(other.to_owned())),
    })
}

fn http_tools(
    s: HttpSettings,
    c: crate::http::Credentials,
    client: &EgressClient,
) -> Result<Vec<Arc<dyn Tool>>, CatalogError> {
    s.tools
        .into_iter()
        .map(|spec| {
            HttpTool::new(spec, c.clone(), client.clone())
                .map(|t| Arc::new(t) as Arc<dyn Tool>)
                .map_err(|e| CatalogError::InvalidSettings {
                    kind: "http".into(),
                    reason: e.to_string(),
                })
        })
        .collect()
}

/// The tools of the configuration `name` of `kind`, calling out through `client` (which carries the
/// organisation's egress policy). Tool names are `name` + `_` + action; outputs and errors are scrubbed of
/// the credentials. `discovered` holds the definitions [`mcp::discover`] found, for the `mcp` kind.
pub fn build(
    name: &str,
    kind: &str,
    settings: &Value,
    credentials: Option<&Value>,
    client: &EgressClient,
    discovered: &[ToolDefinition],
) -> Result<Vec<Arc<dyn Tool>>, CatalogError> {
    check_config_name(name)?;
    let mut secrets = Secrets::new();
    if let Some(c) = credentials {
        secrets.add_json(c);
    }
    let c = client.clone();
    let tools: Vec<Arc<dyn Tool>> = match parse(kind, settings, credentials)? {
        Parsed::Splunk(base, auth) => {
            if let SplunkAuth::Basic { username, password } = &auth {
                secrets.add_basic(username, password);
            }
            vec![Arc::new(Typed::new(SplunkSearch::new(c, base, auth)))]
        }
        Parsed::Jira(st, token) => {
            secrets.add_basic(&st.email, &token);
            let site = JiraSite::new(c, st.base_url, &st.email, &token);
            vec![
                Arc::new(Typed::new(JiraCreateIssue(site.clone()))),
                Arc::new(Typed::new(JiraAddComment(site.clone()))),
                Arc::new(Typed::new(JiraSearch(site.clone()))),
                Arc::new(Typed::new(JiraTransition(site))),
            ]
        }
        Parsed::Slack(api, token) => vec![Arc::new(Typed::new(SlackPostMessage::new(c, api, token)))],
        Parsed::SlackWebhook(url) => vec![Arc::new(Typed::new(SlackWebhook::new(c, url)))],
        Parsed::VirusTotal(api, key) => vec![Arc::new(Typed::new(VirusTotal::new(c, api, key)))],
        Parsed::AbuseIpDb(api, key) => vec![Arc::new(Typed::new(AbuseIpDb::new(c, api, key)))],
        Parsed::CrowdStrike(base, cr) => {
            secrets.add_basic(&cr.client_id, &cr.client_secret);
            let falcon = Falcon::new(c, base, cr.client_id, cr.client_secret);
            vec![
                Arc::new(Typed::new(FalconHostLookup(falcon.clone()))),
                Arc::new(Typed::new(FalconContain(falcon.clone()))),
                Arc::new(Typed::new(FalconLiftContainment(falcon))),
            ]
        }
        Parsed::Defender(st, cr) => {
            secrets.add_basic(&cr.client_id, &cr.client_secret);
            let defender = Defender::new(
                c,
                st.login_url.as_deref().unwrap_or(ENTRA_LOGIN),
                &st.tenant_id,
                or_default(st.api_url, DEFENDER_API),
                cr.client_id,
                cr.client_secret,
            );
            vec![
                Arc::new(Typed::new(DefenderMachineLookup(defender.clone()))),
                Arc::new(Typed::new(DefenderIsolate(defender.clone()))),
                Arc::new(Typed::new(DefenderRelease(defender))),
            ]
        }
        Parsed::Mcp => return mcp::lazy_tools(name, settings, credentials, client, discovered),
        Parsed::Http(st, cr) => {
            if let (Some(u), Some(p)) = (&cr.username, &cr.password) {
                secrets.add_basic(u, p);
            }
            // Declared tools are named by their spec; the configuration's name goes in front like the rest.
            let tools = http_tools(st, cr, client)?;
            return Ok(tools
                .into_iter()
                .map(|t| {
                    let action = t.definition().name.clone();
                    rename(t, &tool_name(name, &action), &secrets)
                })
                .collect());
        }
    };
    Ok(tools
        .into_iter()
        .map(|t| {
            let own = t.definition().name.clone();
            // The integration's own name is `vendor_action`; the action is what follows the vendor.
            let action = own.split_once('_').map_or(own.as_str(), |(_, a)| a).to_owned();
            rename(t, &tool_name(name, &action), &secrets)
        })
        .collect())
}

/// `inner` under another name, with `secrets` scrubbed from what it returns.
#[must_use]
pub fn rename(inner: Arc<dyn Tool>, name: &str, secrets: &Secrets) -> Arc<dyn Tool> {
    let definition = ToolDefinition {
        name: name.to_owned(),
        ..inner.definition().clone()
    };
    Arc::new(Configured {
        definition,
        inner,
        secrets: secrets.clone(),
    })
}

/// A tool of a configuration: its name, and the scrubbing of the configuration's secrets.
struct Configured {
    definition: ToolDefinition,
    inner: Arc<dyn Tool>,
    secrets: Secrets,
}

#[async_trait::async_trait]
impl Tool for Configured {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn call(&self, ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        match self.inner.call(ctx, input).await {
            Ok(out) => Ok(ToolOutput::text(self.secrets.scrub(&out.content))),
            Err(ToolError::InvalidInput(m)) => Err(ToolError::InvalidInput(self.secrets.scrub(&m))),
            Err(ToolError::Failed(m)) => Err(ToolError::Failed(self.secrets.scrub(&m))),
            Err(ToolError::Unavailable(m)) => Err(ToolError::Unavailable(self.secrets.scrub(&m))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_object_schemas_and_unique_actions() {
        let all = kinds();
        let mut names: Vec<&str> = all.iter().map(|k| k.kind).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for k in &all {
            assert_eq!(k.settings_schema["type"], "object", "{}", k.kind);
            assert_eq!(k.credentials_schema["type"], "object", "{}", k.kind);
        }
        let cs = kind("crowdstrike").unwrap();
        let high: Vec<&str> = cs
            .actions
            .iter()
            .filter(|a| a.risk == RiskLevel::High)
            .map(|a| a.action.as_str())
            .collect();
        assert_eq!(high, ["contain_host", "lift_containment"]);
    }

    #[test]
    fn built_names_match_the_catalogue() {
        let client = EgressClient::new(
            crate::egress::EgressPolicy::public_only(),
            crate::egress::EgressConfig::default(),
        )
        .unwrap();
        let creds = serde_json::json!({"client_id": "id-1234", "client_secret": "secret-1234"});
        let tools = build(
            "falcon-eu",
            "crowdstrike",
            &serde_json::json!({}),
            Some(&creds),
            &client,
            &[],
        )
        .unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.definition().name.as_str()).collect();
        assert_eq!(
            names,
            [
                "falcon-eu_host_lookup",
                "falcon-eu_contain_host",
                "falcon-eu_lift_containment"
            ]
        );
        assert_eq!(tools[1].definition().risk, RiskLevel::High);
        let jira = kind("jira").unwrap();
        let creds = serde_json::json!({"api_token": "tok-1234"});
        let settings = serde_json::json!({"base_url": "https://x.atlassian.net", "email": "a@b.c"});
        let built = build("jira", "jira", &settings, Some(&creds), &client, &[]).unwrap();
        let built: Vec<String> = built.iter().map(|t| t.definition().name.clone()).collect();
        let listed: Vec<String> = jira
            .actions
            .iter()
            .map(|a| tool_name("jira", &a.action))
            .collect();
        assert_eq!(built, listed);
    }

    #[test]
    fn credential_errors_never_quote_values() {
        let err = validate(
            "jira",
            &serde_json::json!({"base_url": "https://x", "email": "a@b.c"}),
            Some(&serde_json::json!({"api_token": ["tok-SECRET-99"]})),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("tok-SECRET-99"), "{err}");
        let err = validate(
            "jira",
            &serde_json::json!({"base_url": "https://x", "email": "a@b.c"}),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid credentials for `jira`: credentials are required"
        );
        assert!(matches!(
            validate("nope", &Value::Null, None),
            Err(CatalogError::UnknownKind(_))
        ));
    }
}
