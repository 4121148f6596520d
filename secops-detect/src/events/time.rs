//! Event timestamps.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

/// Parse an event time: RFC 3339 (`2025-11-27T07:40:10.165324Z`), Sysmon's `UtcTime`
/// (`2025-11-27 07:40:10.132`, read as UTC), or seconds / milliseconds since the Unix epoch as text.
///
/// ```
/// use secops_detect::events::parse_timestamp;
///
/// let t = parse_timestamp("2025-11-27 07:40:10.132").unwrap();
/// assert_eq!(t, parse_timestamp("2025-11-27T07:40:10.132Z").unwrap());
/// assert_eq!(parse_timestamp("1764229210").unwrap().timestamp(), 1_764_229_210);
/// assert!(parse_timestamp("yesterday").is_none());
/// ```
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(n) = text.parse::<i64>() {
        return from_epoch(n);
    }
    None
}

/// Seconds or, for values too large to be seconds in this era, milliseconds since the epoch.
fn from_epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.unsigned_abs() >= 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

/// The first of `keys` that holds a time.
pub(super) fn timestamp_of(object: &Map<String, Value>, keys: &[&str]) -> Option<DateTime<Utc>> {
    keys.iter().find_map(|key| match object.get(*key)? {
        Value::String(s) => parse_timestamp(s),
        Value::Number(n) => from_epoch(n.as_i64()?),
        Value::Object(o) => match o.get("#attributes").and_then(|a| a.get("SystemTime")) {
            Some(Value::String(s)) => parse_timestamp(s),
            _ => None,
        },
        _ => None,
    })
}
