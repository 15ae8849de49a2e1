//! Pass: JSONPath `Parameters` and `ResultPath`, and a static `Result`.

use super::State;
use crate::validate::checker::Checker;

impl Checker<'_> {
    pub(super) fn pass(&mut self, state: State<'_>) {
        self.data_fields(state);
        if let Some(result) = state.obj.get("Result")
            && state.jsonpath()
        {
            self.static_result(result, &state.obj.at("Result"));
        }
    }
}
