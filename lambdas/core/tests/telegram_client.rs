//! The Bot API client against wiremock: request shapes, and every documented failure mapped to its
//! typed error without the token ever showing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::path::PathBuf;
use std::time::Duration;

use loadshed_core::adapters::telegram::{
    AnswerCallbackQuery, BotCommand, BotToken, SetWebhook, TelegramClient, TelegramError,
};
use loadshed_core::domain::ChatId;
use loadshed_core::errors::{ErrorName, Named};
use loadshed_core::ports::{InlineButton, InlineKeyboard, Message, Messenger, SendError};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

fn token() -> BotToken {
    BotToken::new(format!("110201543:{SECRET}")).expect("valid token")
}

fn method_path(name: &str) -> String {
    format!("/bot110201543:{SECRET}/{name}")
}

fn client(server: &MockServer) -> TelegramClient {
    TelegramClient::with_base_url(token(), &server.uri(), Duration::from_secs(5))
        .expect("client builds")
}

fn shared_fixture(name: &str) -> String {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/upstream"
    ));
    assert!(
        dir.is_dir(),
        "the shared fixtures folder {} is missing: these tests need ../shared (present in CI)",
        dir.display()
    );
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("cannot read shared fixture {name}: {e}"))
}

async fn answer_send_with(status: u16, body: serde_json::Value) -> (MockServer, TelegramClient) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(method_path("sendMessage")))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let client = client(&server);
    (server, client)
}

fn assert_no_secret(error: &TelegramError) {
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(SECRET), "token leaked: {shown}");
    }
}

