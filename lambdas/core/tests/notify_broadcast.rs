//! The broadcaster on paused tokio time with a scripted messenger and the in-memory store: pacing,
//! flood control, removed and migrated chats, refusals, and exactly-once across a killed run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::telegram::{BotToken, TelegramClient};
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId};
use loadshed_core::errors::{ErrorName, Named};
use std::sync::Arc;

use loadshed_core::notify::{
    BroadcastConfig, BroadcastError, BroadcastReport, Broadcaster, FailedDelivery, Migration,
    Outgoing, Pacer, PacingLimits, Run,
};
use loadshed_core::ports::{
    DeliveryKey, DeliveryLedger, Message, Messenger, SendError, Sent, SubscriptionStore,
};
use serde_json::json;
use tokio::time::Instant;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A messenger that answers from a per-chat script (success once the script runs out) and records
/// every attempt with its virtual time.
#[derive(Default)]
struct ScriptedMessenger {
    scripts: Mutex<HashMap<ChatId, VecDeque<SendError>>>,
    /// After this many successful sends, every send fails as unavailable: Telegram going away.
    fail_after: Option<usize>,
    attempts: Mutex<Vec<Attempt>>,
}

#[derive(Debug, Clone)]
struct Attempt {
    chat: ChatId,
    text: String,
    at: Instant,
    delivered: bool,
}

impl ScriptedMessenger {
    fn failing_after(sends: usize) -> Self {
        ScriptedMessenger {
            fail_after: Some(sends),
            ..Default::default()
        }
    }

    fn script(self, chat: i64, failures: impl IntoIterator<Item = SendError>) -> Self {
        self.scripts
            .lock()
            .expect("lock")
            .entry(ChatId(chat))
            .or_default()
            .extend(failures);
        self
    }

    fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().expect("lock").clone()
    }

    fn delivered(&self) -> Vec<(ChatId, String)> {
        self.attempts()
            .into_iter()
            .filter(|a| a.delivered)
            .map(|a| (a.chat, a.text))
            .collect()
    }
}

#[async_trait]
impl Messenger for ScriptedMessenger {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        let mut attempts = self.attempts.lock().expect("lock");
        let delivered_so_far = attempts.iter().filter(|a| a.delivered).count();
        let scripted = self
            .scripts
            .lock()
            .expect("lock")
            .get_mut(&chat)
            .and_then(VecDeque::pop_front);
        let outcome = match scripted {
            Some(failure) => Err(failure),
            None if self.fail_after.is_some_and(|n| delivered_so_far >= n) => {
                Err(SendError::Unavailable {
                    detail: "connection reset".into(),
                })
            }
            None => Ok(Sent {
                message_id: delivered_so_far as i64 + 1,
            }),
        };
        attempts.push(Attempt {
            chat,
            text: message.text.clone(),
            at: Instant::now(),
            delivered: outcome.is_ok(),
        });
        outcome
    }
}

fn clock() -> ManualClock {
    ManualClock::at_local(2026, 11, 28, 10, 0).expect("valid time")
}

fn message_for(chat: i64, id: &str) -> Outgoing {
    Outgoing::new(ChatId(chat), id, Message::plain(format!("{id} to {chat}")))
}

async fn broadcast(
    messenger: &dyn Messenger,
    store: &MemoryStore,
    clock: &ManualClock,
    batch: Vec<Outgoing>,
) -> Result<BroadcastReport, BroadcastError> {
    broadcast_as(messenger, store, clock, batch, &Run::new("test-run")).await
}

async fn broadcast_as(
    messenger: &dyn Messenger,
    store: &MemoryStore,
    clock: &ManualClock,
    batch: Vec<Outgoing>,
    run: &Run,
) -> Result<BroadcastReport, BroadcastError> {
    let pacer = Arc::new(Pacer::default());
    Broadcaster::new(
        messenger,
        store,
        store,
        clock,
        pacer,
        BroadcastConfig::default(),
    )
    .send(batch, run)
    .await
}

