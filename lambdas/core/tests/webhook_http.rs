//! The webhook's HTTP contract: who may call, what is read, what Telegram gets back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod webhook_support;

use http::{Request, StatusCode};
use loadshed_core::clock::Clock;
use loadshed_core::domain::ChatId;
use loadshed_core::ports::SubscriptionStore;
use loadshed_core::webhook::{SECRET_HEADER, WebhookSettings};
use serde_json::json;
use webhook_support::{
    FakeSearch, Harness, PRIVATE, SECRET, bertiburg, message_update, telegram_request,
};

/// A /refresh that would start an execution if it got through.
async fn refresh_body(h: &Harness) -> String {
    h.store
        .inner
        .subscribe(ChatId(PRIVATE), &bertiburg(), h.clock.now())
        .await
        .expect("subscribe");
    message_update(1, PRIVATE, 10, "/refresh").to_string()
}

fn request(method: &str, secret_header: Option<(&str, &str)>, body: String) -> Request<Vec<u8>> {
    let mut builder = Request::builder().method(method).uri("/");
    if let Some((name, value)) = secret_header {
        builder = builder.header(name, value);
    }
    builder.body(body.into_bytes()).expect("request")
}

#[tokio::test]
async fn no_secret_header_is_refused_and_nothing_happens() {
    let h = Harness::new();
    let body = refresh_body(&h).await;
    let answer = h.send(request("POST", None, body)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.reply, None);
    h.assert_untouched();
}

#[tokio::test]
async fn wrong_secrets_are_refused_and_nothing_happens() {
    let h = Harness::new();
    let body = refresh_body(&h).await;
    let near_misses = [
        String::new(),
        SECRET.to_lowercase(),
        SECRET[..SECRET.len() - 1].to_owned(),
        format!("{SECRET}x"),
        format!(" {SECRET}"),
        "x".repeat(300),
    ];
    for wrong in near_misses {
        let answer = h
            .send(request("POST", Some((SECRET_HEADER, &wrong)), body.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "secret {wrong:?}");
    }
    // A secret under another header name does not count either.
    let answer = h
        .send(request(
            "POST",
            Some(("X-Telegram-Bot-Api-Secret", SECRET)),
            body,
        ))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    h.assert_untouched();
}

#[tokio::test]
async fn the_header_name_matches_in_any_case() {
    for name in [
        "X-Telegram-Bot-Api-Secret-Token",
        "x-telegram-bot-api-secret-token",
        "X-TELEGRAM-BOT-API-SECRET-TOKEN",
    ] {
        let h = Harness::new();
        let answer = h
            .send(request(
                "POST",
                Some((name, SECRET)),
                message_update(1, PRIVATE, 1, "/help").to_string(),
            ))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "header {name}");
        assert_eq!(answer.method(), "sendMessage");
    }
}

#[tokio::test]
async fn only_post_is_accepted() {
    let h = Harness::new();
    let body = refresh_body(&h).await;
    for method in ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] {
        let answer = h
            .send(request(method, Some((SECRET_HEADER, SECRET)), body.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(answer.response.headers()["allow"], "POST");
        // Without the secret, the method is not even looked at.
        let answer = h.send(request(method, None, body.clone())).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{method} without secret"
        );
    }
    h.assert_untouched();
}

#[tokio::test]
async fn unreadable_bodies_are_acknowledged_and_ignored() {
    let h = Harness::new();
    let bodies: [&[u8]; 9] = [
        b"",
        b"{",
        b"not json at all",
        b"[]",
        b"null",
        b"{}",
        br#"{"update_id": "seven"}"#,
        br#"{"update_id": 5, "message": {"message_id": "x"}}"#,
        b"\xff\xfe\x00garbage",
    ];
    for body in bodies {
        let answer = h.post(body.to_vec()).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "body {:?}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(answer.reply, None);
    }
    h.assert_untouched();
}

