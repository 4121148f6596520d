//! The process's log subscriber.
//!
//! Some dependencies log whole wire messages: rmcp writes every MCP request, response and notification at
//! `debug`/`info` (a tool result that echoes a header, an OAuth token response), reqwest writes redirect URLs
//! at `debug` (a Slack webhook URL is itself the credential). Those messages are scrubbed by our tools before
//! anything else sees them, but a log line is written before that. Whatever filter the operator sets, these
//! crates are therefore held to the levels in [`CAPPED_TARGETS`], where they log no message content.

use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Dependencies that log message bodies below some level, and the most they may log.
pub const CAPPED_TARGETS: [(&str, LevelFilter); 2] =
    [("rmcp", LevelFilter::ERROR), ("reqwest", LevelFilter::INFO)];

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogSetupError {
    /// The filter does not parse (`SECOPS_LOG` / `RUST_LOG` syntax: `info,secops_server=debug`).
    #[error("invalid log filter `{filter}`: {reason}")]
    InvalidFilter {
        /// The filter as given.
        filter: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A global subscriber is installed already (an embedding application installed its own).
    #[error("a log subscriber is installed already")]
    AlreadyInstalled,
}

/// Install the process-wide subscriber: plain-text lines to `writer`, filtered by `filter` (the
/// `EnvFilter` syntax of `SECOPS_LOG` / `RUST_LOG`) and by [`CAPPED_TARGETS`].
///
/// ```
/// use secops_server::telemetry::logs::{LogSetupError, install};
///
/// assert!(matches!(install("info,[", std::io::sink), Err(LogSetupError::InvalidFilter { .. })));
/// install("debug", std::io::sink).unwrap();
/// assert!(matches!(install("info", std::io::sink), Err(LogSetupError::AlreadyInstalled)));
/// ```
pub fn install<W>(filter: &str, writer: W) -> Result<(), LogSetupError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let chosen = EnvFilter::try_new(filter).map_err(|e| LogSetupError::InvalidFilter {
        filter: filter.to_owned(),
        reason: e.to_string(),
    })?;
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED_TARGETS);
    tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(chosen.and(caps)),
        )
        .try_init()
        .map_err(|_| LogSetupError::AlreadyInstalled)
}
