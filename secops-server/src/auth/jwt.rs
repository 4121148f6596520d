//! Short-lived access tokens: HS256 JWTs bound to one organisation and role.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secops_core::tenancy::{OrgId, Role, UserId};
use secops_store::crypto::SecretKey;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

const ISSUER: &str = "secops";

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The organisation the token is bound to.
    pub org: String,
    /// The role in that organisation when the token was issued.
    pub role: String,
    /// Issuer.
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Issues a token for `user` in `org` with `role`, valid for `ttl_secs`.
pub fn issue(
    key: &SecretKey,
    user: UserId,
    org: OrgId,
    role: Role,
    ttl_secs: u64,
) -> Result<String, ApiError> {
    let iat = now_secs();
    let claims = Claims {
        sub: user.to_string(),
        org: org.to_string(),
        role: role.as_str().into(),
        iss: ISSUER.into(),
        iat,
        exp: iat + ttl_secs,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key.expose_bytes()),
    )
    .map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "could not issue a token",
        )
    })
}

/// Verifies a token: signature, algorithm (only HS256; `none` and others are refused), issuer and expiry.
pub fn verify(key: &SecretKey, token: &str) -> Result<(UserId, OrgId, Role), ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    // The crate checks iss and sub only when present; require them.
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.leeway = 5;
    let data = decode::<Claims>(token, &DecodingKey::from_secret(key.expose_bytes()), &validation)
        .map_err(|_| ApiError::unauthorized())?;
    let c = data.claims;
    let user = c.sub.parse().map_err(|_| ApiError::unauthorized())?;
    let org = c.org.parse().map_err(|_| ApiError::unauthorized())?;
    let role = c.role.parse().map_err(|_| ApiError::unauthorized())?;
    Ok((user, org, role))
}
