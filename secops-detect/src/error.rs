//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong outside a rule's own text: reading files, reading events, parsing a catalogue or a pipeline.
/// Problems inside a rule are reported per rule as a [`LoadFailure`](crate::rules::LoadFailure) instead, so
/// one bad rule never stops the others from loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path that was being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing output failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// Event input was not JSON, NDJSON, a JSON array or a stream of JSON values.
    #[error("event input, record {record}: {message}")]
    EventInput {
        /// 1-based position of the record in the input.
        record: usize,
        /// What was wrong.
        message: String,
    },
    /// An event was not a JSON object.
    #[error("an event must be a JSON object, not {0}")]
    NotAnObject(&'static str),
    /// A STIX bundle or an ATT&CK catalogue could not be read.
    #[error("ATT&CK catalogue: {0}")]
    Catalogue(String),
    /// A processing pipeline could not be parsed or applied.
    #[error("processing pipeline `{name}`: {message}")]
    Pipeline {
        /// The pipeline's name or path.
        name: String,
        /// What was wrong.
        message: String,
    },
    /// The engine could not be built from the loaded rules.
    #[error("detection engine: {0}")]
    Engine(String),
    /// A command-line argument was invalid.
    #[error("{0}")]
    Usage(String),
}

impl DetectError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DetectError::Io {
            path: path.into(),
            source,
        }
    }
}
