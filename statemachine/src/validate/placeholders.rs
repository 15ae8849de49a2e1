//! SAM `DefinitionSubstitutions` placeholders: `${Name}` inside the definition's strings.
//!
//! SAM replaces them before the definition reaches AWS. Without the template their values are unknown, so the
//! validator accepts them anywhere and skips the one check that needs the value: a `Resource` holding a placeholder is
//! not checked for ARN form. With the template, every placeholder must have a substitution and every substitution
//! must be used.

use std::collections::BTreeSet;

use serde_json::Value;

use super::checker::Checker;
use super::pointer::Pointer;
use super::report::{Code, Severity};

/// The names of the well-formed `${Name}` placeholders in `text`, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if is_placeholder_name(name) {
            names.push(name);
            rest = &after[end + 1..];
        } else {
            rest = after;
        }
    }
    names
}

/// Letters, digits and `_ . : -`, the characters CloudFormation allows in logical ids and attribute names.
fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
}

pub(crate) fn contains_placeholder(text: &str) -> bool {
    !placeholders(text).is_empty()
}

impl Checker<'_> {
    /// Undefined placeholders are errors; unused substitutions are warnings, since SAM deploys them without
    /// complaint, but they usually mean a renamed or misspelt placeholder.
    pub(crate) fn substitutions(&mut self, definition: &Value, defined: &BTreeSet<String>) {
        let mut used = BTreeSet::new();
        self.placeholders_in(definition, &Pointer::root(), defined, &mut used);
        for name in defined.difference(&used) {
            self.push(
                Severity::Warning,
                Code::UnusedSubstitution,
                Some(&Pointer::root()),
                format!("The substitution '{name}' is not used in the definition"),
            );
        }
    }

    fn placeholders_in(
        &mut self,
        value: &Value,
        at: &Pointer,
        defined: &BTreeSet<String>,
        used: &mut BTreeSet<String>,
    ) {
        match value {
            Value::String(text) => self.placeholders_in_text(text, at, defined, used),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.placeholders_in(item, &at.child(i), defined, used);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let at = at.child(key);
                    self.placeholders_in_text(key, &at, defined, used);
                    self.placeholders_in(item, &at, defined, used);
                }
            }
            _ => {}
        }
    }

    fn placeholders_in_text(
        &mut self,
        text: &str,
        at: &Pointer,
        defined: &BTreeSet<String>,
        used: &mut BTreeSet<String>,
    ) {
        for name in placeholders(text) {
            if defined.contains(name) {
                used.insert(name.to_owned());
            } else {
                self.error(
                    Code::UndefinedSubstitution,
                    at,
                    format!(
                        "The placeholder '${{{name}}}' has no value in DefinitionSubstitutions"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn finds_well_formed_placeholders() {
        assert_eq!(placeholders("${A}"), ["A"]);
        assert_eq!(
            placeholders("arn:${Partition}:lambda:${Region}:x"),
            ["Partition", "Region"]
        );
        assert_eq!(placeholders("${Fn.Arn}"), ["Fn.Arn"]);
        assert!(placeholders("${lambdaArn").is_empty());
        assert!(placeholders("${}").is_empty());
        assert!(placeholders("$.a").is_empty());
        assert_eq!(placeholders("${a b} ${Ok}"), ["Ok"]);
    }
}
