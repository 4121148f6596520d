//! Members of an organisation and invitations to join it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secops_core::tenancy::{Permission, Role, UserId};
use secops_store::credentials::{Invitation, InvitationAcceptance};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::PageQuery;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams};
use crate::input::{Email, normalise_email};
use crate::state::AppState;

/// A member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// The user.
    pub user_id: uuid::Uuid,
    /// The role.
    pub role: String,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// Send this back when changing the role.
    pub version: i64,
    /// The member's login e-mail (in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The member's display name (in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl From<secops_store::identity::Membership> for MemberView {
    fn from(m: secops_store::identity::Membership) -> Self {
        Self {
            user_id: *m.user_id.as_uuid(),
            role: m.role.as_str().into(),
            joined_at: m.created_at,
            version: m.version,
            email: None,
            display_name: None,
        }
    }
}

/// A page of members.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPage {
    /// Members.
    pub items: Vec<MemberView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Changes a member's role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    /// `owner`, `admin`, `analyst` or `viewer`.
    pub role: String,
    /// The membership version you read.
    pub version: i64,
}

/// Invites someone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Their e-mail: only an account with this address can accept.
    pub email: Email,
    /// The role they will have.
    pub role: String,
    /// Days until the invitation lapses (1 to 30, default 7).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// An invitation; `token` is present only in the response that created it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    /// Its id.
    pub id: uuid::Uuid,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// When accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// The secret token to pass to the invitee (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<secops_store::credentials::Invitation> for InvitationView {
    fn from(i: secops_store::credentials::Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.as_str().into(),
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            token: None,
        }
    }
}

/// A page of invitations.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPage {
    /// Invitations.
    pub items: Vec<InvitationView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Accepts an invitation as the logged-in user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The token from the invitation.
    pub token: String,
}

fn role(r: &str) -> ApiResult<Role> {
    r.parse().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("unknown role `{r}`"),
        )
    })
}

/// Owners alone may grant or take away the owner role.
fn check_owner_change(auth: &Auth, from: Option<Role>, to: Option<Role>) -> ApiResult<()> {
    if from == Some(Role::Owner) || to == Some(Role::Owner) {
        auth.0.require(Permission::OwnersManage)?;
    }
    Ok(())
}

