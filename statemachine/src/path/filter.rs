//! Filter expressions (`[?(@.price < 10 && @.tag)]`), with Jayway's comparison rules: numbers compare numerically,
//! strings lexically, and a comparison across types (or with a missing value) is false, except `!=`.

use std::cmp::Ordering;

use serde_json::Value;

use super::Segment;
use super::eval::select_all;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `@.x`: the relative path matches something.
    Exists(Operand),
    Compare(Operand, CompareOp, Operand),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `@...`: relative to the array element or object member under test.
    Current(Vec<Segment>),
    /// `$...`: relative to the document root.
    Root(Vec<Segment>),
    Literal(Value),
}

impl Filter {
    pub(super) fn matches(&self, current: &Value, root: &Value) -> bool {
        match self {
            Filter::Exists(operand) => resolve(operand, current, root).is_some(),
            Filter::Compare(left, op, right) => {
                let (left, right) = (resolve(left, current, root), resolve(right, current, root));
                match (left, right) {
                    (Some(l), Some(r)) => compare(&l, *op, &r),
                    _ => *op == CompareOp::Ne,
                }
            }
            Filter::And(a, b) => a.matches(current, root) && b.matches(current, root),
            Filter::Or(a, b) => a.matches(current, root) || b.matches(current, root),
            Filter::Not(inner) => !inner.matches(current, root),
        }
    }
}

fn resolve(operand: &Operand, current: &Value, root: &Value) -> Option<Value> {
    let (segments, start) = match operand {
        Operand::Literal(v) => return Some(v.clone()),
        Operand::Current(segments) => (segments, current),
        Operand::Root(segments) => (segments, root),
    };
    let mut found = Vec::new();
    select_all(segments, start, root, &mut found);
    let definite = segments.iter().all(|s| {
        matches!(
            s,
            Segment::Child(super::Selector::Name(_) | super::Selector::Index(_))
        )
    });
    if definite {
        found.first().map(|v| (*v).clone())
    } else if found.is_empty() {
        None
    } else {
        Some(Value::Array(found.into_iter().cloned().collect()))
    }
}

fn compare(left: &Value, op: CompareOp, right: &Value) -> bool {
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => None,
        },
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (a, b) if a == b => Some(Ordering::Equal),
        _ => None,
    };
    match op {
        CompareOp::Eq => ordering == Some(Ordering::Equal),
        CompareOp::Ne => ordering != Some(Ordering::Equal),
        CompareOp::Lt => ordering == Some(Ordering::Less),
        CompareOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Gt => ordering == Some(Ordering::Greater),
        CompareOp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
    }
}
