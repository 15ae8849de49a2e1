//! Time is injected: handlers ask a [`Clock`], never the system, so tests can stand anywhere in time.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// Loadshedding schedules are published and lived in South African time.
pub const ZONE: Tz = chrono_tz::Africa::Johannesburg;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    fn local_now(&self) -> DateTime<Tz> {
        self.now().with_timezone(&ZONE)
    }

    fn today(&self) -> NaiveDate {
        self.local_now().date_naive()
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// Starts at a wall-clock time in South Africa, e.g. `ManualClock::at_local(2026, 12, 31, 23, 30)`.
    /// Returns `None` for a time that does not exist.
    pub fn at_local(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Option<Self> {
        let local = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, 0)?;
        let zoned = local.and_local_timezone(ZONE).single()?;
        Some(ManualClock::new(zoned.with_timezone(&Utc)))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.lock() = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A poisoned lock only means another test thread panicked; the time value is still valid.
        self.now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_two_hours_ahead_of_utc_all_year() {
        let clock = ManualClock::at_local(2026, 12, 31, 23, 30).expect("valid time");
        assert_eq!(clock.now().to_rfc3339(), "2026-12-31T21:30:00+00:00");
        assert_eq!(
            clock.today(),
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")
        );
        clock.advance(Duration::minutes(45));
        assert_eq!(
            clock.today(),
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("date")
        );
    }
}
