//! JSONPath as Amazon States Language uses it.
//!
//! ASL runs JSONPath through Jayway's Java implementation, so syntax, results and error texts follow Jayway where AWS
//! exposes them (for example `No results for path: $['a']` in a `States.Runtime` cause). No Rust JSONPath crate
//! reproduces those semantics (RFC 9535 crates differ on missing-path errors, `$$` context paths and `$var`
//! variables), which is why this module parses and evaluates paths itself.

mod eval;
mod filter;
mod parse;

use std::fmt;

use serde_json::Value;

pub use eval::{NoVariables, Scope, Variables};
pub use filter::{CompareOp, Filter, Operand};

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the state's effective input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable set by `Assign`.
    Variable(String),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// `.name`, `['name']`, `[0]`, `[*]`, ...: applies to the current node.
    Child(Selector),
    /// `..name`, `..[0]`, `..*`: applies to the current node and all its descendants.
    Descendant(Selector),
}

/// What a segment picks out of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Name(String),
    Index(i64),
    Wildcard,
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
    },
    /// `['a','b']` or `[0,2]`.
    Union(Vec<Selector>),
    Filter(Filter),
}

impl Selector {
    fn is_definite(&self) -> bool {
        matches!(self, Selector::Name(_) | Selector::Index(_))
    }
}

/// A parsed JSONPath (`$.a.b[0]`, `$..x`, `$.items[?(@.n > 1)]`, `$$.Execution.Id`, `$myVar.field`).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

/// A Reference Path: a path that names a single node (only `.name`, `['name']` and `[index]` steps), as ASL requires
/// for `ResultPath`, `ItemsPath`, `ErrorPath`, `Variable`, and friends.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferencePath(Path);

/// Why a path does not parse or cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    #[error("invalid JSONPath '{path}': {reason} at offset {offset}")]
    Syntax {
        path: String,
        offset: usize,
        reason: String,
    },
    #[error("'{path}' is not a reference path: {reason}")]
    NotReference { path: String, reason: &'static str },
    /// A definite path whose last step is missing (Jayway: `No results for path: $['a']`).
    #[error("No results for path: {normalized}")]
    NoResults { normalized: String },
    /// A definite path with a missing intermediate step (Jayway: `Missing property in path $['a']`).
    #[error("Missing property in path {normalized}")]
    MissingProperty { normalized: String },
    #[error("The variable '{name}' is not defined")]
    UndefinedVariable { name: String },
    #[error("Unable to apply ResultPath {path}: {reason}")]
    CannotInsert { path: String, reason: String },
}

impl PathError {
    /// True when the path is well-formed but names nothing in the data.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            PathError::NoResults { .. }
                | PathError::MissingProperty { .. }
                | PathError::UndefinedVariable { .. }
        )
    }
}

impl Path {
    /// Parses a JSONPath, including `$$` context paths and `$name` variable references.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let (root, segments) = parse::parse_path(text)?;
        Ok(Path {
            text: text.to_owned(),
            root,
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// A definite path names at most one node; an indefinite one (wildcard, slice, filter, `..`, union) evaluates to
    /// an array of matches.
    pub fn is_definite(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Child(sel) if sel.is_definite()))
    }

    /// Evaluates the path. A definite path yields the node or a not-found error; an indefinite one yields an array of
    /// every match (possibly empty).
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Value, PathError> {
        eval::evaluate(self, scope)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl ReferencePath {
    /// Parses a Reference Path; wildcards, slices, unions, filters and `..` are rejected.
    pub fn parse(text: &str) -> Result<ReferencePath, PathError> {
        let path = Path::parse(text)?;
        for segment in &path.segments {
            let reason = match segment {
                Segment::Descendant(_) => "'..' is not allowed",
                Segment::Child(Selector::Name(_) | Selector::Index(_)) => continue,
                Segment::Child(Selector::Wildcard) => "wildcards are not allowed",
                Segment::Child(Selector::Slice { .. }) => "slices are not allowed",
                Segment::Child(Selector::Union(_)) => "unions are not allowed",
                Segment::Child(Selector::Filter(_)) => "filters are not allowed",
            };
            return Err(PathError::NotReference {
                path: text.to_owned(),
                reason,
            });
        }
        Ok(ReferencePath(path))
    }

    pub fn as_path(&self) -> &Path {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    pub fn root(&self) -> &Root {
        &self.0.root
    }

    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Value, PathError> {
        self.0.evaluate(scope)
    }

    /// Places `value` into `target` at this path, the way `ResultPath` does: `$` replaces the whole document, missing
    /// objects along the way are created, and an existing non-object in the way is an error.
    pub fn insert(&self, target: Value, value: Value) -> Result<Value, PathError> {
        eval::insert(&self.0, target, value)
    }
}

impl fmt::Display for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

#[cfg(test)]
mod tests;
