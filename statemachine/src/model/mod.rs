//! A typed model of a state machine definition, loaded with serde. Loading checks what execution relies on (paths,
//! templates, intrinsic calls and choice rules parse; transitions point at existing states); the full set of AWS
//! validation rules lives in the validator.

pub mod choice;
pub mod fields;
pub mod retry;
pub mod template;

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value};

pub use choice::{ChoiceRule, Comparison, Condition, Operand};
pub use fields::{Expression, IoPath, QueryLanguage, RefPath, ResultPath, TemplateField};
pub use retry::{Catcher, Jitter, Retrier};
pub use template::Template;

/// Why a definition cannot be loaded for execution.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the definition is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("state '{state}': {reason}")]
    State { state: String, reason: String },
    #[error("{0}")]
    Machine(String),
}

/// A state machine, or a Parallel branch, or a Map item processor.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: HashMap<String, StateNode>,
    pub timeout_seconds: Option<u64>,
    pub query_language: QueryLanguage,
    /// The `QueryLanguage` the definition wrote for this machine, if any (nested machines inherit otherwise).
    declared_language: Option<QueryLanguage>,
}

/// A state plus facts about it worked out once at load time.
#[derive(Debug, Clone)]
pub struct StateNode {
    pub state: State,
    /// Whether any field mentions `$$`, so the context object must be built before the state runs.
    pub mentions_context: bool,
    pub query_language: QueryLanguage,
    /// The state's own `QueryLanguage`, if it writes one.
    declared_language: Option<QueryLanguage>,
    /// The state as written: JSONata fields (`Arguments`, `Output`, `Items`, `{% %}` in any field) are evaluated
    /// from it.
    pub raw: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "Type")]
pub enum State {
    Pass(PassState),
    Task(Box<TaskState>),
    Choice(ChoiceState),
    Wait(WaitState),
    Succeed(SucceedState),
    Fail(FailState),
    Parallel(Box<ParallelState>),
    Map(Box<MapState>),
}

/// Where a state goes next.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Transition {
    pub next: Option<String>,
    #[serde(default)]
    pub end: bool,
}

