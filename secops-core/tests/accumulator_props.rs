//! The accumulator assembles tool-call arguments identically however the provider splits and interleaves them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use proptest::prelude::*;
use serde_json::Value;

use secops_core::model::{FinishReason, ModelResponse, StreamAccumulator, StreamEvent, Usage};

/// JSON values with multi-byte text, nesting and numbers, as tool arguments.
fn arb_args() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9 _\\-\\.]{0,12}".prop_map(Value::from),
        "[äöüß✓🚀\"\\\\/ a-z]{0,8}".prop_map(Value::from),
    ];
    let inner = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Cuts `text` at the given byte offsets. An offset inside a multi-byte character moves to the next character
/// boundary: stream events carry decoded strings, so a piece can end mid-token or mid-escape but never mid-character.
fn split_at_bytes(text: &str, cuts: &[usize]) -> Vec<String> {
    let mut offsets: Vec<usize> = cuts
        .iter()
        .map(|c| {
            let mut at = c % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at += 1;
            }
            at
        })
        .collect();
    offsets.push(0);
    offsets.push(text.len());
    offsets.sort_unstable();
    offsets.dedup();
    offsets.windows(2).map(|w| text[w[0]..w[1]].to_owned()).collect()
}

fn assemble(events: Vec<StreamEvent>) -> ModelResponse {
    let mut acc = StreamAccumulator::new();
    for e in events {
        acc.push(e).unwrap();
    }
    acc.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn split_and_interleaved_arguments_assemble_identically(
        calls in prop::collection::vec((arb_args(), prop::collection::vec(any::<usize>(), 0..12)), 1..5),
        schedule in prop::collection::vec(any::<u8>(), 0..200),
        text_cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let texts: Vec<String> = calls.iter().map(|(args, _)| serde_json::to_string(args).unwrap()).collect();
        let mut queues: Vec<std::collections::VecDeque<StreamEvent>> = texts
            .iter()
            .zip(&calls)
            .enumerate()
            .map(|(index, (text, (_, cuts)))| {
                let mut q: std::collections::VecDeque<StreamEvent> = split_at_bytes(text, cuts)
                    .into_iter()
                    .map(|delta| StreamEvent::ToolCallArgsDelta { index, delta })
                    .collect();
                q.push_front(StreamEvent::ToolCallStart { index, id: format!("call_{index}"), name: format!("tool_{index}") });
                q.push_back(StreamEvent::ToolCallEnd { index });
                q
            })
            .collect();
        let prose = "Checking the hosts… ✓";
        let mut prose_pieces: std::collections::VecDeque<String> = split_at_bytes(prose, &text_cuts).into();

        // Interleave: the schedule picks which queue advances; anything left drains in order.
        let mut events = vec![StreamEvent::MessageStart { id: Some("m".into()), model: None }];
        let mut picks = schedule.into_iter();
        loop {
            let live: Vec<usize> = (0..queues.len()).filter(|i| !queues[*i].is_empty()).collect();
            if live.is_empty() { break; }
            let pick = picks.next().map_or(0, usize::from);
            if pick % 5 == 0
                && let Some(text) = prose_pieces.pop_front()
            {
                events.push(StreamEvent::TextDelta { text });
                continue;
            }
            let q = live[pick % live.len()];
            events.push(queues[q].pop_front().unwrap());
        }
        events.extend(prose_pieces.into_iter().map(|text| StreamEvent::TextDelta { text }));
        events.push(StreamEvent::Usage(Usage { input_tokens: 5, output_tokens: 9, ..Usage::default() }));
        events.push(StreamEvent::Finish(FinishReason::from_raw("tool_calls")));

        let whole: Vec<StreamEvent> = texts
            .iter()
            .enumerate()
            .flat_map(|(index, text)| [
                StreamEvent::ToolCallStart { index, id: format!("call_{index}"), name: format!("tool_{index}") },
                StreamEvent::ToolCallArgsDelta { index, delta: text.clone() },
                StreamEvent::ToolCallEnd { index },
            ])
            .chain([
                StreamEvent::TextDelta { text: prose.into() },
                StreamEvent::Usage(Usage { input_tokens: 5, output_tokens: 9, ..Usage::default() }),
                StreamEvent::Finish(FinishReason::from_raw("tool_calls")),
            ])
            .collect();

        let split = assemble(events);
        let reference = assemble(whole);
        prop_assert_eq!(&split.content, &reference.content);
        prop_assert_eq!(split.text(), prose);
        let got: Vec<(String, Value)> = split.tool_calls().map(|c| (c.id.clone(), c.input.clone())).collect();
        let want: Vec<(String, Value)> = calls.iter().enumerate().map(|(i, (a, _))| (format!("call_{i}"), a.clone())).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn splitting_helper_covers_the_text() {
    let t = r#"{"k":"äö✓🚀"}"#;
    for cut in 0..t.len() + 3 {
        assert_eq!(split_at_bytes(t, &[cut, cut / 2]).concat(), t);
    }
}
