//! The one backoff of our own retry loops (the AWS SDK retries its calls itself): exponential
//! pauses with full jitter, so that many callers throttled at once do not come back at once.
//!
//! Written here rather than taken from a crate (backon, backoff): each loop that uses it has its
//! own reason to stop (a deadline, a stop signal, a `Retry-After` that wins over the backoff), so
//! what they share is only the pause, a few lines.

use std::time::Duration;

/// Pauses from up to `initial`, doubling per attempt, each capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Backoff { initial, max }
    }

    /// The most the pause after failed attempt `attempt` (1-based) may be:
    /// `initial * 2^(attempt-1)`, capped at `max`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.initial
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max)
    }

    /// The pause after failed attempt `attempt` (1-based): uniformly random up to
    /// [`Backoff::ceiling`] ("full jitter").
    pub fn pause(&self, attempt: u32) -> Duration {
        self.ceiling(attempt).mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_and_stay_under_the_cap() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(20));
        assert_eq!(backoff.ceiling(1), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(3), Duration::from_secs(4));
        assert_eq!(backoff.ceiling(0), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(40), Duration::from_secs(20));
        for _ in 0..200 {
            assert!(backoff.pause(1) <= Duration::from_secs(1));
            assert!(backoff.pause(40) <= Duration::from_secs(20));
        }
        let longest = (0..200).map(|_| backoff.pause(3)).max().unwrap_or_default();
        assert!(
            longest > Duration::from_secs(1),
            "jitter spans the whole range: {longest:?}"
        );
        let shortest = (0..200).map(|_| backoff.pause(3)).min().unwrap_or_default();
        assert!(shortest < Duration::from_secs(3), "{shortest:?}");
    }
}
