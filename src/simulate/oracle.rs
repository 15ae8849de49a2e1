//! What each chat should have been told, and how that compares with what Telegram accepted.
//!
//! The expected events come from the stored changes (the table's stream, read by an observer that
//! is no Lambda), the script's subscriptions and each chat's reminder lead. The observer keeps its
//! own copy of what is stored (timelines and schedules) from the records, and works out each
//! area's forecast with the domain's [`Forecast`]: the oracle checks that every chat hears each
//! thing once, not how a forecast is computed (the domain's own tests and the recorded pairs do).
//!
//! - a change of the timelines: at its refresh marker, the chats with an area whose forecast the
//!   change moves (`stage:<n>@<updated_at>`); judged again at each schedule write and reminder
//!   tick while it may still be going out, as a resumed run would judge (a chat on which the
//!   verdicts differ may hear it or not);
//! - a schedule write people would notice, of a stage the area's forecast reads, and not part of
//!   a change's refresh (written after its marker, or more than an hour after the change): the
//!   area's subscribers, `schedule:<area>@<written_at>` (all stages of an area written by one
//!   fetch are one event);
//! - every reminder run (every five minutes, as the template schedules it): each outage starting
//!   within each subscriber's lead, `reminder:<area>:<start>`;
//! - every `/refresh` that started a run: the asking chat, `status:<execution>`.
//!
//! Where the system reads the store a moment after the record that decides (a reminder run at the
//! same instant as a stage write, a notify a second after a marker), the observer works the event
//! out on both sides of that moment: what both sides expect must be delivered; what only one
//! side expects may be.
//!
//! An event is delivered when at least one of its parts reached the chat; a part reaching a chat
//! twice is a duplicate; a message of those kinds that is no expected event is unexpected.
//!
//! The supersede rule (`loadshed_core::tasks::superseded`): a stage announcement or a
//! schedule-change message a chat never got is not missing but `superseded` when the announcement
//! of a stage change stored after it reached the chat (the rule retires the older message for
//! exactly the chats that hear a newer announcement instead, which shows the current forecast).
//!
//! Reminders first, and none after its outage began: a reminder run plans the outages starting
//! from one period ago on, so a reminder not sent by five minutes into its outage is never sent.
//! Such a reminder is `expired`, not missing, only when the bot was sending at its full rate (at
//! least 90 % of it, every second on average) from when the reminder was due until then (or until
//! the last reminder run ended, the schedule stopping with the script): the rate was spent, not the
//! message lost. Anywhere else an unsent reminder is missing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aws_lambda_events::dynamodb::EventRecord;
use chrono::{DateTime, TimeDelta, Utc};
use loadshed_core::adapters::dynamo::keys::{ENTITY, entity};
use loadshed_core::adapters::dynamo::{
    schedule_from_image, stage_from_image, stage_refresh_from_image,
};
use loadshed_core::clock::ZONE;
use loadshed_core::domain::forecast::stages_needed;
use loadshed_core::domain::{
    Area, AreaId, ChatId, Forecast, Horizon, ReminderLead, Rota, Schedule, Stage, Timelines,
};
use loadshed_core::ports::{StageRefresh, StoredStage};
use serde::Serialize;

use super::fakes::Delivered;
use super::script::Script;

/// An event a set of chats should hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The delivery key without its part, e.g. `stage:4@2026-12-01T06:10:00+00:00`.
    pub key: String,
    pub stored_at: DateTime<Utc>,
    pub chats: Vec<ChatId>,
}

/// What is stored as the simulation starts.
pub struct Known {
    pub stored: StoredStage,
    pub schedules: Vec<Schedule>,
}

/// The reminder schedule's period (`cron(0/5 ...)` in the template) and the notify task's
/// look-back, which is the same.
const REMINDER_PERIOD: TimeDelta = TimeDelta::minutes(5);
/// How long after a reminder run's instant a write may still be read by it.
const RUN_READS_WITHIN: TimeDelta = TimeDelta::seconds(2);
/// How long after a marker the stream's notify may read the store (the batching window and the
/// invocation).
const NOTIFY_READS_WITHIN: TimeDelta = TimeDelta::seconds(10);
/// The notify task's `REFRESH_WINDOW`: how long after a change its refresh may still be going.
const REFRESH_WINDOW: TimeDelta = TimeDelta::minutes(60);
/// How long an announcement may still be going out after its marker: the workflow's
/// `TimeoutSeconds` (6 hours), which also bounds the stream's retries (`MaximumRecordAgeInSeconds`).
const ANNOUNCING_FOR: TimeDelta = TimeDelta::hours(6);

