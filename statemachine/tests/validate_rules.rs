//! One small definition per validation rule: each must report exactly the expected diagnostic, and its corrected
//! twin (where there is one) must validate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::BTreeSet;

use asl::validate::{Code, MachineType, Options, Report, Severity, validate, validate_str};
use serde_json::{Value, json};

fn check(definition: &Value) -> Report {
    validate(definition, &Options::default())
}

/// A machine of one state named `S`.
fn single(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

#[track_caller]
fn assert_valid(definition: &Value) {
    let report = check(definition);
    assert!(
        report.is_ok(),
        "expected valid, got {:#?}\nfor {definition:#}",
        report.diagnostics
    );
}

/// The definition fails with exactly one error, of `code` at `location`, whose message contains `message`.
#[track_caller]
fn assert_error(definition: &Value, code: Code, location: &str, message: &str) {
    assert_report(&check(definition), code, location, message);
}

/// The definition fails with (at least) an error of `code` at `location` whose message contains `message`.
#[track_caller]
fn assert_has_error(definition: &Value, code: Code, location: &str, message: &str) {
    let report = check(definition);
    assert!(
        report.errors().any(|d| d.code == code
            && d.location.as_deref() == Some(location)
            && d.message.contains(message)),
        "expected a {code} at {location} containing {message:?}, got {:#?}",
        report.diagnostics
    );
}

#[track_caller]
fn assert_report(report: &Report, code: Code, location: &str, message: &str) {
    let errors: Vec<_> = report.errors().collect();
    assert!(
        errors.len() == 1
            && errors[0].code == code
            && errors[0].location.as_deref() == Some(location)
            && errors[0].message.contains(message),
        "expected one {code} at {location} containing {message:?}, got {errors:#?}"
    );
}

mod machine {
    use super::*;

    #[test]
    fn minimal_machine_is_valid() {
        assert_valid(&single(json!({"Type": "Succeed"})));
    }

    #[test]
    fn start_at_and_states_are_required() {
        let report = validate_str("{}", &Options::default());
        assert_report(
            &report,
            Code::SchemaValidationFailed,
            "/",
            "These fields are required: [States, StartAt]",
        );
        assert_error(
            &json!({"States": {"S": {"Type": "Succeed"}}}),
            Code::SchemaValidationFailed,
            "/",
            "These fields are required: [StartAt]",
        );
    }

    #[test]
    fn not_json_and_not_an_object() {
        let report = validate_str("not a definition", &Options::default());
        assert_eq!(report.diagnostics[0].code, Code::InvalidJsonDescription);
        for text in [" ", "[]", "\"x\""] {
            let report = validate_str(text, &Options::default());
            assert_eq!(report.diagnostics.len(), 1);
            assert_eq!(
                report.diagnostics[0].message,
                "Definition must be a valid JSON object"
            );
            assert_eq!(report.diagnostics[0].location, None);
        }
    }

    #[test]
    fn top_level_fields() {
        let mut definition = single(json!({"Type": "Succeed"}));
        definition["Bogus"] = json!(1);
        assert_error(
            &definition,
            Code::SchemaValidationFailed,
            "/",
            "Field 'Bogus' is not supported",
        );
        let mut definition = single(json!({"Type": "Succeed"}));
        definition["TimeoutSeconds"] = json!(0);
        assert_error(
            &definition,
            Code::SchemaValidationFailed,
            "/TimeoutSeconds",
            "INTEGER",
        );
        let mut definition = single(json!({"Type": "Succeed"}));
        definition["Version"] = json!("2.0");
        assert_error(
            &definition,
            Code::SchemaValidationFailed,
            "/Version",
            "[1.0]",
        );
    }

    #[test]
    fn missing_next_target() {
        let definition = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}});
        assert_has_error(
            &definition,
            Code::MissingTransitionTarget,
            "/States/A/Next",
            "Missing 'Next' target: B",
        );
    }

    #[test]
    fn missing_start_target() {
        let definition = json!({"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}});
        assert_error(
            &definition,
            Code::MissingTransitionTarget,
            "/StartAt",
            "Missing 'Next' target: Nope",
        );
    }

    #[test]
    fn unreachable_state() {
        let definition =
            json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}});
        assert_error(
            &definition,
            Code::MissingTransitionTarget,
            "/States/B",
            "State \"B\" is not reachable.",
        );
    }

    #[test]
    fn states_reached_through_choice_and_catch_are_reachable() {
        assert_valid(&json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "T"}], "Default": "D"},
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
            "D": {"Type": "Succeed"},
            "F": {"Type": "Fail"}
        }}));
    }

    #[test]
    fn no_terminal_state() {
        let definition = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Next": "A"}
        }});
        let report = check(&definition);
        let errors: Vec<_> = report.errors().collect();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].code, Code::MissingEndState);
        assert_eq!(errors[0].message, "Workflow has no terminal state");
        assert_eq!(
            errors[0].location, None,
            "AWS locates the top-level machine's at null"
        );

        let nested = single(
            json!({"Type": "Parallel", "End": true, "Branches": [{"StartAt": "L", "States": {
                "L": {"Type": "Pass", "Next": "L"}
            }}]}),
        );
        assert_error(
            &nested,
            Code::MissingEndState,
            "/States/S/Branches/0/States",
            "Workflow has no terminal state",
        );
    }

    #[test]
    fn state_names_longer_than_80_characters() {
        let long = "x".repeat(81);
        let definition = json!({"StartAt": long, "States": {long.clone(): {"Type": "Succeed"}}});
        assert_error(
            &definition,
            Code::InvalidStateName,
            &format!("/States/{long}"),
            "longer than 80",
        );
        let ok = "x".repeat(80);
        assert_valid(&json!({"StartAt": ok, "States": {ok.clone(): {"Type": "Succeed"}}}));
    }

    #[test]
    fn duplicate_names_across_parallel_branches_and_map_processors() {
        let parallel = json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "X", "Branches": [
                {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}
            ]},
            "X": {"Type": "Succeed"}
        }});
        assert_error(
            &parallel,
            Code::DuplicateStateName,
            "/States/X",
            "Duplicate State name: X",
        );
        let map = json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "M", "States": {"M": {"Type": "Succeed"}}}}
        }});
        assert_error(
            &map,
            Code::DuplicateStateName,
            "/States/M/ItemProcessor/States/M",
            "Duplicate State name: M",
        );
    }

    #[test]
    fn duplicate_names_in_one_states_object() {
        let text =
            r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Fail"}}}"#;
        let report = validate_str(text, &Options::default());
        assert_report(
            &report,
            Code::DuplicateStateName,
            "/States/A",
            "Duplicate State name: A",
        );
        let text =
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "End": true}}}"#;
        let report = validate_str(text, &Options::default());
        assert_report(
            &report,
            Code::SchemaValidationFailed,
            "/States/A/End",
            "defined more than once",
        );
    }

    #[test]
    fn branches_cannot_transition_outside_themselves() {
        let definition = json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "Out", "Branches": [
                {"StartAt": "In", "States": {"In": {"Type": "Pass", "Next": "Out"}, "End": {"Type": "Succeed"}}}
            ]},
            "Out": {"Type": "Succeed"}
        }});
        let report = check(&definition);
        let codes: BTreeSet<Code> = report.errors().map(|d| d.code).collect();
        assert!(
            codes.contains(&Code::MissingTransitionTarget),
            "{report:#?}"
        );
        assert!(
            report
                .errors()
                .any(|d| d.location.as_deref() == Some("/States/P/Branches/0/States/In/Next"))
        );
    }
}

