//! State transitions per second: a long chain of Pass states, and a Map over 10,000 items.
//! Run with `cargo bench -p asl --bench engine`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::hint::black_box;

use asl::{
    ExecutionOptions, ExecutionStatus, Executor, StateMachine, TaskCall, TaskFailure, TaskInvoker,
    VirtualClock,
};
use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

const CHAIN_LENGTH: usize = 1_000;
const MAP_ITEMS: usize = 10_000;

/// These machines have no Task states; an invocation would be a bug in the bench.
struct NoTasks;

#[async_trait]
impl TaskInvoker for NoTasks {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        Err(TaskFailure::new("Bench.UnexpectedTask", call.state_name))
    }
}

fn pass_chain(length: usize) -> Value {
    let mut states = Map::new();
    for i in 0..length {
        let mut state = json!({"Type": "Pass", "ResultPath": "$.last", "Parameters": {"step": i, "from.$": "$.id"}});
        if i + 1 == length {
            state["End"] = json!(true);
        } else {
            state["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), state);
    }
    json!({"StartAt": "S0", "States": states})
}

fn map_machine() -> Value {
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
        "ItemSelector": {"value.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": "Double", "States": {"Double": {"Type": "Pass",
            "Parameters": {"double.$": "States.MathAdd($.value, $.value)"}, "End": true}}},
        "ResultSelector": {"count.$": "States.ArrayLength($)"}, "End": true}}})
}

fn executor(definition: &Value, record_history: bool) -> Executor {
    let machine = StateMachine::from_value(definition).expect("bench definition loads");
    Executor::new(machine, NoTasks)
        .with_clock(VirtualClock::new())
        .with_options(ExecutionOptions {
            record_history,
            ..ExecutionOptions::default()
        })
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("transitions");

    group.throughput(Throughput::Elements(CHAIN_LENGTH as u64));
    for (name, record) in [
        ("pass_chain_1000", false),
        ("pass_chain_1000_with_history", true),
    ] {
        let chain = executor(&pass_chain(CHAIN_LENGTH), record);
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let execution = chain.execute(json!({"id": "bench"})).await;
                assert_eq!(execution.status, ExecutionStatus::Succeeded);
                black_box(execution)
            });
        });
    }

    group.throughput(Throughput::Elements(MAP_ITEMS as u64));
    let map = executor(&map_machine(), false);
    let items: Vec<Value> = (0..MAP_ITEMS).map(Value::from).collect();
    let input = json!({"items": items});
    group.sample_size(20);
    group.bench_function("map_10000_items", |b| {
        b.to_async(&runtime).iter(|| async {
            let execution = map.execute(input.clone()).await;
            assert_eq!(execution.output, Some(json!({"count": MAP_ITEMS})));
            black_box(execution)
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
