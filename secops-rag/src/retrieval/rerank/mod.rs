//! Reranking: a [`Reranker`] scores each candidate passage against the query (a cross-encoder sees both at
//! once, which a vector search cannot), and [`apply_rerank`] reorders the candidates by those scores.
//! [`HttpReranker`] speaks the `rerank` API of Cohere, Jina, vLLM and Infinity, or of Hugging Face TEI.

mod http;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use http::{HttpReranker, HttpRerankerConfig, RerankProtocol};

use super::fusion::ScoredHit;

/// One document's relevance, as rerank APIs return it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RerankScore {
    /// The document's position in the request.
    pub index: usize,
    /// Its relevance to the query, higher is better.
    pub relevance_score: f32,
}

/// The class of a reranking failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RerankErrorKind {
    /// No (complete) response in time.
    Timeout,
    /// The connection could not be made or broke.
    Connection,
    /// HTTP 429.
    RateLimited,
    /// HTTP 5xx.
    Server,
    /// Another non-success status (bad key, bad model, request too large).
    Rejected,
    /// A success status with a body that is not a valid answer.
    MalformedResponse,
    /// The request could not be made (bad settings, too many documents).
    InvalidRequest,
}

impl RerankErrorKind {
    /// Whether trying again may help.
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Timeout | Self::Connection | Self::RateLimited | Self::Server
        )
    }
}

impl fmt::Display for RerankErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timed out",
            Self::Connection => "connection failed",
            Self::RateLimited => "rate limited",
            Self::Server => "server error",
            Self::Rejected => "request rejected",
            Self::MalformedResponse => "malformed response",
            Self::InvalidRequest => "invalid request",
        })
    }
}

/// Reranking failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("reranker {kind}{} after {attempts} attempt(s): {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct RerankError {
    /// The class of failure.
    pub kind: RerankErrorKind,
    /// What happened (credentials removed).
    pub message: String,
    /// The HTTP status of the last attempt, when there was one.
    pub status: Option<u16>,
    /// The wait the server asked for on the last attempt.
    pub retry_after: Option<Duration>,
    /// How many requests were sent.
    pub attempts: u32,
}

impl RerankError {
    /// An error before any request was sent.
    #[must_use]
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self {
            kind: RerankErrorKind::InvalidRequest,
            message: message.into(),
            status: None,
            retry_after: None,
            attempts: 0,
        }
    }
}

/// Scores passages against a query. Shared as `Arc<dyn Reranker>`.
#[async_trait::async_trait]
pub trait Reranker: Send + Sync {
    /// A short name for logs and results, e.g. `http-rerank`.
    fn name(&self) -> &str;

    /// The relevance of each of `documents` to `query`: at most `top_n` scores, best first, each naming its
    /// document by position.
    async fn rerank(
        &self,
        query: &str,
        documents: &[&str],
        top_n: usize,
    ) -> Result<Vec<RerankScore>, RerankError>;
}

/// Reorders `hits` by the reranker's `scores` (best first), records each score in
/// [`StageScores::rerank`](super::fusion::StageScores::rerank) and as the hit's score. Hits the reranker did
/// not score (beyond its `top_n`) are dropped; out-of-range and repeated indices are ignored.
#[must_use]
pub fn apply_rerank(hits: Vec<ScoredHit>, scores: &[RerankScore]) -> Vec<ScoredHit> {
    let mut slots: Vec<Option<ScoredHit>> = hits.into_iter().map(Some).collect();
    let mut ordered: Vec<&RerankScore> = scores.iter().filter(|s| s.relevance_score.is_finite()).collect();
    ordered.sort_by(|a, b| {
        b.relevance_score
            .total_cmp(&a.relevance_score)
            .then(a.index.cmp(&b.index))
    });
    let mut out = Vec::with_capacity(ordered.len());
    for score in ordered {
        if let Some(mut hit) = slots.get_mut(score.index).and_then(Option::take) {
            hit.scores.rerank = Some(score.relevance_score);
            hit.score = score.relevance_score;
            out.push(hit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retrieval::mmr::tests::scored;

    #[test]
    fn rerank_scores_reorder_and_drop_unscored() {
        let hits = vec![
            scored(1, "a", 0.9, None),
            scored(2, "b", 0.8, None),
            scored(3, "c", 0.7, None),
        ];
        let scores = [
            RerankScore {
                index: 2,
                relevance_score: 0.99,
            },
            RerankScore {
                index: 0,
                relevance_score: 0.10,
            },
            RerankScore {
                index: 2,
                relevance_score: 0.5,
            },
            RerankScore {
                index: 7,
                relevance_score: 1.0,
            },
        ];
        let out = apply_rerank(hits, &scores);
        let ids: Vec<u8> = out.iter().map(|h| h.hit.chunk_id.as_bytes()[0]).collect();
        assert_eq!(ids, [3, 1]);
        assert_eq!(out[0].scores.rerank, Some(0.99));
        assert_eq!(out[0].score, 0.99);
        assert!(RerankErrorKind::RateLimited.is_retryable());
        assert!(!RerankErrorKind::MalformedResponse.is_retryable());
    }
}
