//! The schedule task: fetch the outage slots every area that matters needs for its forecast (at
//! each stage its authority's timeline holds, now or announced, and stage 0: load reduction and
//! upstream's events), and store each schedule that changed. One area failing never loses the
//! others. Areas under EskomSePush's retired v2 ids are not fetched (each call would be refused
//! and cost quota); notify tells their subscribers to subscribe again.
//!
//! Retries redo only what failed: each area done is remembered under the run (the workflow
//! execution, the stage version of a stream record, the hour of a scheduled run), and a retry of
//! the same run skips it. A stream record or scheduled run with an area failed transiently fails
//! itself, naming the areas, so its retry (and in the end the dead-letter queue and its alarm)
//! picks them up; a workflow run reports them in `failed` and goes on to notify. Each invocation
//! stops starting areas when its time budget is spent, reporting the rest as timed out rather than
//! being killed with nothing said. And every run logs how many areas have had no good fetch for
//! longer than `stale_after` (`stale_areas`), which the template turns into an alarm.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use futures::{StreamExt, stream};
use serde_json::Value;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::domain::{Area, AreaId, Schedule, Stage, Timelines};
use crate::errors::Named;
use crate::ports::{ScheduleSource, StageRefresh, Store, StoredStage};

use super::{AreaFailure, Invocation, ScheduleOutcome, TaskError, WorkflowState};

/// Areas fetched at once: enough to finish hundreds of areas within the task timeout, few enough
/// not to trip Eskom's firewall or EskomSePush's rate limit.
const CONCURRENT_FETCHES: usize = 4;

/// How many days a stage-0 schedule speaks for ("no loadshedding" today and tomorrow).
const FREE_DAYS: i64 = 2;

/// How long an area done in a run is remembered for that run's retries: longer than any chain
/// of retries (the workflow's, a stream record's, Lambda's for a scheduled run).
const DONE_FOR_MINUTES: i64 = 60;

/// Who holds the per-area "last good fetch" leases.
const HOLDER: &str = "schedule-task";

