//! `/status`: the national stage ("eskom") and Cape Town's ("capetown"), each a string, with the
//! changes EskomSePush expects next.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::clock::ZONE;
use crate::domain::{Foresight, Stage, Timeline, Timelines};
use crate::errors::UpstreamError;

use super::{SERVICE, malformed};

/// Everything `/status` says: the national stage, and Cape Town's where the answer has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub national: AuthorityStatus,
    pub cape_town: Option<AuthorityStatus>,
}

/// One entry of `/status`: an authority's stage now and its announced changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityStatus {
    pub stage: Stage,
    /// When EskomSePush last saw the stage change, if it said.
    pub updated: Option<DateTime<Tz>>,
    /// Announced changes, soonest first: what the stage becomes and when. Each holds until the
    /// next; the last until further notice.
    pub next: Vec<StageChange>,
}

impl AuthorityStatus {
    /// The authority's timeline as announced.
    pub fn timeline(&self) -> Timeline {
        let changes = self
            .next
            .iter()
            .map(|change| crate::domain::StageChange {
                starts_at: change.starts_at.with_timezone(&Utc),
                stage: change.stage,
            })
            .collect();
        Timeline::new(self.stage, changes, Foresight::Announced)
            .since(self.updated.map(|t| t.with_timezone(&chrono::Utc)))
    }
}

