//! `Retry` and `Catch`: retriers and catchers, their `ErrorEquals`, and the `States.ALL` rules.

use serde_json::Value;

use super::checker::{Checker, Obj};
use super::fields::QueryLanguage;
use super::paths::PathKind;
use super::states::Transition;

const RETRIER_FIELDS: &[&str] = &[
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
];

/// The largest value AWS accepts for the retry integers (99999999) and `MaxDelaySeconds` (one year and a day).
const MAX_RETRY_INTEGER: i64 = 99_999_999;
const MAX_DELAY_SECONDS: i64 = 31_622_400;

impl Checker<'_> {
    pub(crate) fn retry(&mut self, state: Obj<'_>) {
        let Some(retriers) = self.array(state, "Retry") else {
            return;
        };
        let at = state.at("Retry");
        let last = retriers.len().saturating_sub(1);
        for (i, retrier) in retriers.iter().enumerate() {
            let at = at.child(i);
            let Value::Object(map) = retrier else {
                self.schema(&at, "A retrier must be an OBJECT");
                continue;
            };
            let obj = Obj::new(map, &at);
            self.only_fields(obj, RETRIER_FIELDS);
            self.require(obj, &["ErrorEquals"]);
            self.error_equals(obj, i == last, "retrier");
            self.integer(obj, "IntervalSeconds", 1, MAX_RETRY_INTEGER);
            self.integer(obj, "MaxAttempts", 0, MAX_RETRY_INTEGER);
            self.number(obj, "BackoffRate", 1.0, f64::MAX);
            self.integer(obj, "MaxDelaySeconds", 1, MAX_DELAY_SECONDS);
            self.one_of(obj, "JitterStrategy", &["FULL", "NONE"]);
            self.string(obj, "Comment");
        }
    }

    /// Checks `Catch` and returns each catcher's `Next` for the transition graph.
    pub(crate) fn catch(&mut self, state: Obj<'_>, language: QueryLanguage) -> Vec<Transition> {
        let mut transitions = Vec::new();
        let Some(catchers) = self.array(state, "Catch") else {
            return transitions;
        };
        let at = state.at("Catch");
        let last = catchers.len().saturating_sub(1);
        for (i, catcher) in catchers.iter().enumerate() {
            let at = at.child(i);
            let Value::Object(map) = catcher else {
                self.schema(&at, "A catcher must be an OBJECT");
                continue;
            };
            let obj = Obj::new(map, &at);
            let allowed: &[&str] = match language {
                QueryLanguage::JsonPath => {
                    &["ErrorEquals", "Next", "ResultPath", "Comment", "Assign"]
                }
                QueryLanguage::Jsonata => &["ErrorEquals", "Next", "Output", "Comment", "Assign"],
            };
            self.only_fields(obj, allowed);
            self.require(obj, &["ErrorEquals", "Next"]);
            self.error_equals(obj, i == last, "catcher");
            if let Some(next) = self.string(obj, "Next") {
                transitions.push(Transition::new(next, obj.at("Next")));
            }
            self.string(obj, "Comment");
            match language {
                QueryLanguage::JsonPath => {
                    self.path_field(obj, "ResultPath", PathKind::Result, true);
                    if obj.has("Assign") {
                        self.assign_jsonpath(obj);
                    }
                }
                QueryLanguage::Jsonata => {
                    if let Some(output) = obj.get("Output") {
                        self.jsonata_template(output, "Output", &obj.at("Output"));
                    }
                    if obj.has("Assign") {
                        self.assign_jsonata(obj);
                    }
                }
            }
        }
        transitions
    }

    /// A non-empty array of error names (the caller reports its absence); `States.ALL` must stand alone, and only in
    /// the last retrier or catcher.
    fn error_equals(&mut self, obj: Obj<'_>, is_last: bool, what: &str) {
        let Some(names) = self.array(obj, "ErrorEquals") else {
            return;
        };
        let at = obj.at("ErrorEquals");
        if names.is_empty() {
            self.schema(&at, "The field 'ErrorEquals' must be a non-empty array");
            return;
        }
        if names.iter().any(|n| !n.is_string()) {
            self.schema(&at, "The values in 'ErrorEquals' must be STRINGs");
            return;
        }
        if names.iter().any(|n| n == "States.ALL") {
            if names.len() > 1 {
                self.schema(&at, "'States.ALL' must appear alone in 'ErrorEquals'");
            }
            if !is_last {
                self.schema(
                    &at,
                    format!("A {what} with 'States.ALL' must be the last one"),
                );
            }
        }
    }
}
