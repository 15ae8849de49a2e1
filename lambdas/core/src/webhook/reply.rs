//! What the handler asks Telegram to do, and how it travels in the webhook's HTTP response.

use serde_json::{Map, Value};

use crate::adapters::telegram::{AnswerCallbackQuery, EditMessageText, webhook_reply};
use crate::domain::ChatId;
use crate::ports::Message;

/// One Bot API call whose result nobody needs, so it can ride in the webhook response: Telegram
/// performs it on receiving our 200 (and never, if it does not receive it, which is also exactly
/// when it redelivers the update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Send {
        chat: ChatId,
        message: Message,
        /// Thread the message under this one, e.g. a list of choices under the `/subscribe` that
        /// asked for it (a tap on a choice reads the search back from there).
        reply_to: Option<i64>,
    },
    /// Replaces an earlier bot message, e.g. a keyboard once its choice is made.
    Edit {
        chat: ChatId,
        message_id: i64,
        message: Message,
    },
    AnswerCallback(AnswerCallbackQuery),
}

impl Reply {
    /// The JSON body: the call's parameters plus `"method"`.
    pub fn webhook_body(&self) -> Result<Value, serde_json::Error> {
        match self {
            Reply::Send {
                chat,
                message,
                reply_to,
            } => {
                let mut body = webhook_reply(*chat, message);
                if let (Some(reply_to), Some(fields)) = (reply_to, body.as_object_mut()) {
                    // If the user deleted their message meanwhile, send anyway rather than fail.
                    fields.insert(
                        "reply_parameters".to_owned(),
                        serde_json::json!({
                            "message_id": reply_to,
                            "allow_sending_without_reply": true,
                        }),
                    );
                }
                Ok(body)
            }
            Reply::Edit {
                chat,
                message_id,
                message,
            } => with_method(
                "editMessageText",
                serde_json::to_value(EditMessageText::new(*chat, *message_id, message))?,
            ),
            Reply::AnswerCallback(answer) => {
                with_method("answerCallbackQuery", serde_json::to_value(answer)?)
            }
        }
    }
}

fn with_method(method: &str, parameters: Value) -> Result<Value, serde_json::Error> {
    let Value::Object(parameters) = parameters else {
        return Err(serde::ser::Error::custom(format!(
            "{method} parameters are not a JSON object"
        )));
    };
    let mut body = Map::with_capacity(parameters.len() + 1);
    body.insert("method".to_owned(), Value::from(method));
    body.extend(parameters);
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_threaded_message_names_its_parent() {
        let reply = Reply::Send {
            chat: ChatId(-7),
            message: Message::plain("pick one"),
            reply_to: Some(12),
        };
        let body = reply.webhook_body().expect("body");
        assert_eq!(body["method"], "sendMessage");
        assert_eq!(body["chat_id"], -7);
        assert_eq!(
            body["reply_parameters"],
            json!({"message_id": 12, "allow_sending_without_reply": true})
        );
    }

    #[test]
    fn edits_and_answers_carry_their_method() {
        let edit = Reply::Edit {
            chat: ChatId(3),
            message_id: 9,
            message: Message::plain("done"),
        };
        let body = edit.webhook_body().expect("body");
        assert_eq!(body["method"], "editMessageText");
        assert_eq!(body["message_id"], 9);
        assert_eq!(body["text"], "done");

        let answer = Reply::AnswerCallback(AnswerCallbackQuery::new("q").with_text("ok"));
        assert_eq!(
            answer.webhook_body().expect("body"),
            json!({"method": "answerCallbackQuery", "callback_query_id": "q", "text": "ok"})
        );
    }
}
