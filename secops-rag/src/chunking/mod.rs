//! Chunking that follows the document's structure: a [`LoadedDocument`]'s blocks become token-bounded
//! [`Chunk`]s with overlap, stable ids, byte offsets, heading path and page.
//!
//! The rules, in order:
//! 1. A **section** is a run of blocks under the same heading path, on the same page and in the same record.
//!    A chunk never spans two sections, so each chunk has one heading path, one page and one record. A
//!    section that holds only headings (a heading directly followed by a sub-heading) joins the next one.
//! 2. A block is never split unless it alone is over the budget; then it is cut at the last line break in
//!    the second half of the window, else at the last sentence end there, else at the token limit.
//! 3. Blocks (or their pieces) are packed greedily up to [`ChunkingConfig::max_tokens`]; the chunk after
//!    the first in a section starts with the last [`ChunkingConfig::overlap_tokens`] tokens of the previous
//!    one (as many as fit, at most half of it).
//! 4. A chunk's text is the slice `start..end` of [`LoadedDocument::text`], blank lines between blocks
//!    included, so offsets point exactly at the cited spot.
//! 5. Its id is the first 128 bits of SHA-256 over the document id, the chunk's ordinal and start offset and its
//!    text: re-chunking the same document the same way gives the same ids.

pub mod tokens;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

use secops_core::tenancy::DocumentId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::loaders::{Block, BlockKind, LoadedDocument};
pub use tokens::{HeuristicTokenizer, Tokenizer};

/// A chunk's stable id: 128 bits shown as 32 lowercase hex digits (it fits a UUID column as it is).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId([u8; 16]);

impl ChunkId {
    /// The id made of these bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Its bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The id of the chunk at `ordinal`, starting at byte `start`, with `text`, of `document`.
    #[must_use]
    pub fn derive(document: DocumentId, ordinal: u32, start: usize, text: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(document.as_uuid().as_bytes());
        hash.update(ordinal.to_be_bytes());
        hash.update((start as u64).to_be_bytes());
        hash.update(text.as_bytes());
        let digest = hash.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }
}

impl fmt::Display for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkId({self})")
    }
}

/// A string that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a chunk id (expected 32 hex digits)")]
pub struct ChunkIdParseError(pub String);

impl FromStr for ChunkId {
    type Err = ChunkIdParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| ChunkIdParseError(s.chars().take(64).collect()))?;
        Ok(Self(bytes))
    }
}

impl Serialize for ChunkId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ChunkId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One chunk of a document: what is embedded, indexed, retrieved and cited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Its stable id.
    pub id: ChunkId,
    /// Its document.
    pub document_id: DocumentId,
    /// Its position among the document's chunks, from 0.
    pub ordinal: u32,
    /// Its text: `document.text[start..end]`.
    pub text: String,
    /// Byte offset of its start in the loaded document's text.
    pub start: usize,
    /// Byte offset just past its end.
    pub end: usize,
    /// The headings it sits under, outermost first.
    pub heading_path: Vec<String>,
    /// Its page, 1-based (PDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Its record (JSON, NDJSON), 0-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<usize>,
    /// Its size by the chunker's tokenizer.
    pub tokens: usize,
    /// The record's other fields (JSON, NDJSON).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl Chunk {
    /// The text to embed and to match keywords against: the heading path (`A > B`), a blank line, then the
    /// text. Chunks deep inside a long section keep the words of their headings this way.
    #[must_use]
    pub fn contextual_text(&self) -> Cow<'_, str> {
        match self.heading_path.as_slice() {
            [] => Cow::Borrowed(&self.text),
            [only] if self.text.starts_with(only.as_str()) => Cow::Borrowed(&self.text),
            path => Cow::Owned(format!("{}\n\n{}", path.join(" > "), self.text)),
        }
    }
}

/// Chunk sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChunkingConfig {
    /// The most tokens in a chunk (8 to 8,192).
    pub max_tokens: usize,
    /// Tokens repeated from the previous chunk of the same section (less than half of `max_tokens`).
    pub overlap_tokens: usize,
}

