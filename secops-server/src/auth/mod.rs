//! Registration, login, token refresh, logout, the current principal, API keys, and single sign-on
//! ([`oidc`]).

pub mod cookie;
pub mod jwt;
pub mod limit;
pub mod oidc;
pub mod password;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use secops_core::tenancy::{ApiKeyId, OrgId, Permission, Role};
use secops_store::PageRequest;
use secops_store::credentials::NewApiKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams};
use crate::input::{Email, Name, Password};
use crate::state::AppState;

/// Creates an organisation with its first owner.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Login e-mail.
    pub email: Email,
    /// 12 to 1,024 characters.
    pub password: Password,
    /// Display name (defaults to the e-mail).
    #[serde(default)]
    pub display_name: Option<Name>,
    /// The organisation's name.
    pub organization_name: Name,
}

/// Logs in with a password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login e-mail.
    pub email: Email,
    /// Password (at most 1,024 characters).
    #[schema(max_length = 1024)]
    pub password: String,
    /// The organisation to act in (defaults to the first one).
    #[serde(default)]
    pub organization_id: Option<uuid::Uuid>,
}

/// Exchanges a refresh token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last session.
    pub refresh_token: String,
}

/// Tokens for a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// Short-lived bearer token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Long-lived, single-use refresh token; absent in cookie mode (`X-Secops-Session: cookie`), where it is
    /// in the `HttpOnly` cookie `secops_refresh` instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The organisation the session is bound to.
    pub organization_id: uuid::Uuid,
    /// The role there.
    pub role: String,
}

/// The current principal.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user, for user sessions.
    pub user_id: Option<uuid::Uuid>,
    /// E-mail, for user sessions.
    pub email: Option<String>,
    /// The organisation.
    pub organization_id: uuid::Uuid,
    /// The role.
    pub role: String,
    /// `user` or `api_key`.
    pub kind: String,
    /// What the role allows.
    #[schema(value_type = Vec<String>)]
    pub permissions: Vec<Permission>,
    /// The organisations the user belongs to, for switching (`POST /v1/auth/switch`); an API key sees only
    /// its own.
    pub organizations: Vec<OrganizationChoice>,
}

/// An organisation the caller can act in.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationChoice {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// The caller's role there.
    pub role: String,
}

/// Creates an API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A name to recognise it by.
    pub name: Name,
    /// The role it acts with (`analyst` by default; at most the creator's own).
    #[serde(default)]
    pub role: Option<String>,
    /// Expiry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API key as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Its id.
    pub id: uuid::Uuid,
    /// Name.
    pub name: String,
    /// Public prefix.
    pub prefix: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<secops_store::credentials::ApiKey> for ApiKeyView {
    fn from(k: secops_store::credentials::ApiKey) -> Self {
        Self {
            id: *k.id.as_uuid(),
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
        }
    }
}

/// A new key: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKeyView,
    /// `sk_<prefix>_<secret>`: store it now.
    pub secret: String,
}

/// A page of API keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyPage {
    /// Keys, newest first.
    pub items: Vec<ApiKeyView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Pagination parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Rows per page (1 to 200, default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl From<PageQuery> for PageRequest {
    fn from(q: PageQuery) -> Self {
        PageRequest {
            limit: q.limit.unwrap_or(0),
            cursor: q.cursor,
        }
    }
}

/// A session for `user` in `org`: a new access token with the given refresh token.
fn session_with(
    state: &AppState,
    user: secops_core::tenancy::UserId,
    org: OrgId,
    role: Role,
    refresh_token: String,
) -> ApiResult<Session> {
    let ttl = state.config.access_token_ttl_secs;
    Ok(Session {
        access_token: jwt::issue(&state.config.secrets.jwt, user, org, role, ttl)?,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: Some(refresh_token),
        organization_id: *org.as_uuid(),
        role: role.as_str().into(),
    })
}

fn refresh_ttl(state: &AppState) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(state.config.refresh_token_ttl_secs).unwrap_or(i64::MAX / 2))
}

/// A new session with a new refresh token.
async fn session(
    state: &AppState,
    user: secops_core::tenancy::UserId,
    org: OrgId,
    role: Role,
) -> ApiResult<Session> {
    let mut tx = state.store.tenant(org).await?;
    let refresh_token = tx
        .issue_refresh_token(&state.config.secrets.hmac, user, refresh_ttl(state))
        .await?;
    tx.commit().await?;
    session_with(state, user, org, role, refresh_token)
}

