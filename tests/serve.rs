//! `loadshed serve` end to end, on the real clock: the binary against a Bot API stand-in that
//! answers `getUpdates` (offset, timeout) from a list of updates the test adds to, and records
//! every call. Offline Eskom answers, a store in a temporary folder.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::process::Stdio;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "123456:serve-test-token";
const BOT: &str = "loadshed_test_bot";
const CHAT: i64 = 4242;
/// How long a step may take before the test gives up: generous for a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// The Bot API, as far as serve uses it.
struct BotApi {
    server: MockServer,
    updates: Arc<Mutex<Vec<Value>>>,
    next_update: AtomicI64,
    next_message: AtomicI64,
}

/// `getUpdates`: the updates from `offset` on; none yet: an empty answer after a short wait, as a
/// long poll that timed out (short, so the test runs quickly).
struct GetUpdates(Arc<Mutex<Vec<Value>>>);

impl Respond for GetUpdates {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let offset = body["offset"].as_i64().unwrap_or(0);
        let updates: Vec<Value> = self
            .0
            .lock()
            .expect("updates")
            .iter()
            .filter(|u| u["update_id"].as_i64().unwrap_or(0) >= offset)
            .cloned()
            .collect();
        let answer =
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": updates}));
        if updates.is_empty() {
            answer.set_delay(Duration::from_millis(300))
        } else {
            answer
        }
    }
}

/// `sendMessage`: the message as sent, with an id of its own.
struct SendMessage(Arc<AtomicI64>);

impl Respond for SendMessage {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let id = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {
            "message_id": id,
            "date": 0,
            "chat": {"id": body["chat_id"], "type": "private"},
            "text": body["text"],
        }}))
    }
}

impl BotApi {
    async fn start() -> BotApi {
        let server = MockServer::start().await;
        let updates = Arc::new(Mutex::new(Vec::new()));
        let messages = Arc::new(AtomicI64::new(1000));
        let bot = |name: &str| path_regex(format!("^/bot{TOKEN}/{name}$"));
        Mock::given(method("POST"))
            .and(bot("getUpdates"))
            .respond_with(GetUpdates(updates.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(bot("sendMessage"))
            .respond_with(SendMessage(messages))
            .mount(&server)
            .await;
        for name in [
            "deleteWebhook",
            "setMyCommands",
            "answerCallbackQuery",
            "editMessageText",
        ] {
            Mock::given(method("POST"))
                .and(bot(name))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})),
                )
                .mount(&server)
                .await;
        }
        Mock::given(method("POST"))
            .and(bot("getMe"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {
                    "id": 123456, "is_bot": true, "first_name": "Loadshed", "username": BOT,
                }})),
            )
            .mount(&server)
            .await;
        BotApi {
            server,
            updates,
            next_update: AtomicI64::new(1),
            next_message: AtomicI64::new(1),
        }
    }

    /// Every call so far: (method, body).
    async fn calls(&self) -> Vec<(String, Value)> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|request| {
                let method = request.url.path().rsplit('/').next().unwrap_or_default();
                let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                (method.to_owned(), body)
            })
            .collect()
    }

    /// Waits for the `n`th (from 0) call to `method` at or after call number `from`.
    async fn wait_for(&self, from: usize, method: &str, what: &str) -> (usize, Value) {
        let started = Instant::now();
        loop {
            let calls = self.calls().await;
            if let Some((index, (_, body))) = calls
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, (m, _))| m == method)
            {
                return (index, body.clone());
            }
            assert!(
                started.elapsed() < PATIENCE,
                "no {method} for {what} within {PATIENCE:?}; calls: {calls:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn push(&self, update: Value) -> i64 {
        let id = self.next_update.fetch_add(1, Ordering::SeqCst);
        let mut update = update;
        update["update_id"] = json!(id);
        self.updates.lock().expect("updates").push(update);
        id
    }

    /// A private chat's text message, a command if it starts with `/`.
    fn message(&self, text: &str) -> Value {
        let message_id = self.next_message.fetch_add(1, Ordering::SeqCst);
        let mut message = json!({
            "message_id": message_id,
            "date": 0,
            "chat": {"id": CHAT, "type": "private"},
            "from": {"id": CHAT, "is_bot": false, "first_name": "Test"},
            "text": text,
        });
        if text.starts_with('/') {
            let length = text.find(' ').unwrap_or(text.len());
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
        }
        message
    }

    fn send_text(&self, text: &str) -> (i64, Value) {
        let message = self.message(text);
        (self.push(json!({"message": message.clone()})), message)
    }

    /// A tap on a button of `list` (the bot's message), which answered `asked`.
    fn tap(&self, list_id: i64, asked: &Value, data: &str) -> i64 {
        self.push(json!({"callback_query": {
            "id": format!("tap-{list_id}"),
            "from": {"id": CHAT, "is_bot": false, "first_name": "Test"},
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": list_id,
                "date": 0,
                "chat": {"id": CHAT, "type": "private"},
                "from": {"id": 123456, "is_bot": true, "first_name": "Loadshed", "username": BOT},
                "text": "Choose",
                "reply_to_message": asked,
            },
        }}))
    }
}

