//! EventBridge Scheduler expressions: when a schedule of the template fires.
//!
//! Written here rather than taken from a cron crate because Scheduler's format is its own: six
//! fields with the year last, `?` in day-of-month or day-of-week, days of the week numbered 1 (SUN)
//! to 7, plus `rate(...)`. The common crates parse five- or seven-field Unix/Quartz cron with
//! seconds first, where the same text means something else. Supported: `*`, `?`, numbers, ranges
//! `a-b`, steps `a/n` and `a-b/n`, lists; `L`, `W`, `#` and names are refused with an error.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("{expression:?}: {detail}")]
    Invalid { expression: String, detail: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cron {
    /// `cron(minutes hours day-of-month month day-of-week year)`.
    Fields(Box<Fields>),
    /// `rate(N unit)`: every period, counted from the Unix epoch (Scheduler counts from the
    /// schedule's creation, which a local run does not have).
    Rate(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    minutes: Field,
    hours: Field,
    days: Field,
    months: Field,
    weekdays: Field,
    years: Field,
}

/// `None`: any value.
type Field = Option<BTreeSet<u32>>;

/// How far ahead [`Cron::next_after`] looks before deciding the expression never fires.
const HORIZON_MINUTES: i64 = 60 * 24 * 366 * 4;

impl Cron {
    pub fn parse(expression: &str) -> Result<Cron, CronError> {
        let error = |detail: &str| CronError::Invalid {
            expression: expression.to_owned(),
            detail: detail.to_owned(),
        };
        let text = expression.trim();
        if let Some(body) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            let (count, unit) = body
                .trim()
                .split_once(' ')
                .ok_or_else(|| error("rate needs a value and a unit"))?;
            let count: u64 = count
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| error("rate value must be a positive whole number"))?;
            let unit = match unit.trim() {
                "minute" | "minutes" => 60,
                "hour" | "hours" => 3600,
                "day" | "days" => 86_400,
                _ => return Err(error("rate unit must be minutes, hours or days")),
            };
            return Ok(Cron::Rate(Duration::from_secs(count * unit)));
        }
        let Some(body) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) else {
            return Err(error("expected cron(...) or rate(...)"));
        };
        let parts: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, days, months, weekdays, years] = parts[..] else {
            return Err(error(
                "cron takes six fields: minutes hours day-of-month month day-of-week year",
            ));
        };
        let field = |text: &str, min: u32, max: u32, name: &str| {
            parse_field(text, min, max).map_err(|detail| error(&format!("{name}: {detail}")))
        };
        let fields = Fields {
            minutes: field(minutes, 0, 59, "minutes")?,
            hours: field(hours, 0, 23, "hours")?,
            days: field(days, 1, 31, "day-of-month")?,
            months: field(months, 1, 12, "month")?,
            weekdays: field(weekdays, 1, 7, "day-of-week")?,
            years: field(years, 1970, 2199, "year")?,
        };
        // Scheduler requires `?` in one of the two day fields.
        if days != "?" && weekdays != "?" {
            return Err(error("one of day-of-month and day-of-week must be ?"));
        }
        Ok(Cron::Fields(Box::new(fields)))
    }

    /// The first time strictly after `after` at which the schedule fires, its fields read in `zone`.
    pub fn next_after(&self, after: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        match self {
            Cron::Rate(period) => {
                let period = i64::try_from(period.as_millis()).ok()?;
                let millis = after.timestamp_millis();
                let next = (millis.div_euclid(period) + 1) * period;
                DateTime::from_timestamp_millis(next)
            }
            Cron::Fields(fields) => {
                let start = after.with_second(0)?.with_nanosecond(0)? + TimeDelta::minutes(1);
                let mut at = start;
                while (at - start).num_minutes() < HORIZON_MINUTES {
                    let local = at.with_timezone(&zone);
                    if !fields.day_matches(&local) {
                        // Skip to the next local midnight (whole minutes keep the alignment).
                        let left = 24 * 60 - i64::from(local.hour() * 60 + local.minute());
                        at += TimeDelta::minutes(left);
                        continue;
                    }
                    if !has(&fields.hours, local.hour()) {
                        at += TimeDelta::minutes(60 - i64::from(local.minute()));
                        continue;
                    }
                    if has(&fields.minutes, local.minute()) {
                        return Some(at);
                    }
                    at += TimeDelta::minutes(1);
                }
                None
            }
        }
    }
}

