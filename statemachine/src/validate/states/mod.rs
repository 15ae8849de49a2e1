//! One state: its type, query language and fields, then the checks of its type.

mod choice;
mod fail;
mod map;
mod parallel;
mod pass;
mod resource;
mod task;
mod wait;

use serde_json::Value;

use super::checker::{Checker, Obj};
use super::fields::{QueryLanguage, STATE_TYPES, StateType, Support, support};
use super::paths::PathKind;
use super::pointer::Pointer;

/// AWS's ceiling for `Seconds`, `TimeoutSeconds` and `HeartbeatSeconds`.
const MAX_SECONDS: i64 = 99_999_999;

/// An edge of the transition graph: a state name and the field that names it.
#[derive(Debug, Clone)]
pub(crate) struct Transition {
    pub(crate) target: String,
    pub(crate) at: Pointer,
}

impl Transition {
    pub(crate) fn new(target: &str, at: Pointer) -> Self {
        Transition {
            target: target.to_owned(),
            at,
        }
    }
}

/// What the machine-level checks need to know of a state.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) transitions: Vec<Transition>,
    /// `End: true`, Succeed or Fail.
    pub(crate) terminal: bool,
    /// The state's type or transition fields are broken, so whether it ends the machine is unknown.
    pub(crate) broken: bool,
}

impl Summary {
    fn broken() -> Self {
        Summary {
            broken: true,
            ..Summary::default()
        }
    }
}

/// A state under check.
#[derive(Clone, Copy)]
pub(crate) struct State<'a> {
    pub(crate) obj: Obj<'a>,
    pub(crate) kind: StateType,
    pub(crate) language: QueryLanguage,
}

impl State<'_> {
    pub(crate) fn jsonpath(&self) -> bool {
        self.language == QueryLanguage::JsonPath
    }
}

impl Checker<'_> {
    pub(crate) fn state(&mut self, value: &Value, at: &Pointer) -> Summary {
        let mut summary = Summary::default();
        let Value::Object(map) = value else {
            self.schema(at, "A state must be an OBJECT");
            return Summary::broken();
        };
        let obj = Obj::new(map, at);
        if !self.require(obj, &["Type"]) {
            return Summary::broken();
        }
        let Some(kind) = obj
            .get("Type")
            .and_then(Value::as_str)
            .and_then(StateType::parse)
        else {
            self.schema(
                &obj.at("Type"),
                format!("The value for the field 'Type' must be one of {STATE_TYPES}"),
            );
            return Summary::broken();
        };
        let state = State {
            obj,
            kind,
            language: self.state_language(obj),
        };
        self.state_fields(state);
        self.string(obj, "Comment");
        if kind.has_transition() {
            self.next_or_end(state, &mut summary);
        }
        self.input_output(state);

        match kind {
            StateType::Pass => self.pass(state),
            StateType::Task => {
                self.task(state);
                self.error_handling(state, &mut summary);
            }
            StateType::Choice => self.choice(state, &mut summary),
            StateType::Wait => self.wait(state),
            StateType::Succeed => summary.terminal = true,
            StateType::Fail => {
                self.fail(state);
                summary.terminal = true;
            }
            StateType::Parallel => {
                self.parallel(state);
                self.error_handling(state, &mut summary);
            }
            StateType::Map => {
                self.map(state);
                self.error_handling(state, &mut summary);
            }
        }
        summary
    }

    /// The state's own `QueryLanguage`, else the machine's (nested machines included, as AWS does). A JSONata machine
    /// cannot hold JSONPath states.
    fn state_language(&mut self, obj: Obj<'_>) -> QueryLanguage {
        if !obj.has("QueryLanguage") {
            return self.machine_language;
        }
        match self
            .one_of(obj, "QueryLanguage", &["JSONPath", "JSONata"])
            .and_then(QueryLanguage::parse)
        {
            Some(QueryLanguage::JsonPath) if self.machine_language == QueryLanguage::Jsonata => {
                self.schema(
                    obj.at,
                    "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                );
                QueryLanguage::JsonPath
            }
            Some(language) => language,
            // AWS reads any value but the exact `JSONPath` as JSONata (after reporting the bad value).
            None => QueryLanguage::Jsonata,
        }
    }

    fn state_fields(&mut self, state: State<'_>) {
        for field in state.obj.map.keys() {
            match support(state.kind, field) {
                None => self.unsupported(state.obj, field),
                Some(Support::Only(language)) if language != state.language => self.schema(
                    state.obj.at,
                    format!(
                        "The QueryLanguage is set to '{}', but field '{field}' is only supported for \
                         the '{language}' QueryLanguage",
                        state.language
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    /// Exactly one of `Next` and `End: true`.
    fn next_or_end(&mut self, state: State<'_>, summary: &mut Summary) {
        let obj = state.obj;
        let next = self.string(obj, "Next");
        let end = self.boolean(obj, "End");
        if obj.has("Next") && obj.has("End") {
            self.at_most_one(obj, &["Next", "End"]);
            summary.broken = true;
        } else if !obj.has("Next") && end != Some(true) {
            // A non-boolean `End` already has its own diagnostic.
            if obj.get("End").is_none_or(Value::is_boolean) {
                self.schema(
                    obj.at,
                    "Exactly one of these fields is required: [Next, End]",
                );
            }
            summary.broken = true;
        }
        if let Some(next) = next {
            summary
                .transitions
                .push(Transition::new(next, obj.at("Next")));
        }
        summary.terminal = end == Some(true);
    }

    /// `InputPath`/`OutputPath` (JSONPath) or `Output` (JSONata), and `Assign`, where the state type has them.
    fn input_output(&mut self, state: State<'_>) {
        let obj = state.obj;
        if state.jsonpath() {
            self.path_field(obj, "InputPath", PathKind::Path, true);
            self.path_field(obj, "OutputPath", PathKind::Path, true);
        } else if let Some(output) = obj.get("Output") {
            self.jsonata_template(output, "Output", &obj.at("Output"));
        }
        if obj.has("Assign") && support(state.kind, "Assign").is_some() {
            if state.jsonpath() {
                self.assign_jsonpath(obj);
            } else {
                self.assign_jsonata(obj);
            }
        }
    }

    /// `Parameters`/`ResultSelector`/`ResultPath` (JSONPath) or `Arguments` (JSONata), where the type has them.
    pub(crate) fn data_fields(&mut self, state: State<'_>) {
        let obj = state.obj;
        if state.jsonpath() {
            for field in ["Parameters", "ResultSelector"] {
                if let Some(value) = obj.get(field)
                    && support(state.kind, field).is_some()
                {
                    self.payload_template(value, &obj.at(field));
                }
            }
            self.path_field(obj, "ResultPath", PathKind::Result, true);
        } else if let Some(arguments) = obj.get("Arguments") {
            self.jsonata_template(arguments, "Arguments", &obj.at("Arguments"));
        }
    }

    fn error_handling(&mut self, state: State<'_>, summary: &mut Summary) {
        self.retry(state.obj);
        summary
            .transitions
            .extend(self.catch(state.obj, state.language));
    }

    /// A seconds-like field: an integer in range or, in JSONata, an expression.
    pub(crate) fn integer_or_expression(
        &mut self,
        state: State<'_>,
        field: &str,
        min: i64,
        max: i64,
    ) {
        match state.obj.get(field) {
            Some(value @ Value::String(_)) if !state.jsonpath() => {
                self.jsonata_expression(value, field, &state.obj.at(field));
            }
            Some(_) => {
                self.integer(state.obj, field, min, max);
            }
            None => {}
        }
    }
}
