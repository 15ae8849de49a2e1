//! Definition + input -> execution with a step budget: the first line of the input is the execution input, the rest
//! the definition. Tasks answer with their input; time is virtual; the history quota is lowered to 2,000 events so
//! a runaway machine ends quickly (the quota is what bounds an execution's steps).
#![no_main]

use asl::{ExecutionOptions, Executor, StateMachine, TaskCall, TaskFailure, TaskInvoker, VirtualClock};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Echo;

#[async_trait::async_trait]
impl TaskInvoker for Echo {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        if call.attempt % 2 == 1 {
            return Err(TaskFailure::new("Fuzz.Failed", "odd attempt"));
        }
        Ok(call.input)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (input, definition) = text.split_once('\n').unwrap_or(("{}", text));
    let Ok(input) = serde_json::from_str::<Value>(input) else {
        return;
    };
    let Ok(machine) = StateMachine::from_json(definition) else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let executor = Executor::new(machine, Echo)
        .with_clock(VirtualClock::new())
        .with_options(ExecutionOptions {
            max_history_events: 2_000,
            record_history: false,
            ..ExecutionOptions::default()
        });
    let _ = runtime.block_on(executor.execute(input));
});
