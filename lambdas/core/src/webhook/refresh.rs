//! What `/refresh` asks the workflow for: the execution's name and input.
//!
//! Both come only from the update and the chat's stored areas, so a redelivered update yields the
//! same name and the same bytes, and Step Functions' name check turns the redelivery into a no-op.

use serde::Serialize;

use crate::domain::{Area, ChatId};
use crate::ports::{ExecutionName, InvalidExecutionName};

/// The workflow input for a refresh asked for from a chat. The workflow (stage -> schedule ->
/// notify) reads `areas` to know what to fetch and `chat_id` to know whom to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshInput<'a> {
    pub source: &'static str,
    pub chat_id: ChatId,
    pub message_id: i64,
    pub update_id: i64,
    /// In the order the store keeps them, so the bytes do not depend on anything else.
    pub areas: Vec<&'a str>,
}

impl<'a> RefreshInput<'a> {
    pub const SOURCE: &'static str = "telegram";

    pub fn new(update_id: i64, chat: ChatId, message_id: i64, areas: &'a [Area]) -> Self {
        RefreshInput {
            source: Self::SOURCE,
            chat_id: chat,
            message_id,
            update_id,
            areas: areas.iter().map(|a| a.id.as_str()).collect(),
        }
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// `tg-<update_id>`. Telegram numbers a bot's updates in sequence, so a name does not come back
/// while Step Functions remembers it (90 days). The exception: after a week without updates Telegram
/// may restart the count at random, and a clash with an old name then reads as "already started",
/// so that one refresh does not run (the chat can ask again after the cooldown).
pub fn execution_name(update_id: i64) -> Result<ExecutionName, InvalidExecutionName> {
    ExecutionName::new(format!("tg-{update_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_has_the_documented_shape_and_order() {
        let areas = [
            Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0),
            Area::sepush("eskde-14-milnerton", "Milnerton (14)", "Cape Town"),
        ];
        let input = RefreshInput::new(196958706, ChatId(-1001283156137), 38, &areas);
        assert_eq!(
            input.to_json().expect("json"),
            r#"{"source":"telegram","chat_id":-1001283156137,"message_id":38,"update_id":196958706,"areas":["eskom:64106","esp:eskde-14-milnerton"]}"#
        );
    }

    #[test]
    fn names_are_valid_for_any_update_id() {
        assert_eq!(
            execution_name(196958706).expect("valid").as_str(),
            "tg-196958706"
        );
        assert!(execution_name(i64::MAX).is_ok());
        assert!(execution_name(i64::MIN).is_ok());
    }
}
