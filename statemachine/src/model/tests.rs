use serde_json::json;

use super::*;

#[test]
fn loads_every_state_type_with_defaults() {
    let machine = StateMachine::from_value(&json!({
        "StartAt": "P", "TimeoutSeconds": 60,
        "States": {
            "P": {"Type": "Pass", "Next": "T"},
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Next": "C",
                  "Retry": [{"ErrorEquals": ["States.ALL"]}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "W"}], "Default": "Par"},
            "W": {"Type": "Wait", "Seconds": 1, "Next": "Par"},
            "Par": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "M"},
            "M": {"Type": "Map", "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
                  "Parameters": {"v.$": "$$.Map.Item.Value"}, "Next": "S"},
            "S": {"Type": "Succeed"},
            "F": {"Type": "Fail", "Error": "E"}
        }
    }))
    .expect("loads");
    assert_eq!(machine.timeout_seconds, Some(60));
    let State::Task(task) = &machine.states["T"].state else {
        panic!("T is a task")
    };
    let retrier = &task.retry[0];
    assert_eq!(
        (
            retrier.interval_seconds,
            retrier.max_attempts,
            retrier.backoff_rate
        ),
        (1.0, 3, 2.0)
    );
    assert_eq!(retrier.jitter_strategy, Jitter::None);
    assert_eq!(task.result_path, ResultPath::Root);
    assert_eq!(task.input_path, IoPath::Root);
    let State::Map(map) = &machine.states["M"].state else {
        panic!("M is a map")
    };
    assert!(
        map.item_selector.is_some(),
        "legacy Parameters is the item selector"
    );
    assert!(machine.states["M"].mentions_context);
    assert!(!machine.states["P"].mentions_context);
}

#[test]
fn absent_and_null_paths_differ() {
    let machine = StateMachine::from_value(&json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "InputPath": null, "ResultPath": null, "OutputPath": "$.a", "End": true}}}))
    .unwrap();
    let State::Pass(pass) = &machine.states["P"].state else {
        panic!("pass")
    };
    assert_eq!(pass.input_path, IoPath::Null);
    assert_eq!(pass.result_path, ResultPath::Discard);
    assert!(matches!(&pass.output_path, IoPath::Path(p) if p.as_str() == "$.a"));
}

#[test]
fn bad_definitions_name_the_problem() {
    let missing_target = StateMachine::from_value(
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Nope"}}}),
    );
    assert!(missing_target.unwrap_err().to_string().contains("'Nope'"));
    let bad_path = StateMachine::from_value(
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "x", "End": true}}}),
    );
    assert!(bad_path.unwrap_err().to_string().contains("state 'P'"));
    let bad_template =
        StateMachine::from_value(&json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"a.$": "not a path"}, "End": true}}}));
    assert!(bad_template.unwrap_err().to_string().contains("a.$"));
    let wildcard_result_path =
        StateMachine::from_value(&json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "ResultPath": "$.a[*]", "End": true}}}));
    assert!(wildcard_result_path.is_err());
    let unknown_type =
        StateMachine::from_json(r#"{"StartAt": "P", "States": {"P": {"Type": "Nope"}}}"#);
    assert!(unknown_type.is_err());
    assert!(matches!(
        StateMachine::from_json("{"),
        Err(ModelError::Json(_))
    ));
}

#[test]
fn jsonata_definitions_load() {
    let machine = StateMachine::from_value(&json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.x > 1 %}", "Next": "T"}], "Default": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"FunctionName": "f"},
              "Output": "{% $states.result.Payload %}", "End": true}}}))
    .expect("JSONata loads");
    assert_eq!(machine.states["T"].query_language, QueryLanguage::JSONata);
    assert_eq!(
        machine.jsonata_states(),
        vec!["C".to_owned(), "T".to_owned()]
    );
    let State::Choice(choice) = &machine.states["C"].state else {
        panic!("choice")
    };
    assert!(matches!(choice.choices[0].condition, Condition::Jsonata(_)));
}

#[test]
fn choice_operators_and_their_path_forms() {
    assert_eq!(
        Comparison::from_key("NumericEqualsPath"),
        Some((Comparison::NumericEquals, true))
    );
    assert_eq!(
        Comparison::from_key("IsNull"),
        Some((Comparison::IsNull, false))
    );
    assert_eq!(Comparison::from_key("IsNullPath"), None);
    assert_eq!(Comparison::from_key("StringMatchesPath"), None);
    assert_eq!(Comparison::from_key("Next"), None);
}

#[test]
fn retry_delays() {
    let retrier = Retrier {
        error_equals: vec!["E".into()],
        interval_seconds: 2.0,
        max_attempts: 5,
        backoff_rate: 3.0,
        max_delay_seconds: Some(30.0),
        jitter_strategy: Jitter::None,
    };
    let delays: Vec<f64> = (0..4).map(|n| retrier.base_delay_seconds(n)).collect();
    assert_eq!(delays, vec![2.0, 6.0, 18.0, 30.0]);
}

#[test]
fn error_matching_rules() {
    let all = vec!["States.ALL".to_owned()];
    let task_failed = vec!["States.TaskFailed".to_owned()];
    assert!(retry::error_matches(&all, "Anything"));
    assert!(!retry::error_matches(&all, "States.Runtime"));
    assert!(retry::error_matches(&task_failed, "Lambda.Unknown"));
    assert!(!retry::error_matches(&task_failed, "States.Timeout"));
    assert!(!retry::error_matches(&["State.ALL".to_owned()], "Anything"));
}

#[test]
fn sam_substitutions_replace_placeholders_in_strings() {
    let mut definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "${StageFunctionArn}", "Parameters": {"note": "arn ${StageFunctionArn} and ${Unknown}"}, "End": true}}});
    let substitutions = [(
        "StageFunctionArn".to_owned(),
        "arn:aws:lambda:af-south-1:1:function:stage".to_owned(),
    )]
    .into();
    substitute(&mut definition, &substitutions);
    assert_eq!(
        definition["States"]["T"]["Resource"],
        json!("arn:aws:lambda:af-south-1:1:function:stage")
    );
    assert_eq!(
        definition["States"]["T"]["Parameters"]["note"],
        json!("arn arn:aws:lambda:af-south-1:1:function:stage and ${Unknown}")
    );
}