impl Fields {
    fn day_matches(&self, local: &DateTime<Tz>) -> bool {
        // Scheduler numbers weekdays 1 (Sunday) to 7 (Saturday).
        let weekday = local.weekday().num_days_from_sunday() + 1;
        has(&self.years, local.year().max(0) as u32)
            && has(&self.months, local.month())
            && has(&self.days, local.day())
            && has(&self.weekdays, weekday)
    }
}

fn has(field: &Field, value: u32) -> bool {
    field.as_ref().is_none_or(|values| values.contains(&value))
}

fn parse_field(text: &str, min: u32, max: u32) -> Result<Field, String> {
    if text == "*" || text == "?" {
        return Ok(None);
    }
    let mut values = BTreeSet::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{part:?}: the step must be a positive number"))?;
                (range, step)
            }
            None => (part, 1),
        };
        let number = |t: &str| -> Result<u32, String> {
            t.parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    format!("{part:?}: {t:?} is not a number from {min} to {max} (names, L, W and # are not supported)")
                })
        };
        let (from, to) = match range {
            "*" => (min, max),
            range => match range.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                // `a/n` runs from a to the end of the field.
                None if step > 1 || part.contains('/') => (number(range)?, max),
                None => {
                    let n = number(range)?;
                    (n, n)
                }
            },
        };
        if from > to {
            return Err(format!("{part:?}: the range runs backwards"));
        }
        values.extend((from..=to).step_by(step as usize));
    }
    Ok(Some(values))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const SAST: Tz = chrono_tz::Africa::Johannesburg;

    fn utc(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, s)
            .single()
            .expect("time")
    }

    #[test]
    fn every_ten_minutes_in_local_time() {
        let cron = Cron::parse("cron(0/10 * * * ? *)").expect("parse");
        assert_eq!(cron.next_after(utc(6, 0, 0), SAST), Some(utc(6, 10, 0)));
        assert_eq!(cron.next_after(utc(6, 3, 59), SAST), Some(utc(6, 10, 0)));
        assert_eq!(cron.next_after(utc(6, 59, 30), SAST), Some(utc(7, 0, 0)));
    }

    #[test]
    fn a_daily_time_is_read_in_the_schedules_zone() {
        let cron = Cron::parse("cron(0 5 * * ? *)").expect("parse");
        // 05:00 SAST is 03:00 UTC.
        assert_eq!(cron.next_after(utc(2, 0, 0), SAST), Some(utc(3, 0, 0)));
        let next = cron.next_after(utc(3, 0, 0), SAST).expect("next");
        assert_eq!(next, utc(3, 0, 0) + TimeDelta::days(1));
    }

    #[test]
    fn weekdays_ranges_lists_and_rates() {
        // 1 December 2026 is a Tuesday (3); Friday is 6.
        let cron = Cron::parse("cron(30 8,17 ? * 6 *)").expect("parse");
        let next = cron.next_after(utc(0, 0, 0), Tz::UTC).expect("next");
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2026, 12, 4, 8, 30, 0)
                .single()
                .expect("t")
        );
        let rate = Cron::parse("rate(5 minutes)").expect("parse");
        assert_eq!(rate.next_after(utc(6, 2, 0), SAST), Some(utc(6, 5, 0)));
    }

    #[test]
    fn what_scheduler_would_not_take_or_we_do_not_know_is_refused() {
        for bad in [
            "cron(0 5 * * *)",
            "cron(0 5 1 * 2 *)",
            "cron(0 5 L * ? *)",
            "cron(0 5 ? * MON *)",
            "cron(61 * * * ? *)",
            "cron(0 5-3 * * ? *)",
            "every 5 minutes",
            "rate(0 minutes)",
            "rate(5 weeks)",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