mod states {
    use super::*;

    #[test]
    fn state_must_have_a_known_type() {
        assert_error(
            &single(json!({"End": true})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Type]",
        );
        assert_error(
            &single(json!({"Type": "Sleep"})),
            Code::SchemaValidationFailed,
            "/States/S/Type",
            "one of",
        );
        assert_error(
            &single(json!([])),
            Code::SchemaValidationFailed,
            "/States/S",
            "OBJECT",
        );
    }

    #[test]
    fn fields_a_state_type_does_not_have() {
        for (kind, field) in [
            ("Succeed", "ResultPath"),
            ("Choice", "Parameters"),
            ("Wait", "ResultSelector"),
        ] {
            let mut state = json!({"Type": kind, "Seconds": 1, "End": true,
                "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "S"}], "Default": "S"});
            if let Some(fields) = state.as_object_mut() {
                fields.retain(|k, _| k == "Type" || fits(kind, k));
            }
            state[field] = json!("$.x");
            let report = check(&single(state));
            assert!(
                report
                    .errors()
                    .any(|d| d.message == format!("Field '{field}' is not supported")),
                "{kind}.{field}: {report:#?}"
            );
        }
    }

    fn fits(kind: &str, field: &str) -> bool {
        match kind {
            "Wait" => matches!(field, "Seconds" | "End"),
            "Choice" => matches!(field, "Choices" | "Default"),
            _ => false,
        }
    }

    #[test]
    fn next_or_end() {
        assert_error(
            &single(json!({"Type": "Pass", "Next": "S", "End": true})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Next, End]",
        );
        assert_error(
            &single(json!({"Type": "Pass"})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Next, End]",
        );
        assert_error(
            &single(json!({"Type": "Pass", "End": false})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Next, End]",
        );
        assert_error(
            &single(json!({"Type": "Pass", "End": "yes"})),
            Code::SchemaValidationFailed,
            "/States/S/End",
            "BOOLEAN",
        );
    }

    #[test]
    fn paths() {
        assert_valid(&single(
            json!({"Type": "Pass", "InputPath": null, "OutputPath": "$$.Execution.Input", "End": true}),
        ));
        assert_error(
            &single(json!({"Type": "Pass", "InputPath": "bug$.a", "End": true})),
            Code::SchemaValidationFailed,
            "/States/S/InputPath",
            "valid JSONPath",
        );
        assert_error(
            &single(json!({"Type": "Pass", "InputPath": "States.Format('{}', $.a)", "End": true})),
            Code::SchemaValidationFailed,
            "/States/S/InputPath",
            "valid JSONPath",
        );
        for bad in ["$foo", "$$.Execution", "$.a[*]", ".guid"] {
            assert_error(
                &single(json!({"Type": "Pass", "ResultPath": bad, "End": true})),
                Code::SchemaValidationFailed,
                "/States/S/ResultPath",
                "Reference Path",
            );
        }
    }

    #[test]
    fn payload_templates() {
        assert_valid(&single(json!({"Type": "Pass", "End": true, "Parameters": {
            "a.$": "$.a", "ctx.$": "$$.Execution.Id", "f.$": "States.Format('{}', $.x)", "nested": [{"b.$": "$.b"}]
        }})));
        assert_error(
            &single(
                json!({"Type": "Pass", "End": true, "Parameters": {"nested": {"bad.$": "not a path"}}}),
            ),
            Code::SchemaValidationFailed,
            "/States/S/Parameters/nested",
            "'bad.$' must be a valid JSONPath or a valid intrinsic function call",
        );
        assert_error(
            &single(json!({"Type": "Pass", "End": true, "Parameters": {"n.$": 23}})),
            Code::SchemaValidationFailed,
            "/States/S/Parameters",
            "'n.$'",
        );
        assert_error(
            &single(json!({"Type": "Pass", "End": true, "Parameters": {"x": 1, "x.$": "$.x"}})),
            Code::SchemaValidationFailed,
            "/States/S/Parameters",
            "'x' is defined twice",
        );
        assert_error(
            &single(
                json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                "ResultSelector": {"a.$": "States.Nope($.x)"}}),
            ),
            Code::SchemaValidationFailed,
            "/States/S/ResultSelector",
            "'a.$'",
        );
    }

