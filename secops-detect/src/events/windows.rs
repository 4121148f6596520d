//! Windows event-log records: flattening to Sigma field names, channel → service, event ID → category.

use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};

use super::EventLogSource;
use super::time::{parse_timestamp, timestamp_of};

/// Sigma's Windows services and the channels they read, as the SigmaHQ Windows pipeline defines them. Keys are
/// lower-case channel names.
const CHANNEL_SERVICES: &[(&str, &str)] = &[
    ("security", "security"),
    ("system", "system"),
    ("application", "application"),
    ("microsoft-windows-sysmon/operational", "sysmon"),
    ("linux-sysmon/operational", "sysmon"),
    ("microsoft-windows-powershell/operational", "powershell"),
    ("powershellcore/operational", "powershell"),
    ("windows powershell", "powershell-classic"),
    ("microsoft-windows-taskscheduler/operational", "taskscheduler"),
    ("microsoft-windows-wmi-activity/operational", "wmi"),
    ("microsoft-windows-windows defender/operational", "windefend"),
    (
        "microsoft-windows-windows firewall with advanced security/firewall",
        "firewall-as",
    ),
    ("microsoft-windows-bits-client/operational", "bits-client"),
    (
        "microsoft-windows-codeintegrity/operational",
        "codeintegrity-operational",
    ),
    ("microsoft-windows-dns client events/operational", "dns-client"),
    ("dns server", "dns-server"),
    ("microsoft-windows-dns-server/analytical", "dns-server-analytic"),
    ("microsoft-windows-dns-server/audit", "dns-server-audit"),
    (
        "microsoft-windows-driverframeworks-usermode/operational",
        "driver-framework",
    ),
    ("microsoft-windows-ntlm/operational", "ntlm"),
    ("microsoft-windows-dhcp-server/operational", "dhcp"),
    ("msexchange management", "msexchange-management"),
    ("microsoft-windows-applocker/msi and script", "applocker"),
    ("microsoft-windows-applocker/exe and dll", "applocker"),
    ("microsoft-windows-applocker/packaged app-deployment", "applocker"),
    ("microsoft-windows-applocker/packaged app-execution", "applocker"),
    ("microsoft-windows-printservice/admin", "printservice-admin"),
    (
        "microsoft-windows-printservice/operational",
        "printservice-operational",
    ),
    ("microsoft-windows-smbclient/security", "smbclient-security"),
    (
        "microsoft-windows-smbclient/connectivity",
        "smbclient-connectivity",
    ),
    (
        "microsoft-windows-smbserver/connectivity",
        "smbserver-connectivity",
    ),
    (
        "microsoft-windows-appxdeploymentserver/operational",
        "appxdeployment-server",
    ),
    ("microsoft-windows-appxpackaging/operational", "appxpackaging-om"),
    ("microsoft-windows-appmodel-runtime/admin", "appmodel-runtime"),
    ("microsoft-windows-capi2/operational", "capi2"),
    (
        "microsoft-windows-certificateservicesclient-lifecycle-system/operational",
        "certificateservicesclient-lifecycle-system",
    ),
    (
        "microsoft-windows-diagnosis-scripted/operational",
        "diagnosis-scripted",
    ),
    (
        "microsoft-windows-iis-configuration/operational",
        "iis-configuration",
    ),
    (
        "microsoft-windows-iis-configuration/administrative",
        "iis-configuration",
    ),
    ("microsoft-windows-ldap-client/debug", "ldap"),
    ("microsoft-windows-lsa/operational", "lsa-server"),
    ("openssh/operational", "openssh"),
    (
        "microsoft-windows-security-mitigations/kernel mode",
        "security-mitigations",
    ),
    (
        "microsoft-windows-security-mitigations/user mode",
        "security-mitigations",
    ),
    ("microsoft-windows-shell-core/operational", "shell-core"),
    (
        "microsoft-windows-terminalservices-localsessionmanager/operational",
        "terminalservices-localsessionmanager",
    ),
    ("microsoft-servicebus-client", "microsoft-servicebus-client"),
    ("microsoft-windows-bitlocker/bitlocker management", "bitlocker"),
    ("microsoft-windows-vhdmp/operational", "vhdmp"),
    (
        "microsoft-windows-kernel-shimengine/operational",
        "kernel-shimengine",
    ),
    ("microsoft-windows-hyper-v-worker", "hyper-v-worker"),
];