impl StatusReport {
    /// The national timeline and Cape Town's (none when the answer had no `capetown` entry: Cape
    /// Town's areas are then shown the national one).
    pub fn timelines(&self) -> Timelines {
        Timelines {
            national: self.national.timeline(),
            cape_town: self.cape_town.as_ref().map(AuthorityStatus::timeline),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageChange {
    pub stage: Stage,
    pub starts_at: DateTime<Tz>,
}

#[derive(Debug, Deserialize)]
struct StatusBody {
    status: Entries,
}

/// Entries for other municipalities, should any appear, are not read: no area follows them.
#[derive(Debug, Deserialize)]
struct Entries {
    eskom: Option<Entry>,
    capetown: Option<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    stage: String,
    stage_updated: Option<String>,
    #[serde(default)]
    next_stages: Vec<NextEntry>,
}

#[derive(Debug, Deserialize)]
struct NextEntry {
    stage: String,
    stage_start_timestamp: String,
}

/// Reads `/status`. No `eskom` entry is [`UpstreamError::Malformed`]; no `capetown` entry is
/// `cape_town: None`. A stage string that is a number but no stage (e.g. "9", "-1") in either entry
/// is an [`UpstreamError::InvalidReading`]; anything else unreadable, in either entry, is
/// [`UpstreamError::Malformed`] (a Cape Town entry we cannot read is not silently replaced by the
/// national stage).
pub fn parse_status(body: &str) -> Result<StatusReport, UpstreamError> {
    let parsed: StatusBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("/status is not a status ({e})"), body))?;
    let national = parsed
        .status
        .eskom
        .ok_or_else(|| malformed("/status has no national \"eskom\" entry".into(), body))?;
    Ok(StatusReport {
        national: read_entry(&national, body)?,
        cape_town: parsed
            .status
            .capetown
            .map(|entry| read_entry(&entry, body))
            .transpose()?,
    })
}

fn read_entry(entry: &Entry, body: &str) -> Result<AuthorityStatus, UpstreamError> {
    let stage = read_stage(&entry.stage, body)?;
    let updated = entry
        .stage_updated
        .as_deref()
        .map(|t| read_time(t, body))
        .transpose()?;
    let mut next = entry
        .next_stages
        .iter()
        .map(|n| {
            Ok(StageChange {
                stage: read_stage(&n.stage, body)?,
                starts_at: read_time(&n.stage_start_timestamp, body)?,
            })
        })
        .collect::<Result<Vec<_>, UpstreamError>>()?;
    next.sort_by_key(|change| change.starts_at);
    Ok(AuthorityStatus {
        stage,
        updated,
        next,
    })
}

fn read_stage(text: &str, body: &str) -> Result<Stage, UpstreamError> {
    match text.trim().parse::<i64>() {
        Ok(number) => Stage::try_from(number).map_err(|_| UpstreamError::InvalidReading {
            service: SERVICE,
            reading: text.to_owned(),
        }),
        Err(_) => Err(malformed(format!("stage {text:?} is not a number"), body)),
    }
}

fn read_time(text: &str, body: &str) -> Result<DateTime<Tz>, UpstreamError> {
    DateTime::<FixedOffset>::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&ZONE))
        .map_err(|e| malformed(format!("{text:?} is not a timestamp ({e})"), body))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::Authority;
    use crate::errors::{ErrorName, Named};

    fn stage(n: u8) -> Stage {
        Stage::new(n).expect("stage")
    }

    fn local(day: u32, hour: u32) -> DateTime<Utc> {
        ZONE.with_ymd_and_hms(2026, 7, day, hour, 0, 0)
            .single()
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn reads_both_authorities_with_their_announced_changes() {
        let body = r#"{"status":{
            "capetown":{"name":"Cape Town","stage":"1","stage_updated":"2026-07-09T05:00:00+02:00",
              "next_stages":[{"stage":"3","stage_start_timestamp":"2026-07-09T16:00:00+02:00"},
                             {"stage":"0","stage_start_timestamp":"2026-07-09T22:00:00+02:00"}]},
            "eskom":{"name":"National","stage":"4","stage_updated":"2026-07-09T05:00:00.123456+02:00",
              "next_stages":[{"stage":"2","stage_start_timestamp":"2026-07-10T05:00:00+02:00"},
                             {"stage":"6","stage_start_timestamp":"2026-07-09T16:00:00+02:00"}]}}}"#;
        let status = parse_status(body).expect("status");
        assert_eq!(status.national.stage, stage(4));
        assert_eq!(
            status.national.updated.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-07-09T05:00:00.123456+02:00")
        );
        let next: Vec<(u8, String)> = status
            .national
            .next
            .iter()
            .map(|c| (c.stage.number(), c.starts_at.to_rfc3339()))
            .collect();
        assert_eq!(
            next,
            [
                (6, "2026-07-09T16:00:00+02:00".to_owned()),
                (2, "2026-07-10T05:00:00+02:00".to_owned())
            ]
        );
        let timelines = status.timelines();
        assert_eq!(timelines.national.foresight, Foresight::Announced);
        assert_eq!(timelines.national.stage_at(local(9, 15)), stage(4));
        assert_eq!(timelines.national.stage_at(local(9, 16)), stage(6));
        assert_eq!(timelines.national.stage_at(local(10, 5)), stage(2));
        let cape_town = timelines.cape_town.as_ref().expect("Cape Town's own");
        assert_eq!(cape_town.foresight, Foresight::Announced);
        assert_eq!(cape_town.stage_at(local(9, 15)), stage(1));
        assert_eq!(cape_town.stage_at(local(9, 16)), stage(3));
        assert_eq!(cape_town.stage_at(local(9, 22)), stage(0));
        assert!(timelines.knows(Authority::CapeTown));
    }

    #[test]
    fn without_a_capetown_entry_cape_town_has_no_timeline_of_its_own() {
        let body = r#"{"status":{"eskom":{"name":"National","stage":"2","next_stages":[]}}}"#;
        let timelines = parse_status(body).expect("status").timelines();
        assert_eq!(timelines.national.current, stage(2));
        assert_eq!(timelines.cape_town, None);
        assert!(!timelines.knows(Authority::CapeTown));
    }

    #[test]
    fn out_of_range_stage_is_an_invalid_reading_and_garbage_is_malformed() {
        let status = |stage: &str| format!(r#"{{"status":{{"eskom":{{"stage":"{stage}"}}}}}}"#);
        let cape_town = |stage: &str| {
            format!(r#"{{"status":{{"eskom":{{"stage":"2"}},"capetown":{{"stage":"{stage}"}}}}}}"#)
        };
        for body in [status("9"), status("-1"), cape_town("9")] {
            assert_eq!(
                parse_status(&body).map_err(|e| e.error_name()),
                Err(ErrorName::StageReadingInvalid),
                "{body}"
            );
        }
        for body in [
            status("four"),
            cape_town("three"),
            r#"{"status":{"capetown":{"stage":"1"}}}"#.to_owned(),
            r#"{"status":{"eskom":null,"capetown":{"stage":"1"}}}"#.to_owned(),
            "<html>".to_owned(),
            r#"{"status":{"eskom":{"stage":"2","next_stages":[{"stage":"3","stage_start_timestamp":"tomorrow"}]}}}"#.to_owned(),
            r#"{"status":{"eskom":{"stage":"2"},"capetown":{"stage":"1","next_stages":[{"stage":"3"}]}}}"#.to_owned(),
        ] {
            assert_eq!(
                parse_status(&body).map_err(|e| e.error_name()),
                Err(ErrorName::UpstreamMalformed),
                "{body}"
            );
        }
    }
}
