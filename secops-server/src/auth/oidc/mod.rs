//! Single sign-on per organisation with OpenID Connect: the authorisation-code flow with PKCE (S256), `state`
//! and `nonce`, and just-in-time membership with the provider's default role.
//!
//! - `PUT /v1/sso`, `GET /v1/sso`, `DELETE /v1/sso`: an organisation's admins (`Permission::OrgManage`) set up
//!   its identity provider. The client secret is write-only: it is sealed at rest and never returned.
//! - `GET /v1/auth/sso/{organization_id}/start`: answers `302 Found` with the provider's authorisation URL in
//!   `Location` (what a browser following a login link needs). The login is remembered for ten minutes.
//! - `GET /v1/auth/sso/callback?code=...&state=...`: where the provider sends the browser back. Uses up the
//!   pending login, exchanges the code, validates the ID token, finds or creates the user and answers with the
//!   same session JSON as the password login. Every failure is the same 401, like a failed password login; the
//!   reason goes to the server log and to the organisation's audit log.
//!
//! The redirect URI registered with the provider is `{public_url}/v1/auth/sso/callback`. A web front end that
//! wants the provider to return to one of its own pages (and then call the callback route itself) passes
//! `redirect_uri` to the start route; it must belong to one of the configured CORS origins.
//!
//! Users are found by the provider identity (issuer and subject). A first login links an existing account by
//! e-mail only when the provider marks the e-mail verified *and* that account is already a member of the
//! organisation: otherwise any organisation's admins, who choose the provider, could claim accounts of other
//! organisations' users by e-mail. With no account for the e-mail, a user without a password is created; such a
//! user cannot log in with a password.

pub mod client;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use openidconnect::url::Url;
use secops_core::tenancy::{OrgId, Permission, Role, UserId};
use secops_store::StoreError;
use secops_store::audit::{AuditOutcome, NewAuditEvent};
use secops_store::identity::User;
use secops_store::sso::{NewSsoLogin, PendingSsoLogin, SsoProvider, SsoProviderInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::client::{Exchange, OidcError, VerifiedIdentity};
use super::Session;
use crate::config::Config;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams};
use crate::origin::ClientIp;
use crate::state::AppState;

/// How long a user may take at the provider.
const LOGIN_TTL_MINUTES: i64 = 10;

/// The callback route, relative to the public URL.
pub const CALLBACK_PATH: &str = "/v1/auth/sso/callback";

/// Sets up the organisation's identity provider.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoConfigRequest {
    /// The issuer URL; discovery is fetched from `{issuer}/.well-known/openid-configuration`. Must be
    /// `https://` (plain HTTP only when the server allows insecure issuers).
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret. Write-only; required the first time, left out to keep the stored one.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Role for members that single sign-on adds: `admin`, `analyst` or `viewer` (default), never `owner`.
    #[serde(default)]
    pub default_role: Option<String>,
    /// Whether logins are accepted (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The version you read, to refuse overwriting someone else's change (optional).
    #[serde(default)]
    pub version: Option<i64>,
}

impl std::fmt::Debug for SsoConfigRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConfigRequest")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("default_role", &self.default_role)
            .field("enabled", &self.enabled)
            .field("version", &self.version)
            .finish()
    }
}

/// The organisation's identity provider, without the client secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoConfigView {
    /// Issuer URL.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Role of just-in-time members.
    pub default_role: String,
    /// Whether logins are accepted.
    pub enabled: bool,
    /// Always true: a secret is stored (it is never shown).
    pub client_secret_set: bool,
    /// The redirect URI to register at the provider.
    pub redirect_uri: String,
    /// Where users start a login.
    pub login_url: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Send this back when changing it.
    pub version: i64,
}

