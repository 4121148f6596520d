//! JSON and NDJSON records: one block per record, its text taken from the fields [`JsonOptions::text_fields`]
//! names and every other top-level field kept as the block's metadata.
//!
//! A JSON file is one record (an object), an array of records, or, with [`JsonOptions::records_pointer`], the
//! array a JSON pointer finds (`/objects` in a STIX bundle). An NDJSON file is one record per non-blank line.
//! Records whose chosen fields hold no text are left out and counted in
//! [`LoadedDocument::skipped_records`]; a record that is not an object fails the whole file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{BlockKind, DocBuilder, LoadError, LoadLimits, LoadedDocument, MediaType, collapse_whitespace};

/// How records become text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonOptions {
    /// The fields whose values make a record's text, in order: a top-level key (`description`) or a JSON
    /// pointer (`/external_references/0/external_id`). Strings are used as they are, numbers and booleans
    /// as written, arrays of them joined by `, `. Empty: every top-level string field.
    pub text_fields: Vec<String>,
    /// A field whose value is the record's heading (a top-level key or a JSON pointer), e.g. `name`.
    pub title_field: Option<String>,
    /// A JSON pointer to the array of records inside a JSON document.
    pub records_pointer: Option<String>,
}

fn field<'a>(record: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let Some(pointer) = name.strip_prefix('/') else {
        return record.get(name);
    };
    let (first, rest) = pointer.split_once('/').unwrap_or((pointer, ""));
    let top = record.get(&first.replace("~1", "/").replace("~0", "~"))?;
    if rest.is_empty() {
        Some(top)
    } else {
        top.pointer(&format!("/{rest}"))
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(as_text)
                .filter(|s| !s.is_empty())
                .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Null | Value::Object(_) => None,
    }
}

struct Records<'a> {
    builder: DocBuilder,
    options: &'a JsonOptions,
    limits: &'a LoadLimits,
    count: usize,
    skipped: usize,
}

