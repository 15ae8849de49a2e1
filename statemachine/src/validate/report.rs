//! The shape of AWS's `ValidateStateMachineDefinition` response: a result and a list of diagnostics.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Diagnostic codes. All but the substitution codes are AWS's own (`NO_DOLLAR` and `PASS_RESULT_IS_STATIC` are
/// warnings); the substitution codes are ours, for SAM
/// `DefinitionSubstitutions`, which AWS never sees (SAM resolves them before deploying).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    InvalidJsonDescription,
    MissingDescription,
    SchemaValidationFailed,
    InvalidResource,
    MissingEndState,
    DuplicateStateName,
    InvalidStateName,
    MissingTransitionTarget,
    NoDollar,
    PassResultIsStatic,
    UndefinedSubstitution,
    UnusedSubstitution,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidJsonDescription => "INVALID_JSON_DESCRIPTION",
            Code::MissingDescription => "MISSING_DESCRIPTION",
            Code::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            Code::InvalidResource => "INVALID_RESOURCE",
            Code::MissingEndState => "MISSING_END_STATE",
            Code::DuplicateStateName => "DUPLICATE_STATE_NAME",
            Code::InvalidStateName => "INVALID_STATE_NAME",
            Code::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            Code::NoDollar => "NO_DOLLAR",
            Code::PassResultIsStatic => "PASS_RESULT_IS_STATIC",
            Code::UndefinedSubstitution => "UNDEFINED_SUBSTITUTION",
            Code::UnusedSubstitution => "UNUSED_SUBSTITUTION",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem, located by a JSON pointer into the definition (AWS omits the location when the
/// text is not JSON at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// Compiler style: `/States/X/Next: error[MISSING_TRANSITION_TARGET]: Missing 'Next' target: Y`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "FAIL")]
    Fail,
}

/// The validation result: FAIL as soon as one diagnostic is an error; warnings alone keep it OK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub result: Outcome,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn from_diagnostics(diagnostics: Vec<Diagnostic>) -> Self {
        let failed = diagnostics.iter().any(|d| d.severity == Severity::Error);
        Report {
            result: if failed { Outcome::Fail } else { Outcome::Ok },
            diagnostics,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.result == Outcome::Ok
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}
