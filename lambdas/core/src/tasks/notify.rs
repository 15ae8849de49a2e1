//! The notify task: decides who hears what, renders it, and hands it to the broadcaster.
//!
//! Every message has a delivery key that names the event it tells of, the same in both modes
//! (a workflow run and a stream record about the same stage change build the same key), so the
//! ledger lets each subscriber hear of each event once however many runs, retries and
//! redeliveries carry it:
//!
//! - a stage change, `stage:<n>@<stored updated_at>`: announced by the workflow's Notify after its
//!   schedule refresh, and in the choreography when the schedule task's marker
//!   ([`StageRefresh`]) says the schedules at the new stage are stored. The message shows each
//!   chat's slots at the new stage, so the schedule writes of that refresh are not news of their
//!   own: a schedule record written up to the marker's `refreshed_at` is left to the announcement;
//!   one written later (an area that failed and was fetched again, a changed upstream) is.
//! - a schedule change, `schedule:<area>@<written_at>`, for changes people would notice of a stage
//!   the area's forecast reads;
//! - a reminder, `reminder:<area>:<outage start>`, at each chat's own lead time (`/settings`);
//!   a status, `status:<execution>`.
//!
//! What people read follows each area's forecast ([`Forecast`]): the timeline of the area's
//! authority applied to its slots, load reduction, and EskomSePush's own events. A change of the
//! stored timelines is news only for the chats whose forecast it moves (the stored item keeps the
//! timelines it replaced, so both modes compare the same two): a revision that moves nobody's
//! outages sends nothing, and an announced change that arrives when announced ("stage 4 from
//! 06:00", then at 06:00 "stage 4 now") moves nothing either, so it raises no second alarm; the
//! reminders still come before each outage.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::clock::Clock;
use crate::domain::forecast::stages_needed;
use crate::domain::{Area, AreaId, ChatId, Forecast, Outage, ReminderLead, Stage, Timelines};
use crate::errors::{ErrorName, StoreError};
use crate::notify::render::{self, AreaOutlook};
use crate::notify::{
    BroadcastConfig, BroadcastReport, Broadcaster, Forecasts, Freshness, Outgoing, Pacer,
    PacingLimits, Run, by_chat,
};
use crate::ports::{DeliveryKey, Messenger, StageRefresh, Store, StoredStage};

use super::failure::failure_message;
use super::stream::{self, Change};
use super::superseded::StageFreshness;
use super::{Invocation, ScheduleOutcome, TaskError, WorkflowState};

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// How far back a reminder run looks for slots that started since the previous run: the
    /// reminder schedule's period, so a late run still reminds ("has started") and none is skipped.
    pub reminder_lookback: Duration,
    pub broadcast: BroadcastConfig,
    pub pacing: PacingLimits,
    /// Subscribers read at once while an announcement is planned (tests make it small to cross
    /// pages with few chats).
    pub planning_page: usize,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            reminder_lookback: Duration::minutes(5),
            broadcast: BroadcastConfig::default(),
            pacing: PacingLimits::default(),
            planning_page: PLANNING_PAGE,
        }
    }
}

impl NotifyConfig {
    /// Paid broadcasts at `rate` messages a second (0: off); see `notify::pacing`. Enough chats
    /// are served at once to keep that rate while Telegram takes up to 3 s to answer (each chat
    /// waits for its answer and the ledger's confirmation); a run dropped to the free rate serves
    /// the free rate's number.
    pub fn with_paid_broadcast_rate(mut self, rate: u32) -> Self {
        self.pacing = self.pacing.with_paid_rate(rate);
        let in_flight = usize::try_from(rate).unwrap_or(usize::MAX) * 3;
        self.broadcast.paid_concurrency = self.broadcast.concurrency.max(in_flight);
        self
    }
}

/// What a notify run did, for the workflow's output and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyOutcome {
    /// Messages the run decided on (before the ledger skipped those already sent).
    pub planned: usize,
    pub sent: usize,
    pub already_delivered: usize,
    /// Claimed by another run (the other mode, or a concurrent retry), which sends them.
    #[serde(default)]
    pub held_elsewhere: usize,
    /// Left for the next run: the deadline came, or Telegram kept failing. The workflow loops back
    /// to Notify while this is above 0; a stream record is retried.
    #[serde(default)]
    pub remaining: usize,
    pub failed: usize,
    pub removed_chats: Vec<ChatId>,
    /// Sent as paid broadcasts (`TELEGRAM_PAID_BROADCAST_RATE`).
    #[serde(default)]
    pub paid: usize,
    /// What the paid ones cost: 0.1 Star each (Telegram charges only delivered messages).
    #[serde(default)]
    pub stars: Stars,
    /// Why the run dropped to the free rate, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_fallback: Option<String>,
    /// Stage announcements not sent because a newer one tells the chat the current state.
    #[serde(default)]
    pub superseded: usize,
}

