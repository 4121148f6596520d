//! Events: reading JSON input, normalising records into Sigma field names, and working out which log source
//! an event comes from so that a rule only sees the events it was written for.
//!
//! [`normalise`] accepts
//! - Windows event-log records as JSON (`{"Event": {"System": ..., "EventData": ...}}`, the shape `evtx_dump`
//!   and similar tools produce), including `EventData` fields whose names hold spaces (Windows Defender's
//!   `Threat Name` becomes `ThreatName`, the name Sigma rules use) and `UserData` payloads;
//! - already-flat Windows records (`{"EventID": 1, "Channel": "...", "CommandLine": ...}`);
//! - Elastic Common Schema documents (Winlogbeat, Elastic Agent, Auditbeat): `winlog.*` is lifted to the
//!   Windows names and the common `process.*`, `file.*`, `source.*`... fields get their Sigma aliases;
//! - anything else, kept as it is (rules then address nested fields with dots).
//!
//! The log source comes from the record itself: the Windows channel gives the service (`Security` →
//! `security`, `Microsoft-Windows-Sysmon/Operational` → `sysmon`), a Sysmon event ID gives the category
//! (1 → `process_creation`, 13 → `registry_set` and `registry_event`), ECS `event.category`/`event.type` give a
//! category for other products. A record may also say it outright with a `logsource` object
//! (`{"logsource": {"product": "linux", "category": "process_creation"}, ...}`).
//!
//! ```
//! use secops_detect::events::normalise;
//! use serde_json::json;
//!
//! let event = normalise(json!({"Event": {
//!     "System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
//!                "TimeCreated": {"#attributes": {"SystemTime": "2025-11-27T07:40:10.165Z"}}},
//!     "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"}
//! }})).unwrap();
//! assert_eq!(event.logsource().product.as_deref(), Some("windows"));
//! assert_eq!(event.logsource().service.as_deref(), Some("sysmon"));
//! assert_eq!(event.logsource().categories, ["process_creation"]);
//! assert_eq!(event.field("CommandLine").and_then(|v| v.as_str()), Some("cmd /c whoami"));
//! assert_eq!(event.timestamp().map(|t| t.timestamp()), Some(1_764_229_210));
//! ```

mod ecs;
mod input;
mod time;
mod windows;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::DetectError;

pub use input::{EventReader, read_events};
pub use time::parse_timestamp;
pub use windows::{sysmon_categories, windows_service_for_channel};

/// The log source an event belongs to, in Sigma's terms, lower-cased.
///
/// An event can belong to several categories at once: a Sysmon registry value write (event 13) is both
/// `registry_set` and `registry_event`, as Sigma defines them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventLogSource {
    /// e.g. `windows`, `linux`, `aws`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// e.g. `security`, `sysmon`, `cloudtrail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// e.g. `process_creation`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

impl EventLogSource {
    /// A log source with only a product.
    pub fn product(product: &str) -> Self {
        EventLogSource {
            product: Some(product.to_ascii_lowercase()),
            ..Default::default()
        }
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.product.is_none() && self.service.is_none() && self.categories.is_empty()
    }

    /// Fill in what this one does not know from `other`.
    pub fn or(mut self, other: &EventLogSource) -> Self {
        if self.product.is_none() {
            self.product.clone_from(&other.product);
        }
        if self.service.is_none() {
            self.service.clone_from(&other.service);
        }
        if self.categories.is_empty() {
            self.categories.clone_from(&other.categories);
        }
        self
    }

    fn add_category(&mut self, category: &str) {
        if !self.categories.iter().any(|c| c == category) {
            self.categories.push(category.to_owned());
        }
    }
}

/// An event ready for rules: a flat JSON object under Sigma field names, its log source and its time.
///
/// The fields sit behind an [`Arc`] so that every detection of the event can carry it without a copy.
#[derive(Debug, Clone)]
pub struct NormalisedEvent {
    fields: Arc<Value>,
    logsource: EventLogSource,
    timestamp: Option<DateTime<Utc>>,
}

impl NormalisedEvent {
    /// An event from fields that are already under Sigma names, with a log source given by the caller.
    pub fn from_parts(
        fields: Map<String, Value>,
        logsource: EventLogSource,
        timestamp: Option<DateTime<Utc>>,
    ) -> Self {
        NormalisedEvent {
            fields: Arc::new(Value::Object(fields)),
            logsource,
            timestamp,
        }
    }

