//! Intrinsic functions (`States.Format('{}', $.x)` and friends): parsing and evaluation.

mod functions;
mod parse;

use std::fmt;

use serde_json::Value;

use crate::path::{Path, PathError, Scope};

/// Every intrinsic function AWS defines for JSONPath mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Function {
    pub const ALL: [Function; 18] = [
        Function::Format,
        Function::StringToJson,
        Function::JsonToString,
        Function::Array,
        Function::ArrayPartition,
        Function::ArrayContains,
        Function::ArrayRange,
        Function::ArrayGetItem,
        Function::ArrayLength,
        Function::ArrayUnique,
        Function::Base64Encode,
        Function::Base64Decode,
        Function::Hash,
        Function::JsonMerge,
        Function::MathRandom,
        Function::MathAdd,
        Function::StringSplit,
        Function::Uuid,
    ];

    /// The name as written in a definition, e.g. `States.Format`.
    pub fn name(self) -> &'static str {
        match self {
            Function::Format => "States.Format",
            Function::StringToJson => "States.StringToJson",
            Function::JsonToString => "States.JsonToString",
            Function::Array => "States.Array",
            Function::ArrayPartition => "States.ArrayPartition",
            Function::ArrayContains => "States.ArrayContains",
            Function::ArrayRange => "States.ArrayRange",
            Function::ArrayGetItem => "States.ArrayGetItem",
            Function::ArrayLength => "States.ArrayLength",
            Function::ArrayUnique => "States.ArrayUnique",
            Function::Base64Encode => "States.Base64Encode",
            Function::Base64Decode => "States.Base64Decode",
            Function::Hash => "States.Hash",
            Function::JsonMerge => "States.JsonMerge",
            Function::MathRandom => "States.MathRandom",
            Function::MathAdd => "States.MathAdd",
            Function::StringSplit => "States.StringSplit",
            Function::Uuid => "States.UUID",
        }
    }

    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// How many arguments the function accepts (inclusive bounds; `None` means unbounded).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Function::Format => (1, None),
            Function::Array => (0, None),
            Function::Uuid => (0, Some(0)),
            Function::StringToJson
            | Function::JsonToString
            | Function::ArrayLength
            | Function::ArrayUnique
            | Function::Base64Encode
            | Function::Base64Decode => (1, Some(1)),
            Function::ArrayPartition
            | Function::ArrayContains
            | Function::ArrayGetItem
            | Function::Hash
            | Function::MathAdd
            | Function::StringSplit => (2, Some(2)),
            Function::MathRandom => (2, Some(3)),
            Function::ArrayRange | Function::JsonMerge => (3, Some(3)),
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A piece of a `States.Format` template literal.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePiece {
    Text(String),
    /// An unescaped `{}`.
    Placeholder,
}

/// One argument of an intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A string (escapes decoded), number, boolean or null literal.
    Literal(Value),
    /// The string literal template of `States.Format`, kept in pieces so escaped braces stay literal.
    Template(Vec<TemplatePiece>),
    Path(Path),
    Call(Call),
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub function: Function,
    pub args: Vec<Arg>,
}

/// Why an intrinsic call does not parse or fails at run time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IntrinsicError {
    #[error("invalid intrinsic function call '{text}': {reason} at offset {offset}")]
    Syntax {
        text: String,
        offset: usize,
        reason: String,
    },
    #[error("unknown intrinsic function '{name}'")]
    UnknownFunction { name: String },
    #[error("{function} expects {expected} argument(s), got {got}")]
    Arity {
        function: Function,
        expected: String,
        got: usize,
    },
    #[error("invalid path in intrinsic function call: {0}")]
    BadPath(PathError),
    /// A path argument named nothing in the data: AWS reports this as `States.Runtime`.
    #[error("The JSONPath '{path}' could not be found: {source}")]
    PathNotFound { path: String, source: PathError },
    /// A run-time failure AWS reports as `States.IntrinsicFailure`.
    #[error("{0}")]
    Failure(String),
}

/// Applies an intrinsic to evaluated arguments (JSONata's `$partition` and friends reuse the intrinsics).
pub(crate) fn apply_function(
    function: Function,
    args: Vec<Value>,
) -> Result<Value, IntrinsicError> {
    functions::apply(function, None, args)
}

impl Call {
    /// Parses an intrinsic function call such as `States.Format('Hello {}', $.name)`.
    pub fn parse(text: &str) -> Result<Call, IntrinsicError> {
        parse::parse_call(text)
    }

    /// True when `text` looks like an intrinsic call (`States.` name followed by `(`), before full parsing.
    pub fn looks_like_call(text: &str) -> bool {
        let text = text.trim_start();
        text.starts_with("States.") && text.contains('(')
    }

    /// Evaluates the call; path arguments resolve against `scope`.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Value, IntrinsicError> {
        let mut args = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            args.push(match arg {
                Arg::Literal(v) => v.clone(),
                Arg::Template(pieces) => Value::String(parse::template_text(pieces)),
                Arg::Path(path) => {
                    path.evaluate(scope)
                        .map_err(|source| IntrinsicError::PathNotFound {
                            path: path.to_string(),
                            source,
                        })?
                }
                Arg::Call(call) => call.evaluate(scope)?,
            });
        }
        let template = match self.args.first() {
            Some(Arg::Template(pieces)) => Some(pieces.as_slice()),
            _ => None,
        };
        functions::apply(self.function, template, args)
    }
}

#[cfg(test)]
mod tests;