async fn subscribe(store: &MemoryStore, clock: &ManualClock, chat: i64, areas: &[&Area]) {
    for area in areas {
        store
            .subscribe(ChatId(chat), area, clock.now())
            .await
            .expect("subscribe");
    }
}

fn areas() -> (Area, Area) {
    (
        Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0),
        Area::sepush(
            "eskde-14-milnerton",
            "Milnerton (14)",
            "Eskom Direct, City of Cape Town",
        ),
    )
}

#[tokio::test(start_paused = true)]
async fn thirty_one_messages_take_at_least_a_second_and_one_chat_gets_one_a_second() {
    let messenger = ScriptedMessenger::default();
    let store = MemoryStore::new();
    let clock = clock();
    let start = Instant::now();
    let batch: Vec<Outgoing> = (1..=31).map(|chat| message_for(chat, "stage:4")).collect();
    let report = broadcast(&messenger, &store, &clock, batch)
        .await
        .expect("broadcast");
    assert_eq!(report.sent, 31);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "31 messages in {:?}: faster than 30 per second",
        start.elapsed()
    );
    let attempts = messenger.attempts();
    for pair in attempts.windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_millis(1000 / 30));
    }
}

#[tokio::test(start_paused = true)]
async fn one_chat_waits_a_second_between_its_messages_without_holding_up_the_others() {
    let messenger = ScriptedMessenger::default();
    let store = MemoryStore::new();
    let clock = clock();
    let mut batch = Outgoing::parts(
        ChatId(1),
        "status",
        vec![
            Message::plain("part 1"),
            Message::plain("part 2"),
            Message::plain("part 3"),
        ],
    );
    batch.push(message_for(2, "stage:4"));
    batch.push(message_for(3, "stage:4"));
    broadcast(&messenger, &store, &clock, batch)
        .await
        .expect("broadcast");
    let attempts = messenger.attempts();
    let order: Vec<(i64, &str)> = attempts
        .iter()
        .map(|a| (a.chat.0, a.text.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (1, "part 1"),
            (2, "stage:4 to 2"),
            (3, "stage:4 to 3"),
            (1, "part 2"),
            (1, "part 3")
        ]
    );
    let to_chat_1: Vec<Instant> = attempts
        .iter()
        .filter(|a| a.chat == ChatId(1))
        .map(|a| a.at)
        .collect();
    for pair in to_chat_1.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_secs(1),
            "{:?}",
            pair[1] - pair[0]
        );
    }
    for part in 1..=3 {
        let key = DeliveryKey {
            chat: ChatId(1),
            message: format!("status#{part}"),
        };
        assert!(
            store
                .was_delivered(&key, clock.now())
                .await
                .expect("ledger")
        );
    }
}

#[tokio::test(start_paused = true)]
async fn flood_control_pauses_that_chat_only_and_retries_after_retry_after() {
    let messenger = ScriptedMessenger::default().script(
        1,
        [SendError::RateLimited {
            retry_after: Duration::from_secs(9),
        }],
    );
    let store = MemoryStore::new();
    let clock = clock();
    let start = Instant::now();
    let report = broadcast(
        &messenger,
        &store,
        &clock,
        vec![message_for(1, "stage:4"), message_for(2, "stage:4")],
    )
    .await
    .expect("broadcast");
    assert_eq!(report.sent, 2);
    let attempts = messenger.attempts();
    assert_eq!(attempts.len(), 3);
    let to = |chat: i64| -> Vec<&Attempt> {
        attempts.iter().filter(|a| a.chat == ChatId(chat)).collect()
    };
    assert!(!to(1)[0].delivered);
    assert!(to(1)[1].at - start >= Duration::from_secs(9));
    // The other chat is not held up by chat 1's pause.
    assert!(
        to(2)[0].at - start < Duration::from_secs(1),
        "{:?}",
        to(2)[0].at - start
    );
}