#[tokio::test]
async fn send_message_posts_html_with_the_keyboard_and_returns_the_message_id() {
    let server = MockServer::start().await;
    let keyboard = InlineKeyboard::column([InlineButton::callback(
        "Bertiburg <Swartland>",
        "sub:eskom:64106",
    )
    .expect("short data")]);
    let message = Message::html("<b>Stage 4</b> &amp; more").with_keyboard(keyboard);
    Mock::given(method("POST"))
        .and(path(method_path("sendMessage")))
        .and(body_json(json!({
            "chat_id": -1001283156137i64,
            "text": "<b>Stage 4</b> &amp; more",
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[
                {"text": "Bertiburg <Swartland>", "callback_data": "sub:eskom:64106"}
            ]]},
            "link_preview_options": {"is_disabled": true}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"message_id": 452, "date": 1512733685, "chat": {"id": -1001283156137i64, "type": "supergroup"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let sent = client(&server)
        .send(ChatId(-1001283156137), &message)
        .await
        .expect("sent");
    assert_eq!(sent.message_id, 452);
}

#[tokio::test]
async fn rate_limit_carries_retry_after_from_the_official_error_shape() {
    let fixture: serde_json::Value =
        serde_json::from_str(&shared_fixture("telegram_error_429_retry_after.json"))
            .expect("fixture is JSON");
    let (_server, client) = answer_send_with(429, fixture).await;
    let error = client
        .send_message(ChatId(1), &Message::plain("hi"))
        .await
        .expect_err("rate limited");
    assert_eq!(
        error,
        TelegramError::RateLimited {
            method: "sendMessage",
            retry_after: Duration::from_secs(9)
        }
    );
    assert_eq!(error.error_name(), ErrorName::TelegramUnavailable);
    assert_eq!(
        SendError::from(error),
        SendError::RateLimited {
            retry_after: Duration::from_secs(9)
        }
    );
}

#[tokio::test]
async fn blocked_kicked_and_deactivated_are_unreachable_chats() {
    for description in [
        "Forbidden: bot was blocked by the user",
        "Forbidden: bot was kicked from the group chat",
        "Forbidden: user is deactivated",
    ] {
        let (_server, client) = answer_send_with(
            403,
            json!({"ok": false, "error_code": 403, "description": description}),
        )
        .await;
        let error = client.send(ChatId(7), &Message::plain("hi")).await;
        assert_eq!(
            error,
            Err(SendError::ChatUnreachable {
                reason: description.to_owned()
            })
        );
    }
}

#[tokio::test]
async fn group_upgrade_reports_the_new_chat_id() {
    let (_server, client) = answer_send_with(
        400,
        json!({
            "ok": false,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1001283156137i64}
        }),
    )
    .await;
    let error = client.send(ChatId(-218487457), &Message::plain("hi")).await;
    assert_eq!(
        error,
        Err(SendError::ChatMigrated {
            to: ChatId(-1001283156137)
        })
    );
}

#[tokio::test]
async fn other_client_errors_are_rejections_with_telegrams_reason() {
    let (_server, client) = answer_send_with(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message is too long"}),
    )
    .await;
    let error = client
        .send_message(ChatId(7), &Message::plain("hi"))
        .await
        .expect_err("rejected");
    assert_eq!(
        error,
        TelegramError::Rejected {
            method: "sendMessage",
            status: 400,
            description: "Bad Request: message is too long".into()
        }
    );
    assert!(!error.error_name().is_transient());
}

#[tokio::test]
async fn a_chat_not_found_is_unreachable_so_notify_unsubscribes_it() {
    let (_server, client) = answer_send_with(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
    )
    .await;
    let error = client
        .send_message(ChatId(7), &Message::plain("hi"))
        .await
        .expect_err("gone");
    assert_eq!(
        SendError::from(error),
        SendError::ChatUnreachable {
            reason: "Bad Request: chat not found".into()
        }
    );
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_and_never_shown() {
    for (status, description) in [(401, "Unauthorized"), (404, "Not Found")] {
        let (_server, client) = answer_send_with(
            status,
            json!({"ok": false, "error_code": status, "description": description}),
        )
        .await;
        let error = client
            .send_message(ChatId(7), &Message::plain("hi"))
            .await
            .expect_err("unauthorized");
        assert_eq!(
            error.error_name(),
            ErrorName::TelegramUnauthorized,
            "{status}"
        );
        assert_no_secret(&error);
    }
}

#[tokio::test]
async fn server_errors_and_proxy_pages_are_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(502).set_body_string("<html><body>Bad Gateway</body></html>"),
        )
        .mount(&server)
        .await;
    let error = client(&server)
        .send_message(ChatId(7), &Message::plain("hi"))
        .await
        .expect_err("unavailable");
    assert!(
        matches!(
            error,
            TelegramError::Unavailable {
                method: "sendMessage",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.error_name(), ErrorName::TelegramUnavailable);

    let (_server, client) = answer_send_with(
        500,
        json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
    )
    .await;
    let error = client.send(ChatId(7), &Message::plain("hi")).await;
    assert!(
        matches!(error, Err(SendError::Unavailable { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_ok_answer_we_cannot_read_is_malformed() {
    let (_server, client) =
        answer_send_with(200, json!({"ok": true, "result": {"no_message_id": 1}})).await;
    let error = client
        .send_message(ChatId(7), &Message::plain("hi"))
        .await
        .expect_err("malformed");
    assert!(
        matches!(error, TelegramError::Malformed { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": {"message_id": 1}}))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let client = TelegramClient::with_base_url(token(), &server.uri(), Duration::from_millis(200))
        .expect("client builds");
    let error = client
        .send_message(ChatId(7), &Message::plain("hi"))
        .await
        .expect_err("timeout");
    assert!(matches!(error, TelegramError::Timeout { .. }), "{error:?}");
    assert_eq!(error.error_name(), ErrorName::TelegramUnavailable);
}

#[tokio::test]
async fn a_connection_failure_never_shows_the_url_or_token() {
    // Port 9 (discard) on loopback: nothing listens there in a test environment.
    let client =
        TelegramClient::with_base_url(token(), "http://127.0.0.1:9", Duration::from_secs(2))
            .expect("client builds");
    let error = client
        .send_message(ChatId(7), &Message::plain("hi"))
        .await
        .expect_err("cannot connect");
    assert!(
        matches!(error, TelegramError::Unavailable { .. }),
        "{error:?}"
    );
    assert_no_secret(&error);
    assert!(!format!("{client:?}").contains(SECRET));
}

#[tokio::test]
async fn answers_callbacks_and_sets_up_the_webhook_and_commands() {
    let server = MockServer::start().await;
    let ok_true = || ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true}));
    Mock::given(method("POST"))
        .and(path(method_path("answerCallbackQuery")))
        .and(body_json(
            json!({"callback_query_id": "4382bfdwdsb323b2d9", "text": "Subscribed"}),
        ))
        .respond_with(ok_true())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("setWebhook")))
        .and(body_json(json!({
            "url": "https://example.lambda-url.af-south-1.on.aws/",
            "secret_token": "s3cr3t-header",
            "allowed_updates": ["message", "callback_query"],
            "drop_pending_updates": false
        })))
        .respond_with(ok_true())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("setMyCommands")))
        .and(body_json(
            json!({"commands": [{"command": "status", "description": "Stage and your slots"}]}),
        ))
        .respond_with(ok_true())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("getMe")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"id": 110201543, "is_bot": true, "first_name": "loadshed", "username": "loadshed_bot"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("editMessageText")))
        .and(body_json(json!({
            "chat_id": 42, "message_id": 99, "text": "done", "link_preview_options": {"is_disabled": true}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {"message_id": 99}})))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    client
        .answer_callback_query(
            &AnswerCallbackQuery::new("4382bfdwdsb323b2d9").with_text("Subscribed"),
        )
        .await
        .expect("answered");
    client
        .set_webhook(&SetWebhook {
            url: "https://example.lambda-url.af-south-1.on.aws/".into(),
            secret_token: "s3cr3t-header".into(),
            allowed_updates: vec!["message".into(), "callback_query".into()],
            drop_pending_updates: false,
        })
        .await
        .expect("webhook set");
    client
        .set_my_commands(&[BotCommand {
            command: "status".into(),
            description: "Stage and your slots".into(),
        }])
        .await
        .expect("commands set");
    let me = client.get_me().await.expect("getMe");
    assert_eq!(me.username.as_deref(), Some("loadshed_bot"));
    client
        .edit_message_text(ChatId(42), 99, &Message::plain("done"))
        .await
        .expect("edited");
}

#[tokio::test]
async fn a_false_result_is_not_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(method_path("setWebhook")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": false})),
        )
        .mount(&server)
        .await;
    let error = client(&server)
        .set_webhook(&SetWebhook {
            url: "https://example.com/".into(),
            secret_token: "x".into(),
            allowed_updates: vec![],
            drop_pending_updates: true,
        })
        .await
        .expect_err("false is no success");
    assert!(matches!(
        error,
        TelegramError::Malformed {
            method: "setWebhook",
            ..
        }
    ));
}

#[test]
fn a_base_url_that_is_no_http_url_is_refused_at_start() {
    for bad in ["not a url", "mailto:bot@example.com", "ftp://example.com"] {
        assert!(
            TelegramClient::with_base_url(token(), bad, Duration::from_secs(1)).is_err(),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_token_in_the_path_never_follows_a_redirect_to_another_host() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})))
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/stolen", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let result = client(&server)
        .answer_callback_query(&AnswerCallbackQuery::new("q"))
        .await;
    assert!(result.is_err(), "{result:?}");
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

