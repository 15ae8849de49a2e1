//! Choice: rules with one comparison each, nested with `And`/`Or`/`Not` (JSONPath), or a `Condition` (JSONata).

use serde_json::Value;

use super::{State, Summary, Transition};
use crate::validate::checker::{Checker, Obj};
use crate::validate::paths::PathKind;
use crate::validate::pointer::Pointer;
use crate::validate::timestamp::is_rfc3339;

/// What a comparison operator compares the variable with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    String,
    Number,
    Boolean,
    Timestamp,
    /// A Reference Path to the value to compare with (`StringEqualsPath`, ...).
    Path,
}

fn operand(operator: &str) -> Option<Operand> {
    if let Some(base) = operator.strip_suffix("Path") {
        return match operand(base)? {
            Operand::String if base != "StringMatches" => Some(Operand::Path),
            Operand::Number | Operand::Timestamp => Some(Operand::Path),
            Operand::Boolean if base == "BooleanEquals" => Some(Operand::Path),
            _ => None,
        };
    }
    Some(match operator {
        "StringEquals"
        | "StringLessThan"
        | "StringGreaterThan"
        | "StringLessThanEquals"
        | "StringGreaterThanEquals"
        | "StringMatches" => Operand::String,
        "NumericEquals"
        | "NumericLessThan"
        | "NumericGreaterThan"
        | "NumericLessThanEquals"
        | "NumericGreaterThanEquals" => Operand::Number,
        "TimestampEquals"
        | "TimestampLessThan"
        | "TimestampGreaterThan"
        | "TimestampLessThanEquals"
        | "TimestampGreaterThanEquals" => Operand::Timestamp,
        "BooleanEquals" | "IsNull" | "IsPresent" | "IsNumeric" | "IsString" | "IsBoolean"
        | "IsTimestamp" => Operand::Boolean,
        _ => return None,
    })
}

const COMBINATORS: &[&str] = &["And", "Or", "Not"];

impl Checker<'_> {
    pub(super) fn choice(&mut self, state: State<'_>, summary: &mut Summary) {
        let obj = state.obj;
        self.require(obj, &["Choices"]);
        if let Some(default) = self.string(obj, "Default") {
            summary
                .transitions
                .push(Transition::new(default, obj.at("Default")));
        }
        let Some(rules) = self.array(obj, "Choices") else {
            return;
        };
        let at = obj.at("Choices");
        if rules.is_empty() {
            self.schema(&at, "The field 'Choices' must be a non-empty array");
        }
        for (i, rule) in rules.iter().enumerate() {
            let at = at.child(i);
            let Value::Object(map) = rule else {
                self.schema(&at, "A Choice Rule must be an OBJECT");
                continue;
            };
            let rule = Obj::new(map, &at);
            self.require(rule, &["Next"]);
            if let Some(next) = self.string(rule, "Next") {
                summary
                    .transitions
                    .push(Transition::new(next, rule.at("Next")));
            }
            if state.jsonpath() {
                self.jsonpath_rule(rule, true);
                if rule.has("Assign") {
                    self.assign_jsonpath(rule);
                }
            } else {
                self.jsonata_rule(rule);
            }
        }
    }

    fn jsonata_rule(&mut self, rule: Obj<'_>) {
        self.only_fields(rule, &["Condition", "Next", "Comment", "Assign", "Output"]);
        self.require(rule, &["Condition"]);
        self.string(rule, "Comment");
        match rule.get("Condition") {
            Some(Value::Bool(_)) | None => {}
            Some(condition) => {
                self.jsonata_expression(condition, "Condition", &rule.at("Condition"))
            }
        }
        if let Some(output) = rule.get("Output") {
            self.jsonata_template(output, "Output", &rule.at("Output"));
        }
        if rule.has("Assign") {
            self.assign_jsonata(rule);
        }
    }

    /// A JSONPath rule: exactly one of a comparison (with `Variable`), `And`, `Or` or `Not`. Only top-level rules
    /// carry `Next` (and `Assign`).
    fn jsonpath_rule(&mut self, rule: Obj<'_>, top_level: bool) {
        let mut operators = Vec::new();
        for field in rule.map.keys() {
            let known = match field.as_str() {
                "Variable" | "Comment" => true,
                "Next" | "Assign" => top_level,
                other if COMBINATORS.contains(&other) || operand(other).is_some() => {
                    operators.push(other);
                    true
                }
                _ => false,
            };
            if !known {
                self.unsupported(rule, field);
            }
        }
        self.string(rule, "Comment");
        if operators.len() != 1 {
            self.schema(
                rule.at,
                "A Choice Rule must have exactly one comparison operator, or one of And, Or, Not",
            );
            return;
        }
        let operator = operators[0];
        if COMBINATORS.contains(&operator) {
            if rule.has("Variable") {
                self.schema(
                    rule.at,
                    format!("The field \"Variable\" cannot be used with '{operator}'"),
                );
            }
            self.combinator(rule, operator);
        } else {
            self.require(rule, &["Variable"]);
            self.path_field(rule, "Variable", PathKind::Reference, false);
            self.comparison(rule, operator);
        }
    }

    fn combinator(&mut self, rule: Obj<'_>, operator: &str) {
        let at = rule.at(operator);
        let nested: Vec<(Pointer, &Value)> = match rule.get(operator) {
            Some(Value::Object(_)) if operator == "Not" => vec![(at.clone(), &rule.map[operator])],
            Some(Value::Array(items)) if operator != "Not" && !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, item)| (at.child(i), item))
                .collect(),
            _ => {
                let expected = if operator == "Not" {
                    "an OBJECT"
                } else {
                    "a non-empty ARRAY"
                };
                self.schema(
                    &at,
                    format!("The value for the field '{operator}' must be {expected}"),
                );
                return;
            }
        };
        for (at, value) in nested {
            match value {
                Value::Object(map) => self.jsonpath_rule(Obj::new(map, &at), false),
                _ => self.schema(&at, "A Choice Rule must be an OBJECT"),
            }
        }
    }

    fn comparison(&mut self, rule: Obj<'_>, operator: &str) {
        let Some(value) = rule.get(operator) else {
            return;
        };
        let at = rule.at(operator);
        let fits = match operand(operator) {
            Some(Operand::String) => value.is_string(),
            Some(Operand::Number) => value.is_number(),
            Some(Operand::Boolean) => value.is_boolean(),
            Some(Operand::Timestamp) => value.as_str().is_some_and(is_rfc3339),
            Some(Operand::Path) => {
                self.path_field(rule, operator, PathKind::Reference, false);
                return;
            }
            None => true,
        };
        if !fits {
            let expected = match operand(operator) {
                Some(Operand::Number) => "a NUMBER",
                Some(Operand::Boolean) => "a BOOLEAN",
                Some(Operand::Timestamp) => "an RFC3339 timestamp",
                _ => "a STRING",
            };
            self.schema(
                &at,
                format!("The value for the field '{operator}' must be {expected}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Operand, operand};

    #[test]
    fn operators() {
        assert_eq!(operand("StringEquals"), Some(Operand::String));
        assert_eq!(operand("StringEqualsPath"), Some(Operand::Path));
        assert_eq!(operand("NumericLessThanEqualsPath"), Some(Operand::Path));
        assert_eq!(operand("BooleanEqualsPath"), Some(Operand::Path));
        assert_eq!(operand("IsNull"), Some(Operand::Boolean));
        assert_eq!(operand("IsNullPath"), None);
        assert_eq!(operand("Variable"), None);
        assert_eq!(operand("End"), None);
        assert_eq!(operand("StringMatchesPath"), None);
    }
}
