//! The webhook against slow upstreams, abusive chats, store refusals and long upstream names:
//! every update is answered within its budget, with a clear text, and Telegram gets its 200.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod webhook_support;

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Duration;
use http::StatusCode;
use loadshed_core::clock::Clock;
use loadshed_core::domain::{Area, ChatId};
use loadshed_core::ports::SubscriptionStore;
use loadshed_core::webhook::WebhookSettings;
use serde_json::json;
use tokio::time::Instant;
use webhook_support::{
    BOT, FakeSearch, Harness, PRIVATE, bertiburg, callback_update, message, message_update,
};

/// Posts and measures how long the answer took in the (paused, auto-advancing) test clock.
async fn timed(h: &Harness, update: &serde_json::Value) -> (webhook_support::Answer, StdDuration) {
    let started = Instant::now();
    let answer = h.post_json(update).await;
    (answer, started.elapsed())
}

/// Well inside the webhook Lambda's 15 s timeout (infra/template.yaml).
const LAMBDA_TIMEOUT: StdDuration = StdDuration::from_secs(15);

// ---- Item 1: time budgets -------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_hanging_search_is_given_up_on_within_the_budget() {
    let h = Harness::new();
    h.search.set_delay(StdDuration::from_secs(3600));
    let (answer, took) = timed(&h, &message_update(1, PRIVATE, 1, "/subscribe Bertiburg")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.text().contains("try again"), "{}", answer.text());
    assert!(took < LAMBDA_TIMEOUT, "answered after {took:?}");
    assert!(
        took >= h.endpoint_settings().call_budget,
        "gave up early: {took:?}"
    );

    // A tap searches again: the same budget, answered on the button.
    let asked = message(PRIVATE, 20, "/subscribe Bertiburg");
    let (answer, took) = timed(
        &h,
        &callback_update(2, PRIVATE, 21, "s:eskom:64106", Some(asked)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.method(), "answerCallbackQuery");
    assert!(answer.text().contains("try again"), "{}", answer.text());
    assert!(took < LAMBDA_TIMEOUT, "answered after {took:?}");
}