fn serve(api: &BotApi, data: &std::path::Path, extra: &[&str]) -> Child {
    serve_with(api, data, extra, &[])
}

/// [`serve`] with more environment variables set.
fn serve_with(
    api: &BotApi,
    data: &std::path::Path,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Child {
    let log = std::fs::File::create(data.with_extension("log")).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args(["serve", "--offline", "--data"])
        .arg(data)
        .args(extra)
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_BASE_URL", api.server.uri())
        .env_remove("BOT_USERNAME")
        .env_remove("ESKOMSEPUSH_TOKEN")
        .env_remove("WEB_BASE_URL")
        .env_remove("CHANNEL_ADMINS")
        .envs(envs.iter().copied())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start loadshed serve")
}

fn signal(child: &Child, signal: &str) {
    let pid = child.id().expect("running");
    let sent = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
}

fn text_of(body: &Value) -> String {
    body["text"].as_str().unwrap_or_default().to_owned()
}

/// `/start`, `/subscribe` answered with buttons and a tap on the first, `/status` naming the area,
/// `/refresh` answered by the workflow;
/// SIGKILL and a restart on the same folder: polling resumes after the last handled update, no old
/// update is answered again, `/status` still names the area; SIGTERM: exit 0 within 10 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_survives_sigkill_and_stops_on_sigterm() {
    let api = BotApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let started = Instant::now();
    let mut first = serve(&api, &data, &[]);

    api.send_text("/start");
    let (at, welcome) = api.wait_for(0, "sendMessage", "/start").await;
    assert_eq!(welcome["chat_id"], CHAT);
    assert!(!text_of(&welcome).is_empty());

    let (_, asked) = api.send_text("/subscribe Bertiburg");
    let (at, list) = api.wait_for(at + 1, "sendMessage", "/subscribe").await;
    let button = &list["reply_markup"]["inline_keyboard"][0][0];
    let data_of_first = button["callback_data"].as_str().unwrap_or_else(|| {
        panic!("/subscribe answered without buttons: {list:#}");
    });
    assert!(!text_of(&list).is_empty());
    // The list's id is the one the stand-in gave it: the sendMessage calls so far number it.
    let sends = api.calls().await[..=at]
        .iter()
        .filter(|(m, _)| m == "sendMessage")
        .count() as i64;
    let list_id = 1000 + sends - 1;
    api.tap(list_id, &asked, data_of_first);
    let (at, edit) = api.wait_for(at + 1, "editMessageText", "the tap").await;
    assert_eq!(edit["message_id"], list_id);
    assert!(text_of(&edit).contains("Bertiburg"), "{edit:#}");

    api.send_text("/status");
    let (at, status) = api.wait_for(at + 1, "sendMessage", "/status").await;
    assert!(text_of(&status).contains("Bertiburg"), "{status:#}");

    // `/refresh` runs the refresh definition in the engine: its Notify tells the chat its areas.
    api.send_text("/refresh");
    let (at, asked_refresh) = api.wait_for(at + 1, "sendMessage", "/refresh").await;
    let (_, refreshed) = api
        .wait_for(at + 1, "sendMessage", "the refresh workflow's report")
        .await;
    assert_eq!(refreshed["chat_id"], CHAT);
    assert_ne!(text_of(&refreshed), text_of(&asked_refresh));
    assert!(text_of(&refreshed).contains("Bertiburg"), "{refreshed:#}");

    // SIGKILL: nothing to clean up, nothing flushed.
    signal(&first, "KILL");
    let killed = first.wait().await.expect("wait");
    assert!(!killed.success());
    let calls_before = api.calls().await.len();
    let last_id = api.next_update.load(Ordering::SeqCst) - 1;

    let mut second = serve(&api, &data, &[]);
    let (resumed, poll) = api
        .wait_for(calls_before, "getUpdates", "the restart")
        .await;
    assert_eq!(
        poll["offset"],
        json!(last_id + 1),
        "polling resumes after the last handled update"
    );
    // A few polls' worth of time in which old updates would be answered if they were.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let replies_after: Vec<(String, Value)> = api.calls().await[resumed..]
        .iter()
        .filter(|(m, _)| m != "getUpdates")
        .cloned()
        .collect();
    assert!(
        replies_after.is_empty(),
        "old updates answered again: {replies_after:#?}"
    );

    api.send_text("/status");
    let (_, status) = api
        .wait_for(resumed, "sendMessage", "/status after restart")
        .await;
    assert!(
        text_of(&status).contains("Bertiburg"),
        "the subscription survived SIGKILL: {status:#}"
    );
    let ran = started.elapsed();
    eprintln!("idle RSS after the restart: {}", rss(&second));

    signal(&second, "TERM");
    let stopping = Instant::now();
    let exited = tokio::time::timeout(Duration::from_secs(10), second.wait())
        .await
        .expect("exits within 10 s of SIGTERM")
        .expect("wait");
    assert!(exited.success(), "SIGTERM exits 0: {exited:?}");
    eprintln!(
        "ran {ran:?} against the stand-in; stopped {:?} after SIGTERM",
        stopping.elapsed()
    );
}

