//! Token counting for chunk sizes and context budgets. [`Tokenizer`] is small so a model's real tokenizer
//! can plug in; [`HeuristicTokenizer`] is the dependency-free default.

use std::ops::Range;

/// Splits text into tokens. Shared as `Arc<dyn Tokenizer>`.
pub trait Tokenizer: Send + Sync {
    /// The byte ranges of `text`'s tokens, in order and non-overlapping. Whitespace between tokens belongs
    /// to no token.
    fn token_spans(&self, text: &str) -> Vec<Range<usize>>;

    /// How many tokens `text` has.
    fn count(&self, text: &str) -> usize {
        self.token_spans(text).len()
    }
}

/// An estimate close to (slightly above) what BERT WordPiece and GPT byte-pair tokenizers count for English
/// and log text: every run of letters and digits is one token per started
/// [`HeuristicTokenizer::PIECE_CHARS`] characters, and every other non-space character is a token of its own.
/// `"Dump LSASS via rundll32.exe"` is 7 tokens: `Dump`, `LSASS`, `via`, `rundll`, `32`, `.`, `exe`
/// (`rundll32`, 8 characters, splits in two). Overestimating keeps chunks within a real model's limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeuristicTokenizer;

impl HeuristicTokenizer {
    /// The longest run of letters and digits counted as one token.
    pub const PIECE_CHARS: usize = 6;
}

impl Tokenizer for HeuristicTokenizer {
    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::with_capacity(text.len() / 4 + 1);
        let mut word: Option<(usize, usize)> = None; // (start, chars so far)
        for (i, c) in text.char_indices() {
            if c.is_alphanumeric() {
                match &mut word {
                    Some((_, chars)) if *chars < Self::PIECE_CHARS => *chars += 1,
                    Some((start, chars)) => {
                        spans.push(*start..i);
                        *start = i;
                        *chars = 1;
                    }
                    None => word = Some((i, 1)),
                }
                continue;
            }
            if let Some((start, _)) = word.take() {
                spans.push(start..i);
            }
            if !c.is_whitespace() {
                spans.push(i..i + c.len_utf8());
            }
        }
        if let Some((start, _)) = word {
            spans.push(start..text.len());
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_long_words_and_punctuation() {
        let t = HeuristicTokenizer;
        let text = "Dump LSASS via rundll32.exe";
        let pieces: Vec<&str> = t.token_spans(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(pieces, ["Dump", "LSASS", "via", "rundll", "32", ".", "exe"]);
        assert_eq!(t.count(""), 0);
        assert_eq!(t.count("   \n"), 0);
        assert_eq!(t.count("a,b"), 3);
        // Multi-byte letters are characters, not bytes.
        assert_eq!(t.count("Überprüfung"), 2);
        let s = "é→x";
        let spans = t.token_spans(s);
        assert_eq!(
            spans.iter().map(|r| &s[r.clone()]).collect::<Vec<_>>(),
            ["é", "→", "x"]
        );
    }
}