impl Records<'_> {
    fn add(&mut self, index: usize, record: Value) -> Result<(), LoadError> {
        self.count += 1;
        if self.count > self.limits.max_records {
            return Err(LoadError::TooManyRecords {
                limit: self.limits.max_records,
            });
        }
        let Value::Object(record) = record else {
            return Err(LoadError::Record {
                index,
                message: format!("expected an object, found {}", kind(&record)),
            });
        };
        let mut parts = Vec::new();
        let mut used: Vec<String> = Vec::new();
        if self.options.text_fields.is_empty() {
            for (key, value) in &record {
                if let Value::String(s) = value
                    && !s.trim().is_empty()
                    && Some(key.as_str()) != self.options.title_field.as_deref()
                {
                    parts.push(s.trim().to_owned());
                    used.push(key.clone());
                }
            }
        } else {
            for name in &self.options.text_fields {
                if let Some(text) = field(&record, name).and_then(as_text)
                    && !text.trim().is_empty()
                {
                    parts.push(text.trim().to_owned());
                }
                used.push(name.clone());
            }
        }
        let heading = self
            .options
            .title_field
            .as_deref()
            .and_then(|f| field(&record, f))
            .and_then(as_text)
            .map(|t| collapse_whitespace(&t))
            .filter(|t| !t.is_empty());
        if parts.is_empty() {
            self.skipped += 1;
            return Ok(());
        }
        let metadata: Map<String, Value> = record.into_iter().filter(|(k, _)| !used.contains(k)).collect();
        let text = parts.join("\n\n");
        self.builder.push(
            BlockKind::Record,
            &text,
            heading.into_iter().collect(),
            None,
            Some(index),
            metadata,
        )
    }

    fn finish(self) -> Result<LoadedDocument, LoadError> {
        let skipped = self.skipped;
        let mut doc = self.builder.finish(None)?;
        doc.skipped_records = skipped;
        Ok(doc)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn json_error(e: &serde_json::Error, line: Option<usize>) -> LoadError {
    LoadError::Json {
        line: line.or(Some(e.line())).filter(|l| *l > 0),
        message: e.to_string(),
    }
}

/// Loads a JSON document of records.
pub fn load_json(src: &str, options: &JsonOptions, limits: &LoadLimits) -> Result<LoadedDocument, LoadError> {
    let value: Value = serde_json::from_str(src).map_err(|e| json_error(&e, None))?;
    let value = match options.records_pointer.as_deref() {
        Some(pointer) => {
            let found = value.pointer(pointer).ok_or_else(|| LoadError::Record {
                index: 0,
                message: format!("the records pointer `{pointer}` finds nothing"),
            })?;
            if !found.is_array() {
                return Err(LoadError::Record {
                    index: 0,
                    message: format!(
                        "the records pointer `{pointer}` finds {}, not an array",
                        kind(found)
                    ),
                });
            }
            found.clone()
        }
        None => value,
    };
    let mut records = Records {
        builder: DocBuilder::new(MediaType::Json, limits),
        options,
        limits,
        count: 0,
        skipped: 0,
    };
    match value {
        Value::Array(items) => {
            for (index, item) in items.into_iter().enumerate() {
                records.add(index, item)?;
            }
        }
        other => records.add(0, other)?,
    }
    records.finish()
}

/// Loads NDJSON: one JSON record per non-blank line.
pub fn load_ndjson(
    src: &str,
    options: &JsonOptions,
    limits: &LoadLimits,
) -> Result<LoadedDocument, LoadError> {
    let mut records = Records {
        builder: DocBuilder::new(MediaType::Ndjson, limits),
        options,
        limits,
        count: 0,
        skipped: 0,
    };
    let mut index = 0;
    for (n, line) in src.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| json_error(&e, Some(n + 1)))?;
        records.add(index, value)?;
        index += 1;
    }
    records.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attack_options() -> JsonOptions {
        JsonOptions {
            text_fields: vec!["name".into(), "description".into()],
            title_field: Some("/external_references/0/external_id".into()),
            records_pointer: Some("/objects".into()),
        }
    }

    #[test]
    fn records_from_a_pointer_with_metadata_and_titles() {
        let bundle = json!({"type": "bundle", "objects": [
            {"type": "attack-pattern", "name": "OS Credential Dumping", "description": "Dump creds.",
             "external_references": [{"external_id": "T1003"}], "x_mitre_platforms": ["Windows"]},
            {"type": "relationship", "source_ref": "a", "target_ref": "b"},
            {"type": "attack-pattern", "name": "LSASS Memory", "description": "Read lsass.",
             "external_references": [{"external_id": "T1003.001"}]}
        ]});
        let doc = load_json(&bundle.to_string(), &attack_options(), &LoadLimits::default()).unwrap();
        assert_eq!(doc.blocks.len(), 2);
        assert_eq!(doc.skipped_records, 1);
        let b = &doc.blocks[0];
        assert_eq!(doc.block_text(b), "OS Credential Dumping\n\nDump creds.");
        assert_eq!(b.heading_path, ["T1003"]);
        assert_eq!(b.record, Some(0));
        assert_eq!(b.metadata["type"], "attack-pattern");
        assert_eq!(b.metadata["x_mitre_platforms"], json!(["Windows"]));
        assert!(!b.metadata.contains_key("name") && !b.metadata.contains_key("description"));
        assert_eq!(doc.blocks[1].record, Some(2));
        assert_eq!(doc.blocks[1].heading_path, ["T1003.001"]);
    }

    #[test]
    fn ndjson_lines_default_fields_and_errors() {
        let src = "{\"host\":\"web1\",\"owner\":\"ops\",\"cpu\":4}\n\n{\"host\":\"db1\",\"owner\":\"dba\"}\n";
        let doc = load_ndjson(src, &JsonOptions::default(), &LoadLimits::default()).unwrap();
        assert_eq!(doc.block_text(&doc.blocks[0]), "web1\n\nops");
        assert_eq!(doc.blocks[0].metadata["cpu"], 4);
        assert_eq!(doc.blocks[1].record, Some(1));

        let err = load_ndjson(
            "{\"a\":\"x\"}\n{oops\n",
            &JsonOptions::default(),
            &LoadLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, LoadError::Json { line: Some(2), .. }), "{err:?}");
        let err = load_ndjson("[1]\n", &JsonOptions::default(), &LoadLimits::default()).unwrap_err();
        assert!(matches!(err, LoadError::Record { index: 0, .. }), "{err:?}");
        let limits = LoadLimits {
            max_records: 1,
            ..LoadLimits::default()
        };
        let err = load_ndjson(src, &JsonOptions::default(), &limits).unwrap_err();
        assert_eq!(err, LoadError::TooManyRecords { limit: 1 });
    }

    #[test]
    fn json_shapes() {
        let one = load_json(
            r#"{"text": "single record"}"#,
            &JsonOptions::default(),
            &LoadLimits::default(),
        )
        .unwrap();
        assert_eq!(one.blocks.len(), 1);
        let err = load_json("[1, 2", &JsonOptions::default(), &LoadLimits::default()).unwrap_err();
        assert!(matches!(err, LoadError::Json { line: Some(1), .. }), "{err:?}");
        let opts = JsonOptions {
            records_pointer: Some("/missing".into()),
            ..JsonOptions::default()
        };
        assert_eq!(
            load_json("{}", &opts, &LoadLimits::default()).unwrap_err().code(),
            "malformed_document"
        );
        let numbers = JsonOptions {
            text_fields: vec!["tags".into(), "score".into()],
            ..JsonOptions::default()
        };
        let doc = load_json(
            r#"[{"tags": ["a", "b"], "score": 7}]"#,
            &numbers,
            &LoadLimits::default(),
        )
        .unwrap();
        assert_eq!(doc.text, "a, b\n\n7");
        let err = load_json(r#"[{"n": 1}]"#, &JsonOptions::default(), &LoadLimits::default()).unwrap_err();
        assert_eq!(err, LoadError::NoText { scanned: false });
    }
}
