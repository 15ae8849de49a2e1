//! The refresh workflow end to end: the real definition through the `asl` engine, the real task
//! handlers and adapters, the in-memory store, recorded Eskom answers and a wiremock Telegram.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use asl::{
    Execution, ExecutionOptions, ExecutionStatus, Executor, HistoryEvent, JitterDraw, TaskCall,
    TaskFailure, TaskInvoker, VirtualClock,
};
use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use loadshed::local::offline::OfflineEskom;
use loadshed::local::starter::LocalStarter;
use loadshed::local::{self, InProcessTasks, REFRESH_DEFINITION};
use loadshed_core::adapters::eskom::EskomConfig;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::sepush::{ApiToken, SePushConfig};
use loadshed_core::adapters::telegram::{BotToken, TelegramClient};
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId};
use loadshed_core::notify::{BroadcastConfig, PacingLimits};
use loadshed_core::ports::{Message, Messenger, SendError, Sent, StageStore, SubscriptionStore};
use loadshed_core::runtime::Upstream;
use loadshed_core::tasks::NotifyConfig;
use loadshed_core::webhook::{
    Endpoint, SECRET_HEADER, Webhook, WebhookPorts, WebhookSecret, WebhookSettings,
};
use serde_json::{Value, json};
use tokio::sync::Notify;
use wiremock::matchers::{body_partial_json, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "e2e-webhook-secret";
const ASKING_CHAT: i64 = 100;
const OTHER_CHAT: i64 = 200;

struct World {
    eskom: OfflineEskom,
    telegram: Arc<MockServer>,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    upstream: Upstream,
    telegram_client: Arc<TelegramClient>,
}

fn telegram_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "ok": true,
        "result": {"message_id": 7, "date": 0, "chat": {"id": 1, "type": "private"}}
    }))
}

/// 07:00 SAST on 28 November 2026; both chats follow Bertiburg, the asking chat also Ashton.
async fn world() -> World {
    let clock = Arc::new(ManualClock::at_local(2026, 11, 28, 7, 0).expect("valid time"));
    let eskom = OfflineEskom::start(clock.today()).await;
    let telegram = Arc::new(MockServer::start().await);
    Mock::given(method("POST"))
        .and(path_regex("/bot[^/]+/sendMessage"))
        .respond_with(telegram_ok())
        .mount(&telegram)
        .await;
    let upstream =
        Upstream::new(EskomConfig::with_base_url(eskom.base_url()), None).expect("upstream");
    let store = Arc::new(MemoryStore::new());
    let now = clock.now();
    let bertiburg = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0);
    let ashton = Area::eskom(9811, "Ashton", "Senqu", "Eastern Cape", 1, 538);
    store
        .subscribe(ChatId(ASKING_CHAT), &bertiburg, now)
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(ASKING_CHAT), &ashton, now)
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(OTHER_CHAT), &bertiburg, now)
        .await
        .expect("subscribe");
    let telegram_client = Arc::new(
        TelegramClient::with_base_url(
            BotToken::new("123456:e2e-token").expect("token"),
            &telegram.uri(),
            Duration::from_secs(5),
        )
        .expect("client"),
    );
    World {
        eskom,
        telegram,
        store,
        clock,
        upstream,
        telegram_client,
    }
}

impl World {
    /// Real pacing would make the broadcast take seconds of wall-clock time.
    fn notify_config(&self) -> NotifyConfig {
        NotifyConfig {
            broadcast: BroadcastConfig {
                backoff: Duration::from_millis(1),
                ..BroadcastConfig::default()
            },
            pacing: PacingLimits {
                overall_gap: Duration::from_millis(1),
                chat_gap: Duration::from_millis(1),
                group_gap: Duration::from_millis(1),
                paid_rate: 0,
            },
            ..NotifyConfig::default()
        }
    }

    fn tasks(&self) -> InProcessTasks {
        local::in_process_tasks(
            self.store.clone(),
            &self.upstream,
            self.telegram_client.clone(),
            self.clock.clone(),
            self.notify_config(),
        )
    }