#[tokio::test]
async fn updates_without_a_message_are_acknowledged_and_ignored() {
    let h = Harness::new();
    let updates = [
        json!({"update_id": 1}),
        json!({"update_id": 2, "edited_message": {
            "message_id": 3, "chat": {"id": PRIVATE, "type": "private"}, "date": 1, "edit_date": 2,
            "text": "/refresh", "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}}),
        json!({"update_id": 3, "channel_post": {
            "message_id": 4, "chat": {"id": -100, "type": "channel"}, "date": 1, "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}),
        json!({"update_id": 4, "inline_query": {"id": "q", "from": {"id": 1, "is_bot": false, "first_name": "A"}, "query": "x", "offset": ""}}),
        json!({"update_id": 5, "message_reaction": {"chat": {"id": PRIVATE, "type": "private"}}}),
    ];
    for update in updates {
        let answer = h.post_json(&update).await;
        assert_eq!(answer.status, StatusCode::OK, "{update}");
        assert_eq!(answer.reply, None, "{update}");
    }
    h.assert_untouched();
}

#[tokio::test]
async fn a_huge_body_is_refused_unread() {
    let h = Harness::new();
    let body = refresh_body(&h).await;
    let writes_before = h.store.writes();
    let mut huge = message_update(2, PRIVATE, 11, "/refresh");
    huge["message"]["caption"] = json!("x".repeat(loadshed_core::webhook::MAX_BODY_BYTES));
    let answer = h.post(huge.to_string()).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(h.workflow.calls().is_empty());
    assert_eq!(h.store.writes(), writes_before);
    // The same update at a normal size goes through.
    assert_eq!(h.post(body).await.status, StatusCode::OK);
    assert_eq!(h.workflow.executions().len(), 1);
}

#[tokio::test]
async fn the_size_limit_is_exact() {
    let h = Harness::build(WebhookSettings::new("b"), FakeSearch::default(), Some(64));
    let mut body = br#"{"update_id": 1}"#.to_vec();
    body.resize(64, b' ');
    assert_eq!(h.post(body.clone()).await.status, StatusCode::OK);
    body.push(b' ');
    assert_eq!(h.post(body).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn replies_are_bot_api_calls_in_the_body() {
    let h = Harness::new();
    let answer = h.post_json(&message_update(1, PRIVATE, 1, "/start")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.response.headers()["content-type"],
        "application/json"
    );
    let reply = answer.reply.expect("a reply");
    assert_eq!(reply["method"], "sendMessage");
    assert_eq!(reply["chat_id"], PRIVATE);
    assert!(reply["text"].as_str().expect("text").contains("/subscribe"));
}

#[tokio::test]
async fn a_store_outage_asks_for_redelivery_and_the_redelivery_does_the_work_once() {
    let h = Harness::new();
    let body = refresh_body(&h).await;
    h.store.set_down(true);
    let answer = h.post(body.clone()).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(h.workflow.calls().is_empty());
    h.store.set_down(false);
    for _ in 0..2 {
        let answer = h.post(body.clone()).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.text().starts_with("Refreshing"), "{}", answer.text());
    }
    assert_eq!(h.workflow.executions().len(), 1);
}

#[tokio::test]
async fn the_request_helper_sends_the_secret() {
    // Guards the harness itself: without this, every test above could pass on a 401.
    let h = Harness::new();
    let answer = h
        .send(telegram_request(
            message_update(1, PRIVATE, 1, "/help").to_string(),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn a_corrupt_item_is_apologised_for_not_redelivered() {
    // Redelivering cannot repair a corrupt item, so the chat is told and Telegram gets its 200.
    let h = Harness::new();
    h.store.set_corrupt(true);
    let answer = h.post_json(&message_update(1, PRIVATE, 1, "/status")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.text().contains("went wrong"), "{}", answer.text());
    let tap = webhook_support::callback_update(2, PRIVATE, 5, "u:eskom:64106", None);
    let answer = h.post_json(&tap).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.method(), "answerCallbackQuery");
    assert!(answer.text().contains("went wrong"), "{}", answer.text());
}
