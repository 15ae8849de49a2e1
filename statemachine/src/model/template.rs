//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector` and `Assign` objects whose `key.$` fields are
//! paths or intrinsic calls evaluated at run time.

use serde_json::{Map, Value};

use crate::intrinsic::{Call, IntrinsicError};
use crate::path::{Path, PathError, Scope};

/// A compiled payload template.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A subtree with no `.$` keys: copied as is.
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// The value of a `key.$` field that is a path; `field` keeps the original key for error messages.
    Path {
        field: String,
        path: Path,
    },
    /// The value of a `key.$` field that is an intrinsic call.
    Call {
        field: String,
        call: Call,
    },
}

/// Why a template does not compile.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "the value of '{field}' must be a string holding a JSONPath or an intrinsic function call"
    )]
    NotAString { field: String },
    #[error(
        "the value of '{field}' is neither a JSONPath nor an intrinsic function call: '{value}'"
    )]
    NotAnExpression { field: String, value: String },
    #[error("the value of '{field}' is not a valid JSONPath: {source}")]
    Path { field: String, source: PathError },
    #[error("the value of '{field}' is not a valid intrinsic function call: {source}")]
    Intrinsic {
        field: String,
        source: IntrinsicError,
    },
}

/// Why rendering a template failed at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// A path named nothing in the data (AWS: `States.Runtime`).
    PathNotFound { field: String, path: String },
    /// An intrinsic call failed (AWS: `States.IntrinsicFailure`, or `States.Runtime` for a missing path argument).
    Intrinsic {
        field: String,
        source: IntrinsicError,
    },
}

/// Parses a `key.$` value: a path when it starts with `$`, otherwise an intrinsic call.
pub fn compile_expression(field: &str, value: &str) -> Result<Template, TemplateError> {
    if value.starts_with('$') {
        let path = Path::parse(value).map_err(|source| TemplateError::Path {
            field: field.to_owned(),
            source,
        })?;
        Ok(Template::Path {
            field: field.to_owned(),
            path,
        })
    } else if Call::looks_like_call(value) {
        let call = Call::parse(value).map_err(|source| TemplateError::Intrinsic {
            field: field.to_owned(),
            source,
        })?;
        Ok(Template::Call {
            field: field.to_owned(),
            call,
        })
    } else {
        Err(TemplateError::NotAnExpression {
            field: field.to_owned(),
            value: value.to_owned(),
        })
    }
}

impl Template {
    pub fn compile(value: &Value) -> Result<Template, TemplateError> {
        if !has_dynamic_keys(value) {
            return Ok(Template::Literal(value.clone()));
        }
        Ok(match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (key, child) in map {
                    if let Some(stripped) = key.strip_suffix(".$") {
                        let text = child
                            .as_str()
                            .ok_or_else(|| TemplateError::NotAString { field: key.clone() })?;
                        fields.push((stripped.to_owned(), compile_expression(key, text)?));
                    } else {
                        fields.push((key.clone(), Template::compile(child)?));
                    }
                }
                Template::Object(fields)
            }
            Value::Array(items) => Template::Array(
                items
                    .iter()
                    .map(Template::compile)
                    .collect::<Result<_, _>>()?,
            ),
            other => Template::Literal(other.clone()),
        })
    }

    /// True when rendering may read the context object (`$$`), so the caller must provide it.
    pub fn uses_context(&self) -> bool {
        match self {
            Template::Literal(_) => false,
            Template::Object(fields) => fields.iter().any(|(_, t)| t.uses_context()),
            Template::Array(items) => items.iter().any(Template::uses_context),
            Template::Path { path, .. } => *path.root() == crate::path::Root::Context,
            Template::Call { call, .. } => call_uses_context(call),
        }
    }

    pub fn render(&self, scope: &Scope<'_>) -> Result<Value, RenderError> {
        match self {
            Template::Literal(value) => Ok(value.clone()),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (key, template) in fields {
                    out.insert(key.clone(), template.render(scope)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|t| t.render(scope))
                    .collect::<Result<_, _>>()?,
            )),
            Template::Path { field, path } => {
                path.evaluate(scope).map_err(|_| RenderError::PathNotFound {
                    field: field.clone(),
                    path: path.to_string(),
                })
            }
            Template::Call { field, call } => {
                call.evaluate(scope)
                    .map_err(|source| RenderError::Intrinsic {
                        field: field.clone(),
                        source,
                    })
            }
        }
    }
}

fn call_uses_context(call: &Call) -> bool {
    call.args.iter().any(|arg| match arg {
        crate::intrinsic::Arg::Path(p) => *p.root() == crate::path::Root::Context,
        crate::intrinsic::Arg::Call(inner) => call_uses_context(inner),
        _ => false,
    })
}

fn has_dynamic_keys(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.ends_with(".$") || has_dynamic_keys(v)),
        Value::Array(items) => items.iter().any(has_dynamic_keys),
        _ => false,
    }
}
