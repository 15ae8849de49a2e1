//! Recursive-descent parser for Jayway-style JSONPath.

use serde_json::Value;

use super::filter::{CompareOp, Filter, Operand};
use super::{PathError, Root, Segment, Selector};

/// How deeply filter expressions may nest (`!`, parentheses, filters inside filters). The parser recurses once per
/// level; the bound turns a hostile path into a syntax error instead of a stack overflow.
pub const MAX_NESTING: usize = 100;

pub(super) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Cursor {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// Runs one nested level of the grammar, refusing to go past [`MAX_NESTING`].
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, PathError>,
    ) -> Result<T, PathError> {
        if self.depth >= MAX_NESTING {
            return Err(self.error(format!(
                "filter expressions nest more than {MAX_NESTING} levels deep"
            )));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

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

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, reason: impl Into<String>) -> PathError {
        PathError::Syntax {
            path: self.text.to_owned(),
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), PathError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(format!("expected '{s}'")))
        }
    }
}

/// Where a dot-notation name ends: at the top level only `.` and `[` end it; inside a filter expression, operators,
/// whitespace and parentheses do too.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    TopLevel,
    Filter,
}

pub(super) fn parse_path(text: &str) -> Result<(Root, Vec<Segment>), PathError> {
    let mut cur = Cursor::new(text);
    let root = parse_root(&mut cur)?;
    let segments = parse_segments(&mut cur, Context::TopLevel)?;
    if cur.pos != text.len() {
        return Err(cur.error("unexpected character"));
    }
    Ok((root, segments))
}

fn parse_root(cur: &mut Cursor<'_>) -> Result<Root, PathError> {
    if !cur.eat("$") {
        return Err(cur.error("a path must start with '$'"));
    }
    if cur.eat("$") {
        return Ok(Root::Context);
    }
    let start = cur.pos;
    while cur.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
        cur.bump();
    }
    if cur.pos == start {
        return Ok(Root::Input);
    }
    let name = &cur.text[start..cur.pos];
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(cur.error("a variable name cannot start with a digit"));
    }
    Ok(Root::Variable(name.to_owned()))
}

fn parse_segments(cur: &mut Cursor<'_>, ctx: Context) -> Result<Vec<Segment>, PathError> {
    let mut segments = Vec::new();
    loop {
        if cur.eat("..") {
            let selector = if cur.peek() == Some('[') {
                cur.bump();
                parse_bracket(cur)?
            } else {
                parse_dot_selector(cur, ctx)?
            };
            segments.push(Segment::Descendant(selector));
        } else if cur.eat(".") {
            segments.push(Segment::Child(parse_dot_selector(cur, ctx)?));
        } else if cur.eat("[") {
            segments.push(Segment::Child(parse_bracket(cur)?));
        } else {
            return Ok(segments);
        }
    }
}

fn parse_dot_selector(cur: &mut Cursor<'_>, ctx: Context) -> Result<Selector, PathError> {
    if cur.eat("*") {
        return Ok(Selector::Wildcard);
    }
    let start = cur.pos;
    while let Some(c) = cur.peek() {
        let ends = match ctx {
            Context::TopLevel => c == '.' || c == '[',
            Context::Filter => {
                c == '.' || c == '[' || c.is_whitespace() || "()=!<>&|,]".contains(c)
            }
        };
        if ends {
            break;
        }
        cur.bump();
    }
    if cur.pos == start {
        return Err(cur.error("expected a property name"));
    }
    Ok(Selector::Name(cur.text[start..cur.pos].to_owned()))
}

/// Parses what follows `[` up to and including `]`.
fn parse_bracket(cur: &mut Cursor<'_>) -> Result<Selector, PathError> {
    cur.skip_ws();
    let selector = match cur.peek() {
        Some('*') => {
            cur.bump();
            Selector::Wildcard
        }
        Some('?') => {
            cur.bump();
            cur.skip_ws();
            cur.expect("(")?;
            let filter = parse_or(cur)?;
            cur.skip_ws();
            cur.expect(")")?;
            Selector::Filter(filter)
        }
        Some('\'' | '"') => {
            let mut names = vec![Selector::Name(parse_quoted(cur)?)];
            cur.skip_ws();
            while cur.eat(",") {
                cur.skip_ws();
                names.push(Selector::Name(parse_quoted(cur)?));
                cur.skip_ws();
            }
            if names.len() == 1 {
                names.remove(0)
            } else {
                Selector::Union(names)
            }
        }
        Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => parse_index_or_slice(cur)?,
        _ => return Err(cur.error("expected '*', '?(', a quoted name, an index or a slice")),
    };
    cur.skip_ws();
    cur.expect("]")?;
    Ok(selector)
}

