//! Shared by the webhook tests: fakes for the ports (with the semantics of the real services where
//! the tests depend on them), a harness that posts updates to the real `Endpoint`, and update builders.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use http::{Request, Response, StatusCode};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::telegram::{
    AnswerCallbackQuery, ChatInfo, ChatMemberInfo, ChatRef, TelegramError,
};
use loadshed_core::clock::ManualClock;
use loadshed_core::domain::{Area, AreaId, ChatId, Schedule, Stage};
use loadshed_core::errors::{StoreError, UpstreamError};
use loadshed_core::ports::{
    AreaSearch, Claim, DeliveryKey, DeliveryLedger, ExecutionName, Leases, Message, Messenger,
    ScheduleStore, SendError, Sent, StageRefresh, StageStore, StageWrite, StartOutcome,
    StoredStage, SubscriptionStore, WorkflowError, WorkflowStarter,
};
use loadshed_core::webhook::{
    CallbackAnswers, ChannelLookup, Endpoint, Webhook, WebhookPorts, WebhookSecret, WebhookSettings,
};
use serde_json::{Value, json};

pub const SECRET: &str = "test-Secret_42";
pub const BOT: &str = "LoadShed_Bot";

pub fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
}

pub fn ashton() -> Area {
    Area::eskom(9811, "Ashton", "Senqu", "Eastern Cape", 1, 538)
}

/// An EskomSePush area whose id is too long to travel in callback data as itself.
pub fn long_named() -> Area {
    Area::sepush(
        "westerncape-17-outsidecapetownmetropolitanmunicipalitybergrivier",
        "Bergrivier Outside Cape Town (17)",
        "Western Cape",
    )
}

// ---------------------------------------------------------------------------------------------
// Store: the in-memory adapter, counting writes, and able to go down.

#[derive(Debug, Default)]
pub struct TestStore {
    pub inner: MemoryStore,
    writes: AtomicUsize,
    down: AtomicBool,
    corrupt: AtomicBool,
    fail_claims: AtomicBool,
}

impl TestStore {
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Claims of a `/refresh` cooldown fail as if the store were unreachable; everything else works.
    pub fn set_cooldown_claims_failing(&self, failing: bool) {
        self.fail_claims.store(failing, Ordering::SeqCst);
    }

    fn check_claim(&self, key: &str) -> Result<(), StoreError> {
        if key.starts_with("refresh-cooldown:") && self.fail_claims.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "test store: cooldown claims fail".into(),
            ));
        }
        Ok(())
    }

    /// Every call fails as if an item could not be decoded.
    pub fn set_corrupt(&self, corrupt: bool) {
        self.corrupt.store(corrupt, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("test store is down".into()))
        } else if self.corrupt.load(Ordering::SeqCst) {
            Err(StoreError::Corrupt {
                key: "CHAT#4242".into(),
                detail: "test item is corrupt".into(),
            })
        } else {
            Ok(())
        }
    }

    fn write(&self) -> Result<(), StoreError> {
        self.check()?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait]
impl StageStore for TestStore {
    async fn current_stage(&self) -> Result<Option<StoredStage>, StoreError> {
        self.check()?;
        self.inner.current_stage().await
    }
    async fn put_stage(
        &self,
        timelines: &loadshed_core::domain::Timelines,
        replaced: Option<&loadshed_core::domain::Timelines>,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        self.write()?;
        self.inner
            .put_stage(timelines, replaced, at, expected)
            .await
    }
    async fn stage_refresh(&self) -> Result<Option<StageRefresh>, StoreError> {
        self.check()?;
        self.inner.stage_refresh().await
    }
    async fn put_stage_refresh(&self, marker: &StageRefresh) -> Result<bool, StoreError> {
        self.write()?;
        self.inner.put_stage_refresh(marker).await
    }
}

#[async_trait]
impl loadshed_core::ports::ChatSettingsStore for TestStore {
    async fn chat_settings(
        &self,
        chat: ChatId,
    ) -> Result<loadshed_core::domain::ChatSettings, StoreError> {
        self.check()?;
        self.inner.chat_settings(chat).await
    }
    async fn put_chat_settings(
        &self,
        chat: ChatId,
        settings: &loadshed_core::domain::ChatSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write()?;
        self.inner.put_chat_settings(chat, settings, at).await
    }
}

