//! One clock for the whole local system: UTC read off tokio's clock, so that with tokio's time
//! paused (`loadshed simulate`) hours of schedules, retries, back-off and Telegram latency pass in
//! moments, and every part (the engine, the tasks, the store's feed) agrees on the time.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Instant,
    at_origin: DateTime<Utc>,
}

impl TokioClock {
    /// Reads `at` now and moves with tokio's clock from here on.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        TokioClock {
            origin: Instant::now(),
            at_origin: at,
        }
    }

    /// The UTC time of a tokio instant.
    pub fn at(&self, instant: Instant) -> DateTime<Utc> {
        let elapsed = instant.saturating_duration_since(self.origin);
        self.at_origin + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX)
    }

    /// The tokio instant of a UTC time (the origin for times before it).
    pub fn instant(&self, at: DateTime<Utc>) -> Instant {
        let ahead = (at - self.at_origin).to_std().unwrap_or(Duration::ZERO);
        self.origin + ahead
    }

    pub fn utc_now(&self) -> DateTime<Utc> {
        self.at(Instant::now())
    }
}

impl loadshed_core::clock::Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.utc_now()
    }
}

#[async_trait]
impl asl::Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.utc_now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn utc_follows_tokio_time() {
        let start = Utc
            .with_ymd_and_hms(2026, 12, 1, 4, 0, 0)
            .single()
            .expect("time");
        let clock = TokioClock::starting_at(start);
        tokio::time::sleep(Duration::from_secs(90)).await;
        assert_eq!(clock.utc_now(), start + TimeDelta::seconds(90));
        let later = start + TimeDelta::hours(2);
        assert_eq!(clock.at(clock.instant(later)), later);
    }
}
