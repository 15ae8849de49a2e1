//! Scripted upstream fakes for the task handler tests.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::NaiveDate;
use loadshed_core::domain::{Area, AreaId, Schedule, Slot, Stage};
use loadshed_core::errors::UpstreamError;
use loadshed_core::ports::{ScheduleSource, StageSource};
use serde_json::{Value, json};

/// Answers each call with the next scripted reading.
pub struct ScriptedStage {
    readings: Mutex<VecDeque<Result<Stage, UpstreamError>>>,
}

impl ScriptedStage {
    pub fn new(readings: impl IntoIterator<Item = Result<Stage, UpstreamError>>) -> Self {
        ScriptedStage {
            readings: Mutex::new(readings.into_iter().collect()),
        }
    }
}

#[async_trait]
impl StageSource for ScriptedStage {
    async fn timelines(&self) -> Result<loadshed_core::domain::Timelines, UpstreamError> {
        self.reading()
            .await
            .map(loadshed_core::domain::Timelines::national_only)
    }
}

impl ScriptedStage {
    async fn reading(&self) -> Result<Stage, UpstreamError> {
        self.readings
            .lock()
            .expect("lock")
            .pop_front()
            .expect("the test scripted fewer readings than it asked for")
    }
}

/// Slot texts per day, as a test writes them: `(date, ["08:00 - 10:30"])`.
pub type Days = Vec<(NaiveDate, Vec<&'static str>)>;

/// Serves fixed slot texts per area; areas listed in `failing` fail with the given error maker.
pub struct ScriptedSchedules {
    pub slots: Mutex<HashMap<AreaId, Days>>,
    pub failing: HashMap<AreaId, fn() -> UpstreamError>,
    pub calls: AtomicUsize,
}

impl ScriptedSchedules {
    pub fn new() -> Self {
        ScriptedSchedules {
            slots: Mutex::new(HashMap::new()),
            failing: HashMap::new(),
            calls: AtomicUsize::new(0),
        }
    }

    pub fn with(self, area: &Area, days: Days) -> Self {
        self.slots
            .lock()
            .expect("lock")
            .insert(area.id.clone(), days);
        self
    }

    pub fn failing(mut self, area: &Area, error: fn() -> UpstreamError) -> Self {
        self.failing.insert(area.id.clone(), error);
        self
    }

    pub fn set(&self, area: &Area, days: Days) {
        self.slots
            .lock()
            .expect("lock")
            .insert(area.id.clone(), days);
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl ScheduleSource for ScriptedSchedules {
    async fn schedules(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
    ) -> Result<Vec<Schedule>, UpstreamError> {
        let mut schedules = Vec::with_capacity(stages.len());
        for &stage in stages {
            // Stage 0 (load reduction, events) is nothing this fake knows of.
            if !stage.is_loadshedding() {
                schedules.push(Schedule::no_loadshedding(area.id.clone(), [today]));
                continue;
            }
            schedules.push(self.schedule_at(area, stage, today).await?);
        }
        Ok(schedules)
    }
}

impl ScriptedSchedules {
    async fn schedule_at(
        &self,
        area: &Area,
        stage: Stage,
        _today: NaiveDate,
    ) -> Result<Schedule, UpstreamError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(error) = self.failing.get(&area.id) {
            return Err(error());
        }
        let days = self
            .slots
            .lock()
            .expect("lock")
            .get(&area.id)
            .cloned()
            .ok_or_else(|| UpstreamError::AreaNotFound {
                service: "scripted",
                area: area.id.to_string(),
            })?;
        Ok(Schedule::from_days(
            area.id.clone(),
            stage,
            days.into_iter().map(|(date, texts)| {
                let slots = texts
                    .into_iter()
                    .map(|t| Slot::parse_on(date, t).expect("scripted slot"))
                    .collect();
                (date, slots)
            }),
        ))
    }
}

pub fn stage(n: u8) -> Stage {
    Stage::new(n).expect("valid stage")
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
}

pub fn milnerton() -> Area {
    Area::sepush(
        "za_wc_milnerton_14",
        "Milnerton (14)",
        "Eskom Direct, City of Cape Town, Western Cape",
    )
}

/// A DynamoDB Streams record as Lambda delivers it, with images in DynamoDB JSON.
pub fn stream_record(seq: &str, event_name: &str, new_image: Value, old_image: Value) -> Value {
    json!({
        "eventID": format!("event-{seq}"),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "af-south-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_764_316_800.0,
            "Keys": {"PK": {"S": "STAGE"}, "SK": {"S": "NATIONAL"}},
            "NewImage": new_image,
            "OldImage": old_image,
            "SequenceNumber": seq,
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:af-south-1:123456789012:table/loadshed/stream/2026-11-28T00:00:00.000"
    })
}

pub fn stage_image(n: u8, version: u64) -> Value {
    json!({
        "PK": {"S": "STAGE"}, "SK": {"S": "NATIONAL"}, "entity": {"S": "stage"},
        "stage": {"N": n.to_string()}, "version": {"N": version.to_string()},
        "updated_at": {"S": "2026-11-28T08:00:00Z"}
    })
}

/// The schedule task's stage-refresh marker as a stream image.
pub fn marker_image(n: u8, stage_updated_at: &str, refreshed_at: &str) -> Value {
    json!({
        "PK": {"S": "STAGE"}, "SK": {"S": "REFRESHED"}, "entity": {"S": "stage_refresh"},
        "stage": {"N": n.to_string()}, "stage_updated_at": {"S": stage_updated_at},
        "previous": {"N": "0"}, "refreshed_at": {"S": refreshed_at}
    })
}
