//! What each chat should have been told, and how that compares with what Telegram accepted.
//!
//! The expected events come from the stored changes (the table's stream, read by an observer that
//! is no Lambda) and the script's subscriptions:
//! - every stage change: every subscribed chat, `stage:<n>@<updated_at>`;
//! - every schedule change people would notice, at the current stage and not part of a stage
//!   change (the first write of an area's schedule after a stage change belongs to that change,
//!   until the change's refresh marker: the refresh looked at every area, and a schedule that came
//!   back as it was stored is no write at all, so a later write is news): the area's subscribers,
//!   `schedule:<area>:<fingerprint>`;
//! - every `/refresh` that started a run: the asking chat, `status:<execution>`.
//!
//! An event is delivered when at least one of its parts reached the chat; a part reaching a chat
//! twice is a duplicate; a message of those kinds that is no expected event is unexpected.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use aws_lambda_events::dynamodb::EventRecord;
use chrono::{DateTime, Utc};
use loadshed_core::adapters::dynamo::keys::{ENTITY, entity};
use loadshed_core::adapters::dynamo::{
    schedule_from_image, stage_from_image, stage_refresh_from_image,
};
use loadshed_core::clock::ZONE;
use loadshed_core::domain::{AreaId, ChatId};
use serde::Serialize;

use super::fakes::Delivered;

/// An event a set of chats should hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The delivery key without its part, e.g. `stage:4@2026-12-01T06:10:00+00:00`.
    pub key: String,
    pub stored_at: DateTime<Utc>,
    pub chats: Vec<ChatId>,
}

/// Reads the stream in order and collects the events it implies.
pub struct Observer {
    subscribers: BTreeMap<AreaId, Vec<ChatId>>,
    everyone: Vec<ChatId>,
    current_stage: Option<u8>,
    /// Areas whose schedule was written at the current stage since it last changed.
    refreshed: HashSet<AreaId>,
    /// When the current stage was stored, and whether its refresh's marker has been seen since.
    current_change: Option<DateTime<Utc>>,
    refresh_done: bool,
    pub events: Vec<Event>,
    /// Schedule writes that were part of a stage change.
    pub stage_refreshes: usize,
    pub unreadable: Vec<String>,
}

