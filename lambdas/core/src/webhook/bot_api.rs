//! The one Bot API call the webhook makes itself rather than in its response (and, for
//! `/channel`, `webhook::channels`'s lookups).

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
        self.loaded("answerCallbackQuery")
            .await?
            .answer(answer)
            .await
    }
}

impl TelegramMessenger {
    /// The client, its token loaded first if need be: a token that cannot be loaded makes the
    /// call `method` unavailable (transient), like Telegram not answering.
    pub(crate) async fn loaded(
        &self,
        method: &'static str,
    ) -> Result<&TelegramClient, TelegramError> {
        self.client().await.map_err(|e| TelegramError::Unavailable {
            method,
            detail: format!("the bot token could not be loaded: {e}"),
        })
    }
}
