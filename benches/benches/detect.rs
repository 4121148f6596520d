//! Detection throughput: events per second through the `secops detect` code path
//! (`secops_detect::cli::Detector::run`: read NDJSON, normalise, route, match, correlate, write one JSON line
//! per match) with the whole SigmaHQ corpus loaded and strict logsource routing.
//!
//! `SECOPS_SHARED_DATA=/work/shared/data cargo bench -p secops-benches --bench detect`
//!
//! Events: every record of `sigma/regression_data/**/*.json` (flattened Windows event-log records, each a
//! known true positive of some rule), replayed in order until there are at least `SECOPS_BENCH_EVENTS`
//! (100,000). Rules: every file of `sigma/rules*`, every status (`SECOPS_BENCH_STATUS`, default `all`).
//! Matches are written to a sink, serialised as the command would print them. Runs once on one thread, then
//! with one thread per core (`SECOPS_BENCH_THREADS` overrides the count); the best of
//! `SECOPS_BENCH_ROUNDS` (3) rounds is reported, as events per second of wall time and per second of CPU time
//! (the machine is shared: CPU time says what one core does whatever else runs). Memory: resident set after
//! loading the rules, and the peak (`VmHWM`) at the end.
//!
//! Then one thread's time per event, phase by phase: reading JSON, normalising, matching (the engine,
//! routing included) and writing the matches.
//!
//! Target: at least 25,000 events/s on one core.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    missing_docs
)]

/// The allocator the `secops` binary uses, so the figures are those of `secops detect`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use secops_detect::cli::{DetectOptions, Detector, parse_statuses};
use secops_detect::engine::Detection;
use secops_detect::events::{NormalisedEvent, normalise_with, read_events};
use secops_detect::rules::{LoadOptions, RuleSet};

const TARGET_PER_CORE: f64 = 25_000.0;

/// Events per batch when timing phase by phase; see [`phases`].
const PHASE_BATCH: usize = 64;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `VmRSS` or `VmHWM` from /proc/self/status, in MiB.
fn memory_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time of the whole process (every thread), user + system, in seconds, from /proc/self/stat. The
/// machine is shared, so wall time alone under-reports what one core does; the figure per CPU-second does not
/// depend on what else runs.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports these in USER_HZ, 100 on every architecture it supports.
    Some((utime + stime) / 100.0)
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn main() -> ExitCode {
    let Some(data) = std::env::var_os("SECOPS_SHARED_DATA").map(PathBuf::from) else {
        eprintln!("detect bench: set SECOPS_SHARED_DATA to the shared data folder (e.g. /work/shared/data)");
        return ExitCode::FAILURE;
    };
    let sigma = data.join("sigma");
    if !sigma.is_dir() {
        eprintln!("detect bench: {} has no sigma/ folder", data.display());
        return ExitCode::FAILURE;
    }
    let min_events: usize = env_or("SECOPS_BENCH_EVENTS", 100_000);
    let rounds: usize = env_or("SECOPS_BENCH_ROUNDS", 3).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads: usize = env_or("SECOPS_BENCH_THREADS", cores);
    let statuses =
        match parse_statuses(&std::env::var("SECOPS_BENCH_STATUS").unwrap_or_else(|_| "all".into())) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("detect bench: {e}");
                return ExitCode::FAILURE;
            }
        };

    // The events, as NDJSON in memory so that reading the disk is not measured.
    let mut event_files = Vec::new();
    files(&sigma.join("regression_data"), "json", &mut event_files);
    let mut records = Vec::new();
    for file in &event_files {
        let Ok(f) = std::fs::File::open(file) else {
            continue;
        };
        records.extend(read_events(f).filter_map(Result::ok));
    }
    if records.is_empty() {
        eprintln!("detect bench: no regression events under {}", sigma.display());
        return ExitCode::FAILURE;
    }
    // One pass over the records, then copies of it into a buffer allocated once: a buffer grown by
    // doubling would leave freed memory behind that the rules then reuse, and the memory figures would
    // say the rules took next to nothing.
    let mut pass = Vec::new();
    for record in &records {
        if serde_json::to_writer(&mut pass, record).is_err() {
            return ExitCode::FAILURE;
        }
        pass.push(b'\n');
    }
    let passes = min_events.div_ceil(records.len());
    let events = passes * records.len();
    let mut input = Vec::with_capacity(pass.len() * passes);
    for _ in 0..passes {
        input.extend_from_slice(&pass);
    }
    drop(pass);
    drop(records);

    // The rules.
    let rss_before = memory_mib("VmRSS:").unwrap_or(0.0);
    let started = Instant::now();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&sigma)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("rules"))
        })
        .collect();
    dirs.sort();
    let load = LoadOptions {
        statuses,
        ..LoadOptions::default()
    };
    let rules = match RuleSet::load_dirs(&dirs, &load) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("detect bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = DetectOptions {
        load: load.clone(),
        ..DetectOptions::new(dirs.clone())
    };
    let mut detector = match Detector::from_rules(&rules, &options) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("detect bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let load_secs = started.elapsed().as_secs_f64();
    let rule_count = rules.rules().len();
    let failed = rules.failures().len();
    drop(rules);
    let rss_loaded = memory_mib("VmRSS:").unwrap_or(0.0);
    println!(
        "detect: {rule_count} rules loaded ({failed} failed) in {load_secs:.2} s; {} event records replayed to {events} \
         events ({:.1} MiB of NDJSON); {cores} cores",
        event_files.len(),
        input.len() as f64 / (1024.0 * 1024.0)
    );

    // Best of the rounds, by wall time and by CPU time.
    let run = |detector: &Detector, label: &str| -> Option<(f64, f64)> {
        let (mut best_wall, mut best_cpu) = (0f64, 0f64);
        let mut matches = 0u64;
        for _ in 0..rounds {
            let cpu = cpu_seconds();
            let summary = match detector.run(input.as_slice(), &mut std::io::sink()) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("detect bench: {e}");
                    return None;
                }
            };
            if let (Some(before), Some(after)) = (cpu, cpu_seconds())
                && after > before
            {
                best_cpu = best_cpu.max(summary.events as f64 / (after - before));
            }
            matches = summary.detections + summary.correlations;
            best_wall = best_wall.max(summary.events_per_second);
        }
        println!(
            "detect: {label:<11} {best_wall:>8.0} events/s wall clock, {best_cpu:>8.0} events per CPU-second   \
             ({matches} matches per pass, {:.2} per event)",
            matches as f64 / events as f64
        );
        Some((best_wall, best_cpu))
    };
    let Some((_, one)) = run(&detector, "1 thread") else {
        return ExitCode::FAILURE;
    };
    detector.set_threads(threads);
    if run(&detector, &format!("{threads} threads")).is_none() {
        return ExitCode::FAILURE;
    }
    phases(&detector, &input, &options);
    println!(
        "detect: memory: {:.0} MiB resident before loading, {rss_loaded:.0} MiB with the rules loaded, peak {:.0} MiB \
         (VmHWM, including the {:.0} MiB of input held in memory)",
        rss_before,
        memory_mib("VmHWM:").unwrap_or(0.0),
        input.len() as f64 / (1024.0 * 1024.0)
    );
    println!(
        "detect: target {TARGET_PER_CORE:.0} events/s on one core (per CPU-second, 1 thread): {}",
        if one >= TARGET_PER_CORE { "met" } else { "NOT met" }
    );
    ExitCode::SUCCESS
}

