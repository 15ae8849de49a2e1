//! What each intrinsic function computes, matching AWS's recorded results (Java semantics where they leak through,
//! e.g. `Math.round` in `States.MathAdd` and `Map.toString` in `States.Format`).

use base64::Engine as _;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use sha1::Digest as _;

use super::{Function, IntrinsicError, TemplatePiece};

/// AWS caps the input of `States.Base64Encode`/`Decode` at 10,000 characters.
const BASE64_MAX_CHARS: usize = 10_000;
/// AWS caps `States.ArrayRange` at 1,000 elements.
const ARRAY_RANGE_MAX_ITEMS: i64 = 1_000;

fn fail(function: Function, message: impl std::fmt::Display) -> IntrinsicError {
    IntrinsicError::Failure(format!("{function}: {message}"))
}

pub(super) fn apply(
    function: Function,
    template: Option<&[TemplatePiece]>,
    args: Vec<Value>,
) -> Result<Value, IntrinsicError> {
    let f = function;
    match function {
        Function::Format => format(f, template, &args),
        Function::StringToJson => {
            let text = string_arg(f, &args, 0)?;
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            let value: Value = serde_json::from_str(text)
                .map_err(|e| fail(f, format!("the argument is not valid JSON: {e}")))?;
            // serde_json reads `-0` as the float -0.0; Jackson, which AWS uses, reads it as the integer 0.
            if value.is_f64() && value.as_f64() == Some(0.0) && !text.contains(['.', 'e', 'E']) {
                return Ok(Value::from(0));
            }
            Ok(value)
        }
        Function::JsonToString => Ok(Value::String(args[0].to_string())),
        Function::Array => Ok(Value::Array(args)),
        Function::ArrayPartition => {
            let items = array_arg(f, &args, 0)?;
            let size = int_arg(f, &args, 1)?;
            let size = usize::try_from(size)
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| {
                    fail(
                        f,
                        format!("the chunk size must be a positive integer, got {size}"),
                    )
                })?;
            Ok(Value::Array(
                items
                    .chunks(size)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        Function::ArrayContains => Ok(Value::Bool(array_arg(f, &args, 0)?.contains(&args[1]))),
        Function::ArrayRange => {
            let (start, end, step) = (
                int_arg(f, &args, 0)?,
                int_arg(f, &args, 1)?,
                int_arg(f, &args, 2)?,
            );
            if step == 0 {
                return Err(fail(f, "the step cannot be 0"));
            }
            let count = if (end - start).signum() * step.signum() < 0 {
                0
            } else {
                (end - start) / step + 1
            };
            if count > ARRAY_RANGE_MAX_ITEMS {
                return Err(fail(
                    f,
                    format!("the range has {count} items, more than {ARRAY_RANGE_MAX_ITEMS}"),
                ));
            }
            Ok(Value::Array(
                (0..count).map(|i| Value::from(start + i * step)).collect(),
            ))
        }
        Function::ArrayGetItem => {
            let items = array_arg(f, &args, 0)?;
            let index = int_arg(f, &args, 1)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| {
                    fail(
                        f,
                        format!(
                            "index {index} is out of bounds for an array of {}",
                            items.len()
                        ),
                    )
                })
        }
        Function::ArrayLength => Ok(Value::from(array_arg(f, &args, 0)?.len())),
        Function::ArrayUnique => {
            let mut unique: Vec<Value> = Vec::new();
            for item in array_arg(f, &args, 0)? {
                if !unique.contains(item) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::Array(unique))
        }
        Function::Base64Encode => {
            let text = bounded_string_arg(f, &args)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text),
            ))
        }
        Function::Base64Decode => {
            let text = bounded_string_arg(f, &args)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| fail(f, format!("the argument is not valid base64: {e}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| fail(f, "the decoded bytes are not UTF-8 text"))
        }
        Function::Hash => {
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let algorithm = string_arg(f, &args, 1)?;
            Ok(Value::String(hash(f, algorithm, data.as_bytes())?))
        }
        Function::JsonMerge => {
            let (Value::Object(left), Value::Object(right)) = (&args[0], &args[1]) else {
                return Err(fail(f, "both arguments must be JSON objects"));
            };
            if args[2] != Value::Bool(false) {
                return Err(fail(
                    f,
                    "only a shallow merge (third argument false) is supported",
                ));
            }
            let mut merged: Map<String, Value> = left.clone();
            merged.extend(right.iter().map(|(k, v)| (k.clone(), v.clone())));
            Ok(Value::Object(merged))
        }
        Function::MathRandom => {
            let (start, end) = (int_arg(f, &args, 0)?, int_arg(f, &args, 1)?);
            if start >= end {
                return Err(fail(
                    f,
                    format!("the start {start} must be less than the end {end}"),
                ));
            }
            let value = match args.get(2) {
                Some(_) => {
                    let seed = int_arg(f, &args, 2)?;
                    rand::rngs::StdRng::seed_from_u64(seed.unsigned_abs()).random_range(start..end)
                }
                None => rand::rng().random_range(start..end),
            };
            Ok(Value::from(value))
        }
        Function::MathAdd => {
            let sum = java_round(f, &args[0])?.checked_add(java_round(f, &args[1])?);
            sum.map(Value::from)
                .ok_or_else(|| fail(f, "the sum overflows"))
        }
        Function::StringSplit => {
            let text = string_arg(f, &args, 0)?;
            let delimiters = string_arg(f, &args, 1)?;
            Ok(Value::Array(
                text.split(|c| delimiters.contains(c))
                    .filter(|part| !part.is_empty())
                    .map(|part| Value::String(part.to_owned()))
                    .collect(),
            ))
        }
        Function::Uuid => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
    }
}