#[async_trait]
impl ScheduleStore for TestStore {
    async fn schedule(&self, area: &AreaId, stage: Stage) -> Result<Option<Schedule>, StoreError> {
        self.check()?;
        self.inner.schedule(area, stage).await
    }
    async fn put_schedule(
        &self,
        schedule: &Schedule,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write()?;
        self.inner.put_schedule(schedule, at).await
    }
}

#[async_trait]
impl SubscriptionStore for TestStore {
    async fn subscribe(
        &self,
        chat: ChatId,
        area: &Area,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write()?;
        self.inner.subscribe(chat, area, at).await
    }
    async fn unsubscribe(&self, chat: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        self.write()?;
        self.inner.unsubscribe(chat, area).await
    }
    async fn areas_of(&self, chat: ChatId) -> Result<Vec<Area>, StoreError> {
        self.check()?;
        self.inner.areas_of(chat).await
    }
    async fn subscribers_of(&self, area: &AreaId) -> Result<Vec<ChatId>, StoreError> {
        self.check()?;
        self.inner.subscribers_of(area).await
    }
    async fn subscribed_areas(&self) -> Result<Vec<Area>, StoreError> {
        self.check()?;
        self.inner.subscribed_areas().await
    }
    async fn remove_chat(&self, chat: ChatId) -> Result<usize, StoreError> {
        self.write()?;
        self.inner.remove_chat(chat).await
    }
    async fn move_chat(
        &self,
        from: ChatId,
        to: ChatId,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        self.write()?;
        self.inner.move_chat(from, to, at).await
    }
}

#[async_trait]
impl loadshed_core::ports::ChannelStore for TestStore {
    async fn link_channel(
        &self,
        link: &loadshed_core::domain::ChannelLink,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write()?;
        self.inner.link_channel(link, at).await
    }
    async fn unlink_channel(&self, channel: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        self.write()?;
        self.inner.unlink_channel(channel, area).await
    }
    async fn channels_of(
        &self,
        area: &AreaId,
    ) -> Result<Vec<loadshed_core::domain::ChannelLink>, StoreError> {
        self.check()?;
        self.inner.channels_of(area).await
    }
}

#[async_trait]
impl DeliveryLedger for TestStore {
    async fn was_delivered(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.was_delivered(key, now).await
    }
    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write()?;
        self.inner.record_delivery(key, at, expires_at).await
    }
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        self.write()?;
        self.inner
            .claim_delivery(key, owner, now, lease_until)
            .await
    }
    async fn confirm_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write()?;
        self.inner.confirm_delivery(key, at, expires_at).await
    }
    async fn release_delivery(&self, key: &DeliveryKey, owner: &str) -> Result<(), StoreError> {
        self.write()?;
        self.inner.release_delivery(key, owner).await
    }
}

#[async_trait]
impl Leases for TestStore {
    async fn try_claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write()?;
        self.check_claim(key)?;
        self.inner.try_claim(key, now, until).await
    }
    async fn try_claim_for(
        &self,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write()?;
        self.check_claim(key)?;
        self.inner.try_claim_for(key, holder, now, until).await
    }
    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        self.write()?;
        self.inner.release(key, holder).await
    }
    async fn is_claimed(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.is_claimed(key, now).await
    }
    async fn try_take(
        &self,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Counting a search is no effect the tests look for: not a write.
        self.check()?;
        self.inner.try_take(key, limit, now, until).await
    }
}

// ---------------------------------------------------------------------------------------------
// Area search: a fixed list, matched by substring, recording each query.

#[derive(Debug, Default)]
pub struct FakeSearch {
    areas: Mutex<Vec<Area>>,
    queries: Mutex<Vec<String>>,
    failing: AtomicBool,
    delay: Mutex<Option<std::time::Duration>>,
}

impl FakeSearch {
    pub fn with(areas: Vec<Area>) -> Self {
        FakeSearch {
            areas: Mutex::new(areas),
            ..FakeSearch::default()
        }
    }

    pub fn queries(&self) -> Vec<String> {
        self.queries.lock().expect("lock").clone()
    }