/// The template's schedules on the real clock, at a period set for the test: with a chat already
/// following an area, the stage poll fires by itself, stores the stage, and the store's feed
/// drives the schedule task and then notify, which tells the chat, with no update at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_fire_on_the_real_clock_and_the_feed_carries_their_writes() {
    use loadshed::local::offline::{DEMO_SEARCH, OfflineEskom};
    use loadshed_core::adapters::eskom::EskomConfig;
    use loadshed_core::clock::{Clock, SystemClock};
    use loadshed_core::domain::ChatId;
    use loadshed_core::ports::SubscriptionStore;
    use loadshed_core::runtime::Upstream;
    use loadshed_sqlite::{DATABASE_FILE, SqliteStore};

    let api = BotApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    {
        // The area exactly as the offline search finds it, followed before serve starts.
        let offline = OfflineEskom::start(SystemClock.today()).await;
        let upstream =
            Upstream::new(EskomConfig::with_base_url(offline.base_url()), None).expect("upstream");
        let area = upstream
            .search
            .search(DEMO_SEARCH, 1)
            .await
            .expect("search")
            .remove(0);
        let store = SqliteStore::open(data.join(DATABASE_FILE))
            .await
            .expect("store");
        store
            .subscribe(ChatId(CHAT), &area, SystemClock.now())
            .await
            .expect("subscribe");
    }

    let mut serve = serve(&api, &data, &["--test-schedule-every", "2"]);
    let (_, told) = api
        .wait_for(0, "sendMessage", "a scheduled stage poll")
        .await;
    assert_eq!(told["chat_id"], CHAT, "{told:#}");
    // The stage, with the area's slots: the schedule task ran on the stage's stream record.
    let text = text_of(&told);
    assert!(
        text.contains("Stage") && text.contains("Bertiburg"),
        "the stage announcement with the area's slots: {told:#}"
    );
    assert!(
        api.calls()
            .await
            .iter()
            .all(|(m, body)| m != "getUpdates" || body["offset"].is_null()),
        "no update was ever handled: the schedule alone did it"
    );

    signal(&serve, "TERM");
    let exited = tokio::time::timeout(Duration::from_secs(10), serve.wait())
        .await
        .expect("exits within 10 s of SIGTERM")
        .expect("wait");
    assert!(exited.success(), "SIGTERM exits 0: {exited:?}");
}

