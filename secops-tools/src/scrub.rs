//! Removing secrets from text that goes back to a model, a log or an API client.

use base64::Engine;

/// Secret values to remove from text, longest first so a secret that contains another is removed whole.
#[derive(Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} values, [REDACTED])", self.values.len())
    }
}

/// Shorter values would scrub ordinary words; a credential that short is not worth hiding anyway.
const MIN_LEN: usize = 4;

impl Secrets {
    /// No secrets.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value`, and its base64 form, which is how it travels in HTTP Basic credentials and some headers.
    pub fn add(&mut self, value: &str) -> &mut Self {
        if value.len() >= MIN_LEN && !self.values.iter().any(|v| v == value) {
            self.values.push(value.to_owned());
            self.values
                .push(base64::engine::general_purpose::STANDARD.encode(value));
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
        self
    }

    /// Adds `user:password` as HTTP Basic encodes it, besides the password itself.
    pub fn add_basic(&mut self, user: &str, password: &str) -> &mut Self {
        self.add(password);
        self.add(&format!("{user}:{password}"))
    }

    /// Adds every string inside `json` (the credentials object of a tool configuration).
    pub fn add_json(&mut self, json: &serde_json::Value) -> &mut Self {
        match json {
            serde_json::Value::String(s) => {
                self.add(s);
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    self.add_json(v);
                }
            }
            serde_json::Value::Object(map) => {
                for v in map.values() {
                    self.add_json(v);
                }
            }
            _ => {}
        }
        self
    }

    /// Whether there is nothing to scrub.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret replaced by `[REDACTED]`.
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.values {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[REDACTED]");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_plain_base64_and_basic_forms() {
        let mut s = Secrets::new();
        s.add_basic("analyst@example.com", "tok-SECRET-1");
        let basic = base64::engine::general_purpose::STANDARD.encode("analyst@example.com:tok-SECRET-1");
        let text = format!("token tok-SECRET-1, header Basic {basic}");
        assert_eq!(s.scrub(&text), "token [REDACTED], header Basic [REDACTED]");
        assert_eq!(s.scrub("abc"), "abc");
    }

    #[test]
    fn short_values_are_left_alone() {
        let mut s = Secrets::new();
        s.add("ab");
        assert!(s.is_empty());
        assert_eq!(s.scrub("ab cd"), "ab cd");
    }
}
