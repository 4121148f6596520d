//! Loaders: bytes of a file in, a [`LoadedDocument`] out, a sequence of structural [`Block`]s (headings,
//! paragraphs, list items, code, table rows, records) over one extracted text.
//!
//! [`load`] picks the format from the declared media type and the file name ([`detect_media_type`]), checks the
//! bytes agree (a PDF starts with `%PDF-`, text is UTF-8 without NUL bytes), applies the [`LoadLimits`] and
//! calls the format's loader. Every failure is a [`LoadError`], and a failed load returns nothing: there is no
//! partial document to index.
//!
//! Offsets ([`Block::start`], [`Block::end`]) are byte offsets into [`LoadedDocument::text`], the text the
//! loader extracted (blocks separated by a blank line). For plain text that is the file itself.

pub mod html;
pub mod json;
pub mod markdown;
pub mod pdf;
pub mod text;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use json::JsonOptions;

/// The formats the loaders understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// `text/plain`: paragraphs separated by blank lines.
    PlainText,
    /// `text/markdown` (CommonMark with tables): heading path kept per block.
    Markdown,
    /// `text/html`: visible text only.
    Html,
    /// `application/json`: one record, an array of records, or an array found by a pointer.
    Json,
    /// `application/x-ndjson`: one JSON record per line.
    Ndjson,
    /// `application/pdf`: the text layer, page by page.
    Pdf,
}

impl MediaType {
    /// The canonical media type string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PlainText => "text/plain",
            Self::Markdown => "text/markdown",
            Self::Html => "text/html",
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Pdf => "application/pdf",
        }
    }

    /// The format a media type names (parameters such as `; charset=utf-8` ignored, case-insensitive);
    /// `None` for types no loader handles, including `application/octet-stream`.
    #[must_use]
    pub fn from_mime(mime: &str) -> Option<Self> {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Some(match essence.as_str() {
            "text/plain" => Self::PlainText,
            "text/markdown" | "text/x-markdown" => Self::Markdown,
            "text/html" | "application/xhtml+xml" => Self::Html,
            "application/json" | "text/json" => Self::Json,
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/jsonlines" => Self::Ndjson,
            "application/pdf" => Self::Pdf,
            _ => return None,
        })
    }

    /// The format a file name's extension names (case-insensitive).
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<Self> {
        let (_, ext) = name.rsplit_once('.')?;
        Some(match ext.to_ascii_lowercase().as_str() {
            "txt" | "text" | "log" => Self::PlainText,
            "md" | "markdown" => Self::Markdown,
            "html" | "htm" | "xhtml" => Self::Html,
            "json" => Self::Json,
            "ndjson" | "jsonl" => Self::Ndjson,
            "pdf" => Self::Pdf,
            _ => return None,
        })
    }

    /// Whether the format is text (UTF-8) rather than binary.
    #[must_use]
    pub const fn is_text(self) -> bool {
        !matches!(self, Self::Pdf)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the uploader said about the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentHint<'a> {
    /// The declared media type (`Content-Type` of the upload), if any.
    pub media_type: Option<&'a str>,
    /// The file name, if any.
    pub file_name: Option<&'a str>,
}

impl<'a> ContentHint<'a> {
    /// A hint from a file name alone.
    #[must_use]
    pub const fn file_name(name: &'a str) -> Self {
        Self {
            media_type: None,
            file_name: Some(name),
        }
    }

    /// A hint from a declared media type alone.
    #[must_use]
    pub const fn media_type(mime: &'a str) -> Self {
        Self {
            media_type: Some(mime),
            file_name: None,
        }
    }
}

/// Bounds on what one file may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadLimits {
    /// The largest file accepted, in bytes.
    pub max_bytes: usize,
    /// The largest extracted text, in bytes (a small compressed PDF can hold a lot of text).
    pub max_text_bytes: usize,
    /// The most pages of a PDF.
    pub max_pages: usize,
    /// The most records of a JSON or NDJSON file.
    pub max_records: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_text_bytes: 20 * 1024 * 1024,
            max_pages: 1_000,
            max_records: 100_000,
        }
    }
}

