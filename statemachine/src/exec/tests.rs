//! Executor behaviour from the ASL specification, under virtual time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::model::StateMachine;

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

type Handler = dyn Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync;

/// Answers task calls with a closure and records each call with the virtual time it was made at.
struct Recorder {
    clock: VirtualClock,
    handler: Box<Handler>,
    calls: Mutex<Vec<(TaskCall, DateTime<Utc>)>>,
    /// Virtual seconds each call takes.
    latency: Option<Duration>,
}

#[async_trait]
impl TaskInvoker for Recorder {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        self.calls
            .lock()
            .unwrap()
            .push((call.clone(), self.clock.now()));
        if let Some(latency) = self.latency {
            self.clock.sleep(latency).await;
        }
        (self.handler)(&call)
    }
}

fn recorder(
    clock: &VirtualClock,
    handler: impl Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync + 'static,
) -> Arc<Recorder> {
    Arc::new(Recorder {
        clock: clock.clone(),
        handler: Box::new(handler),
        calls: Mutex::new(Vec::new()),
        latency: None,
    })
}

async fn execute(
    definition: Value,
    input: Value,
    invoker: Arc<Recorder>,
    clock: VirtualClock,
) -> Execution {
    let machine = StateMachine::from_value(&definition).expect("definition loads");
    Executor::new(machine, invoker)
        .with_clock(clock)
        .execute(input)
        .await
}

async fn run_simple(definition: Value, input: Value) -> Execution {
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, |call| Ok(call.input.clone()));
    execute(definition, input, invoker, clock).await
}

fn event_types(execution: &Execution) -> Vec<&str> {
    execution
        .history
        .iter()
        .map(|e| e.event_type.as_str())
        .collect()
}

const FN_ARN: &str = "arn:aws:lambda:us-east-1:111111111111:function:work";

#[tokio::test]
async fn pass_applies_input_path_parameters_result_path_and_output_path_in_order() {
    let definition = json!({"StartAt": "P", "States": {"P": {
        "Type": "Pass", "InputPath": "$.in", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)", "fixed": [1, {"k.$": "$.n"}]},
        "ResultPath": "$.out", "OutputPath": "$.out", "End": true}}});
    let execution = run_simple(definition, json!({"in": {"n": 4}, "other": true})).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(
        execution.output,
        Some(json!({"doubled": 8, "fixed": [1, {"k": 4}]}))
    );
}

#[tokio::test]
async fn null_paths_mean_empty_object_or_discarded_result() {
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "InputPath": null, "Parameters": {"saw.$": "$"}, "Next": "B"},
        "B": {"Type": "Pass", "Result": "ignored", "ResultPath": null, "Next": "C"},
        "C": {"Type": "Pass", "OutputPath": null, "End": true}}});
    let execution = run_simple(definition, json!({"x": 1})).await;
    assert_eq!(execution.output, Some(json!({})));
    let b_output = execution
        .history
        .iter()
        .find(|e| e.event_type == "PassStateExited" && e.state_name() == Some("B"));
    assert_eq!(
        b_output.and_then(|e| e.json_detail("output")),
        Some(json!({"saw": {}}))
    );
}

#[tokio::test]
async fn missing_input_path_is_an_uncatchable_runtime_error() {
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.nope", "End": true}}});
    let execution = run_simple(definition, json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        execution.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'P' (entered at the event id #2). Invalid path '$.nope' : No results for path: $['nope']"
        )
    );
}