#[tokio::test(start_paused = true)]
async fn flood_control_beyond_patience_fails_the_run_as_transient() {
    let messenger = ScriptedMessenger::default().script(
        1,
        [SendError::RateLimited {
            retry_after: Duration::from_secs(3600),
        }],
    );
    let store = MemoryStore::new();
    let clock = clock();
    let error = broadcast(&messenger, &store, &clock, vec![message_for(1, "stage:4")])
        .await
        .expect_err("gives up");
    assert_eq!(error.error_name(), ErrorName::TelegramUnavailable);
    assert!(error.error_name().is_transient());
    assert_eq!(messenger.attempts().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_backoff() {
    let unavailable = || SendError::Unavailable {
        detail: "502".into(),
    };
    let messenger = ScriptedMessenger::default().script(1, [unavailable(), unavailable()]);
    let store = MemoryStore::new();
    let clock = clock();
    let report = broadcast(&messenger, &store, &clock, vec![message_for(1, "stage:4")])
        .await
        .expect("third time lucky");
    assert_eq!(report.sent, 1);
    assert_eq!(messenger.attempts().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_blocked_chat_loses_its_subscriptions_and_its_other_messages() {
    let (bertiburg, milnerton) = areas();
    let store = MemoryStore::new();
    let clock = clock();
    subscribe(&store, &clock, 7, &[&bertiburg, &milnerton]).await;
    subscribe(&store, &clock, 8, &[&bertiburg]).await;
    let messenger = ScriptedMessenger::default().script(
        7,
        [SendError::ChatUnreachable {
            reason: "Forbidden: bot was blocked by the user".into(),
        }],
    );
    let report = broadcast(
        &messenger,
        &store,
        &clock,
        vec![
            message_for(7, "stage:4"),
            message_for(7, "schedule:eskom:64106"),
            message_for(8, "stage:4"),
        ],
    )
    .await
    .expect("broadcast");
    assert_eq!(report.removed_chats, [ChatId(7)]);
    assert_eq!(report.dropped, 1);
    assert_eq!(report.sent, 1);
    assert!(store.areas_of(ChatId(7)).await.expect("store").is_empty());
    assert_eq!(store.areas_of(ChatId(8)).await.expect("store").len(), 1);
    assert_eq!(
        messenger
            .attempts()
            .iter()
            .filter(|a| a.chat == ChatId(7))
            .count(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_migrated_group_is_followed_with_its_subscriptions() {
    let (old, new) = (-218487457i64, -1001283156137i64);
    let (bertiburg, _) = areas();
    let store = MemoryStore::new();
    let clock = clock();
    subscribe(&store, &clock, old, &[&bertiburg]).await;
    let messenger =
        ScriptedMessenger::default().script(old, [SendError::ChatMigrated { to: ChatId(new) }]);
    let report = broadcast(
        &messenger,
        &store,
        &clock,
        vec![message_for(old, "stage:4"), message_for(old, "reminder:x")],
    )
    .await
    .expect("broadcast");
    assert_eq!(
        report.migrated_chats,
        [Migration {
            from: ChatId(old),
            to: ChatId(new)
        }]
    );
    assert_eq!(report.sent, 2);
    assert_eq!(
        messenger.delivered(),
        [
            (ChatId(new), "stage:4 to -218487457".to_owned()),
            (ChatId(new), "reminder:x to -218487457".to_owned())
        ]
    );
    assert!(store.areas_of(ChatId(old)).await.expect("store").is_empty());
    assert_eq!(
        store.areas_of(ChatId(new)).await.expect("store"),
        [bertiburg]
    );
    // Recorded under both ids: a rerun built before or after the move skips it.
    for chat in [old, new] {
        let key = DeliveryKey {
            chat: ChatId(chat),
            message: "stage:4".into(),
        };
        assert!(
            store
                .was_delivered(&key, clock.now())
                .await
                .expect("ledger"),
            "{chat}"
        );
    }
    let rerun = broadcast(
        &messenger,
        &store,
        &clock,
        vec![message_for(new, "stage:4")],
    )
    .await
    .expect("rerun");
    assert_eq!((rerun.sent, rerun.already_delivered), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn other_refusals_are_reported_per_chat_and_not_retried() {
    let messenger = ScriptedMessenger::default().script(
        5,
        [SendError::Rejected {
            status: 400,
            reason: "Bad Request: chat not found".into(),
        }],
    );
    let store = MemoryStore::new();
    let clock = clock();
    let report = broadcast(
        &messenger,
        &store,
        &clock,
        vec![message_for(5, "stage:4"), message_for(6, "stage:4")],
    )
    .await
    .expect("broadcast");
    assert_eq!(
        report.failed,
        [FailedDelivery {
            chat: ChatId(5),
            message: "stage:4".into(),
            reason: "400: Bad Request: chat not found".into()
        }]
    );
    assert_eq!(report.sent, 1);
    assert_eq!(messenger.attempts().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_refused_token_stops_the_run_at_once() {
    let messenger = ScriptedMessenger::default().script(1, [SendError::Unauthorized]);
    let store = MemoryStore::new();
    let clock = clock();
    let error = broadcast(
        &messenger,
        &store,
        &clock,
        vec![message_for(1, "stage:4"), message_for(2, "stage:4")],
    )
    .await
    .expect_err("unauthorized");
    assert_eq!(error.error_name(), ErrorName::TelegramUnauthorized);
    assert_eq!(messenger.attempts().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn what_the_ledger_holds_is_skipped() {
    let messenger = ScriptedMessenger::default();
    let store = MemoryStore::new();
    let clock = clock();
    let key = DeliveryKey {
        chat: ChatId(1),
        message: "stage:4".into(),
    };
    store
        .record_delivery(&key, clock.now(), clock.now() + chrono::Duration::days(1))
        .await
        .expect("ledger");
    let report = broadcast(
        &messenger,
        &store,
        &clock,
        vec![
            message_for(1, "stage:4"),
            message_for(2, "stage:4"),
            message_for(2, "stage:4"),
        ],
    )
    .await
    .expect("broadcast");
    assert_eq!((report.sent, report.already_delivered), (1, 2));
    assert_eq!(
        messenger.delivered(),
        [(ChatId(2), "stage:4 to 2".to_owned())]
    );
}

#[tokio::test(start_paused = true)]
async fn a_part_held_by_another_run_skips_that_event_only() {
    let messenger = ScriptedMessenger::default();
    let store = MemoryStore::new();
    let clock = clock();
    // Another live run is sending the schedule change to chat 1 (its first part is claimed).
    let held = DeliveryKey {
        chat: ChatId(1),
        message: "schedule:a:f#1".into(),
    };
    store
        .claim_delivery(
            &held,
            "stream:other",
            clock.now(),
            clock.now() + chrono::Duration::minutes(5),
        )
        .await
        .expect("claim");
    let batch = vec![
        message_for(1, "schedule:a:f#1"),
        message_for(1, "schedule:a:f#2"),
        message_for(1, "status:tg-1#1"),
    ];
    let report = broadcast(&messenger, &store, &clock, batch)
        .await
        .expect("broadcast");
    assert_eq!((report.held_elsewhere, report.sent), (2, 1), "{report:?}");
    // The status the chat asked for is no one else's to send.
    assert_eq!(
        messenger.delivered(),
        [(ChatId(1), "status:tg-1#1 to 1".to_owned())]
    );
}

fn big_batch() -> Vec<Outgoing> {
    (1..=12)
        .flat_map(|chat| {
            Outgoing::parts(
                ChatId(chat),
                "stage:6@2026-11-28T08:00Z",
                vec![
                    Message::plain(format!("a{chat}")),
                    Message::plain(format!("b{chat}")),
                ],
            )
        })
        .collect()
}

fn assert_each_sent_once(sends: &[(ChatId, String)]) {
    let mut seen: Vec<(ChatId, String)> = sends.to_vec();
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), before, "a message went out twice: {sends:?}");
    assert_eq!(seen.len(), 24, "a message was skipped: {seen:?}");
}

#[tokio::test(start_paused = true)]
async fn a_run_failing_halfway_and_run_again_sends_each_message_exactly_once() {
    let store = MemoryStore::new();
    let clock = clock();
    let dying = ScriptedMessenger::failing_after(9);
    // Some progress is a success that leaves the rest to the next run.
    let report = broadcast(&dying, &store, &clock, big_batch())
        .await
        .expect("partial success");
    assert_eq!((report.sent, report.remaining), (9, 15));

    let healthy = ScriptedMessenger::default();
    let report = broadcast(&healthy, &store, &clock, big_batch())
        .await
        .expect("rerun");
    assert_eq!((report.sent, report.already_delivered), (15, 9));
    let mut all = dying.delivered();
    all.extend(healthy.delivered());
    assert_each_sent_once(&all);
}

#[tokio::test(start_paused = true)]
async fn telegram_failing_every_try_is_a_transient_error() {
    let store = MemoryStore::new();
    let clock = clock();
    let dead = ScriptedMessenger::failing_after(0);
    let error = broadcast(&dead, &store, &clock, big_batch())
        .await
        .expect_err("nothing could be sent");
    assert_eq!(error.error_name(), ErrorName::TelegramUnavailable);
    assert_eq!(error.report().remaining, 24);
    // Nothing is left claimed: the next run sends everything.
    let healthy = ScriptedMessenger::default();
    let report = broadcast_as(&healthy, &store, &clock, big_batch(), &Run::new("other"))
        .await
        .expect("rerun");
    assert_eq!(report.sent, 24);
}

async fn killed_run(store: &MemoryStore, clock: &ManualClock) -> ScriptedMessenger {
    let first = ScriptedMessenger::default();
    // The Lambda is killed (its future dropped) partway through the paced sends.
    let killed = tokio::time::timeout(
        Duration::from_millis(700),
        broadcast_as(&first, store, clock, big_batch(), &Run::new("first")),
    )
    .await;
    assert!(killed.is_err(), "the run should have been cut short");
    let sent = first.delivered().len();
    assert!(sent > 0 && sent < 24, "{sent}");
    first
}

#[tokio::test(start_paused = true)]
async fn a_killed_run_retried_under_its_name_takes_its_claims_back_and_sends_each_once() {
    let store = MemoryStore::new();
    let clock = clock();
    let first = killed_run(&store, &clock).await;
    let second = ScriptedMessenger::default();
    let report = broadcast_as(&second, &store, &clock, big_batch(), &Run::new("first"))
        .await
        .expect("rerun");
    assert_eq!(report.already_delivered, first.delivered().len());
    assert_eq!(report.held_elsewhere, 0);
    let mut all = first.delivered();
    all.extend(second.delivered());
    assert_each_sent_once(&all);
}

#[tokio::test(start_paused = true)]
async fn another_run_leaves_a_dead_runs_claims_until_their_lease_ends_then_takes_them_over() {
    let store = MemoryStore::new();
    let clock = clock();
    let first = killed_run(&store, &clock).await;
    let other = ScriptedMessenger::default();
    let report = broadcast_as(&other, &store, &clock, big_batch(), &Run::new("other"))
        .await
        .expect("concurrent run");
    assert!(report.held_elsewhere > 0, "{report:?}");
    assert_eq!(
        report.sent + report.already_delivered + report.held_elsewhere,
        24
    );
    // The dead run's leases run out; the next run takes its claims over.
    clock.advance(BroadcastConfig::default().claim_lease + chrono::Duration::seconds(1));
    let late = ScriptedMessenger::default();
    let report = broadcast_as(&late, &store, &clock, big_batch(), &Run::new("late"))
        .await
        .expect("takeover");
    assert_eq!(report.held_elsewhere, 0);
    let mut all = first.delivered();
    all.extend(other.delivered());
    all.extend(late.delivered());
    assert_each_sent_once(&all);
}

/// Answers every send after `latency`, as Telegram does from an AWS region.
struct SlowMessenger {
    latency: Duration,
    sends: Mutex<Vec<(ChatId, Instant)>>,
}

#[async_trait]
impl Messenger for SlowMessenger {
    async fn send(&self, chat: ChatId, _message: &Message) -> Result<Sent, SendError> {
        self.sends
            .lock()
            .expect("lock")
            .push((chat, Instant::now()));
        tokio::time::sleep(self.latency).await;
        Ok(Sent { message_id: 1 })
    }
}

#[tokio::test(start_paused = true)]
async fn sends_overlap_so_latency_does_not_slow_the_broadcast() {
    let messenger = SlowMessenger {
        latency: Duration::from_millis(300),
        sends: Mutex::default(),
    };
    let store = MemoryStore::new();
    let clock = clock();
    let start = Instant::now();
    let batch: Vec<Outgoing> = (1..=300).map(|chat| message_for(chat, "stage:4")).collect();
    let report = broadcast(&messenger, &store, &clock, batch)
        .await
        .expect("broadcast");
    assert_eq!(report.sent, 300);
    // Sequential sends at 300 ms each would take 90 s; paced at 34.5 ms they take about 10.4.
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(11), "{elapsed:?}");
    let sends = messenger.sends.lock().expect("lock").clone();
    for (i, (_, at)) in sends.iter().enumerate() {
        let in_window = sends[i..]
            .iter()
            .take_while(|(_, later)| *later - *at < Duration::from_secs(1))
            .count();
        assert!(in_window <= 30, "{in_window} sends within a second");
    }
}

#[tokio::test(start_paused = true)]
async fn no_send_starts_past_the_deadline_and_the_rest_is_left_for_the_next_run() {
    let messenger = ScriptedMessenger::default();
    let store = MemoryStore::new();
    let clock = clock();
    let margin = BroadcastConfig::default().deadline_margin;
    // One second of sending time: about 30 messages.
    let run =
        Run::new("deadline").with_deadline(Some(Instant::now() + margin + Duration::from_secs(1)));
    let batch: Vec<Outgoing> = (1..=100).map(|chat| message_for(chat, "stage:4")).collect();
    let report = broadcast_as(&messenger, &store, &clock, batch.clone(), &run)
        .await
        .expect("partial");
    assert!((28..=31).contains(&report.sent), "{report:?}");
    assert_eq!(report.sent + report.remaining, 100);
    let next = broadcast_as(&messenger, &store, &clock, batch, &Run::new("next"))
        .await
        .expect("resumed");
    assert_eq!(
        (next.sent, next.already_delivered),
        (report.remaining, report.sent)
    );
}

/// The broadcaster driving the real client against wiremock, on real time with small gaps (wiremock
/// needs real I/O, which paused time would race with the client's timeout).
#[tokio::test]
async fn broadcasts_through_the_bot_api_client() {
    let server = MockServer::start().await;
    let ok =
        ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {"message_id": 1}}));
    Mock::given(method("POST"))
        .and(path("/bot42:test-token/sendMessage"))
        .and(body_partial_json(json!({"chat_id": 11})))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "ok": false, "error_code": 403, "description": "Forbidden: bot was kicked from the group chat"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/bot42:test-token/sendMessage"))
        .and(body_partial_json(json!({"chat_id": 12})))
        .respond_with(ok)
        .expect(2)
        .mount(&server)
        .await;
    let client = TelegramClient::with_base_url(
        BotToken::new("42:test-token").expect("token"),
        &server.uri(),
        Duration::from_secs(5),
    )
    .expect("client");
    let (bertiburg, _) = areas();
    let store = MemoryStore::new();
    let clock = clock();
    subscribe(&store, &clock, 11, &[&bertiburg]).await;
    let pacer = Arc::new(Pacer::new(PacingLimits {
        overall_gap: Duration::from_millis(1),
        chat_gap: Duration::from_millis(20),
        group_gap: Duration::from_millis(20),
        paid_rate: 0,
    }));
    let report = Broadcaster::new(
        &client,
        &store,
        &store,
        &clock,
        pacer,
        BroadcastConfig::default(),
    )
    .send(
        vec![
            message_for(11, "stage:4"),
            message_for(12, "stage:4"),
            message_for(12, "reminder:1"),
        ],
        &Run::new("client"),
    )
    .await
    .expect("broadcast");
    assert_eq!(report.sent, 2);
    assert_eq!(report.removed_chats, [ChatId(11)]);
    assert!(store.areas_of(ChatId(11)).await.expect("store").is_empty());
}
