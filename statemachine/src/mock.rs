//! Mocked task responses in the format of AWS Step Functions Local's `MockConfigFile`:
//!
//! ```json
//! { "StateMachines": { "<machine>": { "TestCases": { "<case>": { "<state name>": "<mocked response name>" } } } },
//!   "MockedResponses": { "<mocked response name>": {
//!       "0": { "Return": { ... } },
//!       "1-2": { "Throw": { "Error": "...", "Cause": "..." } } } } }
//! ```
//!
//! Attempt keys count every invocation of the state within one execution (retries and revisits alike), from 0.
//! For `arn:aws:states:::lambda:invoke` a `Return` holds the integration's result (`{"StatusCode", "Payload"}`); the
//! executor rebuilds that envelope around `Payload`, so other envelope fields are not carried over.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use crate::exec::{Integration, TaskCall, TaskFailure, TaskInvoker};
use crate::model::{State, StateMachine};

/// Why a mock configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("the mock configuration is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the mock configuration has no state machine '{0}'")]
    UnknownStateMachine(String),
    #[error("state machine '{machine}' has no test case '{case}' in the mock configuration")]
    UnknownTestCase { machine: String, case: String },
    #[error(
        "test case '{case}' maps state '{state}' to '{response}', which is not in MockedResponses"
    )]
    UnknownResponse {
        case: String,
        state: String,
        response: String,
    },
    #[error(
        "mocked response '{response}' has an invalid attempt key '{key}' (expected \"N\" or \"N-M\")"
    )]
    BadAttemptKey { response: String, key: String },
    #[error("the mock configuration has {0} state machines; name one")]
    AmbiguousStateMachine(usize),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MockConfig {
    #[serde(default)]
    pub state_machines: HashMap<String, MockedMachine>,
    #[serde(default)]
    pub mocked_responses: HashMap<String, HashMap<String, MockedResponse>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MockedMachine {
    #[serde(default)]
    pub test_cases: HashMap<String, HashMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum MockedResponse {
    Return(Value),
    Throw(MockedThrow),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MockedThrow {
    pub error: String,
    pub cause: Option<String>,
}

/// One mocked response's attempts, resolved from the `"N"` / `"N-M"` keys.
#[derive(Debug, Clone)]
struct Script {
    ranges: Vec<(u32, u32, MockedResponse)>,
}

impl Script {
    fn parse(name: &str, attempts: &HashMap<String, MockedResponse>) -> Result<Script, MockError> {
        let bad = |key: &str| MockError::BadAttemptKey {
            response: name.to_owned(),
            key: key.to_owned(),
        };
        let mut ranges = Vec::with_capacity(attempts.len());
        for (key, response) in attempts {
            let (from, to) = match key.split_once('-') {
                Some((a, b)) => (
                    a.trim().parse().map_err(|_| bad(key))?,
                    b.trim().parse().map_err(|_| bad(key))?,
                ),
                None => {
                    let n = key.trim().parse().map_err(|_| bad(key))?;
                    (n, n)
                }
            };
            if from > to {
                return Err(bad(key));
            }
            ranges.push((from, to, response.clone()));
        }
        ranges.sort_by_key(|(from, _, _)| *from);
        Ok(Script { ranges })
    }

    /// The response for an attempt; past the last scripted attempt, the last response repeats.
    fn response(&self, attempt: u32) -> Option<&MockedResponse> {
        self.ranges
            .iter()
            .find(|(from, to, _)| (*from..=*to).contains(&attempt))
            .or_else(|| {
                self.ranges
                    .iter()
                    .filter(|(_, to, _)| *to < attempt)
                    .max_by_key(|(_, to, _)| *to)
            })
            .map(|(_, _, response)| response)
    }
}

/// A [`TaskInvoker`] answering from one test case of a mock configuration.
#[derive(Debug)]
pub struct MockInvoker {
    case: Option<String>,
    scripts: HashMap<String, Script>,
    /// Invocations so far per (execution, state).
    counters: Mutex<HashMap<(String, String), u32>>,
}

impl MockConfig {
    pub fn from_json(text: &str) -> Result<MockConfig, MockError> {
        Ok(serde_json::from_str(text)?)
    }

    /// The invoker for `case` of `machine`; `machine` may be omitted when the file describes a single machine.
    pub fn invoker(&self, machine: Option<&str>, case: &str) -> Result<MockInvoker, MockError> {
        let (machine_name, mocked) = match machine {
            Some(name) => self
                .state_machines
                .get_key_value(name)
                .ok_or_else(|| MockError::UnknownStateMachine(name.to_owned()))?,
            None if self.state_machines.len() == 1 => self
                .state_machines
                .iter()
                .next()
                .ok_or(MockError::AmbiguousStateMachine(0))?,
            None => return Err(MockError::AmbiguousStateMachine(self.state_machines.len())),
        };
        let states = mocked
            .test_cases
            .get(case)
            .ok_or_else(|| MockError::UnknownTestCase {
                machine: machine_name.clone(),
                case: case.to_owned(),
            })?;
        let mut scripts = HashMap::with_capacity(states.len());
        for (state, response) in states {
            let attempts =
                self.mocked_responses
                    .get(response)
                    .ok_or_else(|| MockError::UnknownResponse {
                        case: case.to_owned(),
                        state: state.clone(),
                        response: response.clone(),
                    })?;
            scripts.insert(state.clone(), Script::parse(response, attempts)?);
        }
        Ok(MockInvoker {
            case: Some(case.to_owned()),
            scripts,
            counters: Mutex::new(HashMap::new()),
        })
    }
}

impl MockInvoker {
    /// An invoker with no mocked responses: every Task state fails with `States.Runtime`, naming the state.
    pub fn without_mocks() -> Self {
        MockInvoker {
            case: None,
            scripts: HashMap::new(),
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Task states of `machine` (nested ones included) that this test case does not mock, sorted by name.
    pub fn unmocked_states(&self, machine: &StateMachine) -> Vec<String> {
        task_state_names(machine)
            .into_iter()
            .filter(|name| !self.scripts.contains_key(name))
            .collect()
    }
}

/// The names of all Task states of `machine`, nested ones included, sorted and without duplicates.
pub fn task_state_names(machine: &StateMachine) -> Vec<String> {
    fn collect(machine: &StateMachine, out: &mut Vec<String>) {
        for (name, node) in &machine.states {
            match &node.state {
                State::Task(_) => out.push(name.clone()),
                State::Parallel(p) => p.branches.iter().for_each(|b| collect(b, out)),
                State::Map(m) => collect(&m.item_processor, out),
                _ => {}
            }
        }
    }
    let mut names = Vec::new();
    collect(machine, &mut names);
    names.sort();
    names.dedup();
    names
}

#[async_trait]
impl TaskInvoker for MockInvoker {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        let Some(script) = self.scripts.get(&call.state_name) else {
            let case = self
                .case
                .as_deref()
                .map(|c| format!(" in test case '{c}'"))
                .unwrap_or_default();
            return Err(TaskFailure::new(
                crate::model::retry::names::RUNTIME,
                format!("State '{}' has no mocked response{case}", call.state_name),
            ));
        };
        let attempt = {
            let mut counters = self
                .counters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let counter = counters
                .entry((call.execution_name.clone(), call.state_name.clone()))
                .or_insert(0);
            let attempt = *counter;
            *counter += 1;
            attempt
        };
        match script.response(attempt) {
            Some(MockedResponse::Return(value)) => Ok(match (&call.integration, value) {
                (Integration::LambdaInvoke, Value::Object(envelope))
                    if envelope.contains_key("Payload") =>
                {
                    envelope.get("Payload").cloned().unwrap_or(Value::Null)
                }
                _ => value.clone(),
            }),
            Some(MockedResponse::Throw(t)) => Err(TaskFailure {
                error: t.error.clone(),
                cause: t.cause.clone(),
            }),
            None => Err(TaskFailure::new(
                crate::model::retry::names::RUNTIME,
                format!(
                    "State '{}' has no mocked response for attempt {attempt}",
                    call.state_name
                ),
            )),
        }
    }
}