/// Where one thread's time goes, in microseconds per event: reading the JSON, normalising it, matching (the
/// rsigma engine, routing included) and writing the matches as JSON lines, timed phase by phase over batches
/// of [`PHASE_BATCH`] events, the batch size `secops detect` uses on one thread, so that each phase finds the
/// batch in cache as it would in a real run.
fn phases(detector: &Detector, input: &[u8], options: &DetectOptions) {
    let engine = detector.engine();
    let mut reader = read_events(input);
    let (mut read, mut normalise, mut matching, mut write) = (0f64, 0f64, 0f64, 0f64);
    let mut n = 0usize;
    let mut written = 0usize;
    let mut line = Vec::with_capacity(1 << 16);
    loop {
        let started = Instant::now();
        let records: Vec<serde_json::Value> =
            reader.by_ref().take(PHASE_BATCH).filter_map(Result::ok).collect();
        read += started.elapsed().as_secs_f64();
        if records.is_empty() {
            break;
        }
        n += records.len();
        let started = Instant::now();
        let events: Vec<NormalisedEvent> = records
            .into_iter()
            .filter_map(|r| normalise_with(r, &options.normalise).ok())
            .collect();
        normalise += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let detections: Vec<Vec<Detection>> = events.iter().map(|e| engine.detect(e)).collect();
        matching += started.elapsed().as_secs_f64();
        let started = Instant::now();
        for detection in detections.iter().flatten() {
            line.clear();
            if serde_json::to_writer(&mut line, detection).is_ok() {
                written += line.len() + 1;
            }
        }
        write += started.elapsed().as_secs_f64();
    }
    let n = n.max(1) as f64;
    let us = |secs: f64| secs * 1e6 / n;
    println!(
        "detect: 1 thread, microseconds per event: read JSON {:.1}, normalise {:.1}, match {:.1}, \
         write matches {:.1} ({:.0} bytes per event); sum {:.1}, i.e. {:.0} events/s",
        us(read),
        us(normalise),
        us(matching),
        us(write),
        written as f64 / n,
        us(read + normalise + matching + write),
        n / (read + normalise + matching + write)
    );
}