    #[test]
    fn warnings_keep_the_definition_valid() {
        let report = check(&single(
            json!({"Type": "Pass", "End": true, "Parameters": {"id": "$$.Execution.Id"}}),
        ));
        assert!(report.is_ok());
        assert_eq!(report.diagnostics.len(), 1);
        assert_eq!(report.diagnostics[0].severity, Severity::Warning);
        assert_eq!(report.diagnostics[0].code, Code::NoDollar);
        assert_eq!(
            report.diagnostics[0].location.as_deref(),
            Some("/States/S/Parameters/id")
        );

        let report = check(&single(
            json!({"Type": "Pass", "End": true, "Result": {"nested": {"x.$": "$.x"}}}),
        ));
        assert!(report.is_ok());
        assert_eq!(report.diagnostics.len(), 1);
        assert_eq!(report.diagnostics[0].code, Code::PassResultIsStatic);
        assert_eq!(
            report.diagnostics[0].location.as_deref(),
            Some("/States/S/Result/nested/x.$")
        );
    }

    #[test]
    fn assign() {
        assert_valid(&single(
            json!({"Type": "Pass", "End": true, "Assign": {"count": 1, "name.$": "$.name"}}),
        ));
        assert_error(
            &single(json!({"Type": "Pass", "End": true, "Assign": {"1x": 1}})),
            Code::SchemaValidationFailed,
            "/States/S/Assign/1x",
            "not a valid variable name",
        );
        assert_error(
            &single(json!({"Type": "Pass", "End": true, "Assign": {"v.$": "nope"}})),
            Code::SchemaValidationFailed,
            "/States/S/Assign",
            "'v.$'",
        );
    }
}

mod retry_catch {
    use super::*;

