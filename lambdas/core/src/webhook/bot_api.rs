//! The one Bot API call the webhook makes itself rather than in its response.

use async_trait::async_trait;

use crate::adapters::telegram::{AnswerCallbackQuery, TelegramClient, TelegramError};

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
