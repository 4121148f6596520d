//! Markdown (CommonMark with tables, task lists and strikethrough, through `pulldown-cmark`): one block per
//! heading, paragraph, list item, code block and table row, each with the path of headings above it. Markup
//! is removed (link and image text kept, URLs dropped); raw HTML blocks and YAML front matter are left out.
//! The title is the first level-1 heading.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{BlockKind, DocBuilder, LoadError, LoadLimits, LoadedDocument, MediaType, collapse_whitespace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Paragraph,
    Heading(u8),
    Code,
    Item,
    Row,
    Skip,
    Other,
}

struct State {
    builder: DocBuilder,
    stack: Vec<Container>,
    buffer: String,
    title: Option<String>,
}

impl State {
    fn in_item(&self) -> bool {
        self.stack.contains(&Container::Item)
    }

    fn skipping(&self) -> bool {
        self.stack.contains(&Container::Skip)
    }

    /// Emits what the buffer holds as a block of the innermost container's kind.
    fn flush(&mut self) -> Result<(), LoadError> {
        if self.buffer.trim().is_empty() {
            self.buffer.clear();
            return Ok(());
        }
        let innermost = self
            .stack
            .iter()
            .rev()
            .copied()
            .find(|c| !matches!(c, Container::Other))
            .unwrap_or(Container::Paragraph);
        let text = std::mem::take(&mut self.buffer);
        match innermost {
            Container::Heading(level) => {
                if level == 1 && self.title.is_none() {
                    self.title = Some(collapse_whitespace(&text));
                }
                self.builder.heading(level, &text, None)
            }
            Container::Code => self.builder.block(BlockKind::Code, &text, None),
            Container::Row => self
                .builder
                .block(BlockKind::TableRow, &collapse_whitespace(&text), None),
            Container::Item => self
                .builder
                .block(BlockKind::ListItem, &collapse_whitespace(&text), None),
            Container::Paragraph | Container::Skip | Container::Other => {
                let kind = if self.in_item() {
                    BlockKind::ListItem
                } else {
                    BlockKind::Paragraph
                };
                self.builder.block(kind, &collapse_whitespace(&text), None)
            }
        }
    }

    fn open(&mut self, container: Container) -> Result<(), LoadError> {
        self.flush()?;
        self.stack.push(container);
        Ok(())
    }

    fn close(&mut self) -> Result<(), LoadError> {
        self.flush()?;
        self.stack.pop();
        Ok(())
    }
}

/// Loads Markdown.
pub fn load(src: &str, limits: &LoadLimits) -> Result<LoadedDocument, LoadError> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut s = State {
        builder: DocBuilder::new(MediaType::Markdown, limits),
        stack: Vec::new(),
        buffer: String::new(),
        title: None,
    };
    for event in Parser::new_ext(src, options) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => s.open(Container::Paragraph)?,
                Tag::Heading { level, .. } => s.open(Container::Heading(level as u8))?,
                Tag::CodeBlock(_) => s.open(Container::Code)?,
                Tag::Item => s.open(Container::Item)?,
                Tag::TableHead | Tag::TableRow => s.open(Container::Row)?,
                Tag::TableCell => {
                    if !s.buffer.trim().is_empty() {
                        s.buffer.push_str(" | ");
                    }
                    s.stack.push(Container::Other);
                }
                Tag::HtmlBlock | Tag::MetadataBlock(_) => s.open(Container::Skip)?,
                Tag::List(_) | Tag::BlockQuote(_) | Tag::Table(_) | Tag::FootnoteDefinition(_) => {
                    s.open(Container::Other)?;
                }
                // Inline containers: their text joins the enclosing block.
                _ => s.stack.push(Container::Other),
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::CodeBlock
                | TagEnd::Item
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::HtmlBlock
                | TagEnd::MetadataBlock(_)
                | TagEnd::List(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::Table
                | TagEnd::FootnoteDefinition => s.close()?,
                _ => {
                    s.stack.pop();
                }
            },
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                if !s.skipping() {
                    s.buffer.push_str(&t);
                }
            }
            Event::SoftBreak => s.buffer.push(' '),
            Event::HardBreak => s.buffer.push('\n'),
            Event::TaskListMarker(done) => s.buffer.push_str(if done { "[x] " } else { "[ ] " }),
            Event::Rule => s.flush()?,
            Event::Html(_) | Event::InlineHtml(_) | Event::FootnoteReference(_) => {}
        }
    }
    s.flush()?;
    let title = s.title.take();
    s.builder.finish(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(src: &str) -> Vec<(BlockKind, String, Vec<String>)> {
        let doc = load(src, &LoadLimits::default()).unwrap();
        doc.blocks
            .iter()
            .map(|b| (b.kind, doc.block_text(b).to_owned(), b.heading_path.clone()))
            .collect()
    }

    #[test]
    fn heading_paths_follow_levels() {
        let src = "---\ntitle: skipped\n---\n# Ransomware\n\nIntro **bold** and [a link](http://x.invalid).\n\n\
                   ## Contain\n\n### Isolate\n\nUse the EDR.\n\n## Eradicate\n\nRebuild hosts.\n";
        let got = blocks(src);
        let h = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (
                    BlockKind::Heading { level: 1 },
                    "Ransomware".into(),
                    h(&["Ransomware"])
                ),
                (
                    BlockKind::Paragraph,
                    "Intro bold and a link.".into(),
                    h(&["Ransomware"])
                ),
                (
                    BlockKind::Heading { level: 2 },
                    "Contain".into(),
                    h(&["Ransomware", "Contain"])
                ),
                (
                    BlockKind::Heading { level: 3 },
                    "Isolate".into(),
                    h(&["Ransomware", "Contain", "Isolate"])
                ),
                (
                    BlockKind::Paragraph,
                    "Use the EDR.".into(),
                    h(&["Ransomware", "Contain", "Isolate"])
                ),
                (
                    BlockKind::Heading { level: 2 },
                    "Eradicate".into(),
                    h(&["Ransomware", "Eradicate"])
                ),
                (
                    BlockKind::Paragraph,
                    "Rebuild hosts.".into(),
                    h(&["Ransomware", "Eradicate"])
                ),
            ]
        );
        let doc = load(src, &LoadLimits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Ransomware"));
    }

    #[test]
    fn list_items_code_and_tables_are_blocks() {
        let src = "- parent item\n  - child one\n  - [x] child two\n\n1. loose\n\n   second para\n\n\
                   ```sh\nkill -9 1234\n  indented\n```\n\n| host | ip |\n|---|---|\n| web1 | 10.0.0.1 |\n\n\
                   <div>raw html</div>\n";
        let got: Vec<(BlockKind, String)> = blocks(src).into_iter().map(|(k, t, _)| (k, t)).collect();
        assert_eq!(
            got,
            vec![
                (BlockKind::ListItem, "parent item".into()),
                (BlockKind::ListItem, "child one".into()),
                (BlockKind::ListItem, "[x] child two".into()),
                (BlockKind::ListItem, "loose".into()),
                (BlockKind::ListItem, "second para".into()),
                (BlockKind::Code, "kill -9 1234\n  indented".into()),
                (BlockKind::TableRow, "host | ip".into()),
                (BlockKind::TableRow, "web1 | 10.0.0.1".into()),
            ]
        );
    }

    #[test]
    fn offsets_point_into_the_text() {
        let doc = load("# A\n\nb c\n\n- d\n", &LoadLimits::default()).unwrap();
        assert_eq!(doc.text, "A\n\nb c\n\nd");
        for b in &doc.blocks {
            assert_eq!(&doc.text[b.start..b.end], doc.block_text(b));
        }
    }
}