    fn executor(&self, invoker: impl TaskInvoker + 'static) -> Executor {
        let machine = local::refresh_machine(REFRESH_DEFINITION).expect("the definition runs");
        let start = Utc
            .with_ymd_and_hms(2026, 11, 28, 5, 0, 0)
            .single()
            .expect("time");
        Executor::new(machine, invoker).with_clock(VirtualClock::starting_at(start))
    }

    async fn run(
        &self,
        invoker: impl TaskInvoker + 'static,
        name: &str,
        input: Value,
    ) -> Execution {
        self.executor(invoker)
            .with_options(local::execution_options(name))
            .execute(input)
            .await
    }

    /// (chat, text) of every message Telegram accepted or refused, in order.
    async fn messages(&self) -> Vec<(i64, String)> {
        self.telegram
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with("/sendMessage"))
            .map(|r| {
                let body: Value = serde_json::from_slice(&r.body).expect("JSON body");
                (
                    body["chat_id"].as_i64().expect("chat"),
                    body["text"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    async fn messages_to(&self, chat: i64) -> Vec<String> {
        self.messages()
            .await
            .into_iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, t)| t)
            .collect()
    }
}

fn events<'a>(execution: &'a Execution, kind: &str) -> Vec<&'a HistoryEvent> {
    execution
        .history
        .iter()
        .filter(|e| e.event_type == kind)
        .collect()
}

fn detail<'a>(event: &'a HistoryEvent, key: &str) -> &'a str {
    event
        .details
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn refresh_update(update_id: i64) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": 42,
            "date": 1_795_000_000,
            "chat": {"id": ASKING_CHAT, "type": "private", "first_name": "Thandi"},
            "from": {"id": ASKING_CHAT, "is_bot": false, "first_name": "Thandi"},
            "text": "/refresh",
            "entities": [{"offset": 0, "length": 8, "type": "bot_command"}]
        }
    })
}

#[tokio::test]
async fn a_refresh_from_telegram_runs_the_workflow_and_the_chat_gets_its_status() {
    let w = world().await;
    let starter = Arc::new(LocalStarter::new(w.executor(w.tasks())));
    let webhook = Webhook::new(
        WebhookSettings::new("loadshed_bot"),
        WebhookPorts {
            clock: w.clock.clone(),
            store: w.store.clone(),
            search: w.upstream.search.clone(),
            workflow: starter.clone(),
            messenger: w.telegram_client.clone(),
            answers: w.telegram_client.clone(),
            channels: w.telegram_client.clone(),
        },
    );
    let endpoint = Endpoint::new(WebhookSecret::new(SECRET).expect("secret"), webhook);
    let update = refresh_update(900_001);
    // Telegram redelivers: the same update three times starts one execution.
    for _ in 0..3 {
        let request = http::Request::builder()
            .method("POST")
            .uri("/")
            .header(SECRET_HEADER, SECRET)
            .body(update.to_string())
            .expect("request");
        let response = endpoint.serve(&request).await;
        assert_eq!(response.status(), 200);
        let reply: Value = serde_json::from_str(response.body()).expect("a reply in the body");
        assert_eq!(reply["method"], "sendMessage");
        assert!(
            reply["text"]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("refresh")),
            "{reply}"
        );
    }
    assert_eq!(starter.started(), 1);

    let execution = starter
        .finished("tg-900001")
        .await
        .expect("the run was started");
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        execution.error,
        execution.cause
    );
    let entered: Vec<&str> = execution
        .history
        .iter()
        .filter(|e| e.event_type == "TaskStateEntered")
        .filter_map(HistoryEvent::state_name)
        .collect();
    assert_eq!(entered, ["ReadStage", "RefreshSchedules", "Notify"]);

    let to_asker = w.messages_to(ASKING_CHAT).await;
    let status = to_asker
        .iter()
        .find(|t| t.contains("(as of "))
        .expect("a status message");
    assert!(
        status.contains("Stage 4") && status.contains("Bertiburg") && status.contains("Ashton"),
        "{status}"
    );
    assert!(
        status.contains("Today") && status.contains("Tomorrow") && status.contains("06:00"),
        "{status}"
    );
    // The stage was new, so every subscriber also hears of it, once.
    let to_other = w.messages_to(OTHER_CHAT).await;
    assert_eq!(to_other.len(), 1);
    assert!(to_other[0].contains("Stage 4"));
}

