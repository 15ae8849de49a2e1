use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::ZONE;

/// One outage: from `start` to `end`, in South African time. `end` is always after `start`, so a slot
/// written "22:00 - 00:30" ends on the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    #[serde(with = "zoned")]
    pub start: DateTime<Tz>,
    #[serde(with = "zoned")]
    pub end: DateTime<Tz>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSlot {
    #[error("{0:?} is not a time range like \"08:00 - 10:30\"")]
    Unreadable(String),
    #[error("slot {start}..{end} does not end after it starts")]
    Empty { start: String, end: String },
    #[error("{0} does not exist in South African time")]
    NoSuchLocalTime(String),
}

impl Slot {
    pub fn new(start: DateTime<Tz>, end: DateTime<Tz>) -> Result<Self, InvalidSlot> {
        if end <= start {
            return Err(InvalidSlot::Empty {
                start: start.to_rfc3339(),
                end: end.to_rfc3339(),
            });
        }
        Ok(Slot { start, end })
    }

    /// A slot on `date` from wall-clock `from` to `to`; a `to` at or before `from` is on the next day.
    pub fn on(date: NaiveDate, from: NaiveTime, to: NaiveTime) -> Result<Self, InvalidSlot> {
        let end_date = if to <= from {
            date.succ_opt()
        } else {
            Some(date)
        };
        let end_date = end_date.ok_or_else(|| InvalidSlot::NoSuchLocalTime(date.to_string()))?;
        Slot::new(local(date, from)?, local(end_date, to)?)
    }

    /// Parses upstream notation: `"08:00 - 10:30"`, `"22:00-00:30"`, `"20:00 - 24:00"`.
    pub fn parse_on(date: NaiveDate, text: &str) -> Result<Self, InvalidSlot> {
        let unreadable = || InvalidSlot::Unreadable(text.to_owned());
        let (from, to) = text.split_once('-').ok_or_else(unreadable)?;
        let from = parse_clock(from.trim()).ok_or_else(unreadable)?;
        let to = parse_clock(to.trim()).ok_or_else(unreadable)?;
        Slot::on(date, from, to)
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    pub fn is_over(&self, now: DateTime<Utc>) -> bool {
        self.end <= now
    }

    pub fn is_on(&self, now: DateTime<Utc>) -> bool {
        self.start <= now && now < self.end
    }

    /// True when the slot has any part on `date` (local time).
    pub fn touches(&self, date: NaiveDate) -> bool {
        let Some(day_start) = date.and_hms_opt(0, 0, 0) else {
            return false;
        };
        let Some(next_day) = date.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)) else {
            return false;
        };
        self.start.naive_local() < next_day && self.end.naive_local() > day_start
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// "24:00" is how upstream writes the end of a day.
fn parse_clock(text: &str) -> Option<NaiveTime> {
    if text == "24:00" {
        return Some(NaiveTime::MIN);
    }
    NaiveTime::parse_from_str(text, "%H:%M").ok()
}

fn local(date: NaiveDate, time: NaiveTime) -> Result<DateTime<Tz>, InvalidSlot> {
    date.and_time(time)
        .and_local_timezone(ZONE)
        .single()
        .ok_or_else(|| InvalidSlot::NoSuchLocalTime(format!("{date} {time}")))
}

/// chrono can only deserialize fixed offsets; we store RFC 3339 and put the zone back on read.
mod zoned {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &DateTime<Tz>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Tz>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|fixed| fixed.with_timezone(&ZONE))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn parses_both_upstream_notations() {
        let a = Slot::parse_on(date(2020, 9, 7), "08:00 - 10:30").expect("eskom form");
        let b = Slot::parse_on(date(2020, 9, 7), "08:00-10:30").expect("sepush form");
        assert_eq!(a, b);
        assert_eq!(a.start.to_rfc3339(), "2020-09-07T08:00:00+02:00");
        assert_eq!(a.duration(), Duration::minutes(150));
    }

    #[test]
    fn a_slot_past_midnight_ends_the_next_day() {
        let slot = Slot::parse_on(date(2026, 12, 31), "22:00 - 00:30").expect("slot");
        assert_eq!(slot.end.to_rfc3339(), "2027-01-01T00:30:00+02:00");
        assert!(slot.touches(date(2026, 12, 31)));
        assert!(slot.touches(date(2027, 1, 1)));
        assert!(!slot.touches(date(2027, 1, 2)));
        let to_midnight = Slot::parse_on(date(2026, 3, 1), "20:00 - 24:00").expect("slot");
        assert_eq!(to_midnight.end.to_rfc3339(), "2026-03-02T00:00:00+02:00");
        assert!(!to_midnight.touches(date(2026, 3, 2)));
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "08:00", "8 - 10", "25:00 - 26:00", "-", "ab:cd - 10:00"] {
            assert!(Slot::parse_on(date(2026, 1, 1), text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn serializes_with_offset_and_reads_back_in_zone() {
        let slot = Slot::parse_on(date(2026, 6, 1), "16:00 - 18:30").expect("slot");
        let json = serde_json::to_string(&slot).expect("serialize");
        assert_eq!(
            json,
            r#"{"start":"2026-06-01T16:00:00+02:00","end":"2026-06-01T18:30:00+02:00"}"#
        );
        let back: Slot = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, slot);
        assert_eq!(back.to_string(), "16:00-18:30");
    }
}
