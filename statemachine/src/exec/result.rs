//! What Task, Parallel and Map do with a result once they have one: `ResultSelector`, `Assign`, `ResultPath` and
//! `OutputPath`, in AWS's order.

use serde_json::Value;

use super::failure::At;
use super::failure::Failure;
use super::io::{apply_output_path, apply_result_path, render};
use super::state::{Outcome, Thread, evaluate_assign};
use crate::model::{IoPath, ResultPath, TemplateField};

/// The result-processing fields of a state.
pub(crate) struct ResultFields<'m> {
    pub next: Option<&'m str>,
    pub result_selector: Option<&'m TemplateField>,
    pub result_path: &'m ResultPath,
    pub output_path: &'m IoPath,
    pub assign: Option<&'m TemplateField>,
}

impl<'m> ResultFields<'m> {
    /// Turns the state's `result` into its outcome; `raw` is the state's input before `InputPath`.
    pub fn apply(
        &self,
        thread: &Thread,
        raw: Value,
        result: Value,
        context: &Value,
        at: At<'_>,
    ) -> Result<Outcome<'m>, Failure> {
        let result = match self.result_selector {
            Some(TemplateField(template)) => render(at, template, &thread.scope(&result, context))?,
            None => result,
        };
        // Assign sees the selected result and the variables as they were before this state.
        let assigned = evaluate_assign(at, self.assign, &thread.scope(&result, context))?;
        let output = apply_result_path(at, self.result_path, raw, result)?;
        let output = apply_output_path(
            at,
            self.output_path,
            output,
            &thread.scope(&Value::Null, context),
        )?;
        Ok(Outcome {
            next: self.next,
            output,
            assigned,
        })
    }
}
