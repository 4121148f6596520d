//! Retrieval metrics over graded relevance judgements: recall@k, mean reciprocal rank and nDCG@k.
//!
//! Judgements give each relevant id a gain: [`FULL`] (1.0) for relevant, [`PARTIAL`] (0.5) for partly
//! relevant (a sub-technique's parent technique, say). Recall and reciprocal rank count only fully relevant
//! ids (gain ≥ 1); nDCG uses every gain. An id repeated in a ranking counts at its first position only.
//! A query without any fully relevant id has no recall or reciprocal rank, and one without any gain no nDCG:
//! such queries are left out of the means, not counted as zero.
//!
//! nDCG@k = DCG@k / IDCG@k with DCG@k = Σ_{i=1..k} gain(i) / log2(i + 1) (linear gains) and IDCG@k the DCG
//! of the judgements' gains sorted in decreasing order.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::retrieval::ScoredHit;
use crate::retriever::{KnowledgeRetriever, RetrievalMode, SearchError, SearchRequest};

/// The gain of a relevant id.
pub const FULL: f64 = 1.0;
/// The gain of a partly relevant id.
pub const PARTIAL: f64 = 0.5;

/// One query's judgements: id → gain.
pub type Judgements = BTreeMap<String, f64>;

fn first_occurrences<S: AsRef<str>>(ranked: &[S]) -> impl Iterator<Item = (usize, &str)> {
    let mut seen = HashSet::new();
    ranked
        .iter()
        .map(AsRef::as_ref)
        .enumerate()
        .filter(move |(_, id)| seen.insert(*id))
}

fn full(judgements: &Judgements) -> usize {
    judgements.values().filter(|g| **g >= FULL).count()
}

/// The share of fully relevant ids found in the first `k` results; `None` without fully relevant ids.
#[must_use]
pub fn recall_at_k<S: AsRef<str>>(ranked: &[S], judgements: &Judgements, k: usize) -> Option<f64> {
    let total = full(judgements);
    if total == 0 {
        return None;
    }
    let found = first_occurrences(ranked)
        .take_while(|(i, _)| *i < k)
        .filter(|(_, id)| judgements.get(*id).is_some_and(|g| *g >= FULL))
        .count();
    #[allow(clippy::cast_precision_loss)]
    Some(found as f64 / total as f64)
}

/// 1 / the rank of the first fully relevant result, 0 when none is ranked; `None` without fully relevant ids.
#[must_use]
pub fn reciprocal_rank<S: AsRef<str>>(ranked: &[S], judgements: &Judgements) -> Option<f64> {
    if full(judgements) == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let rr = first_occurrences(ranked)
        .find(|(_, id)| judgements.get(*id).is_some_and(|g| *g >= FULL))
        .map_or(0.0, |(i, _)| 1.0 / (i + 1) as f64);
    Some(rr)
}

/// nDCG of the first `k` results with graded gains; `None` when no id has a gain.
#[must_use]
pub fn ndcg_at_k<S: AsRef<str>>(ranked: &[S], judgements: &Judgements, k: usize) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let discount = |i: usize| ((i + 2) as f64).log2();
    let dcg: f64 = first_occurrences(ranked)
        .take_while(|(i, _)| *i < k)
        .map(|(i, id)| judgements.get(id).copied().unwrap_or(0.0).max(0.0) / discount(i))
        .sum();
    let mut ideal: Vec<f64> = judgements.values().copied().filter(|g| *g > 0.0).collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| g / discount(i))
        .sum();
    (idcg > 0.0).then(|| dcg / idcg)
}

/// Means over a set of queries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Queries evaluated.
    pub queries: usize,
    /// The `k` of recall@k.
    pub k: usize,
    /// Mean recall@k.
    pub recall_at_k: f64,
    /// Mean reciprocal rank.
    pub mrr: f64,
    /// Mean nDCG@10.
    pub ndcg_at_10: f64,
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> f64 {
    let (sum, n) = values.flatten().fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    #[allow(clippy::cast_precision_loss)]
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// The metrics of `runs`: each the judgements of a query and the ids it retrieved, best first.
#[must_use]
pub fn evaluate<S: AsRef<str>>(runs: &[(Judgements, Vec<S>)], k: usize) -> Metrics {
    Metrics {
        queries: runs.len(),
        k,
        recall_at_k: mean(runs.iter().map(|(j, r)| recall_at_k(r, j, k))),
        mrr: mean(runs.iter().map(|(j, r)| reciprocal_rank(r, j))),
        ndcg_at_10: mean(runs.iter().map(|(j, r)| ndcg_at_k(r, j, 10))),
    }
}

/// One query of an evaluation set, as a line of JSONL:
/// `{"id": "q1", "query": "...", "relevant": {"T1003": 1.0, "T1003.001": 0.5}}`; `relevant` may also be a
/// list of ids, each fully relevant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalQuery {
    /// Its id.
    #[serde(default)]
    pub id: String,
    /// The query text.
    pub query: String,
    /// Its judgements.
    #[serde(deserialize_with = "judgements")]
    pub relevant: Judgements,
}

fn judgements<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Judgements, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Graded(Judgements),
        Ids(Vec<String>),
    }
    Ok(match Form::deserialize(d)? {
        Form::Graded(j) => j,
        Form::Ids(ids) => ids.into_iter().map(|id| (id, FULL)).collect(),
    })
}

