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
