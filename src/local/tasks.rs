//! The three task handlers as Lambda functions of the local engine: the definition's function ARNs
//! resolve to the very handlers the Lambda binaries run.

use std::collections::BTreeMap;
use std::sync::Arc;

use asl::{TaskCall, TaskFailure, TaskInvoker};
use async_trait::async_trait;
use loadshed_core::errors::Named;
use loadshed_core::tasks::{NotifyTask, ScheduleTask, StageTask, TaskError};
use serde_json::{Value, json};

pub const STAGE_FUNCTION: &str = "loadshed-stage";
pub const SCHEDULE_FUNCTION: &str = "loadshed-schedule";
pub const NOTIFY_FUNCTION: &str = "loadshed-notify";

/// The notify function's `Timeout` in infra/template.yaml (tests/infra_template.rs checks they
/// agree): each in-process notify invocation gets this deadline, as on Lambda, so a long broadcast
/// stops in time and the workflow resumes it.
pub const NOTIFY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(900);

/// The ARN the local run puts where SAM would put the deployed function's.
pub fn function_arn(function: &str) -> String {
    format!("arn:aws:lambda:af-south-1:000000000000:function:{function}")
}

/// `DefinitionSubstitutions` for the local run, named as in `infra/template.yaml`.
pub fn substitutions() -> BTreeMap<String, String> {
    [
        ("StageFunctionArn", STAGE_FUNCTION),
        ("ScheduleFunctionArn", SCHEDULE_FUNCTION),
        ("NotifyFunctionArn", NOTIFY_FUNCTION),
    ]
    .into_iter()
    .map(|(name, function)| (name.to_owned(), function_arn(function)))
    .collect()
}

#[derive(Clone)]
pub struct InProcessTasks {
    pub stage: Arc<StageTask>,
    pub schedule: Arc<ScheduleTask>,
    pub notify: Arc<NotifyTask>,
}

impl InProcessTasks {
    /// Invokes `function` (its name, or an ARN ending in it) with `payload`. `budget` is the time
    /// left until the invocation's deadline, which the notify task uses to stop in time.
    pub async fn call(
        &self,
        function: &str,
        payload: Value,
        budget: Option<std::time::Duration>,
    ) -> Result<Value, TaskFailure> {
        let function = function.rsplit(':').next().unwrap_or_default();
        let result = match function {
            STAGE_FUNCTION => self.stage.handle(payload).await,
            SCHEDULE_FUNCTION => self.schedule.handle(payload).await,
            // Without a deadline from the caller, the function's own (as on Lambda).
            NOTIFY_FUNCTION => {
                let budget = budget.or(Some(NOTIFY_TIMEOUT));
                self.notify.handle_within(payload, budget).await
            }
            other => {
                return Err(TaskFailure::new(
                    "Lambda.ResourceNotFoundException",
                    format!(
                        "Function not found: {other} (the local run knows {STAGE_FUNCTION}, {SCHEDULE_FUNCTION}, {NOTIFY_FUNCTION})"
                    ),
                ));
            }
        };
        result.map_err(|error| lambda_failure(&error))
    }
}

#[async_trait]
impl TaskInvoker for InProcessTasks {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        self.call(&call.resource, call.input, None).await
    }
}

/// A function error as Step Functions reports it: `Error` is the Lambda `errorType`, `Cause` the
/// function's error payload.
pub fn lambda_failure(error: &TaskError) -> TaskFailure {
    let name = error.error_name().as_str();
    TaskFailure {
        error: name.to_owned(),
        cause: Some(json!({"errorType": name, "errorMessage": error.to_string()}).to_string()),
    }
}
