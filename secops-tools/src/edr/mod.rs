//! Endpoint detection and response. Looking a host up is low risk; network containment acts on the estate and
//! is a high-risk tool, which waits for a person's approval under the default approval policy.

pub mod crowdstrike;
pub mod defender;

use std::net::IpAddr;

use secops_core::tool::ToolError;

/// The host a lookup names.
pub(crate) enum HostKey<'a> {
    /// A host name, safe to put between the single quotes of the vendor's filter language.
    Name(&'a str),
    /// An address.
    Ip(IpAddr),
}

/// Exactly one of `hostname` and `ip`, checked: an address must parse, and a name must be 1 to 255 characters
/// without quotes, backslashes or `forbidden` (the filter language's own operators), so it cannot end its quoted
/// value and add conditions. `what` names the filter in errors.
pub(crate) fn host_key<'a>(
    hostname: Option<&'a str>,
    ip: Option<&str>,
    forbidden: &[char],
    what: &str,
) -> Result<HostKey<'a>, ToolError> {
    match (hostname, ip) {
        (Some(name), None) => {
            let name = name.trim();
            if name.is_empty() || name.len() > 255 || name.contains(['\'', '\\']) || name.contains(forbidden)
            {
                return Err(ToolError::InvalidInput(format!(
                    "`{name}` cannot be used in a {what} filter"
                )));
            }
            Ok(HostKey::Name(name))
        }
        (None, Some(ip)) => ip
            .trim()
            .parse()
            .map(HostKey::Ip)
            .map_err(|_| ToolError::InvalidInput(format!("`{ip}` is not an IP address"))),
        _ => Err(ToolError::InvalidInput("give either a hostname or an ip".into())),
    }
}
