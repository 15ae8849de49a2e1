//! Evaluating paths against JSON values, and inserting values the way `ResultPath` does.

use serde_json::{Map, Value};

use super::{Path, PathError, Root, Segment, Selector};

/// Read access to workflow variables (`$name`).
pub trait Variables: Sync {
    fn variable(&self, name: &str) -> Option<&Value>;
}

impl Variables for Map<String, Value> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// A scope with no variables defined.
pub struct NoVariables;

impl Variables for NoVariables {
    fn variable(&self, _name: &str) -> Option<&Value> {
        None
    }
}

/// What a path's root resolves against.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub variables: &'a dyn Variables,
}

static NULL: Value = Value::Null;

impl<'a> Scope<'a> {
    /// A scope with just an input: `$$` is `null` and no variables are defined.
    pub fn new(input: &'a Value) -> Self {
        Scope {
            input,
            context: &NULL,
            variables: &NoVariables,
        }
    }

    pub fn with_context(self, context: &'a Value) -> Self {
        Scope { context, ..self }
    }

    pub fn with_variables(self, variables: &'a dyn Variables) -> Self {
        Scope { variables, ..self }
    }
}

fn root_value<'a>(path: &Path, scope: &Scope<'a>) -> Result<&'a Value, PathError> {
    match &path.root {
        Root::Input => Ok(scope.input),
        Root::Context => Ok(scope.context),
        Root::Variable(name) => scope
            .variables
            .variable(name)
            .ok_or_else(|| PathError::UndefinedVariable { name: name.clone() }),
    }
}

/// Jayway's bracket notation for a prefix of a path, used in its error messages: `$['a'][0]`.
fn normalized(segments: &[Segment]) -> String {
    let mut out = String::from("$");
    for segment in segments {
        if let Segment::Child(Selector::Name(name)) = segment {
            out.push_str(&format!("['{name}']"));
        } else if let Segment::Child(Selector::Index(i)) = segment {
            out.push_str(&format!("[{i}]"));
        }
    }
    out
}

fn index_of(len: usize, index: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 { len + index } else { index };
    (0..len)
        .contains(&i)
        .then(|| usize::try_from(i).ok())
        .flatten()
}

pub(super) fn evaluate(path: &Path, scope: &Scope<'_>) -> Result<Value, PathError> {
    let root = root_value(path, scope)?;
    if path.is_definite() {
        let mut current = root;
        let last = path.segments.len().saturating_sub(1);
        for (i, segment) in path.segments.iter().enumerate() {
            let next = match segment {
                Segment::Child(Selector::Name(name)) => {
                    current.as_object().and_then(|o| o.get(name))
                }
                Segment::Child(Selector::Index(idx)) => current
                    .as_array()
                    .and_then(|a| index_of(a.len(), *idx).map(|i| &a[i])),
                _ => None,
            };
            current = match next {
                Some(v) => v,
                None if i == last => {
                    return Err(PathError::NoResults {
                        normalized: normalized(&path.segments),
                    });
                }
                None => {
                    return Err(PathError::MissingProperty {
                        normalized: normalized(&path.segments[..=i]),
                    });
                }
            };
        }
        return Ok(current.clone());
    }
    let mut found = Vec::new();
    select_all(&path.segments, root, root, &mut found);
    Ok(Value::Array(found.into_iter().cloned().collect()))
}

/// Collects every node that `segments` select from `start`; `root` is what `$` means inside filters.
pub(super) fn select_all<'v>(
    segments: &[Segment],
    start: &'v Value,
    root: &'v Value,
    out: &mut Vec<&'v Value>,
) {
    let Some((first, rest)) = segments.split_first() else {
        out.push(start);
        return;
    };
    let mut matched = Vec::new();
    match first {
        Segment::Child(selector) => apply(selector, start, root, &mut matched),
        Segment::Descendant(selector) => descend(selector, start, root, &mut matched),
    }
    for node in matched {
        select_all(rest, node, root, out);
    }
}

fn descend<'v>(selector: &Selector, node: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    apply(selector, node, root, out);
    match node {
        Value::Object(map) => map
            .values()
            .for_each(|child| descend(selector, child, root, out)),
        Value::Array(items) => items
            .iter()
            .for_each(|child| descend(selector, child, root, out)),
        _ => {}
    }
}

