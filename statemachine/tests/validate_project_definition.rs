//! The project's own workflow, `statemachine/refresh.asl.json`, must pass the validator: this is the check CI runs
//! before anything is deployed.

use std::fs;

use asl::validate::{Options, validate_str};

const DEFINITION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/refresh.asl.json");

#[test]
fn refresh_workflow_is_valid() {
    let text =
        fs::read_to_string(DEFINITION).unwrap_or_else(|e| panic!("cannot read {DEFINITION}: {e}"));
    let report = validate_str(&text, &Options::default());
    let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
    assert!(
        report.is_ok(),
        "{DEFINITION} is invalid:\n{}",
        errors.join("\n")
    );
}
