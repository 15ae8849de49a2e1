//! State machines, top-level and nested (Parallel branches, Map processors): required fields, state names, and the
//! transition graph (targets exist, every state is reachable, some state ends the machine).

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};

use super::checker::{Checker, Obj};
use super::fields::QueryLanguage;
use super::pointer::Pointer;
use super::report::{Code, Severity};
use super::states::{Summary, Transition};

/// AWS rejects longer state names with `INVALID_STATE_NAME`.
const MAX_STATE_NAME_CHARS: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MachineKind {
    Top,
    /// A Parallel branch, or a Map's legacy `Iterator`.
    Branch,
    /// A Map's `ItemProcessor`, which adds `ProcessorConfig`.
    Processor,
}

impl MachineKind {
    fn fields(self) -> &'static [&'static str] {
        match self {
            MachineKind::Top => &[
                "Comment",
                "StartAt",
                "States",
                "TimeoutSeconds",
                "Version",
                "QueryLanguage",
            ],
            MachineKind::Branch => &["Comment", "StartAt", "States"],
            MachineKind::Processor => &["Comment", "StartAt", "States", "ProcessorConfig"],
        }
    }
}

impl Checker<'_> {
    pub(crate) fn definition(&mut self, map: &Map<String, Value>) {
        let root = Pointer::root();
        let obj = Obj::new(map, &root);
        if obj.has("QueryLanguage") {
            let named = self.one_of(obj, "QueryLanguage", &["JSONPath", "JSONata"]);
            // As for states, anything but the exact `JSONPath` counts as JSONata once reported.
            self.machine_language = named
                .and_then(QueryLanguage::parse)
                .unwrap_or(QueryLanguage::Jsonata);
        }
        self.integer(obj, "TimeoutSeconds", 1, 99_999_999);
        if obj.has("Version") {
            self.one_of(obj, "Version", &["1.0"]);
        }
        self.machine(obj, MachineKind::Top);
    }

    /// A nested machine held in `value` (a branch, `Iterator` or `ItemProcessor`).
    pub(crate) fn nested_machine(&mut self, value: &Value, at: &Pointer, kind: MachineKind) {
        match value {
            Value::Object(map) => self.machine(Obj::new(map, at), kind),
            _ => self.schema(
                at,
                "A nested state machine must be an OBJECT with StartAt and States",
            ),
        }
    }

    fn machine(&mut self, obj: Obj<'_>, kind: MachineKind) {
        self.only_fields(obj, kind.fields());
        self.require(obj, &["States", "StartAt"]);
        self.string(obj, "Comment");
        let start_at = self.string(obj, "StartAt");
        let Some(states) = self.object(obj, "States") else {
            return;
        };
        let states_at = obj.at("States");
        if states.is_empty() {
            self.schema(
                &states_at,
                "The field 'States' must define at least one state",
            );
            return;
        }

        let mut summaries = Vec::with_capacity(states.len());
        for (name, state) in states {
            let at = states_at.child(name);
            if name.chars().count() > MAX_STATE_NAME_CHARS {
                self.error(
                    Code::InvalidStateName,
                    &at,
                    format!("State name '{name}' is longer than {MAX_STATE_NAME_CHARS} characters"),
                );
            }
            self.register_state_name(name, &at);
            summaries.push((name.as_str(), self.state(state, &at)));
        }

        let start = start_at.map(|name| Transition::new(name, obj.at("StartAt")));
        self.transitions(states, &states_at, start, &summaries, kind);
    }

    fn transitions(
        &mut self,
        states: &Map<String, Value>,
        states_at: &Pointer,
        start: Option<Transition>,
        summaries: &[(&str, Summary)],
        kind: MachineKind,
    ) {
        let mut any_missing = false;
        for transition in start
            .iter()
            .chain(summaries.iter().flat_map(|(_, s)| &s.transitions))
        {
            if !states.contains_key(&transition.target) {
                any_missing = true;
                self.error(
                    Code::MissingTransitionTarget,
                    &transition.at,
                    format!("Missing 'Next' target: {}", transition.target),
                );
            }
        }

        // Unreachability is only meaningful once the machine has a valid start.
        if let Some(start) = start.filter(|s| states.contains_key(&s.target)) {
            let by_name: HashMap<&str, &Summary> =
                summaries.iter().map(|(name, s)| (*name, s)).collect();
            let mut reached: HashSet<&str> = HashSet::from([start.target.as_str()]);
            let mut queue = VecDeque::from([start.target.as_str()]);
            while let Some(name) = queue.pop_front() {
                for transition in by_name
                    .get(name)
                    .map(|s| s.transitions.as_slice())
                    .unwrap_or_default()
                {
                    if states.contains_key(&transition.target) && reached.insert(&transition.target)
                    {
                        queue.push_back(&transition.target);
                    }
                }
            }
            for name in states.keys() {
                if !reached.contains(name.as_str()) {
                    self.error(
                        Code::MissingTransitionTarget,
                        &states_at.child(name),
                        format!("State \"{name}\" is not reachable."),
                    );
                }
            }
        }

        // A broken state, or a missing target, might have been meant as the end; their own diagnostics say enough.
        if !any_missing && !summaries.iter().any(|(_, s)| s.terminal || s.broken) {
            // AWS gives the top-level machine's diagnostic no location (`at null`); a nested machine's says which.
            let at = (kind != MachineKind::Top).then_some(states_at);
            self.push(
                Severity::Error,
                Code::MissingEndState,
                at,
                "Workflow has no terminal state".to_owned(),
            );
        }
    }
}
