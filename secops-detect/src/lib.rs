//! # secops-detect
//!
//! Detections for secops: Sigma rules run on security events, their matches described in ATT&CK terms,
//! and the coverage of a rule set measured against the ATT&CK catalogue.
//!
//! - [`rules`]: loading Sigma rules from files ([`rules::RuleSet`]), with a reason for each rule that does not
//!   load, status gating (only `stable` and `test` rules run by default), linting with line and column
//!   ([`rules::lint`]), and each rule's metadata, authors included: the Detection Rule License requires that
//!   they be shown with every match.
//! - [`events`]: reading JSON, JSON arrays and NDJSON; normalising Windows event-log records, Sysmon and ECS
//!   documents into Sigma field names; working out each event's log source.
//! - [`engine`]: the object-safe [`engine::DetectionEngine`] trait and its implementation on rsigma
//!   ([`engine::RsigmaEngine`]), with logsource routing so that a rule only sees events of its product,
//!   category and service.
//! - [`correlation`]: correlation rules (`event_count`, `value_count`, `temporal`...) with state per
//!   organisation, held by the caller and driven by event timestamps, in order even when events arrive out of
//!   order.
//! - [`pipeline`]: processing pipelines that map rule fields before compilation.
//! - [`attack`]: the embedded ATT&CK catalogue (© The MITRE Corporation, see [`attack::MITRE_NOTICE`]),
//!   replaceable by a STIX bundle, and Sigma's `attack.*` tags.
//! - [`coverage`]: techniques covered by a rule set, as data or as an ATT&CK Navigator layer.
//! - [`cli`]: what the `secops detect`, `secops rules lint` and `secops coverage` commands do.
//!
//! ```
//! use std::sync::Arc;
//! use secops_detect::correlation::{CorrelationOptions, CorrelationState};
//! use secops_detect::engine::RsigmaEngine;
//! use secops_detect::events::normalise;
//! use secops_detect::rules::{LoadOptions, RuleSet};
//! use serde_json::json;
//!
//! let rule = r#"
//! title: Scheduled Task Created From Temp
//! id: 4b1c0d2e-4444-4444-8444-444444444444
//! status: stable
//! author: Example Author
//! tags: [attack.persistence, attack.t1053.005]
//! logsource: {product: windows, category: process_creation}
//! detection:
//!     selection:
//!         Image|endswith: '\schtasks.exe'
//!         CommandLine|contains|all: ['/create', '\Temp\']
//!     condition: selection
//! level: high
//! "#;
//! let rules = RuleSet::from_sources([("schtasks.yml".into(), rule.to_owned())], &LoadOptions::default());
//! assert!(rules.failures().is_empty());
//! let engine = Arc::new(RsigmaEngine::new(&rules).unwrap());
//!
//! // Correlation state belongs to the caller, one per organisation.
//! let mut state = CorrelationState::new(engine, CorrelationOptions::default());
//! let event = normalise(json!({"Event": {
//!     "System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
//!                "TimeCreated": {"#attributes": {"SystemTime": "2025-06-01T12:00:00Z"}}},
//!     "EventData": {"Image": "C:\\Windows\\System32\\schtasks.exe",
//!                   "CommandLine": "schtasks /create /tn x /tr C:\\Users\\a\\AppData\\Local\\Temp\\x.exe"}
//! }})).unwrap();
//! let detections = state.process(&"org-1", &event).unwrap();
//! assert_eq!(detections.len(), 1);
//! let d = &detections[0];
//! assert_eq!(d.title, "Scheduled Task Created From Temp");
//! assert_eq!(d.authors, ["Example Author"]);
//! assert_eq!(d.techniques, ["T1053.005"]);
//! assert_eq!(d.tactics, ["persistence"]);
//! ```

pub mod attack;
pub mod cli;
pub mod correlation;
pub mod coverage;
pub mod engine;
pub mod error;
pub mod events;
pub mod pipeline;
pub mod rules;

pub use error::DetectError;
/// The Sigma parser whose types [`rules`] exposes (`=0.23.0`).
pub use rsigma_parser;