pub struct ScheduleTask {
    source: Arc<dyn ScheduleSource>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    time_budget: std::time::Duration,
    stale_after: Duration,
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
            time_budget: Self::DEFAULT_TIME_BUDGET,
            stale_after: Duration::hours(Self::DEFAULT_STALE_AFTER_HOURS),
        }
    }

    /// Below the function's timeout (120 s in `infra/template.yaml`) by more than one upstream
    /// request's timeout, so the areas in flight finish and the invocation answers.
    pub const DEFAULT_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(90);
    /// The daily refresh fetches every area once a day: a day and a half without a good fetch is
    /// an area left behind.
    pub const DEFAULT_STALE_AFTER_HOURS: i64 = 36;

    pub fn with_time_budget(mut self, budget: std::time::Duration) -> Self {
        self.time_budget = budget;
        self
    }

    pub fn with_stale_after(mut self, stale_after: Duration) -> Self {
        self.stale_after = stale_after;
        self
    }

    pub async fn handle(&self, payload: Value) -> Result<Value, TaskError> {
        match Invocation::parse(payload)? {
            Invocation::Workflow(invocation) => to_value(
                self.workflow_run(&invocation.workflow, Some(&invocation.execution_id))
                    .await?,
            ),
            Invocation::Event(_) | Invocation::Schedule(_) => {
                let now = self.clock.now().with_timezone(&crate::clock::ZONE);
                let run = format!("scheduled:{}T{:02}", now.date_naive(), now.hour());
                to_value(retry_transient(self.refresh_all_in(Some(&run)).await?)?)
            }
            Invocation::Stream(batch) => to_value(
                super::stream::for_each_record(batch, |change| self.on_change(change)).await,
            ),
        }
    }

    /// A workflow run: the stage comes from the stage task's result (or the store), the areas from
    /// the input, the requesting chat, or every subscription.
    pub async fn for_workflow(&self, state: &WorkflowState) -> Result<ScheduleOutcome, TaskError> {
        self.workflow_run(state, None).await
    }

    async fn workflow_run(
        &self,
        state: &WorkflowState,
        run: Option<&str>,
    ) -> Result<ScheduleOutcome, TaskError> {
        // The stored timelines; before any is stored, the stage the run's stage task read.
        let timelines = match (self.store.current_stage().await?, &state.stage) {
            (Some(stored), _) => stored.timelines(),
            (None, Some(outcome)) => Timelines::national_only(outcome.stage),
            (None, None) => self.stored_timelines().await?,
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
        let run = run.map(|id| format!("workflow:{id}"));
        let mut outcome = self
            .refresh(&timelines, areas.found, areas.unknown, run.as_deref())
            .await;
        if let Some(change) = state.stage.as_ref().filter(|s| s.changed) {
            self.mark_refreshed(change.updated_at, change.previous)
                .await?;
            // Notify announces the stage change itself, not each area's write: the times would
            // only weigh down the execution's state (256 KB at most) with every area.
            outcome.written_at.clear();
        }
        succeeded_somewhere(outcome)
    }

    /// Refreshes every subscribed area for the stored timelines.
    pub async fn refresh_all(&self) -> Result<ScheduleOutcome, TaskError> {
        self.refresh_all_in(None).await
    }

    async fn refresh_all_in(&self, run: Option<&str>) -> Result<ScheduleOutcome, TaskError> {
        let timelines = self.stored_timelines().await?;
        let areas = self.store.subscribed_areas().await?;
        succeeded_somewhere(self.refresh(&timelines, areas, Vec::new(), run).await)
    }

    /// The refresh a change of the timelines calls for (its stream record): every area, then the
    /// marker.
    async fn refresh_for_change(
        &self,
        stored: &StoredStage,
        previous: Option<Stage>,
        run: &str,
    ) -> Result<ScheduleOutcome, TaskError> {
        let areas = self.store.subscribed_areas().await?;
        let outcome = self
            .refresh(&stored.timelines(), areas, Vec::new(), Some(run))
            .await;
        self.mark_refreshed(stored.updated_at, previous).await?;
        succeeded_somewhere(outcome)
    }

    /// After the refresh for a change of the timelines, the first one to finish writes the marker
    /// that lets the choreography announce the change (with the slots just stored). Written even
    /// when areas failed: a change is announced within a minute with the slots we have, and an
    /// area's schedule stored later is news of its own.
    async fn mark_refreshed(
        &self,
        changed_at: DateTime<Utc>,
        previous: Option<Stage>,
    ) -> Result<(), TaskError> {
        let Some(stored) = self.store.current_stage().await? else {
            return Ok(());
        };
        if stored.updated_at != changed_at {
            // The timelines moved on while we fetched: the newer change gets its own refresh.
            return Ok(());
        }
        let marker = StageRefresh {
            stage: stored.stage,
            stage_updated_at: stored.updated_at,
            previous,
            refreshed_at: self.clock.now(),
        };
        if self.store.put_stage_refresh(&marker).await? {
            info!(stage = %stored.stage, changed_at = %stored.updated_at, "schedules refreshed after the stage change");
        }
        Ok(())
    }

    async fn on_change(&self, change: super::stream::Change) -> Result<(), TaskError> {
        match change {
            super::stream::Change::Stage { stage, previous } => {
                let run = format!("stage-v{}", stage.version);
                let outcome = self.refresh_for_change(&stage, previous, &run).await?;
                retry_transient(outcome).map(drop)
            }
            // The schedule task writes schedules and markers; it does not react to them.
            super::stream::Change::Schedule { .. }
            | super::stream::Change::StageRefreshed(_)
            | super::stream::Change::Other => Ok(()),
        }
    }

    async fn stored_timelines(&self) -> Result<Timelines, TaskError> {
        self.store
            .current_stage()
            .await?
            .map(|s| s.timelines())
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
        timelines: &Timelines,
        areas: Vec<Area>,
        unknown: Vec<AreaId>,
        run: Option<&str>,
    ) -> ScheduleOutcome {
        let stage = timelines.national.current;
        let today = self.clock.today();
        let deadline = tokio::time::Instant::now() + self.time_budget;
        let (retired, areas): (Vec<Area>, Vec<Area>) =
            areas.into_iter().partition(Area::has_retired_id);
        if !retired.is_empty() {
            info!(
                count = retired.len(),
                "areas under retired EskomSePush v2 ids not fetched"
            );
        }
        let mut outcome = ScheduleOutcome {
            stage: Some(stage),
            retired: retired.into_iter().map(|area| area.id).collect(),
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
        let results: Vec<(AreaId, Result<Done, TaskError>)> = stream::iter(areas)
            .map(|area| async move {
                let stages = stages_for(&area, timelines);
                let result = self
                    .refresh_in_run(&area, &stages, today, run, deadline)
                    .await;
                (area.id, result)
            })
            .buffered(CONCURRENT_FETCHES)
            .collect()
            .await;
        let mut done_earlier = 0;
        for (area, result) in results {
            match result {
                Ok(Done::Changed { at }) => {
                    outcome.written_at.insert(area.clone(), at);
                    outcome.changed.push(area);
                }
                Ok(Done::Unchanged) => outcome.unchanged.push(area),
                // Its change, if any, was stored by that attempt, and reached notify through the
                // table's stream; for this attempt it is unchanged.
                Ok(Done::Earlier) => {
                    done_earlier += 1;
                    outcome.unchanged.push(area);
                }
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
        let stale = self.stale_areas(&outcome.failed).await;
        let failed: Vec<&str> = outcome.failed.iter().map(|f| f.area.as_str()).collect();
        info!(
            %stage,
            changed = outcome.changed.len(),
            unchanged = outcome.unchanged.len(),
            done_earlier,
            failed = outcome.failed.len(),
            ?failed,
            stale_areas = stale.len(),
            ?stale,
            "schedules refreshed"
        );
        outcome
    }

    /// One area within the run: skipped if an earlier attempt of the run did it, given up on when
    /// the time budget is spent, remembered when done.
    async fn refresh_in_run(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
        run: Option<&str>,
        deadline: tokio::time::Instant,
    ) -> Result<Done, TaskError> {
        let stage_list: Vec<String> = stages.iter().map(|s| s.number().to_string()).collect();
        let done_key =
            run.map(|run| format!("schedule-done:{run}:{}:{}", area.id, stage_list.join(",")));
        if let Some(key) = &done_key
            && self.store.is_claimed(key, self.clock.now()).await?
        {
            return Ok(Done::Earlier);
        }
        let budget_spent = || TaskError::Named {
            name: crate::errors::ErrorName::UpstreamTimeout,
            message: format!(
                "the invocation's time budget ({}s) was spent before area {} was done",
                self.time_budget.as_secs(),
                area.id
            ),
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(budget_spent());
        }
        let written = tokio::time::timeout_at(deadline, self.refresh_one(area, stages, today))
            .await
            .map_err(|_| budget_spent())??;
        let now = self.clock.now();
        if let Some(key) = &done_key {
            self.store
                .try_claim(key, now, now + Duration::minutes(DONE_FOR_MINUTES))
                .await?;
        }
        self.store
            .try_claim_for(&fetched_key(&area.id), HOLDER, now, now + self.stale_after)
            .await?;
        Ok(match written.changed {
            true => Done::Changed { at: written.at },
            false => Done::Unchanged,
        })
    }

    /// The failed areas whose last good fetch is older than `stale_after` (or never happened).
    /// A store error here only costs the count, so it is logged, not fatal.
    async fn stale_areas(&self, failed: &[AreaFailure]) -> Vec<AreaId> {
        let now = self.clock.now();
        let mut stale = Vec::new();
        for failure in failed {
            match self
                .store
                .is_claimed(&fetched_key(&failure.area), now)
                .await
            {
                Ok(true) => {}
                Ok(false) => stale.push(failure.area.clone()),
                Err(error) => {
                    warn!(area = %failure.area, %error, "cannot tell whether the area is stale")
                }
            }
        }
        if !stale.is_empty() {
            warn!(
                count = stale.len(),
                ?stale,
                hours = self.stale_after.num_hours(),
                "areas without a good schedule fetch past the threshold"
            );
        }
        stale
    }

    /// Fetches and stores one area's schedules at `stages`; says when, and whether any changed.
    async fn refresh_one(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
    ) -> Result<Written, TaskError> {
        let fetched = self.source.schedules(area, stages, today).await?;
        let mut changed = false;
        let at = self.clock.now();
        for fresh in fetched {
            if fresh.area_id != area.id {
                return Err(TaskError::Named {
                    name: crate::errors::ErrorName::UpstreamMalformed,
                    message: format!(
                        "asked for area {}, got a schedule of {}",
                        area.id, fresh.area_id
                    ),
                });
            }
            // A source that answers every stage at once (EskomSePush) returns more than asked:
            // keep those too, they cost nothing and serve the next announcement.
            let fresh = match fresh.stage == Stage::NONE {
                // "No loadshedding" speaks for today and tomorrow at least: a source that says
                // nothing of load reduction for a day has none to tell.
                true => with_free_days(fresh, today),
                false => fresh,
            };
            let stored = self.store.schedule(&area.id, fresh.stage).await?;
            // Only the stages the forecast reads can change what people are told.
            changed |= stages.contains(&fresh.stage)
                && stored.is_none_or(|stored| fresh.differs_from(&stored, today));
            // Written even when only upstream's window slid, so the stored copy never goes stale;
            // only a change people would notice is reported as one.
            self.store.put_schedule(&fresh, at).await?;
        }
        Ok(Written { changed, at })
    }
}

/// One schedule stored: whether people would notice the change, and when it was written.
struct Written {
    changed: bool,
    at: DateTime<Utc>,
}

/// What became of one area.
enum Done {
    /// Stored at `at`, different from before.
    Changed {
        at: DateTime<Utc>,
    },
    Unchanged,
    /// An earlier attempt of the same run did it.
    Earlier,
}

/// The stage-0 schedule covering today and tomorrow at least: days the source did not list are
/// free of load reduction as far as anyone can tell.
fn with_free_days(schedule: Schedule, today: NaiveDate) -> Schedule {
    let free: Vec<NaiveDate> = (0..FREE_DAYS)
        .map(|d| today + Duration::days(d))
        .filter(|date| !schedule.covers(*date))
        .collect();
    if free.is_empty() {
        return schedule;
    }
    let mut days: Vec<(NaiveDate, Vec<crate::domain::Slot>)> =
        schedule.days().map(|day| (day.date, day.slots)).collect();
    days.extend(free.into_iter().map(|date| (date, Vec::new())));
    Schedule::from_days(schedule.area_id.clone(), Stage::NONE, days)
        .with_events(schedule.events().to_vec())
}

/// The stages an area's forecast needs: stage 0 (load reduction, upstream's events) and every
/// stage its authority's timeline holds, now or announced.
fn stages_for(area: &Area, timelines: &Timelines) -> Vec<Stage> {
    crate::domain::forecast::stages_needed(area, timelines)
        .into_iter()
        .collect()
}

/// The lease renewed at each good fetch of an area: while it lives, the area is not stale.
fn fetched_key(area: &AreaId) -> String {
    format!("schedule-fetched:{area}")
}

/// For runs nobody reads the output of (a stream record, a scheduled run): an area failed with a
/// transient error fails the run, naming every failed area, so it is retried (the areas done are
/// skipped) and, if it keeps failing, dead-lettered where the on-call alarm sees it.
fn retry_transient(outcome: ScheduleOutcome) -> Result<ScheduleOutcome, TaskError> {
    let Some(first) = outcome.failed.iter().find(|f| f.error.is_transient()) else {
        return Ok(outcome);
    };
    let names: Vec<&str> = outcome.failed.iter().map(|f| f.area.as_str()).collect();
    Err(TaskError::Named {
        name: first.error,
        message: format!(
            "{} of {} areas failed ({}); first: {}: {}",
            outcome.failed.len(),
            outcome.failed.len() + outcome.changed.len() + outcome.unchanged.len(),
            names.join(", "),
            first.area,
            first.message
        ),
    })
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
                "all {} areas failed ({}); first: {}: {}",
                outcome.failed.len(),
                outcome
                    .failed
                    .iter()
                    .map(|f| f.area.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                first.area,
                first.message
            ),
        }),
        _ => Ok(outcome),
    }
}
