//! Validation of Amazon States Language definitions, reporting what AWS's `ValidateStateMachineDefinition` reports.
//!
//! The checks run on the raw JSON rather than on a typed model, so that a definition of any shape still gets
//! diagnostics located by JSON pointers (`/States/Wait/Seconds`) instead of one deserialisation error.
//!
//! ```
//! use asl::validate::{Options, validate_str};
//!
//! let definition = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#;
//! let report = validate_str(definition, &Options::default());
//! assert!(!report.is_ok());
//! assert_eq!(report.diagnostics[0].message, "Missing 'Next' target: B");
//! assert_eq!(report.diagnostics[0].location.as_deref(), Some("/States/A/Next"));
//! ```

mod checker;
mod duplicates;
mod fields;
mod jsonata;
mod machine;
mod paths;
pub mod placeholders;
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
    let (definition, duplicates) = match duplicates::parse(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            return Report::from_diagnostics(vec![Diagnostic {
                severity: Severity::Error,
                code: Code::InvalidJsonDescription,
                message: error.to_string(),
                location: Some(format!(
                    "[line: {}, column: {}]",
                    error.line(),
                    error.column()
                )),
            }]);
        }
    };
    let mut report = validate(&definition, options);
    if !duplicates.is_empty() {
        let mut diagnostics: Vec<Diagnostic> =
            duplicates.into_iter().map(duplicate_diagnostic).collect();
        diagnostics.append(&mut report.diagnostics);
        report = Report::from_diagnostics(diagnostics);
    }
    report
}

/// Only text can repeat a name: a parsed `Value` has already kept just one of them.
fn duplicate_diagnostic(duplicate: duplicates::Duplicate) -> Diagnostic {
    let at = duplicate.parent.child(&duplicate.name);
    let (code, message) = if duplicate.is_state {
        (
            Code::DuplicateStateName,
            format!("Duplicate State name: {}", duplicate.name),
        )
    } else {
        (
            Code::SchemaValidationFailed,
            format!("The field \"{}\" is defined more than once", duplicate.name),
        )
    };
    Diagnostic {
        severity: Severity::Error,
        code,
        message,
        location: Some(at.to_string()),
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
