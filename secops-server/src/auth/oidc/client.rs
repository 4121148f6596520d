//! The relying-party side of OpenID Connect, on the `openidconnect` crate: discovery, the authorisation URL
//! (state, nonce, PKCE S256), and the code exchange with ID-token validation. Every request goes through
//! [`SsoHttp`], our own `reqwest` client with redirects disabled, time-outs, a response size cap and
//! `https://` only (unless the server allows insecure issuers for tests).
//!
//! Organisation admins choose the issuer and the server fetches from it (and from the endpoints its discovery
//! document names). Requiring HTTPS and refusing redirects keeps that from being an easy way into internal
//! services; a full SSRF guard (address filtering after DNS resolution) arrives with the tools issue.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AsyncHttpClient, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest response accepted from an identity provider. Discovery documents, key sets and token responses
/// are a few KiB; a provider sending far more is broken or hostile.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// ID-token signature algorithms we accept: asymmetric only. `none` is never accepted, and the HMAC ones are
/// refused because they would make the client secret (which the organisation's admins know) a signing key.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// An HTTP request to an identity provider failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL's scheme is not allowed.
    #[error("refused {0}: identity providers must use https")]
    Refused(String),
    /// The HTTP client could not be built (TLS set-up failed).
    #[error("the HTTP client is unavailable: {0}")]
    Unavailable(String),
    /// The egress guard refused the destination, or connecting, sending or receiving failed (including
    /// time-outs, redirects and oversize answers).
    #[error("{0}")]
    Egress(#[from] secops_tools::egress::EgressError),
}

/// The HTTP client for identity providers, through the egress guard: an organisation admin chooses the issuer
/// and the server fetches from it, so private, loopback and metadata addresses are refused, redirects are not
/// followed (a provider cannot bounce the server to another host), connections and whole requests time out, and
/// bodies are capped.
#[derive(Debug, Clone)]
pub struct SsoHttp {
    client: Result<secops_tools::egress::EgressClient, String>,
    allow_insecure: bool,
}

impl SsoHttp {
    /// A client; `allow_insecure` (tests and local development only) also permits `http://` URLs and
    /// identity providers on loopback and private networks.
    #[must_use]
    pub fn new(allow_insecure: bool) -> Self {
        use secops_tools::egress::{EgressClient, EgressConfig, EgressPolicy};
        let policy = if allow_insecure {
            EgressPolicy::with_allow_list(&["0.0.0.0/0", "::/0"]).unwrap_or_default()
        } else {
            EgressPolicy::public_only()
        };
        let config = EgressConfig {
            connect_timeout: CONNECT_TIMEOUT,
            timeout: TOTAL_TIMEOUT,
            max_redirects: 0,
            max_response_bytes: MAX_RESPONSE_BYTES,
        };
        let client = EgressClient::new(policy, config).map_err(|e| e.to_string());
        Self {
            client,
            allow_insecure,
        }
    }

    /// Whether the server may fetch from `url`'s scheme.
    #[must_use]
    pub fn allows(&self, url: &str) -> bool {
        url.starts_with("https://") || (self.allow_insecure && url.starts_with("http://"))
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| HttpError::Unavailable(e.clone()))?;
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        if !self.allows(&url) {
            return Err(HttpError::Refused(
                parts
                    .uri
                    .scheme_str()
                    .unwrap_or("a URL without scheme")
                    .to_owned(),
            ));
        }
        let request = client
            .request(parts.method, &url)?
            .headers(parts.headers)
            .body(body);
        let response = client.send(request).await?;
        let mut out = HttpResponse::new(response.body.to_vec());
        *out.status_mut() = response.status;
        *out.headers_mut() = response.headers;
        Ok(out)
    }
}

impl<'c> AsyncHttpClient<'c> for SsoHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// Why a step with the identity provider failed. The message is for logs and the audit trail, never for the
/// client, and holds no tokens or secrets.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The issuer or a URL is malformed or not allowed.
    #[error("configuration: {0}")]
    Config(String),
    /// Fetching or checking the discovery document or key set failed.
    #[error("discovery: {0}")]
    Discovery(String),
    /// The token endpoint refused the code or answered with something unusable.
    #[error("token exchange: {0}")]
    TokenExchange(String),
    /// The token response has no ID token.
    #[error("the token response has no ID token")]
    NoIdToken,
    /// The ID token failed validation (signature, algorithm, issuer, audience, expiry or nonce).
    #[error("ID token: {0}")]
    IdToken(String),
}

impl OidcError {
    /// A short stable label for the audit log.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            OidcError::Config(_) => "provider_configuration",
            OidcError::Discovery(_) => "discovery",
            OidcError::TokenExchange(_) => "token_exchange",
            OidcError::NoIdToken => "no_id_token",
            OidcError::IdToken(_) => "id_token_invalid",
        }
    }
}

