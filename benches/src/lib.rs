//! Helpers shared by the secops benchmarks. The benchmarks themselves live in `benches/` and print their
//! figures: `cargo bench -p secops-benches`.

use std::time::{Duration, Instant};

/// Runs `f` repeatedly for at least `budget` (and at least `min_iters` times) and returns the mean time of
/// one call. A warm-up of a tenth of the budget runs first.
pub fn mean_time<F: FnMut()>(budget: Duration, min_iters: u32, mut f: F) -> Duration {
    let warm_until = Instant::now() + budget / 10;
    while Instant::now() < warm_until {
        f();
    }
    let start = Instant::now();
    let mut iters = 0u32;
    while iters < min_iters || start.elapsed() < budget {
        f();
        iters += 1;
    }
    start.elapsed() / iters
}

/// Microseconds as a float, for printing.
#[must_use]
pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