/// Everything a load may be told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    /// Size, page and record limits.
    pub limits: LoadLimits,
    /// How JSON and NDJSON records become text.
    pub json: JsonOptions,
}

/// The structural role of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockKind {
    /// A heading of level 1 to 6; its text is the last entry of its heading path.
    Heading {
        /// 1 (`#`, `<h1>`) to 6.
        level: u8,
    },
    /// A paragraph of prose.
    Paragraph,
    /// One list item.
    ListItem,
    /// A code block or preformatted text.
    Code,
    /// One table row, cells separated by ` | `.
    TableRow,
    /// One JSON or NDJSON record.
    Record,
}

/// A structural unit of a document: the chunker never splits inside one unless it is larger than a chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Its role.
    #[serde(flatten)]
    pub kind: BlockKind,
    /// Byte offset of its first byte in [`LoadedDocument::text`].
    pub start: usize,
    /// Byte offset just past its last byte.
    pub end: usize,
    /// The headings it sits under, outermost first (for a heading, ending with itself).
    pub heading_path: Vec<String>,
    /// Its page, 1-based (PDF only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Its record's position in the file, 0-based (JSON and NDJSON only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<usize>,
    /// The record's other fields (JSON and NDJSON only).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A loaded file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedDocument {
    /// The format it was loaded as.
    pub media_type: MediaType,
    /// A title found in the file (the first `#` heading, `<title>`, the PDF's `/Title`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The extracted text; every block is a slice of it.
    pub text: String,
    /// Its blocks, in document order, never empty.
    pub blocks: Vec<Block>,
    /// Pages (PDF only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Records without any text in the chosen fields, left out (JSON and NDJSON only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_records: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl LoadedDocument {
    /// The text of one block.
    #[must_use]
    pub fn block_text(&self, block: &Block) -> &str {
        self.text.get(block.start..block.end).unwrap_or_default()
    }
}

/// Why a file could not be loaded. Nothing of the file is kept when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The file is larger than [`LoadLimits::max_bytes`], or its text larger than
    /// [`LoadLimits::max_text_bytes`].
    #[error("the {what} is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// `file` or `extracted text`.
        what: &'static str,
        /// Its size, or the size reached when loading stopped.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The PDF has more pages than [`LoadLimits::max_pages`].
    #[error("the PDF has {pages} pages, more than the limit of {limit}")]
    TooManyPages {
        /// Its pages.
        pages: usize,
        /// The limit.
        limit: usize,
    },
    /// The file holds more records than [`LoadLimits::max_records`].
    #[error("the file holds more than {limit} records")]
    TooManyRecords {
        /// The limit.
        limit: usize,
    },
    /// The declared media type or the file extension names a format no loader handles.
    #[error(
        "unsupported media type `{media_type}` (supported: text/plain, text/markdown, text/html, application/json, application/x-ndjson, application/pdf)"
    )]
    UnsupportedMediaType {
        /// The declared type or the file name.
        media_type: String,
    },
    /// The declared media type, the extension or the bytes disagree.
    #[error("the file was declared as {declared} but {found}")]
    ContentTypeMismatch {
        /// What was declared.
        declared: String,
        /// What was found instead.
        found: String,
    },
    /// A text format that is not valid UTF-8.
    #[error("the file is not valid UTF-8 text (invalid byte at offset {offset})")]
    InvalidUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// Malformed JSON or NDJSON.
    #[error("malformed JSON{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Json {
        /// The 1-based line, when known.
        line: Option<usize>,
        /// What the parser said.
        message: String,
    },
    /// A record that cannot be used (not an object, or the records pointer does not find an array).
    #[error("record {index}: {message}")]
    Record {
        /// The record's position, 0-based.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A PDF that cannot be read.
    #[error("malformed PDF{}: {message}", page.map(|p| format!(" (page {p})")).unwrap_or_default())]
    Pdf {
        /// The page that failed, when it was one page.
        page: Option<u32>,
        /// What the parser said.
        message: String,
    },
    /// A PDF encrypted with a password.
    #[error("the PDF is encrypted; upload it without a password")]
    Encrypted,
    /// The file has no text to index (an empty file, a scanned PDF without a text layer).
    #[error("the file contains no text to index{}", if *scanned { " (it has no text layer: OCR is not supported)" } else { "" })]
    NoText {
        /// A PDF whose pages have no text layer.
        scanned: bool,
    },
}

