//! The schedule task: fetch the outage slots at the current stage for every area that matters, and
//! store each schedule that changed. One area failing never loses the others.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use futures::{StreamExt, stream};
use serde_json::Value;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::domain::{Area, AreaId, Schedule, Stage};
use crate::errors::Named;
use crate::ports::{ScheduleSource, StageRefresh, Store};

use super::{AreaFailure, Invocation, ScheduleOutcome, TaskError, WorkflowState};

/// Areas fetched at once: enough to finish hundreds of areas within the task timeout, few enough
/// not to trip Eskom's firewall or EskomSePush's rate limit.
const CONCURRENT_FETCHES: usize = 4;

/// How many days a stage-0 schedule speaks for ("no loadshedding" today and tomorrow).
const FREE_DAYS: i64 = 2;

pub struct ScheduleTask {
    source: Arc<dyn ScheduleSource>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl ScheduleTask {
    pub fn new(
        source: Arc<dyn ScheduleSource>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        ScheduleTask {
            source,
            store,
            clock,
        }
    }

    pub async fn handle(&self, payload: Value) -> Result<Value, TaskError> {
        match Invocation::parse(payload)? {
            Invocation::Workflow(invocation) => {
                to_value(self.for_workflow(&invocation.workflow).await?)
            }
            Invocation::Event(_) | Invocation::Schedule(_) => {
                to_value(self.refresh_all(None).await?)
            }
            Invocation::Stream(batch) => to_value(
                super::stream::for_each_record(batch, |change| self.on_change(change)).await,
            ),
        }
    }

    /// A workflow run: the stage comes from the stage task's result (or the store), the areas from
    /// the input, the requesting chat, or every subscription.
    pub async fn for_workflow(&self, state: &WorkflowState) -> Result<ScheduleOutcome, TaskError> {
        let stage = match &state.stage {
            Some(outcome) => outcome.stage,
            None => self.stored_stage().await?,
        };
        // A stage change is news for every subscriber, and its announcement shows each their slots
        // at the new stage: refresh every area then, not only the ones asked for.
        let stage_changed = state.stage.as_ref().is_some_and(|s| s.changed);
        let areas = match stage_changed {
            true => ResolvedAreas {
                found: self.store.subscribed_areas().await?,
                unknown: Vec::new(),
            },
            false => self.areas_for(state).await?,
        };
        let outcome = self.refresh(stage, areas.found, areas.unknown).await;
        if stage_changed {
            let previous = state.stage.as_ref().and_then(|s| s.previous);
            self.mark_refreshed(stage, previous).await?;
        }
        succeeded_somewhere(outcome)
    }

    /// Refreshes every subscribed area at `stage`, or at the stored stage.
    pub async fn refresh_all(&self, stage: Option<Stage>) -> Result<ScheduleOutcome, TaskError> {
        let stage = match stage {
            Some(stage) => stage,
            None => self.stored_stage().await?,
        };
        let areas = self.store.subscribed_areas().await?;
        succeeded_somewhere(self.refresh(stage, areas, Vec::new()).await)
    }

    /// The refresh a stage change calls for (its stream record): every area, then the marker.
    async fn refresh_for_change(
        &self,
        stage: Stage,
        previous: Option<Stage>,
    ) -> Result<ScheduleOutcome, TaskError> {
        let areas = self.store.subscribed_areas().await?;
        let outcome = self.refresh(stage, areas, Vec::new()).await;
        self.mark_refreshed(stage, previous).await?;
        succeeded_somewhere(outcome)
    }

    /// After the refresh for a stage change, the first one to finish writes the marker
    /// that lets the choreography announce the change (with the slots just stored). Written even
    /// when areas failed: a stage change is announced within a minute with the slots we have, and an
    /// area's schedule stored later is news of its own.
    async fn mark_refreshed(&self, stage: Stage, previous: Option<Stage>) -> Result<(), TaskError> {
        let Some(stored) = self.store.current_stage().await? else {
            return Ok(());
        };
        if stored.stage != stage {
            // The stage moved on while we fetched: the newer change gets its own refresh.
            return Ok(());
        }
        let marker = StageRefresh {
            stage,
            stage_updated_at: stored.updated_at,
            previous,
            refreshed_at: self.clock.now(),
        };
        if self.store.put_stage_refresh(&marker).await? {
            info!(%stage, changed_at = %stored.updated_at, "schedules refreshed after the stage change");
        }
        Ok(())
    }

    async fn on_change(&self, change: super::stream::Change) -> Result<(), TaskError> {
        match change {
            super::stream::Change::Stage { stage, previous } => self
                .refresh_for_change(stage.stage, previous)
                .await
                .map(drop),
            // The schedule task writes schedules and markers; it does not react to them.
            super::stream::Change::Schedule { .. }
            | super::stream::Change::StageRefreshed(_)
            | super::stream::Change::Other => Ok(()),
        }
    }

    async fn stored_stage(&self) -> Result<Stage, TaskError> {
        self.store
            .current_stage()
            .await?
            .map(|s| s.stage)
            .ok_or_else(|| {
                TaskError::invalid_input(
                    "no stage is stored yet and none was given; run the stage task first",
                )
            })
    }

    async fn areas_for(&self, state: &WorkflowState) -> Result<ResolvedAreas, TaskError> {
        let known = match state.chat_id {
            Some(chat) => self.store.areas_of(chat).await?,
            None => self.store.subscribed_areas().await?,
        };
        if state.areas.is_empty() {
            return Ok(ResolvedAreas {
                found: known,
                unknown: Vec::new(),
            });
        }
        // Named areas must be known to us (subscribed), because only then do we know how to ask
        // upstream for them.
        let mut resolved = ResolvedAreas::default();
        for id in &state.areas {
            match known.iter().find(|a| &a.id == id) {
                Some(area) => resolved.found.push(area.clone()),
                None => resolved.unknown.push(id.clone()),
            }
        }
        Ok(resolved)
    }

    async fn refresh(
        &self,
        stage: Stage,
        areas: Vec<Area>,
        unknown: Vec<AreaId>,
    ) -> ScheduleOutcome {
        let today = self.clock.today();
        let mut outcome = ScheduleOutcome {
            stage: Some(stage),
            failed: unknown
                .into_iter()
                .map(|area| AreaFailure {
                    message: format!(
                        "area {area} has no subscribers, so we do not know how to fetch it"
                    ),
                    error: crate::errors::ErrorName::AreaNotFound,
                    area,
                })
                .collect(),
            ..ScheduleOutcome::default()
        };
        let results: Vec<(AreaId, Result<bool, TaskError>)> = stream::iter(areas)
            .map(|area| async move {
                let result = self.refresh_one(&area, stage, today).await;
                (area.id, result)
            })
            .buffered(CONCURRENT_FETCHES)
            .collect()
            .await;
        for (area, result) in results {
            match result {
                Ok(true) => outcome.changed.push(area),
                Ok(false) => outcome.unchanged.push(area),
                Err(error) => {
                    warn!(%area, error = %error, name = %error.error_name(), "schedule refresh failed for one area");
                    outcome.failed.push(AreaFailure {
                        area,
                        error: error.error_name(),
                        message: error.to_string(),
                    });
                }
            }
        }
        info!(
            %stage,
            changed = outcome.changed.len(),
            unchanged = outcome.unchanged.len(),
            failed = outcome.failed.len(),
            "schedules refreshed"
        );
        outcome
    }

    /// True when the stored schedule changed.
    async fn refresh_one(
        &self,
        area: &Area,
        stage: Stage,
        today: NaiveDate,
    ) -> Result<bool, TaskError> {
        let fresh = if stage.is_loadshedding() {
            self.source.schedule(area, stage, today).await?
        } else {
            // Stage 0 has no slots: nothing to ask upstream, but "no loadshedding" is news worth storing.
            Schedule::no_loadshedding(
                area.id.clone(),
                (0..FREE_DAYS).map(|d| today + Duration::days(d)),
            )
        };
        let stored = self.store.schedule(&area.id, stage).await?;
        let changed = stored.is_none_or(|stored| fresh.differs_from(&stored, today));
        // Written even when only upstream's window slid, so the stored copy never goes stale; only a
        // change people would notice is reported as one.
        self.store.put_schedule(&fresh, self.clock.now()).await?;
        Ok(changed)
    }
}

#[derive(Default)]
struct ResolvedAreas {
    found: Vec<Area>,
    unknown: Vec<AreaId>,
}

fn to_value(value: impl serde::Serialize) -> Result<Value, TaskError> {
    serde_json::to_value(value).map_err(|e| TaskError::invalid_input(e.to_string()))
}

/// When every area failed, the run failed: the first error's name lets the workflow retry a transient
/// failure and catch a permanent one. Some areas failing is a success that reports them.
fn succeeded_somewhere(outcome: ScheduleOutcome) -> Result<ScheduleOutcome, TaskError> {
    let nothing_worked = outcome.changed.is_empty() && outcome.unchanged.is_empty();
    match outcome.failed.first() {
        Some(first) if nothing_worked => Err(TaskError::Named {
            name: first.error,
            message: format!(
                "all {} areas failed; first: {}: {}",
                outcome.failed.len(),
                first.area,
                first.message
            ),
        }),
        _ => Ok(outcome),
    }
}