/// Fetches and checks the provider's discovery document (its `issuer` must equal ours exactly) and key set.
pub async fn discover(http: &SsoHttp, issuer: &str) -> Result<CoreProviderMetadata, OidcError> {
    if !http.allows(issuer) {
        return Err(OidcError::Config("the issuer must use https".into()));
    }
    let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|e| OidcError::Config(e.to_string()))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| OidcError::Discovery(error_chain(&e)))?;
    for (what, url) in [
        (
            "authorization endpoint",
            Some(metadata.authorization_endpoint().as_str()),
        ),
        ("token endpoint", metadata.token_endpoint().map(|u| u.as_str())),
    ] {
        // The browser follows the authorisation URL, and the token endpoint receives the client secret: both
        // must be as trustworthy as the issuer itself.
        if let Some(url) = url
            && !http.allows(url)
        {
            return Err(OidcError::Discovery(format!("the {what} must use https")));
        }
    }
    Ok(metadata)
}

/// What to send the browser to, and what to remember until the callback.
pub struct Authorization {
    /// The provider's authorisation URL with every parameter.
    pub url: String,
    /// The `state` parameter (the store keeps only its HMAC).
    pub state: String,
    /// The `nonce` parameter.
    pub nonce: String,
    /// The PKCE code verifier (its S256 challenge is in the URL).
    pub pkce_verifier: String,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization").finish_non_exhaustive()
    }
}

fn redirect_url(redirect_uri: &str) -> Result<RedirectUrl, OidcError> {
    RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| OidcError::Config(e.to_string()))
}

/// The authorisation-code URL with fresh state, nonce and a PKCE S256 challenge, asking for `openid email profile`.
pub fn authorization(
    metadata: &CoreProviderMetadata,
    client_id: &str,
    redirect_uri: &str,
) -> Result<Authorization, OidcError> {
    let client =
        CoreClient::from_provider_metadata(metadata.clone(), ClientId::new(client_id.to_owned()), None)
            .set_redirect_uri(redirect_url(redirect_uri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    Ok(Authorization {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    })
}

/// Who the provider says logged in, after every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The issuer (equal to the configured one).
    pub issuer: String,
    /// The provider's stable id for the user.
    pub subject: String,
    /// E-mail, if the provider shares it.
    pub email: Option<String>,
    /// Whether the provider vouches for the e-mail (`email_verified: true`; missing counts as false).
    pub email_verified: bool,
    /// A display name, if any.
    pub name: Option<String>,
}

/// What the token request needs.
pub struct Exchange<'a> {
    /// Client id.
    pub client_id: &'a str,
    /// Client secret.
    pub client_secret: &'a str,
    /// The redirect URI the login was started with.
    pub redirect_uri: &'a str,
    /// The code from the callback.
    pub code: &'a str,
    /// The PKCE verifier of the login.
    pub pkce_verifier: &'a str,
    /// The nonce of the login.
    pub nonce: &'a str,
}

impl std::fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Exchanges the code at the token endpoint (client secret by HTTP Basic, or in the body when the provider
/// supports only that; with the PKCE verifier) and validates the ID token: signature against the provider's
/// key set with an asymmetric algorithm, `iss`, `aud` (and `azp` when there are several audiences), `exp` and
/// `nonce`.
pub async fn exchange(
    http: &SsoHttp,
    metadata: &CoreProviderMetadata,
    request: Exchange<'_>,
) -> Result<VerifiedIdentity, OidcError> {
    let auth_type = match metadata.token_endpoint_auth_methods_supported() {
        Some(methods)
            if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
        {
            AuthType::RequestBody
        }
        _ => AuthType::BasicAuth,
    };
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(request.client_id.to_owned()),
        Some(ClientSecret::new(request.client_secret.to_owned())),
    )
    .set_redirect_uri(redirect_url(request.redirect_uri)?)
    .set_auth_type(auth_type);
    let token = client
        .exchange_code(AuthorizationCode::new(request.code.to_owned()))
        .map_err(|e| OidcError::Discovery(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(request.pkce_verifier.to_owned()))
        .request_async(http)
        .await
        // Only the top-level message: the sources of a parse error can quote the response, which holds tokens.
        .map_err(|e| OidcError::TokenExchange(e.to_string()))?;
    let id_token = token.id_token().ok_or(OidcError::NoIdToken)?;
    let verifier = client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS);
    let claims = id_token
        .claims(&verifier, &Nonce::new(request.nonce.to_owned()))
        .map_err(|e| OidcError::IdToken(e.to_string()))?;
    Ok(VerifiedIdentity {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
    })
}

/// An error and its sources on one line, for public documents only (discovery, key sets): parse errors may
/// quote the response.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> HttpRequest {
        let mut req = HttpRequest::new(Vec::new());
        *req.uri_mut() = url.parse().unwrap();
        req
    }

    #[tokio::test]
    async fn identity_providers_on_private_or_metadata_addresses_are_refused() {
        let http = SsoHttp::new(false);
        for url in [
            "https://169.254.169.254/.well-known/openid-configuration",
            "https://127.0.0.1:8443/.well-known/openid-configuration",
            "https://10.0.0.5/.well-known/openid-configuration",
            "https://[::1]/.well-known/openid-configuration",
        ] {
            match http.send(get(url)).await {
                Err(HttpError::Egress(secops_tools::egress::EgressError::Refused(r))) => {
                    assert!(r.to_string().contains("allow-list"), "{url}: {r}");
                }
                other => panic!("{url}: expected a refusal, got {other:?}"),
            }
        }
        assert!(matches!(
            http.send(get("http://idp.example.com/")).await,
            Err(HttpError::Refused(_))
        ));
    }
}
