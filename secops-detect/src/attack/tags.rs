//! Sigma's `attack.*` tags.

use serde::Serialize;

/// What an `attack.*` tag names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AttackTag {
    /// A technique or sub-technique, upper-case: `T1059`, `T1059.001`.
    Technique(String),
    /// A tactic by short name, after renames: `execution`, `stealth`.
    Tactic(String),
    /// A tactic by ID, upper-case: `TA0002`.
    TacticId(String),
    /// A group: `G0010`.
    Group(String),
    /// A software entry: `S0002`.
    Software(String),
    /// Another `attack.*` tag (e.g. a data source), kept as written after `attack.`.
    Other(String),
}

/// Tactic names that ATT&CK has changed. Defense Evasion (TA0005) became Stealth when Defense Impairment
/// (TA0112) was split from it; rules written before still say `attack.defense-evasion`.
const RENAMED_TACTICS: &[(&str, &str)] = &[("defense-evasion", "stealth")];

/// The tactic short names of Enterprise ATT&CK in matrix order: for telling a tactic tag from an unknown one
/// without a catalogue at hand, and for ordering the tactics of catalogues that do not give an order.
pub(crate) const TACTIC_NAMES: &[&str] = &[
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "stealth",
    "defense-impairment",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// A tactic's current short name: lower-case, `-` for `_`, renamed tactics under their new name.
///
/// ```
/// use secops_detect::attack::tactic_shortname;
///
/// assert_eq!(tactic_shortname("Privilege_Escalation"), "privilege-escalation");
/// assert_eq!(tactic_shortname("defense_evasion"), "stealth");
/// ```
pub fn tactic_shortname(name: &str) -> String {
    let name = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    RENAMED_TACTICS
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| (*new).to_owned())
}

/// Parse one Sigma tag; `None` for tags outside the `attack` namespace.
///
/// ```
/// use secops_detect::attack::{AttackTag, parse_tag};
///
/// assert_eq!(parse_tag("attack.t1059.001"), Some(AttackTag::Technique("T1059.001".into())));
/// assert_eq!(parse_tag("attack.defense-evasion"), Some(AttackTag::Tactic("stealth".into())));
/// assert_eq!(parse_tag("attack.ta0002"), Some(AttackTag::TacticId("TA0002".into())));
/// assert_eq!(parse_tag("attack.g0010"), Some(AttackTag::Group("G0010".into())));
/// assert_eq!(parse_tag("cve.2021-44228"), None);
/// ```
pub fn parse_tag(tag: &str) -> Option<AttackTag> {
    let tag = tag.trim();
    let (namespace, rest) = tag.split_once('.')?;
    if !namespace.eq_ignore_ascii_case("attack") || rest.is_empty() {
        return None;
    }
    let lower = rest.to_ascii_lowercase();
    if is_technique(&lower) {
        return Some(AttackTag::Technique(lower.to_ascii_uppercase()));
    }
    if let Some(digits) = lower.strip_prefix("ta")
        && is_digits(digits, 4)
    {
        return Some(AttackTag::TacticId(lower.to_ascii_uppercase()));
    }
    for (prefix, make) in [
        ("g", AttackTag::Group as fn(String) -> AttackTag),
        ("s", AttackTag::Software as fn(String) -> AttackTag),
    ] {
        if let Some(digits) = lower.strip_prefix(prefix)
            && is_digits(digits, 4)
        {
            return Some(make(lower.to_ascii_uppercase()));
        }
    }
    let tactic = tactic_shortname(&lower);
    if TACTIC_NAMES.contains(&tactic.as_str()) {
        return Some(AttackTag::Tactic(tactic));
    }
    Some(AttackTag::Other(rest.to_owned()))
}

/// `t1234` or `t1234.567`.
fn is_technique(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('t') else {
        return false;
    };
    match rest.split_once('.') {
        Some((main, sub)) => is_digits(main, 4) && is_digits(sub, 3),
        None => is_digits(rest, 4),
    }
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// The ATT&CK content of a rule's tags, deduplicated, in tag order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttackTags {
    /// Technique and sub-technique IDs.
    pub techniques: Vec<String>,
    /// Tactic short names; tactic IDs are resolved through the embedded catalogue.
    pub tactics: Vec<String>,
    /// Group IDs.
    pub groups: Vec<String>,
    /// Software IDs.
    pub software: Vec<String>,
}

impl AttackTags {
    /// Sort a rule's tags out.
    ///
    /// ```
    /// use secops_detect::attack::AttackTags;
    ///
    /// let tags = AttackTags::from_tags(["attack.execution", "attack.t1059.001", "attack.TA0005", "attack.t1059.001"]);
    /// assert_eq!(tags.techniques, ["T1059.001"]);
    /// assert_eq!(tags.tactics, ["execution", "stealth"]);
    /// ```
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out = AttackTags::default();
        let push = |list: &mut Vec<String>, value: String| {
            if !list.contains(&value) {
                list.push(value);
            }
        };
        for tag in tags {
            match parse_tag(tag) {
                Some(AttackTag::Technique(t)) => push(&mut out.techniques, t),
                Some(AttackTag::Tactic(t)) => push(&mut out.tactics, t),
                Some(AttackTag::TacticId(id)) => {
                    if let Some(tactic) = super::Catalogue::embedded().tactic(&id) {
                        push(&mut out.tactics, tactic.shortname.clone());
                    }
                }
                Some(AttackTag::Group(g)) => push(&mut out.groups, g),
                Some(AttackTag::Software(s)) => push(&mut out.software, s),
                Some(AttackTag::Other(_)) | None => {}
            }
        }
        out
    }
}
