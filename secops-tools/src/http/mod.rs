//! The generic HTTP tool: an integration declared as data (TOML or JSON), so users add one without writing
//! Rust. Every call goes through the [`crate::egress::EgressClient`]; credentials are injected at
//! call time and scrubbed from whatever goes back to the model.
//!
//! ```toml
//! name = "ip_reputation"
//! description = "Reputation of an IP address from the intel service."
//! method = "GET"
//! url = "https://intel.example.com/v1/ip/{{ip}}"
//! query = { verbose = "true" }
//! headers = { Accept = "application/json" }
//! input_schema = { type = "object", properties = { ip = { type = "string" } }, required = ["ip"] }
//! auth = { type = "bearer" }
//! response = { pointer = "/data", fields = ["score", "country"], max_bytes = 65536 }
//! ```

mod template;

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use secops_core::tool::{RiskLevel, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput};
use serde::Deserialize;
use serde_json::Value;

use crate::egress::{EgressClient, EgressError, Method};
use crate::oauth::{ClientAuth, ClientCredentials};
use crate::scrub::Secrets;

/// How the tool authenticates; the secrets themselves come separately, as [`Credentials`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthSpec {
    /// No authentication.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// HTTP basic authentication.
    Basic,
    /// An API key in a header.
    ApiKeyHeader {
        /// The header, e.g. `X-Api-Key`.
        header: String,
    },
    /// OAuth 2.0 client credentials: a token from `token_url`, cached until shortly before it expires.
    Oauth2ClientCredentials {
        /// The token endpoint.
        token_url: String,
        /// Scopes to ask for, space-separated.
        #[serde(default)]
        scope: Option<String>,
    },
}

/// What to return from the response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// A JSON pointer into the response (`/data/attributes`).
    #[serde(default)]
    pub pointer: Option<String>,
    /// Keep only these fields of the selected object.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Largest response read.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

fn default_max_bytes() -> usize {
    256 * 1024
}

impl Default for ResponseSpec {
    fn default() -> Self {
        Self {
            pointer: None,
            fields: Vec::new(),
            max_bytes: default_max_bytes(),
        }
    }
}

/// An HTTP tool declared as data.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpToolSpec {
    /// The tool's name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// Risk (`low`, `medium`, `high`); high needs approval by default.
    #[serde(default)]
    pub risk: RiskLevel,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// The URL; placeholders only after the host, each filled as one path segment.
    pub url: String,
    /// Query parameters (values may hold placeholders).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Headers (values may hold placeholders).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body template.
    #[serde(default)]
    pub body: Option<Value>,
    /// JSON Schema of the input.
    pub input_schema: Value,
    /// Authentication.
    #[serde(default = "no_auth")]
    pub auth: AuthSpec,
    /// Response extraction.
    #[serde(default)]
    pub response: ResponseSpec,
}

fn no_auth() -> AuthSpec {
    AuthSpec::None
}

/// The secrets an HTTP tool authenticates with, from the organisation's encrypted tool configuration.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Bearer token.
    #[serde(default)]
    pub token: Option<String>,
    /// Basic-auth user.
    #[serde(default)]
    pub username: Option<String>,
    /// Basic-auth password.
    #[serde(default)]
    pub password: Option<String>,
    /// API key.
    #[serde(default)]
    pub api_key: Option<String>,
    /// OAuth client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// OAuth client secret.
    #[serde(default)]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials([REDACTED])")
    }
}

/// The definition is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid HTTP tool `{name}`: {reason}")]
pub struct SpecError {
    /// The tool.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

/// The generic HTTP tool.
pub struct HttpTool {
    spec: HttpToolSpec,
    definition: ToolDefinition,
    method: Method,
    credentials: Credentials,
    client: EgressClient,
    /// With OAuth client credentials configured: the token source.
    oauth: Option<ClientCredentials>,
}

impl std::fmt::Debug for HttpTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTool")
            .field("name", &self.spec.name)
            .finish_non_exhaustive()
    }
}

