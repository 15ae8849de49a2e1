//! JSONPath-mode values: path fields, payload templates (`"key.$": "$.x"`), and `Assign`.
//!
//! Paths and intrinsic calls are parsed with the engine's own parsers, so what validates is exactly what runs.

use serde_json::{Map, Value};

use super::checker::{Checker, Obj};
use super::pointer::Pointer;
use super::report::{Code, Severity};
use crate::intrinsic::Call;
use crate::path::{Path, ReferencePath, Root};

/// What a path field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathKind {
    /// Any JSONPath (`InputPath`, `OutputPath`): `$`, `$$` and `$var` roots, wildcards and filters.
    Path,
    /// A Reference Path: a single node, any root (`ItemsPath`, `SecondsPath`, Choice `Variable`, ...).
    Reference,
    /// `ResultPath`: a Reference Path into the state's input, so rooted at `$`.
    Result,
    /// `ErrorPath`, `CausePath`: a Reference Path or an intrinsic function call.
    ReferenceOrIntrinsic,
}

/// The engine's verdict on `text` as a path of `kind`; `None` when it is fine.
fn path_problem(text: &str, kind: PathKind) -> Option<&'static str> {
    let ok = match kind {
        PathKind::Path => Path::parse(text).is_ok(),
        PathKind::Reference => ReferencePath::parse(text).is_ok(),
        PathKind::Result => ReferencePath::parse(text).is_ok_and(|p| *p.root() == Root::Input),
        PathKind::ReferenceOrIntrinsic => {
            ReferencePath::parse(text).is_ok() || is_intrinsic_call(text)
        }
    };
    if ok {
        return None;
    }
    Some(match kind {
        PathKind::Path => "a valid JSONPath",
        PathKind::Reference => "a valid Reference Path",
        PathKind::Result => "a valid Reference Path starting with '$'",
        PathKind::ReferenceOrIntrinsic => {
            "a valid Reference Path or a valid intrinsic function call"
        }
    })
}

fn is_intrinsic_call(text: &str) -> bool {
    text.starts_with("States.") && Call::parse(text).is_ok()
}

/// A `.$` value: any JSONPath, or an intrinsic function call.
pub(crate) fn is_dynamic_value(text: &str) -> bool {
    if text.starts_with("States.") {
        is_intrinsic_call(text)
    } else {
        Path::parse(text).is_ok()
    }
}

/// A plain string that would have been evaluated had its field name ended with `.$`.
fn looks_dynamic(text: &str) -> bool {
    (text.starts_with("$.") || text.starts_with("$$.") || text.starts_with("States."))
        && is_dynamic_value(text)
}

/// Workflow variable names, as `Assign` keys: Unicode identifiers (a letter or `_`, then letters, digits and `_`,
/// approximating UAX #31's ID_Start/ID_Continue as AWS documents them), at most 80 characters.
pub(crate) fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && name.chars().count() <= 80
}