/// Telegram Stars, kept in tenths (a paid message costs 0.1) so sums are exact; written as a
/// number of Stars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stars {
    pub tenths: u64,
}

impl Stars {
    /// The cost of `paid` paid broadcast messages.
    pub fn for_paid_messages(paid: usize) -> Self {
        Stars {
            tenths: paid as u64,
        }
    }
}

impl Serialize for Stars {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.tenths as f64 / 10.0)
    }
}

impl<'de> Deserialize<'de> for Stars {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stars = f64::deserialize(deserializer)?;
        if !stars.is_finite() || stars < 0.0 {
            return Err(serde::de::Error::custom(
                "stars must be a number of 0 or more",
            ));
        }
        Ok(Stars {
            tenths: (stars * 10.0).round() as u64,
        })
    }
}

impl NotifyOutcome {
    fn from_report(planned: usize, report: &BroadcastReport) -> Self {
        NotifyOutcome {
            planned,
            sent: report.sent,
            already_delivered: report.already_delivered,
            held_elsewhere: report.held_elsewhere,
            remaining: report.remaining,
            failed: report.failed.len(),
            removed_chats: report.removed_chats.clone(),
            paid: report.paid,
            stars: Stars::for_paid_messages(report.paid),
            paid_fallback: report.paid_fallback.clone(),
            superseded: report.superseded,
        }
    }
}

pub struct NotifyTask {
    store: Arc<dyn Store>,
    messenger: Arc<dyn Messenger>,
    clock: Arc<dyn Clock>,
    /// One per process: every run of this task shares Telegram's budget (see `notify::pacing`).
    pacer: Arc<Pacer>,
    config: NotifyConfig,
}

impl NotifyTask {
    pub fn new(
        store: Arc<dyn Store>,
        messenger: Arc<dyn Messenger>,
        clock: Arc<dyn Clock>,
        config: NotifyConfig,
    ) -> Self {
        NotifyTask {
            pacer: Arc::new(Pacer::new(config.pacing)),
            store,
            messenger,
            clock,
            config,
        }
    }

    /// An invocation with no deadline (tests, tools).
    pub async fn handle(&self, payload: Value) -> Result<Value, TaskError> {
        self.handle_within(payload, None).await
    }

    /// An invocation that is cut off after `budget` (the Lambda deadline): no send starts too close
    /// to it, and what is left is reported for the next run.
    pub async fn handle_within(
        &self,
        payload: Value,
        budget: Option<std::time::Duration>,
    ) -> Result<Value, TaskError> {
        let deadline = budget.map(|left| tokio::time::Instant::now() + left);
        match Invocation::parse(payload)? {
            Invocation::Workflow(invocation) => {
                // The execution's name: a Step Functions retry of this Notify takes its claims back.
                let run =
                    Run::new(format!("wf:{}", invocation.execution_id)).with_deadline(deadline);
                self.with_reminders_alongside(
                    async {
                        to_value(
                            self.for_workflow_run(
                                &invocation.workflow,
                                &invocation.execution_id,
                                &run,
                            )
                            .await?,
                        )
                    },
                    deadline,
                )
                .await
            }
            Invocation::Event(_) | Invocation::Schedule(_) => {
                let run =
                    Run::new(format!("reminders:{}", uuid::Uuid::new_v4())).with_deadline(deadline);
                to_value(self.reminders_run(&run).await?)
            }
            Invocation::Stream(batch) => {
                let records = async {
                    to_value(
                        stream::for_each_record_with_id(batch, |id, change| async move {
                            // The record's event id: its redelivery takes its claims back.
                            let run = Run::new(format!("stream:{id}")).with_deadline(deadline);
                            let outcome = self.on_change_run(change, &run).await?;
                            if outcome.remaining > 0 {
                                return Err(TaskError::Named {
                                    name: ErrorName::NotifyUnfinished,
                                    message: format!(
                                        "{} messages left at the deadline; the retry resumes them",
                                        outcome.remaining
                                    ),
                                });
                            }
                            Ok(())
                        })
                        .await,
                    )
                };
                self.with_reminders_alongside(records, deadline).await
            }
        }
    }

