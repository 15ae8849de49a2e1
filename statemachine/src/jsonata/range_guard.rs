//! jsonata-core (2.2.13) sizes a range `a..b` as `b - a + 1` in `i64`. Operands beyond ±2^62 overflow that
//! sum: with overflow checks (debug and fuzz builds) it panics, and without them `-1e19..1e19` wraps to a size of 0,
//! passes the 10,000,000-item limit, and loops 2^64 times filling memory. `make fuzz` (target `jsonata`) found it
//! with `0..1e100`. Until the crate checks its arithmetic, every operand of `..` first passes through
//! [`OPERAND_FN`], which refuses a number beyond ±2^53 - 1, the largest integers a double holds exactly: a range
//! from or to such a number is either over the item limit or made of numbers that cannot be told apart.

use jsonata_core::ast::{AstNode, BinaryOp, PathStep, Stage};
use jsonata_core::evaluator::{EvaluatorError, HostFnResult};
use jsonata_core::value::JValue;

/// The host function that checks a range operand (a name no JSONata built-in or AWS function uses).
pub(super) const OPERAND_FN: &str = "__range_operand";

/// JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// The operand as it is, unless it is a number too large for a range.
pub(super) fn check_operand(args: &[JValue]) -> HostFnResult {
    let operand = args.first().cloned().unwrap_or(JValue::Undefined);
    if let JValue::Number(n) = operand
        && n.abs() > MAX_SAFE_INTEGER
    {
        return Err(EvaluatorError::EvaluationError(format!(
            "D2014: Range operator results in too many elements (an operand of {n} is beyond ±{MAX_SAFE_INTEGER})"
        )));
    }
    Ok(operand)
}

/// Wraps both operands of every range in the tree in a call to [`OPERAND_FN`]. The parser bounds the tree's depth
/// (1,000 levels), which bounds this recursion too.
pub(super) fn guard(node: &mut AstNode) {
    match node {
        AstNode::Binary { op, lhs, rhs } => {
            guard(lhs);
            guard(rhs);
            if *op == BinaryOp::Range {
                wrap(lhs);
                wrap(rhs);
            }
        }
        AstNode::Path { steps } => steps.iter_mut().for_each(guard_step),
        AstNode::Unary { operand, .. } => guard(operand),
        AstNode::Function { args, .. } => args.iter_mut().for_each(guard),
        AstNode::Call { procedure, args } => {
            guard(procedure);
            args.iter_mut().for_each(guard);
        }
        AstNode::Lambda { body, .. } => guard(body),
        AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
            items.iter_mut().for_each(guard)
        }
        AstNode::Object(pairs) => pairs.iter_mut().for_each(guard_pair),
        AstNode::ObjectTransform { input, pattern } => {
            guard(input);
            pattern.iter_mut().for_each(guard_pair);
        }
        AstNode::Conditional {
            condition,
            then_branch,
            else_branch,
        } => {
            guard(condition);
            guard(then_branch);
            if let Some(other) = else_branch {
                guard(other);
            }
        }
        AstNode::FunctionApplication(inner) => guard(inner),
        AstNode::Sort { input, terms } => {
            guard(input);
            terms.iter_mut().for_each(|(term, _)| guard(term));
        }
        AstNode::Transform {
            location,
            update,
            delete,
        } => {
            guard(location);
            guard(update);
            if let Some(delete) = delete {
                guard(delete);
            }
        }
        AstNode::String(_)
        | AstNode::Name(_)
        | AstNode::Number(_)
        | AstNode::Boolean(_)
        | AstNode::Null
        | AstNode::Undefined
        | AstNode::Placeholder
        | AstNode::Regex { .. }
        | AstNode::Variable(_)
        | AstNode::ParentVariable(_)
        | AstNode::Wildcard
        | AstNode::Descendant
        | AstNode::Parent(_) => {}
    }
}

fn guard_step(step: &mut PathStep) {
    guard(&mut step.node);
    for stage in &mut step.stages {
        if let Stage::Filter(filter) = stage {
            guard(filter);
        }
    }
}

fn guard_pair((key, value): &mut (AstNode, AstNode)) {
    guard(key);
    guard(value);
}

fn wrap(operand: &mut AstNode) {
    let inner = std::mem::replace(operand, AstNode::Undefined);
    *operand = AstNode::Function {
        name: OPERAND_FN.to_owned(),
        args: vec![inner],
        is_builtin: true,
    };
}
