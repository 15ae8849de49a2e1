//! Choice rules: boolean expressions over comparisons of a `Variable` path with a literal or another path.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::fields::TemplateField;
use super::template::Template;
use crate::path::Path;

/// A top-level choice rule: a condition, where to go, and what to assign.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    pub condition: Condition,
    pub next: String,
    pub assign: Option<TemplateField>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        variable: Path,
        op: Comparison,
        operand: Operand,
    },
    /// A JSONata `Condition` (`{% ... %}` or a literal), run by `exec::jsonata_state` from the state as written.
    Jsonata(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    Path(Path),
}

/// The kind of a comparison, independent of whether its operand is a literal or a `...Path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

impl Comparison {
    const ALL: [(&'static str, Comparison); 23] = [
        ("StringEquals", Comparison::StringEquals),
        ("StringLessThan", Comparison::StringLessThan),
        ("StringGreaterThan", Comparison::StringGreaterThan),
        ("StringLessThanEquals", Comparison::StringLessThanEquals),
        (
            "StringGreaterThanEquals",
            Comparison::StringGreaterThanEquals,
        ),
        ("StringMatches", Comparison::StringMatches),
        ("NumericEquals", Comparison::NumericEquals),
        ("NumericLessThan", Comparison::NumericLessThan),
        ("NumericGreaterThan", Comparison::NumericGreaterThan),
        ("NumericLessThanEquals", Comparison::NumericLessThanEquals),
        (
            "NumericGreaterThanEquals",
            Comparison::NumericGreaterThanEquals,
        ),
        ("BooleanEquals", Comparison::BooleanEquals),
        ("TimestampEquals", Comparison::TimestampEquals),
        ("TimestampLessThan", Comparison::TimestampLessThan),
        ("TimestampGreaterThan", Comparison::TimestampGreaterThan),
        (
            "TimestampLessThanEquals",
            Comparison::TimestampLessThanEquals,
        ),
        (
            "TimestampGreaterThanEquals",
            Comparison::TimestampGreaterThanEquals,
        ),
        ("IsNull", Comparison::IsNull),
        ("IsPresent", Comparison::IsPresent),
        ("IsNumeric", Comparison::IsNumeric),
        ("IsString", Comparison::IsString),
        ("IsBoolean", Comparison::IsBoolean),
        ("IsTimestamp", Comparison::IsTimestamp),
    ];

    /// Finds the comparison a rule key names, and whether it is the `...Path` form.
    pub fn from_key(key: &str) -> Option<(Comparison, bool)> {
        let (name, is_path) = match key.strip_suffix("Path") {
            Some(stripped) => (stripped, true),
            None => (key, false),
        };
        let (_, op) = Comparison::ALL.iter().find(|(n, _)| *n == name)?;
        // `StringMatches` and the `Is*` tests have no `...Path` form.
        let path_allowed = !matches!(
            op,
            Comparison::StringMatches
                | Comparison::IsNull
                | Comparison::IsPresent
                | Comparison::IsNumeric
                | Comparison::IsString
                | Comparison::IsBoolean
                | Comparison::IsTimestamp
        );
        (!is_path || path_allowed).then_some((*op, is_path))
    }
}

/// Why a choice rule does not load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChoiceError {
    #[error("a choice rule must be an object")]
    NotAnObject,
    #[error("a choice rule needs exactly one comparison operator, And, Or or Not")]
    NoOperator,
    #[error("'{0}' must be an array of rules")]
    NotAnArray(&'static str),
    #[error("invalid path in '{field}': {reason}")]
    BadPath { field: String, reason: String },
    #[error("a top-level choice rule needs a string 'Next'")]
    MissingNext,
    #[error("invalid Assign: {0}")]
    BadAssign(String),
}

fn parse_condition(map: &Map<String, Value>) -> Result<Condition, ChoiceError> {
    if let Some(cond) = map.get("Condition") {
        // `{% ... %}`, or a literal boolean; evaluated from the raw state by the JSONata runner.
        let text = match cond {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        return Ok(Condition::Jsonata(text));
    }
    if let Some(v) = map.get("And") {
        return Ok(Condition::And(parse_list(v, "And")?));
    }
    if let Some(v) = map.get("Or") {
        return Ok(Condition::Or(parse_list(v, "Or")?));
    }
    if let Some(v) = map.get("Not") {
        let inner = v.as_object().ok_or(ChoiceError::NotAnObject)?;
        return Ok(Condition::Not(Box::new(parse_condition(inner)?)));
    }
    let variable_text = map
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or(ChoiceError::NoOperator)?;
    let variable = Path::parse(variable_text).map_err(|e| ChoiceError::BadPath {
        field: "Variable".to_owned(),
        reason: e.to_string(),
    })?;
    for (key, value) in map {
        let Some((op, is_path)) = Comparison::from_key(key) else {
            continue;
        };
        let operand = if is_path {
            let text = value.as_str().ok_or_else(|| ChoiceError::BadPath {
                field: key.clone(),
                reason: "must be a string".to_owned(),
            })?;
            Operand::Path(Path::parse(text).map_err(|e| ChoiceError::BadPath {
                field: key.clone(),
                reason: e.to_string(),
            })?)
        } else {
            Operand::Literal(value.clone())
        };
        return Ok(Condition::Compare {
            variable,
            op,
            operand,
        });
    }
    Err(ChoiceError::NoOperator)
}

fn parse_list(value: &Value, field: &'static str) -> Result<Vec<Condition>, ChoiceError> {
    value
        .as_array()
        .ok_or(ChoiceError::NotAnArray(field))?
        .iter()
        .map(|rule| parse_condition(rule.as_object().ok_or(ChoiceError::NotAnObject)?))
        .collect()
}

impl ChoiceRule {
    pub fn from_value(value: &Value) -> Result<ChoiceRule, ChoiceError> {
        let map = value.as_object().ok_or(ChoiceError::NotAnObject)?;
        let condition = parse_condition(map)?;
        let next = map
            .get("Next")
            .and_then(Value::as_str)
            .ok_or(ChoiceError::MissingNext)?
            .to_owned();
        let assign = match map.get("Assign") {
            Some(v) => Some(TemplateField(
                Template::compile(v).map_err(|e| ChoiceError::BadAssign(e.to_string()))?,
            )),
            None => None,
        };
        Ok(ChoiceRule {
            condition,
            next,
            assign,
        })
    }
}

impl<'de> Deserialize<'de> for ChoiceRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        ChoiceRule::from_value(&value).map_err(serde::de::Error::custom)
    }
}