impl HttpTool {
    /// Checks `spec` and builds the tool; `client` carries the organisation's egress policy.
    pub fn new(
        spec: HttpToolSpec,
        credentials: Credentials,
        client: EgressClient,
    ) -> Result<Self, SpecError> {
        let bad = |reason: String| SpecError {
            name: spec.name.clone(),
            reason,
        };
        let method = match spec.method.to_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            "HEAD" => Method::HEAD,
            _ => {
                return Err(bad(format!(
                    "`{}` is not GET, POST, PUT, PATCH, DELETE or HEAD",
                    spec.method
                )));
            }
        };
        // Placeholders may not choose where the request goes: the scheme, host and port are fixed.
        let authority_end = spec
            .url
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| spec.url[start..].find('/').map(|j| start + j))
            .unwrap_or(spec.url.len());
        if spec.url[..authority_end].contains("{{") {
            return Err(bad("placeholders may appear only in the URL's path".into()));
        }
        url::Url::parse(&spec.url[..authority_end]).map_err(|e| bad(format!("the URL is invalid: {e}")))?;
        let mut header_names: Vec<&str> = spec.headers.keys().map(String::as_str).collect();
        if let AuthSpec::ApiKeyHeader { header } = &spec.auth {
            header_names.push(header);
        }
        if let Some(h) = header_names
            .iter()
            .find(|h| reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err())
        {
            return Err(bad(format!("`{h}` is not a valid header name")));
        }
        let known: Vec<&str> = spec.input_schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut used = template::placeholders(&spec.url);
        for v in spec.query.values().chain(spec.headers.values()) {
            used.extend(template::placeholders(v));
        }
        if let Some(body) = &spec.body {
            used.extend(template::placeholders(&body.to_string()));
        }
        if let Some(unknown) = used.iter().find(|n| !known.contains(&n.as_str())) {
            return Err(bad(format!(
                "`{{{{{unknown}}}}}` is not a property of the input schema"
            )));
        }
        let oauth = match (&spec.auth, &credentials.client_id, &credentials.client_secret) {
            (AuthSpec::Oauth2ClientCredentials { token_url, scope }, Some(id), Some(secret)) => {
                let mut form = vec![("grant_type", "client_credentials".to_owned())];
                if let Some(scope) = scope {
                    form.push(("scope", scope.clone()));
                }
                Some(ClientCredentials::new(
                    "the token endpoint",
                    token_url.clone(),
                    (id.clone(), secret.clone()),
                    ClientAuth::Basic,
                    form,
                    Duration::from_secs(30),
                ))
            }
            _ => None,
        };
        let definition = ToolDefinition::new(
            spec.name.clone(),
            spec.description.clone(),
            spec.input_schema.clone(),
        )
        .with_risk(spec.risk)
        .with_untrusted_output();
        Ok(Self {
            spec,
            definition,
            method,
            credentials,
            client,
            oauth,
        })
    }

    /// Every secret value, to scrub from what goes back to the model.
    fn secrets(&self, extra: Option<&str>) -> Secrets {
        let c = &self.credentials;
        let mut out = Secrets::new();
        for s in [&c.token, &c.password, &c.api_key, &c.client_secret]
            .into_iter()
            .flatten()
        {
            out.add(s);
        }
        if let (Some(user), Some(pass)) = (&c.username, &c.password) {
            out.add_basic(user, pass);
        }
        if let Some(t) = extra {
            out.add(t);
        }
        out
    }
}

fn unavailable(e: &EgressError) -> ToolError {
    match e {
        EgressError::Refused(_) | EgressError::Scheme(_) | EgressError::InvalidUrl(_) => {
            ToolError::InvalidInput(e.to_string())
        }
        _ => ToolError::Unavailable(e.to_string()),
    }
}

fn header_value(v: &str) -> Result<reqwest::header::HeaderValue, ToolError> {
    reqwest::header::HeaderValue::from_str(v)
        .map_err(|_| ToolError::InvalidInput("a header value is not allowed".into()))
}

