//! Fail: its error and cause, given or read from a path.

use super::State;
use crate::validate::checker::Checker;
use crate::validate::paths::PathKind;

impl Checker<'_> {
    /// At most one of `Error`/`ErrorPath` and of `Cause`/`CausePath`; the paths may be intrinsic calls.
    pub(super) fn fail(&mut self, state: State<'_>) {
        let obj = state.obj;
        self.at_most_one(obj, &["Error", "ErrorPath"]);
        self.at_most_one(obj, &["Cause", "CausePath"]);
        for field in ["Error", "Cause"] {
            if self.string(obj, field).is_some()
                && !state.jsonpath()
                && let Some(value) = obj.get(field)
            {
                self.jsonata_template(value, field, &obj.at(field));
            }
        }
        self.path_field(obj, "ErrorPath", PathKind::ReferenceOrIntrinsic, false);
        self.path_field(obj, "CausePath", PathKind::ReferenceOrIntrinsic, false);
    }
}
