//! The state of one validation run: options, the diagnostics found so far, and the state names seen.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Options;
use super::fields::QueryLanguage;
use super::pointer::Pointer;
use super::report::{Code, Diagnostic, Severity};

/// A JSON object of the definition together with where it sits.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub(crate) map: &'a Map<String, Value>,
    pub(crate) at: &'a Pointer,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, at: &'a Pointer) -> Self {
        Obj { map, at }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    pub(crate) fn at(&self, field: &str) -> Pointer {
        self.at.child(field)
    }
}

pub(crate) struct Checker<'o> {
    pub(crate) options: &'o Options,
    /// The machine-wide `QueryLanguage`, the default for every state, nested ones included.
    pub(crate) machine_language: QueryLanguage,
    diagnostics: Vec<Diagnostic>,
    /// State names are unique across the whole machine, nested machines included.
    names: HashMap<String, Pointer>,
}

impl<'o> Checker<'o> {
    pub(crate) fn new(options: &'o Options) -> Self {
        Checker {
            options,
            machine_language: QueryLanguage::JsonPath,
            diagnostics: Vec::new(),
            names: HashMap::new(),
        }
    }

    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: Code,
        at: Option<&Pointer>,
        message: String,
    ) {
        self.diagnostics.push(Diagnostic {
            severity,
            code,
            message,
            location: at.map(ToString::to_string),
        });
    }

    pub(crate) fn error(&mut self, code: Code, at: &Pointer, message: impl Into<String>) {
        self.push(Severity::Error, code, Some(at), message.into());
    }

    pub(crate) fn schema(&mut self, at: &Pointer, message: impl Into<String>) {
        self.error(Code::SchemaValidationFailed, at, message);
    }

    /// Records a state name; false (and a diagnostic) when the machine already has a state of that name.
    pub(crate) fn register_state_name(&mut self, name: &str, at: &Pointer) -> bool {
        if self.names.contains_key(name) {
            self.error(
                Code::DuplicateStateName,
                at,
                format!("Duplicate State name: {name}"),
            );
            return false;
        }
        self.names.insert(name.to_owned(), at.clone());
        true
    }

    /// `These fields are required: [A, B]`, AWS's wording, for those of `fields` that `obj` lacks.
    pub(crate) fn require(&mut self, obj: Obj<'_>, fields: &[&str]) -> bool {
        let missing: Vec<&str> = fields.iter().copied().filter(|f| !obj.has(f)).collect();
        if missing.is_empty() {
            return true;
        }
        self.schema(
            obj.at,
            format!("These fields are required: [{}]", missing.join(", ")),
        );
        false
    }

    /// Fields that exclude each other (`TimeoutSeconds` and `TimeoutSecondsPath`, ...).
    pub(crate) fn at_most_one(&mut self, obj: Obj<'_>, fields: &[&str]) -> bool {
        let present: Vec<&str> = fields.iter().copied().filter(|f| obj.has(f)).collect();
        if present.len() <= 1 {
            return true;
        }
        self.schema(
            obj.at,
            format!(
                "Only one of these fields may be set: [{}]",
                present.join(", ")
            ),
        );
        false
    }

    pub(crate) fn exactly_one(&mut self, obj: Obj<'_>, fields: &[&str]) {
        if fields.iter().any(|f| obj.has(f)) {
            self.at_most_one(obj, fields);
        } else {
            self.schema(
                obj.at,
                format!(
                    "Exactly one of these fields is required: [{}]",
                    fields.join(", ")
                ),
            );
        }
    }

    pub(crate) fn unsupported(&mut self, obj: Obj<'_>, field: &str) {
        self.schema(obj.at, format!("Field '{field}' is not supported"));
    }

    /// Rejects every field of `obj` not in `allowed`.
    pub(crate) fn only_fields(&mut self, obj: Obj<'_>, allowed: &[&str]) {
        for field in obj.map.keys() {
            if !allowed.contains(&field.as_str()) {
                self.unsupported(obj, field);
            }
        }
    }

    pub(crate) fn string<'a>(&mut self, obj: Obj<'a>, field: &str) -> Option<&'a str> {
        match obj.get(field)? {
            Value::String(text) => Some(text),
            _ => {
                self.schema(
                    &obj.at(field),
                    format!("The value for the field '{field}' must be a STRING"),
                );
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, obj: Obj<'_>, field: &str) -> Option<bool> {
        match obj.get(field)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.schema(
                    &obj.at(field),
                    format!("The value for the field '{field}' must be a BOOLEAN"),
                );
                None
            }
        }
    }

    pub(crate) fn object<'a>(
        &mut self,
        obj: Obj<'a>,
        field: &str,
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(field)? {
            Value::Object(map) => Some(map),
            _ => {
                self.schema(
                    &obj.at(field),
                    format!("The value for the field '{field}' must be an OBJECT"),
                );
                None
            }
        }
    }

    pub(crate) fn array<'a>(&mut self, obj: Obj<'a>, field: &str) -> Option<&'a [Value]> {
        match obj.get(field)? {
            Value::Array(items) => Some(items),
            _ => {
                self.schema(
                    &obj.at(field),
                    format!("The value for the field '{field}' must be an ARRAY"),
                );
                None
            }
        }
    }

    /// An integer within `min..=max`. Non-integral numbers (`1.5`) and other types are errors.
    pub(crate) fn integer(&mut self, obj: Obj<'_>, field: &str, min: i64, max: i64) -> Option<i64> {
        let value = obj.get(field)?;
        match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let message = if max == i64::MAX {
                    format!(
                        "The value for the field '{field}' must be an INTEGER greater than or equal to {min}"
                    )
                } else {
                    format!(
                        "The value for the field '{field}' must be an INTEGER between {min} and {max}"
                    )
                };
                self.schema(&obj.at(field), message);
                None
            }
        }
    }

    pub(crate) fn number(&mut self, obj: Obj<'_>, field: &str, min: f64, max: f64) -> Option<f64> {
        let value = obj.get(field)?;
        match value.as_f64() {
            Some(n) if value.is_number() && n >= min && n <= max => Some(n),
            _ => {
                let message = if max == f64::MAX {
                    format!(
                        "The value for the field '{field}' must be a NUMBER greater than or equal to {min}"
                    )
                } else {
                    format!(
                        "The value for the field '{field}' must be a NUMBER between {min} and {max}"
                    )
                };
                self.schema(&obj.at(field), message);
                None
            }
        }
    }

    pub(crate) fn one_of<'a>(
        &mut self,
        obj: Obj<'a>,
        field: &str,
        allowed: &[&str],
    ) -> Option<&'a str> {
        let text = self.string(obj, field)?;
        if allowed.contains(&text) {
            return Some(text);
        }
        self.schema(
            &obj.at(field),
            format!(
                "The value for the field '{field}' must be one of [{}]",
                allowed.join(", ")
            ),
        );
        None
    }
}