/// Answers with a session: all in the JSON body, or, when the client asked with `X-Secops-Session: cookie`,
/// with the refresh token in an `HttpOnly` cookie instead (see [`cookie`]).
pub(crate) fn deliver(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    mut session: Session,
) -> ApiResult<Response> {
    if !cookie::wanted(headers) {
        return Ok((status, Json(session)).into_response());
    }
    let token = session.refresh_token.take().unwrap_or_default();
    let cookies = cookie::issue(&token, state.config.refresh_token_ttl_secs)?;
    let mut response = (status, Json(session)).into_response();
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

fn slug(name: &str) -> String {
    let mut s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    s.truncate(40);
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    format!(
        "{}-{}",
        if s.is_empty() {
            "org"
        } else {
            s.trim_end_matches('-')
        },
        &suffix[suffix.len() - 8..]
    )
}

/// Register an organisation and its first owner.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = RegisterRequest, params(("X-Secops-Session" = Option<String>, Header, description = "`cookie`: deliver the refresh token in an HttpOnly cookie instead of the body")),
    responses((status = 201, body = Session), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    slot: Option<axum::Extension<crate::audit::AuditSlot>>,
    headers: HeaderMap,
    Body(req): Body<RegisterRequest>,
) -> ApiResult<Response> {
    if !state.config.allow_registration {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "registration_disabled",
            "registration is disabled on this server",
        ));
    }
    let hash = password::hash(req.password.into_inner()).await?;
    let name = req
        .display_name
        .map_or_else(|| req.email.as_str().to_owned(), Name::into_inner);
    let user = state
        .store
        .create_user(req.email.as_str(), &name, Some(&hash))
        .await?;
    let org_name = req.organization_name.as_str();
    let org = state
        .store
        .create_organization(org_name, &slug(org_name), user.id)
        .await?;
    if let Some(axum::Extension(slot)) = slot {
        slot.set(secops_core::tenancy::Principal::user(
            org.id,
            user.id,
            Role::Owner,
        ));
    }
    let session = session(&state, user.id, org.id, Role::Owner).await?;
    deliver(&state, &headers, StatusCode::CREATED, session)
}

/// Log in with e-mail and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest, params(("X-Secops-Session" = Option<String>, Header, description = "`cookie`: deliver the refresh token in an HttpOnly cookie instead of the body")),
    responses((status = 200, body = Session), (status = 401, body = Problem),
        (status = 429, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    slot: Option<axum::Extension<crate::audit::AuditSlot>>,
    crate::origin::ClientIp(client): crate::origin::ClientIp,
    headers: HeaderMap,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Response> {
    let address = client.map(|ip| ip.to_string());
    // Bounded before anything else: the hash check is deliberately slow, and its cost grows with the input.
    crate::input::check_login_password(&req.password)?;
    let email = req.email.as_str();
    if let Some(wait) = state.login_limiter.blocked(email, address.as_deref()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many failed logins; retry in {} seconds",
                wait.as_secs().max(1)
            ),
        ));
    }
    let found = state.store.system().user_by_email(email).await?;
    // Verify against a dummy hash when the user is unknown or has no password (single sign-on only), so timing
    // does not reveal which e-mails exist; the dummy matches no password.
    let dummy = || {
        String::from(
            "$argon2id$v=19$m=19456,t=2,p=1$c2Vjb3BzZHVtbXlzYWx0$0000000000000000000000000000000000000000000",
        )
    };
    let (hash, user) = match found {
        Some(login) => match login.password_hash {
            Some(hash) => (hash, Some(login.user)),
            None => (dummy(), None),
        },
        None => (dummy(), None),
    };
    let ok = password::verify(req.password, hash).await;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => {
            state.login_limiter.failed(email, address.as_deref());
            return Err(ApiError::unauthorized());
        }
    };
    state.login_limiter.succeeded(email);
    let memberships = state.store.system().memberships_of(user.id).await?;
    let chosen = match req.organization_id {
        Some(wanted) => memberships.into_iter().find(|(o, _)| *o.id.as_uuid() == wanted),
        None => memberships.into_iter().next(),
    };
    let (org, membership) = chosen.ok_or_else(ApiError::unauthorized)?;
    if let Some(axum::Extension(slot)) = slot {
        slot.set(secops_core::tenancy::Principal::user(
            org.id,
            user.id,
            membership.role,
        ));
    }
    let session = session(&state, user.id, org.id, membership.role).await?;
    deliver(&state, &headers, StatusCode::OK, session)
}

/// Moves a user's session to another organisation they belong to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    /// The organisation to act in.
    pub organization_id: uuid::Uuid,
}

/// Switch organisation: a new session bound to another organisation of the caller (access tokens are bound to
/// one). The current session stays valid for its own organisation.
#[utoipa::path(post, path = "/v1/auth/switch", tag = "auth", security(("bearer" = [])), request_body = SwitchRequest, params(("X-Secops-Session" = Option<String>, Header, description = "`cookie`: deliver the refresh token in an HttpOnly cookie instead of the body")),
    responses((status = 200, body = Session), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn switch_organization(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Body(req): Body<SwitchRequest>,
) -> ApiResult<Response> {
    let user = auth.user().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "an API key belongs to one organisation; only user sessions switch",
        )
    })?;
    let (org, membership) = state
        .store
        .system()
        .memberships_of(user)
        .await?
        .into_iter()
        .find(|(o, _)| *o.id.as_uuid() == req.organization_id)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    let session = session(&state, user, org.id, membership.role).await?;
    deliver(&state, &headers, StatusCode::OK, session)
}

