//! Login throttling: failed attempts per account and per client address in a sliding window. In-memory, so each
//! API replica counts on its own; that bounds guessing per replica, which is what it is for.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account in the window.
pub const PER_ACCOUNT: usize = 10;
/// Failed attempts allowed per client address in the window.
pub const PER_ADDRESS: usize = 50;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts failed logins.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    fn prune(q: &mut VecDeque<Instant>, now: Instant) {
        while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
            q.pop_front();
        }
    }

    /// `Some(retry_after)` when `account` or `address` used up its failures.
    pub fn blocked(&self, account: &str, address: Option<&str>) -> Option<Duration> {
        let now = Instant::now();
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let mut wait = None;
        for (key, limit) in [(format!("a:{}", account.to_lowercase()), PER_ACCOUNT)]
            .into_iter()
            .chain(address.map(|a| (format!("i:{a}"), PER_ADDRESS)))
        {
            if let Some(q) = map.get_mut(&key) {
                Self::prune(q, now);
                if q.len() >= limit
                    && let Some(oldest) = q.front()
                {
                    let left = WINDOW.saturating_sub(now.duration_since(*oldest));
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        wait
    }

    /// Records a failed attempt.
    pub fn failed(&self, account: &str, address: Option<&str>) {
        let now = Instant::now();
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        // Bound memory under a flood of distinct keys: forget everything stale first.
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= WINDOW));
        }
        map.entry(format!("a:{}", account.to_lowercase()))
            .or_default()
            .push_back(now);
        if let Some(a) = address {
            map.entry(format!("i:{a}")).or_default().push_back(now);
        }
    }

    /// Forgets an account's failures after a successful login.
    pub fn succeeded(&self, account: &str) {
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.remove(&format!("a:{}", account.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_forgets_on_success() {
        let l = LoginLimiter::default();
        for _ in 0..PER_ACCOUNT {
            assert!(l.blocked("Ana@example.com", Some("10.0.0.1")).is_none());
            l.failed("ana@example.com", Some("10.0.0.1"));
        }
        assert!(
            l.blocked("ANA@example.com", None).is_some(),
            "case-insensitive per account"
        );
        assert!(
            l.blocked("bob@example.com", Some("10.0.0.1")).is_none(),
            "the address is still under its limit"
        );
        l.succeeded("ana@example.com");
        assert!(l.blocked("ana@example.com", None).is_none());
    }
}
