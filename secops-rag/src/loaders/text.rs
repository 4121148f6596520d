//! Plain text: paragraphs are runs of non-blank lines; a line that starts with a list marker (`-`, `*`, `+`,
//! `1.`, `1)`) starts a list item. The document's text is the file itself, so offsets are file offsets.

use super::{Block, BlockKind, LoadError, LoadLimits, LoadedDocument, MediaType};

/// Loads plain text.
pub fn load(text: &str, limits: &LoadLimits) -> Result<LoadedDocument, LoadError> {
    if text.len() > limits.max_text_bytes {
        return Err(LoadError::TooLarge {
            what: "extracted text",
            size: text.len(),
            limit: limits.max_text_bytes,
        });
    }
    let mut blocks = Vec::new();
    // The open block: kind, start, end (end excludes trailing whitespace).
    let mut open: Option<(BlockKind, usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.trim_end();
        let lead = content.len() - content.trim_start().len();
        if content.trim_start().is_empty() {
            close(&mut open, &mut blocks);
            continue;
        }
        let start = line_start + lead;
        let end = line_start + content.len();
        if is_list_marker(content.trim_start()) {
            close(&mut open, &mut blocks);
            open = Some((BlockKind::ListItem, start, end));
        } else if let Some((_, _, e)) = &mut open {
            *e = end;
        } else {
            open = Some((BlockKind::Paragraph, start, end));
        }
    }
    close(&mut open, &mut blocks);
    if blocks.is_empty() {
        return Err(LoadError::NoText { scanned: false });
    }
    Ok(LoadedDocument {
        media_type: MediaType::PlainText,
        title: None,
        text: text.to_owned(),
        blocks,
        pages: None,
        skipped_records: 0,
    })
}

fn close(open: &mut Option<(BlockKind, usize, usize)>, blocks: &mut Vec<Block>) {
    if let Some((kind, start, end)) = open.take() {
        blocks.push(Block {
            kind,
            start,
            end,
            heading_path: Vec::new(),
            page: None,
            record: None,
            metadata: serde_json::Map::new(),
        });
    }
}

fn is_list_marker(line: &str) -> bool {
    let mut chars = line.chars();
    match chars.next() {
        Some('-' | '*' | '+' | '•') => chars.next().is_some_and(char::is_whitespace),
        Some(c) if c.is_ascii_digit() => {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let rest = &line[digits..];
            digits <= 3 && (rest.starts_with(". ") || rest.starts_with(") "))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_list_items_keep_file_offsets() {
        let src =
            "Triage steps\r\nfor phishing.\r\n\r\n- pull the message\n- block the sender\n\n\n  3. reset\n";
        let doc = load(src, &LoadLimits::default()).unwrap();
        let texts: Vec<&str> = doc.blocks.iter().map(|b| doc.block_text(b)).collect();
        assert_eq!(
            texts,
            [
                "Triage steps\r\nfor phishing.",
                "- pull the message",
                "- block the sender",
                "3. reset"
            ]
        );
        assert_eq!(doc.text, src);
        assert_eq!(doc.blocks[0].kind, BlockKind::Paragraph);
        assert!(doc.blocks[1..].iter().all(|b| b.kind == BlockKind::ListItem));
        assert_eq!(&src[doc.blocks[3].start..doc.blocks[3].end], "3. reset");
    }

    #[test]
    fn markers_need_a_space() {
        assert!(is_list_marker("- a"));
        assert!(is_list_marker("12) b"));
        assert!(!is_list_marker("-a"));
        assert!(!is_list_marker("2024. was a year"));
        assert!(!is_list_marker("3.5 percent"));
    }
}
