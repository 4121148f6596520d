//! The retrieval hook: a [`Retriever`] the executor asks for context at the start of a run, and the
//! [`Citation`]s that tie an answer back to its sources and plan steps.
//!
//! secops-rag implements `Retriever` over a tenant's document index; anything else (a SIEM search, a wiki)
//! can implement it too.

use serde::{Deserialize, Serialize};

use crate::tenancy::OrgId;

/// What the executor asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievalQuery<'a> {
    /// The text to find context for (the run's input).
    pub text: &'a str,
    /// The organisation whose documents may be searched.
    pub org_id: Option<OrgId>,
    /// How many passages to return at most.
    pub top_k: usize,
}

/// One retrieved passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrievedContext {
    /// A stable id (chunk id).
    pub id: String,
    /// Where it came from: a document name, URL or query.
    pub source: String,
    /// A title to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The passage.
    pub text: String,
    /// Relevance, higher is better.
    pub score: f32,
}

/// Retrieval failed. The run continues without context; the error is reported as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("retrieval failed: {0}")]
pub struct RetrievalError(pub String);

/// A source of context for runs. Shared as `Arc<dyn Retriever>`.
#[async_trait::async_trait]
pub trait Retriever: Send + Sync {
    /// The passages most relevant to `query`, best first.
    async fn retrieve(&self, query: &RetrievalQuery<'_>) -> Result<Vec<RetrievedContext>, RetrievalError>;
}

/// Where part of an answer came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Citation {
    /// A retrieved passage, shown to the model as `[n]`.
    Source {
        /// The marker number `n`.
        marker: u32,
        /// The passage id.
        id: String,
        /// Where it came from.
        source: String,
        /// Its title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Whether the answer text contains `[n]`.
        referenced: bool,
    },
    /// A plan step, shown to the model as `[step n]`.
    Step {
        /// The step number.
        number: u32,
        /// The step title.
        title: String,
        /// Whether the answer text contains `[step n]`.
        referenced: bool,
    },
}
