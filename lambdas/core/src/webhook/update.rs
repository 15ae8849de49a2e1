//! The parts of a Telegram `Update` the webhook reads.
//!
//! Why our own structs and not `frankenstein` or `teloxide-core`: we read a dozen fields of three
//! update kinds, and these structs ignore everything else, so no Bot API addition (a new update
//! kind, entity type or chat field) can make an update unreadable here. The complete models
//! would also be the largest crate in a binary that should start fast, for fields we never touch.

use serde::Deserialize;

/// One update as Telegram posts it to the webhook.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Update {
    /// Increases with each update; the same number on a redelivery.
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
    /// The bot's own membership changed (blocked, kicked, added).
    #[serde(default)]
    pub my_chat_member: Option<ChatMemberUpdated>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    pub message_id: i64,
    pub chat: Chat,
    /// The sender; absent in channels.
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub text: Option<String>,
    /// Offsets and lengths count UTF-16 code units, not bytes or chars.
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    /// The message this one answers. Telegram includes it one level deep.
    #[serde(default)]
    pub reply_to_message: Option<Box<Message>>,
    /// Service message: this group became the supergroup with this id.
    #[serde(default)]
    pub migrate_to_chat_id: Option<i64>,
}

/// A Telegram user: only the id, which the operator allow-list names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: ChatKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    Private,
    Group,
    Supergroup,
    Channel,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageEntity {
    /// `bot_command`, `mention`, `bold`, ... kept as text so new types never fail the update.
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: usize,
    pub length: usize,
}

impl MessageEntity {
    pub const BOT_COMMAND: &'static str = "bot_command";
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    /// Who tapped (always sent by Telegram; optional here so an odd update is still read).
    #[serde(default)]
    pub from: Option<User>,
    /// The message with the tapped button. Absent for inline-mode messages; for messages older than
    /// 48 hours Telegram sends only chat, message id and date (so `text` and the reply are gone).
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    pub new_chat_member: ChatMember,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatMember {
    /// `creator`, `administrator`, `member`, `restricted`, `left` or `kicked`.
    pub status: String,
    /// Channel administrators only: whether they may post.
    #[serde(default)]
    pub can_post_messages: bool,
}

impl ChatMember {
    /// The bot can no longer post here: it was removed from the group or blocked in a private chat.
    pub fn is_gone(&self) -> bool {
        matches!(self.status.as_str(), "left" | "kicked")
    }

    /// In a channel only an administrator allowed to post can: anything less is gone too.
    pub fn can_post_to_channel(&self) -> bool {
        self.status == "creator" || (self.status == "administrator" && self.can_post_messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_chat_types_and_update_kinds_are_tolerated() {
        let update: Update = serde_json::from_value(serde_json::json!({
            "update_id": 10,
            "message": {
                "message_id": 3,
                "chat": {"id": -5, "type": "forum_of_the_future", "title": "x"},
                "date": 1,
                "text": "hi",
                "entities": [{"type": "sparkle", "offset": 0, "length": 2}],
                "some_new_field": {"deep": [1, 2]}
            },
            "business_connection": {"id": "x"}
        }))
        .expect("tolerant parse");
        let message = update.message.expect("message");
        assert_eq!(message.chat.kind, ChatKind::Other);
        assert_eq!(message.entities[0].kind, "sparkle");
    }

    #[test]
    fn inaccessible_callback_message_still_parses() {
        let update: Update = serde_json::from_value(serde_json::json!({
            "update_id": 11,
            "callback_query": {
                "id": "q1",
                "from": {"id": 1, "is_bot": false, "first_name": "A"},
                "chat_instance": "ci",
                "message": {"chat": {"id": 9, "type": "private"}, "message_id": 4, "date": 0},
                "data": "s:eskom:1"
            }
        }))
        .expect("parse");
        let query = update.callback_query.expect("query");
        let message = query.message.expect("message");
        assert_eq!(message.text, None);
        assert_eq!(message.reply_to_message, None);
    }
}