    /// Runs `work` (a broadcast that may take the whole invocation) and, every reminder period
    /// while it lasts, the reminders then due, in this process and first (they are urgent). On AWS
    /// the notify function's reserved concurrency of 1 throttles the scheduled reminder invocation
    /// while a broadcast holds the function (up to 900 s, longer than the reminder schedule's
    /// event age), so the invocation holding it sends them. Both plan the same delivery keys: what
    /// one sent the other skips. A reminder run's error is logged, and the next period tries again;
    /// the broadcast goes on.
    async fn with_reminders_alongside<F>(
        &self,
        work: F,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Value, TaskError>
    where
        F: std::future::Future<Output = Result<Value, TaskError>>,
    {
        let Ok(period) = self.config.reminder_lookback.to_std() else {
            return work.await;
        };
        let finished = tokio::sync::Notify::new();
        let work = async {
            let done = work.await;
            // Kept as a permit when a reminder run is going: it finishes first (its claims and
            // sends are not cut off), then the loop ends.
            finished.notify_one();
            done
        };
        let reminders = async {
            loop {
                // First after one period: a short run plans no reminders the schedule just sent.
                tokio::select! {
                    () = tokio::time::sleep(period) => {}
                    () = finished.notified() => return,
                }
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    return;
                }
                let run =
                    Run::new(format!("reminders:{}", uuid::Uuid::new_v4())).with_deadline(deadline);
                match self.reminders_run(&run).await {
                    Ok(outcome) => info!(
                        sent = outcome.sent,
                        remaining = outcome.remaining,
                        "reminders sent alongside a broadcast"
                    ),
                    Err(error) => tracing::warn!(
                        error = %error,
                        "reminders alongside a broadcast failed; the next period tries again"
                    ),
                }
            }
        };
        let (done, ()) = tokio::join!(work, reminders);
        done
    }

    /// A workflow run: on failure, tell the requesting chat; otherwise announce what changed and
    /// give the requesting chat (or, with `force`, everyone) their status.
    pub async fn for_workflow(
        &self,
        state: &WorkflowState,
        execution_id: &str,
    ) -> Result<NotifyOutcome, TaskError> {
        let run = Run::new(format!("wf:{execution_id}"));
        self.for_workflow_run(state, execution_id, &run).await
    }

    async fn for_workflow_run(
        &self,
        state: &WorkflowState,
        execution_id: &str,
        run: &Run,
    ) -> Result<NotifyOutcome, TaskError> {
        if let Some(error) = &state.error {
            let batch = state
                .chat_id
                .map(|chat| {
                    Outgoing::parts(
                        chat,
                        &format!("failed:{execution_id}"),
                        vec![failure_message(error)],
                    )
                })
                .unwrap_or_default();
            return self.send(batch, run).await;
        }
        let now = self.clock.now();
        let mut batch = Vec::new();
        let mut plan = None;
        let stage_changed = state.stage.as_ref().filter(|s| s.changed);
        if let Some(outcome) = stage_changed {
            plan = self
                .stage_change(outcome.stage, outcome.updated_at, outcome.previous, now)
                .await?;
            // The chat that asked hears the announcement first, then its status (below): its
            // messages go in that order, apart from the paged announcement to everyone else.
            if let (Some(plan), Some(chat)) = (&plan, state.chat_id) {
                let areas = self.store.areas_of(chat).await?;
                batch.extend(plan.messages_for(chat, areas).unwrap_or_default());
            }
        } else if let Some(schedule) = &state.schedule {
            batch.extend(self.workflow_schedule_changes(schedule, now).await?);
        }
        let stored = self.store.current_stage().await?;
        if state.force {
            // Keyed by what the status says, not by the run: forcing again with nothing changed
            // tells nobody anything twice.
            let chats = self.chats_with_areas().await?;
            let timelines = timelines_of(stored.as_ref());
            let areas = self.store.subscribed_areas().await?;
            let forecasts =
                Forecasts::load(self.store.as_ref(), &areas, &[&timelines], now).await?;
            for (chat, areas) in chats {
                if Some(chat) == state.chat_id {
                    continue;
                }
                let forecasts: Vec<Forecast> =
                    areas.iter().map(|a| forecasts.of(a, &timelines)).collect();
                let key = status_key(stored.as_ref(), &forecasts);
                let messages = render::status(stored.as_ref(), &outlooks(&areas, &forecasts), now);
                batch.extend(Outgoing::parts(chat, &key, messages));
            }
        }
        if let Some(chat) = state.chat_id {
            // The chat that asked hears back from this run, changed or not.
            batch.extend(
                self.status(chat, stored.as_ref(), execution_id, now)
                    .await?,
            );
        }
        let Some(plan) = plan else {
            // Schedule changes (if any) give way to a newer stage change's announcement.
            let run = run
                .clone()
                .with_freshness(self.schedule_freshness(stored.as_ref()));
            return self.send(batch, &run).await;
        };
        let run = run.clone().with_freshness(Some(plan.freshness.clone()));
        if state.force {
            // Every chat gets a forced status beside the announcement, in one batch: a forced run
            // is an operator's, and holds every chat's messages as runs did before paging.
            let mut all: Vec<Outgoing> = self
                .stage_pages(&plan, state.chat_id)
                .try_collect::<Vec<Vec<Outgoing>>>()
                .await?
                .into_iter()
                .flatten()
                .collect();
            all.extend(batch);
            return self.send(all, &run).await;
        }
        self.send_planned(self.stage_pages(&plan, state.chat_id), batch, &run)
            .await
    }