/// Serves Eskom's GetStatus as 503 twice before the recording answers, runs a console refresh with
/// `jitter`, and returns the execution and the waits before the two retries of ReadStage.
async fn eskom_busy_twice(jitter: JitterDraw) -> (World, Execution, Vec<f64>) {
    let w = world().await;
    Mock::given(method("GET"))
        .and(path("/LoadShedding/GetStatus"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(w.eskom.server())
        .await;
    let options = ExecutionOptions {
        jitter,
        ..local::execution_options("console-retry")
    };
    let execution = w
        .executor(w.tasks())
        .with_options(options)
        .execute(json!({}))
        .await;
    let failed = events(&execution, "LambdaFunctionFailed");
    let delays = failed
        .iter()
        .map(|f| {
            let retry = execution
                .history
                .iter()
                .find(|e| e.id > f.id && e.event_type == "LambdaFunctionScheduled")
                .expect("a retry follows each failure");
            (retry.timestamp - f.timestamp).num_milliseconds() as f64 / 1000.0
        })
        .collect();
    (w, execution, delays)
}

#[tokio::test]
async fn eskom_failing_twice_is_retried_with_growing_delays_and_the_run_succeeds() {
    // FULL jitter pinned at the whole backoff: interval 2 s, backoff rate 2.
    let (w, execution, delays) = eskom_busy_twice(JitterDraw::Fraction(1.0)).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.cause
    );
    let failed = events(&execution, "LambdaFunctionFailed");
    assert_eq!(failed.len(), 2);
    assert!(
        failed
            .iter()
            .all(|e| detail(e, "error") == "UpstreamUnavailable")
    );
    assert_eq!(
        delays,
        vec![2.0, 4.0],
        "the waits grow with the backoff rate"
    );
    let stored = w
        .store
        .current_stage()
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.stage.number(), 4);
}

#[tokio::test]
async fn with_random_jitter_each_wait_stays_within_its_backoff() {
    let (_, execution, delays) = eskom_busy_twice(JitterDraw::Random).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.cause
    );
    assert_eq!(delays.len(), 2);
    assert!(
        (0.0..=2.0).contains(&delays[0]) && (0.0..=4.0).contains(&delays[1]),
        "{delays:?}"
    );
}

#[tokio::test]
async fn a_refused_token_is_not_retried_and_the_chat_is_told() {
    let w = world().await;
    let sepush = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": "Forbidden"})))
        .mount(&sepush)
        .await;
    let mut config = SePushConfig::new(ApiToken::new("rejected-token"));
    config.base_url = format!("{}/", sepush.uri());
    let upstream = Upstream::new(EskomConfig::with_base_url(w.eskom.base_url()), Some(config))
        .expect("upstream");
    let tasks = local::in_process_tasks(
        w.store.clone(),
        &upstream,
        w.telegram_client.clone(),
        w.clock.clone(),
        NotifyConfig::default(),
    );
    let input = json!({"source": "telegram", "chat_id": ASKING_CHAT, "message_id": 42, "update_id": 900002, "areas": ["eskom:64106"]});
    let execution = w.run(tasks, "tg-900002", input).await;

    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("UpstreamUnauthorized"));
    assert_eq!(
        sepush.received_requests().await.unwrap_or_default().len(),
        1,
        "permanent: no retry"
    );
    let entered: Vec<&str> = execution
        .history
        .iter()
        .filter_map(HistoryEvent::state_name)
        .collect();
    assert!(
        entered.contains(&"ReportFailure") && !entered.contains(&"RefreshSchedules"),
        "{entered:?}"
    );
    let told = w.messages_to(ASKING_CHAT).await;
    assert_eq!(told.len(), 1);
    assert!(
        told[0].contains("refresh failed") && told[0].contains("refused"),
        "{}",
        told[0]
    );
}

/// Telegram through a messenger that kills the notify task once, between two sends: on its
/// `crash_at`-th call it signals the crash and never returns, as when a Lambda dies.
struct CrashOnce {
    telegram: Arc<TelegramClient>,
    crash_at: usize,
    calls: AtomicUsize,
    armed: AtomicBool,
    crashed: Arc<Notify>,
}

