//! Pass, Task, Wait, Fail and Parallel.

use serde_json::Value;

use super::State;
use crate::validate::checker::Checker;
use crate::validate::machine::MachineKind;
use crate::validate::paths::PathKind;
use crate::validate::timestamp::is_rfc3339;

/// AWS's ceiling for `Seconds`, `TimeoutSeconds` and `HeartbeatSeconds`.
const MAX_SECONDS: i64 = 99_999_999;

impl Checker<'_> {
    pub(super) fn pass(&mut self, state: State<'_>) {
        self.data_fields(state);
        if let Some(result) = state.obj.get("Result")
            && state.jsonpath()
        {
            self.static_result(result, &state.obj.at("Result"));
        }
    }

    pub(super) fn task(&mut self, state: State<'_>) {
        let obj = state.obj;
        self.require(obj, &["Resource"]);
        self.resource(state);
        self.data_fields(state);

        self.at_most_one(obj, &["TimeoutSeconds", "TimeoutSecondsPath"]);
        self.at_most_one(obj, &["HeartbeatSeconds", "HeartbeatSecondsPath"]);
        self.integer_or_expression(state, "TimeoutSeconds", 1, MAX_SECONDS);
        self.integer_or_expression(state, "HeartbeatSeconds", 1, MAX_SECONDS);
        self.path_field(obj, "TimeoutSecondsPath", PathKind::Reference, false);
        self.path_field(obj, "HeartbeatSecondsPath", PathKind::Reference, false);
        if let (Some(heartbeat), Some(timeout)) = (
            obj.get("HeartbeatSeconds").and_then(Value::as_i64),
            obj.get("TimeoutSeconds").and_then(Value::as_i64),
        ) && heartbeat >= timeout
        {
            self.schema(
                &obj.at("HeartbeatSeconds"),
                "HeartbeatSeconds must be smaller than TimeoutSeconds",
            );
        }

        if self.object(obj, "Credentials").is_some()
            && let Some(credentials) = obj.get("Credentials")
        {
            if state.jsonpath() {
                self.payload_template(credentials, &obj.at("Credentials"));
            } else {
                self.jsonata_template(credentials, "Credentials", &obj.at("Credentials"));
            }
        }
    }

    /// Wait: exactly one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`.
    pub(super) fn wait(&mut self, state: State<'_>) {
        let obj = state.obj;
        self.exactly_one(
            obj,
            &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
        );
        self.integer_or_expression(state, "Seconds", 0, MAX_SECONDS);
        self.path_field(obj, "SecondsPath", PathKind::Reference, false);
        self.path_field(obj, "TimestampPath", PathKind::Reference, false);
        match obj.get("Timestamp") {
            Some(value @ Value::String(text)) if !state.jsonpath() && text.starts_with("{%") => {
                self.jsonata_expression(value, "Timestamp", &obj.at("Timestamp"));
            }
            Some(Value::String(text)) if !is_rfc3339(text) => {
                self.schema(
                    &obj.at("Timestamp"),
                    "String does not match RFC3339 timestamp",
                );
            }
            Some(Value::String(_)) | None => {}
            Some(_) => {
                self.string(obj, "Timestamp");
            }
        }
    }

    /// Fail: at most one of `Error`/`ErrorPath` and of `Cause`/`CausePath`.
    pub(super) fn fail(&mut self, state: State<'_>) {
        let obj = state.obj;
        self.at_most_one(obj, &["Error", "ErrorPath"]);
        self.at_most_one(obj, &["Cause", "CausePath"]);
        for field in ["Error", "Cause"] {
            if self.string(obj, field).is_some()
                && !state.jsonpath()
                && let Some(value) = obj.get(field)
            {
                self.jsonata_template(value, field, &obj.at(field));
            }
        }
        self.path_field(obj, "ErrorPath", PathKind::ReferenceOrIntrinsic, false);
        self.path_field(obj, "CausePath", PathKind::ReferenceOrIntrinsic, false);
    }

    /// Parallel: a non-empty array of branches, each a state machine of its own.
    pub(super) fn parallel(&mut self, state: State<'_>) {
        let obj = state.obj;
        self.require(obj, &["Branches"]);
        self.data_fields(state);
        let Some(branches) = self.array(obj, "Branches") else {
            return;
        };
        let at = obj.at("Branches");
        if branches.is_empty() {
            self.schema(&at, "The field 'Branches' must be a non-empty array");
        }
        for (i, branch) in branches.iter().enumerate() {
            self.nested_machine(branch, &at.child(i), MachineKind::Branch);
        }
    }
}