#[tokio::test]
async fn history_uses_aws_event_names_for_both_lambda_forms() {
    let definition = json!({"StartAt": "Direct", "States": {
        "Direct": {"Type": "Task", "Resource": FN_ARN, "Next": "Invoke"},
        "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "OutputPath": "$.Payload", "End": true}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, |call| {
        Ok(json!({"seen": call.input.clone(), "by": call.resource.clone()}))
    });
    let execution = execute(definition, json!({"a": 1}), invoker.clone(), clock).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(
        execution.output,
        Some(json!({"seen": {"seen": {"a": 1}, "by": FN_ARN}, "by": "work"})),
        "lambda:invoke passes Payload as the event and wraps the response"
    );
    assert_eq!(
        event_types(&execution),
        vec![
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let ids: Vec<u64> = execution.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=12).collect::<Vec<_>>());
    assert!(
        execution
            .history
            .iter()
            .skip(1)
            .all(|e| e.previous_event_id == e.id - 1)
    );
    let calls = invoker.calls.lock().unwrap();
    assert_eq!(calls[1].0.integration, Integration::LambdaInvoke);
    let scheduled = &execution.history[7];
    assert_eq!(scheduled.details["resourceType"], json!("lambda"));
    assert_eq!(scheduled.details["resource"], json!("invoke"));
    let serialized = serde_json::to_value(scheduled).unwrap();
    assert!(
        serialized.get("taskScheduledEventDetails").is_some(),
        "{serialized}"
    );
}

#[tokio::test]
async fn lambda_invoke_result_has_the_aws_envelope() {
    let definition = json!({"StartAt": "Invoke", "States": {"Invoke": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f", "Payload": {"x": 1}}, "End": true}}});
    let execution = run_simple(definition, json!({})).await;
    let output = execution.output.expect("output");
    assert_eq!(output["StatusCode"], json!(200));
    assert_eq!(output["ExecutedVersion"], json!("$LATEST"));
    assert_eq!(output["Payload"], json!({"x": 1}));
    assert_eq!(output["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
}

fn failing_then(
    succeed_after: usize,
    error: &'static str,
) -> impl Fn(&TaskCall) -> Result<Value, TaskFailure> {
    let count = Mutex::new(0usize);
    move |_call| {
        let mut n = count.lock().unwrap();
        *n += 1;
        if *n > succeed_after {
            Ok(json!("done"))
        } else {
            Err(TaskFailure::new(error, "boom"))
        }
    }
}

fn offsets(invoker: &Recorder) -> Vec<f64> {
    let calls = invoker.calls.lock().unwrap();
    calls
        .iter()
        .map(|(_, at)| (*at - start_time()).as_seconds_f64())
        .collect()
}

#[tokio::test]
async fn retry_waits_interval_times_backoff_to_the_n_capped_by_max_delay() {
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "BackoffRate": 2.0, "MaxAttempts": 4, "MaxDelaySeconds": 10}],
        "ResultSelector": {"retries.$": "$$.State.RetryCount"}}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, failing_then(4, "Flaky"));
    let real = std::time::Instant::now();
    let execution = execute(definition, json!({}), invoker.clone(), clock).await;
    assert!(
        real.elapsed() < Duration::from_secs(5),
        "virtual time must not sleep for real"
    );
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(execution.output, Some(json!({"retries": 4})));
    // Waits 3, 6, 10 (12 capped), 10 (24 capped).
    assert_eq!(offsets(&invoker), vec![0.0, 3.0, 9.0, 19.0, 29.0]);
    let retries: Vec<u32> = invoker
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|(c, _)| c.attempt)
        .collect();
    assert_eq!(retries, vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn max_attempts_zero_never_retries_and_defaults_are_three_attempts_of_one_second_doubling() {
    let zero = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, failing_then(99, "Flaky"));
    let execution = execute(zero, json!({}), invoker.clone(), clock).await;
    assert_eq!(execution.error.as_deref(), Some("Flaky"));
    assert_eq!(execution.cause.as_deref(), Some("boom"));
    assert_eq!(offsets(&invoker), vec![0.0]);

    let defaults = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"]}]}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, failing_then(99, "Flaky"));
    let execution = execute(defaults, json!({}), invoker.clone(), clock).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(offsets(&invoker), vec![0.0, 1.0, 3.0, 7.0]);
}

#[tokio::test]
async fn the_first_matching_retrier_decides_even_when_exhausted() {
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, failing_then(99, "Flaky"));
    execute(definition, json!({}), invoker.clone(), clock).await;
    assert_eq!(invoker.calls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn full_jitter_waits_between_zero_and_the_computed_interval() {
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 10, "BackoffRate": 1.0, "MaxAttempts": 20, "JitterStrategy": "FULL"}]}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, failing_then(20, "Flaky"));
    execute(definition, json!({}), invoker.clone(), clock).await;
    let times = offsets(&invoker);
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps.len(), 20);
    assert!(gaps.iter().all(|g| (0.0..=10.0).contains(g)), "{gaps:?}");
    assert!(
        gaps.iter().any(|g| (*g - gaps[0]).abs() > 1e-9),
        "jitter should vary the waits: {gaps:?}"
    );
}

