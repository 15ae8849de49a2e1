//! Paid broadcasts on paused tokio time: sends beyond the free budget go paid up to the paid rate;
//! a 429 on a paid send, or Telegram refusing it for want of Stars, drops the rest of the run to the
//! free rate with nothing lost or sent twice; a run's freshness check retires superseded news; and
//! an urgent run (reminders) goes before the others sharing the pacer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::ManualClock;
use loadshed_core::domain::ChatId;
use loadshed_core::errors::StoreError;
use loadshed_core::notify::{
    BroadcastConfig, BroadcastReport, Broadcaster, Freshness, Outgoing, Pacer, PacingLimits, Run,
};
use loadshed_core::ports::{DeliveryKey, Message, Messenger, SendError, Sent};
use tokio::time::Instant;

/// How the fake Telegram answers a paid send once `after` paid sends were accepted.
#[derive(Clone, Copy)]
enum Refusal {
    None,
    TooManyRequests,
    NoStars,
}

struct PaidTelegram {
    refuse_paid_after: usize,
    refusal: Refusal,
    log: Mutex<Vec<Call>>,
}

#[derive(Debug, Clone)]
struct Call {
    chat: ChatId,
    key: String,
    paid: bool,
    at: Instant,
    delivered: bool,
}

impl PaidTelegram {
    fn new(refuse_paid_after: usize, refusal: Refusal) -> Self {
        PaidTelegram {
            refuse_paid_after,
            refusal,
            log: Mutex::new(Vec::new()),
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.log.lock().expect("lock").clone()
    }

    fn record(&self, chat: ChatId, key: &DeliveryKey, paid: bool) -> Result<Sent, SendError> {
        let mut log = self.log.lock().expect("lock");
        let paid_so_far = log.iter().filter(|c| c.paid && c.delivered).count();
        let refused = match (paid, self.refusal) {
            (true, Refusal::TooManyRequests) if paid_so_far >= self.refuse_paid_after => {
                Some(SendError::RateLimited {
                    retry_after: Duration::from_secs(2),
                })
            }
            (true, Refusal::NoStars) if paid_so_far >= self.refuse_paid_after => {
                Some(SendError::Rejected {
                    status: 400,
                    reason: "Bad Request: not enough Stars on the bot's balance for paid broadcast"
                        .into(),
                })
            }
            _ => None,
        };
        log.push(Call {
            chat,
            key: key.message.clone(),
            paid,
            at: Instant::now(),
            delivered: refused.is_none(),
        });
        match refused {
            Some(error) => Err(error),
            None => Ok(Sent {
                message_id: log.len() as i64,
            }),
        }
    }
}

#[async_trait]
impl Messenger for PaidTelegram {
    async fn send(&self, _chat: ChatId, _message: &Message) -> Result<Sent, SendError> {
        Err(SendError::Rejected {
            status: 0,
            reason: "a broadcast sends deliveries".into(),
        })
    }

    async fn send_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        _message: &Message,
    ) -> Result<Sent, SendError> {
        self.record(chat, key, false)
    }

    async fn send_paid_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        _message: &Message,
    ) -> Result<Sent, SendError> {
        self.record(chat, key, true)
    }
}

fn clock() -> ManualClock {
    ManualClock::at_local(2026, 11, 28, 10, 0).expect("valid time")
}

fn batch(chats: i64) -> Vec<Outgoing> {
    (1..=chats)
        .map(|chat| Outgoing::new(ChatId(chat), "stage:6@t", Message::plain("stage 6")))
        .collect()
}

async fn broadcast(
    messenger: &dyn Messenger,
    paid_rate: u32,
    batch: Vec<Outgoing>,
    run: &Run,
) -> BroadcastReport {
    let store = MemoryStore::new();
    let clock = clock();
    let pacer = Arc::new(Pacer::new(
        PacingLimits::default().with_paid_rate(paid_rate),
    ));
    Broadcaster::new(
        messenger,
        &store,
        &store,
        &clock,
        pacer,
        BroadcastConfig {
            // As `NotifyConfig::with_paid_broadcast_rate` sets it at 1,000: back to 128 at the free rate.
            paid_concurrency: 3000,
            ..BroadcastConfig::default()
        },
    )
    .send(batch, run)
    .await
    .expect("broadcast")
}

