//! `make bench`: a forced refresh's broadcast to N chats through the real notify task and Telegram
//! client, against a local Telegram stand-in that answers every call after a fixed latency.
//!
//! Prints, per case: messages, seconds, sustained rate (messages per second between the first and
//! the last arrival at the stand-in), the most arrivals in any one-second window (and the most sends
//! started on our side in one: on a busy machine, thread scheduling can bunch arrivals that left
//! evenly), and the shortest
//! gap between two messages to one chat. The memory store runs every case; DynamoDB (moto) runs the
//! 1,000-chat case when `LOADSHED_TEST_AWS_ENDPOINT` is set (`make bench` sets it).
//!
//! Real time, not a test: a 10,000-chat case takes about six minutes at Telegram's 30 messages/s.
//! `BROADCAST_CHATS=1000` (a comma-separated list) and `BROADCAST_LATENCIES_MS=100` narrow it.
//!
//! Then paid broadcasts (`TELEGRAM_PAID_BROADCAST_RATE`, docs/big-bots.md): `BROADCAST_PAID_CHATS`
//! (10,000) chats at 100 ms with the paid rate at 1,000 (target: >= 950 msg/s, <= 1,000 in any
//! second), with the process's peak RSS during the case; and the same against DynamoDB (moto) for
//! `BROADCAST_PAID_MOTO_CHATS` (2,000) chats, which measures what the ledger's claims (a
//! conditional PutItem each) and confirmations (grouped, 25 a BatchWriteItem) let through from one
//! process (`BROADCAST_PAID_MOTO_IN_FLIGHT`, 200, chats at once:
//! moto refuses connections when 3,000 come at once). `BROADCAST_PAID_CHATS=0` skips them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loadshed_core::adapters::dynamo::{ClientSettings, DynamoStore, create_table};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::telegram::{BotToken, TelegramClient};
use loadshed_core::clock::{Clock, SystemClock};
use loadshed_core::domain::{Area, ChatId};
use loadshed_core::ports::{DeliveryKey, Message, Messenger, SendError, Sent, Store};
use loadshed_core::tasks::{NotifyConfig, NotifyTask};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Records each call's arrival and chat, and answers after the latency.
struct StandIn {
    latency: Duration,
    arrivals: Arc<Mutex<Vec<(Instant, i64)>>>,
}

impl Respond for StandIn {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let chat = serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|body| body["chat_id"].as_i64())
            .unwrap_or_default();
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.push((Instant::now(), chat));
        }
        ResponseTemplate::new(200)
            .set_body_json(json!({"ok": true, "result": {"message_id": 1, "date": 0,
                "chat": {"id": chat, "type": "private"}}}))
            .set_delay(self.latency)
    }
}

/// The Telegram client, noting when each send starts on our side: the busiest second there shows
/// what the pacer did, apart from what scheduling on a busy machine adds before a request lands.
struct Timed {
    inner: TelegramClient,
    starts: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait::async_trait]
impl Messenger for Timed {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        if let Ok(mut starts) = self.starts.lock() {
            starts.push(Instant::now());
        }
        self.inner.send(chat, message).await
    }

    async fn send_paid_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        message: &Message,
    ) -> Result<Sent, SendError> {
        if let Ok(mut starts) = self.starts.lock() {
            starts.push(Instant::now());
        }
        self.inner.send_paid_delivery(chat, key, message).await
    }
}

/// The most instants within any one second.
fn busiest_second(times: &[Instant]) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut busiest = 0;
    let mut end = 0;
    for (i, at) in times.iter().enumerate() {
        while end < times.len() && times[end].duration_since(*at) < Duration::from_secs(1) {
            end += 1;
        }
        busiest = busiest.max(end - i);
    }
    busiest
}

struct Figures {
    messages: usize,
    seconds: f64,
    rate: f64,
    busiest_second: usize,
    busiest_second_sent: usize,
    closest_same_chat: Option<Duration>,
}