#[tokio::test]
async fn a_pinned_jitter_draw_gives_exact_delays() {
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "BackoffRate": 2.0, "MaxAttempts": 3, "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}]}}});
    for (fraction, expected) in [
        (1.0, vec![0.0, 2.0, 6.0, 11.0]),
        (0.5, vec![0.0, 1.0, 3.0, 5.5]),
    ] {
        let clock = VirtualClock::starting_at(start_time());
        let invoker = recorder(&clock, failing_then(3, "Flaky"));
        let machine = StateMachine::from_value(&definition).expect("definition loads");
        let execution = Executor::new(machine, invoker.clone())
            .with_clock(clock)
            .with_options(ExecutionOptions {
                jitter: JitterDraw::Fraction(fraction),
                ..ExecutionOptions::default()
            })
            .execute(json!({}))
            .await;
        assert_eq!(execution.status, ExecutionStatus::Succeeded);
        assert_eq!(offsets(&invoker), expected, "fraction {fraction}");
    }
}

#[tokio::test]
async fn catch_puts_error_and_cause_at_its_result_path() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN_ARN, "Next": "Ok",
              "Catch": [{"ErrorEquals": ["Other"], "Next": "Ok"}, {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handled"}]},
        "Ok": {"Type": "Succeed"},
        "Handled": {"Type": "Pass", "End": true}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, failing_then(99, "Custom.Error"));
    let execution = execute(definition, json!({"keep": 1}), invoker, clock).await;
    assert_eq!(
        execution.output,
        Some(json!({"keep": 1, "error": {"Error": "Custom.Error", "Cause": "boom"}}))
    );
}

#[tokio::test]
async fn states_runtime_is_never_caught_and_task_failed_does_not_catch_timeouts() {
    let runtime = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN_ARN, "OutputPath": "$.missing", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
        "C": {"Type": "Pass", "End": true}}});
    let execution = run_simple(runtime, json!({})).await;
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));

    let timeout = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN_ARN, "TimeoutSeconds": 5, "End": true,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "C"}]},
        "C": {"Type": "Pass", "End": true}}});
    let clock = VirtualClock::starting_at(start_time());
    let slow = Arc::new(Recorder {
        clock: clock.clone(),
        handler: Box::new(|_| Ok(json!("late"))),
        calls: Mutex::new(Vec::new()),
        latency: Some(Duration::from_secs(60)),
    });
    let execution = execute(timeout, json!({}), slow, clock.clone()).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Timeout"));
    assert!(event_types(&execution).contains(&"LambdaFunctionTimedOut"));
    assert_eq!(
        (clock.now() - start_time()).num_seconds(),
        5,
        "the timeout fires at 5 virtual seconds"
    );
}

#[tokio::test]
async fn a_task_that_finishes_before_its_timeout_succeeds() {
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "TimeoutSeconds": 30, "End": true}}});
    let clock = VirtualClock::starting_at(start_time());
    let slow = Arc::new(Recorder {
        clock: clock.clone(),
        handler: Box::new(|_| Ok(json!("in time"))),
        calls: Mutex::new(Vec::new()),
        latency: Some(Duration::from_secs(20)),
    });
    let execution = execute(definition, json!({}), slow, clock).await;
    assert_eq!(execution.output, Some(json!("in time")));
}

