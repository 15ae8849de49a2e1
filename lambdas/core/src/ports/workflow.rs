use std::fmt;

use async_trait::async_trait;

/// The name of one workflow execution. Step Functions keeps names unique per state machine (for 90
/// days), which is what makes starting by name idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecutionName(String);

/// Step Functions allows 1 to 80 characters and forbids whitespace, brackets, wildcards and a list of
/// punctuation; we allow only the subset that is valid everywhere (also in CloudWatch log stream names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("execution name {name:?} must be 1 to {max} characters of A-Z, a-z, 0-9, '-' and '_'", max = ExecutionName::MAX_LEN)]
pub struct InvalidExecutionName {
    pub name: String,
}

impl ExecutionName {
    pub const MAX_LEN: usize = 80;

    pub fn new(name: impl Into<String>) -> Result<Self, InvalidExecutionName> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= Self::MAX_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(ExecutionName(name))
        } else {
            Err(InvalidExecutionName { name })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExecutionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    /// An execution with this name and input is running. Step Functions answers an identical repeat
    /// of a start with the same running execution, so this may be one an earlier call started.
    Started { execution_arn: String },
    /// The name is taken by an execution that has finished or was started with another input.
    ///
    /// Names are derived from what asked for the run (e.g. one Telegram update), so a taken name
    /// means that request was already acted on. An input that differs under the same name can only
    /// come from the same request seen at another moment (say, the chat's areas changed between two
    /// deliveries of one update); starting a second run would be the duplicate we promise never to
    /// make, so it is reported here, as success, and not as an error.
    AlreadyExists,
}

/// Why a start failed. Transient and permanent failures are apart so callers know whether a later
/// attempt can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// Throttled, timed out, could not connect, or the service failed on its side.
    #[error("workflow service unavailable: {detail}")]
    Unavailable { detail: String },
    /// The request cannot succeed as made: unknown or deleted state machine, no permission, input
    /// or name refused. (Too many open executions is `Unavailable`: it passes.)
    #[error("workflow start rejected: {detail}")]
    Rejected { detail: String },
}

impl WorkflowError {
    pub fn is_transient(&self) -> bool {
        matches!(self, WorkflowError::Unavailable { .. })
    }
}

/// Starts runs of the refresh workflow (Step Functions in AWS; the local engine offline).
#[async_trait]
pub trait WorkflowStarter: Send + Sync {
    /// Starts an execution named `name` with `input` (a JSON document) unless one already has the name.
    async fn start(&self, name: &ExecutionName, input: &str)
    -> Result<StartOutcome, WorkflowError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_step_functions_rules() {
        assert!(ExecutionName::new("tg-196958706").is_ok());
        assert!(ExecutionName::new("a".repeat(80)).is_ok());
        assert!(ExecutionName::new("a".repeat(81)).is_err());
        assert!(ExecutionName::new("").is_err());
        for bad in ["tg 1", "tg:1", "tg/1", "tg{1}", "tg*", "tg\u{7f}", "tg-é"] {
            assert!(ExecutionName::new(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
