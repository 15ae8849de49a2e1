//! What the Lambda binaries share: configuration from the environment, wiring of ports to
//! adapters, logging, and the Lambda runtime loop. The binaries themselves only pick a handler.

pub mod env;
pub mod function_url;
pub mod secrets;
pub mod telegram;
pub mod upstream;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

pub use env::ConfigError;
pub use telegram::telegram_from_env;
pub use upstream::Upstream;

pub use crate::adapters::aws::{SdkConfig, load_config};
use crate::adapters::dynamo::{ClientSettings, DynamoStore};
use crate::tasks::TaskError;
pub use secrets::SecretReader;

/// Logs as Lambda's advanced logging controls ask (`AWS_LAMBDA_LOG_FORMAT=JSON` gives JSON lines,
/// `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` the level), as lambda_runtime's default subscriber does.
///
/// Written here rather than taken from lambda_runtime (its `tracing` feature is off): that
/// subscriber filters with tracing-subscriber's `EnvFilter`, whose regex engine was a sizeable part
/// of every function (docs/size-and-cold-start.md measures the zips), while Lambda only ever gives a level.
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

/// The environment variable of the paid broadcast rate (messages a second; 0 or unset: off).
pub const PAID_BROADCAST_RATE_ENV: &str = "TELEGRAM_PAID_BROADCAST_RATE";

/// `TELEGRAM_PAID_BROADCAST_RATE`: 0 (off, the default) up to Telegram's 1,000 a second.
pub fn paid_broadcast_rate_from_env() -> Result<u32, ConfigError> {
    paid_broadcast_rate(env::optional(PAID_BROADCAST_RATE_ENV).as_deref())
}

/// Reads a paid broadcast rate as `TELEGRAM_PAID_BROADCAST_RATE` gives it (`None`: unset).
pub fn paid_broadcast_rate(text: Option<&str>) -> Result<u32, ConfigError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let invalid = |reason: String| ConfigError::Invalid {
        name: PAID_BROADCAST_RATE_ENV,
        reason,
    };
    let rate: u32 = text
        .parse()
        .map_err(|e| invalid(format!("{text:?}: {e}")))?;
    if rate > crate::notify::MAX_PAID_RATE {
        return Err(invalid(format!(
            "{rate} messages a second is above Telegram's paid broadcast limit of {}",
            crate::notify::MAX_PAID_RATE
        )));
    }
    Ok(rate)
}

/// The environment variable naming the DynamoDB table.
pub const TABLE_ENV: &str = "LOADSHED_TABLE";

/// The DynamoDB store on the table named by `LOADSHED_TABLE`, on the process's AWS configuration
/// (so moto or DynamoDB Local is `AWS_ENDPOINT_URL_DYNAMODB=...`). Makes no network call.
pub fn store_from_env(aws: &SdkConfig) -> Result<DynamoStore, ConfigError> {
    let table = env::required(TABLE_ENV, "it names the DynamoDB table")?;
    Ok(DynamoStore::from_config(
        aws,
        table,
        &ClientSettings::default(),
    ))
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
        answer(handler(event.payload))
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
        answer(handler(event.payload, left))
    }))
    .await
}

/// The handler's answer, its error as a catalogue name. A panic becomes `HandlerPanicked` with
/// its message: lambda_runtime would catch it too, but name it after the Rust type of the panic
/// payload (`&alloc::boxed::Box<dyn core::any::Any + core::marker::Send>`), which no Retry, Catch
/// or alarm should have to match. (The process goes on serving, as it would under lambda_runtime.)
async fn answer<T>(work: impl Future<Output = Result<T, TaskError>>) -> Result<T, Diagnostic> {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result.map_err(Diagnostic::from),
        Err(panic) => Err(panicked(panic.as_ref())),
    }
}

fn panicked(panic: &(dyn std::any::Any + Send)) -> Diagnostic {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    tracing::error!(detail, "the handler panicked");
    Diagnostic {
        error_type: crate::errors::ErrorName::HandlerPanicked
            .as_str()
            .to_owned(),
        error_message: format!("the handler panicked: {detail}"),
    }
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

    #[test]
    fn the_paid_broadcast_rate_is_off_by_default_and_at_most_telegrams_limit() {
        assert_eq!(super::paid_broadcast_rate(None).ok(), Some(0));
        assert_eq!(super::paid_broadcast_rate(Some(" ")).ok(), Some(0));
        assert_eq!(super::paid_broadcast_rate(Some("1000")).ok(), Some(1000));
        assert_eq!(super::paid_broadcast_rate(Some(" 250 ")).ok(), Some(250));
        for bad in ["1001", "-5", "fast", "2.5"] {
            let error = super::paid_broadcast_rate(Some(bad)).expect_err(bad);
            assert!(
                matches!(&error, super::ConfigError::Invalid { name, .. } if *name == super::PAID_BROADCAST_RATE_ENV),
                "{bad}: {error}"
            );
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_catalogue_name_with_its_message() {
        let work = async {
            if std::hint::black_box(true) {
                panic!("slot index 9 out of range");
            }
            Ok::<(), super::TaskError>(())
        };
        let diagnostic = super::answer(work).await.expect_err("it panicked");
        assert_eq!(diagnostic.error_type, "HandlerPanicked");
        assert_eq!(
            diagnostic.error_message,
            "the handler panicked: slot index 9 out of range"
        );
        let formatted = async { panic!("{} of {}", 3, 4) };
        let diagnostic = super::answer::<()>(formatted)
            .await
            .expect_err("it panicked");
        assert_eq!(diagnostic.error_message, "the handler panicked: 3 of 4");
    }

    #[tokio::test]
    async fn an_error_keeps_its_own_name() {
        let work = async { Err::<(), _>(super::TaskError::invalid_input("no known shape")) };
        let diagnostic = super::answer(work).await.expect_err("an error");
        assert_eq!(diagnostic.error_type, "InvalidInput");
    }

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