fn figures(
    arrivals: &[(Instant, i64)],
    starts: &[Instant],
    started: Instant,
    finished: Instant,
) -> Figures {
    let mut times: Vec<Instant> = arrivals.iter().map(|(at, _)| *at).collect();
    times.sort();
    let span = match (times.first(), times.last()) {
        (Some(first), Some(last)) if times.len() > 1 => last.duration_since(*first).as_secs_f64(),
        _ => 0.0,
    };
    let busiest_arrivals = busiest_second(&times);
    let mut last_to: HashMap<i64, Instant> = HashMap::new();
    let mut closest_same_chat: Option<Duration> = None;
    let mut by_time = arrivals.to_vec();
    by_time.sort_by_key(|(at, _)| *at);
    for (at, chat) in by_time {
        if let Some(previous) = last_to.insert(chat, at) {
            let gap = at.duration_since(previous);
            closest_same_chat = Some(closest_same_chat.map_or(gap, |c| c.min(gap)));
        }
    }
    Figures {
        messages: times.len(),
        seconds: finished.duration_since(started).as_secs_f64(),
        rate: if span > 0.0 {
            (times.len() - 1) as f64 / span
        } else {
            0.0
        },
        busiest_second: busiest_arrivals,
        busiest_second_sent: busiest_second(starts),
        closest_same_chat,
    }
}

fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
}

/// `chats` subscribers of one area, and a stored stage.
async fn prepare(store: &dyn Store, chats: i64) {
    let now = SystemClock.now();
    for chat in 1..=chats {
        store
            .subscribe(ChatId(chat), &bertiburg(), now)
            .await
            .expect("subscribe");
    }
    put_stage(store).await;
}

async fn put_stage(store: &dyn Store) {
    let now = SystemClock.now();
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(
                loadshed_core::domain::Stage::new(4).expect("stage"),
            ),
            None,
            now,
            None,
        )
        .await
        .expect("stage");
}

async fn run_case(store: Arc<dyn Store>, chats: i64, latency: Duration) -> Figures {
    prepare(store.as_ref(), chats).await;
    broadcast(store, chats, latency, 0, None).await
}

/// The process's peak resident set since the last [`reset_peak_rss`], in MB (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Starts counting the peak resident set afresh (`5` to `clear_refs` resets VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `in_flight`: chats served at once with the paid rate, when not the notify task's own.
async fn broadcast(
    store: Arc<dyn Store>,
    chats: i64,
    latency: Duration,
    paid_rate: u32,
    in_flight: Option<usize>,
) -> Figures {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .respond_with(StandIn {
            latency,
            arrivals: arrivals.clone(),
        })
        .mount(&server)
        .await;
    let client = TelegramClient::with_base_url(
        BotToken::new("123456:bench-token").expect("token"),
        &server.uri(),
        Duration::from_secs(10),
    )
    .expect("client");
    let starts = Arc::new(Mutex::new(Vec::new()));
    let client = Timed {
        inner: client,
        starts: starts.clone(),
    };
    let mut config = NotifyConfig::default().with_paid_broadcast_rate(paid_rate);
    if let Some(in_flight) = in_flight {
        config.broadcast.paid_concurrency = in_flight;
    }
    let task = NotifyTask::new(store, Arc::new(client), Arc::new(SystemClock), config);
    let started = Instant::now();
    let outcome = task
        .handle(json!({"workflow": {"force": true}, "execution_id": format!("bench-{chats}")}))
        .await
        .expect("broadcast");
    let finished = Instant::now();
    assert_eq!(outcome["sent"], json!(chats), "{outcome}");
    let arrivals = arrivals.lock().expect("arrivals").clone();
    let starts = starts.lock().expect("starts").clone();
    figures(&arrivals, &starts, started, finished)
}

