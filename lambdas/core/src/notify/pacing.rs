//! Telegram's broadcast limits: about 30 messages a second overall and one a second per chat.
//!
//! Written here rather than taken from a rate-limiting crate because it needs both limits at once,
//! keyed by chat, plus a bot-wide pause on flood control; on tokio's clock, so tests can pause time.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::domain::ChatId;

#[derive(Debug)]
pub(crate) struct Pacer {
    overall_gap: Duration,
    chat_gap: Duration,
    next_any: Instant,
    next_for: HashMap<ChatId, Instant>,
}

impl Pacer {
    pub(crate) fn new(overall_gap: Duration, chat_gap: Duration) -> Self {
        Pacer {
            overall_gap,
            chat_gap,
            next_any: Instant::now(),
            next_for: HashMap::new(),
        }
    }

    /// When `chat` may next receive, ignoring the overall limit (which is the same for every chat).
    pub(crate) fn chat_ready_at(&self, chat: ChatId) -> Instant {
        self.next_for
            .get(&chat)
            .copied()
            .unwrap_or_else(Instant::now)
    }

    /// Waits until a message to `chat` is allowed, and counts it as sent now.
    pub(crate) async fn wait_turn(&mut self, chat: ChatId) {
        let at = self.next_any.max(self.chat_ready_at(chat));
        sleep_until(at).await;
        let now = Instant::now();
        self.next_any = now + self.overall_gap;
        self.next_for.insert(chat, now + self.chat_gap);
    }

    /// Flood control: Telegram asked for a pause, and it applies to the bot, not one chat.
    pub(crate) fn pause_all_for(&mut self, pause: Duration) {
        self.next_any = self.next_any.max(Instant::now() + pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_sends_overall_and_per_chat() {
        let start = Instant::now();
        let mut pacer = Pacer::new(Duration::from_millis(100), Duration::from_secs(1));
        pacer.wait_turn(ChatId(1)).await;
        pacer.wait_turn(ChatId(2)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        pacer.wait_turn(ChatId(1)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        pacer.pause_all_for(Duration::from_secs(5));
        pacer.wait_turn(ChatId(3)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(6));
    }
}
