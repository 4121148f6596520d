//! Maximal marginal relevance (Carbonell and Goldstein, 1998): picks results one at a time, each maximising
//! `lambda * relevance - (1 - lambda) * (greatest similarity to a result already picked)`, so near-copies of
//! a passage (the same paragraph in two runbook versions, overlapping chunks) do not crowd out others.
//!
//! Relevance is the candidates' current score scaled to 0..1 (min-max). Similarity is the cosine of the two
//! chunks' embeddings when both have one of the same size, else the Jaccard overlap of their keyword terms.
//! Candidates at least [`MmrConfig::duplicate_threshold`] similar to a picked one are dropped outright.

use super::cosine;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::fusion::ScoredHit;
use super::index::IndexHit;
use super::memory::keyword_terms;

/// MMR settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MmrConfig {
    /// 1.0 ranks by relevance only; 0.0 by novelty only.
    pub lambda: f32,
    /// Similarity at which a candidate counts as a duplicate and is dropped.
    pub duplicate_threshold: f32,
}

impl Default for MmrConfig {
    fn default() -> Self {
        Self {
            lambda: 0.7,
            duplicate_threshold: 0.95,
        }
    }
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let j = a.intersection(b).count() as f32 / union as f32;
    j
}

fn similarity(a: &IndexHit, ta: &HashSet<String>, b: &IndexHit, tb: &HashSet<String>) -> f32 {
    match (&a.embedding, &b.embedding) {
        (Some(x), Some(y)) if x.len() == y.len() && !x.is_empty() => cosine(x, y),
        _ => jaccard(ta, tb),
    }
}

/// Reorders `candidates` (best first) by MMR and keeps at most `k`.
#[must_use]
pub fn mmr(candidates: Vec<ScoredHit>, k: usize, config: &MmrConfig) -> Vec<ScoredHit> {
    if candidates.is_empty() || k == 0 {
        return Vec::new();
    }
    let terms: Vec<HashSet<String>> = candidates
        .iter()
        .map(|c| keyword_terms(&c.hit.text).into_iter().collect())
        .collect();
    let (lo, hi) = candidates
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c.score), hi.max(c.score))
        });
    let relevance: Vec<f32> = candidates
        .iter()
        .map(|c| if hi > lo { (c.score - lo) / (hi - lo) } else { 1.0 })
        .collect();
    let mut remaining: Vec<usize> = (0..candidates.len()).collect();
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < k && !remaining.is_empty() {
        let mut best: Option<(usize, f32)> = None; // (position in remaining, mmr)
        let mut duplicates = Vec::new();
        for (pos, &i) in remaining.iter().enumerate() {
            let max_sim = picked
                .iter()
                .map(|&j| similarity(&candidates[i].hit, &terms[i], &candidates[j].hit, &terms[j]))
                .fold(0f32, f32::max);
            if max_sim >= config.duplicate_threshold {
                duplicates.push(pos);
                continue;
            }
            let value = config.lambda * relevance[i] - (1.0 - config.lambda) * max_sim;
            if best.is_none_or(|(_, b)| value > b) {
                best = Some((pos, value));
            }
        }
        let chosen = best.map(|(pos, _)| remaining[pos]);
        // Drop duplicates (positions ascending, so remove from the back).
        for pos in duplicates.into_iter().rev() {
            remaining.remove(pos);
        }
        let Some(chosen) = chosen else {
            break;
        };
        remaining.retain(|&i| i != chosen);
        picked.push(chosen);
    }
    let mut slots: Vec<Option<ScoredHit>> = candidates.into_iter().map(Some).collect();
    picked.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use secops_core::tenancy::{DocumentId, KnowledgeBaseId};

    use super::*;
    use crate::chunking::ChunkId;
    use crate::retrieval::fusion::StageScores;

    pub(crate) fn scored(n: u8, text: &str, score: f32, embedding: Option<Vec<f32>>) -> ScoredHit {
        ScoredHit {
            hit: IndexHit {
                chunk_id: ChunkId::from_bytes([n; 16]),
                document_id: DocumentId::new(),
                knowledge_base: KnowledgeBaseId::new(),
                title: "t".into(),
                source: "s".into(),
                text: text.into(),
                heading_path: Vec::new(),
                page: None,
                start: 0,
                end: text.len(),
                score,
                embedding,
            },
            scores: StageScores::default(),
            score,
        }
    }

    #[test]
    fn near_duplicates_give_way_to_novel_results() {
        let c = vec![
            scored(
                1,
                "isolate the host with the EDR console",
                1.0,
                Some(vec![1.0, 0.0, 0.0]),
            ),
            scored(
                2,
                "isolate the host with the EDR console now",
                0.9,
                Some(vec![0.99, 0.05, 0.0]),
            ),
            scored(3, "reset the user's password", 0.8, Some(vec![0.0, 1.0, 0.0])),
            scored(4, "collect memory before reboot", 0.5, Some(vec![0.5, 0.0, 0.86])),
        ];
        let got: Vec<u8> = mmr(c.clone(), 3, &MmrConfig::default())
            .iter()
            .map(|h| h.hit.chunk_id.as_bytes()[0])
            .collect();
        // 2 is a duplicate of 1 (cosine ≈ 0.9987 ≥ 0.95) and is dropped.
        assert_eq!(got, [1, 3, 4]);
        // lambda = 1 is pure relevance (duplicates still dropped).
        let relevance = MmrConfig {
            lambda: 1.0,
            duplicate_threshold: 1.1,
        };
        let got: Vec<u8> = mmr(c, 4, &relevance)
            .iter()
            .map(|h| h.hit.chunk_id.as_bytes()[0])
            .collect();
        assert_eq!(got, [1, 2, 3, 4]);
    }

    #[test]
    fn text_similarity_without_embeddings() {
        let c = vec![
            scored(1, "block smb port 445 at the firewall", 3.0, None),
            scored(2, "block smb port 445 at the firewall", 2.9, None),
            scored(3, "rotate krbtgt twice", 1.0, None),
        ];
        let got: Vec<u8> = mmr(c, 3, &MmrConfig::default())
            .iter()
            .map(|h| h.hit.chunk_id.as_bytes()[0])
            .collect();
        assert_eq!(got, [1, 3]);
        assert!(mmr(Vec::new(), 3, &MmrConfig::default()).is_empty());
    }
}