    /// The fields, as one JSON object.
    pub fn fields(&self) -> &Value {
        &self.fields
    }

    /// The fields, shared.
    pub fn fields_shared(&self) -> Arc<Value> {
        Arc::clone(&self.fields)
    }

    /// One top-level field.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// Where the event comes from.
    pub fn logsource(&self) -> &EventLogSource {
        &self.logsource
    }

    /// When it happened, from the record itself (never the time it was read).
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        self.timestamp
    }
}

/// How to normalise.
#[derive(Debug, Clone, Default)]
pub struct NormaliseOptions {
    /// What to assume for the parts of the log source a record does not reveal.
    pub default_logsource: EventLogSource,
    /// Extra event-side field mappings, `(field in the record, Sigma field)`: the value is copied under the
    /// Sigma name when the record has the field and lacks the Sigma one. Dotted names reach nested fields.
    pub field_map: Vec<(String, String)>,
}

/// Normalise one record with the default options.
pub fn normalise(record: Value) -> Result<NormalisedEvent, DetectError> {
    normalise_with(record, &NormaliseOptions::default())
}

/// Normalise one record.
pub fn normalise_with(record: Value, options: &NormaliseOptions) -> Result<NormalisedEvent, DetectError> {
    let Value::Object(mut object) = record else {
        return Err(DetectError::NotAnObject(kind_of(&record)));
    };
    // A record that names its own log source wins over anything inferred from its fields.
    let explicit = match object.remove("logsource") {
        Some(Value::Object(ls)) => Some(logsource_from_object(&ls)),
        Some(other) => {
            object.insert("logsource".to_owned(), other);
            None
        }
        None => None,
    };
    let evtx = matches!(object.get("Event"), Some(Value::Object(event)) if event.contains_key("System"));
    let (mut fields, inferred, timestamp) = if evtx {
        match object.remove("Event") {
            Some(Value::Object(event)) => windows::from_evtx(event),
            _ => (Map::new(), EventLogSource::default(), None),
        }
    } else if windows::looks_flat(&object) {
        windows::from_flat(object)
    } else {
        ecs::from_document(object)
    };
    for (from, to) in &options.field_map {
        if fields.contains_key(to) {
            continue;
        }
        if let Some(value) = lookup(&fields, from).cloned() {
            fields.insert(to.clone(), value);
        }
    }
    let logsource = match explicit {
        Some(explicit) => explicit.or(&inferred),
        None => inferred,
    }
    .or(&options.default_logsource);
    Ok(NormalisedEvent {
        fields: Arc::new(Value::Object(fields)),
        logsource,
        timestamp,
    })
}

fn logsource_from_object(ls: &Map<String, Value>) -> EventLogSource {
    let text = |key: &str| {
        ls.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
    };
    let mut logsource = EventLogSource {
        product: text("product"),
        service: text("service"),
        categories: Vec::new(),
    };
    match ls.get("category") {
        Some(Value::String(c)) => logsource.add_category(&c.to_ascii_lowercase()),
        Some(Value::Array(cs)) => {
            for c in cs.iter().filter_map(Value::as_str) {
                logsource.add_category(&c.to_ascii_lowercase());
            }
        }
        _ => {}
    }
    logsource
}

/// A field by flat key first, then by dotted path through nested objects.
pub(crate) fn lookup<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = fields.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut current = fields.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn explicit_logsource_wins_and_is_removed() {
        let e = normalise(
            json!({"logsource": {"product": "Linux", "category": "process_creation"}, "CommandLine": "id"}),
        )
        .unwrap();
        assert_eq!(e.logsource().product.as_deref(), Some("linux"));
        assert_eq!(e.logsource().categories, ["process_creation"]);
        assert!(e.field("logsource").is_none());
    }

    #[test]
    fn field_map_adds_sigma_names() {
        let options = NormaliseOptions {
            field_map: vec![("proc.cmd".into(), "CommandLine".into())],
            ..Default::default()
        };
        let e = normalise_with(json!({"proc": {"cmd": "whoami"}}), &options).unwrap();
        assert_eq!(e.field("CommandLine"), Some(&json!("whoami")));
    }

    #[test]
    fn non_objects_are_refused() {
        assert!(matches!(
            normalise(json!([1])),
            Err(DetectError::NotAnObject("an array"))
        ));
    }
}
