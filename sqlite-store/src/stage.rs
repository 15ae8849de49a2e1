//! The stage, its refresh marker and the schedules.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loadshed_core::domain::{AreaId, Schedule, Stage, Timelines};
use loadshed_core::errors::StoreError;
use loadshed_core::ports::{ScheduleStore, StageRefresh, StageStore, StageWrite, StoredStage};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::codec::{from_json, instant, parse_instant, to_json, unavailable};
use crate::feed::Touched;

pub(crate) fn stored(connection: &Connection) -> Result<Option<StoredStage>, StoreError> {
    let json: Option<String> = connection
        .query_row("SELECT stored FROM stage WHERE id = 1", [], |row| {
            row.get(0)
        })
        .optional()
        .map_err(unavailable)?;
    json.map(|json| from_json(&json, "stage")).transpose()
}

pub(crate) fn marker(connection: &Connection) -> Result<Option<StageRefresh>, StoreError> {
    let json: Option<String> = connection
        .query_row("SELECT marker FROM stage_refresh WHERE id = 1", [], |row| {
            row.get(0)
        })
        .optional()
        .map_err(unavailable)?;
    json.map(|json| from_json(&json, "stage_refresh"))
        .transpose()
}

pub(crate) fn schedule_row(
    connection: &Connection,
    area: &AreaId,
    stage: Stage,
) -> Result<Option<(Schedule, DateTime<Utc>)>, StoreError> {
    let key = format!("schedule {area} {}", stage.number());
    let row: Option<(String, String)> = connection
        .query_row(
            "SELECT schedule, updated_at FROM schedules WHERE area = ?1 AND stage = ?2",
            params![area.as_str(), stage.number()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(unavailable)?;
    row.map(|(schedule, updated_at)| {
        Ok((
            from_json(&schedule, &key)?,
            parse_instant(&updated_at, &key)?,
        ))
    })
    .transpose()
}

#[async_trait]
impl StageStore for SqliteStore {
    async fn current_stage(&self) -> Result<Option<StoredStage>, StoreError> {
        self.read(stored).await
    }

    async fn stage_refresh(&self) -> Result<Option<StageRefresh>, StoreError> {
        self.read(marker).await
    }

    async fn put_stage_refresh(&self, new: &StageRefresh) -> Result<bool, StoreError> {
        let new = new.clone();
        self.write(move |tx| {
            tx.touch(Touched::StageRefresh)?;
            if marker(tx.connection())?
                .is_some_and(|stored| stored.stage_updated_at >= new.stage_updated_at)
            {
                return Ok(false);
            }
            let json = to_json(&new, "stage_refresh")?;
            tx.connection()
                .execute(
                    "INSERT INTO stage_refresh (id, marker) VALUES (1, ?1)
                     ON CONFLICT (id) DO UPDATE SET marker = excluded.marker",
                    [json],
                )
                .map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn put_stage(
        &self,
        timelines: &Timelines,
        replaced: Option<&Timelines>,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        let written = StoredStage::next(timelines, replaced, at, expected);
        self.write(move |tx| {
            tx.touch(Touched::Stage)?;
            let old = stored(tx.connection())?;
            if old.as_ref().map(|s| s.version) != expected {
                return Ok(StageWrite::Conflict);
            }
            let written = written.over(old.as_ref());
            let json = to_json(&written, "stage")?;
            tx.connection()
                .execute(
                    "INSERT INTO stage (id, stored) VALUES (1, ?1)
                     ON CONFLICT (id) DO UPDATE SET stored = excluded.stored",
                    [json],
                )
                .map_err(unavailable)?;
            Ok(StageWrite::Written(written))
        })
        .await
    }
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn schedule(&self, area: &AreaId, stage: Stage) -> Result<Option<Schedule>, StoreError> {
        let area = area.clone();
        self.read(move |connection| {
            Ok(schedule_row(connection, &area, stage)?.map(|(schedule, _)| schedule))
        })
        .await
    }

    async fn put_schedule(
        &self,
        schedule: &Schedule,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let schedule = schedule.clone();
        self.write(move |tx| {
            let (area, stage) = (schedule.area_id.clone(), schedule.stage);
            tx.touch(Touched::Schedule(area.clone(), stage))?;
            if schedule_row(tx.connection(), &area, stage)?
                .is_some_and(|(stored, _)| stored == schedule)
            {
                return Ok(false);
            }
            let json = to_json(&schedule, &format!("schedule {area}"))?;
            tx.connection()
                .execute(
                    "INSERT INTO schedules (area, stage, schedule, updated_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (area, stage) DO UPDATE
                     SET schedule = excluded.schedule, updated_at = excluded.updated_at",
                    params![area.as_str(), stage.number(), json, instant(at)],
                )
                .map_err(unavailable)?;
            Ok(true)
        })
        .await
    }
}
