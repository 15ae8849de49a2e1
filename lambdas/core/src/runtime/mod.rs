//! What the Lambda binaries share: configuration from the environment, wiring of ports to
//! adapters, logging, and the Lambda runtime loop. The binaries themselves only pick a handler.

pub mod env;
pub mod function_url;
pub mod secrets;
pub mod telegram;
pub mod upstream;

use std::future::Future;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

pub use env::ConfigError;
pub use telegram::telegram_from_env;
pub use upstream::Upstream;

use crate::adapters::dynamo::{ClientSettings, DynamoStore};
use crate::tasks::TaskError;

/// Logs as Lambda's advanced logging controls ask (`AWS_LAMBDA_LOG_FORMAT=JSON` gives JSON lines,
/// `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` the level), as lambda_runtime's default subscriber does.
///
/// Written here rather than taken from lambda_runtime (its `tracing` feature is off): that
/// subscriber filters with tracing-subscriber's `EnvFilter`, whose regex engine was a sizeable part
/// of every function (README.md "Size and cold start"), while Lambda only ever gives a level.
pub fn init_tracing() {
    let configured = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let (level, unreadable) = log_level(configured.as_deref());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(level);
    let installed = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if installed.is_ok()
        && let Some(text) = unreadable
    {
        tracing::warn!(
            level = text,
            "the log level is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL: logging at INFO"
        );
    }
}

/// The level named by Lambda's `ApplicationLogLevel` (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) or
/// a `RUST_LOG` holding one level; INFO when unset. Anything else (e.g. `RUST_LOG` directives
/// per module, which only a local run would set) is INFO too, returned to be reported.
fn log_level(text: Option<&str>) -> (tracing::level_filters::LevelFilter, Option<&str>) {
    use tracing::level_filters::LevelFilter;
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return (LevelFilter::INFO, None);
    };
    if text.eq_ignore_ascii_case("fatal") {
        return (LevelFilter::ERROR, None);
    }
    match text.parse::<LevelFilter>() {
        Ok(level) => (level, None),
        Err(_) => (LevelFilter::INFO, Some(text)),
    }
}

/// The environment variable naming the DynamoDB table.
pub const TABLE_ENV: &str = "LOADSHED_TABLE";

/// The DynamoDB store on the table named by `LOADSHED_TABLE`, reached through the standard AWS
/// configuration (so moto or DynamoDB Local is `AWS_ENDPOINT_URL_DYNAMODB=...`). Makes no network
/// call.
pub async fn store_from_env() -> Result<DynamoStore, ConfigError> {
    let table = env::required(TABLE_ENV, "it names the DynamoDB table")?;
    Ok(DynamoStore::connect(table, &ClientSettings::default()).await)
}

/// Runs the Lambda loop for a task handler taking the raw JSON payload.
///
/// The payload is taken as `Value` so that no payload can fail lambda_runtime's own
/// deserialisation, whose error would carry a Rust type name as its `errorType`: shape errors are
/// the handler's `InvalidInput` instead.
pub async fn run_task<H, Fut, T>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = Result<T, TaskError>>,
    T: Serialize,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let result = handler(event.payload);
        async move { result.await.map_err(Diagnostic::from) }
    }))
    .await
}

/// [`run_task`] for a handler that must finish before the invocation's deadline: it is given the
/// time left, read from the invocation context.
pub async fn run_task_within<H, Fut, T>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Value, Option<std::time::Duration>) -> Fut,
    Fut: Future<Output = Result<T, TaskError>>,
    T: Serialize,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let left = time_left(event.context.deadline);
        let result = handler(event.payload, left);
        async move { result.await.map_err(Diagnostic::from) }
    }))
    .await
}

/// The time until `deadline_ms` (epoch milliseconds, as the Runtime API gives it); `None` when the
/// runtime gave none.
fn time_left(deadline_ms: u64) -> Option<std::time::Duration> {
    if deadline_ms == 0 {
        return None;
    }
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    Some(std::time::Duration::from_millis(
        deadline_ms.saturating_sub(now_ms),
    ))
}

#[cfg(test)]
mod tests {
    use tracing::level_filters::LevelFilter;

    use super::log_level;

    #[test]
    fn lambda_log_levels_map_to_tracing_levels() {
        assert_eq!(log_level(None), (LevelFilter::INFO, None));
        assert_eq!(log_level(Some(" ")), (LevelFilter::INFO, None));
        assert_eq!(log_level(Some("DEBUG")), (LevelFilter::DEBUG, None));
        assert_eq!(log_level(Some("warn")), (LevelFilter::WARN, None));
        assert_eq!(log_level(Some("TRACE")), (LevelFilter::TRACE, None));
        assert_eq!(log_level(Some("FATAL")), (LevelFilter::ERROR, None));
        assert_eq!(
            log_level(Some("loadshed_core=debug")),
            (LevelFilter::INFO, Some("loadshed_core=debug"))
        );
    }
}
