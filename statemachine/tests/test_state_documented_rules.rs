//! TestState's rules for Map and Parallel states and for mocks, as AWS's documentation states them. Each test quotes
//! the sentence it follows, from the API reference (`API_TestState.html`, `API_MockInput.html`,
//! `API_TestStateConfiguration.html`), the CLI's `test-state` page (same text as the API reference) or the developer
//! guide's "Testing state machines with TestState API" (`test-state-isolation.html`). Which of these rules AWS-recorded
//! calls cover is listed in `statemachine/README.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use serde_json::{Value, json};

async fn answer(request: Value) -> Value {
    asl::test_state::test_state(&request)
        .await
        .unwrap_or_else(|rejection| rejection.to_json())
}

fn error_code(response: &Value) -> &str {
    response["Error"]["Code"].as_str().unwrap_or_default()
}

fn error_message(response: &Value) -> &str {
    response["Error"]["Message"].as_str().unwrap_or_default()
}

fn output(response: &Value) -> Value {
    let text = response["output"].as_str().unwrap_or_default();
    serde_json::from_str(text).unwrap_or_else(|e| panic!("output is not JSON ({e}): {response}"))
}

/// A Parallel state whose branches are one Pass state each, `B0`, `B1`, ...
fn parallel(branches: usize) -> Value {
    let branches: Vec<Value> = (0..branches)
        .map(|i| json!({"StartAt": format!("B{i}"), "States": {format!("B{i}"): {"Type": "Pass", "End": true}}}))
        .collect();
    json!({"Type": "Parallel", "Branches": branches, "Next": "After"})
}

