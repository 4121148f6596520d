//! Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): each result list votes
//! `weight / (k + rank)` for every item it ranks (rank from 1), and items are ordered by their summed votes.
//! Scores of different searches (cosine, BM25) are never compared, only ranks.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::index::IndexHit;
use crate::chunking::ChunkId;

/// Fusion settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FusionConfig {
    /// The rank constant `k`: larger values flatten the advantage of top ranks. 60 in the original paper.
    pub k: f32,
    /// The weight of the vector search's votes.
    pub vector_weight: f32,
    /// The weight of the keyword search's votes.
    pub keyword_weight: f32,
}

impl Default for FusionConfig {
    fn default() -> Self {
        Self {
            k: 60.0,
            vector_weight: 1.0,
            keyword_weight: 1.0,
        }
    }
}

/// Fuses ranked lists of keys, each with a weight. Ties break by the best single rank an item had, then by
/// key, so the order is deterministic. A key repeated within one list counts at its first rank only.
#[must_use]
pub fn reciprocal_rank_fusion<K: Eq + Hash + Clone + Ord>(lists: &[(f32, &[K])], k: f32) -> Vec<(K, f32)> {
    let mut scores: HashMap<K, (f32, usize)> = HashMap::new();
    for (weight, list) in lists {
        let mut seen = std::collections::HashSet::new();
        for (i, key) in list.iter().enumerate() {
            if !seen.insert(key) {
                continue;
            }
            let rank = i + 1;
            #[allow(clippy::cast_precision_loss)]
            let vote = weight / (k + rank as f32);
            let entry = scores.entry(key.clone()).or_insert((0.0, usize::MAX));
            entry.0 += vote;
            entry.1 = entry.1.min(rank);
        }
    }
    let mut out: Vec<(K, f32, usize)> = scores
        .into_iter()
        .map(|(key, (s, best))| (key, s, best))
        .collect();
    out.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(a.2.cmp(&b.2))
            .then_with(|| a.0.cmp(&b.0))
    });
    out.into_iter().map(|(key, score, _)| (key, score)).collect()
}

/// A hit's rank and score in one search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StageRank {
    /// 1-based rank.
    pub rank: usize,
    /// The search's own score.
    pub score: f32,
}

/// What each stage made of a hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageScores {
    /// Its place in the vector search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<StageRank>,
    /// Its place in the keyword search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<StageRank>,
    /// Its fused score (hybrid mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fused: Option<f32>,
    /// The reranker's relevance score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerank: Option<f32>,
}

/// A hit with the scores of every stage it went through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredHit {
    /// The hit.
    #[serde(flatten)]
    pub hit: IndexHit,
    /// Scores per stage.
    pub scores: StageScores,
    /// The score it is ordered by now (the last stage's).
    pub score: f32,
}

impl ScoredHit {
    /// A hit from a single search (vector or keyword), scored by that search.
    #[must_use]
    pub fn single(hits: Vec<IndexHit>, vector: bool) -> Vec<Self> {
        hits.into_iter()
            .enumerate()
            .map(|(i, hit)| {
                let stage = Some(StageRank {
                    rank: i + 1,
                    score: hit.score,
                });
                let scores = if vector {
                    StageScores {
                        vector: stage,
                        ..StageScores::default()
                    }
                } else {
                    StageScores {
                        keyword: stage,
                        ..StageScores::default()
                    }
                };
                Self {
                    score: hit.score,
                    hit,
                    scores,
                }
            })
            .collect()
    }
}

/// Fuses a vector and a keyword result list into one, best first, each hit keeping both ranks.
#[must_use]
pub fn fuse(vector: Vec<IndexHit>, keyword: Vec<IndexHit>, config: &FusionConfig) -> Vec<ScoredHit> {
    let v_ids: Vec<ChunkId> = vector.iter().map(|h| h.chunk_id).collect();
    let k_ids: Vec<ChunkId> = keyword.iter().map(|h| h.chunk_id).collect();
    let fused = reciprocal_rank_fusion(
        &[(config.vector_weight, &v_ids), (config.keyword_weight, &k_ids)],
        config.k,
    );
    let mut hits: HashMap<ChunkId, ScoredHit> = HashMap::new();
    for (list, is_vector) in [(vector, true), (keyword, false)] {
        for (i, hit) in list.into_iter().enumerate() {
            let stage = StageRank {
                rank: i + 1,
                score: hit.score,
            };
            let entry = hits.entry(hit.chunk_id).or_insert_with(|| ScoredHit {
                hit: IndexHit {
                    embedding: None,
                    ..hit.clone()
                },
                scores: StageScores::default(),
                score: 0.0,
            });
            if entry.hit.embedding.is_none() {
                entry.hit.embedding = hit.embedding;
            }
            let slot = if is_vector {
                &mut entry.scores.vector
            } else {
                &mut entry.scores.keyword
            };
            if slot.is_none() {
                *slot = Some(stage);
            }
        }
    }
    fused
        .into_iter()
        .filter_map(|(id, score)| {
            let mut hit = hits.remove(&id)?;
            hit.scores.fused = Some(score);
            hit.score = score;
            hit.hit.score = score;
            Some(hit)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrf_matches_hand_computed_scores() {
        // k = 60. a: 1/61 + 1/63; b: 1/62 + 1/61; c: 1/63; d: 1/62.
        let v = ["a", "b", "c"];
        let kw = ["b", "d", "a"];
        let got = reciprocal_rank_fusion(&[(1.0, &v[..]), (1.0, &kw[..])], 60.0);
        let keys: Vec<&str> = got.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["b", "a", "d", "c"]);
        let close = |x: f32, y: f32| (x - y).abs() < 1e-7;
        assert!(close(got[0].1, 1.0 / 62.0 + 1.0 / 61.0));
        assert!(close(got[1].1, 1.0 / 61.0 + 1.0 / 63.0));
        assert!(close(got[2].1, 1.0 / 62.0));
        assert!(close(got[3].1, 1.0 / 63.0));
    }

    #[test]
    fn weights_and_k_change_the_order() {
        let v = ["a", "b"];
        let kw = ["b", "a"];
        // Equal weights: a tie (1/61 + 1/62 each), broken by best rank (both 1), then by key.
        let tie = reciprocal_rank_fusion(&[(1.0, &v[..]), (1.0, &kw[..])], 60.0);
        assert_eq!(tie[0].0, "a");
        assert!((tie[0].1 - tie[1].1).abs() < 1e-9);
        // Keyword weighted double: b = 2/61 + 1/62 beats a = 1/61 + 2/62.
        let kw_heavy = reciprocal_rank_fusion(&[(1.0, &v[..]), (2.0, &kw[..])], 60.0);
        assert_eq!(kw_heavy[0].0, "b");
        // k = 0 with one list: scores are 1/rank.
        let sharp = reciprocal_rank_fusion(&[(1.0, &v[..])], 0.0);
        assert_eq!(sharp, vec![("a", 1.0), ("b", 0.5)]);
        // Duplicates inside one list count once.
        let dup = ["x", "x", "y"];
        let d = reciprocal_rank_fusion(&[(1.0, &dup[..])], 0.0);
        assert_eq!(d, vec![("x", 1.0), ("y", 1.0 / 3.0)]);
    }
}
