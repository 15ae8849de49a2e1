//! Execution history in the shape of Step Functions' `GetExecutionHistory`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

/// One history event. `event_type` uses AWS's names (`ExecutionStarted`, `TaskStateEntered`, `TaskScheduled`, ...);
/// `details` holds what AWS puts in the event's `...EventDetails` object, with `input`/`output` as JSON text as AWS
/// records them.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    pub timestamp: DateTime<Utc>,
    pub event_type: String,
    pub details: Map<String, Value>,
}

impl HistoryEvent {
    /// The key AWS uses for this event's details, e.g. `stateEnteredEventDetails` for `PassStateEntered`, and
    /// `taskScheduledEventDetails` for `TaskScheduled`.
    pub fn details_key(&self) -> String {
        if self.event_type.ends_with("StateEntered") {
            return "stateEnteredEventDetails".to_owned();
        }
        if self.event_type.ends_with("StateExited") {
            return "stateExitedEventDetails".to_owned();
        }
        let mut chars = self.event_type.chars();
        let first = chars.next().map(|c| c.to_ascii_lowercase()).into_iter();
        first.chain(chars).chain("EventDetails".chars()).collect()
    }

    /// The state name for `...StateEntered`/`...StateExited` events.
    pub fn state_name(&self) -> Option<&str> {
        self.details.get("name").and_then(Value::as_str)
    }

    /// A details field holding JSON text (`input`, `output`), parsed back into JSON.
    pub fn json_detail(&self, key: &str) -> Option<Value> {
        let text = self.details.get(key)?.as_str()?;
        serde_json::from_str(text).ok()
    }
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("previousEventId", &self.previous_event_id)?;
        map.serialize_entry(
            "timestamp",
            &self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
        )?;
        map.serialize_entry("type", &self.event_type)?;
        if !self.details.is_empty() {
            map.serialize_entry(&self.details_key(), &self.details)?;
        }
        map.end()
    }
}

/// Receives each history event as it is appended, e.g. to print a run live.
pub trait HistoryListener: Send + Sync {
    fn on_event(&self, event: &HistoryEvent);
}

impl<F: Fn(&HistoryEvent) + Send + Sync> HistoryListener for F {
    fn on_event(&self, event: &HistoryEvent) {
        self(event);
    }
}
