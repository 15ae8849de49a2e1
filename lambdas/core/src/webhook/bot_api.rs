//! The one Bot API call the webhook makes itself rather than in its response.

use async_trait::async_trait;

use crate::adapters::telegram::{AnswerCallbackQuery, TelegramClient, TelegramError};
use crate::runtime::telegram::TelegramMessenger;

/// Answers a tapped button. The response body carries one call; when that is the edit confirming
/// the choice, the answer that stops the button's spinner has to go separately.
#[async_trait]
pub trait CallbackAnswers: Send + Sync {
    async fn answer(&self, answer: &AnswerCallbackQuery) -> Result<(), TelegramError>;
}

#[async_trait]
impl CallbackAnswers for TelegramClient {
    async fn answer(&self, answer: &AnswerCallbackQuery) -> Result<(), TelegramError> {
        self.answer_callback_query(answer).await
    }
}

/// The client whose token may still be in SSM: answering first loads it.
#[async_trait]
impl CallbackAnswers for TelegramMessenger {
    async fn answer(&self, answer: &AnswerCallbackQuery) -> Result<(), TelegramError> {
        let client = self
            .client()
            .await
            .map_err(|e| TelegramError::Unavailable {
                method: "answerCallbackQuery",
                detail: format!("the bot token could not be loaded: {e}"),
            })?;
        client.answer(answer).await
    }
}