impl SsoConfigView {
    fn new(config: &Config, p: SsoProvider) -> Self {
        Self {
            login_url: format!("{}/v1/auth/sso/{}/start", config.public_url, p.org_id),
            redirect_uri: default_redirect_uri(config),
            issuer: p.issuer,
            client_id: p.client_id,
            default_role: p.default_role.as_str().into(),
            enabled: p.enabled,
            client_secret_set: true,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// Parameters of the start route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    /// Where the provider should send the browser back: by default this server's callback route; otherwise a
    /// page on one of the configured CORS origins, which then calls the callback route with `code` and `state`.
    pub redirect_uri: Option<String>,
}

/// What the provider sends back. Unknown parameters are allowed: providers add their own (`session_state`,
/// `iss`, ...).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The `state` of the login.
    pub state: String,
    /// The authorisation code (absent when the provider reports an error).
    pub code: Option<String>,
    /// The provider's error code, e.g. `access_denied`.
    pub error: Option<String>,
}

impl std::fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackQuery")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

fn default_redirect_uri(config: &Config) -> String {
    format!("{}{CALLBACK_PATH}", config.public_url)
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", detail)
}

/// Checks the issuer's form: an absolute `https://` URL (or `http://` when allowed) with a host, and no
/// credentials, query or fragment, which OpenID Connect forbids in issuers.
fn check_issuer(config: &Config, issuer: &str) -> ApiResult<()> {
    let url = Url::parse(issuer).map_err(|_| invalid("the issuer is not a URL"))?;
    let scheme_ok = url.scheme() == "https" || (config.sso_allow_insecure_issuers && url.scheme() == "http");
    if !scheme_ok {
        return Err(invalid("the issuer must be an https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(invalid(
            "the issuer must have a host and no credentials, query or fragment",
        ));
    }
    Ok(())
}

/// The redirect URI for a login: this server's callback, or a page on a configured CORS origin.
fn redirect_uri(config: &Config, requested: Option<String>) -> ApiResult<String> {
    let default = default_redirect_uri(config);
    let Some(requested) = requested.filter(|r| *r != default) else {
        return Ok(default);
    };
    let refused = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            "redirect_uri must be this server's callback or a page on a configured CORS origin",
        )
    };
    let url = Url::parse(&requested).map_err(|_| refused())?;
    if !matches!(url.scheme(), "https" | "http") || url.fragment().is_some() {
        return Err(refused());
    }
    let origin = url.origin().ascii_serialization();
    if config
        .cors_origins
        .iter()
        .any(|o| o.trim_end_matches('/') == origin)
    {
        Ok(requested)
    } else {
        Err(refused())
    }
}

