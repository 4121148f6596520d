//! Every streaming fixture, cut at random byte boundaries (mid-line, mid-UTF-8 character, mid-event), decodes
//! and assembles to exactly what the uncut stream gives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use proptest::prelude::*;

use secops_core::model::{ModelResponse, StreamAccumulator, StreamEvent};
use secops_llm::streaming::WireParser;
use secops_llm::transport::SseDecoder;

fn parser_for(path: &str) -> Box<dyn WireParser> {
    if path.starts_with("anthropic/") {
        Box::new(secops_llm::anthropic::StreamParser::new())
    } else {
        Box::new(secops_llm::openai::StreamParser::new("openai"))
    }
}

/// Decodes `bytes` delivered in the given pieces into events, then assembles them.
fn run(path: &str, bytes: &[u8], cuts: &[usize]) -> (Vec<StreamEvent>, Result<ModelResponse, String>) {
    let mut offsets: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    offsets.extend([0, bytes.len()]);
    offsets.sort_unstable();
    offsets.dedup();
    let mut decoder = SseDecoder::new();
    let mut parser = parser_for(path);
    let mut sse = Vec::new();
    let mut events = Vec::new();
    for w in offsets.windows(2) {
        decoder.feed(&bytes[w[0]..w[1]], &mut sse).unwrap();
        for e in sse.drain(..) {
            parser.on_event(&e, &mut events);
        }
    }
    parser.finish(&mut events);
    // Stop at the first terminal event, as the provider's stream does.
    if let Some(end) = events
        .iter()
        .position(|e| matches!(e, StreamEvent::Error(_) | StreamEvent::Finish(_)))
    {
        events.truncate(end + 1);
    }
    let mut acc = StreamAccumulator::new();
    let mut result = Ok(());
    for e in events.clone() {
        if let Err(err) = acc.push(e) {
            result = Err(err.to_string());
            break;
        }
    }
    let response = result.and_then(|()| acc.finish().map_err(|e| e.to_string()));
    (events, response)
}

const FIXTURES: &[&str] = &[
    "anthropic/stream_text.sse",
    "anthropic/stream_tool_use.sse",
    "anthropic/stream_parallel_tools.sse",
    "anthropic/stream_thinking.sse",
    "anthropic/stream_error.sse",
    "openai/stream_text.sse",
    "openai/stream_parallel_tool_calls.sse",
    "openai/stream_error.sse",
    "compat/ollama_stream_tool_call.sse",
    "compat/parallel_tool_calls_index_reused.sse",
    "compat/stream_tool_call_id_repeated.sse",
    "compat/azure_stream_content_filter.sse",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_cut_gives_the_same_response(cuts in prop::collection::vec(any::<usize>(), 0..64), single in 1usize..7) {
        for path in FIXTURES {
            let bytes = support::fixture(path);
            let (reference_events, reference) = run(path, &bytes, &[]);
            let (events, response) = run(path, &bytes, &cuts);
            prop_assert_eq!(&response, &reference, "{}", path);
            prop_assert_eq!(&events, &reference_events, "{}", path);
            // And byte-by-byte-ish: every piece a few bytes long, so every UTF-8 character is split somewhere.
            let tiny: Vec<usize> = (0..bytes.len()).step_by(single).collect();
            let (_, response) = run(path, &bytes, &tiny);
            prop_assert_eq!(&response, &reference, "{} in pieces of {}", path, single);
        }
    }
}

#[test]
fn fixtures_contain_multibyte_text_and_assemble() {
    let mut multibyte = false;
    for path in FIXTURES {
        let bytes = support::fixture(path);
        multibyte |= bytes.iter().any(|b| *b >= 0x80);
        let (_, response) = run(path, &bytes, &[]);
        if path.contains("error") {
            assert!(response.is_err(), "{path}");
        } else {
            let r = response.unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(!r.content.is_empty(), "{path}");
        }
    }
    assert!(multibyte, "at least one fixture exercises mid-character cuts");
}
