//! The refresh definition against the tasks' error catalogue: every name it retries or catches is
//! one the tasks really emit (or an AWS name), every transient name is retried, and no permanent
//! name is.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::BTreeSet;

use loadshed::local::REFRESH_DEFINITION;
use loadshed_core::errors::ErrorName;
use serde_json::Value;

/// Names Step Functions and Lambda themselves raise.
fn is_aws_name(name: &str) -> bool {
    name.starts_with("States.") || name.starts_with("Lambda.") || name.starts_with("Sandbox.")
}

fn definition() -> Value {
    serde_json::from_str(REFRESH_DEFINITION).expect("the definition is JSON")
}

/// (state, "Retry" | "Catch", names) for every retrier and catcher.
fn matchers(definition: &Value) -> Vec<(String, &'static str, Vec<String>)> {
    let mut found = Vec::new();
    let states = definition["States"].as_object().expect("States");
    for (name, state) in states {
        for kind in ["Retry", "Catch"] {
            for rule in state[kind].as_array().into_iter().flatten() {
                let names = rule["ErrorEquals"]
                    .as_array()
                    .expect("ErrorEquals")
                    .iter()
                    .map(|n| n.as_str().expect("a string").to_owned())
                    .collect();
                found.push((name.clone(), kind, names));
            }
        }
    }
    found
}

#[test]
fn every_matched_name_is_emitted_by_a_task_or_aws() {
    for (state, kind, names) in matchers(&definition()) {
        for name in names {
            assert!(
                ErrorName::from_name(&name).is_some() || is_aws_name(&name),
                "{state}.{kind} matches {name:?}, which no task emits and AWS does not define"
            );
        }
    }
}

#[test]
fn every_transient_name_is_retried_and_no_permanent_one_is() {
    let matchers = matchers(&definition());
    let retried: BTreeSet<String> = matchers
        .iter()
        .filter(|(_, kind, _)| *kind == "Retry")
        .flat_map(|(_, _, names)| names.iter().cloned())
        .collect();
    for name in ErrorName::ALL {
        if name.is_transient() {
            assert!(
                retried.contains(name.as_str()),
                "transient {name} is never retried"
            );
        } else {
            assert!(
                !retried.contains(name.as_str()),
                "permanent {name} is retried"
            );
        }
    }
    assert!(
        !retried.contains("States.ALL"),
        "a Retry on States.ALL would retry permanent errors"
    );
}

#[test]
fn every_task_has_a_timeout_retries_lambda_service_errors_and_is_caught() {
    let definition = definition();
    let lambda_errors = [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "States.Timeout",
    ];
    let mut tasks = 0;
    for (name, state) in definition["States"].as_object().expect("States") {
        if state["Type"] != "Task" {
            continue;
        }
        tasks += 1;
        assert!(
            state["TimeoutSeconds"].as_u64().is_some_and(|t| t > 0),
            "{name} has no TimeoutSeconds"
        );
        let retried: Vec<&str> = state["Retry"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["ErrorEquals"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        for error in lambda_errors {
            assert!(retried.contains(&error), "{name} does not retry {error}");
        }
        for retrier in state["Retry"].as_array().into_iter().flatten() {
            assert_eq!(retrier["JitterStrategy"], "FULL", "{name}");
            assert!(retrier["MaxDelaySeconds"].as_u64().is_some(), "{name}");
            assert!(
                retrier["BackoffRate"].as_f64().is_some_and(|b| b > 1.0),
                "{name}"
            );
        }
        let catches_all = state["Catch"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["ErrorEquals"] == serde_json::json!(["States.ALL"]));
        assert!(
            catches_all,
            "{name} lets an error end the run without telling the chat"
        );
    }
    assert_eq!(
        tasks, 4,
        "ReadStage, RefreshSchedules, Notify and ReportFailure"
    );
}

#[test]
fn the_failure_path_ends_in_fail_with_the_original_error() {
    let definition = definition();
    let fail = &definition["States"]["Failed"];
    assert_eq!(fail["Type"], "Fail");
    assert_eq!(fail["ErrorPath"], "$.error.Error");
    assert_eq!(fail["CausePath"], "$.error.Cause");
}
