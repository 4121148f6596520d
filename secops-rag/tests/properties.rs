//! Properties over arbitrary input: loaders return a document or a typed error and never panic; chunks are
//! exact slices of the loaded text, within the token limit, with unique ids, and cover every block.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns are test code too

use std::sync::Arc;

use proptest::prelude::*;
use secops_core::tenancy::DocumentId;

use secops_rag::chunking::{Chunker, ChunkingConfig, HeuristicTokenizer, Tokenizer};
use secops_rag::loaders::{ContentHint, LoadOptions, LoadedDocument, load};

/// Markdown-ish text: headings, list items, code fences, blank lines, long lines, punctuation, non-ASCII.
fn markdownish() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "#{1,4} [A-Za-z ]{0,20}",
        "- [a-z .,]{0,40}",
        "[A-Za-zé→0-9 .,;!?]{0,200}",
        Just(String::new()),
        Just("```".to_owned()),
        "<[a-z]{1,6}>[a-z ]{0,10}",
    ];
    proptest::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n"))
}

fn check_chunks(doc: &LoadedDocument, max: usize, overlap: usize) {
    let chunker = Chunker::new(
        ChunkingConfig {
            max_tokens: max,
            overlap_tokens: overlap,
        },
        Arc::new(HeuristicTokenizer),
    )
    .unwrap();
    let chunks = chunker.chunk(DocumentId::new(), doc);
    let mut ids = std::collections::HashSet::new();
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(doc.text.get(c.start..c.end), Some(c.text.as_str()));
        assert!(c.tokens <= max, "{} > {max}: {:?}", c.tokens, c.text);
        assert_eq!(c.tokens, HeuristicTokenizer.count(&c.text));
        assert_eq!(c.ordinal as usize, i);
        assert!(ids.insert(c.id));
    }
    // Every block's text lies inside some chunk's range.
    for b in &doc.blocks {
        if HeuristicTokenizer.count(doc.block_text(b)) == 0 {
            continue;
        }
        let covered = chunks.iter().any(|c| c.start <= b.start && b.start < c.end)
            && chunks.iter().any(|c| c.start < b.end && b.end <= c.end);
        assert!(covered, "block {b:?} not covered");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn markdown_and_text_chunk_cleanly(src in markdownish(), max in 8usize..80, overlap_share in 0usize..4) {
        let overlap = max * overlap_share / 10;
        for name in ["a.md", "a.txt", "a.html"] {
            match load(src.as_bytes(), &ContentHint::file_name(name), &LoadOptions::default()) {
                Ok(doc) => {
                    for b in &doc.blocks {
                        prop_assert!(b.start < b.end && b.end <= doc.text.len());
                        prop_assert_eq!(doc.block_text(b).trim(), doc.block_text(b));
                    }
                    check_chunks(&doc, max, overlap);
                }
                Err(e) => prop_assert_eq!(e.code(), "no_text"),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for name in ["a.html", "a.json", "a.ndjson", "a.md"] {
            let _ = load(&bytes, &ContentHint::file_name(name), &LoadOptions::default());
        }
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.extend_from_slice(&bytes);
        let _ = load(&pdf, &ContentHint::file_name("a.pdf"), &LoadOptions::default());
    }
}
