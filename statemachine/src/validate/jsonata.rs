//! JSONata expressions in JSONata-mode states: strings of the form `{% expression %}`.
//!
//! The validator checks the delimiters, not the expression's grammar: JSONata is evaluated by AWS and no Rust JSONata
//! parser covers the whole language, so a grammar check would reject valid expressions.

use serde_json::Value;

use super::checker::Checker;
use super::pointer::Pointer;

/// True for a string AWS evaluates as JSONata.
pub(crate) fn is_expression(text: &str) -> bool {
    text.starts_with("{%") && text.ends_with("%}") && text.len() >= 4
}

/// A string that opens `{%` must close `%}` around a non-empty expression; other strings are literals.
fn malformed(text: &str) -> bool {
    text.starts_with("{%") && (!is_expression(text) || text[2..text.len() - 2].trim().is_empty())
}

impl Checker<'_> {
    /// A field that must be a JSONata expression (`Condition`, `Items` as a string).
    pub(crate) fn jsonata_expression(&mut self, value: &Value, field: &str, at: &Pointer) {
        match value {
            Value::String(text) if is_expression(text) && !malformed(text) => {}
            _ => self.schema(
                at,
                format!("The value for the field '{field}' must be a JSONata expression enclosed in {{% %}}"),
            ),
        }
    }

    /// `Arguments`, `Output`, `Assign` values and friends: any JSON, whose strings are literals or well-formed
    /// `{% %}` expressions.
    pub(crate) fn jsonata_template(&mut self, value: &Value, field: &str, at: &Pointer) {
        match value {
            Value::String(text) if malformed(text) => self.schema(
                at,
                format!("The value for the field '{field}' is not a valid JSONata expression enclosed in {{% %}}"),
            ),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.jsonata_template(item, field, &at.child(i));
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.jsonata_template(item, key, &at.child(key));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_expression, malformed};

    #[test]
    fn delimiters() {
        assert!(is_expression("{% $states.input %}"));
        assert!(is_expression("{%10%}"));
        assert!(!is_expression("10 %}"));
        assert!(malformed("{% 10 %"));
        assert!(malformed("{%  %}"));
        assert!(malformed("{%"));
        assert!(!malformed("plain text"));
        assert!(!malformed("{% $x %}"));
    }
}
