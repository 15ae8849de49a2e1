//! Validation time of a large definition: about 1,000 states, a third of them nested in Parallel branches and Map
//! processors, with retries, catchers, Choice rules, payload templates and intrinsic calls throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::hint::black_box;

use asl::validate::{Options, validate, validate_str};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

/// A chain of `groups` groups of 10 states each (Task, Choice, Parallel of two 3-state branches, Map of a
/// 3-state processor, Pass): 12 top-level and nested states per group.
fn large_definition(groups: usize) -> Value {
    let mut states = Map::new();
    for g in 0..groups {
        let next_group = if g + 1 == groups {
            "Done".to_owned()
        } else {
            format!("Task{}", g + 1)
        };
        let branch = |b: usize| {
            let names: Vec<String> = (0..3).map(|i| format!("G{g}B{b}S{i}")).collect();
            let mut inner = Map::new();
            for (i, name) in names.iter().enumerate() {
                let mut state = json!({"Type": "Pass", "Parameters": {"index": i, "value.$": "$.value", "id.$": "States.UUID()"}});
                match names.get(i + 1) {
                    Some(next) => state["Next"] = json!(next),
                    None => state["End"] = json!(true),
                }
                inner.insert(name.clone(), state);
            }
            json!({"StartAt": names[0], "States": inner})
        };
        states.insert(format!("Task{g}"), json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f", "Payload.$": "$"},
            "ResultSelector": {"body.$": "$.Payload", "at.$": "$$.State.EnteredTime"},
            "ResultPath": "$.result",
            "TimeoutSeconds": 30,
            "HeartbeatSeconds": 10,
            "Retry": [
                {"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "BackoffRate": 2.0, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": "$.error"}],
            "Next": format!("Choice{g}")
        }));
        states.insert(format!("Choice{g}"), json!({
            "Type": "Choice",
            "Choices": [
                {"And": [{"Variable": "$.result.body.stage", "NumericGreaterThan": 2},
                         {"Not": {"Variable": "$.result.body.area", "StringMatches": "test*"}}],
                 "Next": format!("Parallel{g}")},
                {"Variable": "$.result.at", "TimestampLessThanPath": "$.deadline", "Next": format!("Map{g}")}
            ],
            "Default": format!("Pass{g}")
        }));
        states.insert(format!("Parallel{g}"), json!({
            "Type": "Parallel", "Branches": [branch(0), branch(1)], "ResultPath": "$.parallel", "Next": format!("Map{g}")
        }));
        states.insert(format!("Map{g}"), json!({
            "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 10,
            "ItemSelector": {"item.$": "$$.Map.Item.Value", "n.$": "States.MathAdd($$.Map.Item.Index, 1)"},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": format!("G{g}B9S0"),
                              "States": branch(9)["States"].clone()},
            "ResultPath": "$.mapped", "Next": format!("Pass{g}")
        }));
        states.insert(format!("Pass{g}"), json!({
            "Type": "Pass", "Assign": {"last.$": "States.Format('group {}', $.result.body.stage)"}, "Next": next_group
        }));
    }
    states.insert("Done".to_owned(), json!({"Type": "Succeed"}));
    states.insert(
        "Failed".to_owned(),
        json!({"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}),
    );
    json!({"Comment": "benchmark", "StartAt": "Task0", "States": states})
}

fn bench_validation(c: &mut Criterion) {
    // 84 groups x 12 states + 2 = 1,010 states.
    let definition = large_definition(84);
    let text = definition.to_string();
    let options = Options::default();
    let report = validate(&definition, &options);
    assert!(
        report.is_ok(),
        "the benchmark definition must be valid: {:#?}",
        report.diagnostics
    );

    let mut group = c.benchmark_group("validate");
    group.bench_function("1010_states_parsed", |b| {
        b.iter(|| validate(black_box(&definition), &options))
    });
    group.bench_function("1010_states_from_text", |b| {
        b.iter(|| validate_str(black_box(&text), &options))
    });
    group.finish();
}

criterion_group!(benches, bench_validation);
criterion_main!(benches);
