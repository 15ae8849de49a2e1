//! The refresh definition with mocked task results (`statemachine/mocks/refresh.mock.json`, Step
//! Functions Local's MockConfigFile format) through `loadshed asl run`, as a user would run it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::process::Command;

use serde_json::Value;

const DEFINITION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/statemachine/refresh.asl.json");
const MOCKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/statemachine/mocks/refresh.mock.json"
);
const FROM_TELEGRAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/statemachine/events/telegram-refresh.json"
);

/// Runs one test case; returns the exit code and the printed run.
fn run(case: &str) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args([
            "asl",
            "run",
            DEFINITION,
            "--input",
            &format!("@{FROM_TELEGRAM}"),
        ])
        .args([
            "--mock-config",
            MOCKS,
            "--test-case",
            case,
            "--state-machine",
            "refresh",
        ])
        .output()
        .expect("run loadshed");
    let printed = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{case}: stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), printed)
}

fn types(run: &Value) -> Vec<&str> {
    run["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect()
}

fn entered(run: &Value) -> Vec<&str> {
    run["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("StateEntered"))
        })
        .filter_map(|e| e["stateEnteredEventDetails"]["name"].as_str())
        .collect()
}

fn failures(run: &Value) -> usize {
    types(run)
        .iter()
        .filter(|t| t.ends_with("Failed") && !t.starts_with("Execution"))
        .count()
}

#[test]
fn the_happy_path_succeeds_with_each_result_in_its_place() {
    let (code, run) = run("HappyPath");
    assert_eq!(code, 0);
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(
        entered(&run),
        [
            "ReadStage",
            "RefreshSchedules",
            "Notify",
            "NotifyResumable",
            "Done"
        ]
    );
    assert_eq!(run["output"]["stage"]["stage"], 4);
    assert_eq!(run["output"]["schedule"]["changed"][0], "eskom:64106");
    assert_eq!(run["output"]["notify"]["sent"], 1);
    assert_eq!(
        run["output"]["chat_id"], 123456789,
        "the input is kept beside the results"
    );
}

#[test]
fn a_transient_error_is_retried_until_it_passes() {
    let (code, run) = run("EskomBusyThenAnswers");
    assert_eq!(code, 0);
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(failures(&run), 2);
    assert_eq!(
        entered(&run),
        [
            "ReadStage",
            "RefreshSchedules",
            "Notify",
            "NotifyResumable",
            "Done"
        ]
    );
}

#[test]
fn a_permanent_error_is_caught_reported_and_fails_the_run_with_its_name() {
    let (code, run) = run("TokenRejected");
    assert_eq!(code, 1);
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["error"], "UpstreamUnauthorized");
    assert!(
        run["cause"]
            .as_str()
            .is_some_and(|c| c.contains("refused the API token")),
        "{run}"
    );
    assert_eq!(failures(&run), 1, "no retry");
    assert_eq!(entered(&run), ["ReadStage", "ReportFailure", "Failed"]);
}

#[test]
fn a_crashed_notify_is_retried() {
    let (code, run) = run("NotifyCrashesOnce");
    assert_eq!(code, 0);
    assert_eq!(failures(&run), 1);
    assert_eq!(run["output"]["notify"]["already_delivered"], 2);
}

#[test]
fn nothing_changed_plans_nothing() {
    let (code, run) = run("EverythingUnchanged");
    assert_eq!(code, 0);
    assert_eq!(run["output"]["stage"]["changed"], false);
    assert_eq!(run["output"]["notify"]["planned"], 0);
}