#[tokio::test]
async fn machine_timeout_ends_the_execution_as_timed_out() {
    let definition = json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let execution = run_simple(definition, json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::TimedOut);
    assert_eq!(execution.error.as_deref(), Some("States.Timeout"));
    assert_eq!(event_types(&execution).last(), Some(&"ExecutionTimedOut"));
}

#[tokio::test]
async fn wait_states_advance_virtual_time_only() {
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Wait", "Seconds": 7200, "Next": "B"},
        "B": {"Type": "Wait", "SecondsPath": "$.s", "Next": "C"},
        "C": {"Type": "Wait", "Timestamp": "2024-01-02T00:00:00Z", "Next": "D"},
        "D": {"Type": "Wait", "TimestampPath": "$.until", "End": true}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, |_| Ok(Value::Null));
    let real = std::time::Instant::now();
    let execution = execute(
        definition,
        json!({"s": 60, "until": "2024-01-03T00:00:00+02:00"}),
        invoker,
        clock.clone(),
    )
    .await;
    assert!(real.elapsed() < Duration::from_secs(5));
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(
        clock.now(),
        Utc.with_ymd_and_hms(2024, 1, 2, 22, 0, 0).single().unwrap()
    );
}

#[tokio::test]
async fn wait_timestamp_without_offset_is_a_runtime_error() {
    let definition = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": true}}});
    let execution = run_simple(definition, json!({"t": "2016-12-05T21:29:29"})).await;
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert!(
        execution
            .cause
            .unwrap()
            .ends_with("$.t == 2016-12-05T21:29:29")
    );
}

#[tokio::test]
async fn choice_rules_and_default_and_no_match() {
    let definition = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 10}, {"Not": {"Variable": "$.s", "StringEquals": "skip"}}], "Next": "Big"},
            {"Or": [{"Variable": "$.s", "StringMatches": "sm*"}, {"Variable": "$.flag", "IsPresent": true}], "Next": "Small"}
        ]},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true}}});
    assert_eq!(
        run_simple(definition.clone(), json!({"n": 10, "s": "x"}))
            .await
            .output,
        Some(json!("big"))
    );
    assert_eq!(
        run_simple(definition.clone(), json!({"n": 3, "s": "small"}))
            .await
            .output,
        Some(json!("small"))
    );
    assert_eq!(
        run_simple(definition.clone(), json!({"n": 1, "s": "x", "flag": 0}))
            .await
            .output,
        Some(json!("small"))
    );
    let none = run_simple(definition, json!({"n": 10, "s": "skip"})).await;
    assert_eq!(none.error.as_deref(), Some("States.NoChoiceMatched"));
}

#[tokio::test]
async fn parallel_branches_keep_order_and_a_branch_failure_fails_the_state() {
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 30, "Next": "A2"}, "A2": {"Type": "Pass", "Result": "a", "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": true}}}
    ]}}});
    let execution = run_simple(definition, json!({})).await;
    assert_eq!(execution.output, Some(json!(["a", "b"])));

    let failing = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Broke", "Cause": "why"}}}
    ]}}});
    let execution = run_simple(failing, json!({})).await;
    assert_eq!(
        (execution.error.as_deref(), execution.cause.as_deref()),
        (Some("Branch.Broke"), Some("why"))
    );
    assert!(event_types(&execution).contains(&"ParallelStateFailed"));
}

