//! Bot API request and answer bodies, serialized as the API documents them.

use serde::{Deserialize, Serialize};

use crate::domain::ChatId;
use crate::ports::{InlineButton, InlineKeyboard, Message, TextFormat};

use super::error::ResponseParameters;

/// Every answer: `{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., ...}`.
#[derive(Debug, Deserialize)]
pub(super) struct Envelope<T> {
    pub ok: bool,
    pub result: Option<T>,
    pub error_code: Option<u16>,
    pub description: Option<String>,
    pub parameters: Option<ResponseParameters>,
}

#[derive(Debug, Serialize)]
struct InlineKeyboardMarkup<'a> {
    inline_keyboard: &'a [Vec<InlineButton>],
}

impl<'a> From<&'a InlineKeyboard> for InlineKeyboardMarkup<'a> {
    fn from(keyboard: &'a InlineKeyboard) -> Self {
        InlineKeyboardMarkup {
            inline_keyboard: &keyboard.rows,
        }
    }
}

/// Our messages carry no links worth a preview card; an area name like "site.co.za" must not grow one.
#[derive(Debug, Serialize)]
struct LinkPreviewOptions {
    is_disabled: bool,
}

const NO_PREVIEW: LinkPreviewOptions = LinkPreviewOptions { is_disabled: true };

fn parse_mode(format: TextFormat) -> Option<&'static str> {
    match format {
        TextFormat::Html => Some("HTML"),
        TextFormat::Plain => None,
    }
}

/// The body of `sendMessage`.
#[derive(Debug, Serialize)]
pub struct SendMessage<'a> {
    chat_id: i64,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<InlineKeyboardMarkup<'a>>,
    link_preview_options: LinkPreviewOptions,
    /// Bot API 7.11: beyond the free 30 messages a second, up to 1,000, for 0.1 Star each.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_paid_broadcast: bool,
}

impl<'a> SendMessage<'a> {
    pub fn new(chat: ChatId, message: &'a Message) -> Self {
        SendMessage {
            chat_id: chat.0,
            text: &message.text,
            parse_mode: parse_mode(message.format),
            reply_markup: message.keyboard.as_ref().map(Into::into),
            link_preview_options: NO_PREVIEW,
            allow_paid_broadcast: false,
        }
    }

    /// The same message as a paid broadcast.
    pub fn paid(mut self) -> Self {
        self.allow_paid_broadcast = true;
        self
    }
}

/// The body of `editMessageText`.
#[derive(Debug, Serialize)]
pub struct EditMessageText<'a> {
    chat_id: i64,
    message_id: i64,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<InlineKeyboardMarkup<'a>>,
    link_preview_options: LinkPreviewOptions,
}

impl<'a> EditMessageText<'a> {
    pub fn new(chat: ChatId, message_id: i64, message: &'a Message) -> Self {
        EditMessageText {
            chat_id: chat.0,
            message_id,
            text: &message.text,
            parse_mode: parse_mode(message.format),
            reply_markup: message.keyboard.as_ref().map(Into::into),
            link_preview_options: NO_PREVIEW,
        }
    }
}

/// The body of `answerCallbackQuery`: stops the spinner on the tapped button, optionally with a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerCallbackQuery {
    pub callback_query_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An alert the user must dismiss instead of a toast.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub show_alert: bool,
}

impl AnswerCallbackQuery {
    /// Telegram refuses a notice longer than this (characters), and the whole answer with it.
    pub const TEXT_MAX_CHARS: usize = 200;

    pub fn new(callback_query_id: impl Into<String>) -> Self {
        AnswerCallbackQuery {
            callback_query_id: callback_query_id.into(),
            text: None,
            show_alert: false,
        }
    }

    /// A notice cut to [`Self::TEXT_MAX_CHARS`], so a long upstream name can never make Telegram
    /// refuse the answer (and leave the button spinning).
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.text = Some(if text.chars().count() <= Self::TEXT_MAX_CHARS {
            text
        } else {
            let mut cut: String = text.chars().take(Self::TEXT_MAX_CHARS - 1).collect();
            cut.push('…');
            cut
        });
        self
    }
}

