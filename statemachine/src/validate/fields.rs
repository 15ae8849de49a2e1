//! Which fields each state type accepts, and in which query language.
//!
//! JSONPath states process data with the `*Path` fields, `Parameters` and `ResultSelector`; JSONata states use
//! `Arguments` and `Output` instead. A field listed for one language only is an error in the other.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryLanguage {
    JsonPath,
    Jsonata,
}

impl QueryLanguage {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "JSONPath" => Some(QueryLanguage::JsonPath),
            "JSONata" => Some(QueryLanguage::Jsonata),
            _ => None,
        }
    }
}

impl fmt::Display for QueryLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryLanguage::JsonPath => "JSONPath",
            QueryLanguage::Jsonata => "JSONata",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

pub(crate) const STATE_TYPES: &str = "[Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map]";

impl StateType {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "Pass" => StateType::Pass,
            "Task" => StateType::Task,
            "Choice" => StateType::Choice,
            "Wait" => StateType::Wait,
            "Succeed" => StateType::Succeed,
            "Fail" => StateType::Fail,
            "Parallel" => StateType::Parallel,
            "Map" => StateType::Map,
            _ => return None,
        })
    }

    /// Pass, Task, Wait, Parallel and Map continue with `Next` or stop with `End`.
    pub(crate) fn has_transition(self) -> bool {
        matches!(
            self,
            StateType::Pass
                | StateType::Task
                | StateType::Wait
                | StateType::Parallel
                | StateType::Map
        )
    }
}

/// In which query language a field may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    Both,
    Only(QueryLanguage),
}

use QueryLanguage::{JsonPath as JP, Jsonata as JA};
use Support::{Both, Only};

const EVERY_STATE: &[(&str, Support)] =
    &[("Type", Both), ("Comment", Both), ("QueryLanguage", Both)];
const TRANSITION: &[(&str, Support)] = &[("Next", Both), ("End", Both)];
const INPUT_OUTPUT: &[(&str, Support)] = &[
    ("InputPath", Only(JP)),
    ("OutputPath", Only(JP)),
    ("Output", Only(JA)),
];
const ASSIGN: &[(&str, Support)] = &[("Assign", Both)];
const RESULT: &[(&str, Support)] = &[("ResultPath", Only(JP)), ("ResultSelector", Only(JP))];
const ERROR_HANDLING: &[(&str, Support)] = &[("Retry", Both), ("Catch", Both)];

const PASS: &[(&str, Support)] = &[
    ("Parameters", Only(JP)),
    ("ResultPath", Only(JP)),
    ("Result", Only(JP)),
];
const TASK: &[(&str, Support)] = &[
    ("Resource", Both),
    ("Parameters", Only(JP)),
    ("Arguments", Only(JA)),
    ("TimeoutSeconds", Both),
    ("TimeoutSecondsPath", Only(JP)),
    ("HeartbeatSeconds", Both),
    ("HeartbeatSecondsPath", Only(JP)),
    ("Credentials", Both),
];
const CHOICE: &[(&str, Support)] = &[("Choices", Both), ("Default", Both)];
const WAIT: &[(&str, Support)] = &[
    ("Seconds", Both),
    ("SecondsPath", Only(JP)),
    ("Timestamp", Both),
    ("TimestampPath", Only(JP)),
];
const FAIL: &[(&str, Support)] = &[
    ("Error", Both),
    ("ErrorPath", Only(JP)),
    ("Cause", Both),
    ("CausePath", Only(JP)),
];
const PARALLEL: &[(&str, Support)] = &[
    ("Branches", Both),
    ("Parameters", Only(JP)),
    ("Arguments", Only(JA)),
];
const MAP: &[(&str, Support)] = &[
    ("ItemProcessor", Both),
    ("Iterator", Both),
    ("ItemsPath", Only(JP)),
    ("Items", Only(JA)),
    ("ItemSelector", Both),
    ("Parameters", Only(JP)),
    ("ItemReader", Both),
    ("ItemBatcher", Both),
    ("ResultWriter", Both),
    ("MaxConcurrency", Both),
    ("MaxConcurrencyPath", Only(JP)),
    ("ToleratedFailurePercentage", Both),
    ("ToleratedFailurePercentagePath", Only(JP)),
    ("ToleratedFailureCount", Both),
    ("ToleratedFailureCountPath", Only(JP)),
    ("Label", Both),
];

fn groups(kind: StateType) -> &'static [&'static [(&'static str, Support)]] {
    match kind {
        StateType::Pass => &[EVERY_STATE, TRANSITION, INPUT_OUTPUT, ASSIGN, PASS],
        StateType::Task => &[
            EVERY_STATE,
            TRANSITION,
            INPUT_OUTPUT,
            ASSIGN,
            RESULT,
            ERROR_HANDLING,
            TASK,
        ],
        StateType::Choice => &[EVERY_STATE, INPUT_OUTPUT, ASSIGN, CHOICE],
        StateType::Wait => &[EVERY_STATE, TRANSITION, INPUT_OUTPUT, ASSIGN, WAIT],
        StateType::Succeed => &[EVERY_STATE, INPUT_OUTPUT],
        StateType::Fail => &[EVERY_STATE, FAIL],
        StateType::Parallel => &[
            EVERY_STATE,
            TRANSITION,
            INPUT_OUTPUT,
            ASSIGN,
            RESULT,
            ERROR_HANDLING,
            PARALLEL,
        ],
        StateType::Map => &[
            EVERY_STATE,
            TRANSITION,
            INPUT_OUTPUT,
            ASSIGN,
            RESULT,
            ERROR_HANDLING,
            MAP,
        ],
    }
}

/// How a state of `kind` supports `field`; `None` when it does not accept it at all.
pub(crate) fn support(kind: StateType, field: &str) -> Option<Support> {
    groups(kind)
        .iter()
        .flat_map(|group| group.iter())
        .find(|(name, _)| *name == field)
        .map(|(_, support)| *support)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_selector_belongs_to_task_parallel_and_map_only() {
        for kind in [StateType::Task, StateType::Parallel, StateType::Map] {
            assert_eq!(support(kind, "ResultSelector"), Some(Only(JP)));
        }
        for kind in [
            StateType::Pass,
            StateType::Choice,
            StateType::Wait,
            StateType::Succeed,
            StateType::Fail,
        ] {
            assert_eq!(support(kind, "ResultSelector"), None, "{kind:?}");
        }
    }

    #[test]
    fn jsonata_fields_are_marked() {
        assert_eq!(support(StateType::Task, "Arguments"), Some(Only(JA)));
        assert_eq!(support(StateType::Pass, "Output"), Some(Only(JA)));
        assert_eq!(support(StateType::Fail, "Output"), None);
    }
}