impl Default for ChunkingConfig {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            overlap_tokens: 32,
        }
    }
}

/// A chunking configuration out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid chunking settings: {0}")]
pub struct ChunkingConfigError(pub String);

impl ChunkingConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), ChunkingConfigError> {
        if !(8..=8192).contains(&self.max_tokens) {
            return Err(ChunkingConfigError(format!(
                "max_tokens must be 8 to 8192, not {}",
                self.max_tokens
            )));
        }
        if self.overlap_tokens * 2 >= self.max_tokens {
            return Err(ChunkingConfigError(format!(
                "overlap_tokens ({}) must be less than half of max_tokens ({})",
                self.overlap_tokens, self.max_tokens
            )));
        }
        Ok(())
    }
}

/// Cuts documents into chunks. Cheap to clone.
#[derive(Clone)]
pub struct Chunker {
    config: ChunkingConfig,
    tokenizer: Arc<dyn Tokenizer>,
}

impl fmt::Debug for Chunker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for Chunker {
    fn default() -> Self {
        Self {
            config: ChunkingConfig::default(),
            tokenizer: Arc::new(HeuristicTokenizer),
        }
    }
}

/// A piece of a section: a byte range of the document text and its token count.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    tokens: usize,
}

impl Chunker {
    /// A chunker with these sizes and tokenizer.
    pub fn new(config: ChunkingConfig, tokenizer: Arc<dyn Tokenizer>) -> Result<Self, ChunkingConfigError> {
        config.validate()?;
        Ok(Self { config, tokenizer })
    }

    /// The sizes.
    #[must_use]
    pub fn config(&self) -> &ChunkingConfig {
        &self.config
    }

    /// The tokenizer.
    #[must_use]
    pub fn tokenizer(&self) -> &Arc<dyn Tokenizer> {
        &self.tokenizer
    }

    /// The chunks of `doc`, in document order.
    #[must_use]
    pub fn chunk(&self, document_id: DocumentId, doc: &LoadedDocument) -> Vec<Chunk> {
        let mut out = Vec::new();
        for section in sections(&doc.blocks) {
            self.chunk_section(document_id, doc, section, &mut out);
        }
        out
    }

    fn chunk_section(
        &self,
        document_id: DocumentId,
        doc: &LoadedDocument,
        blocks: &[Block],
        out: &mut Vec<Chunk>,
    ) {
        let Some(last) = blocks.last() else {
            return;
        };
        let max = self.config.max_tokens;
        let overlap = self.config.overlap_tokens;
        let mut pieces = Vec::new();
        for block in blocks {
            let text = doc.text.get(block.start..block.end).unwrap_or_default();
            let spans = self.tokenizer.token_spans(text);
            if spans.is_empty() {
                continue;
            }
            if spans.len() <= max {
                pieces.push(Piece {
                    start: block.start,
                    end: block.end,
                    tokens: spans.len(),
                });
                continue;
            }
            for range in split(text, &spans, max - overlap) {
                pieces.push(Piece {
                    start: block.start + spans[range.start].start,
                    end: block.start + spans[range.end - 1].end,
                    tokens: range.len(),
                });
            }
        }
        let mut i = 0;
        let mut previous: Option<(usize, usize)> = None; // the previous chunk's byte range
        while i < pieces.len() {
            let budget = if previous.is_some() { max - overlap } else { max };
            let mut j = i;
            let mut tokens = 0;
            while j < pieces.len() && (j == i || tokens + pieces[j].tokens <= budget) {
                tokens += pieces[j].tokens;
                j += 1;
            }
            let mut start = pieces[i].start;
            let end = pieces[j - 1].end;
            if let Some((p_start, p_end)) = previous {
                let prev_text = &doc.text[p_start..p_end];
                let prev_spans = self.tokenizer.token_spans(prev_text);
                let take = overlap.min(max.saturating_sub(tokens)).min(prev_spans.len() / 2);
                if take > 0 {
                    start = p_start + prev_spans[prev_spans.len() - take].start;
                }
            }
            let text = doc.text[start..end].to_owned();
            let ordinal = u32::try_from(out.len()).unwrap_or(u32::MAX);
            out.push(Chunk {
                id: ChunkId::derive(document_id, ordinal, start, &text),
                document_id,
                ordinal,
                tokens: self.tokenizer.count(&text),
                text,
                start,
                end,
                heading_path: last.heading_path.clone(),
                page: last.page,
                record: last.record,
                metadata: last.metadata.clone(),
            });
            previous = Some((pieces[i].start, end));
            i = j;
        }
    }
}