/// A check due when the stored state as of `at` is known.
#[derive(Debug, Clone)]
enum Check {
    /// The reminder run at `tick`, against the state just before it (`late: false`) or a moment
    /// after it (`late: true`).
    Reminders { tick: DateTime<Utc>, late: bool },
    /// The announcement of `marker`, against the state at the marker (`late: false`) or when
    /// notify may read it.
    News { marker: StageRefresh, late: bool },
}

/// An announcement while it may still be going out. Who hears it is judged when a run reaches the
/// chat, with the schedules stored then: a schedule revision in the meantime can move a chat's
/// forecast under the change that the marker's schedules did not (or the other way round). What
/// every verdict from the marker on agrees a chat must hear stays required; a chat on which they
/// differ may hear it or not.
struct Announcing {
    marker: StageRefresh,
    key: String,
    must: BTreeSet<ChatId>,
    may: BTreeSet<ChatId>,
}

/// Reads the stream in order and collects the events it implies.
pub struct Observer {
    areas: BTreeMap<AreaId, Area>,
    subscribers: BTreeMap<AreaId, Vec<ChatId>>,
    chats: BTreeMap<ChatId, Vec<AreaId>>,
    leads: BTreeMap<ChatId, ReminderLead>,
    stored: Option<StoredStage>,
    marker: Option<StageRefresh>,
    schedules: BTreeMap<(AreaId, Stage), Schedule>,
    /// Checks waiting for the state as of their time, soonest first.
    checks: Vec<(DateTime<Utc>, Check)>,
    next_tick: DateTime<Utc>,
    /// The first half of a two-sided check, by its key.
    halves: BTreeMap<String, BTreeSet<(ChatId, String)>>,
    /// When each must-event was first due.
    reminders_due: BTreeMap<(ChatId, String), DateTime<Utc>>,
    /// Announcements still going out, judged again at each schedule write (see [`Announcing`]).
    announcing: Vec<Announcing>,
    pub events: Vec<Event>,
    /// Deliveries that are right but not required (one side of a two-sided check).
    pub may: HashSet<(ChatId, String)>,
    /// Schedule writes that were part of a change's refresh.
    pub stage_refreshes: usize,
    pub unreadable: Vec<String>,
}

impl Observer {
    /// The script's chats and areas; `known`: the store as the simulation starts at `start`.
    pub fn new(script: &Script, known: Known, start: DateTime<Utc>) -> Self {
        let subscribers = script.subscribers();
        let chats = script
            .subscriptions
            .iter()
            .map(|(chat, areas)| (*chat, areas.iter().map(|a| a.id.clone()).collect()))
            .collect();
        Observer {
            areas: script
                .areas
                .iter()
                .map(|a| (a.id.clone(), a.clone()))
                .collect(),
            subscribers,
            chats,
            leads: script.leads.clone(),
            stored: Some(known.stored),
            marker: None,
            schedules: known
                .schedules
                .into_iter()
                .map(|s| ((s.area_id.clone(), s.stage), s))
                .collect(),
            checks: Vec::new(),
            next_tick: first_tick_after(start),
            halves: BTreeMap::new(),
            reminders_due: BTreeMap::new(),
            announcing: Vec::new(),
            events: Vec::new(),
            may: HashSet::new(),
            stage_refreshes: 0,
            unreadable: Vec::new(),
        }
    }

    pub fn refresh_answered(&mut self, chat: ChatId, execution: &str, at: DateTime<Utc>) {
        self.events.push(Event {
            key: format!("status:{execution}"),
            stored_at: at,
            chats: vec![chat],
        });
    }

    pub fn observe(&mut self, record: &EventRecord) {
        let at = record.change.approximate_creation_date_time;
        self.run_checks_before(at);
        if record.event_name == "REMOVE" {
            return;
        }
        let new = &record.change.new_image;
        let kind = match new.get(ENTITY) {
            Some(serde_dynamo::AttributeValue::S(kind)) => kind.clone(),
            _ => return,
        };
        match kind.as_str() {
            entity::STAGE => match stage_from_image(new.clone()) {
                Ok(stored) => self.stored = Some(stored),
                Err(error) => self.unreadable.push(error.to_string()),
            },
            entity::SCHEDULE => match schedule_from_image(new.clone()) {
                Ok(schedule) => self.schedule_written(record, schedule, at),
                Err(error) => self.unreadable.push(error.to_string()),
            },
            entity::STAGE_REFRESH => match stage_refresh_from_image(new.clone()) {
                Ok(marker) => {
                    self.marker = Some(marker.clone());
                    for late in [false, true] {
                        let when = if late { at + NOTIFY_READS_WITHIN } else { at };
                        self.schedule_check(
                            when,
                            Check::News {
                                marker: marker.clone(),
                                late,
                            },
                        );
                    }
                }
                Err(error) => self.unreadable.push(error.to_string()),
            },
            _ => {}
        }
    }