/// The most of `times` within any one second.
fn busiest_second(times: &[Instant]) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut end = 0;
    let mut busiest = 0;
    for (i, at) in times.iter().enumerate() {
        while end < times.len() && times[end].duration_since(*at) < Duration::from_secs(1) {
            end += 1;
        }
        busiest = busiest.max(end - i);
    }
    busiest
}

/// Each chat got exactly one delivered message.
fn each_chat_once(calls: &[Call], chats: i64) {
    let mut delivered: HashMap<ChatId, usize> = HashMap::new();
    for call in calls.iter().filter(|c| c.delivered) {
        *delivered.entry(call.chat).or_default() += 1;
    }
    assert_eq!(delivered.len(), chats as usize, "every chat told");
    assert!(
        delivered.values().all(|n| *n == 1),
        "a chat told twice: {delivered:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn beyond_the_free_budget_sends_go_paid_up_to_the_paid_rate() {
    let telegram = PaidTelegram::new(usize::MAX, Refusal::None);
    let start = Instant::now();
    let report = broadcast(&telegram, 1000, batch(3000), &Run::new("paid")).await;
    let calls = telegram.calls();
    each_chat_once(&calls, 3000);
    assert_eq!(report.sent, 3000);
    let paid = calls.iter().filter(|c| c.paid).count();
    assert_eq!(report.paid, paid);
    assert_eq!(report.paid_fallback, None);
    let all: Vec<Instant> = calls.iter().map(|c| c.at).collect();
    let free: Vec<Instant> = calls.iter().filter(|c| !c.paid).map(|c| c.at).collect();
    assert!(busiest_second(&all) <= 1000, "{}", busiest_second(&all));
    assert!(busiest_second(&free) <= 29, "{}", busiest_second(&free));
    // Near the paid rate: 3,000 messages in a little over 3 seconds, not 100 at the free rate.
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(busiest_second(&all) >= 950, "{}", busiest_second(&all));
    // Only what the free budget could not carry was paid for.
    assert!(paid <= 3000 - 29 * 3, "{paid} paid");
}

#[tokio::test(start_paused = true)]
async fn without_a_paid_rate_nothing_is_paid_for() {
    let telegram = PaidTelegram::new(usize::MAX, Refusal::None);
    let report = broadcast(&telegram, 0, batch(100), &Run::new("free")).await;
    let calls = telegram.calls();
    each_chat_once(&calls, 100);
    assert_eq!(report.paid, 0);
    assert!(calls.iter().all(|c| !c.paid));
    let all: Vec<Instant> = calls.iter().map(|c| c.at).collect();
    assert!(busiest_second(&all) <= 29);
}

/// After the refusal: no paid send, the free rate, and each chat told once.
async fn falls_back_to_the_free_rate(refusal: Refusal, expected_reason: &str) {
    let telegram = PaidTelegram::new(200, refusal);
    let report = broadcast(&telegram, 1000, batch(600), &Run::new("fallback")).await;
    let calls = telegram.calls();
    each_chat_once(&calls, 600);
    assert_eq!(report.sent + report.remaining, 600, "{report:?}");
    assert_eq!(report.remaining, 0, "{report:?}");
    let reason = report.paid_fallback.clone().expect("the run fell back");
    assert!(reason.contains(expected_reason), "{reason}");
    let refused = calls
        .iter()
        .position(|c| !c.delivered)
        .expect("a paid send refused");
    // Sends in flight when the refusal came may still have gone paid; after they return, none.
    let settled = calls[refused].at + Duration::from_millis(1);
    let after: Vec<&Call> = calls.iter().filter(|c| c.at > settled).collect();
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|c| !c.paid),
        "a paid send after the fallback"
    );
    let times: Vec<Instant> = after.iter().map(|c| c.at).collect();
    assert!(busiest_second(&times) <= 30, "{}", busiest_second(&times));
    assert_eq!(
        report.paid,
        calls.iter().filter(|c| c.paid && c.delivered).count()
    );
    // The refused message itself went later, once, at the free rate.
    let refused_chat = calls[refused].chat;
    let to_it: Vec<&Call> = calls
        .iter()
        .filter(|c| c.chat == refused_chat && c.delivered)
        .collect();
    assert_eq!(to_it.len(), 1);
    assert!(!to_it[0].paid);
    assert_eq!(to_it[0].key, "stage:6@t");
}