    /// The schedule changes a workflow's schedule task stored, by the rule the stream path applies
    /// to the same writes: only at the current stage, and not when the write is part of a stage
    /// change's refresh (that announcement shows the slots; the poller may have stored the change
    /// before this run's stage task looked). A write whose time the state lacks (a run started
    /// before the schedule task reported times) is told.
    async fn workflow_schedule_changes(
        &self,
        schedule: &ScheduleOutcome,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>, TaskError> {
        if schedule.changed.is_empty() {
            return Ok(Vec::new());
        }
        let current = self.store.current_stage().await?;
        let marker = match &current {
            Some(_) => self.store.stage_refresh().await?,
            None => None,
        };
        // The registry holds each area's name and region for the message: read once for the batch.
        let registry = if schedule.changed.is_empty() {
            Vec::new()
        } else {
            self.store.subscribed_areas().await?
        };
        let mut batch = Vec::new();
        for area in &schedule.changed {
            let announced = match (&current, schedule.written_at.get(area)) {
                (Some(current), Some(written_at)) => {
                    covered_by_announcement(current, marker.as_ref(), *written_at, now)
                }
                _ => false,
            };
            if !announced {
                let written_at = schedule.written_at.get(area).copied();
                batch.extend(
                    self.schedule_change(area, written_at, &registry, now)
                        .await?,
                );
            }
        }
        Ok(batch)
    }

    /// The reminder schedule: each area's forecast outages starting within each subscriber's lead
    /// time; and, once, the chats of areas under retired EskomSePush ids.
    pub async fn reminders(&self) -> Result<NotifyOutcome, TaskError> {
        let run = Run::new(format!("reminders:{}", uuid::Uuid::new_v4()));
        self.reminders_run(&run).await
    }

    async fn reminders_run(&self, run: &Run) -> Result<NotifyOutcome, TaskError> {
        // Reminders go before announcements (the pacer's "Reminders first"), and for one period at
        // most: what is left then the next run plans again, with its "in N minutes" told afresh
        // under the same delivery keys, so a late reminder is never more than a period stale.
        let period_end = self
            .config
            .reminder_lookback
            .to_std()
            .ok()
            .map(|period| tokio::time::Instant::now() + period);
        let deadline = run.deadline.into_iter().chain(period_end).min();
        let run = &run.clone().urgent().with_deadline(deadline);
        let Some(stored) = self.store.current_stage().await? else {
            return self.send(Vec::new(), run).await;
        };
        let timelines = stored.timelines();
        let now = self.clock.now();
        let from = now - self.config.reminder_lookback;
        let latest = now + ReminderLead::longest();
        let (retired, areas): (Vec<Area>, Vec<Area>) = self
            .store
            .subscribed_areas()
            .await?
            .into_iter()
            .partition(Area::has_retired_id);
        let forecasts = Forecasts::load(self.store.as_ref(), &areas, &[&timelines], now).await?;
        let mut leads: BTreeMap<ChatId, ReminderLead> = BTreeMap::new();
        // (outage start, message): sent soonest outage first, below.
        let mut due_reminders = Vec::new();
        for area in &areas {
            let forecast = forecasts.of(area, &timelines);
            let due: Vec<&Outage> = forecast
                .outages
                .iter()
                .filter(|o| o.slot.start > from && o.slot.start <= latest && !o.slot.is_over(now))
                .collect();
            if due.is_empty() {
                continue;
            }
            let subscribers = self.store.subscribers_of(&area.id).await?;
            for chat in &subscribers {
                if !leads.contains_key(chat) {
                    let lead = self.store.chat_settings(*chat).await?.reminder_lead;
                    leads.insert(*chat, lead);
                }
            }
            for outage in due {
                let message = render::reminder(area, outage, now);
                let key = format!("reminder:{}:{}", area.id, outage.slot.start.to_rfc3339());
                for chat in &subscribers {
                    let lead = leads.get(chat).copied().unwrap_or_default();
                    if lead
                        .before()
                        .is_some_and(|lead| outage.slot.start <= now + lead)
                    {
                        due_reminders.push((
                            outage.slot.start,
                            Outgoing::new(*chat, key.clone(), message.clone()),
                        ));
                    }
                }
            }
        }
        // Soonest outage first: when more is due than a period carries, the reminders left for
        // the next run are those that can still wait (earliest deadline first). Stable, so each
        // chat keeps its order.
        due_reminders.sort_by_key(|(start, _)| *start);
        let mut batch: Vec<Outgoing> = due_reminders.into_iter().map(|(_, o)| o).collect();
        let mut told_again = Vec::new();
        for area in &retired {
            let key = resubscribe_key(&area.id);
            let messages = render::resubscribe(area);
            for chat in self.store.subscribers_of(&area.id).await? {
                batch.extend(Outgoing::parts(chat, &key, messages.clone()));
                told_again.push((chat, area.id.clone()));
            }
        }
        let outcome = self.send(batch, run).await?;
        self.drop_told_retired(&told_again, now).await?;
        Ok(outcome)
    }

    /// A chat told that its area's id was retired no longer follows it: it is told once, and the
    /// area is not polled for it again. Only once the message is delivered (a send that failed
    /// keeps the subscription, so the next run tells it).
    async fn drop_told_retired(
        &self,
        told: &[(ChatId, AreaId)],
        now: DateTime<Utc>,
    ) -> Result<(), TaskError> {
        for (chat, area) in told {
            // `Outgoing::parts` numbers the parts: the first one's delivery says the chat was told.
            let key = DeliveryKey {
                chat: *chat,
                message: format!("{}#1", resubscribe_key(area)),
            };
            if self.store.was_delivered(&key, now).await? {
                self.store.unsubscribe(*chat, area).await?;
                info!(%chat, %area, "retired EskomSePush id: chat told and unsubscribed");
            }
        }
        Ok(())
    }

    /// A stream record, as its own run (tests and tools; the Lambda names the run by the record).
    pub async fn on_change(&self, change: Change) -> Result<NotifyOutcome, TaskError> {
        let run = Run::new(format!("stream:{}", uuid::Uuid::new_v4()));
        self.on_change_run(change, &run).await
    }

    /// A stream record: the marker of a stage change's refresh announces it to every subscriber; a
    /// schedule change that people would notice, and that the announcement does not cover, goes to
    /// the area's subscribers.
    async fn on_change_run(&self, change: Change, run: &Run) -> Result<NotifyOutcome, TaskError> {
        let now = self.clock.now();
        let batch = match change {
            Change::StageRefreshed(marker) => {
                let Some(plan) = self
                    .stage_change(marker.stage, marker.stage_updated_at, marker.previous, now)
                    .await?
                else {
                    return self.send(Vec::new(), run).await;
                };
                let run = run.clone().with_freshness(Some(plan.freshness.clone()));
                return self
                    .send_planned(self.stage_pages(&plan, None), Vec::new(), &run)
                    .await;
            }
            Change::Schedule {
                schedule,
                previous,
                written_at,
            } => {
                let current = self.store.current_stage().await?;
                let today = self.clock.today();
                let noticeable =
                    previous.is_none_or(|previous| schedule.differs_from(&previous, today));
                let registry = self.store.subscribed_areas().await?;
                // Only the stages the area's forecast reads are news (a source answering every
                // stage at once stores the others too).
                let in_forecast = registry
                    .iter()
                    .find(|a| a.id == schedule.area_id)
                    .is_some_and(|area| {
                        stages_needed(area, &timelines_of(current.as_ref()))
                            .contains(&schedule.stage)
                    });
                let announced = match &current {
                    Some(current) => covered_by_announcement(
                        current,
                        self.store.stage_refresh().await?.as_ref(),
                        written_at,
                        now,
                    ),
                    None => false,
                };
                if !(in_forecast && noticeable && !announced) {
                    return self.send(Vec::new(), run).await;
                }
                let batch = self
                    .schedule_change(&schedule.area_id, Some(written_at), &registry, now)
                    .await?;
                let run = run
                    .clone()
                    .with_freshness(self.schedule_freshness(current.as_ref()));
                return self.send(batch, &run).await;
            }
            // The stage item itself feeds the schedule task; its announcement waits for the marker.
            Change::Stage { .. } | Change::Other => Vec::new(),
        };
        self.send(batch, run).await
    }

    /// `updated_at` names the change: the orchestration and the stream carry the same stored time,
    /// so both build the same delivery key. Told to each chat whose forecast the change moves (any
    /// area's outages from now on, or its authority's stage now), with the timelines and every area
    /// of the chat. An older change announced after a newer one was stored (a slow run, a resume)
    /// is found among the stage item's earlier changes ([`StoredStage::change_at`]): the same
    /// chats, the same timelines, and the supersede rule retires it where the newer change moves
    /// the chat. Only a change the item no longer keeps (or an item from before it kept any) shows
    /// what is stored now, to every chat.
    ///
    /// With the plan comes its freshness check: a chat the announcement has not reached when a
    /// newer change that moves its forecast is stored hears the newer one instead
    /// ([`StageFreshness`]).
    async fn stage_change(
        &self,
        stage: Stage,
        updated_at: DateTime<Utc>,
        previous: Option<Stage>,
        now: DateTime<Utc>,
    ) -> Result<Option<StagePlan>, TaskError> {
        let Some(stored) = self.store.current_stage().await? else {
            return Ok(None);
        };
        let key = format!("stage:{}@{}", stage.number(), updated_at.to_rfc3339());
        // The change itself, current or kept among the earlier ones: every run that plans this
        // announcement (the first, a resume after a deadline, a redelivery, either mode) tells the
        // same chats the same timelines. Unknown (an item from before earlier changes were kept):
        // what is stored now, to every chat.
        let (timelines, replaced) = match stored.change_at(updated_at) {
            Some(change) => (change.timelines, change.previous),
            None => (stored.timelines(), None),
        };
        let areas: Vec<Area> = self
            .store
            .subscribed_areas()
            .await?
            .into_iter()
            .filter(|a| !a.has_retired_id())
            .collect();
        let mut compared: Vec<&Timelines> = vec![&timelines];
        compared.extend(replaced.as_ref());
        let forecasts = Forecasts::load(self.store.as_ref(), &areas, &compared, now).await?;
        let mut by_area: BTreeMap<AreaId, (Forecast, bool)> = BTreeMap::new();
        for area in &areas {
            let fresh = forecasts.of(area, &timelines);
            let moved = replaced
                .as_ref()
                .is_none_or(|before| fresh.differs_from(&forecasts.of(area, before), now));
            by_area.insert(area.id.clone(), (fresh, moved));
        }
        let freshness: Arc<dyn Freshness> = Arc::new(StageFreshness::new(
            self.store.clone(),
            self.clock.clone(),
            key.clone(),
            updated_at,
            timelines.clone(),
        ));
        Ok(Some(StagePlan {
            key,
            timelines,
            previous,
            now,
            areas,
            by_area,
            freshness,
            rendered: std::sync::Mutex::new(HashMap::new()),
        }))
    }

    /// Every chat following one of `plan`'s areas, with its announcement (none for a chat the
    /// change does not move), read page by page: subscribers a page at a time, each chat under the
    /// first of its areas in the plan's order (so once), its areas read a few chats at a time.
    /// Nothing but the current page is held, so 100,000 chats plan in the memory of a few
    /// hundred; `skip` are chats told by the caller itself.
    fn stage_pages<'s>(
        &'s self,
        plan: &'s StagePlan,
        skip: Option<ChatId>,
    ) -> impl futures::Stream<Item = Result<Vec<Outgoing>, StoreError>> + Send + 's {
        let position: HashMap<&AreaId, usize> = plan
            .areas
            .iter()
            .enumerate()
            .map(|(i, area)| (&area.id, i))
            .collect();
        let position = Arc::new(position);
        futures::stream::try_unfold(
            (0usize, None::<ChatId>, false),
            move |(index, after, done)| {
                let position = position.clone();
                async move {
                    if done {
                        return Ok(None);
                    }
                    let Some(area) = plan.areas.get(index) else {
                        return Ok(None);
                    };
                    let size = self.config.planning_page.max(1);
                    let page = self.store.subscribers_page(&area.id, after, size).await?;
                    let next = match page.last() {
                        Some(last) if page.len() >= size => (index, Some(*last), false),
                        _ => (index + 1, None, index + 1 >= plan.areas.len()),
                    };
                    let read: Vec<Result<(ChatId, Vec<Area>), StoreError>> =
                        futures::stream::iter(page.into_iter().filter(|chat| Some(*chat) != skip))
                            .map(|chat| async move { Ok((chat, self.store.areas_of(chat).await?)) })
                            .buffered(PLANNING_READS)
                            .collect()
                            .await;
                    let mut told = Vec::new();
                    for chat in read {
                        let (chat, areas) = chat?;
                        let first = areas
                            .iter()
                            .filter_map(|a| position.get(&a.id).copied())
                            .min();
                        // Planned under its first area only.
                        if first == Some(index)
                            && let Some(messages) = plan.messages_for(chat, areas)
                        {
                            told.push(messages);
                        }
                    }
                    Ok(Some((
                        futures::stream::iter(told.into_iter().map(Ok)),
                        next,
                    )))
                }
            },
        )
        .try_flatten()
    }

    /// The supersede rule for schedule-change messages planned under `stored`
    /// ([`StageFreshness::schedule_changes`]); none before any stage is stored.
    fn schedule_freshness(&self, stored: Option<&StoredStage>) -> Option<Arc<dyn Freshness>> {
        stored.map(|stored| {
            Arc::new(StageFreshness::schedule_changes(
                self.store.clone(),
                self.clock.clone(),
                stored,
            )) as Arc<dyn Freshness>
        })
    }

    /// `registry` is `subscribed_areas()`: the area's name and region for the message, as it was
    /// found when people subscribed (an area no longer in it has no one to tell).
    ///
    /// Keyed by the write (`schedule:<area>@<written_at>`): one fetch writes an area's schedules at
    /// several stages at once, each its own stream record, and the workflow reports the same time;
    /// all of them are one message. A write whose time is unknown is keyed by what it shows.
    async fn schedule_change(
        &self,
        area_id: &AreaId,
        written_at: Option<DateTime<Utc>>,
        registry: &[Area],
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>, TaskError> {
        let Some(area) = registry.iter().find(|a| &a.id == area_id) else {
            return Ok(Vec::new());
        };
        let Some(stored) = self.store.current_stage().await? else {
            return Ok(Vec::new());
        };
        let timelines = stored.timelines();
        let forecasts = Forecasts::load(
            self.store.as_ref(),
            std::slice::from_ref(area),
            &[&timelines],
            now,
        )
        .await?;
        let forecast = forecasts.of(area, &timelines);
        let subscribers = self.store.subscribers_of(area_id).await?;
        let key = match written_at {
            Some(at) => format!("schedule:{area_id}@{}", at.to_rfc3339()),
            None => format!("schedule:{area_id}:{}", forecast.fingerprint()),
        };
        let messages = render::schedule_change(area, &forecast, now);
        Ok(subscribers
            .into_iter()
            .flat_map(|chat| Outgoing::parts(chat, &key, messages.clone()))
            .collect())
    }

    async fn status(
        &self,
        chat: ChatId,
        stored: Option<&StoredStage>,
        execution_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>, TaskError> {
        let areas = self.store.areas_of(chat).await?;
        let timelines = timelines_of(stored);
        let forecasts = Forecasts::load(self.store.as_ref(), &areas, &[&timelines], now).await?;
        let forecasts: Vec<Forecast> = areas.iter().map(|a| forecasts.of(a, &timelines)).collect();
        let messages = render::status(stored, &outlooks(&areas, &forecasts), now);
        Ok(Outgoing::parts(
            chat,
            &format!("status:{execution_id}"),
            messages,
        ))
    }

    /// Every subscribed chat with its areas. The reads run a few at a time: a broadcast to 10,000
    /// chats on DynamoDB would otherwise spend most of a minute planning before its first send.
    async fn chats_with_areas(&self) -> Result<BTreeMap<ChatId, Vec<Area>>, TaskError> {
        let reads: Vec<Result<(ChatId, Vec<Area>), TaskError>> =
            futures::stream::iter(self.everyone().await?)
                .map(|chat| async move { Ok((chat, self.store.areas_of(chat).await?)) })
                .buffer_unordered(PLANNING_READS)
                .collect()
                .await;
        reads.into_iter().collect()
    }

    async fn everyone(&self) -> Result<BTreeSet<ChatId>, TaskError> {
        let mut chats = BTreeSet::new();
        for area in self.store.subscribed_areas().await? {
            chats.extend(self.store.subscribers_of(&area.id).await?);
        }
        Ok(chats)
    }

    /// Sends `first` (grouped by chat, before anything else) and then the chats `pages` yields.
    async fn send_planned<S>(
        &self,
        pages: S,
        first: Vec<Outgoing>,
        run: &Run,
    ) -> Result<NotifyOutcome, TaskError>
    where
        S: futures::Stream<Item = Result<Vec<Outgoing>, StoreError>> + Send,
    {
        let broadcaster = self.broadcaster();
        let chats = futures::stream::iter(by_chat(first).into_iter().map(Ok)).chain(pages);
        let report = broadcaster
            .send_planned(chats, run)
            .await
            .map_err(|e| TaskError::named(&e))?;
        Ok(done(report.planned, &report))
    }

    /// The broadcaster of this task's messenger, store, clock and pacer (one pacer a process).
    fn broadcaster(&self) -> Broadcaster<'_> {
        Broadcaster::new(
            self.messenger.as_ref(),
            self.store.as_ref(),
            self.store.as_ref(),
            self.clock.as_ref(),
            self.pacer.clone(),
            self.config.broadcast.clone(),
        )
    }

    async fn send(&self, batch: Vec<Outgoing>, run: &Run) -> Result<NotifyOutcome, TaskError> {
        let planned = batch.len();
        let broadcaster = self.broadcaster();
        let report = broadcaster
            .send(batch, run)
            .await
            .map_err(|e| TaskError::named(&e))?;
        Ok(done(planned, &report))
    }
}

