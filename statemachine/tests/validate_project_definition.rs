//! The project's own workflow, `statemachine/refresh.asl.json`, must pass the validator, with the placeholders that
//! the SAM template (`infra/template.yaml`) substitutes: this is the check CI runs before anything is deployed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::fs;
use std::path::Path;

use asl::validate::sam::{machine_for, state_machines};
use asl::validate::{Options, Report, validate_str};

const DEFINITION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/refresh.asl.json");
const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

#[track_caller]
fn assert_clean(report: &Report) {
    let all: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        report.is_ok() && report.diagnostics.is_empty(),
        "{DEFINITION}:\n{}",
        all.join("\n")
    );
}

#[test]
fn refresh_workflow_is_valid() {
    assert_clean(&validate_str(&read(DEFINITION), &Options::default()));
}

#[test]
fn every_placeholder_is_substituted_by_the_sam_template_and_every_substitution_used() {
    let machines =
        state_machines(&read(TEMPLATE)).expect("the SAM template defines the state machine");
    let template_dir = Path::new(TEMPLATE).parent().expect("template has a folder");
    let machine = machine_for(&machines, template_dir, Path::new(DEFINITION))
        .expect("a machine uses the definition");
    let options = Options {
        substitutions: Some(machine.substitutions.clone()),
        ..Options::default()
    };
    assert_clean(&validate_str(&read(DEFINITION), &options));
}
