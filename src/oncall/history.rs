//! Execution history events as one line each, and how an execution ended.

use std::process::ExitCode;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};

/// How an execution ended, and the exit status `loadshed follow` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Outcome {
    /// 0 succeeded, 1 failed, 3 timed out, 4 aborted (2 is the command's own failure).
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Succeeded => 0,
            Outcome::Failed => 1,
            Outcome::TimedOut => 3,
            Outcome::Aborted => 4,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Succeeded => "SUCCEEDED",
            Outcome::Failed => "FAILED",
            Outcome::TimedOut => "TIMED_OUT",
            Outcome::Aborted => "ABORTED",
        }
    }

    /// The end an event records, if it is an execution's last event.
    pub fn of_event(event: &HistoryEvent) -> Option<Outcome> {
        match event.r#type() {
            HistoryEventType::ExecutionSucceeded => Some(Outcome::Succeeded),
            HistoryEventType::ExecutionFailed => Some(Outcome::Failed),
            HistoryEventType::ExecutionTimedOut => Some(Outcome::TimedOut),
            HistoryEventType::ExecutionAborted => Some(Outcome::Aborted),
            _ => None,
        }
    }

    /// The end a status means; `None` while the execution runs (or waits to be redriven).
    pub fn of_status(status: &ExecutionStatus) -> Option<Outcome> {
        match status {
            ExecutionStatus::Succeeded => Some(Outcome::Succeeded),
            ExecutionStatus::Failed => Some(Outcome::Failed),
            ExecutionStatus::TimedOut => Some(Outcome::TimedOut),
            ExecutionStatus::Aborted => Some(Outcome::Aborted),
            _ => None,
        }
    }
}

/// `time  #id  Type  details`: the state, the function, the error and its cause.
pub fn line(event: &HistoryEvent) -> String {
    let at = event
        .timestamp()
        .fmt(aws_sdk_sfn::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default();
    let detail = detail(event);
    let kind = event.r#type().as_str();
    match detail.is_empty() {
        true => format!("{at}  #{:<3} {kind}", event.id()),
        false => format!("{at}  #{:<3} {kind}  {detail}", event.id()),
    }
}

/// Long inputs and outputs are cut: the console shows them whole.
const MAX_PAYLOAD_CHARS: usize = 200;

fn detail(event: &HistoryEvent) -> String {
    if let Some(d) = event.state_entered_event_details() {
        return d.name().to_owned();
    }
    if let Some(d) = event.state_exited_event_details() {
        return d.name().to_owned();
    }
    if let Some(d) = event.lambda_function_scheduled_event_details() {
        return d.resource().to_owned();
    }
    if let Some(d) = event.lambda_function_failed_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.lambda_function_timed_out_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.lambda_function_schedule_failed_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.lambda_function_start_failed_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.task_failed_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.execution_failed_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.execution_aborted_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.execution_timed_out_event_details() {
        return failure(d.error(), d.cause());
    }
    if let Some(d) = event.execution_started_event_details() {
        return format!("input {}", cut(d.input().unwrap_or_default()));
    }
    if let Some(d) = event.execution_succeeded_event_details() {
        return format!("output {}", cut(d.output().unwrap_or_default()));
    }
    if let Some(d) = event.execution_redriven_event_details() {
        return format!("redrive {}", d.redrive_count().unwrap_or_default());
    }
    String::new()
}

fn failure(error: Option<&str>, cause: Option<&str>) -> String {
    match (error, cause) {
        (Some(error), Some(cause)) => format!("{error}: {}", cut(cause)),
        (Some(error), None) => error.to_owned(),
        (None, Some(cause)) => cut(cause),
        (None, None) => String::new(),
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_PAYLOAD_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sfn::primitives::DateTime;
    use aws_sdk_sfn::types::ExecutionFailedEventDetails;

    use super::*;

    fn event(id: i64, kind: HistoryEventType) -> aws_sdk_sfn::types::builders::HistoryEventBuilder {
        HistoryEvent::builder()
            .id(id)
            .r#type(kind)
            .timestamp(DateTime::from_secs(1_796_000_000))
    }

    #[test]
    fn failures_show_error_and_cause() {
        let failed = event(9, HistoryEventType::ExecutionFailed)
            .execution_failed_event_details(
                ExecutionFailedEventDetails::builder()
                    .error("UpstreamUnauthorized")
                    .cause("EskomSePush refused the API token")
                    .build(),
            )
            .build()
            .expect("event");
        assert_eq!(
            line(&failed),
            "2026-11-30T00:53:20Z  #9   ExecutionFailed  UpstreamUnauthorized: EskomSePush refused the API token"
        );
        assert_eq!(Outcome::of_event(&failed), Some(Outcome::Failed));
    }

    #[test]
    fn long_payloads_are_cut() {
        let long = "x".repeat(500);
        assert_eq!(cut(&long).chars().count(), MAX_PAYLOAD_CHARS + 1);
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn exit_codes_tell_outcomes_apart() {
        let codes: Vec<_> = [
            Outcome::Succeeded,
            Outcome::Failed,
            Outcome::TimedOut,
            Outcome::Aborted,
        ]
        .map(|o| format!("{:?}", o.exit_code()))
        .into_iter()
        .collect();
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        assert_eq!(Outcome::of_status(&ExecutionStatus::Running), None);
        assert_eq!(Outcome::of_status(&ExecutionStatus::PendingRedrive), None);
    }
}
