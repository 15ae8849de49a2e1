//! Workflow variables (`Assign`, `$name`): each Map iteration and Parallel branch gets its own scope that can read,
//! but not change, the variables of the scope it was started from.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::path::Variables;

#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    local: Map<String, Value>,
    outer: Option<Arc<Vars>>,
}

impl Vars {
    /// A new inner scope over a snapshot of an outer one (shared by all branches or iterations).
    pub fn inner(outer: &Arc<Vars>) -> Vars {
        Vars {
            local: Map::new(),
            outer: Some(outer.clone()),
        }
    }

    /// Every variable this scope can read, outer scopes first, so a later (inner) binding of a name wins.
    pub fn visible(&self) -> Vec<(&str, &Value)> {
        let mut all = self.outer.as_deref().map(Vars::visible).unwrap_or_default();
        all.extend(self.local.iter().map(|(k, v)| (k.as_str(), v)));
        all
    }

    /// Sets all `assigned` variables at once (they were all evaluated against the previous values).
    pub fn assign(&mut self, assigned: Map<String, Value>) {
        self.local.extend(assigned);
    }
}

impl Variables for Vars {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.local
            .get(name)
            .or_else(|| self.outer.as_deref().and_then(|outer| outer.variable(name)))
    }
}
