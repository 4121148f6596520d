//! The browser session: the console keeps its access token in memory only and its refresh token in an
//! `HttpOnly` cookie that scripts cannot read, scoped to the auth routes.
//!
//! A client asks for it with the header `X-Secops-Session: cookie` on login, registration, organisation switch
//! (and the single sign-on start). The session body then carries no refresh token; the server sets
//! `secops_refresh` (`HttpOnly; Secure; SameSite=Strict; Path=/v1/auth`) and `secops_csrf` (readable by the
//! page, `Path=/`). `POST /v1/auth/refresh` with no body uses the cookie, and only when the request repeats
//! the CSRF cookie in `X-CSRF-Token` (double submit: another site can neither read the cookie nor set the
//! header) and, when the browser says where it comes from, comes from this origin.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::error::{ApiError, ApiResult};

/// The request header that selects cookie delivery.
pub const SESSION_HEADER: &str = "x-secops-session";
/// The request header that must repeat the CSRF cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The `HttpOnly` refresh-token cookie.
pub const REFRESH_COOKIE: &str = "secops_refresh";
/// The CSRF cookie, readable by the page.
pub const CSRF_COOKIE: &str = "secops_csrf";
/// Where the refresh cookie is sent: the auth routes only (refresh and logout).
pub const REFRESH_PATH: &str = "/v1/auth";

/// Whether the client asked for the refresh token in a cookie.
#[must_use]
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("cookie"))
}

/// The value of cookie `name` in the request, if any.
#[must_use]
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v.trim_matches('"'))
        })
        .filter(|v| !v.is_empty())
}

fn internal(detail: String) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
}

fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

fn header_value(cookie: String) -> ApiResult<HeaderValue> {
    HeaderValue::try_from(cookie).map_err(|e| internal(format!("bad cookie: {e}")))
}

/// `Set-Cookie` values that hand `refresh_token` to the browser, with a new CSRF token, for `max_age` seconds.
pub fn issue(refresh_token: &str, max_age: u64) -> ApiResult<[HeaderValue; 2]> {
    // Refresh tokens are hex, so they need no quoting; anything else would be a bug worth refusing.
    if !refresh_token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(internal("refresh token is not cookie-safe".into()));
    }
    Ok([
        header_value(format!(
            "{REFRESH_COOKIE}={refresh_token}; Path={REFRESH_PATH}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
        ))?,
        header_value(format!(
            "{CSRF_COOKIE}={}; Path=/; Max-Age={max_age}; Secure; SameSite=Strict",
            random_token()?
        ))?,
    ])
}

/// `Set-Cookie` values that remove both cookies.
#[must_use]
pub fn clear() -> [HeaderValue; 2] {
    [
        HeaderValue::from_static(
            "secops_refresh=; Path=/v1/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
        ),
        HeaderValue::from_static("secops_csrf=; Path=/; Max-Age=0; Secure; SameSite=Strict"),
    ]
}

fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    // Constant time in the contents, so the comparison does not reveal how much of a guess was right.
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn csrf_failed(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "csrf_failed", detail.to_owned())
}

/// Refuses a cookie-authenticated request that another site could have made.
pub fn check_csrf(headers: &HeaderMap) -> ApiResult<()> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(csrf_failed("the request comes from another site"));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_host = origin.split_once("://").map(|(_, h)| h);
        if origin_host.is_none() || origin_host != host {
            return Err(csrf_failed("the request's Origin is not this server"));
        }
    }
    let cookie = read(headers, CSRF_COOKIE);
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (cookie, sent) {
        (Some(c), Some(s)) if same_bytes(c.as_bytes(), s.as_bytes()) => Ok(()),
        _ => Err(csrf_failed(
            "send the value of the secops_csrf cookie in the X-CSRF-Token header",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_a_cookie_among_others() {
        let h = headers(&[("cookie", "a=1; secops_csrf=abc; b=2")]);
        assert_eq!(read(&h, "secops_csrf"), Some("abc"));
        assert_eq!(read(&h, "secops"), None);
        assert_eq!(read(&headers(&[("cookie", "secops_csrf=")]), "secops_csrf"), None);
    }

    #[test]
    fn csrf_needs_the_cookie_repeated_from_this_origin() {
        let ok = [
            ("cookie", "secops_csrf=abc"),
            ("x-csrf-token", "abc"),
            ("host", "h:1"),
        ];
        assert!(check_csrf(&headers(&ok)).is_ok());
        let mut with_origin = ok.to_vec();
        with_origin.push(("origin", "http://h:1"));
        assert!(check_csrf(&headers(&with_origin)).is_ok());
        let mut foreign = ok.to_vec();
        foreign.push(("origin", "https://evil.example"));
        assert_eq!(check_csrf(&headers(&foreign)).unwrap_err().code, "csrf_failed");
        let mut cross = ok.to_vec();
        cross.push(("sec-fetch-site", "cross-site"));
        assert!(check_csrf(&headers(&cross)).is_err());
        let wrong = [("cookie", "secops_csrf=abc"), ("x-csrf-token", "abd")];
        assert!(check_csrf(&headers(&wrong)).is_err());
        assert!(check_csrf(&headers(&[("cookie", "secops_csrf=abc")])).is_err());
        assert!(check_csrf(&headers(&[("x-csrf-token", "abc")])).is_err());
    }

    #[test]
    fn issued_cookies_have_the_flags() {
        let [refresh, csrf] = issue("00ff", 60).unwrap();
        let refresh = refresh.to_str().unwrap();
        assert!(refresh.starts_with("secops_refresh=00ff; Path=/v1/auth; Max-Age=60"));
        for flag in ["HttpOnly", "Secure", "SameSite=Strict"] {
            assert!(refresh.contains(flag), "{refresh}");
        }
        let csrf = csrf.to_str().unwrap();
        assert!(!csrf.contains("HttpOnly") && csrf.contains("Path=/;"), "{csrf}");
        assert!(issue("a;b", 60).is_err());
    }
}
