use lambda_runtime::Diagnostic;

use crate::errors::{ErrorName, Named, StoreError, UpstreamError};

/// Why a task invocation failed. Its [`ErrorName`] is the Lambda `errorType` Step Functions matches.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("{message}")]
    Named { name: ErrorName, message: String },
}

impl TaskError {
    pub fn invalid_input(message: impl Into<String>) -> Self {
        TaskError::InvalidInput(message.into())
    }

    /// Wraps an error from another part of the crate that already carries its catalogue name.
    pub fn named(error: &(impl Named + std::fmt::Display)) -> Self {
        TaskError::Named {
            name: error.error_name(),
            message: error.to_string(),
        }
    }
}

impl Named for TaskError {
    fn error_name(&self) -> ErrorName {
        match self {
            TaskError::Upstream(e) => e.error_name(),
            TaskError::Store(e) => e.error_name(),
            TaskError::InvalidInput(_) => ErrorName::InvalidInput,
            TaskError::Named { name, .. } => *name,
        }
    }
}

/// lambda_runtime would otherwise report the Rust type name as `errorType`, which no Retry or Catch
/// could match reliably.
impl From<TaskError> for Diagnostic {
    fn from(error: TaskError) -> Self {
        Diagnostic {
            error_type: error.error_name().as_str().to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_the_catalogue_name_not_the_rust_type() {
        let error = TaskError::from(UpstreamError::Blocked { service: "Eskom" });
        let diagnostic = Diagnostic::from(error);
        let json = serde_json::to_value(&diagnostic).expect("serialize");
        assert_eq!(json["errorType"], "UpstreamBlocked");
        assert!(
            json["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("Request Rejected"))
        );
        let invalid = Diagnostic::from(TaskError::invalid_input("no known shape"));
        assert_eq!(invalid.error_type, "InvalidInput");
    }
}