#[async_trait]
impl Messenger for CrashOnce {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.crash_at && self.armed.swap(false, Ordering::SeqCst) {
            self.crashed.notify_one();
            std::future::pending::<()>().await;
        }
        self.telegram.send(chat, message).await
    }
}

/// Runs the tasks; when the messenger signals a crash, the notify invocation is dropped and fails
/// the way Step Functions sees a dead Lambda.
struct CrashingNotify {
    inner: InProcessTasks,
    crashed: Arc<Notify>,
}

#[async_trait]
impl TaskInvoker for CrashingNotify {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        tokio::select! {
            result = self.inner.invoke(call) => result,
            () = self.crashed.notified() => {
                Err(TaskFailure::new("Lambda.ServiceException", "the function crashed mid-broadcast"))
            }
        }
    }
}

#[tokio::test]
async fn rate_limits_and_a_crash_mid_broadcast_still_deliver_each_message_exactly_once() {
    let w = world().await;
    for chat in 300..306 {
        let area = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0);
        w.store
            .subscribe(ChatId(chat), &area, w.clock.now())
            .await
            .expect("subscribe");
    }
    // Telegram's flood control refuses chat 300's message once, then accepts it.
    Mock::given(method("POST"))
        .and(path_regex("/bot[^/]+/sendMessage"))
        .and(body_partial_json(json!({"chat_id": 300})))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&w.telegram)
        .await;
    let crashed = Arc::new(Notify::new());
    let messenger = Arc::new(CrashOnce {
        telegram: w.telegram_client.clone(),
        crash_at: 5,
        calls: AtomicUsize::new(0),
        armed: AtomicBool::new(true),
        crashed: crashed.clone(),
    });
    // One chat at a time: a crash then drops no other send in flight, so exactly once holds to the
    // letter. (With sends overlapping, a crash can also drop sends Telegram already accepted but
    // whose confirmations had not been written: the window docs/design.md "Delivery" describes.)
    let mut config = w.notify_config();
    config.broadcast.concurrency = 1;
    let tasks = local::in_process_tasks(
        w.store.clone(),
        &w.upstream,
        messenger,
        w.clock.clone(),
        config,
    );
    let invoker = CrashingNotify {
        inner: tasks,
        crashed,
    };
    let execution = w.run(invoker, "console-crash", json!({})).await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.cause
    );
    let notify_failures: Vec<_> = events(&execution, "LambdaFunctionFailed")
        .into_iter()
        .filter(|e| detail(e, "error") == "Lambda.ServiceException")
        .collect();
    assert_eq!(
        notify_failures.len(),
        1,
        "the crash was retried by the definition"
    );

    let messages = w.messages().await;
    let to_300 = messages.iter().filter(|(chat, _)| *chat == 300).count();
    assert_eq!(
        to_300, 2,
        "chat 300 was refused once with 429, then sent to again"
    );
    let mut delivered: Vec<i64> = messages.iter().map(|(chat, _)| *chat).collect();
    if let Some(refused) = delivered.iter().position(|c| *c == 300) {
        delivered.remove(refused);
    }
    delivered.sort_unstable();
    let mut expected = vec![ASKING_CHAT, OTHER_CHAT, 300, 301, 302, 303, 304, 305];
    expected.sort_unstable();
    assert_eq!(
        delivered, expected,
        "every subscriber got the stage change exactly once"
    );
}

#[tokio::test]
async fn a_console_run_with_nothing_changed_sends_nothing() {
    let w = world().await;
    let first = w.run(w.tasks(), "console-1", json!({})).await;
    assert_eq!(first.status, ExecutionStatus::Succeeded);
    let after_first = w.messages().await.len();
    assert_eq!(
        after_first, 2,
        "the first run announces the new stage to both chats"
    );

    let second = w.run(w.tasks(), "console-2", json!({})).await;
    assert_eq!(second.status, ExecutionStatus::Succeeded);
    let output = second.output.expect("output");
    assert_eq!(output["stage"]["changed"], false);
    assert_eq!(output["schedule"]["changed"], json!([]));
    assert_eq!(output["notify"]["planned"], 0);
    assert_eq!(
        w.messages().await.len(),
        after_first,
        "nothing new was sent"
    );
}
