//! Wait: for a number of seconds, or until a timestamp.

use serde_json::Value;

use super::{MAX_SECONDS, State};
use crate::validate::checker::Checker;
use crate::validate::paths::PathKind;
use crate::validate::timestamp::is_rfc3339;

impl Checker<'_> {
    /// Exactly one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`.
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
}