/// The organisation's identity provider (never the client secret).
#[utoipa::path(get, path = "/v1/sso", tag = "sso", operation_id = "get_sso_config", security(("bearer" = [])),
    responses((status = 200, body = SsoConfigView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_config(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<SsoConfigView>> {
    auth.0.require(Permission::OrgManage)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let provider = tx.sso_provider().await?;
    tx.commit().await?;
    Ok(Json(SsoConfigView::new(&state.config, provider)))
}

/// Set up or change the organisation's identity provider.
#[utoipa::path(put, path = "/v1/sso", tag = "sso", security(("bearer" = [])), request_body = SsoConfigRequest,
    responses((status = 200, body = SsoConfigView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn put_config(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<SsoConfigRequest>,
) -> ApiResult<Json<SsoConfigView>> {
    auth.0.require(Permission::OrgManage)?;
    let issuer = req.issuer.trim().to_owned();
    check_issuer(&state.config, &issuer)?;
    let default_role = match req.default_role.as_deref() {
        None => Role::Viewer,
        Some(r) => r.parse().map_err(|_| invalid(format!("unknown role `{r}`")))?,
    };
    if default_role == Role::Owner {
        return Err(invalid(
            "single sign-on cannot make owners; pick admin, analyst or viewer",
        ));
    }
    let input = SsoProviderInput {
        issuer,
        client_id: req.client_id.trim().to_owned(),
        client_secret: req.client_secret,
        default_role,
        enabled: req.enabled.unwrap_or(true),
    };
    let mut tx = state.store.tenant(auth.org()).await?;
    let provider = tx.put_sso_provider(&state.secret_box, input, req.version).await?;
    tx.commit().await?;
    Ok(Json(SsoConfigView::new(&state.config, provider)))
}

/// Remove the organisation's identity provider (pending logins stop working; linked identities stay).
#[utoipa::path(delete, path = "/v1/sso", tag = "sso", operation_id = "delete_sso_config", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_config(State(state): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    auth.0.require(Permission::OrgManage)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.delete_sso_provider().await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a single sign-on: redirects to the organisation's identity provider.
#[utoipa::path(get, path = "/v1/auth/sso/{organization_id}/start", tag = "sso",
    params(("organization_id" = uuid::Uuid, Path, description = "The organisation to log in to"), StartQuery),
    responses(
        (status = 302, description = "Go to the identity provider",
            headers(("location" = String, description = "The provider's authorisation URL"))),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, description = "The organisation has no enabled single sign-on", body = Problem)))]
pub async fn start(
    State(state): State<AppState>,
    PathParam(org): PathParam<uuid::Uuid>,
    QueryParams(q): QueryParams<StartQuery>,
) -> ApiResult<Response> {
    let org = OrgId::from_uuid(org);
    let redirect_uri = redirect_uri(&state.config, q.redirect_uri)?;
    let not_configured = || ApiError::not_found("single sign-on for this organisation");
    let mut tx = state.store.tenant(org).await?;
    let provider = match tx.sso_provider().await {
        Ok(p) if p.enabled => p,
        Ok(_) | Err(StoreError::NotFound(_)) => return Err(not_configured()),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let begun = async {
        let metadata = client::discover(&state.sso_http, &provider.issuer).await?;
        client::authorization(&metadata, &provider.client_id, &redirect_uri)
    };
    let authorization = begun.await.map_err(|e| {
        tracing::warn!(organization = %org, reason = e.reason(), error = %e, "single sign-on could not start");
        ApiError::unauthorized()
    })?;
    let mut tx = state.store.tenant(org).await?;
    tx.create_sso_login(
        &state.config.secrets.hmac,
        &state.secret_box,
        &authorization.state,
        NewSsoLogin {
            issuer: provider.issuer,
            nonce: authorization.nonce,
            pkce_verifier: authorization.pkce_verifier,
            redirect_uri,
            ttl: chrono::Duration::minutes(LOGIN_TTL_MINUTES),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, authorization.url),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}

/// Why a callback did not log anyone in.
enum Failure {
    /// The login is refused: a stable reason for the audit log and details for the server log.
    Refused(&'static str, String),
    /// Something on our side failed (database); answered as such.
    Server(ApiError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Server(e.into())
    }
}

impl From<OidcError> for Failure {
    fn from(e: OidcError) -> Self {
        Failure::Refused(e.reason(), e.to_string())
    }
}

fn refused(reason: &'static str) -> Failure {
    Failure::Refused(reason, String::new())
}

/// Finish a single sign-on: the session for the user the identity provider vouches for.
///
/// A browser that lands here itself (a top-level navigation, as with the default redirect URI from the
/// console) gets the console session instead: the refresh token in its `HttpOnly` cookie and a redirect to the
/// console, which then refreshes into an access token.
#[utoipa::path(get, path = "/v1/auth/sso/callback", tag = "sso", params(CallbackQuery),
    responses((status = 200, body = Session),
        (status = 302, description = "A browser navigation: the session is in cookies; go to the console",
            headers(("location" = String, description = "The console"), ("set-cookie" = String, description = "secops_refresh and secops_csrf"))),
        (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(client): ClientIp,
    QueryParams(q): QueryParams<CallbackQuery>,
) -> ApiResult<Response> {
    let pending = state
        .store
        .system()
        .take_sso_login(&state.config.secrets.hmac, &state.secret_box, &q.state)
        .await?;
    let Some(pending) = pending else {
        // Unknown, used or lapsed: no organisation to record it in.
        tracing::info!("single sign-on callback with an unknown, used or expired state");
        return Err(ApiError::unauthorized());
    };
    let org = pending.org_id;
    let origin = (
        client.map(|ip| ip.to_string()),
        crate::origin::user_agent(&headers),
    );
    match complete(&state, &pending, &q).await {
        Ok((user, role)) => {
            audit(&state, org, Some(user), origin, &pending.issuer, Ok(role)).await;
            let session = super::session(&state, user, org, role).await?;
            if browser_navigation(&headers) {
                return console_session(&state, session);
            }
            Ok(Json(session).into_response())
        }
        Err(Failure::Refused(reason, detail)) => {
            tracing::warn!(organization = %org, reason, detail = %detail, "single sign-on refused");
            audit(&state, org, None, origin, &pending.issuer, Err(reason)).await;
            Err(ApiError::unauthorized())
        }
        Err(Failure::Server(e)) => Err(e),
    }
}

/// Whether the request is a browser loading a page (not a script or an API client).
fn browser_navigation(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m == "navigate")
}

/// The console's end of a single sign-on: cookies, and back to the console.
fn console_session(state: &AppState, mut session: Session) -> ApiResult<Response> {
    let token = session.refresh_token.take().unwrap_or_default();
    let cookies = super::cookie::issue(&token, state.config.refresh_token_ttl_secs)?;
    let mut response = (
        StatusCode::FOUND,
        [(header::LOCATION, "/chat"), (header::CACHE_CONTROL, "no-store")],
    )
        .into_response();
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// Everything after the pending login was taken: provider checks, token exchange, user and membership.
async fn complete(
    state: &AppState,
    pending: &PendingSsoLogin,
    q: &CallbackQuery,
) -> Result<(UserId, Role), Failure> {
    if let Some(error) = &q.error {
        let error: String = error.chars().filter(char::is_ascii_graphic).take(64).collect();
        return Err(Failure::Refused("provider_error", error));
    }
    let code = q.code.as_deref().ok_or_else(|| refused("missing_code"))?;
    let org = pending.org_id;
    let mut tx = state.store.tenant(org).await?;
    let provider = match tx.sso_provider().await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => return Err(refused("not_configured")),
        Err(e) => return Err(e.into()),
    };
    if !provider.enabled {
        return Err(refused("disabled"));
    }
    if provider.issuer != pending.issuer {
        return Err(refused("issuer_changed"));
    }
    let client_secret = tx.sso_client_secret(&state.secret_box).await?;
    tx.commit().await?;

    let metadata = client::discover(&state.sso_http, &provider.issuer).await?;
    let identity = client::exchange(
        &state.sso_http,
        &metadata,
        Exchange {
            client_id: &provider.client_id,
            client_secret: &client_secret,
            redirect_uri: &pending.redirect_uri,
            code,
            pkce_verifier: &pending.pkce_verifier,
            nonce: &pending.nonce,
        },
    )
    .await?;

    let user = find_or_create_user(state, org, &identity).await?;
    if user.disabled {
        return Err(refused("user_disabled"));
    }
    let mut tx = state.store.tenant(org).await?;
    let role = match tx.member(user.id).await {
        Ok(m) => m.role,
        Err(StoreError::NotFound(_)) => match tx.add_member(user.id, provider.default_role).await {
            Ok(m) => m.role,
            // A concurrent login of the same user added the membership first.
            Err(StoreError::Duplicate(_)) => tx.member(user.id).await?.role,
            Err(e) => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok((user.id, role))
}

/// The user behind a verified identity: linked already; else an existing member of this organisation with the
/// same, verified e-mail (linked now); else a new user without a password.
async fn find_or_create_user(
    state: &AppState,
    org: OrgId,
    identity: &VerifiedIdentity,
) -> Result<User, Failure> {
    let system = state.store.system();
    if let Some(user) = system
        .user_by_identity(&identity.issuer, &identity.subject)
        .await?
    {
        return Ok(user);
    }
    let email = identity
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| refused("email_missing"))?;
    if let Some(existing) = system.user_by_email(email).await? {
        if !identity.email_verified {
            return Err(refused("email_unverified"));
        }
        let mut tx = state.store.tenant(org).await?;
        let member = match tx.member(existing.user.id).await {
            Ok(_) => true,
            Err(StoreError::NotFound(_)) => false,
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        if !member {
            return Err(refused("email_in_use"));
        }
        return match state
            .store
            .link_identity(existing.user.id, &identity.issuer, &identity.subject)
            .await
        {
            Ok(()) => Ok(existing.user),
            Err(StoreError::Duplicate(_)) => Err(refused("identity_race")),
            Err(e) => Err(e.into()),
        };
    }
    let name: String = identity
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(email)
        .chars()
        .take(200)
        .collect();
    match state
        .store
        .create_sso_user(email, &name, &identity.issuer, &identity.subject)
        .await
    {
        Ok(user) => Ok(user),
        // Someone took the e-mail (or linked the identity) in the meantime, or the provider's e-mail is unusable.
        Err(StoreError::Duplicate(_)) => Err(refused("email_in_use")),
        Err(StoreError::InvalidInput(m)) => Err(Failure::Refused("email_invalid", m)),
        Err(e) => Err(e.into()),
    }
}

/// Records a single sign-on in the organisation's audit log, like the middleware records password logins.
async fn audit(
    state: &AppState,
    org: OrgId,
    user: Option<UserId>,
    (ip, user_agent): (Option<String>, Option<String>),
    issuer: &str,
    result: Result<Role, &'static str>,
) {
    let (outcome, context) = match result {
        Ok(role) => (
            AuditOutcome::Success,
            serde_json::json!({"status": 200, "method": "oidc", "issuer": issuer, "role": role.as_str()}),
        ),
        Err(reason) => (
            AuditOutcome::Denied,
            serde_json::json!({"status": 401, "method": "oidc", "issuer": issuer, "reason": reason}),
        ),
    };
    let event = NewAuditEvent {
        actor_kind: if user.is_some() { "user" } else { "anonymous" }.into(),
        actor_id: user.map(|u| *u.as_uuid()),
        action: format!("GET {CALLBACK_PATH}"),
        resource_kind: "auth".into(),
        resource_id: None,
        ip,
        user_agent,
        context,
        outcome,
    };
    let write = async {
        let mut tx = state.store.tenant(org).await?;
        tx.append_audit(event).await?;
        tx.commit().await
    };
    if let Err(e) = write.await {
        tracing::error!(error = %e, "could not write the audit record of a single sign-on");
    }
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_config, put_config, delete_config))
        .routes(routes!(start))
        .routes(routes!(callback))
}
