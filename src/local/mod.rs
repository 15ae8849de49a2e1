//! The whole system on one machine: the refresh definition run by the `asl` engine in-process,
//! its Lambda functions resolved to the task handlers, an in-memory store, and (offline) recorded
//! upstream responses on a local port. [`system`] adds the choreography: the template's schedules
//! and stream event source mappings over the store's change feed.

pub mod clock;
pub mod console;
pub mod cron;
pub mod filter;
pub mod lambda;
pub mod offline;
pub mod schedules;
pub mod starter;
pub mod streams;
pub mod system;
pub mod tasks;
pub mod template;
pub mod web_server;

use std::sync::Arc;

use asl::{ExecutionOptions, StateMachine};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::Clock;
use loadshed_core::ports::Messenger;
use loadshed_core::runtime::Upstream;
use loadshed_core::tasks::{NotifyConfig, NotifyTask, ScheduleTask, StageTask};
use serde_json::Value;

pub use tasks::InProcessTasks;

/// The definition deployed to Step Functions, built into the binary so `loadshed refresh` runs
/// from anywhere.
pub const REFRESH_DEFINITION: &str = include_str!("../../statemachine/refresh.asl.json");

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("the definition is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("the definition cannot be run: {0}")]
    Definition(String),
    #[error("infra/template.yaml: {0}")]
    Template(#[from] template::TemplateError),
}

/// The refresh definition with its placeholders filled for the local run, ready to execute.
pub fn refresh_machine(definition: &str) -> Result<StateMachine, LocalError> {
    let substitutions = tasks::substitutions();
    // A placeholder the local run cannot fill would only fail later, at its Task state.
    if let Some(unknown) = asl::validate::placeholders::placeholders(definition)
        .into_iter()
        .find(|name| !substitutions.contains_key(*name))
    {
        return Err(LocalError::Definition(format!(
            "the definition uses ${{{unknown}}}, which the local run does not define"
        )));
    }
    let mut value: Value = serde_json::from_str(definition)?;
    asl::model::substitute(&mut value, &substitutions);
    StateMachine::from_value(&value).map_err(|e| LocalError::Definition(e.to_string()))
}

/// The three task handlers wired to the given ports, as the Lambda binaries wire them.
pub fn in_process_tasks(
    store: Arc<MemoryStore>,
    upstream: &Upstream,
    messenger: Arc<dyn Messenger>,
    clock: Arc<dyn Clock>,
    notify: NotifyConfig,
) -> InProcessTasks {
    InProcessTasks {
        stage: Arc::new(StageTask::new(
            upstream.stage.clone(),
            store.clone(),
            clock.clone(),
        )),
        schedule: Arc::new(ScheduleTask::new(
            upstream.schedules.clone(),
            store.clone(),
            clock.clone(),
        )),
        notify: Arc::new(NotifyTask::new(store, messenger, clock, notify)),
    }
}

/// Names in the context object (`$$.StateMachine.Name`, ...) as the deployed machine has them.
pub fn execution_options(execution_name: &str) -> ExecutionOptions {
    ExecutionOptions {
        state_machine_name: "loadshed-refresh".to_owned(),
        execution_name: Some(execution_name.to_owned()),
        region: "af-south-1".to_owned(),
        account: "000000000000".to_owned(),
        ..ExecutionOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_definition_loads_with_every_placeholder_filled() {
        assert!(refresh_machine(REFRESH_DEFINITION).is_ok());
        assert!(
            !tasks::substitutions()
                .values()
                .any(|arn| arn.contains("${"))
        );
    }

    #[test]
    fn an_unknown_placeholder_is_refused_up_front() {
        let definition = r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Other}", "End": true}}}"#;
        match refresh_machine(definition) {
            Err(LocalError::Definition(message)) => {
                assert!(message.contains("${Other}"), "{message}")
            }
            other => panic!("expected a definition error, got {:?}", other.map(|_| ())),
        }
    }
}
