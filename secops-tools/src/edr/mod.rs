//! Endpoint detection and response. Looking a host up is low risk; network containment acts on the estate and
//! is a high-risk tool, which waits for a person's approval under the default approval policy.

pub mod crowdstrike;
pub mod defender;