    fn task(field: &str, value: Value) -> Value {
        let mut state = json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true});
        state[field] = value;
        state
    }

    /// A task alone, for retriers.
    fn task_alone(field: &str, value: Value) -> Value {
        single(task(field, value))
    }

    /// A task and the `Recover` state its catchers go to.
    fn task_with(field: &str, value: Value) -> Value {
        json!({"StartAt": "S", "States": {"S": task(field, value), "Recover": {"Type": "Succeed"}}})
    }

    #[test]
    fn a_full_retrier_is_valid() {
        assert_valid(&task_alone(
            "Retry",
            json!([
                {"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 1, "MaxAttempts": 0,
                 "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL", "Comment": "throttles"},
                {"ErrorEquals": ["States.ALL"]}
            ]),
        ));
    }

    #[test]
    fn retrier_ranges() {
        for (field, value, expected) in [
            ("IntervalSeconds", json!(0), "INTEGER"),
            ("MaxAttempts", json!(-1), "INTEGER"),
            (
                "BackoffRate",
                json!(0.5),
                "NUMBER greater than or equal to 1",
            ),
            ("MaxDelaySeconds", json!(0), "INTEGER"),
            ("MaxDelaySeconds", json!(31_622_401), "INTEGER"),
            ("JitterStrategy", json!("HALF"), "[FULL, NONE]"),
        ] {
            let mut retrier = json!({"ErrorEquals": ["States.Timeout"]});
            retrier[field] = value;
            assert_error(
                &task_alone("Retry", json!([retrier])),
                Code::SchemaValidationFailed,
                &format!("/States/S/Retry/0/{field}"),
                expected,
            );
        }
    }

    #[test]
    fn error_equals_rules() {
        let mut cases = vec![
            (
                json!([{"ErrorEquals": []}]),
                "/States/S/Retry/0/ErrorEquals",
                "non-empty",
            ),
            (
                json!([{"ErrorEquals": [true]}]),
                "/States/S/Retry/0/ErrorEquals",
                "STRING",
            ),
            (
                json!([{"Error Equals": ["X"]}]),
                "/States/S/Retry/0",
                "not supported",
            ),
            (
                json!([{"ErrorEquals": ["States.ALL", "X"]}]),
                "/States/S/Retry/0/ErrorEquals",
                "alone",
            ),
            (
                json!([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]),
                "/States/S/Retry/0/ErrorEquals",
                "last",
            ),
        ];
        for (retry, location, message) in cases.drain(..) {
            assert_has_error(
                &task_alone("Retry", retry),
                Code::SchemaValidationFailed,
                location,
                message,
            );
        }
    }

    #[test]
    fn catchers() {
        assert_valid(&task_with(
            "Catch",
            json!([{"ErrorEquals": ["States.ALL"], "Next": "Recover", "ResultPath": "$.error"}]),
        ));
        assert_has_error(
            &task_with(
                "Catch",
                json!([{"ErrorEquals": ["States.ALL"], "Next": "Nowhere"}]),
            ),
            Code::MissingTransitionTarget,
            "/States/S/Catch/0/Next",
            "Nowhere",
        );
        let report = check(&task_with(
            "Catch",
            json!([{"ErrorEquals": ["States.ALL"]}]),
        ));
        assert!(
            report
                .errors()
                .any(|d| d.message == "These fields are required: [Next]"),
            "{report:#?}"
        );
        assert_error(
            &task_with(
                "Catch",
                json!([
                    {"ErrorEquals": ["States.ALL"], "Next": "Recover"},
                    {"ErrorEquals": ["X"], "Next": "Recover"}
                ]),
            ),
            Code::SchemaValidationFailed,
            "/States/S/Catch/0/ErrorEquals",
            "catcher with 'States.ALL' must be the last",
        );
    }
}

mod wait {
    use super::*;

    fn wait(fields: Value) -> Value {
        let mut state = json!({"Type": "Wait", "End": true});
        for (k, v) in fields.as_object().into_iter().flatten() {
            state[k] = v.clone();
        }
        single(state)
    }

    #[test]
    fn exactly_one_of_four() {
        assert_valid(&wait(json!({"Seconds": 0})));
        assert_valid(&wait(json!({"SecondsPath": "$.s"})));
        assert_valid(&wait(json!({"Timestamp": "2016-03-14T01:59:00Z"})));
        assert_valid(&wait(json!({"TimestampPath": "$$.Execution.StartTime"})));
        assert_error(
            &wait(json!({})),
            Code::SchemaValidationFailed,
            "/States/S",
            "Exactly one of",
        );
        assert_error(
            &wait(json!({"Seconds": 1, "Timestamp": "2016-03-14T01:59:00Z"})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Seconds, Timestamp]",
        );
    }