/// List members.
#[utoipa::path(get, path = "/v1/members", tag = "members", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = MemberPage), (status = 403, body = Problem)))]
pub async fn list_members(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<MemberPage>> {
    auth.0.require(Permission::MembersRead)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let page = tx.members(&q.into()).await?;
    tx.commit().await?;
    // Users are not tenant data: their names come from the system view, for the members of this page only.
    let mut items = Vec::with_capacity(page.items.len());
    for m in page.items {
        let user = state.store.system().user(m.user_id).await?;
        let mut view = MemberView::from(m);
        if let Some(u) = user {
            view.email = Some(u.email);
            view.display_name = Some(u.display_name);
        }
        items.push(view);
    }
    Ok(Json(MemberPage {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Change a member's role (the last owner keeps theirs).
#[utoipa::path(patch, path = "/v1/members/{user_id}", tag = "members", security(("bearer" = [])), params(("user_id" = uuid::Uuid, Path, description = "User id")),
    request_body = ChangeRoleRequest, responses((status = 200, body = MemberView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "The membership changed meanwhile", body = Problem), (status = 422, body = Problem)))]
pub async fn change_role(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(user): PathParam<uuid::Uuid>,
    Body(req): Body<ChangeRoleRequest>,
) -> ApiResult<Json<MemberView>> {
    auth.0.require(Permission::MembersManage)?;
    let new_role = role(&req.role)?;
    let user = UserId::from_uuid(user);
    let mut tx = state.store.tenant(auth.org()).await?;
    let current = tx.member(user).await?;
    check_owner_change(&auth, Some(current.role), Some(new_role))?;
    let m = tx.set_member_role(user, new_role, req.version).await?;
    tx.commit().await?;
    Ok(Json(m.into()))
}

/// Remove a member (the last owner stays).
#[utoipa::path(delete, path = "/v1/members/{user_id}", tag = "members", security(("bearer" = [])), params(("user_id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(user): PathParam<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::MembersManage)?;
    let user = UserId::from_uuid(user);
    let mut tx = state.store.tenant(auth.org()).await?;
    let current = tx.member(user).await?;
    check_owner_change(&auth, Some(current.role), None)?;
    tx.remove_member(user).await?;
    tx.revoke_refresh_tokens(user).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invite someone (the token is shown once).
#[utoipa::path(post, path = "/v1/invitations", tag = "members", security(("bearer" = [])), request_body = InviteRequest,
    responses((status = 201, body = InvitationView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn invite(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<InviteRequest>,
) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    auth.0.require(Permission::MembersManage)?;
    let r = role(&req.role)?;
    check_owner_change(&auth, None, Some(r))?;
    let days = req.expires_in_days.unwrap_or(7);
    if !(1..=30).contains(&days) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "expires_in_days is 1 to 30",
        ));
    }
    let mut tx = state.store.tenant(auth.org()).await?;
    let (inv, token) = tx
        .create_invitation(
            &state.config.secrets.hmac,
            req.email.as_str(),
            r,
            auth.user(),
            chrono::Duration::days(i64::from(days)),
        )
        .await?;
    tx.commit().await?;
    let mut view = InvitationView::from(inv);
    view.token = Some(token);
    Ok((StatusCode::CREATED, Json(view)))
}

/// List invitations.
#[utoipa::path(get, path = "/v1/invitations", tag = "members", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = InvitationPage), (status = 403, body = Problem)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<InvitationPage>> {
    auth.0.require(Permission::MembersManage)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let page = tx.invitations(&q.into()).await?;
    tx.commit().await?;
    Ok(Json(InvitationPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Withdraw an invitation.
#[utoipa::path(delete, path = "/v1/invitations/{id}", tag = "members", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Invitation id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::MembersManage)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.delete_invitation(id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invitation as the logged-in user; the membership is in the inviting organisation.
///
/// Only the account whose e-mail is the invited address (compared without case) can accept; anyone else gets
/// 403 `invitation_not_for_you`, which is audited, and the invitation stays usable. An invitation is used once.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "members", security(("bearer" = [])), request_body = AcceptRequest,
    responses((status = 200, body = MemberView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "The caller is a member already", body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<AcceptRequest>,
) -> ApiResult<Json<MemberView>> {
    let user = auth.user().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only users can accept invitations",
        )
    })?;
    let account = state
        .store
        .system()
        .user(user)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let domains = &state.config.invitation_domains;
    let is_for_user = |invitation: &Invitation| invited(&invitation.email, &account.email, domains);
    match state
        .store
        .system()
        .accept_invitation(&state.config.secrets.hmac, &req.token, user, &is_for_user)
        .await?
    {
        InvitationAcceptance::Accepted(m) => Ok(Json(m.into())),
        InvitationAcceptance::NotForUser(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invitation_not_for_you",
            "this invitation is addressed to another e-mail address; sign in with that address to accept it",
        )),
        InvitationAcceptance::Unusable => Err(ApiError::not_found(
            "invitation (it may be used, withdrawn or expired)",
        )),
    }
}

/// Whether an invitation to `invited` may be taken by the account with address `account`: the same address,
/// or, for a domain the operator vouches for, any address at that domain.
fn invited(invited: &str, account: &str, vouched_domains: &[String]) -> bool {
    let (invited, account) = (normalise_email(invited), normalise_email(account));
    if invited == account {
        return true;
    }
    let domain = |e: &str| e.rsplit_once('@').map(|(_, d)| d.to_owned());
    match (domain(&invited), domain(&account)) {
        (Some(a), Some(b)) => a == b && vouched_domains.contains(&a),
        _ => false,
    }
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(change_role, remove_member))
        .routes(routes!(invite, list_invitations))
        .routes(routes!(withdraw))
        .routes(routes!(accept))
}