impl Checker<'_> {
    /// A path field; `null` is allowed where the spec gives it a meaning (`InputPath`, `OutputPath`, `ResultPath`).
    pub(crate) fn path_field(&mut self, obj: Obj<'_>, field: &str, kind: PathKind, nullable: bool) {
        let Some(value) = obj.get(field) else { return };
        let problem = match value {
            Value::Null if nullable => None,
            Value::String(text) => path_problem(text, kind),
            _ => path_problem("", kind),
        };
        if let Some(expected) = problem {
            self.schema(
                &obj.at(field),
                format!("The value for the field '{field}' must be {expected}"),
            );
        }
    }

    /// `Parameters`, `ResultSelector`, `ItemSelector`, `Credentials`: JSON whose `key.$` members hold paths or
    /// intrinsic calls. AWS locates the problem at the object holding the member.
    pub(crate) fn payload_template(&mut self, value: &Value, at: &Pointer) {
        match value {
            Value::Object(map) => self.payload_object(map, at),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.payload_template(item, &at.child(i));
                }
            }
            _ => {}
        }
    }

    fn payload_object(&mut self, map: &Map<String, Value>, at: &Pointer) {
        for (key, value) in map {
            if let Some(name) = key.strip_suffix(".$") {
                if !matches!(value, Value::String(text) if is_dynamic_value(text)) {
                    self.schema(
                        at,
                        format!(
                            "The value for the field '{key}' must be a valid JSONPath or a valid intrinsic \
                             function call"
                        ),
                    );
                }
                // `"a"` and `"a.$"` would both produce the field `a`.
                if map.contains_key(name) {
                    self.schema(
                        at,
                        format!("The field '{name}' is defined twice, once as '{key}'"),
                    );
                }
            } else {
                if let Value::String(text) = value
                    && looks_dynamic(text)
                {
                    self.push(
                        Severity::Warning,
                        Code::NoDollar,
                        Some(&at.child(key)),
                        format!(
                            "The value of '{key}' looks like a JSONPath or an intrinsic function call, but \
                             '{key}' does not end with '.$', so it is passed on as a string"
                        ),
                    );
                }
                self.payload_template(value, &at.child(key));
            }
        }
    }

    /// Pass `Result` is used as it is: a `.$` member there is a literal, usually meant as `Parameters`.
    pub(crate) fn static_result(&mut self, value: &Value, at: &Pointer) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    if key.ends_with(".$") {
                        self.push(
                            Severity::Warning,
                            Code::PassResultIsStatic,
                            Some(&at.child(key)),
                            format!(
                                "'{key}' is not evaluated: a Pass state's Result is static (use \
                                 Parameters for paths)"
                            ),
                        );
                    }
                    self.static_result(item, &at.child(key));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.static_result(item, &at.child(i));
                }
            }
            _ => {}
        }
    }

    /// JSONPath-mode `Assign`: an object of variable names (`name` or `name.$`) to payload-template values.
    pub(crate) fn assign_jsonpath(&mut self, obj: Obj<'_>) {
        let Some(map) = self.object(obj, "Assign") else {
            return;
        };
        let at = obj.at("Assign");
        self.variable_names(map, &at);
        self.payload_object(map, &at);
    }

    /// JSONata-mode `Assign`: variable names to JSONata templates.
    pub(crate) fn assign_jsonata(&mut self, obj: Obj<'_>) {
        let Some(map) = self.object(obj, "Assign") else {
            return;
        };
        let at = obj.at("Assign");
        self.variable_names(map, &at);
        for (key, value) in map {
            self.jsonata_template(value, key, &at.child(key));
        }
    }

    fn variable_names(&mut self, map: &Map<String, Value>, at: &Pointer) {
        for key in map.keys() {
            let name = key.strip_suffix(".$").unwrap_or(key);
            if !is_variable_name(name) {
                self.schema(
                    &at.child(key),
                    format!("'{name}' is not a valid variable name"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_values() {
        assert!(is_dynamic_value("$.a[0].b"));
        assert!(is_dynamic_value("$$.Execution.Id"));
        assert!(is_dynamic_value("$$"));
        assert!(is_dynamic_value("States.Format('{}', $.x)"));
        assert!(!is_dynamic_value("23"));
        assert!(!is_dynamic_value("$$23"));
        assert!(!is_dynamic_value("States.Xyz($.result)"));
        assert!(!is_dynamic_value(" States.Array('Foo')"));
        assert!(!is_dynamic_value("ipsum"));
    }

    #[test]
    fn result_paths_are_rooted_at_the_input() {
        assert_eq!(path_problem("$.result", PathKind::Result), None);
        assert!(path_problem("$foo", PathKind::Result).is_some());
        assert!(path_problem("$$.Execution", PathKind::Result).is_some());
        assert!(path_problem("$.a[*]", PathKind::Result).is_some());
        assert!(path_problem("..guid", PathKind::Result).is_some());
    }

    #[test]
    fn plain_strings_that_look_dynamic() {
        assert!(looks_dynamic("$.a"));
        assert!(looks_dynamic("$$.Execution.Id"));
        assert!(looks_dynamic("States.UUID()"));
        assert!(!looks_dynamic("$5.00"));
        assert!(!looks_dynamic("States.of mind"));
        assert!(!looks_dynamic("hello"));
    }

    #[test]
    fn variable_names() {
        assert!(is_variable_name("x_1"));
        assert!(is_variable_name("_private"));
        assert!(is_variable_name("größe"));
        assert!(!is_variable_name(&"x".repeat(81)));
        assert!(!is_variable_name("1x"));
        assert!(!is_variable_name("top-level"));
        assert!(!is_variable_name(""));
    }
}