#[tokio::test]
async fn map_uses_items_path_item_selector_and_context_item() {
    let definition = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "tag.$": "$.tag"},
        "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}},
        "ResultPath": "$.results", "End": true}}});
    let execution = run_simple(definition, json!({"items": ["x", "y", "z"], "tag": "t"})).await;
    assert_eq!(
        execution.output.unwrap()["results"],
        json!([{"index": 0, "value": "x", "tag": "t"}, {"index": 1, "value": "y", "tag": "t"}, {"index": 2, "value": "z", "tag": "t"}])
    );
    let single = run_simple(json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Pass", "End": true}}}, "End": true}}}), json!([1])).await;
    assert_eq!(
        event_types(&single),
        vec![
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapIterationStarted",
            "PassStateEntered",
            "PassStateExited",
            "MapIterationSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn map_tolerated_failures() {
    let definition = |tolerated: u32| {
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": tolerated,
            "ItemProcessor": {"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}], "Default": "Ok"},
                "F": {"Type": "Fail", "Error": "Two", "Cause": "no twos"},
                "Ok": {"Type": "Pass", "End": true}}}, "End": true}}})
    };
    let tolerated = run_simple(definition(1), json!([1, 2, 3])).await;
    assert_eq!(
        tolerated.output,
        Some(json!([1, {"Error": "Two", "Cause": "no twos"}, 3]))
    );
    let exceeded = run_simple(definition(0), json!([1, 2, 3])).await;
    assert_eq!(
        exceeded.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
}

#[tokio::test]
async fn map_items_must_be_an_array() {
    let definition = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Pass", "End": true}}}, "End": true}}});
    assert_eq!(
        run_simple(definition, json!({"not": "array"}))
            .await
            .error
            .as_deref(),
        Some("States.Runtime")
    );
}

#[tokio::test]
async fn variables_are_assigned_together_after_the_state() {
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"n": 2}, "Assign": {"n.$": "$.n", "label": "two"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"old.$": "$n"}, "Assign": {"n.$": "States.MathAdd($n, 1)", "was.$": "$n"}, "Next": "C"},
        "C": {"Type": "Pass", "Parameters": {"old.$": "$.old", "n.$": "$n", "was.$": "$was", "label.$": "$label"}, "End": true}}});
    let execution = run_simple(definition, json!({})).await;
    assert_eq!(
        execution.output,
        Some(json!({"old": 2, "n": 3, "was": 2, "label": "two"}))
    );
    let exited_b = execution
        .history
        .iter()
        .find(|e| e.state_name() == Some("B") && e.event_type == "PassStateExited");
    assert_eq!(
        exited_b.unwrap().details["assignedVariables"],
        json!({"n": "3", "was": "2"})
    );
}

#[tokio::test]
async fn variables_reach_map_iterations() {
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": [1, 2], "Assign": {"bias": 10}, "Next": "M"},
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass",
            "Parameters": {"sum.$": "States.MathAdd($, $bias)"}, "Assign": {"inner": 1}, "End": true}}}, "Next": "Out"},
        "Out": {"Type": "Pass", "Parameters": {"r.$": "$", "bias.$": "$bias"}, "End": true}}});
    let execution = run_simple(definition, json!({})).await;
    assert_eq!(
        execution.output,
        Some(json!({"r": [{"sum": 11}, {"sum": 12}], "bias": 10}))
    );
}

#[tokio::test]
async fn undefined_variable_fails_at_run_time() {
    let definition = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "$nope"}, "End": true}}});
    assert_eq!(
        run_simple(definition, json!({})).await.error.as_deref(),
        Some("States.Runtime")
    );
}

#[tokio::test]
async fn oversized_task_results_are_data_limit_exceeded_and_catchable() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN_ARN, "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
        "C": {"Type": "Pass", "End": true}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, |_| Ok(Value::String("a".repeat(300 * 1024))));
    let execution = execute(definition, json!({}), invoker, clock).await;
    assert_eq!(
        execution.output.unwrap()["Error"],
        json!("States.DataLimitExceeded")
    );
}