#[tokio::test(start_paused = true)]
async fn the_whole_update_has_a_budget_below_the_lambda_timeout() {
    let mut settings = WebhookSettings::new(BOT);
    // Each call alone could take longer than the invocation may: the update's own budget decides.
    settings.call_budget = StdDuration::from_secs(60);
    let h = Harness::with_settings(settings.clone());
    h.search.set_delay(StdDuration::from_secs(3600));
    let (answer, took) = timed(&h, &message_update(1, PRIVATE, 1, "/subscribe Bertiburg")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.text().contains("too long"), "{}", answer.text());
    assert!(
        took <= settings.update_budget + StdDuration::from_millis(1),
        "{took:?}"
    );
    assert!(settings.update_budget < LAMBDA_TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_start_is_given_up_on_and_frees_the_cooldown() {
    let h = Harness::new();
    subscribe(&h, PRIVATE, &[bertiburg()]).await;
    h.workflow.set_delay(StdDuration::from_secs(3600));
    let (answer, took) = timed(&h, &message_update(1, PRIVATE, 1, "/refresh")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.text().contains("could not start"),
        "{}",
        answer.text()
    );
    assert!(took < LAMBDA_TIMEOUT, "{took:?}");
    h.workflow.set_delay(StdDuration::ZERO);
    let again = h
        .post_json(&message_update(2, PRIVATE, 2, "/refresh"))
        .await;
    assert!(again.text().starts_with("Refreshing"), "{}", again.text());
}

// ---- Item 5: cooldowns ----------------------------------------------------------------------------

#[tokio::test]
async fn a_failed_start_releases_the_cooldown() {
    let h = Harness::new();
    subscribe(&h, PRIVATE, &[bertiburg()]).await;
    h.workflow.set_failing(true);
    let failed = h
        .post_json(&message_update(1, PRIVATE, 1, "/refresh"))
        .await;
    assert!(
        failed.text().contains("could not start"),
        "{}",
        failed.text()
    );
    h.workflow.set_failing(false);
    h.clock.advance(Duration::seconds(5));
    let again = h
        .post_json(&message_update(2, PRIVATE, 2, "/refresh"))
        .await;
    assert!(again.text().starts_with("Refreshing"), "{}", again.text());
    assert_eq!(h.workflow.executions().len(), 1);
}

#[tokio::test]
async fn a_cooldown_claim_error_does_not_let_the_redelivery_skip_the_cooldown() {
    let h = Harness::new();
    subscribe(&h, PRIVATE, &[bertiburg()]).await;
    assert!(
        h.post_json(&message_update(1, PRIVATE, 1, "/refresh"))
            .await
            .text()
            .starts_with("Refreshing")
    );
    h.clock.advance(Duration::seconds(10));
    // The second /refresh hits a store error at its cooldown claim: Telegram is asked to redeliver.
    h.store.set_cooldown_claims_failing(true);
    let second = message_update(2, PRIVATE, 2, "/refresh");
    assert_eq!(
        h.post_json(&second).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    h.store.set_cooldown_claims_failing(false);
    // The redelivery, still within the first refresh's cooldown, is held back like any repeat.
    let redelivered = h.post_json(&second).await;
    assert!(
        redelivered.text().starts_with("Already refreshing"),
        "{}",
        redelivered.text()
    );
    assert_eq!(h.workflow.executions().len(), 1);
}

// ---- Item 2: per-chat limits ----------------------------------------------------------------------

#[tokio::test]
async fn a_chat_searching_in_a_loop_is_held_back_and_told_why() {
    let h = Harness::new();
    let per_window = h.endpoint_settings().searches_per_window;
    for id in 0..per_window {
        let answer = h
            .post_json(&message_update(i64::from(id), PRIVATE, 1, "/subscribe a"))
            .await;
        assert!(
            !answer.text().contains("a lot of searching"),
            "{}",
            answer.text()
        );
    }
    let refused = h
        .post_json(&message_update(1000, PRIVATE, 1, "/subscribe a"))
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.text().contains("a lot of searching"),
        "{}",
        refused.text()
    );
    assert_eq!(
        h.search.queries().len(),
        per_window as usize,
        "the refused search never went upstream"
    );
    // Another chat is not held back, and the next window starts afresh.
    let other = h
        .post_json(&message_update(1001, 777, 1, "/subscribe a"))
        .await;
    assert!(
        !other.text().contains("a lot of searching"),
        "{}",
        other.text()
    );
    h.clock.advance(h.endpoint_settings().search_window);
    let later = h
        .post_json(&message_update(1002, PRIVATE, 1, "/subscribe a"))
        .await;
    assert!(
        !later.text().contains("a lot of searching"),
        "{}",
        later.text()
    );
}

#[tokio::test]
async fn all_chats_together_have_a_daily_search_budget() {
    let mut settings = WebhookSettings::new(BOT);
    settings.searches_per_day = 3;
    let h = Harness::with_settings(settings);
    for chat in 1..=3 {
        let answer = h
            .post_json(&message_update(chat, chat, 1, "/subscribe a"))
            .await;
        assert!(!answer.text().contains("share"), "{}", answer.text());
    }
    let refused = h.post_json(&message_update(4, 4, 1, "/subscribe a")).await;
    assert!(
        refused.text().contains("try again tomorrow"),
        "{}",
        refused.text()
    );
    assert_eq!(h.search.queries().len(), 3);
    h.clock.advance(Duration::days(1));
    let tomorrow = h.post_json(&message_update(5, 4, 1, "/subscribe a")).await;
    assert!(!tomorrow.text().contains("share"), "{}", tomorrow.text());
}

#[tokio::test]
async fn a_chat_follows_at_most_the_cap_of_areas() {
    let areas: Vec<Area> = (0..11)
        .map(|i| Area::eskom(1000 + i, format!("Place{i}"), "M", "Western Cape", 9, 1))
        .collect();
    let h = Harness::build(
        WebhookSettings::new(BOT),
        FakeSearch::with(areas.clone()),
        None,
    );
    let cap = h.endpoint_settings().max_areas_per_chat;
    subscribe(&h, PRIVATE, &areas[..cap]).await;
    let asked = message(PRIVATE, 20, "/subscribe Place");
    let tap = callback_update(
        1,
        PRIVATE,
        21,
        &format!("s:{}", areas[cap].id),
        Some(asked.clone()),
    );
    let refused = h.post_json(&tap).await;
    assert_eq!(refused.method(), "answerCallbackQuery");
    assert!(refused.text().contains("at most"), "{}", refused.text());
    assert_eq!(
        h.store
            .inner
            .areas_of(ChatId(PRIVATE))
            .await
            .expect("areas")
            .len(),
        cap
    );
    // Tapping an area the chat already follows is no new area.
    let again = h
        .post_json(&callback_update(
            2,
            PRIVATE,
            21,
            &format!("s:{}", areas[0].id),
            Some(asked),
        ))
        .await;
    assert!(
        again.text().contains("already subscribed"),
        "{}",
        again.text()
    );
}

// ---- Item 9: long upstream names and what is logged ----------------------------------------------

#[tokio::test]
async fn upstream_names_are_shortened_in_replies_and_toasts() {
    let huge = Area::sepush("huge", "N".repeat(250), "R".repeat(250));
    let h = Harness::build(
        WebhookSettings::new(BOT),
        FakeSearch::with(vec![huge.clone()]),
        None,
    );
    let asked = message(PRIVATE, 20, "/subscribe N");
    let tap = h
        .post_json(&callback_update(1, PRIVATE, 21, "s:esp:huge", Some(asked)))
        .await;
    let text = tap.text();
    assert!(
        text.chars().count() <= 4096,
        "{} characters",
        text.chars().count()
    );
    assert!(!text.contains(&huge.name), "the name went in unshortened");
    let answers = h.answers.answers.lock().expect("lock").clone();
    let toast = answers[0].text.clone().expect("a toast");
    assert!(
        toast.chars().count() <= 200,
        "toast of {} characters",
        toast.chars().count()
    );
    // Unsubscribing names it the same way.
    let list = h
        .post_json(&message_update(2, PRIVATE, 30, "/unsubscribe"))
        .await;
    let data = webhook_support::button_data(list.reply.as_ref().expect("list"));
    let gone = h
        .post_json(&callback_update(3, PRIVATE, 31, &data[0], None))
        .await;
    assert!(!gone.text().contains(&huge.name));
    let answers = h.answers.answers.lock().expect("lock").clone();
    assert!(answers[1].text.as_ref().expect("toast").chars().count() <= 200);
}

/// Captures what the webhook logs while `body` runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_unreadable_update_is_logged_without_its_text() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = Harness::new();
    // A chat id Telegram would never send as text: serde_json's error quotes the value.
    let body = json!({"update_id": 7, "message": {"message_id": 1, "date": 1,
        "chat": {"id": "my PIN is 4321", "type": "private"}, "text": "hello"}});
    let answer = h.post_json(&body).await;
    assert_eq!(answer.status, StatusCode::OK);
    let logged = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logged.contains("unreadable update ignored"), "{logged}");
    assert!(logged.contains("line="), "the position is logged: {logged}");
    assert!(
        !logged.contains("4321"),
        "the value leaked into the log: {logged}"
    );
}

async fn subscribe(h: &Harness, chat: i64, areas: &[Area]) {
    for area in areas {
        h.store
            .inner
            .subscribe(ChatId(chat), area, h.clock.now())
            .await
            .expect("subscribe");
    }
}
