//! The shapes a task can be invoked with. Which one arrived is decided by the payload's shape, so a
//! payload of no known shape is an `InvalidInput` error and never a guess.

use std::collections::BTreeMap;

use aws_lambda_events::dynamodb;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{AreaId, ChatId, Stage};
use crate::errors::ErrorName;

use super::TaskError;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Invocation {
    /// A DynamoDB Streams batch (choreography).
    Stream(dynamodb::Event),
    /// An EventBridge rule's scheduled event.
    Event(EventBridgeEvent),
    /// An EventBridge Scheduler invocation with the input our template gives it.
    Schedule(ScheduleInput),
    /// A Step Functions Task state (orchestration).
    Workflow(WorkflowInvocation),
}

impl Invocation {
    pub fn parse(payload: Value) -> Result<Self, TaskError> {
        serde_json::from_value(payload).map_err(|_| {
            TaskError::invalid_input(
                "the payload is none of: a DynamoDB Streams batch ({\"Records\": [...]}), an EventBridge \
                 event, a schedule input ({\"trigger\": \"schedule\"}), or a workflow task input \
                 ({\"workflow\": {...}, \"execution_id\": \"...\"}) with known fields",
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub trigger: ScheduleTrigger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleTrigger {
    Schedule,
}

/// What the state machine passes each Task: the workflow state so far and the execution's name
/// (which makes "the status for this run" a message with its own delivery key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowInvocation {
    pub workflow: WorkflowState,
    pub execution_id: String,
}

/// The state the refresh workflow carries from task to task. The first fields are the execution
/// input (from the webhook's `/refresh`, the console or a schedule); each task's result is added
/// under its own key by the definition's `ResultPath`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowState {
    /// Who started it: "telegram", "console", "schedule".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The chat that asked (`/refresh`, or `{"chat_id": N}` from the console): it gets its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<ChatId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<i64>,
    /// Only these areas; empty means the chat's areas, or every subscribed area.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub areas: Vec<AreaId>,
    /// Send the current status to every subscriber, changed or not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Value>,
    /// Set by the definition's Catch: the error that ended the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WorkflowError>,
}

/// What a Step Functions Catch puts at its ResultPath.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// The stage task's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageOutcome {
    pub stage: Stage,
    pub previous: Option<Stage>,
    pub changed: bool,
    pub updated_at: DateTime<Utc>,
}

/// The schedule task's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleOutcome {
    pub stage: Option<Stage>,
    #[serde(default)]
    pub changed: Vec<AreaId>,
    #[serde(default)]
    pub unchanged: Vec<AreaId>,
    #[serde(default)]
    pub failed: Vec<AreaFailure>,
    /// Areas under EskomSePush's retired v2 ids: not fetched; notify asks their subscribers to
    /// subscribe again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<AreaId>,
    /// When each changed area's schedule was stored. Notify needs it to tell a write that belongs
    /// to a stage change's refresh (its announcement shows those slots) from a change of its own,
    /// by the rule the stream path applies to the same write.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub written_at: BTreeMap<AreaId, DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaFailure {
    pub area: AreaId,
    pub error: ErrorName,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tells_shapes_apart() {
        let stream = json!({"Records": []});
        assert!(matches!(
            Invocation::parse(stream),
            Ok(Invocation::Stream(_))
        ));
        let event = json!({
            "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-28T10:00:00Z", "region": "af-south-1",
            "resources": [], "detail": {}
        });
        assert!(matches!(Invocation::parse(event), Ok(Invocation::Event(_))));
        let schedule = json!({"trigger": "schedule"});
        assert!(matches!(
            Invocation::parse(schedule),
            Ok(Invocation::Schedule(_))
        ));
        let workflow =
            json!({"workflow": {"chat_id": 42, "areas": ["eskom:1"]}, "execution_id": "tg-1"});
        match Invocation::parse(workflow) {
            Ok(Invocation::Workflow(w)) => {
                assert_eq!(w.workflow.chat_id, Some(ChatId(42)));
                assert_eq!(w.execution_id, "tg-1");
            }
            other => panic!("expected a workflow invocation, got {other:?}"),
        }
    }

    #[test]
    fn unknown_shapes_are_invalid_input() {
        for payload in [
            json!({}),
            json!(null),
            json!([1, 2]),
            json!({"trigger": "sometimes"}),
            json!({"workflow": {"chat_id": "not a number"}, "execution_id": "x"}),
            json!({"workflow": {"stray": true}, "execution_id": "x"}),
        ] {
            let error = Invocation::parse(payload.clone()).expect_err("should be rejected");
            assert!(matches!(error, TaskError::InvalidInput(_)), "{payload}");
        }
    }

    #[test]
    fn workflow_state_round_trips_with_catch_error() {
        let state = json!({
            "chat_id": 7, "stage": {"stage": 4, "previous": 2, "changed": true, "updated_at": "2026-11-28T08:00:00Z"},
            "error": {"Error": "UpstreamUnauthorized", "Cause": "EskomSePush refused the API token"}
        });
        let parsed: WorkflowState = serde_json::from_value(state.clone()).expect("parse");
        assert_eq!(
            parsed.error.as_ref().map(|e| e.error.as_str()),
            Some("UpstreamUnauthorized")
        );
        assert_eq!(serde_json::to_value(&parsed).expect("serialize"), state);
    }
}
