//! OAuth 2.0 client credentials, shared by the integrations that use them: one token at a time, cached until
//! shortly before it expires, forgotten when the service stops accepting it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secops_core::tool::ToolError;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::egress::{EgressClient, Method};

/// How the client proves who it is to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// HTTP Basic with the client id and secret (RFC 6749's preferred way).
    Basic,
    /// `client_id` and `client_secret` in the form body (what CrowdStrike and Microsoft Entra ID document).
    Form,
}

/// A token endpoint and the client's credentials.
#[derive(Clone)]
pub(crate) struct ClientCredentials {
    service: &'static str,
    token_url: String,
    client_id: String,
    client_secret: String,
    auth: ClientAuth,
    form: Vec<(&'static str, String)>,
    renew_early: Duration,
    cached: Arc<Mutex<Option<(String, Instant)>>>,
}

impl ClientCredentials {
    /// `form` is sent besides the credentials (e.g. `grant_type`, `scope`); tokens are renewed `renew_early`
    /// before they expire.
    pub(crate) fn new(
        service: &'static str,
        token_url: impl Into<String>,
        (client_id, client_secret): (String, String),
        auth: ClientAuth,
        form: Vec<(&'static str, String)>,
        renew_early: Duration,
    ) -> Self {
        Self {
            service,
            token_url: token_url.into(),
            client_id,
            client_secret,
            auth,
            form,
            renew_early,
            cached: Arc::default(),
        }
    }

    /// A valid token, from the cache or the token endpoint.
    pub(crate) async fn token(&self, client: &EgressClient) -> Result<String, ToolError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && *until > Instant::now()
        {
            return Ok(token.clone());
        }
        let body = {
            let mut body = url::form_urlencoded::Serializer::new(String::new());
            if self.auth == ClientAuth::Form {
                body.append_pair("client_id", &self.client_id)
                    .append_pair("client_secret", &self.client_secret);
            }
            for (k, v) in &self.form {
                body.append_pair(k, v);
            }
            body.finish()
        };
        let mut req = client
            .request(Method::POST, &self.token_url)
            .map_err(|e| ToolError::Unavailable(format!("{} is unreachable: {e}", self.service)))?
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        if self.auth == ClientAuth::Basic {
            req = req.basic_auth(&self.client_id, Some(&self.client_secret));
        }
        let res = client
            .send(req)
            .await
            .map_err(|e| ToolError::Unavailable(format!("{} is unreachable: {e}", self.service)))?;
        let v: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        if !res.status.is_success() {
            // RFC 6749 (`error`, `error_description`) and CrowdStrike (`errors[].message`) shapes.
            let mut detail: Vec<&str> = [v["error"].as_str(), v["error_description"].as_str()]
                .into_iter()
                .flatten()
                .collect();
            detail.extend(
                v["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["message"].as_str()),
            );
            return Err(ToolError::Unavailable(format!(
                "{} refused the client credentials ({}): {}",
                self.service,
                res.status,
                detail.join(": ")
            )));
        }
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| ToolError::Unavailable(format!("{} sent no access token", self.service)))?
            .to_owned();
        let lifetime =
            Duration::from_secs(v["expires_in"].as_u64().unwrap_or(300)).saturating_sub(self.renew_early);
        *cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// Drops the cached token (the service refused it).
    pub(crate) async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}
