//! Choosing a provider from the environment.

use std::sync::Arc;

use secops_core::model::{ModelProvider, ProviderError};

use crate::anthropic::{Anthropic, AnthropicConfig};
use crate::openai::{OpenAi, OpenAiConfig};
use crate::openai_compat;

/// The model used with `ANTHROPIC_API_KEY` when `SECOPS_LLM_MODEL` is not set.
pub const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-4-5";
/// The model used with `OPENAI_API_KEY` when `SECOPS_LLM_MODEL` is not set.
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4.1";

/// The environment does not describe a usable provider.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Nothing is configured.
    #[error(
        "no model provider is configured: set ANTHROPIC_API_KEY, or OPENAI_API_KEY, or SECOPS_LLM_BASE_URL \
         (an OpenAI-compatible server such as Ollama at http://127.0.0.1:11434/v1) together with SECOPS_LLM_MODEL"
    )]
    NotConfigured,
    /// A setting is missing or wrong.
    #[error("{0}")]
    Invalid(String),
    /// The provider could not be built.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// [`provider_from_vars`] over the process environment.
pub fn provider_from_env() -> Result<Arc<dyn ModelProvider>, ConfigError> {
    provider_from_vars(|name| std::env::var(name).ok())
}

/// Picks a provider from variables: `SECOPS_LLM_PROVIDER` (`anthropic`, `openai` or `compatible`) when set;
/// otherwise `SECOPS_LLM_BASE_URL` (an OpenAI-compatible server, with `SECOPS_LLM_MODEL` and an optional
/// `SECOPS_LLM_API_KEY`), then `ANTHROPIC_API_KEY`, then `OPENAI_API_KEY`. `SECOPS_LLM_MODEL` overrides the
/// default model of each.
pub fn provider_from_vars(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn ModelProvider>, ConfigError> {
    let var = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let model = var("SECOPS_LLM_MODEL");
    let explicit = var("SECOPS_LLM_PROVIDER");
    let choice = match explicit.as_deref() {
        Some(p @ ("anthropic" | "openai" | "compatible")) => p.to_owned(),
        Some(other) => {
            return Err(ConfigError::Invalid(format!(
                "SECOPS_LLM_PROVIDER is `{other}`; expected anthropic, openai or compatible"
            )));
        }
        None if var("SECOPS_LLM_BASE_URL").is_some() => "compatible".to_owned(),
        None if var("ANTHROPIC_API_KEY").is_some() => "anthropic".to_owned(),
        None if var("OPENAI_API_KEY").is_some() => "openai".to_owned(),
        None => return Err(ConfigError::NotConfigured),
    };
    let missing = |name: &str| ConfigError::Invalid(format!("{name} is not set"));
    Ok(match choice.as_str() {
        "anthropic" => {
            let key = var("ANTHROPIC_API_KEY").ok_or_else(|| missing("ANTHROPIC_API_KEY"))?;
            let mut config =
                AnthropicConfig::new(key, model.unwrap_or_else(|| DEFAULT_ANTHROPIC_MODEL.into()));
            if let Some(base) = var("ANTHROPIC_BASE_URL") {
                config.base_url = base;
            }
            Arc::new(Anthropic::new(config)?)
        }
        "openai" => {
            let key = var("OPENAI_API_KEY").ok_or_else(|| missing("OPENAI_API_KEY"))?;
            let mut config = OpenAiConfig::openai(key, model.unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into()));
            if let Some(base) = var("OPENAI_BASE_URL") {
                config = config.with_base_url(&base);
            }
            Arc::new(OpenAi::new(config)?)
        }
        _ => {
            let base = var("SECOPS_LLM_BASE_URL").ok_or_else(|| missing("SECOPS_LLM_BASE_URL"))?;
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                return Err(ConfigError::Invalid(format!(
                    "SECOPS_LLM_BASE_URL must be an http(s) URL, got `{base}`"
                )));
            }
            let model = model.ok_or_else(|| missing("SECOPS_LLM_MODEL"))?;
            Arc::new(OpenAi::new(openai_compat::compatible(
                "openai_compatible",
                &base,
                model,
                var("SECOPS_LLM_API_KEY"),
            ))?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn picks_by_precedence_and_explains_failures() {
        assert_eq!(
            provider_from_vars(vars(&[])).err(),
            Some(ConfigError::NotConfigured)
        );
        let p = provider_from_vars(vars(&[
            ("ANTHROPIC_API_KEY", "sk-ant-x"),
            ("OPENAI_API_KEY", "sk-x"),
        ]))
        .unwrap();
        assert_eq!(p.name(), "anthropic");
        assert_eq!(p.capabilities().model, DEFAULT_ANTHROPIC_MODEL);
        let p = provider_from_vars(vars(&[
            ("OPENAI_API_KEY", "sk-x"),
            ("SECOPS_LLM_MODEL", "gpt-4o"),
        ]))
        .unwrap();
        assert_eq!((p.name(), p.capabilities().model.as_str()), ("openai", "gpt-4o"));
        let p = provider_from_vars(vars(&[
            ("SECOPS_LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("SECOPS_LLM_MODEL", "llama3.1"),
            ("ANTHROPIC_API_KEY", "k"),
        ]))
        .unwrap();
        assert_eq!(p.name(), "openai_compatible");
        let e = provider_from_vars(vars(&[("SECOPS_LLM_BASE_URL", "http://x/v1")]))
            .err()
            .unwrap();
        assert!(e.to_string().contains("SECOPS_LLM_MODEL"));
        let e = provider_from_vars(vars(&[("SECOPS_LLM_PROVIDER", "bedrock")]))
            .err()
            .unwrap();
        assert!(e.to_string().contains("bedrock"));
        let e = provider_from_vars(vars(&[
            ("SECOPS_LLM_BASE_URL", "ftp://x"),
            ("SECOPS_LLM_MODEL", "m"),
        ]))
        .err()
        .unwrap();
        assert!(matches!(e, ConfigError::Invalid(_)));
    }
}