#[async_trait::async_trait]
impl Tool for HttpTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn call(&self, _ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let filled = template::fill(&self.spec.url, &input, template::path_segment);
        let mut url = url::Url::parse(&filled)
            .map_err(|e| ToolError::InvalidInput(format!("the URL is invalid: {e}")))?;
        if !self.spec.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.spec.query {
                pairs.append_pair(k, &template::fill(v, &input, str::to_owned));
            }
        }
        let mut req = self
            .client
            .request(self.method.clone(), url.as_str())
            .map_err(|e| unavailable(&e))?;
        for (name, value) in &self.spec.headers {
            req = req.header(
                name.as_str(),
                header_value(&template::fill(value, &input, str::to_owned))?,
            );
        }
        if let Some(body) = &self.spec.body {
            req = req
                .header("content-type", "application/json")
                .body(template::fill_json(body, &input).to_string());
        }
        let missing = |what: &str| ToolError::Unavailable(format!("the tool's {what} is not configured"));
        let mut oauth_token = None;
        req = match &self.spec.auth {
            AuthSpec::None => req,
            AuthSpec::Bearer => req.bearer_auth(
                self.credentials
                    .token
                    .as_deref()
                    .ok_or_else(|| missing("token"))?,
            ),
            AuthSpec::Basic => req.basic_auth(
                self.credentials
                    .username
                    .as_deref()
                    .ok_or_else(|| missing("username"))?,
                self.credentials.password.as_deref(),
            ),
            AuthSpec::ApiKeyHeader { header } => req.header(
                header.as_str(),
                header_value(
                    self.credentials
                        .api_key
                        .as_deref()
                        .ok_or_else(|| missing("API key"))?,
                )?,
            ),
            AuthSpec::Oauth2ClientCredentials { .. } => {
                let token = self
                    .oauth
                    .as_ref()
                    .ok_or_else(|| missing("client id and secret"))?
                    .token(&self.client)
                    .await?;
                let r = req.bearer_auth(&token);
                oauth_token = Some(token);
                r
            }
        };
        let secrets = self.secrets(oauth_token.as_deref());
        let res = self.client.send(req).await.map_err(|e| match unavailable(&e) {
            ToolError::Unavailable(m) => ToolError::Unavailable(secrets.scrub(&m)),
            other => other,
        })?;
        if res.body.len() > self.spec.response.max_bytes {
            return Err(ToolError::Failed(format!(
                "the answer is larger than {} bytes",
                self.spec.response.max_bytes
            )));
        }
        let text = String::from_utf8_lossy(&res.body).into_owned();
        if !res.status.is_success() {
            if res.status.as_u16() == 401 || res.status.as_u16() == 403 {
                // A token that stopped working: fetch a new one next time.
                if let Some(o) = &self.oauth {
                    o.forget().await;
                }
            }
            let retry = res
                .retry_after()
                .map(|s| format!("; retry after {s} s"))
                .unwrap_or_default();
            let excerpt: String = text.chars().take(500).collect();
            return Err(ToolError::Failed(secrets.scrub(&format!(
                "the service answered {}{retry}: {excerpt}",
                res.status
            ))));
        }
        let content = if self.spec.response.pointer.is_some() || !self.spec.response.fields.is_empty() {
            let parsed: Value = serde_json::from_str(&text)
                .map_err(|_| ToolError::Failed("the service's answer is not JSON".into()))?;
            let mut selected = match &self.spec.response.pointer {
                Some(p) => parsed.pointer(p).cloned().unwrap_or(Value::Null),
                None => parsed,
            };
            if let (Value::Object(map), false) = (&selected, self.spec.response.fields.is_empty()) {
                selected = Value::Object(
                    map.iter()
                        .filter(|(k, _)| self.spec.response.fields.contains(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                );
            }
            selected.to_string()
        } else {
            text
        };
        Ok(ToolOutput::text(secrets.scrub(&content)))
    }
}
