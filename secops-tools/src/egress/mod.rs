//! The egress guard: every outbound call a tool makes goes through an [`EgressClient`], which refuses to reach
//! the machine it runs on, private networks and cloud metadata services unless the organisation allow-lists
//! them.
//!
//! A model chooses a tool's arguments, and text the tool fetched can steer the model, so a URL in a tool call
//! is attacker-controlled input. The guard therefore:
//! - accepts only `http` and `https`;
//! - checks an IP literal in the URL before connecting;
//! - resolves host names itself and hands the HTTP client only the addresses that pass, so the connection goes
//!   to an address that was checked (no second lookup an attacker's DNS could answer differently);
//! - follows at most a few redirects, checking each target the same way;
//! - ignores proxy settings from the environment, caps response sizes and times every call out.

mod client;
mod policy;

pub(crate) use client::guard_error;
pub use client::{EgressClient, EgressConfig, EgressResponse};
pub use policy::{EgressPolicy, RefusedAddress};
/// HTTP methods, re-exported so tool crates need not name reqwest.
pub use reqwest::Method;

/// Why an outbound call was not made or did not complete.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    /// The URL could not be parsed or has no host.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// Only `http` and `https` are allowed.
    #[error("the scheme `{0}` is not allowed; use http or https")]
    Scheme(String),
    /// The destination is in a range tools may not reach.
    #[error("{0}")]
    Refused(RefusedAddress),
    /// The host name did not resolve.
    #[error("cannot resolve `{host}`: {reason}")]
    Resolve {
        /// The host.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// The response was larger than the cap.
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The connection or the exchange failed.
    #[error("request failed: {0}")]
    Transport(String),
}