impl LoadError {
    /// A stable, machine-readable code for API problems: `document_too_large`, `unsupported_media_type`,
    /// `content_type_mismatch`, `malformed_document`, `encrypted_document` or `no_text`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } | Self::TooManyPages { .. } | Self::TooManyRecords { .. } => {
                "document_too_large"
            }
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::ContentTypeMismatch { .. } => "content_type_mismatch",
            Self::InvalidUtf8 { .. } | Self::Json { .. } | Self::Record { .. } | Self::Pdf { .. } => {
                "malformed_document"
            }
            Self::Encrypted => "encrypted_document",
            Self::NoText { .. } => "no_text",
        }
    }
}

/// Picks the format from the declared media type and the file name, and checks the first bytes agree.
///
/// A specific declared type wins; `application/octet-stream` or no type defers to the extension. A declared
/// `text/plain` may be refined by a text extension (`.md`, `.json`, `.ndjson`, `.html`), since browsers and
/// tools often send it for those. Any other disagreement, and bytes that contradict the format (a PDF
/// without `%PDF-`, a text format with NUL bytes or the PDF signature), is a
/// [`LoadError::ContentTypeMismatch`].
pub fn detect_media_type(bytes: &[u8], hint: &ContentHint<'_>) -> Result<MediaType, LoadError> {
    let declared = hint
        .media_type
        .map(str::trim)
        .filter(|m| !m.is_empty() && !is_generic(m));
    let by_name = hint.file_name.and_then(MediaType::from_file_name);
    let chosen = match (declared, by_name) {
        (Some(mime), by_name) => {
            let by_mime = MediaType::from_mime(mime).ok_or_else(|| LoadError::UnsupportedMediaType {
                media_type: mime.to_owned(),
            })?;
            match by_name {
                None => by_mime,
                Some(ext) if ext == by_mime => by_mime,
                Some(ext) if by_mime == MediaType::PlainText && ext.is_text() => ext,
                Some(ext) => {
                    return Err(LoadError::ContentTypeMismatch {
                        declared: by_mime.to_string(),
                        found: format!("its name says {ext}"),
                    });
                }
            }
        }
        (None, Some(ext)) => ext,
        (None, None) => {
            return Err(LoadError::UnsupportedMediaType {
                media_type: hint
                    .file_name
                    .or(hint.media_type)
                    .unwrap_or("(no media type and no file name)")
                    .to_owned(),
            });
        }
    };
    let head = &bytes[..bytes.len().min(1024)];
    let pdf_magic = head.windows(5).any(|w| w == b"%PDF-");
    if chosen == MediaType::Pdf {
        if !pdf_magic {
            return Err(LoadError::ContentTypeMismatch {
                declared: chosen.to_string(),
                found: "it does not start with the %PDF- signature".into(),
            });
        }
    } else if bytes.starts_with(b"%PDF-") {
        return Err(LoadError::ContentTypeMismatch {
            declared: chosen.to_string(),
            found: "it is a PDF".into(),
        });
    } else if head.contains(&0) {
        return Err(LoadError::ContentTypeMismatch {
            declared: chosen.to_string(),
            found: "it holds binary data".into(),
        });
    }
    Ok(chosen)
}

fn is_generic(mime: &str) -> bool {
    let essence = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/octet-stream" | "binary/octet-stream"
    )
}