#[tokio::test]
async fn fail_state_with_paths_and_intrinsics() {
    let definition = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e",
        "CausePath": "States.Format('bad {}', $.c)"}}});
    let execution = run_simple(definition, json!({"e": "E", "c": 7})).await;
    assert_eq!(
        (execution.error.as_deref(), execution.cause.as_deref()),
        (Some("E"), Some("bad 7"))
    );
    let empty = run_simple(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail"}}}),
        json!({}),
    )
    .await;
    assert_eq!(
        (empty.status, empty.error, empty.cause),
        (ExecutionStatus::Failed, None, None)
    );
}

#[tokio::test]
async fn context_object_carries_execution_and_state() {
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"name.$": "$$.State.Name", "input.$": "$$.Execution.Input", "machine.$": "$$.StateMachine.Name",
                       "entered.$": "$$.State.EnteredTime", "exec.$": "$$.Execution.Name"}, "End": true}}});
    let machine = StateMachine::from_value(&definition).unwrap();
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, |_| Ok(Value::Null));
    let execution = Executor::new(machine, invoker)
        .with_clock(clock)
        .with_options(ExecutionOptions {
            state_machine_name: "Machine".into(),
            execution_name: Some("run-1".into()),
            ..ExecutionOptions::default()
        })
        .execute(json!({"q": 1}))
        .await;
    assert_eq!(
        execution.output,
        Some(
            json!({"name": "P", "input": {"q": 1}, "machine": "Machine", "entered": "2024-01-01T00:00:00.000Z", "exec": "run-1"})
        )
    );
}

#[tokio::test]
async fn listener_sees_events_as_they_happen() {
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let machine = StateMachine::from_value(&definition).unwrap();
    let clock = VirtualClock::starting_at(start_time());
    let execution = Executor::new(machine, recorder(&clock, |_| Ok(Value::Null)))
        .with_clock(clock)
        .with_listener(move |event: &HistoryEvent| {
            sink.lock().unwrap().push(event.event_type.clone())
        })
        .with_options(ExecutionOptions {
            record_history: false,
            ..ExecutionOptions::default()
        })
        .execute(json!({}))
        .await;
    assert!(execution.history.is_empty());
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn jsonata_states_run_with_states_variables_and_aws_errors() {
    let definition = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {"sum": "{% $sum($states.input.n) %}", "name": "{% $states.context.State.Name %}"},
              "Assign": {"x": "{% $count($states.input.n) %}"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $x = 3 %}", "Next": "Mixed",
              "Output": {"sum": "{% $states.input.sum %}", "x": "{% $x %}"}}], "Default": "Broken"},
        "Mixed": {"Type": "Pass", "QueryLanguage": "JSONPath", "Parameters": {"x.$": "$x", "sum.$": "$.sum"}, "Next": "Broken"},
        "Broken": {"Type": "Pass", "Output": "{% $nope %}", "End": true}}});
    let execution = run_simple(definition, json!({"n": [1, 2, 3]})).await;
    assert_eq!(
        execution.error.as_deref(),
        Some("States.QueryEvaluationError")
    );
    assert_eq!(
        execution.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'Broken' (entered at the event id #8). The JSONata \
             expression '$nope' specified for the field 'Output' returned nothing (undefined)."
        )
    );
    let mixed = execution
        .history
        .iter()
        .find(|e| e.event_type == "PassStateExited" && e.state_name() == Some("Mixed"))
        .and_then(|e| e.json_detail("output"));
    assert_eq!(mixed, Some(json!({"x": 3, "sum": 6})));
}

#[tokio::test]
async fn choice_assigns_state_level_always_and_rule_level_when_the_rule_matches() {
    let definition = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Assign": {"via": "state", "seen.$": "$.x"},
              "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Assign": {"via": "rule"}, "Next": "Out"}], "Default": "Out"},
        "Out": {"Type": "Pass", "Parameters": {"via.$": "$via", "seen.$": "$seen"}, "End": true}}});
    assert_eq!(
        run_simple(definition.clone(), json!({"x": 1})).await.output,
        Some(json!({"via": "rule", "seen": 1}))
    );
    assert_eq!(
        run_simple(definition, json!({"x": 2})).await.output,
        Some(json!({"via": "state", "seen": 2}))
    );
}