#[tokio::test(start_paused = true)]
async fn a_429_on_a_paid_send_drops_the_run_to_the_free_rate() {
    falls_back_to_the_free_rate(Refusal::TooManyRequests, "429").await;
}

#[tokio::test(start_paused = true)]
async fn telegram_refusing_the_stars_drops_the_run_to_the_free_rate() {
    falls_back_to_the_free_rate(Refusal::NoStars, "Stars").await;
}

/// A messenger that knows nothing of paid broadcasts (the console, a test double).
struct FreeOnly(PaidTelegram);

#[async_trait]
impl Messenger for FreeOnly {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        self.0.send(chat, message).await
    }

    async fn send_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        message: &Message,
    ) -> Result<Sent, SendError> {
        self.0.send_delivery(chat, key, message).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_messenger_without_paid_broadcasts_sends_everything_free() {
    let telegram = FreeOnly(PaidTelegram::new(usize::MAX, Refusal::None));
    let report = broadcast(&telegram, 1000, batch(200), &Run::new("console")).await;
    let calls = telegram.0.calls();
    each_chat_once(&calls, 200);
    assert_eq!(report.paid, 0);
    assert!(report.paid_fallback.is_some());
}

/// Chats above `stale_from` were moved by a newer change: their message is stale.
struct StaleAbove(i64);

#[async_trait]
impl Freshness for StaleAbove {
    async fn is_current(&self, outgoing: &Outgoing) -> Result<bool, StoreError> {
        Ok(outgoing.chat().0 <= self.0)
    }
}

#[tokio::test(start_paused = true)]
async fn superseded_messages_are_not_sent_and_are_counted() {
    let telegram = PaidTelegram::new(usize::MAX, Refusal::None);
    let run = Run::new("old-news").with_freshness(Some(Arc::new(StaleAbove(40))));
    let report = broadcast(&telegram, 0, batch(100), &run).await;
    let calls = telegram.calls();
    assert_eq!(report.sent, 40);
    assert_eq!(report.superseded, 60);
    assert_eq!(report.remaining, 0);
    assert!(calls.iter().all(|c| c.chat.0 <= 40));
}

#[tokio::test(start_paused = true)]
async fn an_urgent_run_goes_before_the_news_already_sending() {
    let telegram = PaidTelegram::new(usize::MAX, Refusal::None);
    let store = MemoryStore::new();
    let clock = clock();
    let pacer = Arc::new(Pacer::new(PacingLimits::default()));
    let broadcaster = Broadcaster::new(
        &telegram,
        &store,
        &store,
        &clock,
        pacer,
        BroadcastConfig::default(),
    );
    let news = batch(1000);
    let reminders: Vec<Outgoing> = (2001..=2600)
        .map(|chat| Outgoing::new(ChatId(chat), "reminder:a:t", Message::plain("soon")))
        .collect();
    let (news_run, reminder_run) = (Run::new("news"), Run::new("reminders").urgent());
    let (news_report, reminder_report) = tokio::join!(broadcaster.send(news, &news_run), async {
        // The news has been going for a while when the reminder run starts.
        tokio::time::sleep(Duration::from_secs(5)).await;
        broadcaster.send(reminders, &reminder_run).await
    });
    assert_eq!(news_report.expect("news").sent, 1000);
    assert_eq!(reminder_report.expect("reminders").sent, 600);
    let calls = telegram.calls();
    each_chat_once(
        &calls
            .iter()
            .filter(|c| c.chat.0 <= 1000)
            .cloned()
            .collect::<Vec<_>>(),
        1000,
    );
    let reminder_times: Vec<Instant> = calls
        .iter()
        .filter(|c| c.key.starts_with("reminder:"))
        .map(|c| c.at)
        .collect();
    let first = *reminder_times.iter().min().expect("reminders sent");
    let last = *reminder_times.iter().max().expect("reminders sent");
    // While the reminders go out, news only finishes what it had claimed and lined up before
    // (at most its 128 chats at once): sharing the rate, about as many as the 600 reminders would.
    let news_meanwhile = calls
        .iter()
        .filter(|c| c.key.starts_with("stage:") && c.at >= first && c.at <= last)
        .count();
    assert!(
        news_meanwhile <= 130,
        "{news_meanwhile} news sends among the reminders"
    );
    // The reminders went at the full rate: 600 at 29 a second, plus the news lined up before.
    assert!(last.duration_since(first) < Duration::from_secs(26));
}

#[tokio::test(start_paused = true)]
async fn at_the_paid_rate_news_is_not_held_back_for_reminders() {
    let telegram = PaidTelegram::new(usize::MAX, Refusal::None);
    let store = MemoryStore::new();
    let clock = clock();
    let pacer = Arc::new(Pacer::new(PacingLimits::default().with_paid_rate(1000)));
    let broadcaster = Broadcaster::new(
        &telegram,
        &store,
        &store,
        &clock,
        pacer,
        BroadcastConfig {
            paid_concurrency: 3000,
            ..BroadcastConfig::default()
        },
    );
    let reminders: Vec<Outgoing> = (20_001..=26_000)
        .map(|chat| Outgoing::new(ChatId(chat), "reminder:a:t", Message::plain("soon")))
        .collect();
    let (news_run, reminder_run) = (Run::new("news"), Run::new("reminders").urgent());
    let (news_report, reminder_report) =
        tokio::join!(broadcaster.send(batch(6000), &news_run), async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            broadcaster.send(reminders, &reminder_run).await
        });
    assert_eq!(news_report.expect("news").sent, 6000);
    assert_eq!(reminder_report.expect("reminders").sent, 6000);
    let calls = telegram.calls();
    let reminder_times: Vec<Instant> = calls
        .iter()
        .filter(|c| c.key.starts_with("reminder:"))
        .map(|c| c.at)
        .collect();
    let (first, last) = (
        *reminder_times.iter().min().expect("reminders"),
        *reminder_times.iter().max().expect("reminders"),
    );
    // Both share the paid rate: the news chats not yet claimed when the reminders came (about
    // 2,000; the 3,000 in flight had their slots before the first reminder's) keep going while the
    // reminders do. Held back, they would all wait for the last reminder.
    let news_meanwhile = calls
        .iter()
        .filter(|c| c.key.starts_with("stage:") && c.at >= first && c.at <= last)
        .count();
    assert!(
        news_meanwhile > 1000,
        "{news_meanwhile} news sends among the reminders"
    );
}

#[test]
fn only_refusals_of_the_paid_send_itself_drop_to_the_free_rate() {
    use loadshed_core::notify::is_paid_refusal;
    use loadshed_core::ports::PAID_UNSUPPORTED;
    assert!(is_paid_refusal(
        400,
        "Bad Request: not enough Stars to send paid broadcast"
    ));
    assert!(is_paid_refusal(400, "Bad Request: BALANCE_TOO_LOW"));
    assert!(is_paid_refusal(0, PAID_UNSUPPORTED));
    // The message's own refusals are not about paying.
    assert!(!is_paid_refusal(400, "Bad Request: message is too long"));
    assert!(!is_paid_refusal(400, "Bad Request: can't parse entities"));
    assert!(!is_paid_refusal(
        500,
        "Internal Server Error: stars aligned badly"
    ));
}