fn same_section(a: &Block, b: &Block) -> bool {
    a.heading_path == b.heading_path && a.page == b.page && a.record == b.record
}

/// Runs of blocks with one heading path, page and record; heading-only runs join a nested next run.
fn sections(blocks: &[Block]) -> Vec<&[Block]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < blocks.len() {
        let mut j = i + 1;
        loop {
            while j < blocks.len() && same_section(&blocks[j - 1], &blocks[j]) {
                j += 1;
            }
            let only_headings = blocks[i..j]
                .iter()
                .all(|b| matches!(b.kind, BlockKind::Heading { .. }));
            let nested_next = blocks.get(j).is_some_and(|next| {
                let cur = &blocks[j - 1];
                next.page == cur.page
                    && next.record == cur.record
                    && next.heading_path.len() > cur.heading_path.len()
                    && next.heading_path.starts_with(&cur.heading_path)
            });
            if only_headings && nested_next {
                j += 1;
                continue;
            }
            break;
        }
        out.push(&blocks[i..j]);
        i = j;
    }
    out
}

/// Cuts an over-long block's tokens into runs of at most `budget`, preferring a line break, then a sentence
/// end, in the second half of each window.
fn split(text: &str, spans: &[Range<usize>], budget: usize) -> Vec<Range<usize>> {
    let budget = budget.max(1);
    let n = spans.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let hard = (i + budget).min(n);
        let mut cut = hard;
        if hard < n {
            let lo = (i + budget / 2).max(i + 1);
            let mut newline = None;
            let mut sentence = None;
            for k in (lo..=hard).rev() {
                let gap = &text[spans[k - 1].end..spans[k].start];
                if gap.contains('\n') {
                    newline = Some(k);
                    break;
                }
                if sentence.is_none()
                    && !gap.is_empty()
                    && matches!(&text[spans[k - 1].clone()], "." | "!" | "?" | ";")
                {
                    sentence = Some(k);
                }
            }
            cut = newline.or(sentence).unwrap_or(hard);
        }
        out.push(i..cut);
        i = cut;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loaders::{LoadLimits, markdown, text};

    fn chunker(max: usize, overlap: usize) -> Chunker {
        Chunker::new(
            ChunkingConfig {
                max_tokens: max,
                overlap_tokens: overlap,
            },
            Arc::new(HeuristicTokenizer),
        )
        .unwrap()
    }

    #[test]
    fn sections_follow_headings_and_heading_only_runs_join_the_next() {
        let src = "# Ransomware\n\n## Contain\n\n### Isolate\n\nUse the EDR to isolate.\n\n- block SMB\n\n\
                   ## Eradicate\n\nRebuild hosts.\n";
        let doc = markdown::load(src, &LoadLimits::default()).unwrap();
        let doc_id = DocumentId::new();
        let chunks = chunker(64, 8).chunk(doc_id, &doc);
        let got: Vec<(&str, Vec<String>)> = chunks
            .iter()
            .map(|c| (c.text.as_str(), c.heading_path.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "Ransomware\n\nContain\n\nIsolate\n\nUse the EDR to isolate.\n\nblock SMB",
                    vec!["Ransomware".to_owned(), "Contain".into(), "Isolate".into()]
                ),
                (
                    "Eradicate\n\nRebuild hosts.",
                    vec!["Ransomware".to_owned(), "Eradicate".into()]
                ),
            ]
        );
        for c in &chunks {
            assert_eq!(&doc.text[c.start..c.end], c.text);
            assert_eq!(c.document_id, doc_id);
        }
        assert_eq!(chunks[1].ordinal, 1);
        assert_eq!(
            chunks[1].contextual_text(),
            "Ransomware > Eradicate\n\nEradicate\n\nRebuild hosts."
        );
    }

    #[test]
    fn chunks_are_bounded_overlap_and_cut_at_boundaries() {
        // 12 sentences of 5 tokens each ("wordN is here now ."), one paragraph of 60 tokens.
        let sentences: Vec<String> = (0..12).map(|i| format!("word{i} is here now.")).collect();
        let para = sentences.join(" ");
        let doc = text::load(&para, &LoadLimits::default()).unwrap();
        let chunks = chunker(20, 5).chunk(DocumentId::new(), &doc);
        assert!(chunks.len() >= 4, "{chunks:#?}");
        for c in &chunks {
            assert!(c.tokens <= 20, "{} tokens: {:?}", c.tokens, c.text);
            assert_eq!(&doc.text[c.start..c.end], c.text);
        }
        // Pieces end at sentence ends; each later chunk repeats the previous chunk's tail.
        for pair in chunks.windows(2) {
            assert!(pair[1].start < pair[0].end, "overlap expected: {pair:#?}");
            assert!(pair[0].text.ends_with('.'));
        }
        assert!(chunks[0].text.starts_with("word0"));
        assert!(chunks.last().unwrap().text.ends_with("word11 is here now."));
    }

    #[test]
    fn small_blocks_pack_and_ids_are_stable() {
        let src = (0..30)
            .map(|i| format!("- item {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let doc = text::load(&src, &LoadLimits::default()).unwrap();
        let id = DocumentId::new();
        let c = chunker(16, 4);
        let a = c.chunk(id, &doc);
        let b = c.chunk(id, &doc);
        assert_eq!(a, b);
        let other = c.chunk(DocumentId::new(), &doc);
        assert_ne!(a[0].id, other[0].id);
        // Each item is 3 tokens (`-`, `item`, `N`): whole items pack up to the limit and are never cut.
        assert!(a[0].text.starts_with("- item 0\n- item 1"));
        for chunk in &a {
            assert!(chunk.tokens <= 16);
            assert!(chunk.text.ends_with(|c: char| c.is_ascii_digit()));
        }
        let ids: std::collections::HashSet<_> = a.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), a.len());
        let round: ChunkId = a[0].id.to_string().parse().unwrap();
        assert_eq!(round, a[0].id);
        assert_eq!(
            serde_json::to_value(a[0].id).unwrap(),
            serde_json::json!(a[0].id.to_string())
        );
        assert!("xyz".parse::<ChunkId>().is_err());
    }

    #[test]
    fn pages_and_records_are_hard_boundaries() {
        let pdf = crate::loaders::pdf::tests::make_pdf(&[&["alpha one"], &["beta two"]], None);
        let doc = crate::loaders::pdf::load(&pdf, &LoadLimits::default()).unwrap();
        let chunks = chunker(256, 32).chunk(DocumentId::new(), &doc);
        let pages: Vec<Option<u32>> = chunks.iter().map(|c| c.page).collect();
        assert_eq!(pages, [Some(1), Some(2)]);
        let nd = crate::loaders::json::load_ndjson(
            "{\"t\":\"a\",\"k\":1}\n{\"t\":\"b\",\"k\":2}\n",
            &crate::loaders::JsonOptions::default(),
            &LoadLimits::default(),
        )
        .unwrap();
        let chunks = chunker(256, 32).chunk(DocumentId::new(), &nd);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].record, Some(1));
        assert_eq!(chunks[1].metadata["k"], 2);
    }

    #[test]
    fn invalid_settings_are_refused() {
        assert!(
            Chunker::new(
                ChunkingConfig {
                    max_tokens: 4,
                    overlap_tokens: 0
                },
                Arc::new(HeuristicTokenizer)
            )
            .is_err()
        );
        assert!(
            Chunker::new(
                ChunkingConfig {
                    max_tokens: 64,
                    overlap_tokens: 32
                },
                Arc::new(HeuristicTokenizer)
            )
            .is_err()
        );
    }
}