/// Long polling (`loadshed serve`): getUpdates carries offset, timeout and the kinds asked for, and
/// returns the updates as Telegram sent them; deleteWebhook keeps pending updates.
#[tokio::test]
async fn get_updates_and_delete_webhook_for_long_polling() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(method_path("getUpdates")))
        .and(body_json(json!({
            "offset": 7,
            "timeout": 25,
            "allowed_updates": ["message", "callback_query"],
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": [{"update_id": 7, "something_new": {}}],
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("deleteWebhook")))
        .and(body_json(json!({"drop_pending_updates": false})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client.delete_webhook().await.expect("webhook deleted");
    let updates = client
        .get_updates(Some(7), 25, &["message", "callback_query"])
        .await
        .expect("updates");
    assert_eq!(updates, vec![json!({"update_id": 7, "something_new": {}})]);
}

/// A webhook reply body performed as the call it names; a method the webhook never replies with
/// is refused before any request.
#[tokio::test]
async fn perform_sends_a_webhook_reply_as_its_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(method_path("answerCallbackQuery")))
        .and(body_json(json!({"callback_query_id": "q", "text": "ok"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .perform(&json!({"method": "answerCallbackQuery", "callback_query_id": "q", "text": "ok"}))
        .await
        .expect("performed");
    let refused = client
        .perform(&json!({"method": "deleteMessage", "chat_id": 1, "message_id": 2}))
        .await
        .expect_err("not a reply method");
    assert!(
        matches!(refused, TelegramError::Unencodable { .. }),
        "{refused:?}"
    );
}

/// `/channel`'s lookups: `getChat` by `@username`, then the bot's own `getChatMember` (its id from
/// `getMe`), and Telegram's refusal of a chat the bot cannot see as `Forbidden` (permanent).
#[tokio::test]
async fn channel_lookups_ask_get_chat_and_the_bots_own_membership() {
    use loadshed_core::adapters::telegram::ChatRef;
    use loadshed_core::webhook::ChannelLookup;

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(method_path("getChat")))
        .and(body_json(json!({"chat_id": "@fourways_power"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"id": -1001987654321_i64, "type": "channel", "title": "Fourways power",
                "username": "fourways_power", "accent_color_id": 1, "max_reaction_count": 11}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("getChat")))
        .and(body_json(json!({"chat_id": -1005})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "ok": false, "error_code": 400, "description": "Bad Request: chat not found"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("getMe")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"id": 110201543, "is_bot": true, "first_name": "loadshed", "username": "loadshed_bot"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(method_path("getChatMember")))
        .and(body_json(
            json!({"chat_id": -1001987654321_i64, "user_id": 110201543}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"status": "administrator", "user": {"id": 110201543, "is_bot": true, "first_name": "loadshed"},
                "can_be_edited": false, "can_post_messages": true, "can_edit_messages": true}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let chat = client
        .chat(&ChatRef::Username("@fourways_power".into()))
        .await
        .expect("getChat");
    assert_eq!(
        (chat.id, chat.kind.as_str(), chat.username.as_deref()),
        (-1001987654321, "channel", Some("fourways_power"))
    );
    let member = client
        .bot_member(ChatId(chat.id))
        .await
        .expect("getChatMember");
    assert_eq!(member.status, "administrator");
    assert!(member.can_post_messages);

    let missing = client
        .chat(&ChatRef::Id(-1005))
        .await
        .expect_err("chat not found");
    assert!(
        matches!(
            missing,
            TelegramError::Forbidden {
                method: "getChat",
                ..
            }
        ),
        "{missing:?}"
    );
    assert_eq!(missing.error_name(), ErrorName::InvalidInput);
}
