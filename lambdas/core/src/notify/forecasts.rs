//! The forecasts of many areas from the store: each area's schedules read once, for whichever
//! timelines a message compares (the stored ones and those they replaced).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::domain::forecast::stages_needed;
use crate::domain::{Area, AreaId, Forecast, Horizon, Rota, Schedule, Stage, Timelines};
use crate::errors::StoreError;
use crate::ports::ScheduleStore;

/// Schedules read from the store for a set of areas, and the time the forecasts are for.
#[derive(Debug, Clone)]
pub struct Forecasts {
    schedules: BTreeMap<(AreaId, Stage), Schedule>,
    now: DateTime<Utc>,
    horizon: Horizon,
}

impl Forecasts {
    /// Reads, for each of `areas`, the schedules any of `timelines` needs (each area once, its
    /// stages in one go per stage).
    pub async fn load(
        store: &dyn ScheduleStore,
        areas: &[Area],
        timelines: &[&Timelines],
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let mut schedules = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for area in areas {
            if !seen.insert(&area.id) {
                continue;
            }
            let stages: BTreeSet<Stage> = timelines
                .iter()
                .flat_map(|t| stages_needed(area, t))
                .collect();
            for stage in stages {
                if let Some(schedule) = store.schedule(&area.id, stage).await? {
                    schedules.insert((area.id.clone(), stage), schedule);
                }
            }
        }
        Ok(Forecasts {
            schedules,
            now,
            horizon: Horizon::ahead(now),
        })
    }

    /// Forecasts over `horizon` instead of today and tomorrow (the web pages list more days).
    pub fn with_horizon(mut self, horizon: Horizon) -> Self {
        self.horizon = horizon;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// `area`'s forecast under `timelines`.
    pub fn of(&self, area: &Area, timelines: &Timelines) -> Forecast {
        let rota: Rota = self
            .schedules
            .range((area.id.clone(), Stage::NONE)..)
            .take_while(|((id, _), _)| id == &area.id)
            .map(|((_, stage), schedule)| (*stage, schedule))
            .collect();
        Forecast::build(area, timelines, &rota, self.now, self.horizon)
    }
}