/// Store reads in flight at once while a broadcast is planned.
const PLANNING_READS: usize = 16;

/// Subscribers read at once while a broadcast is planned.
const PLANNING_PAGE: usize = 256;

/// A stage change's announcement, worked out per area; each chat's messages are rendered as its
/// page is read ([`NotifyTask::stage_pages`]).
struct StagePlan {
    key: String,
    timelines: Timelines,
    previous: Option<Stage>,
    now: DateTime<Utc>,
    /// The subscribed areas (retired ids left out), in the registry's order.
    areas: Vec<Area>,
    /// Each area's forecast, and whether the change moves it.
    by_area: BTreeMap<AreaId, (Forecast, bool)>,
    freshness: Arc<dyn Freshness>,
    /// The texts by the areas they show: chats following the same areas read the same
    /// announcement, so it is rendered once for them (a resumed run renders it again only once).
    rendered: std::sync::Mutex<HashMap<Vec<AreaId>, Vec<crate::ports::Message>>>,
}

/// Texts kept per plan at most; beyond, the cache starts afresh (only a cost, never a change).
const RENDERED_KEPT: usize = 4096;

impl StagePlan {
    /// The announcement to `chat` following `areas`; `None` when the change moves none of them.
    fn messages_for(&self, chat: ChatId, areas: Vec<Area>) -> Option<Vec<Outgoing>> {
        let areas: Vec<Area> = areas
            .into_iter()
            .filter(|a| self.by_area.contains_key(&a.id))
            .collect();
        if !areas
            .iter()
            .any(|a| self.by_area.get(&a.id).is_some_and(|(_, moved)| *moved))
        {
            return None;
        }
        let ids: Vec<AreaId> = areas.iter().map(|a| a.id.clone()).collect();
        let cached = self
            .rendered
            .lock()
            .ok()
            .and_then(|rendered| rendered.get(&ids).cloned());
        let messages = match cached {
            Some(messages) => messages,
            None => {
                let forecasts: Vec<Forecast> = areas
                    .iter()
                    .filter_map(|a| self.by_area.get(&a.id).map(|(f, _)| f.clone()))
                    .collect();
                let messages = render::stage_change(
                    &self.timelines,
                    self.previous,
                    &outlooks(&areas, &forecasts),
                    self.now,
                );
                if let Ok(mut rendered) = self.rendered.lock() {
                    if rendered.len() >= RENDERED_KEPT {
                        rendered.clear();
                    }
                    rendered.insert(ids, messages.clone());
                }
                messages
            }
        };
        Some(Outgoing::parts(chat, &self.key, messages))
    }
}

