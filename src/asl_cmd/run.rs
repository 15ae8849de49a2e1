//! `loadshed asl run`: execute a definition in-process, answering Task states from a Step Functions Local mock
//! configuration, and print `{"status", "output" | "error" and "cause", "history"}` as JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use asl::mock::{MockConfig, MockError, MockInvoker, task_state_names};
use asl::{Execution, ExecutionStatus, Executor, ModelError, StateMachine, SystemClock, VirtualClock};
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The state machine definition (ASL JSON).
    definition: PathBuf,
    /// The execution input: inline JSON, or @FILE to read it from a file.
    #[arg(long, default_value = "{}")]
    input: String,
    /// A Step Functions Local MockConfigFile whose test case answers the Task states.
    #[arg(long, requires = "test_case")]
    mock_config: Option<PathBuf>,
    /// The test case of the mock configuration to use.
    #[arg(long, requires = "mock_config")]
    test_case: Option<String>,
    /// The state machine of the mock configuration (needed when it describes more than one).
    #[arg(long, requires = "mock_config")]
    state_machine: Option<String>,
    /// Wait for Wait states and retry back-off in real time (by default time is virtual and runs instantly).
    #[arg(long)]
    real_time: bool,
}

/// Why a run could not start: all are usage or definition errors (exit code 2).
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the input is not valid JSON: {0}")]
    Input(serde_json::Error),
    #[error("{path}: {source}")]
    Definition { path: PathBuf, source: ModelError },
    #[error("{path}: {source}")]
    Mock { path: PathBuf, source: MockError },
    #[error("Task state(s) without a mocked response: {}; pass --mock-config and --test-case covering them", .0.join(", "))]
    Unmocked(Vec<String>),
}

fn read(path: &Path) -> Result<String, RunError> {
    std::fs::read_to_string(path).map_err(|source| RunError::Read { path: path.to_owned(), source })
}

fn parse_input(input: &str) -> Result<Value, RunError> {
    let text = match input.strip_prefix('@') {
        Some(file) => read(Path::new(file))?,
        None => input.to_owned(),
    };
    serde_json::from_str(&text).map_err(RunError::Input)
}

fn prepare(args: &RunArgs) -> Result<(Executor, Value), RunError> {
    let machine = StateMachine::from_json(&read(&args.definition)?)
        .map_err(|source| RunError::Definition { path: args.definition.clone(), source })?;
    let input = parse_input(&args.input)?;
    let invoker = match (&args.mock_config, &args.test_case) {
        (Some(path), Some(case)) => {
            let mock_error = |source| RunError::Mock { path: path.clone(), source };
            let config = MockConfig::from_json(&read(path)?).map_err(mock_error)?;
            let invoker = config.invoker(args.state_machine.as_deref(), case).map_err(mock_error)?;
            let unmocked = invoker.unmocked_states(&machine);
            if !unmocked.is_empty() {
                return Err(RunError::Unmocked(unmocked));
            }
            invoker
        }
        _ => {
            let tasks = task_state_names(&machine);
            if !tasks.is_empty() {
                return Err(RunError::Unmocked(tasks));
            }
            // No Task states, so nothing will ask.
            MockInvoker::without_mocks()
        }
    };
    let executor = Executor::new(machine, invoker);
    let executor = if args.real_time { executor.with_clock(SystemClock) } else { executor.with_clock(VirtualClock::new()) };
    Ok((executor, input))
}

fn report(execution: &Execution) -> Value {
    let mut out = Map::new();
    let status = match execution.status {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
    };
    out.insert("status".to_owned(), Value::from(status));
    if execution.status == ExecutionStatus::Succeeded {
        out.insert("output".to_owned(), execution.output.clone().unwrap_or(Value::Null));
    } else {
        out.insert("error".to_owned(), execution.error.clone().map_or(Value::Null, Value::String));
        out.insert("cause".to_owned(), execution.cause.clone().map_or(Value::Null, Value::String));
    }
    let history = execution.history.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>();
    out.insert("history".to_owned(), history.map(Value::Array).unwrap_or(Value::Null));
    Value::Object(out)
}

pub async fn run(args: RunArgs) -> ExitCode {
    let (executor, input) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("loadshed asl run: {error}");
            return ExitCode::from(2);
        }
    };
    let execution = executor.execute(input).await;
    match serde_json::to_string_pretty(&report(&execution)) {
        Ok(text) => println!("{text}"),
        Err(error) => {
            eprintln!("loadshed asl run: cannot print the result: {error}");
            return ExitCode::from(2);
        }
    }
    if execution.status == ExecutionStatus::Succeeded { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
