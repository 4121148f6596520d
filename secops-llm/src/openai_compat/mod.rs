//! Servers that speak OpenAI's Chat Completions: Ollama, vLLM, llama.cpp's server, TGI and Azure OpenAI.
//!
//! They all run through [`OpenAi`](crate::openai::OpenAi); what differs is the URL, the authentication and
//! a few request fields, set by the constructors here. Their streaming quirks (no or repeated tool-call
//! indices, "stop" with tool calls, no usage chunk, whole arguments in one delta) are handled by the shared
//! [`openai::StreamParser`](crate::openai::StreamParser) for every server, since any of them may change.

use crate::openai::{Auth, MaxTokensField, OpenAiConfig};
use crate::transport::ApiKey;

/// Where a local Ollama serves its OpenAI-compatible API.
pub const OLLAMA_BASE_URL: &str = "http://127.0.0.1:11434/v1";

/// A generic OpenAI-compatible server at `base_url` (e.g. `http://127.0.0.1:8000/v1` for vLLM), with an
/// optional bearer key.
pub fn compatible(
    name: &str,
    base_url: &str,
    model: impl Into<String>,
    api_key: Option<String>,
) -> OpenAiConfig {
    let mut config = OpenAiConfig::openai("", model).with_base_url(base_url);
    config.name = name.to_owned();
    config.auth = api_key
        .filter(|k| !k.is_empty())
        .map_or(Auth::None, |k| Auth::Bearer(ApiKey::new(k)));
    // Compatible servers vary in what they accept; the conservative choices are the widely understood ones.
    config.strict_tools = false;
    config.max_tokens_field = MaxTokensField::MaxTokens;
    config
}

/// A local Ollama (`http://127.0.0.1:11434/v1`).
pub fn ollama(model: impl Into<String>) -> OpenAiConfig {
    compatible("ollama", OLLAMA_BASE_URL, model, None)
}

/// A vLLM server.
pub fn vllm(base_url: &str, model: impl Into<String>, api_key: Option<String>) -> OpenAiConfig {
    compatible("vllm", base_url, model, api_key)
}

/// llama.cpp's `llama-server`.
pub fn llama_cpp(base_url: &str, model: impl Into<String>, api_key: Option<String>) -> OpenAiConfig {
    compatible("llama.cpp", base_url, model, api_key)
}

/// Azure OpenAI through a deployment URL:
/// `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={api_version}` with the `api-key`
/// header. `model` is the deployment's model, used for pricing only.
pub fn azure(
    endpoint: &str,
    deployment: &str,
    api_version: &str,
    api_key: impl Into<String>,
    model: impl Into<String>,
) -> OpenAiConfig {
    let mut config = OpenAiConfig::openai("", model);
    config.name = "azure".into();
    config.chat_url = format!(
        "{}/openai/deployments/{}/chat/completions",
        endpoint.trim_end_matches('/'),
        deployment
    );
    config.query = vec![("api-version".into(), api_version.into())];
    config.auth = Auth::Header {
        name: "api-key".into(),
        key: ApiKey::new(api_key),
    };
    config
}

/// Azure OpenAI through the v1 API: `{endpoint}/openai/v1/chat/completions` with the `api-key` header and
/// the model (deployment name) in the body.
pub fn azure_v1(endpoint: &str, api_key: impl Into<String>, deployment: impl Into<String>) -> OpenAiConfig {
    let mut config = OpenAiConfig::openai("", deployment)
        .with_base_url(&format!("{}/openai/v1", endpoint.trim_end_matches('/')));
    config.name = "azure".into();
    config.auth = Auth::Header {
        name: "api-key".into(),
        key: ApiKey::new(api_key),
    };
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_auth() {
        let a = azure(
            "https://soc.openai.azure.com/",
            "gpt4o-triage",
            "2024-10-21",
            "k3y",
            "gpt-4o",
        );
        assert_eq!(
            a.chat_url,
            "https://soc.openai.azure.com/openai/deployments/gpt4o-triage/chat/completions"
        );
        assert_eq!(a.query, vec![("api-version".to_owned(), "2024-10-21".to_owned())]);
        assert!(matches!(&a.auth, Auth::Header { name, .. } if name == "api-key"));
        assert!(!format!("{a:?}").contains("k3y"));
        let o = ollama("llama3.1");
        assert_eq!(o.chat_url, "http://127.0.0.1:11434/v1/chat/completions");
        assert_eq!(o.auth, Auth::None);
        let v = azure_v1("https://soc.openai.azure.com", "k", "gpt4o-triage");
        assert_eq!(
            v.chat_url,
            "https://soc.openai.azure.com/openai/v1/chat/completions"
        );
    }
}
