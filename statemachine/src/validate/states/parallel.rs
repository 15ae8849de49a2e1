//! Parallel: branches, each a state machine of its own.

use super::State;
use crate::validate::checker::Checker;
use crate::validate::machine::MachineKind;

impl Checker<'_> {
    /// A non-empty array of branches.
    pub(super) fn parallel(&mut self, state: State<'_>) {
        let obj = state.obj;
        self.require(obj, &["Branches"]);
        self.data_fields(state);
        let Some(branches) = self.array(obj, "Branches") else {
            return;
        };
        let at = obj.at("Branches");
        if branches.is_empty() {
            // AWS's own wording, as recorded by TestState (`InvalidDefinition`).
            self.schema(&at, "Value cannot be empty");
        }
        for (i, branch) in branches.iter().enumerate() {
            self.nested_machine(branch, &at.child(i), MachineKind::Branch);
        }
    }
}
