//! `Retry` and `Catch` rules.

use serde::Deserialize;

use super::fields::{ResultPath, TemplateField};

/// `JitterStrategy`: FULL picks a random delay between 0 and the computed interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Jitter {
    Full,
    #[default]
    None,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Retrier {
    pub error_equals: Vec<String>,
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_backoff")]
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    #[serde(default)]
    pub jitter_strategy: Jitter,
}

fn default_interval() -> f64 {
    1.0
}

fn default_max_attempts() -> u32 {
    3
}

fn default_backoff() -> f64 {
    2.0
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    #[serde(default)]
    pub result_path: ResultPath,
    pub assign: Option<TemplateField>,
}

/// The longest back-off AWS accepts (`MaxDelaySeconds` must be below 31,622,401: one leap year).
pub const MAX_DELAY_SECONDS: f64 = 31_622_400.0;

/// Error names with special matching rules.
pub mod names {
    pub const ALL: &str = "States.ALL";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const TIMEOUT: &str = "States.Timeout";
    pub const RUNTIME: &str = "States.Runtime";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// A JSONata expression failed, returned nothing, or returned the wrong type.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
}

/// Whether an `ErrorEquals` list matches `error`. `States.Runtime` is never retried or caught; `States.ALL` matches
/// every other error; `States.TaskFailed` matches every other error except `States.Timeout`.
pub fn error_matches(error_equals: &[String], error: &str) -> bool {
    if error == names::RUNTIME {
        return false;
    }
    error_equals.iter().any(|pattern| {
        pattern == error
            || pattern == names::ALL
            || (pattern == names::TASK_FAILED && error != names::TIMEOUT)
    })
}

impl Retrier {
    /// The wait before retry number `retries_done + 1`, before jitter: `IntervalSeconds × BackoffRate^retries_done`,
    /// capped by `MaxDelaySeconds`.
    /// The result is always finite and in `[0, MAX_DELAY_SECONDS]`: with a rate above 1 and no `MaxDelaySeconds`,
    /// `rate^n` overflows to infinity after about a thousand retries, and a FULL jitter draw over an infinite range
    /// panics.
    pub fn base_delay_seconds(&self, retries_done: u32) -> f64 {
        let exponent = i32::try_from(retries_done).unwrap_or(i32::MAX);
        let delay = self.interval_seconds * self.backoff_rate.powi(exponent);
        let delay = match self.max_delay_seconds {
            Some(cap) => delay.min(cap),
            None => delay,
        };
        if delay.is_nan() {
            return 0.0;
        }
        delay.clamp(0.0, MAX_DELAY_SECONDS)
    }
}