/// The Sigma service of a Windows event-log channel.
///
/// Channels that the table does not know map to the channel name, lower-cased, without a leading
/// `Microsoft-Windows-` and a trailing `/Operational`: `Microsoft-Windows-Foo/Operational` → `foo`.
///
/// ```
/// use secops_detect::events::windows_service_for_channel;
///
/// assert_eq!(windows_service_for_channel("Security"), "security");
/// assert_eq!(windows_service_for_channel("Microsoft-Windows-Windows Defender/Operational"), "windefend");
/// assert_eq!(windows_service_for_channel("Microsoft-Windows-Foo/Operational"), "foo");
/// ```
pub fn windows_service_for_channel(channel: &str) -> String {
    let lower = channel.trim().to_ascii_lowercase();
    if let Some((_, service)) = CHANNEL_SERVICES.iter().find(|(c, _)| *c == lower) {
        return (*service).to_owned();
    }
    let short = lower.strip_prefix("microsoft-windows-").unwrap_or(&lower);
    let short = short.strip_suffix("/operational").unwrap_or(short);
    short.to_owned()
}

/// The Sigma categories of a Sysmon event ID (Windows and Linux Sysmon share them).
///
/// ```
/// use secops_detect::events::sysmon_categories;
///
/// assert_eq!(sysmon_categories(1), ["process_creation"]);
/// assert_eq!(sysmon_categories(13), ["registry_set", "registry_event"]);
/// assert!(sysmon_categories(999).is_empty());
/// ```
pub fn sysmon_categories(event_id: i64) -> &'static [&'static str] {
    match event_id {
        1 => &["process_creation"],
        2 => &["file_change"],
        3 => &["network_connection"],
        4 | 16 => &["sysmon_status"],
        5 => &["process_termination"],
        6 => &["driver_load"],
        7 => &["image_load"],
        8 => &["create_remote_thread"],
        9 => &["raw_access_thread"],
        10 => &["process_access"],
        11 => &["file_event"],
        // Sigma splits event 12 by what happened to the key: created (registry_add) or deleted
        // (registry_delete); `registry_event` covers 12, 13 and 14 together.
        12 => &["registry_add", "registry_delete", "registry_event"],
        13 => &["registry_set", "registry_event"],
        14 => &["registry_rename", "registry_event"],
        15 => &["create_stream_hash"],
        17 | 18 => &["pipe_created"],
        19..=21 => &["wmi_event"],
        22 => &["dns_query"],
        23 => &["file_delete"],
        24 => &["clipboard_capture"],
        25 => &["process_tampering"],
        26 => &["file_delete_detected"],
        27 => &["file_block_executable"],
        28 => &["file_block_shredding"],
        29 => &["file_executable_detected"],
        255 => &["sysmon_error"],
        _ => &[],
    }
}

/// Categories of events from other services: PowerShell's script-block and module logging, the classic
/// PowerShell log, and process creation audited by the Security log.
fn service_categories(service: &str, event_id: i64) -> &'static [&'static str] {
    match (service, event_id) {
        ("sysmon", id) => sysmon_categories(id),
        ("powershell", 4103) => &["ps_module"],
        ("powershell", 4104) => &["ps_script"],
        ("powershell-classic", 400) => &["ps_classic_start"],
        ("powershell-classic", 600) => &["ps_classic_provider_start"],
        ("powershell-classic", 800) => &["ps_classic_script"],
        ("security", 4688) => &["process_creation"],
        _ => &[],
    }
}

/// Sigma field names for Security 4688 fields, so that `process_creation` rules read audited process
/// creation as they read Sysmon's.
const SECURITY_4688_ALIASES: &[(&str, &str)] =
    &[("NewProcessName", "Image"), ("ParentProcessName", "ParentImage")];

/// Whether an object is a flat Windows record (`EventID` and `Channel` at the top).
pub(super) fn looks_flat(object: &Map<String, Value>) -> bool {
    object.contains_key("Channel") && (object.contains_key("EventID") || object.contains_key("EventId"))
}

/// A flat Windows record: keep the fields, fix names with spaces, work out the log source.
pub(super) fn from_flat(
    mut object: Map<String, Value>,
) -> (Map<String, Value>, EventLogSource, Option<DateTime<Utc>>) {
    if !object.contains_key("EventID")
        && let Some(id) = object.get("EventId").cloned()
    {
        object.insert("EventID".to_owned(), id);
    }
    if let Some(id) = object.get_mut("EventID") {
        *id = event_id_value(id);
    }
    let spaced: Vec<(String, Value)> = object
        .iter()
        .filter(|(k, _)| k.contains(' '))
        .map(|(k, v)| (k.replace(' ', ""), v.clone()))
        .collect();
    for (k, v) in spaced {
        object.entry(k).or_insert(v);
    }
    let timestamp = timestamp_of(
        &object,
        &["TimeCreated", "SystemTime", "@timestamp", "timestamp", "UtcTime"],
    );
    let logsource = windows_logsource(&mut object);
    (object, logsource, timestamp)
}

