//! Elastic Common Schema documents, and any other JSON document.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::time::timestamp_of;
use super::windows::{event_id_value, flatten_data, windows_logsource};
use super::{EventLogSource, lookup};

/// ECS fields and the Sigma names rules use for them (the reverse of SigmaHQ's ECS pipelines).
const ECS_ALIASES: &[(&str, &str)] = &[
    ("process.command_line", "CommandLine"),
    ("process.executable", "Image"),
    ("process.parent.executable", "ParentImage"),
    ("process.parent.command_line", "ParentCommandLine"),
    ("process.pid", "ProcessId"),
    ("process.parent.pid", "ParentProcessId"),
    ("process.entity_id", "ProcessGuid"),
    ("process.parent.entity_id", "ParentProcessGuid"),
    ("process.working_directory", "CurrentDirectory"),
    ("process.pe.original_file_name", "OriginalFileName"),
    ("process.pe.company", "Company"),
    ("process.pe.description", "Description"),
    ("process.pe.product", "Product"),
    ("process.pe.file_version", "FileVersion"),
    ("user.name", "User"),
    ("file.path", "TargetFilename"),
    ("dll.path", "ImageLoaded"),
    ("registry.path", "TargetObject"),
    ("registry.data.strings", "Details"),
    ("source.ip", "SourceIp"),
    ("source.port", "SourcePort"),
    ("source.domain", "SourceHostname"),
    ("destination.ip", "DestinationIp"),
    ("destination.port", "DestinationPort"),
    ("destination.domain", "DestinationHostname"),
    ("network.transport", "Protocol"),
    ("dns.question.name", "QueryName"),
];

const TIME_FIELDS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "EventTime",
    "eventTime",
    "TimeCreated",
];

pub(super) fn from_document(
    object: Map<String, Value>,
) -> (Map<String, Value>, EventLogSource, Option<DateTime<Utc>>) {
    let mut fields = object;
    let timestamp = timestamp_of(&fields, TIME_FIELDS);
    let mut logsource = if let Some(Value::Object(winlog)) = fields.get("winlog").cloned() {
        lift_winlog(&winlog, &mut fields)
    } else {
        EventLogSource::default()
    };
    if logsource.product.is_none() {
        logsource.product = os_product(&fields);
    }
    if logsource.categories.is_empty() {
        for category in ecs_categories(&fields) {
            logsource.add_category(category);
        }
    }
    for (ecs, sigma) in ECS_ALIASES {
        if !fields.contains_key(*sigma)
            && let Some(value) = lookup(&fields, ecs).cloned()
        {
            fields.insert((*sigma).to_owned(), value);
        }
    }
    (fields, logsource, timestamp)
}

/// Winlogbeat's `winlog` object: channel, event ID, provider and event data under their Windows names.
fn lift_winlog(winlog: &Map<String, Value>, fields: &mut Map<String, Value>) -> EventLogSource {
    let mut flat = Map::new();
    if let Some(channel) = winlog.get("channel") {
        flat.insert("Channel".to_owned(), channel.clone());
    }
    let event_id = winlog
        .get("event_id")
        .or_else(|| lookup(fields, "event.code"))
        .map(event_id_value);
    if let Some(id) = event_id {
        flat.insert("EventID".to_owned(), id);
    }
    for (from, to) in [("provider_name", "Provider_Name"), ("computer_name", "Computer")] {
        if let Some(v) = winlog.get(from) {
            flat.insert(to.to_owned(), v.clone());
        }
    }
    if let Some(data) = winlog.get("event_data") {
        flatten_data(data.clone(), &mut flat);
    }
    if let Some(data) = winlog.get("user_data") {
        flatten_data(data.clone(), &mut flat);
    }
    let logsource = windows_logsource(&mut flat);
    for (k, v) in flat {
        fields.entry(k).or_insert(v);
    }
    logsource
}

fn os_product(fields: &Map<String, Value>) -> Option<String> {
    let os = ["host.os.type", "host.os.family", "host.os.platform", "os.type"]
        .iter()
        .find_map(|path| lookup(fields, path).and_then(Value::as_str))?;
    match os.to_ascii_lowercase().as_str() {
        "windows" => Some("windows".to_owned()),
        "linux" | "debian" | "redhat" | "ubuntu" | "centos" | "rhel" => Some("linux".to_owned()),
        "macos" | "darwin" | "mac" => Some("macos".to_owned()),
        _ => None,
    }
}

/// Sigma categories from ECS `event.category` and `event.type`.
fn ecs_categories(fields: &Map<String, Value>) -> Vec<&'static str> {
    let values = |path: &str| -> Vec<String> {
        match lookup(fields, path) {
            Some(Value::String(s)) => vec![s.to_ascii_lowercase()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect(),
            _ => Vec::new(),
        }
    };
    let categories = values("event.category");
    let types = values("event.type");
    let has_type = |t: &str| types.iter().any(|x| x == t);
    let mut out = Vec::new();
    for category in &categories {
        match category.as_str() {
            "process" if has_type("start") => out.push("process_creation"),
            "process" if has_type("end") => out.push("process_termination"),
            "network" if types.is_empty() || has_type("connection") || has_type("start") => {
                out.push("network_connection");
            }
            "file" if has_type("deletion") => out.push("file_delete"),
            "file" if has_type("change") => out.push("file_change"),
            "file" if has_type("access") => out.push("file_access"),
            "file" => out.push("file_event"),
            "registry" if has_type("deletion") => out.extend(["registry_delete", "registry_event"]),
            "registry" => out.extend(["registry_set", "registry_event"]),
            "driver" => out.push("driver_load"),
            "library" => out.push("image_load"),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ecs_process_start_becomes_process_creation() {
        let doc = json!({
            "@timestamp": "2025-01-01T00:00:00Z",
            "host": {"os": {"type": "linux"}},
            "event": {"category": ["process"], "type": ["start"]},
            "process": {"executable": "/usr/bin/curl", "command_line": "curl http://x", "parent": {"executable": "/bin/sh"}}
        });
        let (fields, ls, ts) = from_document(doc.as_object().unwrap().clone());
        assert_eq!(ls.product.as_deref(), Some("linux"));
        assert_eq!(ls.categories, ["process_creation"]);
        assert_eq!(fields["Image"], "/usr/bin/curl");
        assert_eq!(fields["ParentImage"], "/bin/sh");
        assert_eq!(fields["CommandLine"], "curl http://x");
        assert!(ts.is_some());
    }

    #[test]
    fn winlogbeat_sysmon_is_lifted() {
        let doc = json!({
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "13",
                       "event_data": {"TargetObject": "HKLM\\Software\\X", "Details": "1"}},
            "event": {"code": "13"}
        });
        let (fields, ls, _) = from_document(doc.as_object().unwrap().clone());
        assert_eq!(ls.product.as_deref(), Some("windows"));
        assert_eq!(ls.service.as_deref(), Some("sysmon"));
        assert_eq!(ls.categories, ["registry_set", "registry_event"]);
        assert_eq!(fields["EventID"], 13);
        assert_eq!(fields["TargetObject"], "HKLM\\Software\\X");
    }
}
