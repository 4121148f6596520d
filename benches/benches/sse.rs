//! SSE decoding + provider parsing + accumulation throughput over a long recorded stream.
//!
//! `cargo bench -p secops-benches --bench sse`
//!
//! The stream is built from the recorded fixtures in `secops-llm/tests/fixtures`: their text and tool-argument
//! delta events repeated until the stream is about 8 MiB, fed in 16 KiB pieces as a socket would deliver them.
//! Target: at least 200 MB/s.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

use std::time::{Duration, Instant};

use secops_core::model::{StreamAccumulator, StreamEvent};
use secops_llm::streaming::WireParser;
use secops_llm::transport::SseDecoder;

const TARGET_BYTES: usize = 8 * 1024 * 1024;
const PIECE: usize = 16 * 1024;

fn fixture(path: &str) -> String {
    let full = format!(
        "{}/../secops-llm/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Splits an SSE text into events (blocks separated by a blank line), keeping their framing.
fn events(sse: &str) -> Vec<String> {
    sse.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| format!("{e}\n\n"))
        .collect()
}

/// Head events, the repeatable middle (deltas), and tail events of a recorded stream.
fn long_stream(path: &str, is_delta: impl Fn(&str) -> bool) -> (Vec<u8>, usize) {
    let all = events(&fixture(path));
    let first = all.iter().position(|e| is_delta(e)).unwrap();
    let last = all.iter().rposition(|e| is_delta(e)).unwrap();
    let (head, middle, tail) = (&all[..first], &all[first..=last], &all[last + 1..]);
    let mut out = String::new();
    let mut count = 0;
    out.extend(head.iter().cloned());
    count += head.len();
    while out.len() < TARGET_BYTES {
        out.extend(middle.iter().cloned());
        count += middle.len();
    }
    out.extend(tail.iter().cloned());
    count += tail.len();
    (out.into_bytes(), count)
}

fn decode(bytes: &[u8], mut parser: Box<dyn WireParser>) -> usize {
    let mut decoder = SseDecoder::new();
    let mut sse = Vec::new();
    let mut out = Vec::new();
    let mut acc = StreamAccumulator::new();
    let mut events = 0;
    for piece in bytes.chunks(PIECE) {
        decoder.feed(piece, &mut sse).unwrap();
        for e in sse.drain(..) {
            parser.on_event(&e, &mut out);
        }
        for e in out.drain(..) {
            events += 1;
            acc.push(e).unwrap();
        }
    }
    parser.finish(&mut out);
    for e in out.drain(..) {
        if !matches!(e, StreamEvent::Error(_)) {
            acc.push(e).unwrap();
        }
    }
    std::hint::black_box(acc.finish().unwrap());
    events
}

fn measure(name: &str, bytes: &[u8], sse_events: usize, parser: impl Fn() -> Box<dyn WireParser>) {
    let mut samples = Vec::new();
    let budget = Instant::now() + Duration::from_secs(3);
    decode(bytes, parser());
    while samples.len() < 5 || Instant::now() < budget {
        let t = Instant::now();
        decode(bytes, parser());
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    let median = samples[samples.len() / 2];
    let mb_s = bytes.len() as f64 / median.as_secs_f64() / 1e6;
    let ns_event = median.as_nanos() as f64 / sse_events as f64;
    println!(
        "{name:<28} {:>8.1} MB {:>10} events {:>10.1} MB/s {:>10.0} ns/event",
        bytes.len() as f64 / 1e6,
        sse_events,
        mb_s,
        ns_event
    );
}

fn main() {
    println!(
        "SSE decode + parse + accumulate, median of {} s of runs, fed in {} KiB pieces",
        3,
        PIECE / 1024
    );
    let (text, n) = long_stream("anthropic/stream_text.sse", |e| e.contains("text_delta"));
    measure("anthropic text deltas", &text, n, || {
        Box::new(secops_llm::anthropic::StreamParser::new())
    });
    let (tools, n) = long_stream("anthropic/stream_tool_use.sse", |e| {
        e.contains("input_json_delta") && !e.contains("\"partial_json\":\"\"")
    });
    measure("anthropic tool-argument deltas", &tools, n, || {
        Box::new(secops_llm::anthropic::StreamParser::new())
    });
    let (text, n) = long_stream("openai/stream_text.sse", |e| {
        e.contains("\"content\":\"") && !e.contains("\"role\"")
    });
    measure("openai text chunks", &text, n, || {
        Box::new(secops_llm::openai::StreamParser::new("openai"))
    });
    let (tools, n) = long_stream("openai/stream_parallel_tool_calls.sse", |e| {
        e.contains("\"arguments\":\"") && !e.contains("\"id\":\"call_")
    });
    measure("openai tool-argument chunks", &tools, n, || {
        Box::new(secops_llm::openai::StreamParser::new("openai"))
    });
    println!("target: >= 200 MB/s");
}