fn format(
    f: Function,
    template: Option<&[TemplatePiece]>,
    args: &[Value],
) -> Result<Value, IntrinsicError> {
    let runtime_pieces;
    let pieces = match template {
        Some(pieces) => pieces,
        None => {
            let text = string_arg(f, args, 0)?;
            runtime_pieces = split_placeholders(text);
            &runtime_pieces
        }
    };
    let values = &args[1..];
    let placeholders = pieces
        .iter()
        .filter(|p| **p == TemplatePiece::Placeholder)
        .count();
    if placeholders != values.len() {
        return Err(fail(
            f,
            format!(
                "the template has {placeholders} placeholder(s) but {} argument(s) were given",
                values.len()
            ),
        ));
    }
    let mut values = values.iter();
    let mut out = String::new();
    for piece in pieces {
        match piece {
            TemplatePiece::Text(text) => out.push_str(text),
            TemplatePiece::Placeholder => {
                if let Some(value) = values.next() {
                    java_to_string(value, &mut out);
                }
            }
        }
    }
    Ok(Value::String(out))
}

fn split_placeholders(text: &str) -> Vec<TemplatePiece> {
    let mut pieces = Vec::new();
    for (i, part) in text.split("{}").enumerate() {
        if i > 0 {
            pieces.push(TemplatePiece::Placeholder);
        }
        if !part.is_empty() {
            pieces.push(TemplatePiece::Text(part.to_owned()));
        }
    }
    pieces
}

/// AWS renders a `States.Format` argument with Java's `toString`: strings bare, objects as `{k=v, ...}`, lists as
/// `[a, b]`.
fn java_to_string(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_to_string(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                java_to_string(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Java's `Math.round`: halves round towards positive infinity (`-1.5` becomes `-1`).
fn java_round(f: Function, value: &Value) -> Result<i64, IntrinsicError> {
    if let Some(i) = value.as_i64() {
        return Ok(i);
    }
    let x = value
        .as_f64()
        .ok_or_else(|| fail(f, format!("expected a number, got {value}")))?;
    let rounded = (x + 0.5).floor();
    if rounded.is_finite() && rounded.abs() < 9.0e18 {
        // The bound check above keeps the conversion exact.
        #[allow(clippy::cast_possible_truncation)]
        Ok(rounded as i64)
    } else {
        Err(fail(f, format!("{x} is out of range")))
    }
}

fn hash(f: Function, algorithm: &str, data: &[u8]) -> Result<String, IntrinsicError> {
    Ok(match algorithm {
        "MD5" => hex::encode(md5::Md5::digest(data)),
        "SHA-1" => hex::encode(sha1::Sha1::digest(data)),
        "SHA-256" => hex::encode(sha2::Sha256::digest(data)),
        "SHA-384" => hex::encode(sha2::Sha384::digest(data)),
        "SHA-512" => hex::encode(sha2::Sha512::digest(data)),
        other => {
            return Err(fail(
                f,
                format!("unsupported algorithm '{other}' (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"),
            ));
        }
    })
}

fn string_arg(f: Function, args: &[Value], i: usize) -> Result<&str, IntrinsicError> {
    args.get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| fail(f, format!("argument {} must be a string", i + 1)))
}

fn bounded_string_arg(f: Function, args: &[Value]) -> Result<&str, IntrinsicError> {
    let text = string_arg(f, args, 0)?;
    if text.chars().count() > BASE64_MAX_CHARS {
        return Err(fail(
            f,
            format!("the input is longer than {BASE64_MAX_CHARS} characters"),
        ));
    }
    Ok(text)
}

fn array_arg(f: Function, args: &[Value], i: usize) -> Result<&[Value], IntrinsicError> {
    args.get(i)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| fail(f, format!("argument {} must be an array", i + 1)))
}

fn int_arg(f: Function, args: &[Value], i: usize) -> Result<i64, IntrinsicError> {
    let value = args
        .get(i)
        .ok_or_else(|| fail(f, format!("argument {} is missing", i + 1)))?;
    if let Some(n) = value.as_i64() {
        return Ok(n);
    }
    match value.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e18 => {
            // An integral float such as 3.0; the bound check keeps the conversion exact.
            #[allow(clippy::cast_possible_truncation)]
            Ok(x as i64)
        }
        _ => Err(fail(
            f,
            format!("argument {} must be an integer, got {value}", i + 1),
        )),
    }
}
