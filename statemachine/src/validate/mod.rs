//! Validation of Amazon States Language definitions, reporting what AWS's `ValidateStateMachineDefinition` reports.
//!
//! The checks run on the raw JSON rather than on a typed model, so that a definition of any shape still gets
//! diagnostics located by JSON pointers (`/States/Wait/Seconds`) instead of one deserialisation error.
//!
//! ```
//! use asl::validate::{Options, validate_str};
//!
//! let report = validate_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#, &Options::default());
//! assert!(!report.is_ok());
//! assert_eq!(report.diagnostics[0].message, "Missing 'Next' target: B");
//! assert_eq!(report.diagnostics[0].location.as_deref(), Some("/States/A/Next"));
//! ```

mod checker;
mod fields;
mod jsonata;
mod machine;
mod paths;
mod placeholders;
mod pointer;
mod report;
mod retry_catch;
pub mod sam;
mod states;
mod timestamp;

use std::collections::BTreeSet;

use serde_json::Value;

pub use placeholders::placeholders;
pub use report::{Code, Diagnostic, Outcome, Report, Severity};

use checker::Checker;

/// Standard and Express workflows accept different service integrations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub machine_type: MachineType,
    /// The names a SAM template's `DefinitionSubstitutions` defines. `None` when no template is at hand: `${Name}`
    /// placeholders are then accepted as they are.
    pub substitutions: Option<BTreeSet<String>>,
}

/// Validates definition text: JSON syntax errors are `INVALID_JSON_DESCRIPTION`, located by line and column.
pub fn validate_str(text: &str, options: &Options) -> Report {
    if text.trim().is_empty() {
        return not_an_object();
    }
    match serde_json::from_str::<Value>(text) {
        Ok(definition) => validate(&definition, options),
        Err(error) => Report::from_diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            code: Code::InvalidJsonDescription,
            message: error.to_string(),
            location: Some(format!(
                "[line: {}, column: {}]",
                error.line(),
                error.column()
            )),
        }]),
    }
}

/// Validates a parsed definition.
pub fn validate(definition: &Value, options: &Options) -> Report {
    let Value::Object(map) = definition else {
        return not_an_object();
    };
    let mut checker = Checker::new(options);
    checker.definition(map);
    if let Some(defined) = &options.substitutions {
        checker.substitutions(definition, defined);
    }
    Report::from_diagnostics(checker.into_diagnostics())
}

fn not_an_object() -> Report {
    Report::from_diagnostics(vec![Diagnostic {
        severity: Severity::Error,
        code: Code::SchemaValidationFailed,
        message: "Definition must be a valid JSON object".to_owned(),
        location: None,
    }])
}