/// The process's resident set size, as /proc reports it.
fn rss(child: &Child) -> String {
    let pid = child.id().expect("running");
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .map(|line| line.trim_start_matches("VmRSS:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `CHANNEL_ADMINS` is read as the webhook function reads it: a bad list stops the start and says
/// which variable and which entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_bad_channel_admins_list_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args(["serve", "--offline", "--data"])
        .arg(dir.path().join("data"))
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        // Nothing listens here: the start must fail before any call out.
        .env("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9")
        .env("BOT_USERNAME", BOT)
        .env("CHANNEL_ADMINS", "12345, @alice")
        .env_remove("ESKOMSEPUSH_TOKEN")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PATIENCE, output)
        .await
        .expect("serve exits")
        .expect("serve runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CHANNEL_ADMINS") && stderr.contains("@alice"),
        "{stderr}"
    );
}

/// `/channel` through serve's own wiring: the operator on `CHANNEL_ADMINS`, Telegram asked with
/// `getChat` and the bot's `getChatMember` (its id from `getMe`), a tap on the area links it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_links_a_channel_for_an_operator() {
    let api = BotApi::start().await;
    let bot = |name: &str| path_regex(format!("^/bot{TOKEN}/{name}$"));
    Mock::given(method("POST"))
        .and(bot("getChat"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {
                "id": -1001987654321_i64, "type": "channel", "title": "Bertiburg power",
                "username": "bertiburg_power",
            }})),
        )
        .mount(&api.server)
        .await;
    Mock::given(method("POST"))
        .and(bot("getChatMember"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {
                "status": "administrator", "can_post_messages": true,
                "user": {"id": 123456, "is_bot": true, "first_name": "Loadshed"},
            }})),
        )
        .mount(&api.server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let admins = CHAT.to_string();
    let child = serve_with(&api, &data, &[], &[("CHANNEL_ADMINS", &admins)]);

    let (_, asked) = api.send_text("/channel @bertiburg_power Bertiburg");
    let (at, list) = api.wait_for(0, "sendMessage", "/channel").await;
    let data_of_first = list["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .unwrap_or_else(|| panic!("/channel answered without buttons: {list:#}"))
        .to_owned();
    assert!(data_of_first.starts_with("c:"), "{data_of_first}");
    let sends = api.calls().await[..=at]
        .iter()
        .filter(|(m, _)| m == "sendMessage")
        .count() as i64;
    api.tap(1000 + sends - 1, &asked, &data_of_first);
    let (_, edit) = api.wait_for(at + 1, "editMessageText", "the tap").await;
    assert!(
        text_of(&edit).starts_with("Linked \"Bertiburg power\" to Bertiburg"),
        "{edit:#}"
    );
    let calls = api.calls().await;
    assert!(
        calls
            .iter()
            .any(|(m, body)| m == "getChat" && body["chat_id"] == "@bertiburg_power")
    );
    assert!(calls.iter().any(|(m, body)| m == "getChatMember"
        && body["chat_id"] == -1001987654321_i64
        && body["user_id"] == 123456));

    signal(&child, "TERM");
    let mut child = child;
    tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits within 10 s of SIGTERM")
        .expect("wait");
}