/// JSONata-mode fields, kept so JSONata definitions load; this engine does not evaluate them.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct JsonataFields {
    pub arguments: Option<Value>,
    pub output: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PassState {
    #[serde(flatten)]
    pub transition: Transition,
    #[serde(default)]
    pub input_path: IoPath,
    #[serde(default)]
    pub output_path: IoPath,
    #[serde(default)]
    pub result_path: ResultPath,
    pub parameters: Option<TemplateField>,
    pub result: Option<Value>,
    pub assign: Option<TemplateField>,
    #[serde(flatten)]
    pub jsonata: JsonataFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskState {
    #[serde(flatten)]
    pub transition: Transition,
    pub resource: String,
    #[serde(default)]
    pub input_path: IoPath,
    #[serde(default)]
    pub output_path: IoPath,
    #[serde(default)]
    pub result_path: ResultPath,
    pub parameters: Option<TemplateField>,
    pub result_selector: Option<TemplateField>,
    #[serde(default)]
    pub retry: Vec<Retrier>,
    #[serde(default)]
    pub catch: Vec<Catcher>,
    pub timeout_seconds: Option<Value>,
    pub timeout_seconds_path: Option<RefPath>,
    pub heartbeat_seconds: Option<Value>,
    pub assign: Option<TemplateField>,
    #[serde(flatten)]
    pub jsonata: JsonataFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChoiceState {
    pub choices: Vec<ChoiceRule>,
    pub default: Option<String>,
    #[serde(default)]
    pub input_path: IoPath,
    #[serde(default)]
    pub output_path: IoPath,
    pub assign: Option<TemplateField>,
    #[serde(flatten)]
    pub jsonata: JsonataFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitState {
    #[serde(flatten)]
    pub transition: Transition,
    pub seconds: Option<Value>,
    pub timestamp: Option<Value>,
    pub seconds_path: Option<RefPath>,
    pub timestamp_path: Option<RefPath>,
    #[serde(default)]
    pub input_path: IoPath,
    #[serde(default)]
    pub output_path: IoPath,
    pub assign: Option<TemplateField>,
    #[serde(flatten)]
    pub jsonata: JsonataFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SucceedState {
    #[serde(default)]
    pub input_path: IoPath,
    #[serde(default)]
    pub output_path: IoPath,
    #[serde(flatten)]
    pub jsonata: JsonataFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailState {
    pub error: Option<String>,
    pub cause: Option<String>,
    pub error_path: Option<Expression>,
    pub cause_path: Option<Expression>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParallelState {
    #[serde(flatten)]
    pub transition: Transition,
    pub branches: Vec<StateMachine>,
    #[serde(default)]
    pub input_path: IoPath,
    #[serde(default)]
    pub output_path: IoPath,
    #[serde(default)]
    pub result_path: ResultPath,
    pub parameters: Option<TemplateField>,
    pub result_selector: Option<TemplateField>,
    #[serde(default)]
    pub retry: Vec<Retrier>,
    #[serde(default)]
    pub catch: Vec<Catcher>,
    pub assign: Option<TemplateField>,
    #[serde(flatten)]
    pub jsonata: JsonataFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapState {
    #[serde(flatten)]
    pub transition: Transition,
    /// `ItemProcessor`, or the legacy `Iterator`.
    #[serde(alias = "Iterator")]
    pub item_processor: StateMachine,
    pub items_path: Option<RefPath>,
    /// `ItemSelector`, or the legacy `Parameters`.
    #[serde(alias = "Parameters")]
    pub item_selector: Option<TemplateField>,
    pub max_concurrency: Option<Value>,
    pub max_concurrency_path: Option<RefPath>,
    pub tolerated_failure_percentage: Option<Value>,
    pub tolerated_failure_percentage_path: Option<RefPath>,
    pub tolerated_failure_count: Option<Value>,
    pub tolerated_failure_count_path: Option<RefPath>,
    #[serde(default)]
    pub input_path: IoPath,
    #[serde(default)]
    pub output_path: IoPath,
    #[serde(default)]
    pub result_path: ResultPath,
    pub result_selector: Option<TemplateField>,
    #[serde(default)]
    pub retry: Vec<Retrier>,
    #[serde(default)]
    pub catch: Vec<Catcher>,
    pub assign: Option<TemplateField>,
    /// Distributed-Map fields, kept so such definitions load; the executor refuses to run them.
    pub item_reader: Option<Value>,
    pub item_batcher: Option<Value>,
    pub result_writer: Option<Value>,
    pub items: Option<Value>,
    #[serde(flatten)]
    pub jsonata: JsonataFields,
}

/// The definition as written: states are kept as raw JSON until each is converted, so errors can name the state.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMachine {
    comment: Option<String>,
    start_at: String,
    states: Map<String, Value>,
    timeout_seconds: Option<u64>,
    #[serde(default)]
    query_language: QueryLanguage,
    /// Set after loading: whether `QueryLanguage` was written at all.
    #[serde(skip)]
    declared_language: bool,
}

impl<'de> Deserialize<'de> for StateMachine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let mut raw = RawMachine::deserialize(&value).map_err(serde::de::Error::custom)?;
        raw.declared_language = value.get("QueryLanguage").is_some();
        StateMachine::from_raw(raw, QueryLanguage::JSONPath).map_err(serde::de::Error::custom)
    }
}

impl StateMachine {
    /// Loads a definition from its JSON text.
    pub fn from_json(text: &str) -> Result<StateMachine, ModelError> {
        let value: Value = serde_json::from_str(text)?;
        StateMachine::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<StateMachine, ModelError> {
        let mut raw =
            RawMachine::deserialize(value).map_err(|e| ModelError::Machine(e.to_string()))?;
        raw.declared_language = value.get("QueryLanguage").is_some();
        let machine = StateMachine::from_raw(raw, QueryLanguage::JSONPath)?;
        machine.check_transitions()?;
        Ok(machine)
    }

    fn from_raw(raw: RawMachine, inherited: QueryLanguage) -> Result<StateMachine, ModelError> {
        let declared_language = raw.declared_language.then_some(raw.query_language);
        let query_language = declared_language.unwrap_or(inherited);
        let mut states = HashMap::with_capacity(raw.states.len());
        for (name, value) in raw.states {
            let declared = match value.get("QueryLanguage").and_then(Value::as_str) {
                Some("JSONata") => Some(QueryLanguage::JSONata),
                Some("JSONPath") => Some(QueryLanguage::JSONPath),
                _ => None,
            };
            let state_language = declared.unwrap_or(query_language);
            let state = State::deserialize(&value).map_err(|e| ModelError::State {
                state: name.clone(),
                reason: e.to_string(),
            })?;
            let mentions_context = mentions_context(&value);
            states.insert(
                name,
                StateNode {
                    state,
                    mentions_context,
                    query_language: state_language,
                    declared_language: declared,
                    raw: value,
                },
            );
        }
        let mut machine = StateMachine {
            comment: raw.comment,
            start_at: raw.start_at,
            states,
            timeout_seconds: raw.timeout_seconds,
            query_language,
            declared_language,
        };
        machine.inherit_language(inherited);
        Ok(machine)
    }

    /// Settles every state's query language: its own, else its machine's, else the enclosing state's (a Parallel
    /// branch or Map processor of a JSONata state is JSONata unless it says otherwise).
    fn inherit_language(&mut self, inherited: QueryLanguage) {
        self.query_language = self.declared_language.unwrap_or(inherited);
        for node in self.states.values_mut() {
            node.query_language = node.declared_language.unwrap_or(self.query_language);
            // `$states.context` is the context object: JSONata states always get it.
            node.mentions_context |= node.query_language == QueryLanguage::JSONata;
            let language = node.query_language;
            match &mut node.state {
                State::Parallel(p) => p
                    .branches
                    .iter_mut()
                    .for_each(|b| b.inherit_language(language)),
                State::Map(m) => m.item_processor.inherit_language(language),
                _ => {}
            }
        }
    }

    /// Names of the states (nested ones included) that use JSONata.
    pub fn jsonata_states(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (name, node) in &self.states {
            if node.query_language == QueryLanguage::JSONata {
                names.push(name.clone());
            }
            match &node.state {
                State::Parallel(p) => p
                    .branches
                    .iter()
                    .for_each(|b| names.extend(b.jsonata_states())),
                State::Map(m) => names.extend(m.item_processor.jsonata_states()),
                _ => {}
            }
        }
        names.sort();
        names
    }

    /// Every `StartAt`, `Next`, `Default` and catcher target must name a state of the same machine.
    fn check_transitions(&self) -> Result<(), ModelError> {
        let missing = |target: &str| !self.states.contains_key(target);
        if missing(&self.start_at) {
            return Err(ModelError::Machine(format!(
                "StartAt '{}' is not a state",
                self.start_at
            )));
        }
        for (name, node) in &self.states {
            let mut targets: Vec<&str> = Vec::new();
            let mut catchers: &[Catcher] = &[];
            match &node.state {
                State::Pass(s) => targets.extend(s.transition.next.as_deref()),
                State::Wait(s) => targets.extend(s.transition.next.as_deref()),
                State::Task(s) => {
                    targets.extend(s.transition.next.as_deref());
                    catchers = &s.catch;
                }
                State::Parallel(s) => {
                    targets.extend(s.transition.next.as_deref());
                    catchers = &s.catch;
                    for branch in &s.branches {
                        branch.check_transitions()?;
                    }
                }
                State::Map(s) => {
                    targets.extend(s.transition.next.as_deref());
                    catchers = &s.catch;
                    s.item_processor.check_transitions()?;
                }
                State::Choice(s) => {
                    targets.extend(s.choices.iter().map(|c| c.next.as_str()));
                    targets.extend(s.default.as_deref());
                }
                State::Succeed(_) | State::Fail(_) => {}
            }
            targets.extend(catchers.iter().map(|c| c.next.as_str()));
            if let Some(target) = targets.into_iter().find(|t| missing(t)) {
                return Err(ModelError::State {
                    state: name.clone(),
                    reason: format!("transition target '{target}' is not a state"),
                });
            }
        }
        Ok(())
    }
}

/// Replaces SAM `DefinitionSubstitutions` placeholders (`${Name}`) in every string of a definition, as SAM does
/// before it creates the state machine. Placeholders without a value are left as they are.
pub fn substitute(definition: &mut Value, substitutions: &BTreeMap<String, String>) {
    match definition {
        Value::String(text) if text.contains("${") => {
            for (name, value) in substitutions {
                let placeholder = format!("${{{name}}}");
                if text.contains(&placeholder) {
                    *text = text.replace(&placeholder, value);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| substitute(item, substitutions)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| substitute(item, substitutions)),
        _ => {}
    }
}

fn mentions_context(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("$$"),
        Value::Array(items) => items.iter().any(mentions_context),
        // Nested machines are checked on their own.
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "Branches" | "ItemProcessor" | "Iterator"))
            .any(|(_, v)| mentions_context(v)),
        _ => false,
    }
}

impl State {
    /// The AWS name of the state type, as used in history event names (`PassStateEntered`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            State::Pass(_) => "Pass",
            State::Task(_) => "Task",
            State::Choice(_) => "Choice",
            State::Wait(_) => "Wait",
            State::Succeed(_) => "Succeed",
            State::Fail(_) => "Fail",
            State::Parallel(_) => "Parallel",
            State::Map(_) => "Map",
        }
    }
}

#[cfg(test)]
mod tests;