    #[test]
    fn values() {
        assert_error(
            &wait(json!({"Seconds": -1})),
            Code::SchemaValidationFailed,
            "/States/S/Seconds",
            "INTEGER",
        );
        assert_error(
            &wait(json!({"Seconds": "10"})),
            Code::SchemaValidationFailed,
            "/States/S/Seconds",
            "INTEGER",
        );
        assert_error(
            &wait(json!({"Timestamp": "2016-12-05 21:29:29Z"})),
            Code::SchemaValidationFailed,
            "/States/S/Timestamp",
            "String does not match RFC3339 timestamp",
        );
        assert_error(
            &wait(json!({"SecondsPath": "$.a[*]"})),
            Code::SchemaValidationFailed,
            "/States/S/SecondsPath",
            "Reference Path",
        );
    }

    #[test]
    fn jsonata_seconds_may_be_an_expression() {
        assert_valid(&wait(
            json!({"QueryLanguage": "JSONata", "Seconds": "{% $states.input.delay %}"}),
        ));
        assert_error(
            &wait(json!({"QueryLanguage": "JSONata", "Seconds": "{% $states.input.delay"})),
            Code::SchemaValidationFailed,
            "/States/S/Seconds",
            "JSONata expression",
        );
    }
}

mod choice {
    use super::*;

    fn choice(rules: Value) -> Value {
        json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": rules, "Default": "Done"},
            "Done": {"Type": "Succeed"}
        }})
    }

    #[test]
    fn rules_with_nesting_are_valid() {
        assert_valid(&choice(json!([
            {"And": [
                {"Variable": "$.a", "NumericGreaterThanEquals": 1, "Comment": "lower bound"},
                {"Not": {"Variable": "$.b", "StringMatches": "x*"}},
                {"Or": [{"Variable": "$$.Execution.Input.c", "IsNull": true},
                        {"Variable": "$.d", "TimestampLessThanPath": "$.limit"}]}
            ], "Next": "Done", "Assign": {"hit": true}}
        ])));
    }

    #[test]
    fn exactly_one_operator() {
        let location = "/States/C/Choices/0";
        assert_error(
            &choice(json!([{"Variable": "$.a", "IsNull": true, "IsString": true, "Next": "Done"}])),
            Code::SchemaValidationFailed,
            location,
            "exactly one comparison operator",
        );
        assert_error(
            &choice(json!([{"Variable": "$.a", "Next": "Done"}])),
            Code::SchemaValidationFailed,
            location,
            "exactly one",
        );
    }

    #[test]
    fn variable_rules() {
        assert_error(
            &choice(json!([{"NumericEquals": 1, "Next": "Done"}])),
            Code::SchemaValidationFailed,
            "/States/C/Choices/0",
            "[Variable]",
        );
        assert_error(
            &choice(
                json!([{"Variable": "States.ArrayLength($.a)", "NumericEquals": 1, "Next": "Done"}]),
            ),
            Code::SchemaValidationFailed,
            "/States/C/Choices/0/Variable",
            "Reference Path",
        );
    }

    #[test]
    fn next_only_at_the_top_level() {
        assert_error(
            &choice(
                json!([{"Not": {"Variable": "$.a", "IsNull": true, "Next": "Done"}, "Next": "Done"}]),
            ),
            Code::SchemaValidationFailed,
            "/States/C/Choices/0/Not",
            "Field 'Next' is not supported",
        );
        assert_error(
            &choice(json!([{"Variable": "$.a", "IsNull": true}])),
            Code::SchemaValidationFailed,
            "/States/C/Choices/0",
            "[Next]",
        );
        assert_has_error(
            &choice(json!([{"Variable": "$.a", "IsNull": true, "End": true}])),
            Code::SchemaValidationFailed,
            "/States/C/Choices/0",
            "Field 'End' is not supported",
        );
    }

    #[test]
    fn operand_types() {
        for (operator, value, expected) in [
            ("StringEquals", json!(1), "STRING"),
            ("NumericEquals", json!("1"), "NUMBER"),
            ("BooleanEquals", json!("true"), "BOOLEAN"),
            ("TimestampEquals", json!("yesterday"), "RFC3339"),
            ("StringEqualsPath", json!("$.a[*]"), "Reference Path"),
        ] {
            let mut rule = json!({"Variable": "$.a", "Next": "Done"});
            rule[operator] = value;
            assert_error(
                &choice(json!([rule])),
                Code::SchemaValidationFailed,
                &format!("/States/C/Choices/0/{operator}"),
                expected,
            );
        }
        assert_error(
            &choice(json!([{"And": [], "Next": "Done"}])),
            Code::SchemaValidationFailed,
            "/States/C/Choices/0/And",
            "non-empty ARRAY",
        );
        assert_error(
            &choice(json!([{"Not": [], "Next": "Done"}])),
            Code::SchemaValidationFailed,
            "/States/C/Choices/0/Not",
            "OBJECT",
        );
    }

    #[test]
    fn choices_and_default() {
        let definition = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "Done"}], "Default": "Gone"},
            "Done": {"Type": "Succeed"}
        }});
        assert_error(
            &definition,
            Code::MissingTransitionTarget,
            "/States/C/Default",
            "Gone",
        );
        assert_error(
            &choice(json!([])),
            Code::SchemaValidationFailed,
            "/States/C/Choices",
            "non-empty",
        );
        assert_has_error(
            &single(
                json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "S"}], "End": true}),
            ),
            Code::SchemaValidationFailed,
            "/States/S",
            "Field 'End' is not supported",
        );
    }

    #[test]
    fn jsonata_conditions() {
        let mut definition =
            choice(json!([{"Condition": "{% $states.input.a > 1 %}", "Next": "Done"}]));
        definition["QueryLanguage"] = json!("JSONata");
        assert_valid(&definition);
        let mut definition = choice(json!([{"Variable": "$.a", "IsNull": true, "Next": "Done"}]));
        definition["QueryLanguage"] = json!("JSONata");
        let report = check(&definition);
        assert!(
            report
                .errors()
                .any(|d| d.message.contains("Field 'Variable' is not supported")),
            "{report:#?}"
        );
        assert!(
            report
                .errors()
                .any(|d| d.message == "These fields are required: [Condition]"),
            "{report:#?}"
        );
    }
}