    /// Runs every check due up to `end` (the script's end, where the schedules stop), against the
    /// last state. Until `settled` (when the system fell idle), a long broadcast still sends the
    /// reminders falling due alongside it (`NotifyTask::with_reminders_alongside`), though no
    /// schedule fires: those may come, and are not required.
    pub fn finish(&mut self, end: DateTime<Utc>, settled: DateTime<Utc>) {
        self.run_checks_before(end + RUN_READS_WITHIN + TimeDelta::milliseconds(1));
        while self.next_tick <= settled {
            let due = self.reminders_due_at(self.next_tick);
            self.may.extend(due);
            self.next_tick += REMINDER_PERIOD;
        }
        for announcing in std::mem::take(&mut self.announcing) {
            self.settle(announcing);
        }
    }

    /// An announcement no run sends any more: its required chats become its event.
    fn settle(&mut self, announcing: Announcing) {
        for chat in announcing.may {
            self.may.insert((chat, announcing.key.clone()));
        }
        if !announcing.must.is_empty() {
            self.events.push(Event {
                key: announcing.key,
                stored_at: announcing.marker.refreshed_at,
                chats: announcing.must.into_iter().collect(),
            });
        }
    }

    /// Judges the announcements still going out again as a run reaching a chat at `at` would:
    /// with the schedules stored then, and the outages from then on.
    fn rejudge_announcements(&mut self, at: DateTime<Utc>) {
        let (done, going): (Vec<Announcing>, Vec<Announcing>) =
            std::mem::take(&mut self.announcing)
                .into_iter()
                .partition(|a| at - a.marker.refreshed_at > ANNOUNCING_FOR);
        for announcing in done {
            self.settle(announcing);
        }
        self.announcing = going;
        for i in 0..self.announcing.len() {
            let told = self.news_for(&self.announcing[i].marker, at);
            let announcing = &mut self.announcing[i];
            let differ: Vec<ChatId> = announcing
                .must
                .symmetric_difference(&told)
                .copied()
                .collect();
            for chat in differ {
                announcing.must.remove(&chat);
                announcing.may.insert(chat);
            }
        }
    }

    fn schedule_check(&mut self, at: DateTime<Utc>, check: Check) {
        let index = self.checks.partition_point(|(when, _)| *when <= at);
        self.checks.insert(index, (at, check));
    }