/// Exchange a refresh token for a new session (the old token stops working). API clients send the token in
/// the JSON body; the console sends no body and the `secops_refresh` cookie, with the `secops_csrf` cookie's
/// value in `X-CSRF-Token`, and gets the new token as a cookie again.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "The refresh token; omit the body to use the `secops_refresh` cookie"),
    params(("X-CSRF-Token" = Option<String>, Header, description = "Cookie mode: the value of the `secops_csrf` cookie")),
    responses((status = 200, body = Session), (status = 401, body = Problem), (status = 403, description = "Cookie mode without a matching CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn refresh(State(state): State<AppState>, request: axum::extract::Request) -> ApiResult<Response> {
    let headers = request.headers().clone();
    let has_body = headers.contains_key(header::CONTENT_TYPE)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let (presented, from_cookie) = if has_body {
        let Body(req) =
            <Body<RefreshRequest> as axum::extract::FromRequest<AppState>>::from_request(request, &state)
                .await?;
        (req.refresh_token, false)
    } else {
        cookie::check_csrf(&headers)?;
        let token = cookie::read(&headers, cookie::REFRESH_COOKIE).ok_or_else(ApiError::unauthorized)?;
        (token.to_owned(), true)
    };
    let ttl = refresh_ttl(&state);
    let rotated = state
        .store
        .system()
        .rotate_refresh_token(&state.config.secrets.hmac, &presented, ttl)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let mut tx = state.store.tenant(rotated.org_id).await?;
    let membership = tx
        .member(rotated.user_id)
        .await
        .map_err(|_| ApiError::unauthorized())?;
    tx.commit().await?;
    let session = session_with(
        &state,
        rotated.user_id,
        rotated.org_id,
        membership.role,
        rotated.token,
    )?;
    let mut headers = headers;
    if from_cookie {
        headers.insert(
            cookie::SESSION_HEADER,
            axum::http::HeaderValue::from_static("cookie"),
        );
    }
    deliver(&state, &headers, StatusCode::OK, session)
}

/// Log out: revoke the user's refresh tokens in this organisation (the whole family of the session, and every
/// other session of the user there) and clear the console's cookies.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    if let Some(user) = auth.user() {
        let mut tx = state.store.tenant(auth.org()).await?;
        tx.revoke_refresh_tokens(user).await?;
        tx.commit().await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    for c in cookie::clear() {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// The current principal.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Me>> {
    let (email, memberships) = match auth.user() {
        Some(u) => (
            state.store.system().user(u).await?.map(|u| u.email),
            state.store.system().memberships_of(u).await?,
        ),
        None => (None, Vec::new()),
    };
    let p = &auth.0;
    let mut organizations: Vec<OrganizationChoice> = memberships
        .into_iter()
        .map(|(o, m)| OrganizationChoice {
            id: *o.id.as_uuid(),
            name: o.name,
            slug: o.slug,
            role: m.role.as_str().into(),
        })
        .collect();
    if organizations.is_empty() {
        // An API key (or a user whose membership just ended): only the organisation of the credentials.
        let mut tx = state.store.tenant(p.org_id).await?;
        let org = tx.organization().await?;
        tx.commit().await?;
        organizations.push(OrganizationChoice {
            id: *org.id.as_uuid(),
            name: org.name,
            slug: org.slug,
            role: p.role.as_str().into(),
        });
    }
    Ok(Json(Me {
        user_id: p.user_id.map(|u| *u.as_uuid()),
        email,
        organization_id: *p.org_id.as_uuid(),
        role: p.role.as_str().into(),
        kind: match p.kind {
            secops_core::tenancy::PrincipalKind::User => "user",
            secops_core::tenancy::PrincipalKind::ApiKey => "api_key",
            secops_core::tenancy::PrincipalKind::System => "system",
        }
        .into(),
        permissions: p.role.permissions(),
        organizations,
    }))
}

/// Create an API key (the secret is shown once).
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])), request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    auth.0.require(Permission::ApiKeysManage)?;
    let role: Role = match req.role.as_deref() {
        Some(r) => r.parse().map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("unknown role `{r}`"),
            )
        })?,
        None => Role::Analyst,
    };
    if Role::ALL.iter().position(|r| *r == role) < Role::ALL.iter().position(|r| *r == auth.0.role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a key cannot have more rights than its creator",
        ));
    }
    let mut tx = state.store.tenant(auth.org()).await?;
    let issued = tx
        .create_api_key(
            &state.config.secrets.hmac,
            NewApiKey {
                name: req.name.into_inner(),
                scopes: vec![format!("role:{}", role.as_str())],
                expires_at: req.expires_at,
                created_by: auth.user(),
            },
        )
        .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: issued.key.clone().into(),
            secret: issued.secret,
        }),
    ))
}

/// List API keys.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = ApiKeyPage), (status = 403, body = Problem)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<ApiKeyPage>> {
    auth.0.require(Permission::ApiKeysManage)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let page = tx.api_keys(&q.into()).await?;
    tx.commit().await?;
    Ok(Json(ApiKeyPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Key id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::ApiKeysManage)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.revoke_api_key(ApiKeyId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(switch_organization))
        .routes(routes!(me))
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}