mod task {
    use super::*;

    fn task(fields: Value) -> Value {
        let mut state =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        for (k, v) in fields.as_object().into_iter().flatten() {
            state[k] = v.clone();
        }
        single(state)
    }

    #[test]
    fn resource() {
        let report = check(&single(json!({"Type": "Task", "End": true})));
        assert!(
            report
                .errors()
                .any(|d| d.message == "These fields are required: [Resource]"),
            "{report:#?}"
        );
        for bad in [
            "foo:bar",
            "arn:aws:lambda:us-east-1:1:function:f:",
            "arn:aws:lambda:us-east-1:1:function:f:$*#",
        ] {
            assert_error(
                &task(json!({"Resource": bad})),
                Code::InvalidResource,
                "/States/S/Resource",
                "not a valid resource ARN",
            );
        }
        assert_valid(&task(
            json!({"Resource": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"}),
        ));
        assert_valid(&task(
            json!({"Resource": "arn:aws:states:us-east-1:123456789012:activity:a"}),
        ));
    }

    #[test]
    fn placeholders_and_cloudformation_values_are_deploy_time_resources() {
        assert_valid(&task(json!({"Resource": "${StageFunctionArn}"})));
        assert_valid(&task(json!({"Resource": {"Fn::GetAtt": ["Stage", "Arn"]}})));
        assert_error(
            &task(json!({"Resource": "${StageFunctionArn"})),
            Code::InvalidResource,
            "/States/S/Resource",
            "",
        );
    }

    #[test]
    fn timeouts_and_heartbeats() {
        assert_valid(&task(json!({"TimeoutSeconds": 10, "HeartbeatSeconds": 5})));
        assert_valid(&task(
            json!({"TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.h"}),
        ));
        assert_error(
            &task(json!({"TimeoutSeconds": 10, "TimeoutSecondsPath": "$.t"})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[TimeoutSeconds, TimeoutSecondsPath]",
        );
        assert_error(
            &task(json!({"HeartbeatSeconds": 1, "HeartbeatSecondsPath": "$.h"})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[HeartbeatSeconds, HeartbeatSecondsPath]",
        );
        assert_error(
            &task(json!({"TimeoutSeconds": 0})),
            Code::SchemaValidationFailed,
            "/States/S/TimeoutSeconds",
            "INTEGER",
        );
        assert_error(
            &task(json!({"TimeoutSeconds": 10, "HeartbeatSeconds": 10})),
            Code::SchemaValidationFailed,
            "/States/S/HeartbeatSeconds",
            "smaller than TimeoutSeconds",
        );
    }

    #[test]
    fn credentials() {
        assert_valid(&task(json!({"Credentials": {"RoleArn.$": "$.role"}})));
        assert_error(
            &task(json!({"Credentials": "role"})),
            Code::SchemaValidationFailed,
            "/States/S/Credentials",
            "OBJECT",
        );
        assert_error(
            &task(json!({"Credentials": null})),
            Code::SchemaValidationFailed,
            "/States/S/Credentials",
            "OBJECT",
        );
        assert_error(
            &task(json!({"Credentials": {"RoleArn.$": "role"}})),
            Code::SchemaValidationFailed,
            "/States/S/Credentials",
            "'RoleArn.$'",
        );
    }

    #[test]
    fn express_workflows_cannot_wait_for_task_tokens() {
        let definition =
            task(json!({"Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"}));
        assert_valid(&definition);
        let express = Options {
            machine_type: MachineType::Express,
            ..Options::default()
        };
        let report = validate(&definition, &express);
        assert_report(
            &report,
            Code::SchemaValidationFailed,
            "/States/S/Resource",
            "Express state machine does not support '.waitForTaskToken' service integration ",
        );
    }
}

mod fail {
    use super::*;

    #[test]
    fn error_and_cause() {
        assert_valid(&single(json!({"Type": "Fail"})));
        assert_valid(&single(
            json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('at {}', $.t)"}),
        ));
        assert_error(
            &single(json!({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Error, ErrorPath]",
        );
        assert_error(
            &single(json!({"Type": "Fail", "Cause": "C", "CausePath": "$.c"})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Cause, CausePath]",
        );
        assert_error(
            &single(json!({"Type": "Fail", "CausePath": "cause"})),
            Code::SchemaValidationFailed,
            "/States/S/CausePath",
            "intrinsic",
        );
    }
}

mod parallel_and_map {
    use super::*;

    fn branch(name: &str) -> Value {
        json!({"StartAt": name, "States": {name: {"Type": "Succeed"}}})
    }

    #[test]
    fn parallel_branches() {
        assert_valid(&single(
            json!({"Type": "Parallel", "End": true, "Branches": [branch("A"), branch("B")]}),
        ));
        let report = check(&single(json!({"Type": "Parallel", "End": true})));
        assert!(
            report
                .errors()
                .any(|d| d.message == "These fields are required: [Branches]"),
            "{report:#?}"
        );
        assert_error(
            &single(json!({"Type": "Parallel", "End": true, "Branches": []})),
            Code::SchemaValidationFailed,
            "/States/S/Branches",
            "Value cannot be empty",
        );
        assert_error(
            &single(json!({"Type": "Parallel", "End": true, "Branches": [[branch("A")]]})),
            Code::SchemaValidationFailed,
            "/States/S/Branches/0",
            "OBJECT",
        );
    }

    fn map(fields: Value) -> Value {
        let mut state = json!({"Type": "Map", "End": true});
        for (k, v) in fields.as_object().into_iter().flatten() {
            state[k] = v.clone();
        }
        single(state)
    }

    #[test]
    fn processor_or_iterator() {
        assert_valid(&map(
            json!({"ItemProcessor": branch("P"), "ItemsPath": "$.items", "MaxConcurrency": 0}),
        ));
        assert_valid(&map(json!({"Iterator": branch("P")})));
        assert_error(
            &map(json!({})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[ItemProcessor, Iterator]",
        );
        assert_error(
            &map(json!({"ItemProcessor": branch("P"), "Iterator": branch("Q")})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[ItemProcessor, Iterator]",
        );
    }

    #[test]
    fn processor_config() {
        let mut processor = branch("P");
        processor["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"});
        assert_valid(&map(json!({"ItemProcessor": processor})));
        let mut processor = branch("P");
        processor["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED"});
        assert_error(
            &map(json!({"ItemProcessor": processor})),
            Code::SchemaValidationFailed,
            "/States/S/ItemProcessor/ProcessorConfig",
            "[ExecutionType]",
        );
        let mut processor = branch("P");
        processor["ProcessorConfig"] = json!({"Mode": "SIDEWAYS"});
        assert_error(
            &map(json!({"ItemProcessor": processor})),
            Code::SchemaValidationFailed,
            "/States/S/ItemProcessor/ProcessorConfig/Mode",
            "[INLINE, DISTRIBUTED]",
        );
    }

    #[test]
    fn items_and_tolerance() {
        assert_error(
            &map(json!({"ItemProcessor": branch("P"), "Parameters": {}, "ItemSelector": {}})),
            Code::SchemaValidationFailed,
            "/States/S",
            "[Parameters, ItemSelector]",
        );
        assert_error(
            &map(json!({"ItemProcessor": branch("P"), "ItemsPath": null})),
            Code::SchemaValidationFailed,
            "/States/S/ItemsPath",
            "Reference Path",
        );
        assert_error(
            &map(json!({"ItemProcessor": branch("P"), "ToleratedFailurePercentage": 105})),
            Code::SchemaValidationFailed,
            "/States/S/ToleratedFailurePercentage",
            "between 0 and 100",
        );
        assert_error(
            &map(
                json!({"ItemProcessor": branch("P"), "ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.n"}),
            ),
            Code::SchemaValidationFailed,
            "/States/S",
            "[ToleratedFailureCount, ToleratedFailureCountPath]",
        );
        assert_error(
            &map(
                json!({"ItemProcessor": branch("P"), "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"MaxItems": 1, "MaxItemsPath": "$.n"}}}),
            ),
            Code::SchemaValidationFailed,
            "/States/S/ItemReader/ReaderConfig",
            "[MaxItems, MaxItemsPath]",
        );
    }
}

mod jsonata {
    use super::*;

    fn jsonata(state: Value) -> Value {
        let mut definition = single(state);
        definition["QueryLanguage"] = json!("JSONata");
        definition
    }

    #[test]
    fn jsonata_states() {
        assert_valid(&jsonata(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
            "Output": "{% $states.result.Payload %}",
            "Assign": {"attempts": "{% $attempts + 1 %}"},
            "TimeoutSeconds": "{% $states.input.timeout %}"}),
        ));
        assert_valid(&jsonata(
            json!({"Type": "Map", "End": true, "Items": "{% $states.input.list %}",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}}),
        ));
    }

    #[test]
    fn jsonpath_fields_are_rejected_in_jsonata_states() {
        for field in [
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
        ] {
            let mut state =
                json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
            state[field] = json!("$.x");
            assert_error(
                &jsonata(state),
                Code::SchemaValidationFailed,
                "/States/S",
                &format!(
                    "The QueryLanguage is set to 'JSONata', but field '{field}' is only supported for the 'JSONPath' QueryLanguage"
                ),
            );
        }
        assert_error(
            &single(json!({"Type": "Pass", "End": true, "Output": {}})),
            Code::SchemaValidationFailed,
            "/States/S",
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
        );
    }

    #[test]
    fn malformed_expressions() {
        assert_error(
            &jsonata(json!({"Type": "Pass", "End": true, "Output": {"a": ["{% 10 %"]}})),
            Code::SchemaValidationFailed,
            "/States/S/Output/a/0",
            "JSONata",
        );
        assert_error(
            &jsonata(
                json!({"Type": "Pass", "End": true, "Output": "{% $sum($states.input.items %}"}),
            ),
            Code::SchemaValidationFailed,
            "/States/S/Output",
            "Invalid JSONata expression for the field 'Output'",
        );
        assert_has_error(
            &jsonata(
                json!({"Type": "Choice", "Choices": [{"Condition": "{% 10 + * 2 %}", "Next": "S"}],
                "Default": "D"}),
            ),
            Code::SchemaValidationFailed,
            "/States/S/Choices/0/Condition",
            "Invalid JSONata expression",
        );
    }

    #[test]
    fn nested_states_inherit_the_machine_language_not_the_map_one() {
        let definition = json!({"StartAt": "M", "States": {"M": {
            "Type": "Map", "QueryLanguage": "JSONata", "End": true,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Output": {}}}}
        }}});
        assert_error(
            &definition,
            Code::SchemaValidationFailed,
            "/States/M/ItemProcessor/States/P",
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
        );
    }

    #[test]
    fn no_downgrade_to_jsonpath() {
        assert_error(
            &jsonata(json!({"Type": "Pass", "End": true, "QueryLanguage": "JSONPath"})),
            Code::SchemaValidationFailed,
            "/States/S",
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        );
        let upgrade = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "QueryLanguage": "JSONata", "End": true}}});
        assert_valid(&upgrade);
    }
}

mod substitutions {
    use super::*;