/// Loads a file: detects and checks its format ([`detect_media_type`]), applies the limits, extracts its
/// blocks. A document without any text is [`LoadError::NoText`].
///
/// ```
/// use secops_rag::loaders::{load, BlockKind, ContentHint, LoadOptions};
///
/// let doc = load(b"# Runbook\n\n## Contain\n\nIsolate the host.\n", &ContentHint::file_name("rb.md"),
///     &LoadOptions::default())?;
/// assert_eq!(doc.title.as_deref(), Some("Runbook"));
/// let last = doc.blocks.last().unwrap();
/// assert_eq!(last.kind, BlockKind::Paragraph);
/// assert_eq!(last.heading_path, ["Runbook", "Contain"]);
/// assert_eq!(doc.block_text(last), "Isolate the host.");
/// # Ok::<_, secops_rag::loaders::LoadError>(())
/// ```
pub fn load(
    bytes: &[u8],
    hint: &ContentHint<'_>,
    options: &LoadOptions,
) -> Result<LoadedDocument, LoadError> {
    let limits = &options.limits;
    if bytes.len() > limits.max_bytes {
        return Err(LoadError::TooLarge {
            what: "file",
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let media_type = detect_media_type(bytes, hint)?;
    let doc = if media_type == MediaType::Pdf {
        pdf::load(bytes, limits)?
    } else {
        let text = utf8(bytes)?;
        match media_type {
            MediaType::PlainText => text::load(text, limits)?,
            MediaType::Markdown => markdown::load(text, limits)?,
            MediaType::Html => html::load(text, limits)?,
            MediaType::Json => json::load_json(text, &options.json, limits)?,
            MediaType::Ndjson | MediaType::Pdf => json::load_ndjson(text, &options.json, limits)?,
        }
    };
    Ok(doc)
}

/// The text of a text file: UTF-8, a leading byte-order mark dropped.
fn utf8(bytes: &[u8]) -> Result<&str, LoadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| LoadError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })
}

/// Builds a document's text block by block, so every loader keeps the same invariants: blocks are trimmed,
/// non-empty, separated by a blank line, and their offsets point into the text.
#[derive(Debug)]
pub(crate) struct DocBuilder {
    media_type: MediaType,
    text: String,
    blocks: Vec<Block>,
    max_text_bytes: usize,
    headings: Vec<(u8, String)>,
}

impl DocBuilder {
    pub(crate) fn new(media_type: MediaType, limits: &LoadLimits) -> Self {
        Self {
            media_type,
            text: String::new(),
            blocks: Vec::new(),
            max_text_bytes: limits.max_text_bytes,
            headings: Vec::new(),
        }
    }

    /// The current heading path.
    pub(crate) fn heading_path(&self) -> Vec<String> {
        self.headings.iter().map(|(_, h)| h.clone()).collect()
    }

    /// Adds a heading: it closes every heading of its level or deeper, and becomes the end of the path.
    pub(crate) fn heading(&mut self, level: u8, text: &str, page: Option<u32>) -> Result<(), LoadError> {
        let text = collapse_whitespace(text);
        if text.is_empty() {
            return Ok(());
        }
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        self.headings.push((level, text.clone()));
        let path = self.heading_path();
        self.push(
            BlockKind::Heading { level },
            &text,
            path,
            page,
            None,
            serde_json::Map::new(),
        )
    }

    /// Adds a block under the current heading path.
    pub(crate) fn block(&mut self, kind: BlockKind, text: &str, page: Option<u32>) -> Result<(), LoadError> {
        let path = self.heading_path();
        self.push(kind, text, path, page, None, serde_json::Map::new())
    }

    /// Adds a block with everything given.
    pub(crate) fn push(
        &mut self,
        kind: BlockKind,
        text: &str,
        heading_path: Vec<String>,
        page: Option<u32>,
        record: Option<usize>,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), LoadError> {
        let text = text.trim_matches(|c: char| c.is_whitespace());
        if text.is_empty() {
            return Ok(());
        }
        let sep = if self.text.is_empty() { 0 } else { 2 };
        let size = self.text.len() + sep + text.len();
        if size > self.max_text_bytes {
            return Err(LoadError::TooLarge {
                what: "extracted text",
                size,
                limit: self.max_text_bytes,
            });
        }
        if sep > 0 {
            self.text.push_str("\n\n");
        }
        let start = self.text.len();
        self.text.push_str(text);
        self.blocks.push(Block {
            kind,
            start,
            end: self.text.len(),
            heading_path,
            page,
            record,
            metadata,
        });
        Ok(())
    }

    pub(crate) fn finish(self, title: Option<String>) -> Result<LoadedDocument, LoadError> {
        if self.blocks.is_empty() {
            return Err(LoadError::NoText { scanned: false });
        }
        let title = title.map(|t| collapse_whitespace(&t)).filter(|t| !t.is_empty());
        Ok(LoadedDocument {
            media_type: self.media_type,
            title,
            text: self.text,
            blocks: self.blocks,
            pages: None,
            skipped_records: 0,
        })
    }
}

