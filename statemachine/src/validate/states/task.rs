//! Task: its resource, timeouts and credentials.

use serde_json::Value;

use super::{MAX_SECONDS, State};
use crate::validate::checker::Checker;
use crate::validate::paths::PathKind;

impl Checker<'_> {
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
}