/// An `{"Event": {"System": ..., "EventData": ...}}` record, taken apart without copying its values.
pub(super) fn from_evtx(
    mut event: Map<String, Value>,
) -> (Map<String, Value>, EventLogSource, Option<DateTime<Utc>>) {
    // EventData holds most of a record: keep its map and add the System fields to it rather than move every
    // field into a new one. EventData wins where both have a field, System fields go in only when free.
    let mut fields = match event.remove("EventData") {
        Some(Value::Object(data)) if !data.contains_key("Data") => plain_event_data(data),
        Some(other) => {
            let mut fields = Map::new();
            flatten_data(other, &mut fields);
            fields
        }
        None => Map::new(),
    };
    let mut timestamp = None;
    if let Some(Value::Object(system)) = event.remove("System") {
        for (key, value) in system {
            match key.as_str() {
                "Provider" => {
                    if let Some(attrs) = into_attributes(value) {
                        for (k, v) in attrs {
                            // Sigma's names: Provider_Name, Provider_Guid, Provider_EventSourceName.
                            fields.entry(format!("Provider_{k}")).or_insert(v);
                        }
                    }
                }
                "TimeCreated" => {
                    let time = match value {
                        Value::String(s) => Some(s),
                        other => match into_attributes(other).and_then(|mut a| a.remove("SystemTime")) {
                            Some(Value::String(s)) => Some(s),
                            _ => None,
                        },
                    };
                    if let Some(time) = time {
                        timestamp = parse_timestamp(&time);
                        fields.entry("TimeCreated").or_insert(Value::String(time));
                    }
                }
                "EventID" => {
                    fields.entry(key).or_insert_with(|| event_id_value(&value));
                }
                "Execution" | "Security" | "Correlation" => {
                    // `ProcessID`/`ThreadID` of the logging process, `UserID` of the account, `ActivityID`.
                    // Prefixed so they cannot shadow EventData fields of the same name.
                    if let Some(attrs) = into_attributes(value) {
                        for (k, v) in attrs {
                            fields.entry(format!("{key}_{k}")).or_insert(v);
                        }
                    }
                }
                _ => {
                    if !value.is_object() {
                        fields.entry(key).or_insert(value);
                    }
                }
            }
        }
    }
    if let Some(Value::Object(user_data)) = event.remove("UserData") {
        // UserData wraps its fields in one provider-specific element, e.g. `Operation_ClientFailure`.
        for (key, inner) in user_data {
            if key.starts_with('#') {
                continue;
            }
            match inner {
                Value::Object(_) => flatten_data(inner, &mut fields),
                other => {
                    fields.entry(key).or_insert(other);
                }
            }
        }
    }
    let logsource = windows_logsource(&mut fields);
    (fields, logsource, timestamp)
}

/// EventData that is a plain object of named values, as the map of the normalised event: markup keys
/// (`#attributes`, `@xmlns`) dropped, names with spaces also present without them.
fn plain_event_data(mut data: Map<String, Value>) -> Map<String, Value> {
    data.retain(|k, _| !k.starts_with('#') && !k.starts_with('@'));
    let spaced: Vec<(String, Value)> = data
        .iter()
        .filter(|(k, _)| k.contains(' '))
        .map(|(k, v)| (k.replace(' ', ""), v.clone()))
        .collect();
    for (k, v) in spaced {
        data.insert(k, v);
    }
    data
}

/// EventData as an object of named values, or as `Data` elements (`[{"#attributes": {"Name": ..}, "#text": ..}]`,
/// `[{"@Name": .., "#text": ..}]` or plain values).
pub(super) fn flatten_data(data: Value, fields: &mut Map<String, Value>) {
    let Value::Object(data) = data else {
        return;
    };
    for (key, value) in data {
        if key.starts_with('#') || key.starts_with('@') {
            continue;
        }
        if key == "Data" {
            let items = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            let mut unnamed = Vec::new();
            for item in items {
                match named_data(item) {
                    Ok((name, v)) => insert_field(fields, name, v),
                    Err(item) => unnamed.push(item),
                }
            }
            match unnamed.len() {
                0 => {}
                1 => insert_field(fields, key, unnamed.remove(0)),
                _ => insert_field(fields, key, Value::Array(unnamed)),
            }
            continue;
        }
        insert_field(fields, key, value);
    }
}

/// A `Data` element's name and value; the element back when it has no name.
fn named_data(item: Value) -> Result<(String, Value), Value> {
    let Value::Object(mut object) = item else {
        return Err(item);
    };
    let name = match object.get("#attributes").and_then(|a| a.get("Name")) {
        Some(Value::String(n)) => Some(n.clone()),
        _ => ["@Name", "Name"]
            .iter()
            .find_map(|k| object.get(*k).and_then(Value::as_str).map(str::to_owned)),
    };
    let Some(name) = name else {
        return Err(Value::Object(object));
    };
    let value = object
        .remove("#text")
        .or_else(|| object.remove("value"))
        .unwrap_or(Value::Null);
    Ok((name, value))
}

