//! Limits on what clients send, in one place: the types request bodies are made of check themselves while they
//! are parsed, so a body that breaks a limit is refused (422 `invalid_body`, naming the field) before a handler
//! runs and before anything is stored, and the OpenAPI schema of each type states the same limit.
//!
//! | input | limit |
//! | --- | --- |
//! | [`Password`] | 12 to 1,024 characters (so at most 4 KiB reaches the deliberately slow hash) |
//! | [`Name`] (names and titles) | trimmed, then 1 to 120 characters, no control characters |
//! | [`Email`] | 3 to 254 characters, one `@` with text on both sides, no control characters |
//! | [`AgentSettings`] | every number within the range its field documents; unknown keys refused |
//! | error details | quote at most [`QUOTE_LIMIT`] characters of what was sent ([`clip`]) |

mod agent;

pub use agent::{AgentSettings, ApprovalSettings, BudgetSettings, PricingSettings};

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

/// Fewest characters in a password.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Most characters in a password.
pub const PASSWORD_MAX_CHARS: usize = 1024;
/// Most characters in a name or title, after trimming.
pub const NAME_MAX_CHARS: usize = 120;
/// Most characters in an e-mail address (RFC 5321's path limit).
pub const EMAIL_MAX_CHARS: usize = 254;
/// Most characters of a client's input quoted back in an error detail.
pub const QUOTE_LIMIT: usize = 200;

/// The ECMA-262 (and Python `re`) pattern of a string without C0, DEL or C1 control characters, as
/// [`char::is_control`] defines them.
const NO_CONTROL_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

/// `text` cut to [`QUOTE_LIMIT`] characters, with `…` when it was longer: for error details that echo input.
#[must_use]
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Why a password is refused.
///
/// # Errors
/// When it is shorter than [`PASSWORD_MIN_CHARS`] or longer than [`PASSWORD_MAX_CHARS`] characters.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(format!(
            "the password must be at least {PASSWORD_MIN_CHARS} characters"
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(format!(
            "the password must be at most {PASSWORD_MAX_CHARS} characters"
        ));
    }
    Ok(())
}

/// A password presented at login: any length up to [`PASSWORD_MAX_CHARS`] (what was set before a limit changed
/// still works), so the slow hash check never runs over an unbounded input.
///
/// # Errors
/// 422 `invalid_body` for a longer one.
pub fn check_login_password(password: &str) -> Result<(), crate::error::ApiError> {
    if password.chars().count() > PASSWORD_MAX_CHARS {
        return Err(crate::error::ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("password: must be at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

fn string_schema(min: usize, max: usize, pattern: Option<&str>, description: &str) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .min_length(Some(min))
        .max_length(Some(max))
        .description(Some(description));
    if let Some(p) = pattern {
        b = b.pattern(Some(p));
    }
    RefOr::T(Schema::Object(b.build()))
}

/// A password as a client sends it: 12 to 1,024 characters. Never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The password.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The password, consumed (for hashing off the async threads).
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

impl TryFrom<String> for Password {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_password(&value)?;
        Ok(Self(value))
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Password::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for Password {
    fn schema() -> RefOr<Schema> {
        string_schema(
            PASSWORD_MIN_CHARS,
            PASSWORD_MAX_CHARS,
            None,
            "A password: 12 to 1,024 characters.",
        )
    }
}

impl ToSchema for Password {}

/// A name or title: trimmed, then 1 to 120 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned string.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Name {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.chars().any(char::is_control) {
            return Err(
                "a name must not contain control characters (such as NUL, tab or a line break)".into(),
            );
        }
        let trimmed = value.trim();
        let n = trimmed.chars().count();
        if n == 0 || n > NAME_MAX_CHARS {
            return Err(format!(
                "a name must be 1 to {NAME_MAX_CHARS} characters without the surrounding spaces (it has {n})"
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Name::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for Name {
    fn schema() -> RefOr<Schema> {
        string_schema(
            1,
            NAME_MAX_CHARS,
            Some(NO_CONTROL_PATTERN),
            "A name or title: 1 to 120 characters once surrounding spaces are trimmed, no control characters.",
        )
    }
}

impl ToSchema for Name {}

/// An e-mail address: 3 to 254 characters, one `@` with text on both sides, no control characters.
/// Deliverability is not checked here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// The address as sent (trimmed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as an owned string.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Email {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let v = value.trim();
        let n = v.chars().count();
        let shape_ok = v
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if !(3..=EMAIL_MAX_CHARS).contains(&n) || !shape_ok || v.chars().any(char::is_control) {
            return Err(format!(
                "`{}` is not an e-mail address (3 to {EMAIL_MAX_CHARS} characters, one @)",
                clip(v)
            ));
        }
        Ok(Self(v.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Email::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        string_schema(
            3,
            EMAIL_MAX_CHARS,
            Some(r"^[^@\u0000-\u001F\u007F-\u009F]+@[^@\u0000-\u001F\u007F-\u009F]+$"),
            "An e-mail address.",
        )
    }
}

impl ToSchema for Email {}

/// The form addresses are compared in: trimmed and lower-cased (Unicode), as mail systems treat them in practice.
#[must_use]
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::try_from("  Blue team ".to_owned()).map(Name::into_inner),
            Ok("Blue team".into())
        );
        assert!(Name::try_from("a\u{0}b".to_owned()).is_err());
        assert!(Name::try_from("a\u{85}b".to_owned()).is_err(), "C1 controls too");
        assert!(Name::try_from("   ".to_owned()).is_err());
        assert!(Name::try_from("é".repeat(120)).is_ok());
        assert!(Name::try_from("é".repeat(121)).is_err());
    }

    #[test]
    fn passwords_and_emails() {
        assert!(Password::try_from("short".to_owned()).is_err());
        assert!(Password::try_from("x".repeat(1024)).is_ok());
        assert!(Password::try_from("x".repeat(1025)).is_err());
        assert_eq!(
            format!("{:?}", Password::try_from("x".repeat(20))),
            "Ok(Password([REDACTED]))"
        );
        assert!(Email::try_from("ana@example.com".to_owned()).is_ok());
        for bad in ["ana", "@x", "a@", "a@b@c", "a@b\u{0}"] {
            assert!(Email::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        assert_eq!(normalise_email(" Ana@Example.COM "), "ana@example.com");
    }

    #[test]
    fn clip_quotes_at_most_the_limit() {
        let long = "x".repeat(10_000);
        assert_eq!(clip(&long).chars().count(), QUOTE_LIMIT + 1);
        assert_eq!(clip("short"), "short");
    }
}
