//! Parser for intrinsic calls. String literals use single quotes; AWS reserves `'`, `{`, `}` and `\`, each escaped
//! with a backslash. Any other backslash sequence is kept verbatim, so JSON text such as `{\"a\": 1}` reaches
//! `States.StringToJson` unchanged.

use serde_json::Value;

use super::{Arg, Call, Function, IntrinsicError, TemplatePiece};
use crate::path::Path;

/// How deeply intrinsic calls may nest (`States.Array(States.Array(...))`). The parser recurses once per level; the
/// bound turns a hostile definition (20,000 levels in 280 KB) into a syntax error instead of a stack overflow.
pub const MAX_NESTING: usize = 100;

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn error(&self, reason: impl Into<String>) -> IntrinsicError {
        IntrinsicError::Syntax {
            text: self.text.to_owned(),
            offset: self.pos,
            reason: reason.into(),
        }
    }
}

pub(super) fn parse_call(text: &str) -> Result<Call, IntrinsicError> {
    let mut cur = Cursor {
        text,
        pos: 0,
        depth: 0,
    };
    cur.skip_ws();
    let call = call_at(&mut cur)?;
    cur.skip_ws();
    if cur.pos != text.len() {
        return Err(cur.error("unexpected text after the call"));
    }
    Ok(call)
}

fn call_at(cur: &mut Cursor<'_>) -> Result<Call, IntrinsicError> {
    if cur.depth >= MAX_NESTING {
        return Err(cur.error(format!(
            "intrinsic calls nest more than {MAX_NESTING} levels deep"
        )));
    }
    cur.depth += 1;
    let call = call_body(cur);
    cur.depth -= 1;
    call
}

fn call_body(cur: &mut Cursor<'_>) -> Result<Call, IntrinsicError> {
    let start = cur.pos;
    while cur
        .peek()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
    {
        cur.bump();
    }
    let name = &cur.text[start..cur.pos];
    if name.is_empty() {
        return Err(cur.error("expected a function name"));
    }
    let function = Function::from_name(name).ok_or_else(|| IntrinsicError::UnknownFunction {
        name: name.to_owned(),
    })?;
    cur.skip_ws();
    if cur.bump() != Some('(') {
        return Err(cur.error("expected '('"));
    }
    let mut args = Vec::new();
    cur.skip_ws();
    if cur.peek() == Some(')') {
        cur.bump();
    } else {
        loop {
            cur.skip_ws();
            let is_template = function == Function::Format && args.is_empty();
            args.push(arg_at(cur, is_template)?);
            cur.skip_ws();
            match cur.bump() {
                Some(',') => continue,
                Some(')') => break,
                _ => return Err(cur.error("expected ',' or ')'")),
            }
        }
    }
    let (min, max) = function.arity();
    if args.len() < min || max.is_some_and(|max| args.len() > max) {
        let expected = match max {
            Some(max) if max == min => min.to_string(),
            Some(max) => format!("{min} to {max}"),
            None => format!("at least {min}"),
        };
        return Err(IntrinsicError::Arity {
            function,
            expected,
            got: args.len(),
        });
    }
    Ok(Call { function, args })
}

fn arg_at(cur: &mut Cursor<'_>, is_template: bool) -> Result<Arg, IntrinsicError> {
    match cur.peek() {
        Some('\'') => {
            let pieces = string_at(cur)?;
            if is_template {
                Ok(Arg::Template(pieces))
            } else {
                Ok(Arg::Literal(Value::String(template_text(&pieces))))
            }
        }
        Some('$') => path_at(cur),
        Some('S') if cur.rest().starts_with("States.") => Ok(Arg::Call(call_at(cur)?)),
        Some(c) if c == '-' || c.is_ascii_digit() => {
            let start = cur.pos;
            cur.bump();
            while cur
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(c))
            {
                cur.bump();
            }
            let text = &cur.text[start..cur.pos];
            serde_json::from_str::<Value>(text)
                .ok()
                .filter(Value::is_number)
                .map(Arg::Literal)
                .ok_or_else(|| cur.error(format!("invalid number '{text}'")))
        }
        _ => {
            for (word, value) in [
                ("true", Value::Bool(true)),
                ("false", Value::Bool(false)),
                ("null", Value::Null),
            ] {
                if cur.rest().starts_with(word) {
                    cur.pos += word.len();
                    return Ok(Arg::Literal(value));
                }
            }
            Err(cur.error("expected a string, number, boolean, null, path or intrinsic call"))
        }
    }
}

/// A path argument runs until the `,` or `)` that ends the argument, skipping over brackets and quoted names.
fn path_at(cur: &mut Cursor<'_>) -> Result<Arg, IntrinsicError> {
    let start = cur.pos;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    while let Some(c) = cur.peek() {
        match (quote, c) {
            (Some(q), '\\') if cur.rest()[1..].starts_with(q) => {
                cur.bump();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') if depth > 0 => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') if depth > 0 => depth -= 1,
            (None, ',' | ')') => break,
            _ => {}
        }
        cur.bump();
    }
    let text = cur.text[start..cur.pos].trim_end();
    Path::parse(text)
        .map(Arg::Path)
        .map_err(IntrinsicError::BadPath)
}

fn string_at(cur: &mut Cursor<'_>) -> Result<Vec<TemplatePiece>, IntrinsicError> {
    cur.bump();
    let mut pieces = Vec::new();
    let mut text = String::new();
    loop {
        match cur.bump() {
            None => return Err(cur.error("unterminated string literal")),
            Some('\'') => break,
            // AWS knows exactly these four escapes inside intrinsic string literals and refuses any
            // other (its recorded verdicts reject `\"`).
            Some('\\') => match cur.peek() {
                Some(c @ ('\'' | '{' | '}' | '\\')) => {
                    text.push(c);
                    cur.bump();
                }
                Some(other) => {
                    return Err(cur.error(format!(
                        "invalid escape \\{other} in a string literal (only \\', \\{{, \\}} and \\\\ are allowed)"
                    )));
                }
                None => return Err(cur.error("unterminated string literal")),
            },
            Some('{') if cur.peek() == Some('}') => {
                cur.bump();
                if !text.is_empty() {
                    pieces.push(TemplatePiece::Text(std::mem::take(&mut text)));
                }
                pieces.push(TemplatePiece::Placeholder);
            }
            Some(c) => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(TemplatePiece::Text(text));
    }
    Ok(pieces)
}

/// The literal's text with each placeholder written back as `{}`.
pub(super) fn template_text(pieces: &[TemplatePiece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            TemplatePiece::Text(t) => t.as_str(),
            TemplatePiece::Placeholder => "{}",
        })
        .collect()
}