impl Observer {
    /// `subscribers` per area; the stored stage and the areas with a schedule at it, as the
    /// simulation starts.
    pub fn new(
        subscribers: BTreeMap<AreaId, Vec<ChatId>>,
        stage: Option<u8>,
        refreshed: impl IntoIterator<Item = AreaId>,
    ) -> Self {
        let everyone: BTreeSet<ChatId> = subscribers.values().flatten().copied().collect();
        Observer {
            subscribers,
            everyone: everyone.into_iter().collect(),
            current_stage: stage,
            refreshed: refreshed.into_iter().collect(),
            // The simulation starts with the stage's refresh done.
            current_change: None,
            refresh_done: true,
            events: Vec::new(),
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
        if record.event_name == "REMOVE" {
            return;
        }
        let new = &record.change.new_image;
        let kind = match new.get(ENTITY) {
            Some(serde_dynamo::AttributeValue::S(kind)) => kind.clone(),
            _ => return,
        };
        let at = record.change.approximate_creation_date_time;
        match kind.as_str() {
            entity::STAGE => match stage_from_image(new.clone()) {
                Ok(stored) => {
                    self.current_stage = Some(stored.stage.number());
                    self.current_change = Some(stored.updated_at);
                    self.refresh_done = false;
                    self.refreshed.clear();
                    self.events.push(Event {
                        key: format!(
                            "stage:{}@{}",
                            stored.stage.number(),
                            stored.updated_at.to_rfc3339()
                        ),
                        stored_at: at,
                        chats: self.everyone.clone(),
                    });
                }
                Err(error) => self.unreadable.push(error.to_string()),
            },
            entity::SCHEDULE => {
                let schedule = match schedule_from_image(new.clone()) {
                    Ok(schedule) => schedule,
                    Err(error) => return self.unreadable.push(error.to_string()),
                };
                if self.current_stage != Some(schedule.stage.number()) {
                    return;
                }
                if !self.refresh_done && self.refreshed.insert(schedule.area_id.clone()) {
                    self.stage_refreshes += 1;
                    return;
                }
                let today = at.with_timezone(&ZONE).date_naive();
                let noticeable = match record.change.old_image.get(ENTITY) {
                    None => true,
                    Some(_) => match schedule_from_image(record.change.old_image.clone()) {
                        Ok(old) => schedule.differs_from(&old, today),
                        Err(error) => return self.unreadable.push(error.to_string()),
                    },
                };
                if noticeable {
                    self.events.push(Event {
                        key: format!("schedule:{}:{}", schedule.area_id, schedule.fingerprint()),
                        stored_at: at,
                        chats: self
                            .subscribers
                            .get(&schedule.area_id)
                            .cloned()
                            .unwrap_or_default(),
                    });
                }
            }
            entity::STAGE_REFRESH => match stage_refresh_from_image(new.clone()) {
                Ok(marker) => {
                    if Some(marker.stage_updated_at) == self.current_change {
                        self.refresh_done = true;
                    }
                }
                Err(error) => self.unreadable.push(error.to_string()),
            },
            _ => {}
        }
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
/// The kinds the oracle expects; other keys (reminders) only count towards duplicates.
const ACCOUNTED: [&str; 4] = ["stage", "schedule", "status", "failed"];

fn kind_of(event: &str) -> String {
    event.split(':').next().unwrap_or_default().to_owned()
}

pub fn account(events: &[Event], delivered: &[Delivered]) -> Accounting {
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
        if ACCOUNTED.contains(&kind.as_str()) && !expected_pairs.contains(&(*chat, *event)) {
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
        let result = account(&events, &delivered);
        assert_eq!(
            result.total,
            Tally {
                expected: 3,
                delivered: 2,
                missing: 1,
                duplicates: 1,
                unexpected: 1
            }
        );
        assert_eq!(result.lateness_max_s, 20.0);
        assert_eq!(result.examples.missing, ["chat 3: stage:4@x"]);
    }

    /// A stream record as Lambda delivers it, of `value` stored as `kind`, at second `s`.
    fn record(
        s: i64,
        kind: &str,
        value: impl Serialize,
        old: Option<serde_json::Value>,
    ) -> EventRecord {
        let item: serde_dynamo::Item = serde_dynamo::to_item(value).expect("item");
        let mut image = serde_json::to_value(&item).expect("image");
        image["entity"] = serde_json::json!({"S": kind});
        image["updated_at"] = image
            .get("updated_at")
            .cloned()
            .unwrap_or(serde_json::json!({"S": at(s).to_rfc3339()}));
        serde_json::from_value(serde_json::json!({
            "eventID": s.to_string(),
            "eventName": if old.is_some() { "MODIFY" } else { "INSERT" },
            "eventSource": "aws:dynamodb",
            "awsRegion": "af-south-1",
            "dynamodb": {
                "ApproximateCreationDateTime": at(s).timestamp(),
                "NewImage": image,
                "OldImage": old.unwrap_or(serde_json::json!({})),
                "SequenceNumber": s.to_string(),
                "SizeBytes": 1,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        }))
        .expect("record")
    }

    #[test]
    fn a_write_after_the_stage_changes_marker_is_news_even_if_the_refresh_wrote_nothing() {
        use loadshed_core::domain::{Schedule, Slot, Stage};
        use loadshed_core::ports::{StageRefresh, StoredStage};
        let stage = Stage::new(1).expect("stage");
        let area = AreaId::new("eskom:1001");
        let day = at(0).with_timezone(&ZONE).date_naive();
        let schedule = |slot: &str| {
            Schedule::from_days(
                area.clone(),
                stage,
                [(day, vec![Slot::parse_on(day, slot).expect("slot")])],
            )
        };
        let old = serde_json::to_value(
            serde_dynamo::to_item::<_, serde_dynamo::Item>(&schedule("08:00 - 10:30"))
                .expect("item"),
        )
        .expect("old image");
        let old = {
            let mut old = old;
            old["entity"] = serde_json::json!({"S": "schedule"});
            old
        };
        let subscribers = BTreeMap::from([(area.clone(), vec![ChatId(1)])]);
        let mut observer = Observer::new(subscribers, Some(2), [area.clone()]);
        let changed_at = at(10);
        observer.observe(&record(
            10,
            entity::STAGE,
            StoredStage {
                stage,
                updated_at: changed_at,
                version: 2,
            },
            None,
        ));
        // The refresh found the area's stage-1 schedule as stored from an earlier spell: no write.
        observer.observe(&record(
            12,
            entity::STAGE_REFRESH,
            StageRefresh {
                stage,
                stage_updated_at: changed_at,
                previous: None,
                refreshed_at: at(12),
            },
            None,
        ));
        // Upstream revised it later: news of its own.
        observer.observe(&record(
            60,
            entity::SCHEDULE,
            schedule("12:00 - 14:30"),
            Some(old.clone()),
        ));
        let keys: Vec<&str> = observer.events.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys[0].starts_with("stage:1@") && keys[1].starts_with("schedule:eskom:1001:"));
        assert_eq!(observer.stage_refreshes, 0);

        // Before a change's marker, the first write belongs to the change.
        let mut observer = Observer::new(
            BTreeMap::from([(area.clone(), vec![ChatId(1)])]),
            Some(2),
            [area.clone()],
        );
        observer.observe(&record(
            10,
            entity::STAGE,
            StoredStage {
                stage,
                updated_at: changed_at,
                version: 2,
            },
            None,
        ));
        observer.observe(&record(
            11,
            entity::SCHEDULE,
            schedule("12:00 - 14:30"),
            Some(old),
        ));
        assert_eq!(observer.events.len(), 1);
        assert_eq!(observer.stage_refreshes, 1);
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