fn list(name: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(name)
        .ok()
        .map(|text| {
            text.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| default.to_vec())
}

fn print_row(store: &str, chats: u64, latency_ms: u64, f: &Figures) {
    let closest = f
        .closest_same_chat
        .map_or("-".to_owned(), |gap| format!("{:.2} s", gap.as_secs_f64()));
    println!(
        "| {store:<6} | {chats:>6} | {latency_ms:>4} ms | {:>6} | {:>7.1} | {:>9.2} | {:>11} | {:>11} | {closest:>10} |",
        f.messages, f.seconds, f.rate, f.busiest_second, f.busiest_second_sent
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; there is nothing to configure from the command line.
    let chats = list("BROADCAST_CHATS", &[1000, 10_000]);
    let latencies = list("BROADCAST_LATENCIES_MS", &[100, 300]);
    println!(
        "Broadcast to N chats through a Telegram stand-in (target: >= 28.5 msg/s, <= 30 in any second)"
    );
    println!(
        "| store  |  chats |  latency |   sent |  secs   | msg/s     | max in 1 s  | max started | same chat  |"
    );
    println!(
        "|--------|--------|----------|--------|---------|-----------|-------------|-------------|------------|"
    );
    for &n in &chats {
        for &latency in &latencies {
            let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
            let f = run_case(store, n as i64, Duration::from_millis(latency)).await;
            print_row("memory", n, latency, &f);
        }
    }
    match std::env::var("LOADSHED_TEST_AWS_ENDPOINT") {
        Ok(endpoint) => {
            let store = DynamoStore::connect(
                format!("loadshed-bench-{}", uuid::Uuid::new_v4()),
                &ClientSettings::with_endpoint(endpoint),
            )
            .await;
            create_table(&store).await.expect("create the bench table");
            // Seeded in batches: through `subscribe` (a transaction each), moto copies the
            // whole table per transaction and 1,000 chats take it most of half an hour.
            let pairs: Vec<(ChatId, Area)> =
                (1..=1000).map(|chat| (ChatId(chat), bertiburg())).collect();
            store
                .load_subscriptions(&pairs, SystemClock.now())
                .await
                .expect("seed the bench table");
            put_stage(&store).await;
            let f = broadcast(Arc::new(store), 1000, Duration::from_millis(100), 0, None).await;
            print_row("moto", 1000, 100, &f);
        }
        Err(_) => println!(
            "(DynamoDB row skipped: LOADSHED_TEST_AWS_ENDPOINT is not set; `make bench` sets it)"
        ),
    }
    paid_cases().await;
}

/// Paid broadcasts at 1,000 a second: the memory store, then DynamoDB (moto).
async fn paid_cases() {
    let chats = list("BROADCAST_PAID_CHATS", &[10_000]);
    if chats.iter().all(|n| *n == 0) {
        return;
    }
    println!();
    println!(
        "Paid broadcast at 1,000 msg/s through a Telegram stand-in at 100 ms (target: >= 950 msg/s, <= 1,000 in any second)"
    );
    println!(
        "| store  |  chats |   sent |  secs   | msg/s     | max in 1 s  | max started | same chat  | peak RSS |"
    );
    println!(
        "|--------|--------|--------|---------|-----------|-------------|-------------|------------|----------|"
    );
    for &n in &chats {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        prepare(store.as_ref(), n as i64).await;
        reset_peak_rss();
        let f = broadcast(store, n as i64, Duration::from_millis(100), 1000, None).await;
        print_paid_row("memory", n, &f, peak_rss_mb());
    }
    let Ok(endpoint) = std::env::var("LOADSHED_TEST_AWS_ENDPOINT") else {
        println!("(DynamoDB row skipped: LOADSHED_TEST_AWS_ENDPOINT is not set)");
        return;
    };
    let n = list("BROADCAST_PAID_MOTO_CHATS", &[2000])
        .first()
        .copied()
        .unwrap_or(2000);
    let store = DynamoStore::connect(
        format!("loadshed-bench-paid-{}", uuid::Uuid::new_v4()),
        &ClientSettings::with_endpoint(endpoint),
    )
    .await;
    create_table(&store).await.expect("create the bench table");
    let pairs: Vec<(ChatId, Area)> = (1..=n as i64)
        .map(|chat| (ChatId(chat), bertiburg()))
        .collect();
    store
        .load_subscriptions(&pairs, SystemClock.now())
        .await
        .expect("seed the bench table");
    put_stage(&store).await;
    reset_peak_rss();
    // moto (one Python process) refuses connections when 3,000 claims come at once: the row
    // measures what its ledger lets through with `BROADCAST_PAID_MOTO_IN_FLIGHT` chats at once.
    let in_flight = list("BROADCAST_PAID_MOTO_IN_FLIGHT", &[200])
        .first()
        .map_or(200, |n| *n as usize);
    let f = broadcast(
        Arc::new(store),
        n as i64,
        Duration::from_millis(100),
        1000,
        Some(in_flight),
    )
    .await;
    print_paid_row("moto", n, &f, peak_rss_mb());
}

fn print_paid_row(store: &str, chats: u64, f: &Figures, rss: Option<f64>) {
    let closest = f
        .closest_same_chat
        .map_or("-".to_owned(), |gap| format!("{:.2} s", gap.as_secs_f64()));
    let rss = rss.map_or("-".to_owned(), |mb| format!("{mb:.0} MB"));
    println!(
        "| {store:<6} | {chats:>6} | {:>6} | {:>7.1} | {:>9.2} | {:>11} | {:>11} | {closest:>10} | {rss:>8} |",
        f.messages, f.seconds, f.rate, f.busiest_second, f.busiest_second_sent
    );
}