    /// Every check whose state is complete once all records before `at` are applied.
    fn run_checks_before(&mut self, at: DateTime<Utc>) {
        // Reminder runs fire every five minutes; each is checked on both sides of its instant.
        while self.next_tick < at {
            let tick = self.next_tick;
            self.schedule_check(
                tick - TimeDelta::milliseconds(1),
                Check::Reminders { tick, late: false },
            );
            self.schedule_check(
                tick + RUN_READS_WITHIN,
                Check::Reminders { tick, late: true },
            );
            self.next_tick += REMINDER_PERIOD;
            // A run reaching a chat later judges with the outages from then on.
            self.rejudge_announcements(tick);
        }
        while self.checks.first().is_some_and(|(when, _)| *when < at) {
            let (_, check) = self.checks.remove(0);
            match check {
                Check::Reminders { tick, late } => {
                    let due = self.reminders_due_at(tick);
                    self.two_sided(format!("reminders@{tick}"), due, late, tick);
                }
                Check::News { marker, late } => {
                    let told = self.news_for(&marker, marker.refreshed_at);
                    let key = stage_key(&marker);
                    if !late {
                        self.halves.insert(
                            key,
                            told.into_iter().map(|chat| (chat, String::new())).collect(),
                        );
                        continue;
                    }
                    let early: BTreeSet<ChatId> = self
                        .halves
                        .remove(&key)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(chat, _)| chat)
                        .collect();
                    self.announcing.push(Announcing {
                        marker,
                        key,
                        must: early.intersection(&told).copied().collect(),
                        may: early.symmetric_difference(&told).copied().collect(),
                    });
                }
            }
        }
    }

    /// Both sides of a check: what both expect is an event, what one expects may be delivered.
    fn two_sided(
        &mut self,
        check: String,
        due: BTreeSet<(ChatId, String)>,
        late: bool,
        at: DateTime<Utc>,
    ) {
        if !late {
            self.halves.insert(check, due);
            return;
        }
        let early = self.halves.remove(&check).unwrap_or_default();
        for pair in early.symmetric_difference(&due) {
            self.may.insert(pair.clone());
        }
        let mut by_key: BTreeMap<&str, Vec<ChatId>> = BTreeMap::new();
        for (chat, key) in early.intersection(&due) {
            if key.starts_with("reminder:") {
                // A reminder is due at every run from its lead time on: the first one counts.
                if self.reminders_due.contains_key(&(*chat, key.clone())) {
                    continue;
                }
                self.reminders_due.insert((*chat, key.clone()), at);
            }
            by_key.entry(key).or_default().push(*chat);
        }
        for (key, chats) in by_key {
            self.events.push(Event {
                key: key.to_owned(),
                stored_at: at,
                chats,
            });
        }
    }

    fn timelines(&self) -> Timelines {
        self.stored.as_ref().map_or_else(
            || Timelines::national_only(Stage::NONE),
            StoredStage::timelines,
        )
    }

    fn forecast(&self, area: &Area, timelines: &Timelines, now: DateTime<Utc>) -> Forecast {
        let rota: Rota = self
            .schedules
            .range((area.id.clone(), Stage::NONE)..)
            .take_while(|((id, _), _)| id == &area.id)
            .map(|((_, stage), schedule)| (*stage, schedule))
            .collect();
        Forecast::build(area, timelines, &rota, now, Horizon::ahead(now))
    }

    /// The reminders the run at `tick` sends, by the stored state now.
    fn reminders_due_at(&self, tick: DateTime<Utc>) -> BTreeSet<(ChatId, String)> {
        let timelines = self.timelines();
        let mut due = BTreeSet::new();
        for (id, followers) in &self.subscribers {
            let Some(area) = self.areas.get(id) else {
                continue;
            };
            let forecast = self.forecast(area, &timelines, tick);
            for outage in &forecast.outages {
                let start = outage.slot.start.with_timezone(&Utc);
                if start <= tick - REMINDER_PERIOD || outage.slot.is_over(tick) {
                    continue;
                }
                let key = format!("reminder:{}:{}", area.id, outage.slot.start.to_rfc3339());
                for chat in followers {
                    let lead = self.leads.get(chat).copied().unwrap_or_default();
                    if lead.before().is_some_and(|lead| start <= tick + lead) {
                        due.insert((*chat, key.clone()));
                    }
                }
            }
        }
        due
    }

    /// The chats the announcement of `marker` tells when a run reaches them at `now`: those with an
    /// area whose forecast (from `now` on, with the schedules stored) the change moves, by the
    /// change as the stage item keeps it (`StoredStage::change_at`, as notify reads
    /// it); all, when the item no longer keeps that change.
    fn news_for(&self, marker: &StageRefresh, now: DateTime<Utc>) -> BTreeSet<ChatId> {
        let Some(stored) = &self.stored else {
            return BTreeSet::new();
        };
        let (timelines, replaced) = match stored.change_at(marker.stage_updated_at) {
            Some(change) => (change.timelines, change.previous),
            None => (stored.timelines(), None),
        };
        let moved: BTreeSet<&AreaId> = self
            .areas
            .values()
            .filter(|area| {
                replaced.as_ref().is_none_or(|before| {
                    self.forecast(area, &timelines, now)
                        .differs_from(&self.forecast(area, before, now), now)
                })
            })
            .map(|area| &area.id)
            .collect();
        self.chats
            .iter()
            .filter(|(_, areas)| areas.iter().any(|a| moved.contains(a)))
            .map(|(chat, _)| *chat)
            .collect()
    }

    fn schedule_written(&mut self, record: &EventRecord, schedule: Schedule, at: DateTime<Utc>) {
        let written_at = written_at(record).unwrap_or(at);
        let today = at.with_timezone(&ZONE).date_naive();
        let noticeable = match record.change.old_image.get(ENTITY) {
            None => true,
            Some(_) => match schedule_from_image(record.change.old_image.clone()) {
                Ok(old) => schedule.differs_from(&old, today),
                Err(error) => {
                    self.unreadable.push(error.to_string());
                    false
                }
            },
        };
        let key = (schedule.area_id.clone(), schedule.stage);
        let area_id = schedule.area_id.clone();
        let stage = schedule.stage;
        self.schedules.insert(key, schedule);
        self.rejudge_announcements(at);
        let Some(area) = self.areas.get(&area_id) else {
            return;
        };
        if !stages_needed(area, &self.timelines()).contains(&stage) || !noticeable {
            return;
        }
        let covered = match (&self.stored, &self.marker) {
            (Some(stored), Some(marker)) if marker.stage_updated_at == stored.updated_at => {
                written_at <= marker.refreshed_at
            }
            (Some(stored), _) => at - stored.updated_at <= REFRESH_WINDOW,
            (None, _) => false,
        };
        if covered {
            self.stage_refreshes += 1;
            return;
        }
        self.events.push(Event {
            key: format!("schedule:{area_id}@{}", written_at.to_rfc3339()),
            stored_at: at,
            chats: self.subscribers.get(&area_id).cloned().unwrap_or_default(),
        });
    }
}