/// A forced status's key: the stage change it tells of and the forecasts it shows.
fn status_key(stored: Option<&StoredStage>, forecasts: &[Forecast]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for forecast in forecasts {
        hasher.update(forecast.fingerprint());
        hasher.update([0]);
    }
    let seen = match stored {
        Some(stored) => format!(
            "{}@{}",
            stored.stage.number(),
            stored.updated_at.to_rfc3339()
        ),
        None => "none".to_owned(),
    };
    format!("status:{seen}:{}", hex::encode(&hasher.finalize()[..12]))
}

/// The stored timelines, or "no loadshedding, nothing known" before the first stage reading.
fn timelines_of(stored: Option<&StoredStage>) -> Timelines {
    stored.map_or_else(
        || Timelines::national_only(Stage::NONE),
        StoredStage::timelines,
    )
}

fn resubscribe_key(area: &AreaId) -> String {
    format!("resubscribe:{area}")
}

/// Whether a schedule written at `written_at` is part of the refresh that follows the current stage
/// change, which its announcement covers: the write came before that refresh's marker, or there is
/// no marker for this change yet and the change is recent enough for its refresh to be going.
///
/// The bound matters when no marker will come: a table from before markers existed, or a refresh
/// whose every attempt failed. Without it such a table would keep every schedule change to itself
/// until the next stage change.
fn covered_by_announcement(
    current: &StoredStage,
    marker: Option<&StageRefresh>,
    written_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    match marker {
        Some(marker) if marker.stage_updated_at == current.updated_at => {
            written_at <= marker.refreshed_at
        }
        // No marker for this change (an older one, or none at all).
        _ => now - current.updated_at <= REFRESH_WINDOW,
    }
}

