//! The notify task: decides who hears what, renders it, and hands it to the broadcaster.
//!
//! Every message has a delivery key that names the event it tells of, the same in both modes
//! (a workflow run and a stream record about the same stage change build the same key), so the
//! ledger lets each subscriber hear of each event once however many runs, retries and
//! redeliveries carry it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::clock::Clock;
use crate::domain::{Area, AreaId, ChatId, Schedule, Stage};
use crate::notify::render::{self, AreaOutlook};
use crate::notify::{BroadcastConfig, BroadcastReport, Broadcaster, Outgoing};
use crate::ports::{Messenger, Store, StoredStage};

use super::failure::failure_message;
use super::stream::{self, Change};
use super::{Invocation, TaskError, WorkflowState};

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// How long before a slot starts its reminder goes out.
    pub reminder_lead: Duration,
    /// How far back a reminder run looks for slots that started since the previous run: the
    /// reminder schedule's period, so a late run still reminds ("has started") and none is skipped.
    pub reminder_lookback: Duration,
    pub broadcast: BroadcastConfig,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            reminder_lead: Duration::minutes(15),
            reminder_lookback: Duration::minutes(5),
            broadcast: BroadcastConfig::default(),
        }
    }
}

/// What a notify run did, for the workflow's output and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyOutcome {
    /// Messages the run decided on (before the ledger skipped those already sent).
    pub planned: usize,
    pub sent: usize,
    pub already_delivered: usize,
    pub failed: usize,
    pub removed_chats: Vec<ChatId>,
}

impl NotifyOutcome {
    fn from_report(planned: usize, report: &BroadcastReport) -> Self {
        NotifyOutcome {
            planned,
            sent: report.sent,
            already_delivered: report.already_delivered,
            failed: report.failed.len(),
            removed_chats: report.removed_chats.clone(),
        }
    }
}

