//! `loadshed asl validate FILE... [--substitutions TEMPLATE] [--format text|json]`.
//!
//! Exit status: 0 when every definition is valid, 1 when any is not, 2 on usage or I/O errors (a file that cannot be
//! read, a template that cannot be used).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use asl::validate::sam::{self, StateMachineResource, TemplateError};
use asl::validate::{MachineType, Options, Report, validate_str};
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// State machine definitions (ASL JSON) to validate.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// SAM or CloudFormation template whose state machine's `DefinitionSubstitutions` define the `${Name}`
    /// placeholders. Without it, placeholders are accepted as they are.
    #[arg(long, value_name = "TEMPLATE")]
    substitutions: Option<PathBuf>,
    /// `text` prints compiler-style lines; `json` prints AWS's `{"result", "diagnostics"}` for each file.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The workflow type: Express workflows cannot use `.sync` or `.waitForTaskToken` integrations.
    #[arg(long = "type", value_enum, default_value_t = WorkflowType::Standard)]
    workflow_type: WorkflowType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum WorkflowType {
    Standard,
    Express,
}

#[derive(Debug, thiserror::Error)]
enum ValidateError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Template {
        path: PathBuf,
        source: TemplateError,
    },
}

pub fn run(args: ValidateArgs) -> ExitCode {
    let template = match args.substitutions.as_deref().map(read_template).transpose() {
        Ok(template) => template,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };

    let mut reports = Vec::with_capacity(args.files.len());
    let mut io_failed = false;
    for file in &args.files {
        match validate_file(file, template.as_ref(), &args) {
            Ok(report) => reports.push((file, report)),
            Err(error) => {
                eprintln!("error: {error}");
                io_failed = true;
            }
        }
    }

    match args.format {
        Format::Text => print!("{}", render_text(&reports)),
        Format::Json => match render_json(&reports) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("error: cannot print the reports as JSON: {error}");
                return ExitCode::from(2);
            }
        },
    }

    if io_failed {
        ExitCode::from(2)
    } else if reports.iter().all(|(_, report)| report.is_ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A template's state machines and the folder its `DefinitionUri`s are relative to.
struct Template {
    path: PathBuf,
    dir: PathBuf,
    machines: Vec<StateMachineResource>,
}

fn read_template(path: &Path) -> Result<Template, ValidateError> {
    let text = fs::read_to_string(path).map_err(|source| ValidateError::Read {
        path: path.to_owned(),
        source,
    })?;
    let machines = sam::state_machines(&text).map_err(|source| ValidateError::Template {
        path: path.to_owned(),
        source,
    })?;
    let dir = path.parent().map(Path::to_owned).unwrap_or_default();
    Ok(Template {
        path: path.to_owned(),
        dir,
        machines,
    })
}

fn validate_file(
    file: &Path,
    template: Option<&Template>,
    args: &ValidateArgs,
) -> Result<Report, ValidateError> {
    let text = fs::read_to_string(file).map_err(|source| ValidateError::Read {
        path: file.to_owned(),
        source,
    })?;
    let substitutions: Option<BTreeSet<String>> = template
        .map(|t| {
            sam::machine_for(&t.machines, &t.dir, file)
                .map(|machine| machine.substitutions.clone())
                .map_err(|source| ValidateError::Template {
                    path: t.path.clone(),
                    source,
                })
        })
        .transpose()?;
    let options = Options {
        machine_type: match args.workflow_type {
            WorkflowType::Standard => MachineType::Standard,
            WorkflowType::Express => MachineType::Express,
        },
        substitutions,
    };
    Ok(validate_str(&text, &options))
}

/// `file: /States/X/Next: error[MISSING_TRANSITION_TARGET]: Missing 'Next' target: Y` lines, and `file: OK`.
fn render_text(reports: &[(&PathBuf, Report)]) -> String {
    let mut out = String::new();
    for (file, report) in reports {
        for diagnostic in &report.diagnostics {
            out.push_str(&format!("{}: {diagnostic}\n", file.display()));
        }
        if report.is_ok() {
            out.push_str(&format!("{}: OK\n", file.display()));
        }
    }
    out
}

/// One JSON object keyed by file, each value AWS's `ValidateStateMachineDefinition` response shape.
fn render_json(reports: &[(&PathBuf, Report)]) -> Result<String, serde_json::Error> {
    let mut by_file = Map::new();
    for (file, report) in reports {
        by_file.insert(file.display().to_string(), serde_json::to_value(report)?);
    }
    serde_json::to_string_pretty(&Value::Object(by_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(files: Vec<PathBuf>, substitutions: Option<PathBuf>) -> ValidateArgs {
        ValidateArgs {
            files,
            substitutions,
            format: Format::Text,
            workflow_type: WorkflowType::Standard,
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).expect("write fixture");
        path
    }

    const VALID: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${FnArn}", "End": true}}}"#;
    const INVALID: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#;

    #[test]
    fn exit_codes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let valid = write(dir.path(), "valid.json", VALID);
        let invalid = write(dir.path(), "invalid.json", INVALID);
        assert_eq!(run(args(vec![valid.clone()], None)), ExitCode::SUCCESS);
        assert_eq!(
            run(args(vec![valid.clone(), invalid], None)),
            ExitCode::from(1)
        );
        assert_eq!(
            run(args(vec![valid, dir.path().join("missing.json")], None)),
            ExitCode::from(2)
        );
    }

    #[test]
    fn substitutions_come_from_the_template_state_machine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let definition = write(dir.path(), "machine.asl.json", VALID);
        let defined = write(
            dir.path(),
            "good.yaml",
            "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      DefinitionUri: machine.asl.json\n      DefinitionSubstitutions:\n        FnArn: !GetAtt Fn.Arn\n",
        );
        let undefined = write(
            dir.path(),
            "bad.yaml",
            "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      DefinitionUri: machine.asl.json\n      DefinitionSubstitutions:\n        Other: x\n",
        );
        let broken = write(dir.path(), "broken.yaml", "Resources: [");
        assert_eq!(
            run(args(vec![definition.clone()], Some(defined))),
            ExitCode::SUCCESS
        );
        assert_eq!(
            run(args(vec![definition.clone()], Some(undefined))),
            ExitCode::from(1)
        );
        assert_eq!(run(args(vec![definition], Some(broken))), ExitCode::from(2));
    }

    #[test]
    fn text_reads_like_a_compiler_error() {
        let file = PathBuf::from("m.json");
        let report = validate_str(INVALID, &Options::default());
        assert_eq!(
            render_text(&[(&file, report)]),
            "m.json: /States/A/Next: error[MISSING_TRANSITION_TARGET]: Missing 'Next' target: B\n"
        );
    }

    #[test]
    fn json_is_the_aws_response_shape_per_file() {
        let file = PathBuf::from("m.json");
        let report = validate_str(INVALID, &Options::default());
        let json: Value =
            serde_json::from_str(&render_json(&[(&file, report)]).expect("renders")).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"m.json": {"result": "FAIL", "diagnostics": [{
                "severity": "ERROR",
                "code": "MISSING_TRANSITION_TARGET",
                "message": "Missing 'Next' target: B",
                "location": "/States/A/Next"
            }]}})
        );
    }
}
