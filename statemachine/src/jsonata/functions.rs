//! The functions Step Functions adds to JSONata, and the one it takes away.
//!
//! `$partition`, `$range`, `$hash`, `$uuid` and `$parse` are AWS's JSONata faces of the intrinsics
//! `States.ArrayPartition`, `States.ArrayRange`, `States.Hash`, `States.UUID` and `States.StringToJson`, so they share
//! the intrinsics' implementation (and limits, such as 1,000 items for a range).

use jsonata_core::evaluator::{Evaluator, EvaluatorError, HostFnResult};
use jsonata_core::value::JValue;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::{JsonataError, from_jvalue, to_jvalue};
use crate::intrinsic::{Function, apply_function};

/// What jsonata-js says when an expression calls something that is not a function, as AWS does for `$eval`.
const NOT_A_FUNCTION: &str = "T1006: Attempted to invoke a non-function";

pub(super) fn register(evaluator: &mut Evaluator) -> Result<(), JsonataError> {
    let setup = |e: EvaluatorError| JsonataError::Evaluation(e.message().to_owned());
    evaluator
        .register_fn("partition", intrinsic(Function::ArrayPartition, 2))
        .map_err(setup)?;
    evaluator
        .register_fn("range", intrinsic(Function::ArrayRange, 3))
        .map_err(setup)?;
    evaluator
        .register_fn("hash", intrinsic(Function::Hash, 2))
        .map_err(setup)?;
    evaluator
        .register_fn("uuid", intrinsic(Function::Uuid, 0))
        .map_err(setup)?;
    evaluator
        .register_fn("parse", intrinsic(Function::StringToJson, 1))
        .map_err(setup)?;
    evaluator
        .register_fn(
            super::range_guard::OPERAND_FN,
            super::range_guard::check_operand,
        )
        .map_err(setup)?;
    evaluator
        .register_fn_override("random", random)
        .map_err(setup)?;
    evaluator
        .register_fn_override("eval", |_: &[JValue]| -> HostFnResult {
            Err(EvaluatorError::TypeError(NOT_A_FUNCTION.to_owned()))
        })
        .map_err(setup)?;
    Ok(())
}

fn intrinsic(function: Function, arity: usize) -> impl Fn(&[JValue]) -> HostFnResult {
    move |args: &[JValue]| {
        if args.len() != arity {
            return Err(EvaluatorError::TypeError(format!(
                "T0410: ${} expects {arity} argument(s), got {}",
                aws_name(function),
                args.len()
            )));
        }
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(json_arg(arg)?);
        }
        let result = apply_function(function, values)
            .map_err(|e| EvaluatorError::EvaluationError(e.to_string()))?;
        Ok(to_jvalue(&result))
    }
}

fn aws_name(function: Function) -> &'static str {
    match function {
        Function::ArrayPartition => "partition",
        Function::ArrayRange => "range",
        Function::Hash => "hash",
        Function::Uuid => "uuid",
        Function::StringToJson => "parse",
        _ => "function",
    }
}

fn json_arg(arg: &JValue) -> Result<Value, EvaluatorError> {
    from_jvalue(arg)
        .map_err(|e| EvaluatorError::TypeError(e.to_string()))?
        .ok_or_else(|| EvaluatorError::TypeError("T0410: an argument is undefined".to_owned()))
}

/// `$random()` as in JSONata, or `$random(seed)`: the same seed always gives the same number in `[0, 1)`. AWS's
/// seeded sequence (a JVM's) is not reproduced, only its determinism.
fn random(args: &[JValue]) -> HostFnResult {
    let value: f64 = match args {
        [] => rand::rng().random(),
        [seed] => {
            let seed = seed.as_f64().ok_or_else(|| {
                EvaluatorError::TypeError("T0410: the seed of $random must be a number".to_owned())
            })?;
            rand::rngs::StdRng::seed_from_u64(seed.to_bits()).random()
        }
        _ => {
            return Err(EvaluatorError::TypeError(
                "T0410: $random takes at most one argument (a seed)".to_owned(),
            ));
        }
    };
    Ok(JValue::Number(value))
}