#[tokio::test]
async fn distributed_map_features_are_refused_not_ignored() {
    let definition = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemBatcher": {"MaxItemsPerBatch": 2},
        "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Pass", "End": true}}}, "End": true}}});
    let execution = run_simple(definition, json!([1, 2, 3])).await;
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert!(execution.cause.unwrap().contains("ItemBatcher"));
}

#[test]
fn executions_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let machine = StateMachine::from_value(
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .unwrap();
    let clock = VirtualClock::starting_at(start_time());
    let executor = Executor::new(machine, recorder(&clock, |_| Ok(Value::Null)));
    assert_send(&executor.execute(json!({})));
}

/// An invoker doing real asynchronous work (as an in-process handler calling a local server would).
struct RealWork;

#[async_trait]
impl TaskInvoker for RealWork {
    async fn invoke(&self, _call: TaskCall) -> Result<Value, TaskFailure> {
        tokio::time::sleep(Duration::from_millis(30)).await;
        Ok(json!("worked"))
    }
}

#[tokio::test]
async fn virtual_time_holds_still_while_a_task_does_real_work() {
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "TimeoutSeconds": 1, "End": true}}},
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}}
    ]}}});
    let machine = StateMachine::from_value(&definition).unwrap();
    let clock = VirtualClock::starting_at(start_time());
    let execution = Executor::new(machine, RealWork)
        .with_clock(clock.clone())
        .execute(json!({}))
        .await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{execution:?}"
    );
    assert_eq!(execution.output, Some(json!(["worked", {}])));
    assert_eq!((clock.now() - start_time()).num_seconds(), 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_time_waits_really_wait_and_executions_run_side_by_side() {
    let definition = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0.05, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": true}}});
    let machine = StateMachine::from_value(&definition).unwrap();
    let clock = VirtualClock::starting_at(start_time());
    let executor =
        Executor::new(machine, recorder(&clock, |_| Ok(Value::Null))).with_clock(SystemClock);
    let runs: Vec<_> = (0..8)
        .map(|id| {
            let executor = executor.clone();
            tokio::spawn(async move { executor.execute(json!({"id": id})).await })
        })
        .collect();
    for (id, run) in runs.into_iter().enumerate() {
        let execution = run.await.expect("execution task");
        assert_eq!(execution.output, Some(json!({"id": id})));
        let entered = execution
            .history
            .iter()
            .find(|e| e.event_type == "WaitStateEntered")
            .unwrap()
            .timestamp;
        let exited = execution
            .history
            .iter()
            .find(|e| e.event_type == "WaitStateExited")
            .unwrap()
            .timestamp;
        assert!(
            (exited - entered).num_milliseconds() >= 50,
            "the Wait lasted {}",
            exited - entered
        );
    }
}

#[tokio::test]
async fn succeed_applies_input_and_output_paths() {
    let definition = json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}});
    let execution = run_simple(definition, json!({"a": {"b": 7}, "c": 1})).await;
    assert_eq!(execution.output, Some(json!(7)));
    assert_eq!(
        event_types(&execution),
        vec![
            "ExecutionStarted",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn parallel_retries_rerun_every_branch_and_result_selector_shapes_the_result() {
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 2}],
    "ResultSelector": {"first.$": "$[0]"},
    "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": true}}}
    ]}}});
    let clock = VirtualClock::starting_at(start_time());
    let invoker = recorder(&clock, failing_then(2, "Flaky"));
    let execution = execute(definition, json!({}), invoker.clone(), clock).await;
    assert_eq!(execution.output, Some(json!({"first": "done"})));
    assert_eq!(offsets(&invoker), vec![0.0, 5.0, 15.0]);
    let started = event_types(&execution)
        .iter()
        .filter(|t| **t == "ParallelStateStarted")
        .count();
    assert_eq!(started, 3);
}
