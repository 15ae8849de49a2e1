//! Telling a chat, in plain words, that its refresh failed.

use crate::errors::ErrorName;
use crate::notify::html::escape;
use crate::ports::Message;

use super::WorkflowError;

/// The message for a failed run. The error name picks the words; the cause is not shown, since it
/// may hold internals (URLs, stack traces) that mean nothing to the person asking.
pub fn failure_message(error: &WorkflowError) -> Message {
    let reason = plain_words(&error.error);
    Message::html(format!(
        "⚠️ Sorry, the refresh failed: {}\n<i>({})</i>",
        reason,
        escape(&error.error)
    ))
}

fn plain_words(name: &str) -> &'static str {
    match ErrorName::from_name(name) {
        Some(ErrorName::UpstreamTimeout | ErrorName::UpstreamUnavailable) => {
            "the loadshedding service is not answering right now. Please try again in a few minutes."
        }
        Some(ErrorName::UpstreamRateLimited | ErrorName::UpstreamBlocked) => {
            "the loadshedding service is turning requests away right now. Please try again later."
        }
        Some(ErrorName::StageReadingInvalid) => {
            "Eskom reported a stage that makes no sense, which happens when its site is busy. Please try again in a few minutes."
        }
        Some(ErrorName::UpstreamQuotaExceeded) => {
            "we have used up today's allowance of schedule look-ups. Please try again tomorrow."
        }
        Some(ErrorName::UpstreamUnauthorized | ErrorName::TelegramUnauthorized) => {
            "our access to the schedule service was refused. The operators have been alerted."
        }
        Some(ErrorName::AreaNotFound) => {
            "the schedule service does not know one of your areas any more. Try /subscribe again."
        }
        Some(ErrorName::UpstreamMalformed) => {
            "the schedule service sent something we could not read. The operators have been alerted."
        }
        Some(ErrorName::NotifyUnfinished) => {
            "we ran out of time telling everyone; the rest will hear shortly."
        }
        Some(ErrorName::StoreUnavailable) => {
            "our database was not answering. Please try again in a few minutes."
        }
        Some(ErrorName::StoreCorrupt | ErrorName::StoreMisconfigured) => {
            "our database had a problem. The operators have been alerted."
        }
        Some(ErrorName::TelegramUnavailable) => {
            "Telegram was not taking messages. Please try again later."
        }
        Some(ErrorName::InvalidInput) => {
            "the request was not understood. The operators have been alerted."
        }
        Some(ErrorName::HandlerPanicked) => {
            "we hit a bug of our own. The operators have been alerted."
        }
        None if name == "States.Timeout" => "it took too long. Please try again in a few minutes.",
        None => "something went wrong on our side. The operators have been alerted.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogued_error_has_its_own_words_and_the_name_is_escaped() {
        for name in ErrorName::ALL {
            assert_ne!(
                plain_words(name.as_str()),
                plain_words("Something.Else"),
                "{name}"
            );
        }
        let message = failure_message(&WorkflowError {
            error: "Lambda.<Unknown>&".into(),
            cause: Some("<html>".into()),
        });
        assert!(message.text.contains("Lambda.&lt;Unknown&gt;&amp;"));
        assert!(!message.text.contains("<html>"));
    }
}