/// Every run of whitespace as one space, trimmed.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_from_mime_and_name() {
        assert_eq!(
            MediaType::from_mime("Text/Markdown; charset=UTF-8"),
            Some(MediaType::Markdown)
        );
        assert_eq!(MediaType::from_mime("application/jsonl"), Some(MediaType::Ndjson));
        assert_eq!(MediaType::from_mime("image/png"), None);
        assert_eq!(MediaType::from_file_name("Runbook.PDF"), Some(MediaType::Pdf));
        assert_eq!(MediaType::from_file_name("events.jsonl"), Some(MediaType::Ndjson));
        assert_eq!(MediaType::from_file_name("noext"), None);
    }

    #[test]
    fn detection_prefers_a_specific_declared_type_and_checks_the_bytes() {
        let md = ContentHint {
            media_type: Some("text/plain"),
            file_name: Some("a.md"),
        };
        assert_eq!(detect_media_type(b"# x", &md), Ok(MediaType::Markdown));
        let octet = ContentHint {
            media_type: Some("application/octet-stream"),
            file_name: Some("a.pdf"),
        };
        assert_eq!(detect_media_type(b"%PDF-1.7\n", &octet), Ok(MediaType::Pdf));
        // A PDF name on a text body, a PDF body declared as text, a mismatch of two specific types.
        assert_eq!(
            detect_media_type(b"hello", &octet).map_err(|e| e.code()),
            Err("content_type_mismatch")
        );
        assert_eq!(
            detect_media_type(b"%PDF-1.4 ...", &ContentHint::media_type("text/plain")).map_err(|e| e.code()),
            Err("content_type_mismatch")
        );
        let clash = ContentHint {
            media_type: Some("application/pdf"),
            file_name: Some("notes.md"),
        };
        assert_eq!(
            detect_media_type(b"%PDF-1.4", &clash).map_err(|e| e.code()),
            Err("content_type_mismatch")
        );
        assert_eq!(
            detect_media_type(b"a\0b", &ContentHint::file_name("x.txt")).map_err(|e| e.code()),
            Err("content_type_mismatch")
        );
        assert_eq!(
            detect_media_type(b"x", &ContentHint::media_type("image/png")).map_err(|e| e.code()),
            Err("unsupported_media_type")
        );
        assert_eq!(
            detect_media_type(b"x", &ContentHint::default()).map_err(|e| e.code()),
            Err("unsupported_media_type")
        );
        assert_eq!(
            detect_media_type(b"x", &ContentHint::file_name("x.docx")).map_err(|e| e.code()),
            Err("unsupported_media_type")
        );
    }

    #[test]
    fn limits_and_utf8_are_checked_before_parsing() {
        let limits = LoadOptions {
            limits: LoadLimits {
                max_bytes: 4,
                ..LoadLimits::default()
            },
            ..LoadOptions::default()
        };
        let err = load(b"hello", &ContentHint::file_name("a.txt"), &limits).unwrap_err();
        assert_eq!(
            err,
            LoadError::TooLarge {
                what: "file",
                size: 5,
                limit: 4
            }
        );
        let err = load(
            b"ok \xFF",
            &ContentHint::file_name("a.txt"),
            &LoadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err, LoadError::InvalidUtf8 { offset: 3 });
        let err = load(
            b"  \n\n ",
            &ContentHint::file_name("a.txt"),
            &LoadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err, LoadError::NoText { scanned: false });
        let bom = load(
            b"\xEF\xBB\xBFhello",
            &ContentHint::file_name("a.txt"),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(bom.text, "hello");
    }

    #[test]
    fn extracted_text_is_bounded() {
        let mut b = DocBuilder::new(
            MediaType::PlainText,
            &LoadLimits {
                max_text_bytes: 10,
                ..LoadLimits::default()
            },
        );
        b.block(BlockKind::Paragraph, "12345", None).unwrap();
        let err = b.block(BlockKind::Paragraph, "6789", None).unwrap_err();
        assert_eq!(err.code(), "document_too_large");
    }
}
