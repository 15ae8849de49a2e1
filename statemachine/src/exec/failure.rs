//! Errors travelling up through states, and the AWS wording of the run-time errors the executor raises.

use serde_json::{Map, Value};

use crate::intrinsic::IntrinsicError;
use crate::model::retry::names;
use crate::model::template::RenderError;
use crate::path::PathError;

/// An error travelling up through states: what Retry and Catch match on, and what a failed execution reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Failure {
    pub fn new(error: &str, cause: Option<String>) -> Self {
        Failure {
            error: Some(error.to_owned()),
            cause,
        }
    }

    pub(crate) fn details(&self) -> Map<String, Value> {
        let mut map = Map::new();
        if let Some(error) = &self.error {
            map.insert("error".to_owned(), Value::String(error.clone()));
        }
        if let Some(cause) = &self.cause {
            map.insert("cause".to_owned(), Value::String(cause.clone()));
        }
        map
    }

    /// The `{"Error", "Cause"}` object a catcher passes on.
    pub fn as_catch_output(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "Error".to_owned(),
            self.error.clone().map_or(Value::Null, Value::String),
        );
        if let Some(cause) = &self.cause {
            map.insert("Cause".to_owned(), Value::String(cause.clone()));
        }
        Value::Object(map)
    }
}

/// Where a state is, for error messages: AWS prefixes run-time errors with the state name and its entered event id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    pub state: &'a str,
    pub entered_id: u64,
}

impl At<'_> {
    pub fn runtime(&self, detail: impl std::fmt::Display) -> Failure {
        self.fail(names::RUNTIME, detail)
    }

    pub fn fail(&self, error: &str, detail: impl std::fmt::Display) -> Failure {
        Failure::new(
            error,
            Some(format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {detail}",
                self.state, self.entered_id
            )),
        )
    }

    pub fn invalid_path(&self, path: &str, error: &PathError) -> Failure {
        self.runtime(format!("Invalid path '{path}' : {error}"))
    }

    pub fn render_error(&self, error: RenderError, input: &Value) -> Failure {
        match error {
            RenderError::PathNotFound { field, path } => self.runtime(format!(
                "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{input}'"
            )),
            RenderError::Intrinsic { field, source: IntrinsicError::PathNotFound { path, .. } } => {
                self.runtime(format!(
                    "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{input}'"
                ))
            }
            RenderError::Intrinsic { source, .. } => self.fail(names::INTRINSIC_FAILURE, source),
        }
    }

    pub fn data_limit(&self, who: &str) -> Failure {
        Failure::new(
            names::DATA_LIMIT_EXCEEDED,
            Some(format!(
                "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
            )),
        )
    }
}
