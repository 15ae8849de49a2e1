//! JSONata as Step Functions runs it: the `jsonata-core` engine plus AWS's dialect.
//!
//! AWS binds `$states` (`input`, `result`, `errorOutput`, `context`) and the workflow variables, adds `$partition`,
//! `$range`, `$hash`, `$random(seed)`, `$uuid` and `$parse`, and removes `$eval`. The core engine was chosen by
//! measuring it and `jsonata-rs` on the JSONata reference suite (`tests/jsonata_suite.rs`, figures in the README).
//!
//! `jsonata-core` values are `Rc`-based and not `Send`: every evaluation converts from and to `serde_json` inside one
//! synchronous call, so nothing of the engine lives across an `.await`.

mod functions;
mod range_guard;

use jsonata_core::evaluator::{Context, Evaluator, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonataError {
    /// The expression does not parse (AWS rejects such a definition when it is created).
    #[error("{0}")]
    Syntax(String),
    /// Evaluation raised an error, e.g. `T1006: Attempted to invoke a non-function`.
    #[error("{0}")]
    Evaluation(String),
    /// The result is a function or a regex, which has no JSON form.
    #[error("the expression returned an unsupported result type")]
    Unsupported,
}

/// Evaluation stops with D1011 past this many nested levels, well within the engine's own stack handling.
const MAX_EVAL_DEPTH: usize = 10_000;
/// A single expression may not run longer than this; AWS's own limit is not documented, and a state machine that
/// evaluates for a minute is broken either way.
const EVAL_TIMEOUT_MS: u64 = 60_000;

/// Checks the syntax of an expression body (what sits between `{%` and `%}`).
pub fn check_syntax(body: &str) -> Result<(), JsonataError> {
    jsonata_core::parser::parse(body)
        .map(|_| ())
        .map_err(|e| JsonataError::Syntax(e.display_message()))
}

/// Variables an expression can see: `$states` and the workflow variables in scope.
pub struct Bindings<'a> {
    pub states: &'a Value,
    pub variables: Vec<(&'a str, &'a Value)>,
}

/// Evaluates an expression body. `Ok(None)` is JSONata's `undefined`.
pub fn evaluate(body: &str, bindings: &Bindings<'_>) -> Result<Option<Value>, JsonataError> {
    let mut ast =
        jsonata_core::parser::parse(body).map_err(|e| JsonataError::Syntax(e.display_message()))?;
    range_guard::guard(&mut ast);
    let mut context = Context::new();
    for (name, value) in &bindings.variables {
        context.bind((*name).to_owned(), to_jvalue(value));
    }
    context.bind("states".to_owned(), to_jvalue(bindings.states));
    let options = EvaluatorOptions {
        timeout_ms: Some(EVAL_TIMEOUT_MS),
        max_stack_depth: Some(MAX_EVAL_DEPTH),
        ..EvaluatorOptions::default()
    };
    let mut evaluator = Evaluator::with_options(context, options);
    functions::register(&mut evaluator)?;
    // AWS evaluates with no input document: `$` is undefined at the top level.
    let result = evaluator
        .evaluate(&ast, &JValue::Undefined)
        .map_err(|e| JsonataError::Evaluation(aws_message(e.message())))?;
    from_jvalue(&result)
}

/// jsonata-core's message in the words AWS (a Java JSONata) uses where they differ and AWS's are recorded.
fn aws_message(message: &str) -> String {
    const NOT_A_FUNCTION: &str = "T1006: Attempted to invoke a non-function";
    if message.starts_with(NOT_A_FUNCTION) {
        return NOT_A_FUNCTION.to_owned();
    }
    message.to_owned()
}

pub(crate) fn to_jvalue(value: &Value) -> JValue {
    JValue::from(value.clone())
}

/// Converts a result to JSON. Whole numbers come back as integers, as AWS (a Java JSONata) writes them.
pub(crate) fn from_jvalue(value: &JValue) -> Result<Option<Value>, JsonataError> {
    fn convert(value: &JValue) -> Result<Option<Value>, JsonataError> {
        Ok(Some(match value {
            JValue::Undefined => return Ok(None),
            JValue::Null => Value::Null,
            JValue::Bool(b) => Value::Bool(*b),
            JValue::Number(n) => number(*n),
            JValue::String(s) => Value::String(s.to_string()),
            JValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    if let Some(v) = convert(item)? {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            JValue::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map.iter() {
                    if let Some(v) = convert(v)? {
                        out.insert(k.clone(), v);
                    }
                }
                Value::Object(out)
            }
            _ => return Err(JsonataError::Unsupported),
        }))
    }
    convert(value)
}

fn number(n: f64) -> Value {
    // 2^53: above it an f64 no longer holds every integer, and AWS prints such numbers in exponent form anyway.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        // Exact: a whole number within ±2^53.
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// The JSONata type name AWS reports in its messages (`'array'`, `'number'`, ...).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// True for a string AWS evaluates as JSONata: `{%` at the very start, `%}` at the very end.
pub fn is_expression(text: &str) -> bool {
    text.starts_with("{%") && text.ends_with("%}") && text.len() >= 4
}

/// The expression inside `{% %}`, trimmed as AWS quotes it in messages.
pub fn body(text: &str) -> Option<&str> {
    is_expression(text).then(|| text[2..text.len() - 2].trim())
}

#[cfg(test)]
mod tests;
