//! A Function URL request through the real webhook endpoint: the secret check, the method and size
//! checks, update decoding, and the handler with every command, on in-memory fakes. The first byte
//! picks the method and whether the right secret is sent; without it, the next bytes are the header.
#![no_main]

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::telegram::{AnswerCallbackQuery, TelegramError};
use loadshed_core::clock::ManualClock;
use loadshed_core::domain::{Area, ChatId};
use loadshed_core::errors::UpstreamError;
use loadshed_core::ports::{
    AreaSearch, ExecutionName, Message, Messenger, SendError, Sent, StartOutcome, WorkflowError,
    WorkflowStarter,
};
use loadshed_core::webhook::{
    CallbackAnswers, Endpoint, SECRET_HEADER, Webhook, WebhookPorts, WebhookSecret, WebhookSettings,
};

const SECRET: &str = "fuzz-Secret_42";

struct Search;

#[async_trait]
impl AreaSearch for Search {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError> {
        let areas = [
            Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0),
            Area::sepush("eskde-14-milnerton", "Milnerton (14)", "Cape Town"),
        ];
        let needle = text.to_lowercase();
        Ok(areas
            .into_iter()
            .filter(|a| a.name.to_lowercase().contains(&needle))
            .take(limit)
            .collect())
    }
}

struct Workflow;

#[async_trait]
impl WorkflowStarter for Workflow {
    async fn start(
        &self,
        name: &ExecutionName,
        _input: &str,
    ) -> Result<StartOutcome, WorkflowError> {
        Ok(StartOutcome::Started {
            execution_arn: format!("arn:aws:states:af-south-1:1:execution:refresh:{name}"),
        })
    }
}

struct Telegram;

#[async_trait]
impl Messenger for Telegram {
    async fn send(&self, _chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        assert!(!message.text.is_empty());
        Ok(Sent { message_id: 1 })
    }
}

#[async_trait]
impl CallbackAnswers for Telegram {
    async fn answer(&self, answer: &AnswerCallbackQuery) -> Result<(), TelegramError> {
        assert!(
            answer
                .text
                .as_ref()
                .is_none_or(|t| t.chars().count() <= 200)
        );
        Ok(())
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

fn endpoint() -> Option<Endpoint> {
    let telegram = Arc::new(Telegram);
    let webhook = Webhook::new(
        WebhookSettings::new("LoadShed_Bot"),
        WebhookPorts {
            clock: Arc::new(ManualClock::at_local(2026, 12, 1, 18, 0)?),
            store: Arc::new(MemoryStore::new()),
            search: Arc::new(Search),
            workflow: Arc::new(Workflow),
            messenger: telegram.clone(),
            answers: telegram,
        },
    );
    Some(Endpoint::new(WebhookSecret::new(SECRET).ok()?, webhook).with_max_body_bytes(64 * 1024))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let method = if flags & 1 == 0 { "POST" } else { "GET" };
    let (secret, body) = if flags & 2 == 0 {
        (SECRET.as_bytes(), rest)
    } else {
        let cut = usize::from(flags >> 2).min(rest.len());
        rest.split_at(cut)
    };
    let mut request = Request::builder().method(method).uri("/");
    if flags & 0x80 == 0 || flags & 2 == 0 {
        request = request.header(SECRET_HEADER, secret);
    }
    let Ok(request) = request.body(body.to_vec()) else {
        // Bytes no HTTP header may hold never reach the function.
        return;
    };
    let Some(endpoint) = endpoint() else {
        return;
    };
    let response = runtime().block_on(endpoint.serve(&request));
    let status = response.status();
    if secret != SECRET.as_bytes() || (flags & 0x80 != 0 && flags & 2 != 0) {
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "a request without the secret got through"
        );
    }
    assert_ne!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the in-memory store never fails"
    );
    if !response.body().is_empty() {
        let reply: serde_json::Value = serde_json::from_str(response.body()).expect("a JSON reply");
        if let Some(text) = reply["text"].as_str() {
            assert!(
                text.encode_utf16().count() <= 4096,
                "a reply over Telegram's limit"
            );
        }
    }
});
