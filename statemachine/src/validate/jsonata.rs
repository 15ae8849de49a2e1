//! JSONata expressions in JSONata-mode states: strings of the form `{% expression %}`.
//!
//! AWS parses every expression when the state machine is created, so syntax errors are checked here with the parser
//! the engine evaluates with (`crate::jsonata`). Its nesting depth is bounded, so a hostile expression (20,000
//! nested parentheses) gets a verdict instead of overflowing the stack.

use serde_json::Value;

use super::checker::Checker;
use super::pointer::Pointer;

pub(crate) use crate::jsonata::is_expression;

/// What is wrong with a string that opens `{%`; `None` for a good expression or a plain literal.
fn expression_problem(text: &str) -> Option<String> {
    if !text.starts_with("{%") {
        return None;
    }
    if !is_expression(text) {
        return Some("it does not end with %}".to_owned());
    }
    let body = &text[2..text.len() - 2];
    if body.trim().is_empty() {
        return Some("the expression is empty".to_owned());
    }
    crate::jsonata::check_syntax(body)
        .err()
        .map(|error| error.to_string())
}

impl Checker<'_> {
    /// A field that must be a JSONata expression (`Condition`, `Items` as a string).
    pub(crate) fn jsonata_expression(&mut self, value: &Value, field: &str, at: &Pointer) {
        match value {
            Value::String(text) if text.starts_with("{%") => self.jsonata_template(value, field, at),
            _ => self.schema(
                at,
                format!("The value for the field '{field}' must be a JSONata expression enclosed in {{% %}}"),
            ),
        }
    }

    /// `Arguments`, `Output`, `Assign` values and friends: any JSON, whose strings are literals or valid
    /// `{% %}` expressions.
    pub(crate) fn jsonata_template(&mut self, value: &Value, field: &str, at: &Pointer) {
        match value {
            Value::String(text) => {
                if let Some(problem) = expression_problem(text) {
                    self.schema(
                        at,
                        format!("Invalid JSONata expression for the field '{field}': {problem}"),
                    );
                }
            }
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
    use super::{expression_problem, is_expression};

    #[test]
    fn delimiters() {
        assert!(is_expression("{% $states.input %}"));
        assert!(is_expression("{%10%}"));
        assert!(!is_expression("10 %}"));
        assert_eq!(expression_problem("plain text"), None);
        assert_eq!(expression_problem("10 %}"), None);
        assert!(expression_problem("{% 10 %").is_some());
        assert!(expression_problem("{%  %}").is_some());
        assert!(expression_problem("{%").is_some());
    }

    #[test]
    fn grammar() {
        for good in [
            "{% $states.input.list[price > 10].name %}",
            "{% ($n := $count($states.input.items); $n > 0 ? $n : null) %}",
            "{% $map($states.input, function($v) { $v * 2 }) %}",
            "{% $match($states.input.s, /ab+c/i) %}",
            "{% {\"a\": 1, \"b\": $x} %}",
        ] {
            assert_eq!(expression_problem(good), None, "{good}");
        }
        for bad in [
            "{% 10 + * 2 %}",
            "{% $sum($states.input.items %}",
            "{% $.store.book[?(@.price < 10)] %}",
        ] {
            assert!(expression_problem(bad).is_some(), "{bad}");
        }
        let deep = format!("{{% {}1{} %}}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(expression_problem(&deep).is_some());
    }
}
