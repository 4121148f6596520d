//! HTML: the visible text, through the `html5ever` tokenizer (the browser-grade HTML5 tokenizer, without a
//! DOM). Dropped with everything inside them: `<head>` (its `<title>` becomes the document title),
//! `<script>`, `<style>`, `<noscript>`, `<template>`, `<nav>`, `<header>`, `<footer>`, `<aside>`, `<svg>`,
//! `<iframe>`, `<form>` controls' option lists, elements with the `hidden` attribute, `aria-hidden="true"`
//! or `role="navigation"`. Headings `<h1>`–`<h6>` give the heading path; paragraphs, list items, `<pre>`,
//! table rows (cells joined by ` | `) and other block elements become blocks. Character references are
//! decoded; whitespace collapses as a browser shows it, except inside `<pre>`.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::{BlockKind, DocBuilder, LoadError, LoadLimits, LoadedDocument, MediaType};

/// Elements whose content is never shown.
const SKIP: &[&str] = &[
    "head", "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "svg", "math",
    "iframe", "object", "canvas", "select", "datalist", "button", "dialog",
];

/// Elements without content or end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr", "keygen",
];

/// Elements a start tag of the same name closes.
const AUTO_CLOSED: &[&str] = &["p", "li", "dt", "dd", "tr", "td", "th", "option"];

/// Elements that start and end a block.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "blockquote",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "caption",
    "body",
    "html",
    "fieldset",
    "legend",
    "center",
    "hr",
];

#[derive(Default)]
struct Sink {
    inner: RefCell<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Open elements whose content is dropped (name), innermost last.
    skip: Vec<String>,
    /// Inside `<title>`.
    in_title: bool,
    title: String,
    /// Depth of `<pre>`.
    pre: usize,
    /// The heading being read.
    heading: Option<u8>,
    /// Depth of `<li>`.
    items: usize,
    /// Inside a `<tr>`.
    row: bool,
    buffer: String,
    /// Blocks found so far: kind, text.
    out: Vec<(BlockKind, String)>,
}

impl Inner {
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.buffer);
        let text = if self.pre > 0 {
            text.trim_matches('\n').to_owned()
        } else {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        if text.trim().is_empty() {
            return;
        }
        let kind = if let Some(level) = self.heading {
            BlockKind::Heading { level }
        } else if self.pre > 0 {
            BlockKind::Code
        } else if self.row {
            BlockKind::TableRow
        } else if self.items > 0 {
            BlockKind::ListItem
        } else {
            BlockKind::Paragraph
        };
        self.out.push((kind, text));
    }

    fn push_text(&mut self, text: &str) {
        if self.in_title {
            self.title.push_str(text);
            return;
        }
        if !self.skip.is_empty() {
            return;
        }
        if self.pre > 0 {
            self.buffer.push_str(text);
            return;
        }
        for (i, piece) in text.split(|c: char| c.is_ascii_whitespace()).enumerate() {
            if i > 0 && !self.buffer.ends_with([' ', '\n']) && !self.buffer.is_empty() {
                self.buffer.push(' ');
            }
            self.buffer.push_str(piece);
        }
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if name == "title" {
            self.in_title = start;
            return if start {
                TokenSinkResult::RawData(RawKind::Rcdata)
            } else {
                TokenSinkResult::Continue
            };
        }
        // Raw-text elements must switch the tokenizer's state, as a tree builder would, so their content
        // is not read as markup.
        let raw = match name {
            "script" => Some(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => Some(RawKind::Rawtext),
            "textarea" => Some(RawKind::Rcdata),
            _ => None,
        };
        if !self.skip.is_empty() {
            if start {
                if AUTO_CLOSED.contains(&name) && self.skip.last().is_some_and(|n| n == name) {
                    // `<p hidden>a<p>b`: the second `<p>` closes the first, as a browser's tree builder would.
                    self.skip.pop();
                    if self.skip.is_empty() {
                        return self.tag(tag);
                    }
                } else if SKIP.contains(&name) && !VOID.contains(&name) && !tag.self_closing {
                    self.skip.push(name.to_owned());
                }
            } else if let Some(pos) = self.skip.iter().rposition(|n| n == name) {
                self.skip.truncate(pos);
            }
            return match raw {
                Some(kind) if start => TokenSinkResult::RawData(kind),
                _ => TokenSinkResult::Continue,
            };
        }
        if start && !VOID.contains(&name) && !tag.self_closing && hidden(tag, name) {
            self.flush();
            self.skip.push(name.to_owned());
            return match raw {
                Some(kind) => TokenSinkResult::RawData(kind),
                None => TokenSinkResult::Continue,
            };
        }
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                self.heading = if start { name[1..].parse().ok() } else { None };
            }
            "pre" | "listing" => {
                self.flush();
                self.pre = if start {
                    self.pre + 1
                } else {
                    self.pre.saturating_sub(1)
                };
            }
            "li" => {
                self.flush();
                self.items = if start {
                    self.items + 1
                } else {
                    self.items.saturating_sub(1)
                };
            }
            "tr" => {
                self.flush();
                self.row = start;
            }
            "td" | "th" if start && !self.buffer.trim().is_empty() => self.buffer.push_str(" | "),
            "br" => self.buffer.push('\n'),
            _ if BLOCK.contains(&name) => self.flush(),
            _ => {}
        }
        match raw {
            Some(kind) if start => TokenSinkResult::RawData(kind),
            _ => TokenSinkResult::Continue,
        }
    }
}

