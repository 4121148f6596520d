//! Logsource routing: which rules see which events.

use std::str::FromStr;

use crate::events::EventLogSource;
use crate::rules::RuleLogSource;

/// How events are routed to rules by log source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Routing {
    /// A rule sees an event only when the event has every part of the rule's log source: a
    /// `windows/process_creation` rule sees Sysmon event 1 and Security 4688, not Sysmon event 3, and not
    /// an event whose product is unknown. Rules without a log source see everything.
    #[default]
    Strict,
    /// A rule is skipped only when the event's log source contradicts it; what the event does not say
    /// does not count against the rule. For events whose log source is partly unknown.
    Lenient,
    /// Every rule sees every event.
    Off,
}

impl Routing {
    /// Whether a rule reading `rule` sees an event from `event`.
    ///
    /// ```
    /// use secops_detect::engine::Routing;
    /// use secops_detect::events::EventLogSource;
    /// use secops_detect::rules::RuleLogSource;
    ///
    /// let rule = RuleLogSource { product: Some("windows".into()), category: Some("registry_set".into()), service: None };
    /// let sysmon_13 = EventLogSource {
    ///     product: Some("windows".into()),
    ///     service: Some("sysmon".into()),
    ///     categories: vec!["registry_set".into(), "registry_event".into()],
    /// };
    /// assert!(Routing::Strict.accepts(&rule, &sysmon_13));
    /// assert!(!Routing::Strict.accepts(&rule, &EventLogSource::product("windows")));
    /// assert!(Routing::Lenient.accepts(&rule, &EventLogSource::product("windows")));
    /// assert!(!Routing::Lenient.accepts(&rule, &EventLogSource::product("linux")));
    /// ```
    pub fn accepts(self, rule: &RuleLogSource, event: &EventLogSource) -> bool {
        fn one(rule: &Option<String>, event: &Option<String>, lenient: bool) -> bool {
            match (rule, event) {
                (None, _) => true,
                (Some(r), Some(e)) => r == e,
                (Some(_), None) => lenient,
            }
        }
        let lenient = match self {
            Routing::Off => return true,
            Routing::Strict => false,
            Routing::Lenient => true,
        };
        let category = match &rule.category {
            None => true,
            Some(_) if event.categories.is_empty() => lenient,
            Some(c) => event.categories.iter().any(|e| e == c),
        };
        category && one(&rule.product, &event.product, lenient) && one(&rule.service, &event.service, lenient)
    }
}

impl FromStr for Routing {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "strict" | "on" => Ok(Routing::Strict),
            "lenient" => Ok(Routing::Lenient),
            "off" | "none" => Ok(Routing::Off),
            other => Err(format!("unknown routing `{other}` (strict, lenient, off)")),
        }
    }
}