pub struct NotifyTask {
    store: Arc<dyn Store>,
    messenger: Arc<dyn Messenger>,
    clock: Arc<dyn Clock>,
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
            store,
            messenger,
            clock,
            config,
        }
    }

    pub async fn handle(&self, payload: Value) -> Result<Value, TaskError> {
        match Invocation::parse(payload)? {
            Invocation::Workflow(invocation) => to_value(
                self.for_workflow(&invocation.workflow, &invocation.execution_id)
                    .await?,
            ),
            Invocation::Event(_) | Invocation::Schedule(_) => to_value(self.reminders().await?),
            Invocation::Stream(batch) => to_value(
                stream::for_each_record(batch, |change| async move {
                    self.on_change(change).await.map(drop)
                })
                .await,
            ),
        }
    }

    /// A workflow run: on failure, tell the requesting chat; otherwise announce what changed and
    /// give the requesting chat (or, with `force`, everyone) their status.
    pub async fn for_workflow(
        &self,
        state: &WorkflowState,
        execution_id: &str,
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
            return self.send(batch).await;
        }
        let now = self.clock.now();
        let mut batch = Vec::new();
        let stage_changed = state.stage.as_ref().filter(|s| s.changed);
        if let Some(outcome) = stage_changed {
            batch.extend(
                self.stage_change(outcome.stage, outcome.updated_at, outcome.previous, now)
                    .await?,
            );
        } else if let Some(schedule) = &state.schedule {
            for area in &schedule.changed {
                if let Some(stage) = schedule.stage {
                    batch.extend(self.schedule_change(area, stage, now).await?);
                }
            }
        }
        let status_to: BTreeSet<ChatId> = if state.force {
            self.everyone().await?
        } else {
            state.chat_id.into_iter().collect()
        };
        if !status_to.is_empty() {
            let stored = self.store.current_stage().await?;
            for chat in status_to {
                batch.extend(
                    self.status(chat, stored.as_ref(), execution_id, now)
                        .await?,
                );
            }
        }
        self.send(batch).await
    }

    /// The reminder schedule: slots at the current stage starting within the lead time.
    pub async fn reminders(&self) -> Result<NotifyOutcome, TaskError> {
        let Some(stored) = self.store.current_stage().await? else {
            return self.send(Vec::new()).await;
        };
        if !stored.stage.is_loadshedding() {
            return self.send(Vec::new()).await;
        }
        let now = self.clock.now();
        let from = now - self.config.reminder_lookback;
        let until = now + self.config.reminder_lead;
        let mut batch = Vec::new();
        for area in self.store.subscribed_areas().await? {
            let Some(schedule) = self.store.schedule(&area.id, stored.stage).await? else {
                continue;
            };
            let due = schedule
                .slots()
                .iter()
                .filter(|slot| slot.start > from && slot.start <= until && !slot.is_over(now));
            for slot in due {
                let message = render::reminder(&area, slot, stored.stage, now);
                let key = format!("reminder:{}:{}", area.id, slot.start.to_rfc3339());
                for chat in self.store.subscribers_of(&area.id).await? {
                    batch.push(Outgoing::new(chat, key.clone(), message.clone()));
                }
            }
        }
        self.send(batch).await
    }

    /// A stream record: a stage change goes to every subscriber; a schedule change that people
    /// would notice goes to the area's subscribers.
    pub async fn on_change(&self, change: Change) -> Result<NotifyOutcome, TaskError> {
        let now = self.clock.now();
        let batch = match change {
            Change::Stage { stage, previous } => {
                self.stage_change(stage.stage, stage.updated_at, previous, now)
                    .await?
            }
            Change::Schedule { schedule, previous } => {
                let current = self.store.current_stage().await?.map(|s| s.stage);
                let today = self.clock.today();
                let noticeable =
                    previous.is_none_or(|previous| schedule.differs_from(&previous, today));
                if current == Some(schedule.stage) && noticeable {
                    self.schedule_change(&schedule.area_id, schedule.stage, now)
                        .await?
                } else {
                    Vec::new()
                }
            }
            Change::Other => Vec::new(),
        };
        self.send(batch).await
    }

    /// `updated_at` names the change: the orchestration and the stream carry the same stored time,
    /// so both build the same delivery key.
    async fn stage_change(
        &self,
        stage: Stage,
        updated_at: DateTime<Utc>,
        previous: Option<Stage>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>, TaskError> {
        let key = format!("stage:{}@{}", stage.number(), updated_at.to_rfc3339());
        let mut batch = Vec::new();
        for (chat, areas) in self.chats_with_areas().await? {
            let schedules = self.schedules(&areas, stage).await?;
            let outlooks = outlooks(&areas, &schedules);
            let messages = render::stage_change(stage, previous, &outlooks, now);
            batch.extend(Outgoing::parts(chat, &key, messages));
        }
        Ok(batch)
    }

    async fn schedule_change(
        &self,
        area_id: &AreaId,
        stage: Stage,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>, TaskError> {
        let Some(schedule) = self.store.schedule(area_id, stage).await? else {
            return Ok(Vec::new());
        };
        let subscribers = self.store.subscribers_of(area_id).await?;
        // The area's name and region for the message, as it was found when people subscribed.
        let Some(area) = self
            .store
            .subscribed_areas()
            .await?
            .into_iter()
            .find(|a| &a.id == area_id)
        else {
            return Ok(Vec::new());
        };
        let key = format!("schedule:{area_id}:{}", schedule.fingerprint());
        let messages = render::schedule_change(&area, &schedule, now);
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
        let schedules = match stored {
            Some(stored) => self.schedules(&areas, stored.stage).await?,
            None => BTreeMap::new(),
        };
        let messages = render::status(stored, &outlooks(&areas, &schedules), now);
        Ok(Outgoing::parts(
            chat,
            &format!("status:{execution_id}"),
            messages,
        ))
    }

    async fn chats_with_areas(&self) -> Result<BTreeMap<ChatId, Vec<Area>>, TaskError> {
        let mut chats = BTreeMap::new();
        for chat in self.everyone().await? {
            chats.insert(chat, self.store.areas_of(chat).await?);
        }
        Ok(chats)
    }

    async fn everyone(&self) -> Result<BTreeSet<ChatId>, TaskError> {
        let mut chats = BTreeSet::new();
        for area in self.store.subscribed_areas().await? {
            chats.extend(self.store.subscribers_of(&area.id).await?);
        }
        Ok(chats)
    }

    async fn schedules(
        &self,
        areas: &[Area],
        stage: Stage,
    ) -> Result<BTreeMap<AreaId, Schedule>, TaskError> {
        let mut schedules = BTreeMap::new();
        for area in areas {
            if let Some(schedule) = self.store.schedule(&area.id, stage).await? {
                schedules.insert(area.id.clone(), schedule);
            }
        }
        Ok(schedules)
    }

    async fn send(&self, batch: Vec<Outgoing>) -> Result<NotifyOutcome, TaskError> {
        let planned = batch.len();
        let broadcaster = Broadcaster::new(
            self.messenger.as_ref(),
            self.store.as_ref(),
            self.store.as_ref(),
            self.clock.as_ref(),
            self.config.broadcast.clone(),
        );
        let report = broadcaster
            .send(batch)
            .await
            .map_err(|e| TaskError::named(&e))?;
        let outcome = NotifyOutcome::from_report(planned, &report);
        info!(
            planned,
            sent = outcome.sent,
            already = outcome.already_delivered,
            "notify done"
        );
        Ok(outcome)
    }
}

fn outlooks<'a>(
    areas: &'a [Area],
    schedules: &'a BTreeMap<AreaId, Schedule>,
) -> Vec<AreaOutlook<'a>> {
    areas
        .iter()
        .map(|area| AreaOutlook {
            area,
            schedule: schedules.get(&area.id),
        })
        .collect()
}

fn to_value(value: impl Serialize) -> Result<Value, TaskError> {
    serde_json::to_value(value).map_err(|e| TaskError::invalid_input(e.to_string()))
}