/// The reminder schedule's first firing strictly after `start` (its cron fires on the five
/// minutes, and South African time is whole hours from UTC).
fn first_tick_after(start: DateTime<Utc>) -> DateTime<Utc> {
    let period = REMINDER_PERIOD.num_seconds();
    let next = (start.timestamp().div_euclid(period) + 1) * period;
    DateTime::from_timestamp(next, 0).unwrap_or(start + REMINDER_PERIOD)
}

fn stage_key(marker: &StageRefresh) -> String {
    format!(
        "stage:{}@{}",
        marker.stage.number(),
        marker.stage_updated_at.to_rfc3339()
    )
}

/// The schedule item's `updated_at` attribute: when the schedule task wrote it.
fn written_at(record: &EventRecord) -> Option<DateTime<Utc>> {
    match record.change.new_image.get("updated_at") {
        Some(serde_dynamo::AttributeValue::S(text)) => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

/// Expected against delivered, for one kind of event or all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub expected: usize,
    pub delivered: usize,
    pub missing: usize,
    pub duplicates: usize,
    pub unexpected: usize,
    /// Stage announcements and schedule changes not delivered because a newer announcement
    /// reached the chat.
    pub superseded: usize,
    /// Reminders not delivered before their outage while the bot sent at its full rate.
    pub expired: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Accounting {
    #[serde(flatten)]
    pub total: Tally,
    pub by_kind: BTreeMap<String, Tally>,
    pub lateness_p50_s: f64,
    pub lateness_p99_s: f64,
    pub lateness_max_s: f64,
    /// A few of each problem, to start looking from.
    pub examples: Examples,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Examples {
    pub missing: Vec<String>,
    pub duplicates: Vec<String>,
    pub unexpected: Vec<String>,
}

const EXAMPLES: usize = 5;
/// The kinds the oracle expects; other keys only count towards duplicates.
const ACCOUNTED: [&str; 5] = ["stage", "schedule", "status", "failed", "reminder"];

fn kind_of(event: &str) -> String {
    event.split(':').next().unwrap_or_default().to_owned()
}

/// How long after its outage began a reminder may still be sent ("has started"): the reminder
/// run's look-back.
const REMINDER_GRACE: TimeDelta = REMINDER_PERIOD;

/// Telegram calls a second over the run, to tell a reminder the rate ran out for from a lost one.
pub struct Busy {
    first_second: i64,
    /// Calls in the seconds before each second (prefix sums), from `first_second` on.
    before: Vec<u64>,
    /// Calls a second at which the sender counts as full.
    full: f64,
    /// When the last reminder run ends (the schedule's last firing and one period): a reminder
    /// has no run to send it after that.
    reminders_until: DateTime<Utc>,
}

impl Busy {
    /// `full_rate`: the most sends a second the pacer allows (29 free; about 967 at a paid 1,000);
    /// `last_tick`: the reminder schedule's last firing.
    pub fn new(
        calls: &[(DateTime<Utc>, ChatId)],
        full_rate: f64,
        last_tick: DateTime<Utc>,
    ) -> Self {
        let seconds: Vec<i64> = calls.iter().map(|(at, _)| at.timestamp()).collect();
        let first_second = seconds.iter().copied().min().unwrap_or_default();
        let last = seconds.iter().copied().max().unwrap_or_default();
        let mut per_second = vec![0u64; usize::try_from(last - first_second + 1).unwrap_or(0)];
        for second in seconds {
            if let Some(count) = usize::try_from(second - first_second)
                .ok()
                .and_then(|i| per_second.get_mut(i))
            {
                *count += 1;
            }
        }
        let mut before = Vec::with_capacity(per_second.len() + 1);
        let mut sum = 0;
        before.push(0);
        for count in per_second {
            sum += count;
            before.push(sum);
        }
        Busy {
            first_second,
            before,
            full: 0.9 * full_rate,
            reminders_until: last_tick + REMINDER_PERIOD,
        }
    }

    /// Calls from the start of the run up to (not including) second `second`.
    fn calls_before(&self, second: i64) -> u64 {
        let index = usize::try_from((second - self.first_second).max(0)).unwrap_or(0);
        self.before
            .get(index)
            .or(self.before.last())
            .copied()
            .unwrap_or_default()
    }

    /// Whether the sender ran at its full rate on average over `[from, to)`.
    pub fn was_full(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        let (from, to) = (from.timestamp(), to.timestamp().max(from.timestamp() + 1));
        let calls = self.calls_before(to) - self.calls_before(from);
        calls as f64 >= self.full * (to - from) as f64
    }
}

/// `may`: deliveries that are right without being required (counted neither missing nor
/// unexpected); `busy`: how busy the sender was (for reminders that expired).
pub fn account(
    events: &[Event],
    may: &HashSet<(ChatId, String)>,
    delivered: &[Delivered],
    busy: &Busy,
) -> Accounting {
    let mut result = Accounting::default();
    // (chat, event) -> earliest delivery; (chat, part) -> deliveries.
    let mut first: BTreeMap<(ChatId, &str), DateTime<Utc>> = BTreeMap::new();
    let mut parts: BTreeMap<(ChatId, &str), usize> = BTreeMap::new();
    for message in delivered {
        let Some(key) = message.key.as_deref() else {
            continue;
        };
        *parts.entry((message.chat, key)).or_default() += 1;
        let event = key.split('#').next().unwrap_or(key);
        first
            .entry((message.chat, event))
            .and_modify(|at| *at = (*at).min(message.at))
            .or_insert(message.at);
    }
    for ((chat, part), count) in &parts {
        if *count > 1 {
            let tally = result.by_kind.entry(kind_of(part)).or_default();
            tally.duplicates += count - 1;
            result.total.duplicates += count - 1;
            if result.examples.duplicates.len() < EXAMPLES {
                result
                    .examples
                    .duplicates
                    .push(format!("chat {chat}: {part} x{count}"));
            }
        }
    }
    // The newest stage change each chat heard of.
    let mut newest_stage: HashMap<ChatId, DateTime<Utc>> = HashMap::new();
    for (chat, event) in first.keys() {
        if let Some(at) = stage_change_time(event) {
            let newest = newest_stage.entry(*chat).or_insert(at);
            *newest = (*newest).max(at);
        }
    }
    let mut expected_pairs: HashSet<(ChatId, &str)> = HashSet::new();
    let mut lateness = Vec::new();
    for event in events {
        let kind = kind_of(&event.key);
        for chat in &event.chats {
            if !expected_pairs.insert((*chat, event.key.as_str())) {
                continue;
            }
            let tally = result.by_kind.entry(kind.clone()).or_default();
            tally.expected += 1;
            result.total.expected += 1;
            match first.get(&(*chat, event.key.as_str())) {
                Some(at) => {
                    tally.delivered += 1;
                    result.total.delivered += 1;
                    lateness.push((*at - event.stored_at).num_milliseconds() as f64 / 1000.0);
                }
                None if shown_as_of(&event.key).is_some_and(|at| {
                    newest_stage.get(chat).is_some_and(|newest| *newest > at)
                }) =>
                {
                    tally.superseded += 1;
                    result.total.superseded += 1;
                }
                None if reminder_start(&event.key).is_some_and(|start| {
                    busy.was_full(
                        event.stored_at,
                        (start + REMINDER_GRACE).min(busy.reminders_until),
                    )
                }) =>
                {
                    tally.expired += 1;
                    result.total.expired += 1;
                }
                None => {
                    tally.missing += 1;
                    result.total.missing += 1;
                    if result.examples.missing.len() < EXAMPLES {
                        result
                            .examples
                            .missing
                            .push(format!("chat {chat}: {}", event.key));
                    }
                }
            }
        }
    }
    for (chat, event) in first.keys() {
        let kind = kind_of(event);
        if ACCOUNTED.contains(&kind.as_str())
            && !expected_pairs.contains(&(*chat, *event))
            && !may.contains(&(*chat, (*event).to_owned()))
        {
            result.by_kind.entry(kind).or_default().unexpected += 1;
            result.total.unexpected += 1;
            if result.examples.unexpected.len() < EXAMPLES {
                result
                    .examples
                    .unexpected
                    .push(format!("chat {chat}: {event}"));
            }
        }
    }
    lateness.sort_by(f64::total_cmp);
    let percentile = |p: f64| -> f64 {
        if lateness.is_empty() {
            return 0.0;
        }
        let rank = ((p * lateness.len() as f64).ceil() as usize).clamp(1, lateness.len());
        lateness[rank - 1]
    };
    result.lateness_p50_s = percentile(0.50);
    result.lateness_p99_s = percentile(0.99);
    result.lateness_max_s = lateness.last().copied().unwrap_or_default();
    result
}

/// For a message the supersede rule covers, the time a newer announcement must be of to
/// supersede it: the stage change of a `stage:<n>@<updated_at>` event, the write of a
/// `schedule:<area>@<written_at>` one.
fn shown_as_of(event: &str) -> Option<DateTime<Utc>> {
    stage_change_time(event).or_else(|| {
        let (_, at) = event.strip_prefix("schedule:")?.rsplit_once('@')?;
        DateTime::parse_from_rfc3339(at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The outage start of a `reminder:<area>:<start>` event (the area id has colons of its own).
fn reminder_start(event: &str) -> Option<DateTime<Utc>> {
    let rest = event.strip_prefix("reminder:")?;
    rest.match_indices(':').find_map(|(i, _)| {
        DateTime::parse_from_rfc3339(&rest[i + 1..])
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// When the stage change of a `stage:<n>@<updated_at>` event was stored.
fn stage_change_time(event: &str) -> Option<DateTime<Utc>> {
    let (_, at) = event.strip_prefix("stage:")?.split_once('@')?;
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The most calls in any window of `window` ms: overall, and to one chat.
pub fn peak_rates(calls: &[(DateTime<Utc>, ChatId)], window_ms: i64) -> (usize, usize) {
    let overall = peak(calls.iter().map(|(at, _)| at.timestamp_millis()), window_ms);
    let mut by_chat: BTreeMap<ChatId, Vec<i64>> = BTreeMap::new();
    for (at, chat) in calls {
        by_chat
            .entry(*chat)
            .or_default()
            .push(at.timestamp_millis());
    }
    let per_chat = by_chat
        .into_values()
        .map(|times| peak(times.into_iter(), window_ms))
        .max()
        .unwrap_or_default();
    (overall, per_chat)
}

/// Calls in a window of `window_ms` starting at each call (so at most one call per window start).
fn peak(times: impl Iterator<Item = i64>, window_ms: i64) -> usize {
    let mut times: Vec<i64> = times.collect();
    times.sort_unstable();
    let mut best = 0;
    let mut end = 0;
    for start in 0..times.len() {
        while end < times.len() && times[end] < times[start] + window_ms {
            end += 1;
        }
        best = best.max(end - start);
    }
    best
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0)
            .single()
            .expect("time")
    }

    /// A sender that made no calls.
    fn idle() -> Busy {
        Busy::new(&[], 29.0, at(86_400))
    }

    fn sent(s: i64, chat: i64, key: &str) -> Delivered {
        Delivered {
            at: at(s),
            chat: ChatId(chat),
            key: Some(key.to_owned()),
        }
    }

    #[test]
    fn missing_duplicate_unexpected_and_lateness() {
        let events = vec![Event {
            key: "stage:4@x".into(),
            stored_at: at(0),
            chats: vec![ChatId(1), ChatId(2), ChatId(3)],
        }];
        let delivered = vec![
            sent(10, 1, "stage:4@x#1"),
            sent(12, 1, "stage:4@x#2"),
            sent(20, 2, "stage:4@x#1"),
            sent(21, 2, "stage:4@x#1"),
            sent(30, 1, "schedule:a:f#1"),
            sent(40, 1, "reminder:a:t"),
        ];
        let result = account(&events, &HashSet::new(), &delivered, &idle());
        assert_eq!(
            result.total,
            Tally {
                expected: 3,
                delivered: 2,
                missing: 1,
                duplicates: 1,
                // The schedule message and the reminder: neither expected.
                unexpected: 2,
                superseded: 0,
                expired: 0,
            }
        );
        assert_eq!(result.lateness_max_s, 20.0);
        assert_eq!(result.examples.missing, ["chat 3: stage:4@x"]);
    }

    #[test]
    fn a_stage_announcement_replaced_by_a_newer_one_is_superseded_not_missing() {
        let old = "stage:4@2026-12-01T06:00:00+00:00";
        let new = "stage:6@2026-12-01T07:00:00+00:00";
        let events = vec![
            Event {
                key: old.into(),
                stored_at: at(0),
                chats: vec![ChatId(1), ChatId(2), ChatId(3)],
            },
            Event {
                key: new.into(),
                stored_at: at(3600),
                chats: vec![ChatId(1), ChatId(2)],
            },
        ];
        let delivered = vec![
            sent(10, 1, &format!("{old}#1")),
            sent(3610, 1, &format!("{new}#1")),
            sent(3620, 2, &format!("{new}#1")),
        ];
        let result = account(&events, &HashSet::new(), &delivered, &idle());
        // Chat 2 heard the newer one instead; chat 3 heard neither: that is missing.
        assert_eq!(result.total.superseded, 1);
        assert_eq!(result.total.missing, 1);
        assert_eq!(result.examples.missing, [format!("chat 3: {old}")]);
    }

    #[test]
    fn a_schedule_change_heard_in_a_newer_announcement_is_superseded_not_missing() {
        let schedule = "schedule:eskom:1@2026-12-01T06:30:00+00:00";
        let older = "stage:4@2026-12-01T06:00:00+00:00";
        let newer = "stage:6@2026-12-01T07:00:00+00:00";
        let events = vec![Event {
            key: schedule.into(),
            stored_at: at(0),
            chats: vec![ChatId(1), ChatId(2)],
        }];
        // Chat 1 heard a change stored after the write; chat 2 only one stored before it.
        let delivered = vec![
            sent(10, 1, &format!("{newer}#1")),
            sent(10, 2, &format!("{older}#1")),
        ];
        let result = account(&events, &HashSet::new(), &delivered, &idle());
        assert_eq!(result.total.superseded, 1);
        assert_eq!(result.total.missing, 1);
        assert_eq!(result.examples.missing, [format!("chat 2: {schedule}")]);
    }

    #[test]
    fn a_reminder_expires_only_while_the_sender_is_full() {
        // Due at 0 s for an outage starting at 60 s: its window ends 5 minutes into the outage.
        let start = at(60).to_rfc3339();
        let key = format!("reminder:eskom:1:{start}");
        let events = vec![Event {
            key: key.clone(),
            stored_at: at(0),
            chats: vec![ChatId(1)],
        }];
        let calls = |per_second: i64, seconds: i64| -> Vec<(DateTime<Utc>, ChatId)> {
            (0..seconds * per_second)
                .map(|i| {
                    let ms = i * 1000 / per_second;
                    (at(0) + TimeDelta::milliseconds(ms), ChatId(100 + i))
                })
                .collect()
        };
        let window = 60 + REMINDER_GRACE.num_seconds();
        // At 29 a second throughout: the rate ran out, the reminder expired.
        let full = Busy::new(&calls(29, window), 29.0, at(86_400));
        let result = account(&events, &HashSet::new(), &[], &full);
        assert_eq!((result.total.expired, result.total.missing), (1, 0));
        // Full for only half the window: missing.
        let half = Busy::new(&calls(29, window / 2), 29.0, at(86_400));
        let result = account(&events, &HashSet::new(), &[], &half);
        assert_eq!((result.total.expired, result.total.missing), (0, 1));
        assert_eq!(result.examples.missing, [format!("chat 1: {key}")]);
        // At 20 a second: not full, missing.
        let slow = Busy::new(&calls(20, window), 29.0, at(86_400));
        let result = account(&events, &HashSet::new(), &[], &slow);
        assert_eq!((result.total.expired, result.total.missing), (0, 1));
        assert_eq!(reminder_start(&key), Some(at(60)));
        // Full until the last reminder run ended (the schedule stopped at 0 s, its run at 300 s):
        // no run was left to send it, and the rate was spent until then.
        let cut = Busy::new(&calls(29, 300), 29.0, at(0));
        let result = account(&events, &HashSet::new(), &[], &cut);
        assert_eq!((result.total.expired, result.total.missing), (1, 0));
    }

    #[test]
    fn peaks_count_calls_within_a_second() {
        let calls: Vec<_> = [0, 200, 900, 1000, 1100, 5000i64]
            .iter()
            .map(|ms| {
                (
                    at(0) + chrono::TimeDelta::milliseconds(*ms),
                    ChatId(1 + ms / 1000),
                )
            })
            .collect();
        assert_eq!(peak_rates(&calls, 1000), (4, 3));
    }
}