fn apply<'v>(selector: &Selector, node: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    match selector {
        Selector::Name(name) => out.extend(node.as_object().and_then(|o| o.get(name))),
        Selector::Index(idx) => {
            if let Some(items) = node.as_array() {
                out.extend(index_of(items.len(), *idx).map(|i| &items[i]));
            }
        }
        Selector::Wildcard => match node {
            Value::Object(map) => out.extend(map.values()),
            Value::Array(items) => out.extend(items.iter()),
            _ => {}
        },
        Selector::Slice { start, end, step } => {
            if let Some(items) = node.as_array() {
                slice(items, *start, *end, *step, out);
            }
        }
        Selector::Union(parts) => parts.iter().for_each(|part| apply(part, node, root, out)),
        Selector::Filter(filter) => match node {
            Value::Array(items) => {
                out.extend(items.iter().filter(|item| filter.matches(item, root)))
            }
            Value::Object(map) => {
                out.extend(map.values().filter(|item| filter.matches(item, root)))
            }
            _ => {}
        },
    }
}

fn slice<'v>(
    items: &'v [Value],
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
    out: &mut Vec<&'v Value>,
) {
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let clamp = |v: i64| if v < 0 { (len + v).max(0) } else { v.min(len) };
    let step = step.unwrap_or(1);
    let to_index = |i: i64| usize::try_from(i).ok();
    if step > 0 {
        let (mut i, stop) = (clamp(start.unwrap_or(0)), clamp(end.unwrap_or(len)));
        while i < stop {
            out.extend(to_index(i).and_then(|i| items.get(i)));
            i += step;
        }
    } else {
        let mut i = start.map_or(len - 1, |s| clamp(s).min(len - 1));
        let stop = end.map_or(-1, clamp);
        while i > stop {
            out.extend(to_index(i).and_then(|i| items.get(i)));
            i += step;
        }
    }
}

pub(super) fn insert(path: &Path, target: Value, value: Value) -> Result<Value, PathError> {
    if path.root != Root::Input {
        return Err(PathError::CannotInsert {
            path: path.text.clone(),
            reason: "only paths on the input ('$') can be written".to_owned(),
        });
    }
    let Some((last, parents)) = path.segments.split_last() else {
        return Ok(value);
    };
    let mut target = target;
    let mut node = &mut target;
    for segment in parents {
        node = step_mut(path, node, segment, true)?;
    }
    match last {
        Segment::Child(Selector::Name(name)) => match node {
            Value::Object(map) => {
                map.insert(name.clone(), value);
            }
            other => return Err(not_object(path, other)),
        },
        Segment::Child(Selector::Index(_)) => *step_mut(path, node, last, false)? = value,
        _ => unreachable_segment(path)?,
    }
    Ok(target)
}

fn step_mut<'v>(
    path: &Path,
    node: &'v mut Value,
    segment: &Segment,
    create: bool,
) -> Result<&'v mut Value, PathError> {
    match segment {
        Segment::Child(Selector::Name(name)) => match node {
            Value::Object(map) => {
                if create {
                    Ok(map
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new())))
                } else {
                    map.get_mut(name).ok_or_else(|| PathError::CannotInsert {
                        path: path.text.clone(),
                        reason: format!("no field '{name}'"),
                    })
                }
            }
            other => Err(not_object(path, other)),
        },
        Segment::Child(Selector::Index(idx)) => match node {
            Value::Array(items) => {
                let len = items.len();
                index_of(len, *idx)
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| PathError::CannotInsert {
                        path: path.text.clone(),
                        reason: format!("index {idx} is out of bounds for an array of {len}"),
                    })
            }
            _ => Err(PathError::CannotInsert {
                path: path.text.clone(),
                reason: "not an array".to_owned(),
            }),
        },
        _ => unreachable_segment(path).map(|()| node),
    }
}

fn not_object(path: &Path, found: &Value) -> PathError {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    PathError::CannotInsert {
        path: path.text.clone(),
        reason: format!("found {kind} where an object was expected"),
    }
}

/// `insert` is only reachable through `ReferencePath`, whose parser rejects non-definite segments; this keeps the
/// invariant explicit instead of panicking if that ever changes.
fn unreachable_segment(path: &Path) -> Result<(), PathError> {
    Err(PathError::NotReference {
        path: path.text.clone(),
        reason: "only names and indexes can be written",
    })
}