    pub fn set_areas(&self, areas: Vec<Area>) {
        *self.areas.lock().expect("lock") = areas;
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Each search answers only after `delay`, like an upstream that hangs.
    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.delay.lock().expect("lock") = Some(delay);
    }
}

#[async_trait]
impl AreaSearch for FakeSearch {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError> {
        self.queries.lock().expect("lock").push(text.to_owned());
        let delay = *self.delay.lock().expect("lock");
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(UpstreamError::Blocked { service: "Eskom" });
        }
        let needle = text.to_lowercase();
        Ok(self
            .areas
            .lock()
            .expect("lock")
            .iter()
            .filter(|a| a.name.to_lowercase().contains(&needle))
            .take(limit)
            .cloned()
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Workflow: Step Functions' naming rules (an identical repeat while running returns the same
// execution; a taken name with another input is ExecutionAlreadyExists).

#[derive(Debug, Default)]
pub struct FakeWorkflow {
    executions: Mutex<BTreeMap<String, String>>,
    calls: Mutex<Vec<(String, String)>>,
    failing: AtomicBool,
    delay: Mutex<Option<std::time::Duration>>,
}

impl FakeWorkflow {
    /// Each start answers only after `delay`.
    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.delay.lock().expect("lock") = Some(delay);
    }

    /// Executions by name, with their input.
    pub fn executions(&self) -> BTreeMap<String, String> {
        self.executions.lock().expect("lock").clone()
    }

    pub fn calls(&self) -> Vec<(String, String)> {
        self.calls.lock().expect("lock").clone()
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl WorkflowStarter for FakeWorkflow {
    async fn start(
        &self,
        name: &ExecutionName,
        input: &str,
    ) -> Result<StartOutcome, WorkflowError> {
        self.calls
            .lock()
            .expect("lock")
            .push((name.to_string(), input.to_owned()));
        let delay = *self.delay.lock().expect("lock");
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(WorkflowError::Unavailable {
                detail: "throttled".into(),
            });
        }
        let mut executions = self.executions.lock().expect("lock");
        let arn = format!("arn:aws:states:af-south-1:123456789012:execution:refresh:{name}");
        match executions.get(name.as_str()) {
            Some(existing) if existing == input => Ok(StartOutcome::Started { execution_arn: arn }),
            Some(_) => Ok(StartOutcome::AlreadyExists),
            None => {
                executions.insert(name.to_string(), input.to_owned());
                Ok(StartOutcome::Started { execution_arn: arn })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Telegram calls made outside the response body.

#[derive(Debug, Default)]
pub struct RecordingMessenger {
    pub sent: Mutex<Vec<(ChatId, Message)>>,
}

#[async_trait]
impl Messenger for RecordingMessenger {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        let mut sent = self.sent.lock().expect("lock");
        sent.push((chat, message.clone()));
        Ok(Sent {
            message_id: 1000 + sent.len() as i64,
        })
    }
}

#[derive(Debug, Default)]
pub struct RecordingAnswers {
    pub answers: Mutex<Vec<AnswerCallbackQuery>>,
}

#[async_trait]
impl CallbackAnswers for RecordingAnswers {
    async fn answer(&self, answer: &AnswerCallbackQuery) -> Result<(), TelegramError> {
        self.answers.lock().expect("lock").push(answer.clone());
        Ok(())
    }
}

/// Telegram's `getChat` and `getChatMember` for the channels a test sets up: a chat not set up is
/// "chat not found" (403), as Telegram answers for a chat the bot cannot see.
#[derive(Debug, Default)]
pub struct FakeChannels {
    chats: Mutex<BTreeMap<String, Result<ChatInfo, TelegramError>>>,
    members: Mutex<BTreeMap<i64, Result<ChatMemberInfo, TelegramError>>>,
    pub calls: Mutex<Vec<String>>,
}

impl FakeChannels {
    /// A channel `@username` (id `id`) where the bot has `status` and may or may not post.
    pub fn add_channel(&self, id: i64, username: &str, title: &str, status: &str, can_post: bool) {
        let info = ChatInfo {
            id,
            kind: "channel".to_owned(),
            title: Some(title.to_owned()),
            username: Some(username.to_owned()),
            invite_link: None,
        };
        self.set_chat(&format!("@{username}"), Ok(info.clone()));
        self.set_chat(&id.to_string(), Ok(info));
        self.set_member(
            id,
            Ok(ChatMemberInfo {
                status: status.to_owned(),
                can_post_messages: can_post,
            }),
        );
    }

    pub fn set_chat(&self, reference: &str, answer: Result<ChatInfo, TelegramError>) {
        self.chats
            .lock()
            .expect("lock")
            .insert(reference.to_owned(), answer);
    }

    pub fn set_member(&self, chat: i64, answer: Result<ChatMemberInfo, TelegramError>) {
        self.members.lock().expect("lock").insert(chat, answer);
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("lock").clone()
    }
}

fn chat_not_found(method: &'static str) -> TelegramError {
    TelegramError::Forbidden {
        method,
        description: "Bad Request: chat not found".into(),
    }
}

#[async_trait]
impl ChannelLookup for FakeChannels {
    async fn chat(&self, chat: &ChatRef) -> Result<ChatInfo, TelegramError> {
        let key = match chat {
            ChatRef::Id(id) => id.to_string(),
            ChatRef::Username(name) => name.clone(),
        };
        self.calls
            .lock()
            .expect("lock")
            .push(format!("getChat {key}"));
        self.chats
            .lock()
            .expect("lock")
            .get(&key)
            .cloned()
            .unwrap_or_else(|| Err(chat_not_found("getChat")))
    }

    async fn bot_member(&self, chat: ChatId) -> Result<ChatMemberInfo, TelegramError> {
        self.calls
            .lock()
            .expect("lock")
            .push(format!("getChatMember {chat}"));
        self.members
            .lock()
            .expect("lock")
            .get(&chat.0)
            .cloned()
            .unwrap_or_else(|| Err(chat_not_found("getChatMember")))
    }
}

// ---------------------------------------------------------------------------------------------
// The harness.

pub struct Harness {
    pub endpoint: Endpoint,
    pub settings: WebhookSettings,
    pub store: Arc<TestStore>,
    pub search: Arc<FakeSearch>,
    pub workflow: Arc<FakeWorkflow>,
    pub messenger: Arc<RecordingMessenger>,
    pub answers: Arc<RecordingAnswers>,
    pub channels: Arc<FakeChannels>,
    pub clock: Arc<ManualClock>,
}

/// What came back: the status and the reply in the body, if any.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub reply: Option<Value>,
    pub response: Response<String>,
}

impl Answer {
    pub fn text(&self) -> String {
        self.reply
            .as_ref()
            .and_then(|r| r["text"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("expected a reply with text, got {:?}", self.reply))
    }

    pub fn method(&self) -> &str {
        self.reply
            .as_ref()
            .and_then(|r| r["method"].as_str())
            .unwrap_or_else(|| panic!("expected a reply, got {:?}", self.reply))
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_settings(WebhookSettings::new(BOT))
    }

    pub fn with_settings(settings: WebhookSettings) -> Self {
        Self::build(
            settings,
            FakeSearch::with(vec![bertiburg(), ashton(), long_named()]),
            None,
        )
    }

    pub fn build(settings: WebhookSettings, search: FakeSearch, max_body: Option<usize>) -> Self {
        let store = Arc::new(TestStore::default());
        let search = Arc::new(search);
        let workflow = Arc::new(FakeWorkflow::default());
        let messenger = Arc::new(RecordingMessenger::default());
        let answers = Arc::new(RecordingAnswers::default());
        let channels = Arc::new(FakeChannels::default());
        let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 18, 0).expect("valid time"));
        let webhook = Webhook::new(
            settings.clone(),
            WebhookPorts {
                clock: clock.clone(),
                store: store.clone(),
                search: search.clone(),
                workflow: workflow.clone(),
                messenger: messenger.clone(),
                answers: answers.clone(),
                channels: channels.clone(),
            },
        );
        let mut endpoint =
            Endpoint::new(WebhookSecret::new(SECRET).expect("valid secret"), webhook);
        if let Some(max) = max_body {
            endpoint = endpoint.with_max_body_bytes(max);
        }
        Harness {
            endpoint,
            settings,
            store,
            search,
            workflow,
            messenger,
            answers,
            channels,
            clock,
        }
    }

    pub fn endpoint_settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// Sends a request as built by `request`.
    pub async fn send(&self, request: Request<Vec<u8>>) -> Answer {
        let response = self.endpoint.serve(&request).await;
        let status = response.status();
        let reply = if response.body().is_empty() {
            None
        } else {
            Some(serde_json::from_str(response.body()).expect("the response body is JSON"))
        };
        Answer {
            status,
            reply,
            response,
        }
    }

    /// POSTs `body` the way Telegram does.
    pub async fn post(&self, body: impl Into<Vec<u8>>) -> Answer {
        self.send(telegram_request(body)).await
    }

    pub async fn post_json(&self, update: &Value) -> Answer {
        self.post(update.to_string()).await
    }

    /// Whether no effect happened anywhere: nothing stored, started, searched or sent.
    pub fn assert_untouched(&self) {
        assert_eq!(self.store.writes(), 0, "store writes");
        assert!(
            self.workflow.calls().is_empty(),
            "workflow starts: {:?}",
            self.workflow.calls()
        );
        assert!(
            self.search.queries().is_empty(),
            "searches: {:?}",
            self.search.queries()
        );
        assert!(
            self.messenger.sent.lock().expect("lock").is_empty(),
            "messages sent"
        );
        assert!(
            self.answers.answers.lock().expect("lock").is_empty(),
            "callbacks answered"
        );
    }
}

pub fn telegram_request(body: impl Into<Vec<u8>>) -> Request<Vec<u8>> {
    Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/json")
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .body(body.into())
        .expect("valid request")
}

// ---------------------------------------------------------------------------------------------
// Updates as Telegram writes them.

pub const PRIVATE: i64 = 4242;
pub const GROUP: i64 = -1001283156137;

fn chat(id: i64) -> Value {
    if id > 0 {
        json!({"id": id, "type": "private", "first_name": "Thandi"})
    } else {
        json!({"id": id, "type": "supergroup", "title": "Street group"})
    }
}

/// A text message; a leading `/command` gets its `bot_command` entity (length in UTF-16 units).
pub fn message_update(update_id: i64, chat_id: i64, message_id: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": message(chat_id, message_id, text)})
}

pub fn message(chat_id: i64, message_id: i64, text: &str) -> Value {
    let mut message = json!({
        "message_id": message_id,
        "from": {"id": 77, "is_bot": false, "first_name": "Thandi", "language_code": "en"},
        "chat": chat(chat_id),
        "date": 1764604800,
        "text": text,
    });
    if text.starts_with('/') {
        let token = text.split_whitespace().next().unwrap_or(text);
        message["entities"] =
            json!([{"type": "bot_command", "offset": 0, "length": token.encode_utf16().count()}]);
    }
    message
}

/// A tap on a button of the bot's message `message_id`, which answered the user's `asked` message
/// (`None`: the reply is gone, as for messages over 48 hours old).
pub fn callback_update(
    update_id: i64,
    chat_id: i64,
    message_id: i64,
    data: &str,
    asked: Option<Value>,
) -> Value {
    let mut bot_message = json!({
        "message_id": message_id,
        "from": {"id": 1, "is_bot": true, "first_name": "loadshed", "username": BOT},
        "chat": chat(chat_id),
        "date": 1764604801,
        "text": "Areas matching ...",
    });
    if let Some(asked) = asked {
        bot_message["reply_to_message"] = asked;
    }
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("cb-{update_id}"),
            "from": {"id": 77, "is_bot": false, "first_name": "Thandi"},
            "message": bot_message,
            "chat_instance": "-42",
            "data": data,
        }
    })
}

/// The callback data of each button in a reply's inline keyboard.
pub fn button_data(reply: &Value) -> Vec<String> {
    reply["reply_markup"]["inline_keyboard"]
        .as_array()
        .expect("an inline keyboard")
        .iter()
        .flat_map(|row| row.as_array().expect("a row").iter())
        .map(|button| {
            button["callback_data"]
                .as_str()
                .expect("callback data")
                .to_owned()
        })
        .collect()
}
