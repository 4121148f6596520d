//! A token budget for the context injected into the model's prompt.

use super::fusion::ScoredHit;
use crate::chunking::Tokenizer;

/// Keeps hits, in order, while their text (plus `overhead` tokens each, for the label and envelope) fits in
/// `budget` tokens. A hit that does not fit is skipped and later, smaller ones still get their turn; but if the
/// best hit alone is over the budget, it is cut at a token boundary to fill the budget instead, so the model
/// always gets the best passage.
#[must_use]
pub fn fit_to_budget(
    hits: Vec<ScoredHit>,
    budget: usize,
    overhead: usize,
    tokenizer: &dyn Tokenizer,
) -> Vec<ScoredHit> {
    let mut used = 0;
    let mut out = Vec::new();
    for (i, mut hit) in hits.into_iter().enumerate() {
        let cost = tokenizer.count(&hit.hit.text) + overhead;
        if used + cost <= budget {
            used += cost;
            out.push(hit);
        } else if i == 0 {
            let room = budget.saturating_sub(overhead);
            let spans = tokenizer.token_spans(&hit.hit.text);
            if let Some(last) = room.min(spans.len()).checked_sub(1).and_then(|n| spans.get(n)) {
                hit.hit.text.truncate(last.end);
                hit.hit.end = hit.hit.start + last.end;
                out.push(hit);
            }
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunking::HeuristicTokenizer;
    use crate::retrieval::mmr::tests::scored;

    #[test]
    fn keeps_what_fits_in_order_and_cuts_an_oversized_first() {
        let hits = vec![
            scored(1, "one two three", 1.0, None),       // 3 tokens
            scored(2, "a b c d e f g h i j", 0.9, None), // 10 tokens
            scored(3, "four five", 0.8, None),           // 2 tokens
        ];
        // Overhead 2 each: 5 + 12 + 4. Budget 10 keeps 1 and 3.
        let kept: Vec<u8> = fit_to_budget(hits.clone(), 10, 2, &HeuristicTokenizer)
            .iter()
            .map(|h| h.hit.chunk_id.as_bytes()[0])
            .collect();
        assert_eq!(kept, [1, 3]);
        let all = fit_to_budget(hits.clone(), 100, 2, &HeuristicTokenizer);
        assert_eq!(all.len(), 3);
        // Budget 4 with overhead 2: the best hit (5) does not fit and is cut to 2 tokens rather than dropped
        // for the smaller third one.
        let cut = fit_to_budget(hits, 4, 2, &HeuristicTokenizer);
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].hit.text, "one two");
        assert_eq!(cut[0].hit.end, 7);
        assert!(fit_to_budget(Vec::new(), 10, 0, &HeuristicTokenizer).is_empty());
    }
}