/// A quoted property name. Only the quote character itself can be escaped: AWS keeps
/// any other backslash literally, e.g. `$['a\"b']` names the key `a\"b`.
fn parse_quoted(cur: &mut Cursor<'_>) -> Result<String, PathError> {
    let quote = cur.bump().ok_or_else(|| cur.error("expected a quote"))?;
    let mut out = String::new();
    loop {
        match cur.bump() {
            None => return Err(cur.error("unterminated quoted name")),
            Some(c) if c == quote => return Ok(out),
            Some('\\') if cur.peek() == Some(quote) => {
                out.push(quote);
                cur.bump();
            }
            Some(c) => out.push(c),
        }
    }
}

fn parse_int(cur: &mut Cursor<'_>) -> Result<Option<i64>, PathError> {
    cur.skip_ws();
    let start = cur.pos;
    if cur.peek() == Some('-') {
        cur.bump();
    }
    while cur.peek().is_some_and(|c| c.is_ascii_digit()) {
        cur.bump();
    }
    let digits = &cur.text[start..cur.pos];
    if digits.is_empty() {
        return Ok(None);
    }
    digits
        .parse::<i64>()
        .map(Some)
        .map_err(|_| cur.error(format!("invalid index '{digits}'")))
}

fn parse_index_or_slice(cur: &mut Cursor<'_>) -> Result<Selector, PathError> {
    let first = parse_int(cur)?;
    cur.skip_ws();
    if cur.eat(":") {
        let end = parse_int(cur)?;
        cur.skip_ws();
        let step = if cur.eat(":") { parse_int(cur)? } else { None };
        if step == Some(0) {
            return Err(cur.error("slice step cannot be 0"));
        }
        return Ok(Selector::Slice {
            start: first,
            end,
            step,
        });
    }
    let first = first.ok_or_else(|| cur.error("expected an index"))?;
    let mut indexes = vec![Selector::Index(first)];
    while cur.eat(",") {
        let next = parse_int(cur)?.ok_or_else(|| cur.error("expected an index"))?;
        indexes.push(Selector::Index(next));
        cur.skip_ws();
    }
    Ok(if indexes.len() == 1 {
        indexes.remove(0)
    } else {
        Selector::Union(indexes)
    })
}

fn parse_or(cur: &mut Cursor<'_>) -> Result<Filter, PathError> {
    let mut left = parse_and(cur)?;
    loop {
        cur.skip_ws();
        if !cur.eat("||") {
            return Ok(left);
        }
        let right = parse_and(cur)?;
        left = Filter::Or(Box::new(left), Box::new(right));
    }
}

fn parse_and(cur: &mut Cursor<'_>) -> Result<Filter, PathError> {
    let mut left = parse_unary(cur)?;
    loop {
        cur.skip_ws();
        if !cur.eat("&&") {
            return Ok(left);
        }
        let right = parse_unary(cur)?;
        left = Filter::And(Box::new(left), Box::new(right));
    }
}

fn parse_unary(cur: &mut Cursor<'_>) -> Result<Filter, PathError> {
    cur.nested(parse_unary_level)
}

fn parse_unary_level(cur: &mut Cursor<'_>) -> Result<Filter, PathError> {
    cur.skip_ws();
    if cur.peek() == Some('!') && !cur.rest().starts_with("!=") {
        cur.bump();
        return Ok(Filter::Not(Box::new(parse_unary(cur)?)));
    }
    if cur.eat("(") {
        let inner = parse_or(cur)?;
        cur.skip_ws();
        cur.expect(")")?;
        return Ok(inner);
    }
    let left = parse_operand(cur)?;
    cur.skip_ws();
    let op = [
        ("==", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<=", CompareOp::Le),
        (">=", CompareOp::Ge),
        ("<", CompareOp::Lt),
        (">", CompareOp::Gt),
    ]
    .into_iter()
    .find(|(token, _)| cur.rest().starts_with(token));
    match op {
        Some((token, op)) => {
            cur.pos += token.len();
            let right = parse_operand(cur)?;
            Ok(Filter::Compare(left, op, right))
        }
        None => match left {
            Operand::Current(_) | Operand::Root(_) => Ok(Filter::Exists(left)),
            Operand::Literal(_) => Err(cur.error("a filter needs a comparison or a path")),
        },
    }
}

fn parse_operand(cur: &mut Cursor<'_>) -> Result<Operand, PathError> {
    cur.skip_ws();
    match cur.peek() {
        Some('@') => {
            cur.bump();
            Ok(Operand::Current(parse_segments(cur, Context::Filter)?))
        }
        Some('$') => {
            cur.bump();
            Ok(Operand::Root(parse_segments(cur, Context::Filter)?))
        }
        Some('\'' | '"') => Ok(Operand::Literal(Value::String(parse_quoted(cur)?))),
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
                .map(Operand::Literal)
                .ok_or_else(|| cur.error(format!("invalid number '{text}'")))
        }
        _ => {
            for (word, value) in [
                ("true", Value::Bool(true)),
                ("false", Value::Bool(false)),
                ("null", Value::Null),
            ] {
                if cur.eat(word) {
                    return Ok(Operand::Literal(value));
                }
            }
            Err(cur.error("expected '@', '$', a string, a number, true, false or null"))
        }
    }
}
