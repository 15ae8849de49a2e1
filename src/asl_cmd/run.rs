//! `loadshed asl run`: execute a definition in-process, answering Task states from a Step Functions Local mock
//! configuration, and print `{"status", "output" | "error" and "cause", "history"}` as JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use asl::mock::{MockConfig, MockError, MockInvoker, task_state_names};
use asl::model::substitute;
use asl::{
    Execution, ExecutionStatus, Executor, ModelError, StateMachine, SystemClock, VirtualClock,
};
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
    /// A SAM DefinitionSubstitutions value, NAME=VALUE, replacing `${NAME}` in the definition (repeatable).
    #[arg(long = "substitution", value_name = "NAME=VALUE", value_parser = parse_substitution)]
    substitutions: Vec<(String, String)>,
    /// Wait for Wait states and retry back-off in real time (by default time is virtual and runs instantly).
    #[arg(long)]
    real_time: bool,
}

fn parse_substitution(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got '{text}'")),
    }
}

/// Why a run could not start: all are usage or definition errors (exit code 2).
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the input is not valid JSON: {0}")]
    Input(serde_json::Error),
    #[error("{path}: {source}")]
    Definition { path: PathBuf, source: ModelError },
    #[error("{path}: {source}")]
    Mock { path: PathBuf, source: MockError },
    #[error(
        "the definition has Task state(s) ({}); pass --mock-config and --test-case to answer them",
        .0.join(", ")
    )]
    NoMocks(Vec<String>),
}

fn read(path: &Path) -> Result<String, RunError> {
    std::fs::read_to_string(path).map_err(|source| RunError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse_input(input: &str) -> Result<Value, RunError> {
    let text = match input.strip_prefix('@') {
        Some(file) => read(Path::new(file))?,
        None => input.to_owned(),
    };
    serde_json::from_str(&text).map_err(RunError::Input)
}

fn prepare(args: &RunArgs) -> Result<(Executor, Value), RunError> {
    let definition_error = |source| RunError::Definition {
        path: args.definition.clone(),
        source,
    };
    let mut definition: Value = serde_json::from_str(&read(&args.definition)?)
        .map_err(|e| definition_error(ModelError::Json(e)))?;
    substitute(
        &mut definition,
        &args.substitutions.iter().cloned().collect(),
    );
    let machine = StateMachine::from_value(&definition).map_err(definition_error)?;
    let input = parse_input(&args.input)?;
    let invoker = match (&args.mock_config, &args.test_case) {
        (Some(path), Some(case)) => {
            let mock_error = |source| RunError::Mock {
                path: path.clone(),
                source,
            };
            let config = MockConfig::from_json(&read(path)?).map_err(mock_error)?;
            // Like Step Functions Local, a test case lists only the states its path reaches; reaching another Task
            // state fails the execution with an error naming it.
            config
                .invoker(args.state_machine.as_deref(), case)
                .map_err(mock_error)?
        }
        _ => {
            let tasks = task_state_names(&machine);
            if !tasks.is_empty() {
                return Err(RunError::NoMocks(tasks));
            }
            // No Task states, so nothing will ask.
            MockInvoker::without_mocks()
        }
    };
    let executor = Executor::new(machine, invoker);
    let executor = if args.real_time {
        executor.with_clock(SystemClock)
    } else {
        executor.with_clock(VirtualClock::new())
    };
    Ok((executor, input))
}

fn report(execution: &Execution) -> Value {
    let mut out = Map::new();
    let status = execution.status.as_str();
    out.insert("status".to_owned(), Value::from(status));
    if execution.status == ExecutionStatus::Succeeded {
        out.insert(
            "output".to_owned(),
            execution.output.clone().unwrap_or(Value::Null),
        );
    } else {
        out.insert(
            "error".to_owned(),
            execution.error.clone().map_or(Value::Null, Value::String),
        );
        out.insert(
            "cause".to_owned(),
            execution.cause.clone().map_or(Value::Null, Value::String),
        );
    }
    let history = execution
        .history
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>();
    out.insert(
        "history".to_owned(),
        history.map(Value::Array).unwrap_or(Value::Null),
    );
    Value::Object(out)
}

pub async fn run(args: RunArgs) -> ExitCode {
    run_into(args, &mut std::io::stdout()).await
}

/// Runs and writes the report to `out`; usage errors go to stderr.
async fn run_into(args: RunArgs, out: &mut (dyn Write + Send)) -> ExitCode {
    let (executor, input) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("loadshed asl run: {error}");
            return ExitCode::from(2);
        }
    };
    let execution = executor.execute(input).await;
    let printed = serde_json::to_string_pretty(&report(&execution))
        .map_err(std::io::Error::other)
        .and_then(|text| writeln!(out, "{text}"));
    // A closed pipe (`| head`) is the reader's choice, not a failure of the run.
    if let Err(error) = &printed
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("loadshed asl run: cannot print the result: {error}");
        return ExitCode::from(2);
    }
    exit_code(execution.status)
}