/// The body of `setWebhook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetWebhook {
    pub url: String,
    /// Sent back by Telegram in `X-Telegram-Bot-Api-Secret-Token` with every update.
    pub secret_token: String,
    pub allowed_updates: Vec<String>,
    pub drop_pending_updates: bool,
}

/// One entry of the command menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotCommand {
    /// 1-32 characters: lowercase letters, digits and underscores, without the slash.
    pub command: String,
    pub description: String,
}

#[derive(Debug, Serialize)]
pub(super) struct SetMyCommands<'a> {
    pub commands: &'a [BotCommand],
}

/// The part of a sent `Message` we use.
#[derive(Debug, Deserialize)]
pub(super) struct SentMessage {
    pub message_id: i64,
}

/// The bot itself, from `getMe`; its username tells `/cmd@ThisBot` from `/cmd@OtherBot`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BotUser {
    pub id: i64,
    pub username: Option<String>,
}

/// The part of `getChat`'s `ChatFullInfo` we use: what a channel is called and how people join it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChatInfo {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Public chats only.
    #[serde(default)]
    pub username: Option<String>,
    /// The primary invite link; Telegram gives it only to administrators allowed to invite.
    #[serde(default)]
    pub invite_link: Option<String>,
}

/// The part of `getChatMember`'s `ChatMember` we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChatMemberInfo {
    /// `creator`, `administrator`, `member`, `restricted`, `left` or `kicked`.
    pub status: String,
    /// Channel administrators only: whether they may post.
    #[serde(default)]
    pub can_post_messages: bool,
}

/// A chat as `getChat` and `getChatMember` take it: its id, or `@username` for a public chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ChatRef {
    Id(i64),
    Username(String),
}

#[derive(Debug, Serialize)]
pub(super) struct GetChat<'a> {
    pub chat_id: &'a ChatRef,
}

#[derive(Debug, Serialize)]
pub(super) struct GetChatMember {
    pub chat_id: i64,
    pub user_id: i64,
}

/// A reply carried in the webhook's HTTP response instead of a separate call: Telegram performs it
/// when it receives the response. Only for replies whose result nobody needs.
pub fn webhook_reply(chat: ChatId, message: &Message) -> serde_json::Value {
    #[derive(Serialize)]
    struct Reply<'a> {
        method: &'static str,
        #[serde(flatten)]
        body: SendMessage<'a>,
    }
    serde_json::json!(Reply {
        method: "sendMessage",
        body: SendMessage::new(chat, message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_message_body_matches_the_bot_api() {
        let keyboard = InlineKeyboard::column([InlineButton::callback(
            "Bertiburg (Swartland)",
            "sub:eskom:64106",
        )
        .expect("short data")]);
        let message = Message::html("<b>Stage 4</b>").with_keyboard(keyboard);
        let body = serde_json::to_value(SendMessage::new(ChatId(-42), &message)).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "chat_id": -42,
                "text": "<b>Stage 4</b>",
                "parse_mode": "HTML",
                "reply_markup": {"inline_keyboard": [[
                    {"text": "Bertiburg (Swartland)", "callback_data": "sub:eskom:64106"}
                ]]},
                "link_preview_options": {"is_disabled": true}
            })
        );
        let plain = serde_json::to_value(SendMessage::new(ChatId(7), &Message::plain("<hi>")))
            .expect("json");
        assert_eq!(plain.get("parse_mode"), None);
        assert_eq!(plain.get("reply_markup"), None);
    }

    #[test]
    fn webhook_reply_names_its_method() {
        let reply = webhook_reply(ChatId(5), &Message::plain("hello"));
        assert_eq!(reply["method"], "sendMessage");
        assert_eq!(reply["chat_id"], 5);
        assert_eq!(reply["text"], "hello");
    }

    #[test]
    fn callback_answers_leave_out_what_is_unset() {
        let body = serde_json::to_value(AnswerCallbackQuery::new("77")).expect("json");
        assert_eq!(body, serde_json::json!({"callback_query_id": "77"}));
    }
}