/// Insert an EventData field; a name with spaces also goes in without them, the form Sigma rules use.
fn insert_field(fields: &mut Map<String, Value>, key: String, value: Value) {
    if key.contains(' ') {
        fields.insert(key.replace(' ', ""), value.clone());
    }
    fields.insert(key, value);
}

fn into_attributes(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(mut o) => match o.remove("#attributes") {
            Some(Value::Object(a)) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

/// An event ID as a number: `4688`, `"4688"` and `{"#text": 4688, "#attributes": {"Qualifiers": ..}}` alike.
pub(super) fn event_id_value(value: &Value) -> Value {
    let inner = value.get("#text").unwrap_or(value);
    match inner {
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(|n| Value::Number(Number::from(n)))
            .unwrap_or_else(|_| inner.clone()),
        other => other.clone(),
    }
}

pub(super) fn windows_logsource(fields: &mut Map<String, Value>) -> EventLogSource {
    let channel = fields.get("Channel").and_then(Value::as_str).unwrap_or_default();
    let product = if channel.to_ascii_lowercase().starts_with("linux-") {
        "linux"
    } else {
        "windows"
    };
    let mut logsource = EventLogSource::product(product);
    if channel.is_empty() {
        return logsource;
    }
    let service = windows_service_for_channel(channel);
    if let Some(id) = fields.get("EventID").and_then(Value::as_i64) {
        for category in service_categories(&service, id) {
            logsource.add_category(category);
        }
        if service == "security" && id == 4688 {
            for (from, to) in SECURITY_4688_ALIASES {
                if !fields.contains_key(*to)
                    && let Some(v) = fields.get(*from).cloned()
                {
                    fields.insert((*to).to_owned(), v);
                }
            }
        }
    }
    logsource.service = Some(service);
    logsource
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defender_fields_with_spaces_get_sigma_names() {
        let event = json!({
            "System": {"EventID": 1119, "Channel": "Microsoft-Windows-Windows Defender/Operational",
                       "Provider": {"#attributes": {"Name": "Microsoft-Windows-Windows Defender"}}},
            "EventData": {"Threat Name": "Virus:DOS/EICAR_Test_File", "Source Name": "Real-Time Protection"}
        });
        let (fields, ls, _) = from_evtx(event.as_object().unwrap().clone());
        assert_eq!(fields["ThreatName"], "Virus:DOS/EICAR_Test_File");
        assert_eq!(fields["Threat Name"], "Virus:DOS/EICAR_Test_File");
        assert_eq!(fields["Provider_Name"], "Microsoft-Windows-Windows Defender");
        assert_eq!(ls.service.as_deref(), Some("windefend"));
        assert!(ls.categories.is_empty());
    }

    #[test]
    fn data_elements_and_user_data_are_flattened() {
        let event = json!({
            "System": {"EventID": {"#text": "4688", "#attributes": {"Qualifiers": 0}}, "Channel": "Security"},
            "EventData": {"Data": [
                {"#attributes": {"Name": "NewProcessName"}, "#text": "C:\\Windows\\System32\\whoami.exe"},
                {"@Name": "CommandLine", "#text": "whoami /all"}
            ]},
        });
        let (fields, ls, _) = from_evtx(event.as_object().unwrap().clone());
        assert_eq!(fields["EventID"], 4688);
        assert_eq!(fields["Image"], "C:\\Windows\\System32\\whoami.exe");
        assert_eq!(fields["CommandLine"], "whoami /all");
        assert_eq!(ls.categories, ["process_creation"]);

        let event = json!({
            "System": {"EventID": 5858, "Channel": "Microsoft-Windows-WMI-Activity/Operational"},
            "UserData": {"Operation_ClientFailure": {"#attributes": {"xmlns": "x"}, "Operation": "ExecMethod"}}
        });
        let (fields, ls, _) = from_evtx(event.as_object().unwrap().clone());
        assert_eq!(fields["Operation"], "ExecMethod");
        assert!(!fields.contains_key("#attributes"));
        assert_eq!(ls.service.as_deref(), Some("wmi"));
    }

    #[test]
    fn flat_records_and_linux_sysmon() {
        let (fields, ls, ts) = from_flat(
            json!({"EventID": "3", "Channel": "Linux-Sysmon/Operational", "UtcTime": "2024-01-02 03:04:05.000"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(fields["EventID"], 3);
        assert_eq!(ls.product.as_deref(), Some("linux"));
        assert_eq!(ls.service.as_deref(), Some("sysmon"));
        assert_eq!(ls.categories, ["network_connection"]);
        assert!(ts.is_some());
    }
}
