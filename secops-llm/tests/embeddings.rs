//! Embeddings over HTTP against loopback fakes of OpenAI's and Ollama's documented formats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use secops_core::embed::Embedder;
use secops_core::model::ProviderErrorKind;
use secops_llm::embeddings::{
    OllamaEmbeddings, OllamaEmbeddingsConfig, OpenAiEmbeddings, OpenAiEmbeddingsConfig,
};
use support::{FakeServer, Reply, fixture, fixture_json, quick_transport};

fn texts(request: &serde_json::Value) -> Vec<String> {
    request["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn openai_embeddings_match_the_documented_exchange() {
    let server = FakeServer::start(vec![Reply::json(
        200,
        fixture("embeddings/openai_embeddings_response.json"),
    )])
    .await;
    let expected_request = fixture_json("embeddings/openai_embeddings_request.json");
    let mut config = OpenAiEmbeddingsConfig::openai("sk-emb-123456", "text-embedding-3-small");
    config.url = server.url("/v1/embeddings");
    config.dimensions = Some(4);
    config.transport = quick_transport();
    let e = OpenAiEmbeddings::new(config).unwrap();
    let out = e.embed(&texts(&expected_request)).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.body, expected_request);
    assert_eq!(sent.headers["authorization"], "Bearer sk-emb-123456");
    let response = fixture_json("embeddings/openai_embeddings_response.json");
    assert_eq!(out.vectors.len(), 2);
    assert!((out.vectors[1][3] - response["data"][1]["embedding"][3].as_f64().unwrap() as f32).abs() < 1e-6);
    assert_eq!(out.input_tokens, 31);
    assert_eq!(e.dimensions(), Some(4));
}

#[tokio::test]
async fn batches_are_split_and_rejoined_in_order() {
    let one = |v: f32| {
        format!(
            r#"{{"object":"list","data":[{{"object":"embedding","index":0,"embedding":[{v},0.0]}}],"model":"m","usage":{{"prompt_tokens":2,"total_tokens":2}}}}"#
        )
    };
    let two = r#"{"object":"list","data":[{"object":"embedding","index":1,"embedding":[2.0,0.0]},{"object":"embedding","index":0,"embedding":[1.0,0.0]}],"model":"m","usage":{"prompt_tokens":4,"total_tokens":4}}"#;
    let server = FakeServer::start(vec![
        Reply::json(200, two.as_bytes().to_vec()),
        Reply::json(200, one(3.0).into_bytes()),
    ])
    .await;
    let mut config = OpenAiEmbeddingsConfig::openai("k-123456", "m");
    config.url = server.url("/v1/embeddings");
    config.batch_size = 2;
    config.transport = quick_transport();
    let out = OpenAiEmbeddings::new(config)
        .unwrap()
        .embed(&["a".into(), "b".into(), "c".into()])
        .await
        .unwrap();
    let firsts: Vec<f32> = out.vectors.iter().map(|v| v[0]).collect();
    assert_eq!(
        firsts,
        vec![1.0, 2.0, 3.0],
        "out-of-order items are put back by index"
    );
    assert_eq!(out.input_tokens, 6);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn wrong_counts_and_lengths_are_errors() {
    let server = FakeServer::start(vec![
        Reply::json(200, fixture("embeddings/ollama_embed_response.json")),
        Reply::json(200, br#"{"model":"m","embeddings":[[1.0,2.0],[1.0]]}"#.to_vec()),
    ])
    .await;
    let mut config = OllamaEmbeddingsConfig::local("nomic-embed-text");
    config.base_url = server.url("");
    config.transport = quick_transport();
    let e = OllamaEmbeddings::new(config).unwrap();
    let err = e.embed(&["only one".into()]).await.unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::MalformedResponse);
    assert!(err.message.contains("2 vectors for 1 inputs"), "{err}");
    let err = e.embed(&["a".into(), "b".into()]).await.unwrap_err();
    assert!(err.message.contains("dimensions"), "{err}");
}

#[tokio::test]
async fn ollama_embed_matches_the_documented_exchange() {
    let server = FakeServer::start(vec![Reply::json(
        200,
        fixture("embeddings/ollama_embed_response.json"),
    )])
    .await;
    let expected_request = fixture_json("embeddings/ollama_embed_request.json");
    let mut config = OllamaEmbeddingsConfig::local(expected_request["model"].as_str().unwrap());
    config.base_url = server.url("");
    config.transport = quick_transport();
    let out = OllamaEmbeddings::new(config)
        .unwrap()
        .embed(&texts(&expected_request))
        .await
        .unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/api/embed");
    assert_eq!(sent.body, expected_request);
    assert_eq!(out.vectors.len(), 2);
    assert_eq!(out.vectors[0].len(), 4);
    assert_eq!(out.input_tokens, 29);
}
