//! Evaluating Choice rule conditions. Comparisons between mismatched types are false, as on AWS; a `Variable` that
//! names nothing is a `States.Runtime` error except under `IsPresent`.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::failure::At;
use super::failure::Failure;
use crate::model::{Comparison, Condition, Operand};
use crate::path::Scope;

pub(crate) fn evaluate(
    at: At<'_>,
    condition: &Condition,
    scope: &Scope<'_>,
) -> Result<bool, Failure> {
    match condition {
        Condition::And(all) => {
            for c in all {
                if !evaluate(at, c, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(any) => {
            for c in any {
                if evaluate(at, c, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(inner) => Ok(!evaluate(at, inner, scope)?),
        Condition::Jsonata(_) => {
            Err(at.runtime("JSONata conditions are not supported by this engine"))
        }
        Condition::Compare {
            variable,
            op,
            operand,
        } => {
            let value = match variable.evaluate(scope) {
                Ok(v) => Some(v),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(at.invalid_path(variable.as_str(), &e)),
            };
            if *op == Comparison::IsPresent {
                return Ok(Some(value.is_some()) == operand_bool(operand));
            }
            let Some(value) = value else {
                return Err(at.runtime(format!(
                    "Invalid path '{}': The choice state's condition path references an invalid value.",
                    variable.as_str()
                )));
            };
            let expected = match operand {
                Operand::Literal(v) => v.clone(),
                Operand::Path(p) => p
                    .evaluate(scope)
                    .map_err(|e| at.invalid_path(p.as_str(), &e))?,
            };
            Ok(compare(&value, *op, &expected))
        }
    }
}

fn operand_bool(operand: &Operand) -> Option<bool> {
    match operand {
        Operand::Literal(Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn compare(value: &Value, op: Comparison, expected: &Value) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let type_test = |is: bool| expected.as_bool() == Some(is);
    match op {
        Comparison::IsNull => type_test(value.is_null()),
        Comparison::IsNumeric => type_test(value.is_number()),
        Comparison::IsString => type_test(value.is_string()),
        Comparison::IsBoolean => type_test(value.is_boolean()),
        Comparison::IsTimestamp => type_test(value.as_str().and_then(parse_timestamp).is_some()),
        Comparison::IsPresent => type_test(true),
        Comparison::StringMatches => match (value.as_str(), expected.as_str()) {
            (Some(v), Some(pattern)) => string_matches(v, pattern),
            _ => false,
        },
        Comparison::BooleanEquals => {
            matches!((value, expected), (Value::Bool(a), Value::Bool(b)) if a == b)
        }
        _ => {
            let ordering = match op {
                Comparison::StringEquals
                | Comparison::StringLessThan
                | Comparison::StringGreaterThan
                | Comparison::StringLessThanEquals
                | Comparison::StringGreaterThanEquals => {
                    match (value.as_str(), expected.as_str()) {
                        (Some(a), Some(b)) => Some(a.cmp(b)),
                        _ => None,
                    }
                }
                Comparison::NumericEquals
                | Comparison::NumericLessThan
                | Comparison::NumericGreaterThan
                | Comparison::NumericLessThanEquals
                | Comparison::NumericGreaterThanEquals => match (value, expected) {
                    (Value::Number(a), Value::Number(b)) => a
                        .as_f64()
                        .zip(b.as_f64())
                        .and_then(|(a, b)| a.partial_cmp(&b)),
                    _ => None,
                },
                _ => match (
                    value.as_str().and_then(parse_timestamp),
                    expected.as_str().and_then(parse_timestamp),
                ) {
                    (Some(a), Some(b)) => Some(a.cmp(&b)),
                    _ => None,
                },
            };
            let Some(ordering) = ordering else {
                return false;
            };
            match op {
                Comparison::StringEquals
                | Comparison::NumericEquals
                | Comparison::TimestampEquals => ordering == Equal,
                Comparison::StringLessThan
                | Comparison::NumericLessThan
                | Comparison::TimestampLessThan => ordering == Less,
                Comparison::StringGreaterThan
                | Comparison::NumericGreaterThan
                | Comparison::TimestampGreaterThan => ordering == Greater,
                Comparison::StringLessThanEquals
                | Comparison::NumericLessThanEquals
                | Comparison::TimestampLessThanEquals => ordering != Greater,
                _ => ordering != Less,
            }
        }
    }
}

/// ASL timestamps are RFC 3339 with an uppercase `T` and an explicit offset or `Z`.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    if text.len() < 20 || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(text).ok()
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are a literal `*` and `\`. Glob crates treat
/// `?`, `[` and `{` as special too, which ASL does not, hence this small matcher.
fn string_matches(value: &str, pattern: &str) -> bool {
    #[derive(PartialEq)]
    enum Token {
        Char(char),
        Star,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => tokens.push(Token::Char(next)),
                None => tokens.push(Token::Char('\\')),
            },
            '*' => tokens.push(Token::Star),
            c => tokens.push(Token::Char(c)),
        }
    }
    let text: Vec<char> = value.chars().collect();
    // Classic wildcard matching with backtracking to the last star.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Token::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|tok| *tok == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        assert!(string_matches("log-2024.txt", "log-*.txt"));
        assert!(string_matches("anything", "*"));
        assert!(string_matches("a*b", "a\\*b"));
        assert!(!string_matches("axb", "a\\*b"));
        assert!(!string_matches("log.csv", "log-*.txt"));
        assert!(string_matches("", "*"));
        assert!(string_matches("abcabc", "*abc"));
    }

    #[test]
    fn timestamps_need_t_and_offset() {
        assert!(parse_timestamp("2016-03-14T01:59:00Z").is_some());
        assert!(parse_timestamp("2016-03-14T01:59:00.123+02:00").is_some());
        assert!(parse_timestamp("2016-03-14T01:59:00").is_none());
        assert!(parse_timestamp("2016-03-14 01:59:00Z").is_none());
    }

    #[test]
    fn mismatched_types_are_false() {
        assert!(!compare(
            &Value::from("1"),
            Comparison::NumericEquals,
            &Value::from(1)
        ));
        assert!(compare(
            &Value::from(1),
            Comparison::NumericEquals,
            &Value::from(1.0)
        ));
        assert!(!compare(
            &Value::Null,
            Comparison::StringEquals,
            &Value::from("null")
        ));
        assert!(compare(
            &Value::from("b"),
            Comparison::StringGreaterThan,
            &Value::from("a")
        ));
        assert!(compare(
            &Value::from("2020-01-01T00:00:00Z"),
            Comparison::TimestampLessThan,
            &Value::from("2020-01-01T01:00:00+00:00")
        ));
    }
}
