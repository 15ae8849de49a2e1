//! A Telegram that records each delivery after 100 ms, for the broadcast tests that cut a run off
//! by its deadline and resume it.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use loadshed_core::domain::ChatId;
use loadshed_core::ports::{DeliveryKey, Message, Messenger, SendError, Sent};

#[derive(Default)]
pub struct Recorder {
    /// Each delivery's chat and message key, in the order Telegram took them.
    pub delivered: Mutex<Vec<(ChatId, String)>>,
}

#[async_trait]
impl Messenger for Recorder {
    async fn send(&self, _chat: ChatId, _message: &Message) -> Result<Sent, SendError> {
        Err(SendError::Rejected {
            status: 0,
            reason: "broadcasts send deliveries".into(),
        })
    }

    async fn send_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        _message: &Message,
    ) -> Result<Sent, SendError> {
        // Telegram's answer takes a while: a short deadline cuts the run off midway.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut delivered = self.delivered.lock().expect("lock");
        delivered.push((chat, key.message.clone()));
        Ok(Sent {
            message_id: delivered.len() as i64,
        })
    }
}