/// How long after a stage change its refresh may still be going: the schedule function's stream
/// attempts (a few of at most two minutes each, infra/template.yaml) fit well within it.
const REFRESH_WINDOW: Duration = Duration::minutes(60);

/// Pairs each area with its forecast (`forecasts` in the order of `areas`).
fn outlooks<'a>(areas: &'a [Area], forecasts: &'a [Forecast]) -> Vec<AreaOutlook<'a>> {
    areas
        .iter()
        .zip(forecasts)
        .map(|(area, forecast)| AreaOutlook { area, forecast })
        .collect()
}

fn to_value(value: impl Serialize) -> Result<Value, TaskError> {
    serde_json::to_value(value).map_err(|e| TaskError::invalid_input(e.to_string()))
}

/// What a run of `planned` messages did, logged once as `notify done`.
fn done(planned: usize, report: &BroadcastReport) -> NotifyOutcome {
    let outcome = NotifyOutcome::from_report(planned, report);
    info!(
        planned,
        sent = outcome.sent,
        already = outcome.already_delivered,
        held_elsewhere = outcome.held_elsewhere,
        remaining = outcome.remaining,
        paid = outcome.paid,
        stars = outcome.stars.tenths as f64 / 10.0,
        superseded = outcome.superseded,
        "notify done"
    );
    outcome
}
