//! Where a request comes from: the client's address, for login throttling and the audit log's "where".
//!
//! Any client can send `X-Forwarded-For` or `Forwarded`, so those headers are believed only when the socket's
//! peer is one of the operator's trusted proxies (`SECOPS_TRUSTED_PROXIES`, CIDR ranges, none by default). Then
//! the chain of hops is read from the right (the hop nearest to us) and the first address that is not itself a
//! trusted proxy is the client: a hop a client wrote further left cannot push that address out. Behind an
//! ingress controller, list the ingress pods' range; see `docs/operations.md`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use ipnet::IpNet;

use crate::state::AppState;

/// One hop of a forwarding chain as a header names it.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let v = raw.trim().trim_matches('"');
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    // `[2001:db8::1]` without a port, or `1.2.3.4:port` forms the above did not cover.
    let unbracketed = v.strip_prefix('[').and_then(|r| r.split(']').next());
    unbracketed.and_then(|s| s.parse().ok())
}

/// The hops the headers list, left (farthest) to right (nearest). `Forwarded` (RFC 7239) wins over
/// `X-Forwarded-For` when both are present. An entry that is not an address (`unknown`, an obfuscated
/// identifier) is kept as `None`: the walk stops there.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse_hop(v))
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter(|s| !s.trim().is_empty())
        .map(parse_hop)
        .collect()
}

/// The client's address by the rule of this module: the peer, unless the peer is a trusted proxy, in which case
/// the right-most hop of the forwarding headers that is not a trusted proxy. `None` only without a peer (a
/// router called in process).
#[must_use]
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut nearest = peer;
    for hop in forwarded_chain(headers).into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(&ip) => nearest = ip,
            Some(ip) => return Some(ip),
            // The trusted proxy nearest to it passed on something that is not an address; it is the last hop
            // whose word we can take.
            None => return Some(nearest),
        }
    }
    // Every hop is a trusted proxy: the request started inside the trusted network.
    Some(nearest)
}

/// The peer address axum recorded for the connection, if the server was started with connect info.
#[must_use]
pub fn peer_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The user agent, cut to 300 characters, for audit records.
#[must_use]
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
}

/// The client's address and user agent, for audit records.
#[must_use]
pub fn request_origin(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trusted: &[IpNet],
) -> (Option<String>, Option<String>) {
    (
        client_ip(headers, peer, trusted).map(|ip| ip.to_string()),
        user_agent(headers),
    )
}

/// The client address of a request, as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(
            &parts.headers,
            peer_of(&parts.extensions),
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let spoof = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(
            client_ip(&spoof, Some(ip("203.0.113.9")), &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(&spoof, Some(ip("203.0.113.9")), &[]),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(&spoof, Some(ip("10.1.1.1")), &trusted),
            Some(ip("1.2.3.4"))
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_wins_over_what_a_client_wrote() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client wrote 6.6.6.6; the ingress appended the real client, then an inner proxy its own address.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-forwarded-for", "10.2.0.1"),
        ]);
        assert_eq!(
            client_ip(&h, Some(ip("10.1.1.1")), &trusted),
            Some(ip("198.51.100.7"))
        );
        let h = headers(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.2.0.1"#,
        )]);
        assert_eq!(
            client_ip(&h, Some(ip("10.1.1.1")), &trusted),
            Some(ip("2001:db8:cafe::17"))
        );
        let h = headers(&[("forwarded", "for=unknown"), ("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_ip(&h, Some(ip("10.1.1.1")), &trusted),
            Some(ip("10.1.1.1")),
            "Forwarded wins, and an unknown hop stops the walk at the proxy that reported it"
        );
        let h = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(
            client_ip(&h, Some(ip("10.1.1.1")), &trusted),
            Some(ip("10.9.9.9"))
        );
        assert_eq!(client_ip(&h, None, &trusted), None);
    }
}
