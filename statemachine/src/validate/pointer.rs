//! JSON pointers (RFC 6901) naming where in the definition a diagnostic applies.

use std::fmt;

/// A location such as `/States/Wait/Seconds`. The root prints as `/`, as AWS prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pointer(String);

impl Pointer {
    pub(crate) fn root() -> Self {
        Pointer(String::new())
    }

    /// The pointer one member or element further down; `~` and `/` in names are escaped.
    pub(crate) fn child(&self, segment: impl fmt::Display) -> Self {
        let segment = segment.to_string().replace('~', "~0").replace('/', "~1");
        Pointer(format!("{}/{}", self.0, segment))
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("/")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pointer;

    #[test]
    fn root_prints_as_slash_and_children_are_escaped() {
        let root = Pointer::root();
        assert_eq!(root.to_string(), "/");
        assert_eq!(
            root.child("States").child("a/b~c").child(0).to_string(),
            "/States/a~1b~0c/0"
        );
    }
}