fn map(fields: Value) -> Value {
    let mut state = json!({"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "HandleItem", "States": {"HandleItem": {"Type": "Pass", "End": true}}}});
    if let (Value::Object(state), Value::Object(fields)) = (&mut state, fields) {
        state.extend(fields);
    }
    state
}

/// API reference: "`TestState` only supports the following when a mock is specified: Activity tasks, `.sync` or
/// `.waitForTaskToken` service integration patterns, Parallel, or Map states."
///
/// The exception is AWS's recorded one (calls `test_state_type_requires_mock[MapTaskState|ParallelState]`):
/// `InvalidDefinition`, not a `ValidationException`, for a Map or Parallel sent alone and, the same check, for one
/// picked from a machine by `stateName`.
#[tokio::test]
async fn a_map_or_parallel_runs_only_with_a_mock() {
    let recorded = "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]";
    for state in [parallel(2), map(json!({"ItemsPath": "$.items"}))] {
        let alone =
            answer(json!({"definition": state.to_string(), "input": r#"{"items": [1]}"#})).await;
        assert_eq!(error_code(&alone), "InvalidDefinition", "{alone}");
        assert_eq!(error_message(&alone), recorded);
        let machine = json!({"StartAt": "S", "States": {"S": state, "After": {"Type": "Succeed"}}});
        let picked = answer(json!({"definition": machine.to_string(), "stateName": "S"})).await;
        assert_eq!(error_code(&picked), "InvalidDefinition", "{picked}");
        let mocked = answer(
            json!({"definition": state.to_string(), "input": r#"{"items": [1]}"#,
            "mock": {"result": "[1, 2]"}}),
        )
        .await;
        assert_eq!(mocked["status"], "SUCCEEDED", "{mocked}");
    }
}

/// Developer guide, Testing Activity, .sync, and .waitForTaskToken states: "The TestState API supports testing
/// Activity states, .sync service integration patterns, and .waitForTaskToken patterns when a mock is specified.
/// Without a mock, invoking these states via TestState API will return a validation exception."
#[tokio::test]
async fn activity_sync_and_callback_tasks_without_a_mock_are_a_validation_exception() {
    for (resource, named) in [
        (
            "arn:aws:states:us-east-1:123456789012:activity:Approve",
            "an Activity",
        ),
        ("arn:aws:states:::states:startExecution.sync", "a .sync"),
        ("arn:aws:states:::states:startExecution.sync:2", "a .sync"),
        (
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "a .waitForTaskToken",
        ),
    ] {
        let state = json!({"Type": "Task", "Resource": resource, "End": true});
        let response = answer(json!({"definition": state.to_string()})).await;
        assert_eq!(error_code(&response), "ValidationException", "{response}");
        assert!(error_message(&response).contains(named), "{response}");
        let mocked = answer(json!({"definition": state.to_string(),
            "mock": {"result": "{}", "fieldValidationMode": "NONE"}}))
        .await;
        assert_eq!(mocked["status"], "SUCCEEDED", "{mocked}");
    }
}

/// API reference, `mock`: "A mock can only be specified for Task, Map, or Parallel states. If it is specified for
/// another state type, an exception will be thrown." (Pass, Fail and Succeed are recorded; Choice and Wait are not.)
#[tokio::test]
async fn a_mock_is_only_for_a_task_map_or_parallel() {
    for state in [
        json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}], "Default": "B"}),
        json!({"Type": "Wait", "Seconds": 1, "End": true}),
    ] {
        let response =
            answer(json!({"definition": state.to_string(), "mock": {"result": "{}"}})).await;
        assert_eq!(error_code(&response), "ValidationException", "{response}");
        assert_eq!(
            error_message(&response),
            format!(
                "State type '{}' is not supported when a mock is specified",
                state["Type"].as_str().unwrap_or_default()
            )
        );
    }
}

/// Developer guide, Basic mocking syntax: "You cannot provide both `mock.result` and `mock.errorOutput` in the same
/// API call. This results in a validation exception." And, TRACE inspectionLevel: "If you specify both
/// `revealSecrets` and a mock in the TestState API request, Step Functions returns a validation exception." Both
/// hold for a Map's or a Parallel's mock as for a Task's.
#[tokio::test]
async fn result_and_error_output_together_or_reveal_secrets_with_a_mock_are_refused() {
    let state = parallel(1);
    let both = answer(json!({"definition": state.to_string(),
        "mock": {"result": "[1]", "errorOutput": {"error": "E", "cause": "C"}}}))
    .await;
    assert_eq!(
        error_message(&both),
        "A test mock should have only one of the following fields: [result, errorOutput]."
    );
    let secrets = answer(
        json!({"definition": state.to_string(), "revealSecrets": true,
        "mock": {"result": "[1]"}}),
    )
    .await;
    assert_eq!(
        error_message(&secrets),
        "TestState does not support RevealSecrets when a mock is specified."
    );
}

/// API reference, `context`: "A JSON string representing a valid Context object for the state under test. This
/// field may only be specified if a mock is specified in the same request."
#[tokio::test]
async fn a_context_needs_a_mock() {
    let pass = json!({"Type": "Pass", "Parameters": {"Name.$": "$$.Execution.Name"}, "End": true});
    let context = r#"{"Execution": {"Name": "given"}}"#;
    let refused = answer(json!({"definition": pass.to_string(), "context": context})).await;
    assert_eq!(error_code(&refused), "ValidationException", "{refused}");
    assert!(error_message(&refused).contains("only be specified if a mock is specified"));
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "ResultSelector": {"Name.$": "$$.Execution.Name"}, "End": true});
    let mocked = answer(json!({"definition": task.to_string(), "context": context,
        "mock": {"result": "{}", "fieldValidationMode": "NONE"}}))
    .await;
    assert_eq!(output(&mocked), json!({"Name": "given"}), "{mocked}");
}

