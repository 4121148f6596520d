//! Which addresses tools may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Address ranges tools may not reach unless allow-listed, with why: what a request forged by a model could
/// hurt there.
const FORBIDDEN: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "a private network"),
    ("100.64.0.0/10", "carrier-grade NAT (shared address space)"),
    ("127.0.0.0/8", "loopback (this machine)"),
    (
        "169.254.0.0/16",
        "link-local, including cloud metadata services (169.254.169.254)",
    ),
    ("172.16.0.0/12", "a private network"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.168.0.0/16", "a private network"),
    ("198.18.0.0/15", "benchmarking networks"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved, including broadcast"),
    ("::/128", "the unspecified address"),
    ("::1/128", "loopback (this machine)"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("fc00::/7", "unique-local (private) IPv6"),
    ("fe80::/10", "link-local IPv6"),
    ("ff00::/8", "multicast"),
];

/// A destination the policy refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAddress {
    /// The address.
    pub address: IpAddr,
    /// The range it is in.
    pub range: IpNet,
    /// What that range is.
    pub reason: &'static str,
}

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is in {} ({}); tools may not reach it unless the organisation allow-lists it",
            self.address, self.range, self.reason
        )
    }
}

/// Which destinations an organisation's tools may reach: everything public, plus the ranges it allow-lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allow: Vec<IpNet>,
}

impl EgressPolicy {
    /// Public addresses only.
    #[must_use]
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Also allows `range` (e.g. the SIEM's private subnet, or `127.0.0.1/32` for a local test server).
    #[must_use]
    pub fn allow(mut self, range: IpNet) -> Self {
        self.allow.push(range);
        self
    }

    /// Parses allow-list entries such as `10.20.0.0/16` or a single address.
    pub fn with_allow_list<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            let range = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{entry}` is not an address or a CIDR range"))?;
            policy.allow.push(range);
        }
        Ok(policy)
    }

    /// Whether a connection to `address` is allowed.
    pub fn check(&self, address: IpAddr) -> Result<(), RefusedAddress> {
        // An IPv4 address written as IPv6 (::ffff:a.b.c.d, or the deprecated ::a.b.c.d) is that IPv4 address.
        let address = canonical(address);
        if self.allow.iter().any(|r| r.contains(&address)) {
            return Ok(());
        }
        for (range, reason) in FORBIDDEN {
            if let Ok(range) = range.parse::<IpNet>()
                && range.contains(&address)
            {
                return Err(RefusedAddress {
                    address,
                    range,
                    reason,
                });
            }
        }
        Ok(())
    }
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => compatible_v4(v6).map_or(IpAddr::V6(v6), IpAddr::V4),
        },
        v4 => v4,
    }
}

/// `::a.b.c.d` (IPv4-compatible, deprecated but still routed by some stacks), except `::` and `::1`.
fn compatible_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let v4 = Ipv4Addr::new(
        u8::try_from(s[6] >> 8).unwrap_or(0),
        u8::try_from(s[6] & 0xff).unwrap_or(0),
        u8::try_from(s[7] >> 8).unwrap_or(0),
        u8::try_from(s[7] & 0xff).unwrap_or(0),
    );
    (s[..6].iter().all(|x| *x == 0) && u32::from(v4) > 1).then_some(v4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_ranges_are_refused_and_public_ones_pass() {
        let p = EgressPolicy::public_only();
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(p.check(ip).is_err(), "{refused} must be refused");
        }
        for allowed in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "203.0.113.7",
            "2606:4700::1111",
        ] {
            assert!(p.check(allowed.parse().unwrap()).is_ok(), "{allowed} is public");
        }
        let why = p
            .check("169.254.169.254".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(why.contains("metadata") && why.contains("allow-list"), "{why}");
    }

    #[test]
    fn an_allow_list_opens_exactly_its_ranges() {
        let p = EgressPolicy::with_allow_list(&["10.20.0.0/16", "127.0.0.1"]).unwrap();
        assert!(p.check("10.20.3.4".parse().unwrap()).is_ok());
        assert!(p.check("10.21.0.1".parse().unwrap()).is_err());
        assert!(p.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("127.0.0.2".parse().unwrap()).is_err());
        assert!(
            p.check("::ffff:127.0.0.1".parse().unwrap()).is_ok(),
            "mapped addresses match their IPv4 entry"
        );
        assert!(EgressPolicy::with_allow_list(&["intranet"]).is_err());
    }
}
