//! A Telegram that records each delivery after 100 ms, paid or free, for the broadcast tests that
//! cut a run off by its deadline and resume it, or count sends a second.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use loadshed_core::domain::ChatId;
use loadshed_core::ports::{DeliveryKey, Message, Messenger, SendError, Sent};

#[derive(Default)]
pub struct Recorder {
    /// Each delivery's chat and message key, in the order Telegram took them.
    pub delivered: Mutex<Vec<(ChatId, String)>>,
    /// When each of those sends started, in the same order.
    started: Mutex<Vec<Instant>>,
}

impl Recorder {
    /// Each delivery's chat, message key and when its send started.
    #[allow(dead_code)] // Not every test binary including this module reads the times.
    pub fn sends(&self) -> Vec<(ChatId, String, Instant)> {
        let delivered = self.delivered.lock().expect("lock");
        let started = self.started.lock().expect("lock");
        delivered
            .iter()
            .zip(started.iter())
            .map(|((chat, key), at)| (*chat, key.clone(), *at))
            .collect()
    }
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
        let at = Instant::now();
        // Telegram's answer takes a while: a short deadline cuts the run off midway.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut delivered = self.delivered.lock().expect("lock");
        delivered.push((chat, key.message.clone()));
        self.started.lock().expect("lock").push(at);
        Ok(Sent {
            message_id: delivered.len() as i64,
        })
    }

    async fn send_paid_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        message: &Message,
    ) -> Result<Sent, SendError> {
        self.send_delivery(chat, key, message).await
    }
}