/// MockInput, `fieldValidationMode`: "Valid Values: STRICT | PRESENT | NONE" and "If no value is specified, the
/// default value is STRICT." The value is a constraint of the request, so it is checked whatever the mock holds: an
/// error output, or a Map's or a Parallel's result (which no service model describes, so nothing in them is
/// validated: "Validation is performed only on fields defined in the AWS service API model.").
#[tokio::test]
async fn field_validation_mode_takes_only_its_three_values_for_every_mock() {
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    let cases = [
        (
            task.clone(),
            json!({"errorOutput": {"error": "E", "cause": "C"}, "fieldValidationMode": "LOOSE"}),
        ),
        (
            parallel(1),
            json!({"result": "[1]", "fieldValidationMode": "strict"}),
        ),
        (
            map(json!({})),
            json!({"result": "[1]", "fieldValidationMode": "ALL"}),
        ),
    ];
    for (state, mock) in cases {
        let response =
            answer(json!({"definition": state.to_string(), "input": "[1]", "mock": mock})).await;
        assert_eq!(error_code(&response), "ValidationException", "{response}");
        assert!(
            error_message(&response)
                .contains("Member must satisfy enum value set: [STRICT, PRESENT, NONE]"),
            "{response}"
        );
    }
    for mode in ["STRICT", "PRESENT", "NONE"] {
        let response = answer(json!({"definition": parallel(1).to_string(),
            "mock": {"result": r#"[{"any": "shape"}]"#, "fieldValidationMode": mode}}))
        .await;
        assert_eq!(response["status"], "SUCCEEDED", "{mode}: {response}");
    }
}

/// Developer guide, Testing Parallel states: "When testing a Parallel state, the mocked result must be a JSON array
/// with one element for each branch, in the same order as the branches appear in the definition."
#[tokio::test]
async fn a_mocked_parallel_result_has_one_element_per_branch() {
    let definition = parallel(2).to_string();
    let ok = answer(json!({"definition": definition, "inspectionLevel": "DEBUG",
        "mock": {"result": r#"[{"first": 1}, {"second": 2}]"#}}))
    .await;
    assert_eq!(ok["status"], "SUCCEEDED", "{ok}");
    assert_eq!(output(&ok), json!([{"first": 1}, {"second": 2}]));
    assert_eq!(ok["nextState"], "After");
    for wrong in [r#"{"first": 1}"#, "1", r#""[1, 2]""#] {
        let response = answer(json!({"definition": definition, "mock": {"result": wrong}})).await;
        assert_eq!(
            error_code(&response),
            "ValidationException",
            "{wrong}: {response}"
        );
        assert!(
            error_message(&response).starts_with("Mocked result must be an array"),
            "{response}"
        );
    }
    for wrong in ["[]", "[1]", "[1, 2, 3]"] {
        let response = answer(json!({"definition": definition, "mock": {"result": wrong}})).await;
        assert_eq!(
            error_code(&response),
            "ValidationException",
            "{wrong}: {response}"
        );
        assert!(
            error_message(&response).contains("one element per branch"),
            "{response}"
        );
    }
}

/// Developer guide, Testing a Map state: "When testing a Map state, the mocked result must represent the output of
/// the entire Map state. The mock result must be a valid JSON array or JSON object depending on your Map state
/// configuration." Without a `ResultWriter` that is the iterations' results (AWS's recorded answer otherwise:
/// `Mocked result must be an array.`); with one, the writer's result object.
#[tokio::test]
async fn a_mocked_map_result_is_the_array_or_with_a_result_writer_the_writers_object() {
    let plain = map(json!({"ItemsPath": "$.items"})).to_string();
    let input = r#"{"items": [1, 2]}"#;
    let array =
        answer(json!({"definition": plain, "input": input, "mock": {"result": "[10, 20]"}})).await;
    assert_eq!(output(&array), json!([10, 20]), "{array}");
    let object =
        answer(json!({"definition": plain, "input": input, "mock": {"result": r#"{"a": 1}"#}}))
            .await;
    assert_eq!(error_message(&object), "Mocked result must be an array.");

    let writer = map(json!({"ItemsPath": "$.items", "ResultSelector": {"Manifest.$": "$.ResultWriterDetails.Key"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "HandleItem", "States": {"HandleItem": {"Type": "Pass", "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "results", "Prefix": "run"}}}))
    .to_string();
    let written = json!({"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:M/run:1",
        "ResultWriterDetails": {"Bucket": "results", "Key": "run/manifest.json"}});
    let ok = answer(
        json!({"definition": writer, "input": input, "mock": {"result": written.to_string()}}),
    )
    .await;
    assert_eq!(ok["status"], "SUCCEEDED", "{ok}");
    assert_eq!(output(&ok), json!({"Manifest": "run/manifest.json"}));
    for wrong in ["[10, 20]", "1", r#""run/manifest.json""#] {
        let response =
            answer(json!({"definition": writer, "input": input, "mock": {"result": wrong}})).await;
        assert_eq!(
            error_code(&response),
            "ValidationException",
            "{wrong}: {response}"
        );
        assert!(
            error_message(&response).starts_with("Mocked result must be an object"),
            "{response}"
        );
    }
}

/// Developer guide, Understanding Map state testing: a test exercises "ItemsPath or ItemsPointer extraction from the
/// input" without running the iterations, so a JSONPath Map whose items path reads something other than an array
/// fails as on AWS, with AWS's cause `Reference path "<path>" must point to array.` (`States.Runtime`, which no
/// catcher takes), also when the path reads the context object.
#[tokio::test]
async fn a_map_whose_items_path_is_not_an_array_fails_with_aws_cause() {
    let cases = [
        (
            map(json!({"ItemsPath": "$.items"})),
            r#"{"items": {"a": 1}}"#,
            None,
            "$.items",
        ),
        (map(json!({})), r#"{"items": [1]}"#, None, "$"),
        (
            map(json!({"ItemsPath": "$$.Execution.Input"})),
            r#"{"items": [1]}"#,
            None,
            "$$.Execution.Input",
        ),
        (
            map(json!({"ItemsPath": "$$.Execution.Input.values", "InputPath": "$.inner"})),
            r#"{"inner": [1]}"#,
            Some(r#"{"Execution": {"Input": {"values": "not a list"}}}"#),
            "$$.Execution.Input.values",
        ),
    ];
    for (state, input, context, path) in cases {
        let mut request =
            json!({"definition": state.to_string(), "input": input, "mock": {"result": "[1]"}});
        if let Some(context) = context {
            request["context"] = json!(context);
        }
        let mut caught = state.clone();
        caught["Catch"] = json!([{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]);
        for definition in [state.to_string(), caught.to_string()] {
            request["definition"] = json!(definition);
            let response = answer(request.clone()).await;
            assert_eq!(response["status"], "FAILED", "{path}: {response}");
            assert_eq!(response["error"], "States.Runtime");
            assert_eq!(
                response["cause"],
                format!("Reference path \"{path}\" must point to array.")
            );
        }
    }
    // The context object's input as items: an array there runs.
    let items_from_context = map(json!({"ItemsPath": "$$.Execution.Input"})).to_string();
    let ok = answer(
        json!({"definition": items_from_context, "input": "[1, 2]", "mock": {"result": "[3, 4]"}}),
    )
    .await;
    assert_eq!(ok["status"], "SUCCEEDED", "{ok}");
}

/// Developer guide, Specifying error source with errorCausedByState: "When mocking errors for Map or Parallel
/// states, you must specify which sub-state caused the error using the `stateConfiguration.errorCausedByState`
/// parameter." TestStateConfiguration: "The name of the state from which an error originates when an error is
/// mocked for a Map or Parallel state."
#[tokio::test]
async fn a_mocked_map_or_parallel_error_names_the_sub_state_that_caused_it() {
    let error = json!({"errorOutput": {"error": "States.TaskFailed", "cause": "boom"}});
    for (state, inside) in [(map(json!({})), "HandleItem"), (parallel(2), "B1")] {
        let definition = state.to_string();
        let missing =
            answer(json!({"definition": definition, "input": "[1]", "mock": error})).await;
        assert_eq!(error_code(&missing), "ValidationException", "{missing}");
        assert!(
            error_message(&missing).contains("errorCausedByState"),
            "{missing}"
        );
        let unknown = answer(
            json!({"definition": definition, "input": "[1]", "mock": error,
            "stateConfiguration": {"errorCausedByState": "Elsewhere"}}),
        )
        .await;
        assert_eq!(error_code(&unknown), "ValidationException", "{unknown}");
        assert!(error_message(&unknown).contains("'Elsewhere' is not a state inside"));
        let named = answer(
            json!({"definition": definition, "input": "[1]", "mock": error,
            "stateConfiguration": {"errorCausedByState": inside}}),
        )
        .await;
        assert_eq!(named["status"], "FAILED", "{named}");
        assert_eq!(named["error"], "States.TaskFailed");
        assert_eq!(named["cause"], "boom");
    }
}

/// The context object TestState makes when the request sends none, field by field as AWS's recorded calls show it
/// (for instance `test_state_task_catch_error[INFO-test_catch_mock_exception_response]`, whose output is
/// `$states`): `Execution` {`Id`, `Input`, `Name`, `RoleArn`, `StartTime`}, `StateMachine` {`Id`, `Name`}, `State`
/// {`Name`: "StateName", `EnteredTime`, `RetryCount`: 0}; the execution id is
/// `arn:aws:states:<region>:<account>:express:<machine>:<execution name>`, the account the role's. JSONPath's `$$`
/// and JSONata's `$states.context` are the same object.
#[tokio::test]
async fn the_generated_context_object_has_the_fields_testate_records() {
    let role = "arn:aws:iam::111122223333:role/TestStateRole";
    let jsonata = json!({"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "f"}, "Output": "{% $states.context %}", "End": true});
    let jsonpath = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "ResultSelector": {"Context.$": "$$"}, "OutputPath": "$.Context", "End": true});
    for state in [jsonata, jsonpath] {
        let response = answer(
            json!({"definition": state.to_string(), "roleArn": role, "input": r#"{"k": 1}"#,
            "mock": {"result": "{}", "fieldValidationMode": "NONE"}}),
        )
        .await;
        let context = output(&response);
        let keys = |section: &str| -> Vec<String> {
            let mut keys: Vec<String> = context[section]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            keys
        };
        assert_eq!(
            keys("Execution"),
            ["Id", "Input", "Name", "RoleArn", "StartTime"],
            "{context}"
        );
        assert_eq!(keys("StateMachine"), ["Id", "Name"]);
        assert_eq!(keys("State"), ["EnteredTime", "Name", "RetryCount"]);
        let mut sections: Vec<&String> = context
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        sections.sort();
        assert_eq!(sections, ["Execution", "State", "StateMachine"]);
        let name = context["Execution"]["Name"].as_str().unwrap_or_default();
        let machine = context["StateMachine"]["Name"].as_str().unwrap_or_default();
        assert_eq!(
            context["Execution"]["Id"],
            format!("arn:aws:states:us-east-1:111122223333:express:{machine}:{name}")
        );
        assert_eq!(
            context["StateMachine"]["Id"],
            format!("arn:aws:states:us-east-1:111122223333:stateMachine:{machine}")
        );
        assert_eq!(context["Execution"]["Input"], json!({"k": 1}));
        assert_eq!(context["Execution"]["RoleArn"], role);
        assert_eq!(
            context["State"],
            json!({"Name": "StateName", "EnteredTime": context["State"]["EnteredTime"], "RetryCount": 0})
        );
        assert_eq!(
            context["Execution"]["StartTime"],
            context["State"]["EnteredTime"]
        );
    }
}

/// Developer guide, Automatic Context population: "When testing a state within a Map state (using the `stateName`
/// parameter) without providing a `context` parameter, TestState automatically populates the Context object with
/// default values. This includes Map-specific context fields such as: `$$.Map.Item.Index` = `0` (first iteration)
/// [and] `$$.Map.Item.Value` = your input value".
#[tokio::test]
async fn a_state_inside_a_map_gets_the_first_iterations_map_item() {
    let item = json!({"Type": "Pass", "Parameters": {"Index.$": "$$.Map.Item.Index", "Value.$": "$$.Map.Item.Value",
        "State.$": "$$.State.Name"}, "End": true});
    let branch = json!({"StartAt": "Item", "States": {"Item": item}});
    let machine = json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.orders", "End": true, "ItemProcessor": {"StartAt": "Split", "States": {
            "Split": {"Type": "Parallel", "End": true, "Branches": [branch]}}}}}});
    let response = answer(
        json!({"definition": machine.to_string(), "stateName": "Item",
        "input": r#"{"orderId": "123"}"#}),
    )
    .await;
    assert_eq!(response["status"], "SUCCEEDED", "{response}");
    assert_eq!(
        output(&response),
        json!({"Index": 0, "Value": {"orderId": "123"}, "State": "Item"})
    );
    // Outside a Map there is no `$$.Map`.
    let outside = json!({"StartAt": "Top", "States": {"Top": {"Type": "Pass", "Parameters": {"C.$": "$$"}, "End": true}}});
    let response = answer(json!({"definition": outside.to_string(), "stateName": "Top"})).await;
    assert!(output(&response)["C"].get("Map").is_none(), "{response}");
}

/// Developer guide, Testing Activity, .sync, and .waitForTaskToken states: "For testing .sync integrations using
/// TestState API, the mocked response is validated against the polling API's schema. For example, when testing
/// `startExecution.sync:2`, your mock must match the `DescribeExecution` response schema (which Step Functions polls
/// for status), not the `StartExecution` response." (`.sync:2` hands the child's `Input` and `Output` over as JSON.)
#[tokio::test]
async fn a_sync_2_mock_is_checked_against_describe_execution() {
    let state = json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child"}, "End": true});
    let started = r#"{"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:Child:e", "StartDate": "2025-01-01T00:00:00Z"}"#;
    let refused =
        answer(json!({"definition": state.to_string(), "mock": {"result": started}})).await;
    assert_eq!(
        error_message(&refused),
        "Mock result schema validation error: Required field 'StateMachineArn' is missing",
        "{refused}"
    );
    let described = json!({"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:Child:e",
        "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child", "Status": "SUCCEEDED",
        "StartDate": "2025-01-01T00:00:00Z", "Output": {"done": true}});
    let ok =
        answer(json!({"definition": state.to_string(), "mock": {"result": described.to_string()}}))
            .await;
    assert_eq!(ok["status"], "SUCCEEDED", "{ok}");
    assert_eq!(output(&ok)["Output"], json!({"done": true}));
    let bad_status = answer(json!({"definition": state.to_string(),
        "mock": {"result": described.to_string().replace("SUCCEEDED", "DONE")}}))
    .await;
    assert_eq!(
        error_code(&bad_status),
        "ValidationException",
        "{bad_status}"
    );
}
