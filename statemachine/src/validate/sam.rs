//! State machines of a SAM or CloudFormation template, and the `DefinitionSubstitutions` each one defines.
//!
//! Templates use CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`, ...), which a plain YAML-to-JSON
//! reader rejects; serde_norway keeps them as tagged values. Only the substitution names are needed here, never
//! their (deploy-time) values.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

const STATE_MACHINE_TYPES: &[&str] = &[
    "AWS::Serverless::StateMachine",
    "AWS::StepFunctions::StateMachine",
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template as YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("the template has no Resources mapping")]
    NoResources,
    #[error(
        "the template defines no state machine (AWS::Serverless::StateMachine or AWS::StepFunctions::StateMachine)"
    )]
    NoStateMachine,
    #[error("DefinitionSubstitutions of {logical_id} is not a mapping")]
    BadSubstitutions { logical_id: String },
    #[error(
        "no state machine in the template has DefinitionUri {definition} (state machines: {candidates})"
    )]
    NoMatch {
        definition: String,
        candidates: String,
    },
}

/// One state machine resource of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineResource {
    pub logical_id: String,
    /// `DefinitionUri` when it is a local path (SAM), as written in the template.
    pub definition_uri: Option<String>,
    pub substitutions: BTreeSet<String>,
}

/// The state machines a template defines, in template order.
pub fn state_machines(template: &str) -> Result<Vec<StateMachineResource>, TemplateError> {
    let document: Value = serde_norway::from_str(template)?;
    let resources = document
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or(TemplateError::NoResources)?;
    let mut machines = Vec::new();
    for (logical_id, resource) in resources {
        let is_state_machine = resource
            .get("Type")
            .and_then(Value::as_str)
            .is_some_and(|t| STATE_MACHINE_TYPES.contains(&t));
        if !is_state_machine {
            continue;
        }
        let logical_id = logical_id.as_str().unwrap_or_default().to_owned();
        let properties = resource.get("Properties");
        let definition_uri = properties
            .and_then(|p| p.get("DefinitionUri"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let substitutions = match properties.and_then(|p| p.get("DefinitionSubstitutions")) {
            None => BTreeSet::new(),
            Some(Value::Mapping(map)) => names(map),
            Some(_) => return Err(TemplateError::BadSubstitutions { logical_id }),
        };
        machines.push(StateMachineResource {
            logical_id,
            definition_uri,
            substitutions,
        });
    }
    if machines.is_empty() {
        return Err(TemplateError::NoStateMachine);
    }
    Ok(machines)
}

fn names(map: &Mapping) -> BTreeSet<String> {
    map.keys()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The state machine whose `DefinitionUri` (relative to `template_dir`) is `definition`; when none matches, the
/// template's only state machine, provided it names no other file.
pub fn machine_for<'a>(
    machines: &'a [StateMachineResource],
    template_dir: &Path,
    definition: &Path,
) -> Result<&'a StateMachineResource, TemplateError> {
    let wanted = canonical(definition);
    let by_uri = machines.iter().find(|m| {
        m.definition_uri
            .as_deref()
            .is_some_and(|uri| canonical(&template_dir.join(uri)) == wanted)
    });
    match (by_uri, machines) {
        (Some(machine), _) => Ok(machine),
        // A lone machine without a local DefinitionUri (inline `Definition`, S3) may well be this definition.
        (None, [only]) if only.definition_uri.is_none() => Ok(only),
        (None, _) => Err(TemplateError::NoMatch {
            definition: definition.display().to_string(),
            candidates: machines
                .iter()
                .map(|m| m.logical_id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Paths compare by their canonical form when the file exists, else as written.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  StageFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
  Refresh:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: ../statemachine/refresh.asl.json
      DefinitionSubstitutions:
        StageFunctionArn: !GetAtt StageFunction.Arn
        TableName: !Ref Table
        Region: !Sub "${AWS::Region}"
  Other:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      DefinitionString: "{}"
"#;

    #[test]
    fn reads_substitution_names_despite_short_form_tags() {
        let machines = state_machines(TEMPLATE).expect("template parses");
        assert_eq!(machines.len(), 2);
        assert_eq!(machines[0].logical_id, "Refresh");
        assert_eq!(
            machines[0].definition_uri.as_deref(),
            Some("../statemachine/refresh.asl.json")
        );
        let names: Vec<&str> = machines[0]
            .substitutions
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(names, ["Region", "StageFunctionArn", "TableName"]);
        assert!(machines[1].substitutions.is_empty());
    }

    #[test]
    fn picks_the_machine_by_definition_uri() {
        let machines = state_machines(TEMPLATE).expect("template parses");
        let found = machine_for(
            &machines,
            Path::new("/repo/infra"),
            Path::new("/repo/infra/../statemachine/refresh.asl.json"),
        );
        assert_eq!(found.expect("found").logical_id, "Refresh");
        let unmatched = machine_for(
            &machines,
            Path::new("/repo/infra"),
            Path::new("/elsewhere.json"),
        );
        assert!(matches!(unmatched, Err(TemplateError::NoMatch { .. })));
    }

    #[test]
    fn a_lone_machine_is_used_unless_it_names_another_file() {
        let inline = state_machines(
            "Resources:\n  M:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n      \
             DefinitionSubstitutions:\n        A: x\n",
        )
        .expect("template parses");
        let found = machine_for(&inline, Path::new("/t"), Path::new("/any.json"))
            .expect("the lone machine");
        assert_eq!(found.logical_id, "M");
        let elsewhere = state_machines(
            "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      \
             DefinitionUri: other.json\n",
        )
        .expect("template parses");
        let result = machine_for(&elsewhere, Path::new("/t"), Path::new("/any.json"));
        assert!(matches!(result, Err(TemplateError::NoMatch { .. })));
    }

    #[test]
    fn templates_without_state_machines_are_errors() {
        assert!(matches!(
            state_machines("Resources: {}"),
            Err(TemplateError::NoStateMachine)
        ));
        assert!(matches!(
            state_machines("Outputs: {}"),
            Err(TemplateError::NoResources)
        ));
        assert!(matches!(
            state_machines("Resources: ["),
            Err(TemplateError::Yaml(_))
        ));
    }
}
