//! The seam between the engine and whatever runs Task states.

use async_trait::async_trait;
use serde_json::{Value, json};

/// How a Task state's `Resource` is integrated, which decides the history events and the result's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integration {
    /// `arn:aws:lambda:<region>:<account>:function:<name>`: the state's input is the event, the function's
    /// response is the result (history: `LambdaFunction*` events).
    LambdaFunction,
    /// `arn:aws:states:::lambda:invoke`: `Parameters.FunctionName` names the function and `Parameters.Payload` is
    /// the event; the result is wrapped as `{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
    /// StatusCode}` (history: `Task*` events).
    LambdaInvoke,
    /// Any other `arn:aws:states:::<service>:<action>` (or activity) resource: the invoker gets the effective
    /// parameters and its response is the result as is.
    Service { service: String, action: String },
}

impl Integration {
    pub fn of(resource: &str) -> Integration {
        if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
            let (service, action) = rest.split_once(':').unwrap_or((rest, ""));
            // `.sync` / `.waitForTaskToken` suffixes select a waiting pattern, not a different action.
            let action = action.split('.').next().unwrap_or(action);
            if service == "lambda" && action == "invoke" {
                return Integration::LambdaInvoke;
            }
            return Integration::Service {
                service: service.to_owned(),
                action: action.to_owned(),
            };
        }
        if resource.contains(":lambda:") && resource.contains(":function:") {
            return Integration::LambdaFunction;
        }
        Integration::Service {
            service: String::new(),
            action: resource.to_owned(),
        }
    }

    /// The `resourceType` and `resource` AWS records in `TaskScheduled`.
    pub(crate) fn resource_type_and_name(&self) -> (&str, &str) {
        match self {
            Integration::LambdaFunction => ("lambda", "function"),
            Integration::LambdaInvoke => ("lambda", "invoke"),
            Integration::Service { service, action } => (service, action),
        }
    }
}

/// One attempt at running a Task state.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCall {
    /// For Lambda (both forms): the function ARN or name. Otherwise the state's `Resource`.
    pub resource: String,
    pub integration: Integration,
    pub state_name: String,
    /// For Lambda: the event the function receives. Otherwise the effective parameters.
    pub input: Value,
    /// 0 for the first attempt, then 1, 2, ... for retries.
    pub attempt: u32,
    /// The execution's name, so invokers can tell concurrent executions apart.
    pub execution_name: String,
}

/// A task's error, passed through to Retry and Catch by name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}{}", cause.as_deref().map(|c| format!(": {c}")).unwrap_or_default())]
pub struct TaskFailure {
    pub error: String,
    pub cause: Option<String>,
}

impl TaskFailure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskFailure {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }
}

/// Runs Task states. For Lambda resources, return the function's response (the engine wraps it for
/// `lambda:invoke`); for a function error, return its `errorType` as `error` and its error payload as `cause`.
#[async_trait]
pub trait TaskInvoker: Send + Sync {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure>;
}

/// Shared invokers (for example one kept by a test to inspect its calls afterwards) invoke through the `Arc`.
#[async_trait]
impl<T: TaskInvoker + ?Sized> TaskInvoker for std::sync::Arc<T> {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        (**self).invoke(call).await
    }
}

/// The `lambda:invoke` integration's result around a function response, shaped as AWS returns it.
pub(crate) fn lambda_invoke_result(payload: Value, request_id: &str) -> Value {
    json!({
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Type": ["application/json"]
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Type": "application/json",
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id
            },
            "HttpStatusCode": 200
        },
        "SdkResponseMetadata": { "RequestId": request_id },
        "StatusCode": 200
    })
}
