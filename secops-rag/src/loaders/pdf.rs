//! PDF: the text layer page by page (through `lopdf`), each paragraph a block that keeps its page number.
//! Paragraphs are runs of lines separated by a blank line; the title is the document's `/Title`.
//!
//! Refused as a whole: a file `lopdf` cannot parse, a page whose text cannot be decoded, a page whose content
//! inflates past [`LoadLimits::max_text_bytes`] (a decompression bomb), more pages than
//! [`LoadLimits::max_pages`], an encrypted file that needs a password, and a file without any text layer
//! (scanned pages: OCR is not supported). A panic inside the parser on hostile input is caught and reported as
//! a malformed PDF.

use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Document, Object};

use super::{BlockKind, DocBuilder, LoadError, LoadLimits, LoadedDocument, MediaType};

fn malformed(page: Option<u32>, e: &lopdf::Error) -> LoadError {
    let message = match e {
        lopdf::Error::Decompress(d) => d.to_string(),
        other => other.to_string(),
    };
    LoadError::Pdf { page, message }
}

/// Loads a PDF.
pub fn load(bytes: &[u8], limits: &LoadLimits) -> Result<LoadedDocument, LoadError> {
    match catch_unwind(AssertUnwindSafe(|| load_inner(bytes, limits))) {
        Ok(result) => result,
        Err(_) => Err(LoadError::Pdf {
            page: None,
            message: "the PDF parser gave up on this file".into(),
        }),
    }
}

fn load_inner(bytes: &[u8], limits: &LoadLimits) -> Result<LoadedDocument, LoadError> {
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(limits.max_text_bytes.max(1 << 20).saturating_mul(4)),
        ..lopdf::LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_) => LoadError::Encrypted,
        other => malformed(None, &other),
    })?;
    if doc.is_encrypted() && !doc.was_encrypted() {
        return Err(LoadError::Encrypted);
    }
    let pages = doc.get_pages();
    if pages.len() > limits.max_pages {
        return Err(LoadError::TooManyPages {
            pages: pages.len(),
            limit: limits.max_pages,
        });
    }
    if pages.is_empty() {
        return Err(LoadError::Pdf {
            page: None,
            message: "the document has no pages".into(),
        });
    }
    let mut builder = DocBuilder::new(MediaType::Pdf, limits);
    for &number in pages.keys() {
        let mut page_text = String::new();
        for fragment in doc.extract_text_chunks_with_limit(&[number], limits.max_text_bytes) {
            match fragment {
                Ok(text) => page_text.push_str(&text),
                Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit })) => {
                    return Err(LoadError::TooLarge {
                        what: "extracted text",
                        size: limit,
                        limit: limits.max_text_bytes,
                    });
                }
                Err(e) => return Err(malformed(Some(number), &e)),
            }
        }
        for paragraph in paragraphs(&page_text) {
            builder.block(BlockKind::Paragraph, &paragraph, Some(number))?;
        }
    }
    let title = info_title(&doc);
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let mut loaded = builder.finish(title).map_err(|e| match e {
        LoadError::NoText { .. } => LoadError::NoText { scanned: true },
        other => other,
    })?;
    loaded.pages = Some(page_count);
    Ok(loaded)
}

/// Runs of non-blank lines, each line trimmed.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

fn info_title(doc: &Document) -> Option<String> {
    let info = match doc.trailer.get(b"Info").ok()? {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    lopdf::decode_text_string(info.get(b"Title").ok()?).ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use lopdf::content::{Content, Operation};
    use lopdf::{Stream, dictionary};

    use super::*;

    /// A PDF with one page per entry, each page's lines drawn with Helvetica; a blank line starts a new
    /// text object (and so a new paragraph).
    pub(crate) fn make_pdf(pages: &[&[&str]], title: Option<&str>) -> Vec<u8> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
        });
        let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
        let mut kids = Vec::new();
        for lines in pages {
            let mut ops = vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 12.into()]),
            ];
            let mut y = 750;
            for line in *lines {
                if line.is_empty() {
                    ops.push(Operation::new("ET", vec![]));
                    ops.push(Operation::new("BT", vec![]));
                    ops.push(Operation::new("Tf", vec!["F1".into(), 12.into()]));
                    ops.push(Operation::new("ET", vec![]));
                    ops.push(Operation::new("BT", vec![]));
                    ops.push(Operation::new("Tf", vec!["F1".into(), 12.into()]));
                    continue;
                }
                ops.push(Operation::new("Td", vec![72.into(), y.into()]));
                ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
                ops.push(Operation::new("T*", vec![]));
                y -= 14;
            }
            ops.push(Operation::new("ET", vec![]));
            let content = Content { operations: ops };
            let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
            let page_id = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            });
            kids.push(page_id.into());
        }
        let count = i64::try_from(kids.len()).unwrap();
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => kids, "Count" => count,
                "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        if let Some(title) = title {
            let info_id = doc.add_object(dictionary! { "Title" => Object::string_literal(title) });
            doc.trailer.set("Info", info_id);
        }
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn pages_and_paragraphs_keep_page_numbers() {
        let pdf = make_pdf(
            &[
                &[
                    "Incident response plan",
                    "",
                    "Call the on-call lead.",
                    "Open a ticket.",
                ],
                &["Evidence handling", "", "Image the disk first."],
            ],
            Some("IR plan"),
        );
        let doc = load(&pdf, &LoadLimits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("IR plan"));
        assert_eq!(doc.pages, Some(2));
        let got: Vec<(Option<u32>, &str)> = doc.blocks.iter().map(|b| (b.page, doc.block_text(b))).collect();
        assert_eq!(
            got,
            [
                (Some(1), "Incident response plan"),
                (Some(1), "Call the on-call lead.\nOpen a ticket."),
                (Some(2), "Evidence handling"),
                (Some(2), "Image the disk first."),
            ]
        );
    }

    #[test]
    fn corrupt_truncated_empty_and_oversized_pdfs_are_refused() {
        let err = load(b"%PDF-1.7\nthis is not a pdf at all", &LoadLimits::default()).unwrap_err();
        assert_eq!(err.code(), "malformed_document", "{err:?}");
        let pdf = make_pdf(&[&["Hello"]], None);
        let err = load(&pdf[..pdf.len() / 3], &LoadLimits::default()).unwrap_err();
        assert_eq!(err.code(), "malformed_document", "{err:?}");
        let blank = make_pdf(&[&[]], None);
        assert_eq!(
            load(&blank, &LoadLimits::default()).unwrap_err(),
            LoadError::NoText { scanned: true }
        );
        let three = make_pdf(&[&["a"], &["b"], &["c"]], None);
        let limits = LoadLimits {
            max_pages: 2,
            ..LoadLimits::default()
        };
        assert_eq!(
            load(&three, &limits).unwrap_err(),
            LoadError::TooManyPages { pages: 3, limit: 2 }
        );
    }
}
