//! How long a call may take and how it is retried: the AWS SDKs' standard strategy (a few
//! attempts, exponential backoff with full jitter), bounded by a timeout per attempt and one for
//! the whole call, so a dead endpoint costs seconds, never the Lambda deadline.

use std::time::Duration;

/// Timeouts and retries of one client's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Per attempt; a retry gets a fresh one.
    pub attempt_timeout: Duration,
    /// For the whole call, retries and pauses included.
    pub operation_timeout: Duration,
    /// The first retry waits up to this, each later one up to twice the one before, capped at
    /// [`MAX_BACKOFF`].
    pub initial_backoff: Duration,
}

/// The SDKs' cap on one pause between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);

impl Default for CallPolicy {
    /// The SDKs' standard strategy: 3 attempts, pauses from up to 1 s; 3 s per attempt and 8 s
    /// in all, as the functions' SDK configuration had.
    fn default() -> Self {
        CallPolicy {
            max_attempts: 3,
            attempt_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(8),
            initial_backoff: Duration::from_secs(1),
        }
    }
}

impl CallPolicy {
    /// The pause after failed attempt `attempt` (1-based): uniformly random up to
    /// `initial_backoff * 2^(attempt-1)`, capped ("full jitter", so that many clients throttled
    /// at once do not come back at once).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(MAX_BACKOFF);
        ceiling.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_and_stay_under_the_cap() {
        let policy = CallPolicy::default();
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_secs(1));
            assert!(policy.backoff(2) <= Duration::from_secs(2));
            assert!(policy.backoff(40) <= MAX_BACKOFF);
        }
        let longest = (0..200).map(|_| policy.backoff(3)).max().expect("some");
        assert!(
            longest > Duration::from_secs(1),
            "jitter spans the whole range: {longest:?}"
        );
    }
}
