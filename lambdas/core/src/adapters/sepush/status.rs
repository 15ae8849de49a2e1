//! `/status`: the national stage, as a string, with the changes EskomSePush expects next.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::clock::ZONE;
use crate::domain::{Foresight, Stage, Timeline, Timelines};
use crate::errors::UpstreamError;

use super::{SERVICE, malformed};

/// The national ("eskom") entry of `/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalStatus {
    pub stage: Stage,
    /// When EskomSePush last saw the stage change, if it said.
    pub updated: Option<DateTime<Tz>>,
    /// Announced changes, soonest first: what the stage becomes and when.
    pub next: Vec<StageChange>,
}

impl NationalStatus {
    /// The national timeline as announced.
    pub fn timelines(&self) -> Timelines {
        let changes = self
            .next
            .iter()
            .map(|change| crate::domain::StageChange {
                starts_at: change.starts_at.with_timezone(&chrono::Utc),
                stage: change.stage,
            })
            .collect();
        Timelines {
            national: Timeline::new(self.stage, changes, Foresight::Announced),
            cape_town: None,
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

/// Other entries (e.g. `capetown`, a municipality running its own stage) are not the national stage.
#[derive(Debug, Deserialize)]
struct Entries {
    eskom: Option<Entry>,
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

/// Reads `/status`. A stage string that is a number but no stage (e.g. "9", "-1") is an
/// [`UpstreamError::InvalidReading`]; anything else unreadable is [`UpstreamError::Malformed`].
pub fn parse_status(body: &str) -> Result<NationalStatus, UpstreamError> {
    let parsed: StatusBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("/status is not a status ({e})"), body))?;
    let entry = parsed
        .status
        .eskom
        .ok_or_else(|| malformed("/status has no national \"eskom\" entry".into(), body))?;
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
    Ok(NationalStatus {
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
    use super::*;
    use crate::errors::{ErrorName, Named};

    #[test]
    fn reads_the_national_entry_and_its_next_stages() {
        let body = r#"{"status":{
            "capetown":{"name":"Cape Town","next_stages":[],"stage":"1","stage_updated":"2026-12-01T05:00:00+02:00"},
            "eskom":{"name":"National","stage":"4","stage_updated":"2026-12-01T05:00:00.123456+02:00",
              "next_stages":[{"stage":"2","stage_start_timestamp":"2026-12-02T05:00:00+02:00"},
                             {"stage":"6","stage_start_timestamp":"2026-12-01T16:00:00+02:00"}]}}}"#;
        let status = parse_status(body).expect("status");
        assert_eq!(status.stage.number(), 4);
        assert_eq!(
            status.updated.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-01T05:00:00.123456+02:00")
        );
        let next: Vec<(u8, String)> = status
            .next
            .iter()
            .map(|c| (c.stage.number(), c.starts_at.to_rfc3339()))
            .collect();
        assert_eq!(
            next,
            [
                (6, "2026-12-01T16:00:00+02:00".to_owned()),
                (2, "2026-12-02T05:00:00+02:00".to_owned())
            ]
        );
    }

    #[test]
    fn out_of_range_stage_is_an_invalid_reading_and_garbage_is_malformed() {
        let status = |stage: &str| format!(r#"{{"status":{{"eskom":{{"stage":"{stage}"}}}}}}"#);
        assert_eq!(
            parse_status(&status("9")).map_err(|e| e.error_name()),
            Err(ErrorName::StageReadingInvalid)
        );
        assert_eq!(
            parse_status(&status("-1")).map_err(|e| e.error_name()),
            Err(ErrorName::StageReadingInvalid)
        );
        for body in [
            status("four"),
            r#"{"status":{"capetown":{"stage":"1"}}}"#.to_owned(),
            "<html>".to_owned(),
            r#"{"status":{"eskom":{"stage":"2","next_stages":[{"stage":"3","stage_start_timestamp":"tomorrow"}]}}}"#.to_owned(),
        ] {
            assert_eq!(
                parse_status(&body).map_err(|e| e.error_name()),
                Err(ErrorName::UpstreamMalformed),
                "{body}"
            );
        }
    }
}