/// A line of an evaluation set that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EvalParseError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads an evaluation set from JSONL (blank lines skipped).
pub fn parse_queries(jsonl: &str) -> Result<Vec<EvalQuery>, EvalParseError> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| EvalParseError {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Runs every query through `retriever` in `mode`, maps each hit to the id judged (`id_of`: a document-level
/// id such as a technique id; repeated ids collapse to their first rank) and computes the metrics. Asks for
/// `max(k, 10)` hits per query.
pub async fn evaluate_retriever(
    retriever: &KnowledgeRetriever,
    queries: &[EvalQuery],
    mode: RetrievalMode,
    k: usize,
    id_of: impl Fn(&ScoredHit) -> String,
) -> Result<Metrics, SearchError> {
    let mut runs = Vec::with_capacity(queries.len());
    for q in queries {
        let request = SearchRequest {
            mode: Some(mode),
            ..SearchRequest::new(&q.query, k.max(10))
        };
        let results = retriever.search(&request).await?;
        let mut seen = HashSet::new();
        let ranked: Vec<String> = results
            .hits
            .iter()
            .map(&id_of)
            .filter(|id| seen.insert(id.clone()))
            .collect();
        runs.push((q.relevant.clone(), ranked));
    }
    Ok(evaluate(&runs, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(pairs: &[(&str, f64)]) -> Judgements {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn recall_counts_fully_relevant_ids_in_the_top_k() {
        let judged = j(&[("a", 1.0), ("b", 1.0), ("p", 0.5)]);
        assert_eq!(recall_at_k(&["x", "a", "p", "b"], &judged, 2), Some(0.5));
        assert_eq!(recall_at_k(&["x", "a", "p", "b"], &judged, 4), Some(1.0));
        // A repeat counts once.
        assert_eq!(recall_at_k(&["a", "a"], &judged, 2), Some(0.5));
        assert_eq!(recall_at_k(&["p"], &j(&[("p", 0.5)]), 10), None);
        assert_eq!(recall_at_k::<&str>(&[], &judged, 10), Some(0.0));
    }

    #[test]
    fn reciprocal_rank_of_the_first_fully_relevant() {
        let judged = j(&[("a", 1.0), ("p", 0.5)]);
        assert_eq!(reciprocal_rank(&["p", "x", "a"], &judged), Some(1.0 / 3.0));
        assert_eq!(reciprocal_rank(&["a"], &judged), Some(1.0));
        assert_eq!(reciprocal_rank(&["x", "p"], &judged), Some(0.0));
        assert_eq!(reciprocal_rank(&["x"], &j(&[])), None);
    }

    #[test]
    fn ndcg_with_graded_gains_by_hand() {
        // Ranking p (0.5), x (0), a (1.0):
        //   DCG  = 0.5/log2(2) + 0 + 1/log2(4) = 0.5 + 0.5 = 1.0
        //   IDCG = 1/log2(2) + 0.5/log2(3) = 1 + 0.315464877... = 1.315464877...
        let judged = j(&[("a", 1.0), ("p", 0.5)]);
        let got = ndcg_at_k(&["p", "x", "a"], &judged, 10).unwrap();
        let idcg = 1.0 + 0.5 / 3f64.log2();
        assert!(close(got, 1.0 / idcg), "{got}");
        assert!((got - 0.760_188_0).abs() < 1e-6, "{got}");
        // The ideal order scores 1; cut-off k excludes later ranks; a repeat earns nothing.
        assert!(close(ndcg_at_k(&["a", "p"], &judged, 10).unwrap(), 1.0));
        assert!(close(ndcg_at_k(&["x", "a"], &judged, 1).unwrap(), 0.0));
        let rep = ndcg_at_k(&["a", "a", "p"], &judged, 10).unwrap();
        // DCG = 1 + 0 + 0.5/log2(4) = 1.25.
        assert!(close(rep, 1.25 / idcg), "{rep}");
        assert_eq!(ndcg_at_k(&["a"], &j(&[]), 10), None);
    }

    #[test]
    fn means_skip_queries_without_judgements() {
        let runs = vec![
            (j(&[("a", 1.0)]), vec!["a"]),      // recall 1, rr 1, ndcg 1
            (j(&[("b", 1.0)]), vec!["x", "b"]), // recall@1 0, rr 0.5, ndcg 1/log2(3)
            (j(&[]), vec!["y"]),                // no judgements: left out
        ];
        let m = evaluate(&runs, 1);
        assert_eq!(m.queries, 3);
        assert!(close(m.recall_at_k, 0.5));
        assert!(close(m.mrr, 0.75));
        assert!(close(m.ndcg_at_10, (1.0 + 1.0 / 3f64.log2()) / 2.0));
    }

    #[test]
    fn jsonl_with_graded_or_listed_ids() {
        let src = "{\"id\":\"q1\",\"query\":\"dump lsass\",\"relevant\":{\"T1003.001\":1.0,\"T1003\":0.5}}\n\n\
                   {\"query\":\"run key\",\"relevant\":[\"T1547.001\"]}\n";
        let qs = parse_queries(src).unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].relevant["T1003"], PARTIAL);
        assert_eq!(qs[1].relevant["T1547.001"], FULL);
        let err = parse_queries("{\"query\": 1}").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