fn exit_code(status: ExecutionStatus) -> ExitCode {
    if status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const DEFINITION: &str = r#"{"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#;
    const MOCKS: &str = r#"{"StateMachines": {"M": {"TestCases": {
        "ok": {"T": "Ok"}, "bad": {"T": "Bad"}, "none": {}}}},
        "MockedResponses": {"Ok": {"0": {"Return": {"stage": 2}}}, "Bad": {"0": {"Throw": {"Error": "E", "Cause": "C"}}}}}"#;

    fn args(dir: &tempfile::TempDir, case: Option<&str>, input: &str) -> RunArgs {
        let definition = dir.path().join("def.json");
        let mocks = dir.path().join("mocks.json");
        std::fs::write(&definition, DEFINITION).unwrap();
        std::fs::write(&mocks, MOCKS).unwrap();
        RunArgs {
            definition,
            input: input.to_owned(),
            mock_config: case.map(|_| mocks),
            test_case: case.map(str::to_owned),
            state_machine: None,
            substitutions: Vec::new(),
            real_time: false,
        }
    }

    #[tokio::test]
    async fn mocked_run_succeeds_in_virtual_time_and_reports_output_and_history() {
        let dir = tempfile::tempdir().unwrap();
        let (executor, input) = prepare(&args(&dir, Some("ok"), r#"{"a": 1}"#)).unwrap();
        assert_eq!(input, json!({"a": 1}));
        let started = std::time::Instant::now();
        let execution = executor.execute(input).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "a day of Wait runs in virtual time"
        );
        let report = report(&execution);
        assert_eq!(report["status"], json!("SUCCEEDED"));
        assert_eq!(report["output"], json!({"stage": 2}));
        assert!(report.get("error").is_none());
        assert_eq!(report["history"][0]["type"], json!("ExecutionStarted"));
        assert_eq!(exit_code(execution.status), ExitCode::SUCCESS);
    }

    #[tokio::test]
    async fn failed_run_reports_error_and_cause_and_exits_1() {
        let dir = tempfile::tempdir().unwrap();
        let (executor, input) = prepare(&args(&dir, Some("bad"), "{}")).unwrap();
        let execution = executor.execute(input).await;
        let report = report(&execution);
        assert_eq!(
            (
                report["status"].clone(),
                report["error"].clone(),
                report["cause"].clone()
            ),
            (json!("FAILED"), json!("E"), json!("C"))
        );
        assert!(report.get("output").is_none());
        assert_eq!(exit_code(execution.status), ExitCode::from(1));
        let mut printed = Vec::new();
        let code = run_into(args(&dir, Some("bad"), "{}"), &mut printed).await;
        assert_eq!(code, ExitCode::from(1));
        let printed: Value = serde_json::from_slice(&printed).unwrap();
        assert_eq!(printed["error"], json!("E"));
    }

    #[tokio::test]
    async fn usage_and_definition_errors_exit_2() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            matches!(prepare(&args(&dir, None, "{}")), Err(RunError::NoMocks(states)) if states == ["T"])
        );
        assert!(matches!(
            prepare(&args(&dir, Some("nope"), "{}")),
            Err(RunError::Mock { .. })
        ));
        assert!(matches!(
            prepare(&args(&dir, Some("ok"), "{oops")),
            Err(RunError::Input(_))
        ));
        assert!(matches!(
            prepare(&args(&dir, Some("ok"), "@/no/such/file")),
            Err(RunError::Read { .. })
        ));
        let mut broken = args(&dir, Some("ok"), "{}");
        std::fs::write(&broken.definition, r#"{"StartAt": "X", "States": {}}"#).unwrap();
        assert!(matches!(prepare(&broken), Err(RunError::Definition { .. })));
        broken.definition = dir.path().join("missing.json");
        let mut printed = Vec::new();
        assert_eq!(run_into(broken, &mut printed).await, ExitCode::from(2));
        assert!(printed.is_empty());
    }

    #[tokio::test]
    async fn reaching_a_task_state_the_test_case_does_not_mock_fails_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let (executor, input) = prepare(&args(&dir, Some("none"), "{}")).unwrap();
        let execution = executor.execute(input).await;
        assert_eq!(execution.status, ExecutionStatus::Failed);
        assert!(
            execution
                .cause
                .unwrap()
                .contains("State 'T' has no mocked response in test case 'none'")
        );
    }

    #[tokio::test]
    async fn substitutions_fill_sam_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let mut run_args = args(&dir, Some("ok"), "{}");
        std::fs::write(
            &run_args.definition,
            DEFINITION.replace("arn:aws:lambda:us-east-1:1:function:f", "${FnArn}"),
        )
        .unwrap();
        run_args.substitutions =
            vec![parse_substitution("FnArn=arn:aws:lambda:us-east-1:1:function:f").unwrap()];
        let (executor, input) = prepare(&run_args).unwrap();
        let execution = executor.execute(input).await;
        assert!(
            execution
                .history
                .iter()
                .any(|e| e.event_type == "LambdaFunctionScheduled")
        );
        assert!(parse_substitution("no-equals").is_err());
        assert!(parse_substitution("=value").is_err());
    }

    #[tokio::test]
    async fn input_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let input_file = dir.path().join("input.json");
        std::fs::write(&input_file, r#"{"from": "file"}"#).unwrap();
        let (_, input) = prepare(&args(
            &dir,
            Some("ok"),
            &format!("@{}", input_file.display()),
        ))
        .unwrap();
        assert_eq!(input, json!({"from": "file"}));
    }
}