fn hidden(tag: &Tag, name: &str) -> bool {
    if SKIP.contains(&name) {
        return true;
    }
    tag.attrs.iter().any(|a| {
        let attr: &str = &a.name.local;
        let value = a.value.trim();
        attr == "hidden"
            || (attr == "aria-hidden" && value.eq_ignore_ascii_case("true"))
            || (attr == "role" && value.eq_ignore_ascii_case("navigation"))
    })
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut inner = self.inner.borrow_mut();
        match token {
            Token::TagToken(tag) => inner.tag(&tag),
            Token::CharacterTokens(text) => {
                inner.push_text(&text);
                TokenSinkResult::Continue
            }
            Token::EOFToken => {
                inner.flush();
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// Loads HTML. The tokenizer recovers from any malformed markup as browsers do, so this fails only on limits
/// or when no text is visible.
pub fn load(src: &str, limits: &LoadLimits) -> Result<LoadedDocument, LoadError> {
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    // Tendrils are bounded by u32 lengths: feed pieces of at most 1 MiB, cut at character boundaries.
    let mut rest = src;
    while !rest.is_empty() {
        let mut cut = rest.len().min(1 << 20);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        input.push_back(StrTendril::from_slice(piece));
        rest = tail;
    }
    // The sink never asks to run a script, so one feed reads everything.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let inner = tokenizer.sink.inner.into_inner();
    let mut builder = DocBuilder::new(MediaType::Html, limits);
    for (kind, text) in &inner.out {
        match kind {
            BlockKind::Heading { level } => builder.heading(*level, text, None)?,
            kind => builder.block(*kind, text, None)?,
        }
    }
    let title = Some(inner.title).filter(|t| !t.trim().is_empty());
    builder.finish(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_only_with_structure() {
        let src = r#"<!doctype html><html><head><title>Phishing &amp; BEC</title>
            <style>p { color: red }</style><script>var x = "<p>not text</p>";</script></head>
            <body><header><h1>Site name</h1></header><nav><a href="/">Home</a></nav>
            <main><h1>Phishing playbook</h1>
            <p>Report   the
               message&nbsp;first.</p>
            <div hidden>secret banner</div><span aria-hidden="true">icon</span>
            <h2>Steps</h2><ul><li>Pull the <b>message</b></li><li>Block the sender<br>at the gateway</li></ul>
            <pre>grep -r sender
  /var/log</pre>
            <table><tr><th>Host</th><th>IP</th></tr><tr><td>mx1</td><td>10.0.0.2</td></tr></table>
            <noscript>enable js</noscript><template><p>tpl</p></template>
            </main><footer>© corp</footer></body></html>"#;
        let doc = load(src, &LoadLimits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Phishing & BEC"));
        let got: Vec<(BlockKind, &str, Vec<String>)> = doc
            .blocks
            .iter()
            .map(|b| (b.kind, doc.block_text(b), b.heading_path.clone()))
            .collect();
        let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (
                    BlockKind::Heading { level: 1 },
                    "Phishing playbook",
                    p(&["Phishing playbook"])
                ),
                (
                    BlockKind::Paragraph,
                    "Report the message\u{a0}first.",
                    p(&["Phishing playbook"])
                ),
                (
                    BlockKind::Heading { level: 2 },
                    "Steps",
                    p(&["Phishing playbook", "Steps"])
                ),
                (
                    BlockKind::ListItem,
                    "Pull the message",
                    p(&["Phishing playbook", "Steps"])
                ),
                (
                    BlockKind::ListItem,
                    "Block the sender\nat the gateway",
                    p(&["Phishing playbook", "Steps"])
                ),
                (
                    BlockKind::Code,
                    "grep -r sender\n  /var/log",
                    p(&["Phishing playbook", "Steps"])
                ),
                (
                    BlockKind::TableRow,
                    "Host | IP",
                    p(&["Phishing playbook", "Steps"])
                ),
                (
                    BlockKind::TableRow,
                    "mx1 | 10.0.0.2",
                    p(&["Phishing playbook", "Steps"])
                ),
            ]
        );
        for dropped in [
            "not text",
            "Site name",
            "Home",
            "secret",
            "icon",
            "enable js",
            "tpl",
            "corp",
            "color",
        ] {
            assert!(
                !doc.text.contains(dropped),
                "{dropped} leaked into {:?}",
                doc.text
            );
        }
    }

    #[test]
    fn malformed_markup_is_recovered_and_empty_pages_have_no_text() {
        let doc = load("<p hidden>gone<p>shown", &LoadLimits::default()).unwrap();
        assert_eq!(doc.text, "shown");
        let doc = load("<p>unclosed <b>bold<p>next", &LoadLimits::default()).unwrap();
        let texts: Vec<&str> = doc.blocks.iter().map(|b| doc.block_text(b)).collect();
        assert_eq!(texts, ["unclosed bold", "next"]);
        let err = load("<script>only()</script><nav>x</nav>", &LoadLimits::default()).unwrap_err();
        assert_eq!(err, LoadError::NoText { scanned: false });
    }
}