    fn with(names: &[&str]) -> Options {
        Options {
            substitutions: Some(names.iter().map(|n| (*n).to_owned()).collect()),
            ..Options::default()
        }
    }

    fn definition() -> Value {
        single(
            json!({"Type": "Task", "Resource": "${FnArn}", "End": true, "Parameters": {"Table": "${Table}"}}),
        )
    }

    #[test]
    fn every_placeholder_defined_and_used() {
        let report = validate(&definition(), &with(&["FnArn", "Table"]));
        assert!(
            report.is_ok() && report.diagnostics.is_empty(),
            "{report:#?}"
        );
    }

    #[test]
    fn undefined_placeholder_is_an_error() {
        let report = validate(&definition(), &with(&["FnArn"]));
        assert_report(
            &report,
            Code::UndefinedSubstitution,
            "/States/S/Parameters/Table",
            "${Table}",
        );
    }

    #[test]
    fn unused_substitution_is_a_warning() {
        let report = validate(&definition(), &with(&["FnArn", "Table", "Extra"]));
        assert!(report.is_ok());
        assert_eq!(report.diagnostics.len(), 1);
        assert_eq!(report.diagnostics[0].severity, Severity::Warning);
        assert_eq!(report.diagnostics[0].code, Code::UnusedSubstitution);
    }
}
