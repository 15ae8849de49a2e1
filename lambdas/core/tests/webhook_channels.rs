//! Area channels (`/channel`), end to end through the real endpoint and handler with fake ports:
//! the allow-list, Telegram's word on the bot's standing in the channel, linking by a tap
//! (redelivered too), unlinking, and `/subscribe` pointing people at the area's channel.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod webhook_support;

use loadshed_core::adapters::telegram::{ChatInfo, TelegramError};
use loadshed_core::domain::{ChannelAdmins, ChannelLink, ChatId};
use loadshed_core::ports::{ChannelStore, SubscriptionStore};
use loadshed_core::webhook::WebhookSettings;
use pretty_assertions::assert_eq;
use serde_json::Value;
use webhook_support::{
    BOT, GROUP, Harness, PRIVATE, bertiburg, button_data, callback_update, message, message_update,
};

/// The sender of every message and tap the support module writes.
const OPERATOR: i64 = 77;
const CHANNEL: i64 = -1001987654321;

fn operators(ids: &[i64]) -> Harness {
    Harness::with_settings(
        WebhookSettings::new(BOT).with_channel_admins(ChannelAdmins::new(ids.iter().copied())),
    )
}

/// A harness whose operator may link, with the channel `@fourways_power` where the bot has
/// `status` (and may post or not).
fn with_channel(status: &str, can_post: bool) -> Harness {
    let h = operators(&[OPERATOR]);
    h.channels.add_channel(
        CHANNEL,
        "fourways_power",
        "Fourways power",
        status,
        can_post,
    );
    h
}

fn text_of(reply: &Value) -> &str {
    reply["text"].as_str().expect("text")
}

async fn links(h: &Harness) -> Vec<ChannelLink> {
    h.store
        .inner
        .channels_of(&bertiburg().id)
        .await
        .expect("links")
}

async fn channel_areas(h: &Harness) -> Vec<String> {
    h.store
        .inner
        .areas_of(ChatId(CHANNEL))
        .await
        .expect("areas")
        .into_iter()
        .map(|a| a.id.to_string())
        .collect()
}

/// `/channel @fourways_power Bertiburg`, then a tap on Bertiburg: the tap's answer.
async fn link_by_tap(h: &Harness, chat: i64) -> Value {
    let asked = message(chat, 30, "/channel @fourways_power Bertiburg");
    let answer = h
        .post_json(&serde_json::json!({"update_id": 1, "message": asked.clone()}))
        .await;
    let reply = answer.reply.expect("a keyboard");
    assert_eq!(button_data(&reply), vec!["c:eskom:64106"]);
    let tap = callback_update(2, chat, 31, "c:eskom:64106", Some(asked));
    h.post_json(&tap).await.reply.expect("a reply")
}

#[tokio::test]
async fn an_operator_links_a_channel_to_an_area_by_a_tap() {
    let h = with_channel("administrator", true);
    let asked = message(PRIVATE, 30, "/channel @fourways_power Bertiburg");
    let answer = h
        .post_json(&serde_json::json!({"update_id": 1, "message": asked.clone()}))
        .await;
    let reply = answer.reply.expect("a keyboard");
    assert_eq!(reply["method"], "sendMessage");
    assert_eq!(reply["reply_parameters"]["message_id"], 30);
    assert!(text_of(&reply).contains("\"Fourways power\""), "{reply}");
    assert_eq!(button_data(&reply), vec!["c:eskom:64106"]);
    assert_eq!(
        h.channels.calls(),
        vec![
            "getChat @fourways_power".to_owned(),
            format!("getChatMember {CHANNEL}")
        ]
    );
    assert_eq!(h.store.writes(), 0, "the list stores nothing");

    let tap = callback_update(2, PRIVATE, 31, "c:eskom:64106", Some(asked));
    let reply = h.post_json(&tap).await.reply.expect("a reply");
    assert_eq!(reply["method"], "editMessageText");
    assert_eq!(reply["message_id"], 31);
    assert!(
        text_of(&reply).starts_with("Linked \"Fourways power\" to Bertiburg"),
        "{reply}"
    );
    assert_eq!(channel_areas(&h).await, vec!["eskom:64106"]);
    assert_eq!(
        links(&h).await,
        vec![ChannelLink::new(
            ChatId(CHANNEL),
            bertiburg().id,
            "Fourways power",
            Some("https://t.me/fourways_power".into()),
            OPERATOR,
        )]
    );
    // The tap checked the channel again before linking.
    assert_eq!(h.channels.calls().len(), 4);

    // Telegram redelivers the tap: linked once, and the reply says so.
    let writes = h.store.writes();
    let again = h.post_json(&tap).await.reply.expect("a reply");
    assert!(text_of(&again).starts_with("Already linked:"), "{again}");
    assert_eq!(channel_areas(&h).await, vec!["eskom:64106"]);
    assert_eq!(links(&h).await.len(), 1);
    assert_eq!(
        h.store
            .inner
            .subscribers_of(&bertiburg().id)
            .await
            .expect("subscribers"),
        vec![ChatId(CHANNEL)]
    );
    // The idempotent writes are tried again; nothing new is stored.
    assert_eq!(h.store.writes(), writes + 2);
}

#[tokio::test]
async fn someone_not_on_the_allow_list_is_refused_and_nothing_is_stored() {
    // Nobody by default.
    let h = Harness::new();
    h.channels.add_channel(
        CHANNEL,
        "fourways_power",
        "Fourways power",
        "administrator",
        true,
    );
    for (id, text) in [
        (1, "/channel @fourways_power Bertiburg"),
        (2, "/channel off @fourways_power"),
        (3, "/unchannel @fourways_power"),
        (4, "/channel"),
    ] {
        let answer = h.post_json(&message_update(id, PRIVATE, id, text)).await;
        let reply = answer.text();
        assert!(
            reply.contains("Only the bot's operators"),
            "{text}: {reply}"
        );
        assert!(reply.contains("(yours is 77)"), "{text}: {reply}");
    }
    // A tap on an operator's list by someone else is refused too.
    let other = operators(&[12345]);
    other.channels.add_channel(
        CHANNEL,
        "fourways_power",
        "Fourways power",
        "administrator",
        true,
    );
    let asked = message(GROUP, 30, "/channel @fourways_power Bertiburg");
    let tap = callback_update(5, GROUP, 31, "c:eskom:64106", Some(asked));
    let reply = other.post_json(&tap).await.reply.expect("an answer");
    assert_eq!(reply["method"], "answerCallbackQuery");
    assert!(
        reply["text"]
            .as_str()
            .expect("text")
            .contains("Only the bot's operators")
    );
    for h in [&h, &other] {
        h.assert_untouched();
        assert!(h.channels.calls().is_empty(), "Telegram was not asked");
        assert_eq!(channel_areas(h).await, Vec::<String>::new());
    }
}

#[tokio::test]
async fn a_listed_group_lets_its_members_link() {
    let h = operators(&[GROUP]);
    h.channels.add_channel(
        CHANNEL,
        "fourways_power",
        "Fourways power",
        "administrator",
        true,
    );
    let reply = link_by_tap(&h, GROUP).await;
    assert!(text_of(&reply).starts_with("Linked"), "{reply}");
    assert_eq!(links(&h).await[0].linked_by, OPERATOR);
}

#[tokio::test]
async fn the_bot_must_be_an_administrator_allowed_to_post() {
    for (status, can_post, expected) in [
        (
            "member",
            false,
            "is not an administrator of \"Fourways power\"",
        ),
        ("left", false, "is not an administrator"),
        ("administrator", false, "may not post messages there"),
    ] {
        let h = with_channel(status, can_post);
        let answer = h
            .post_json(&message_update(
                1,
                PRIVATE,
                1,
                "/channel @fourways_power Bertiburg",
            ))
            .await;
        assert!(
            answer.text().contains(expected),
            "{status}: {}",
            answer.text()
        );
        assert!(
            h.search.queries().is_empty(),
            "no search before the channel is fine"
        );
        assert_eq!(h.store.writes(), 0);
    }

    // A tap on an old list once the bot lost its rights links nothing.
    let h = with_channel("administrator", true);
    let asked = message(PRIVATE, 30, "/channel @fourways_power Bertiburg");
    h.post_json(&serde_json::json!({"update_id": 1, "message": asked.clone()}))
        .await;
    h.channels.add_channel(
        CHANNEL,
        "fourways_power",
        "Fourways power",
        "administrator",
        false,
    );
    let tap = callback_update(2, PRIVATE, 31, "c:eskom:64106", Some(asked));
    let reply = h.post_json(&tap).await.reply.expect("an answer");
    assert_eq!(reply["method"], "answerCallbackQuery");
    assert!(
        reply["text"]
            .as_str()
            .expect("text")
            .contains("may not post")
    );
    assert_eq!(channel_areas(&h).await, Vec::<String>::new());
    assert!(links(&h).await.is_empty());
}

#[tokio::test]
async fn unknown_chats_groups_and_telegram_failures_get_clear_answers() {
    let h = operators(&[OPERATOR]);
    let ask = |text: &'static str| message_update(1, PRIVATE, 1, text);
    // Never set up: Telegram says "chat not found".
    let answer = h.post_json(&ask("/channel @nobody_here Bertiburg")).await;
    assert!(
        answer.text().contains("does not show me that channel"),
        "{}",
        answer.text()
    );

    h.channels.set_chat(
        "@street_group",
        Ok(ChatInfo {
            id: -100555,
            kind: "supergroup".into(),
            title: Some("Street".into()),
            username: Some("street_group".into()),
            invite_link: None,
        }),
    );
    let answer = h.post_json(&ask("/channel @street_group Bertiburg")).await;
    assert!(
        answer.text().contains("That is not a channel"),
        "{}",
        answer.text()
    );

    h.channels.set_chat(
        "@flaky_channel",
        Err(TelegramError::Unavailable {
            method: "getChat",
            detail: "connection reset".into(),
        }),
    );
    let answer = h.post_json(&ask("/channel @flaky_channel Bertiburg")).await;
    assert!(
        answer.text().contains("try again in a minute"),
        "{}",
        answer.text()
    );

    let answer = h.post_json(&ask("/channel fourways Bertiburg")).await;
    assert!(
        answer.text().contains("is not a channel I can look up"),
        "{}",
        answer.text()
    );
    let answer = h.post_json(&ask("/channel @fourways_power")).await;
    assert!(
        answer.text().contains("/channel @yourchannel <place>"),
        "{}",
        answer.text()
    );
    assert!(h.search.queries().is_empty());
    assert_eq!(h.store.writes(), 0);
}

#[tokio::test]
async fn an_operator_unlinks_a_channel() {
    let h = with_channel("administrator", true);
    link_by_tap(&h, PRIVATE).await;
    assert_eq!(links(&h).await.len(), 1);

    let answer = h
        .post_json(&message_update(
            3,
            PRIVATE,
            3,
            "/channel off @fourways_power",
        ))
        .await;
    assert!(
        answer
            .text()
            .starts_with("Unlinked \"Fourways power\" from its 1 area(s)"),
        "{}",
        answer.text()
    );
    assert!(links(&h).await.is_empty());
    assert_eq!(channel_areas(&h).await, Vec::<String>::new());

    // Again, by id, which needs no lookup (the bot may be gone from a private channel).
    let calls = h.channels.calls().len();
    let answer = h
        .post_json(&message_update(
            4,
            PRIVATE,
            4,
            &format!("/unchannel {CHANNEL}"),
        ))
        .await;
    assert!(
        answer.text().contains("is not linked to any area"),
        "{}",
        answer.text()
    );
    assert_eq!(h.channels.calls().len(), calls);
}

#[tokio::test]
async fn subscribe_shows_the_areas_channel_beside_the_subscription() {
    let h = with_channel("administrator", true);
    link_by_tap(&h, PRIVATE).await;

    let asked = message(PRIVATE, 40, "/subscribe Bertiburg");
    let list = h
        .post_json(&serde_json::json!({"update_id": 5, "message": asked.clone()}))
        .await
        .reply
        .expect("a list");
    // The list offers both: the button subscribes this chat, the channel is there to join.
    assert_eq!(button_data(&list), vec!["s:eskom:64106"]);
    assert_eq!(
        text_of(&list),
        "Areas matching \"Bertiburg\". Tap yours:\n\nOr follow an area's channel, where its news is posted for everyone:\nBertiburg: \"Fourways power\": https://t.me/fourways_power"
    );
    let tap = callback_update(6, PRIVATE, 41, "s:eskom:64106", Some(asked));
    let reply = h.post_json(&tap).await.reply.expect("a reply");
    let text = text_of(&reply);
    assert!(text.starts_with("Subscribed to Bertiburg"), "{text}");
    assert!(
        text.ends_with(
            "This area also has a channel, where its news is posted for everyone:\n\"Fourways power\": https://t.me/fourways_power"
        ),
        "{text}"
    );

    // An area without a channel says nothing of channels.
    let h = Harness::new();
    let asked = message(PRIVATE, 40, "/subscribe Bertiburg");
    let list = h
        .post_json(&serde_json::json!({"update_id": 5, "message": asked.clone()}))
        .await
        .reply
        .expect("a list");
    assert_eq!(text_of(&list), "Areas matching \"Bertiburg\". Tap yours:");
    let tap = callback_update(6, PRIVATE, 41, "s:eskom:64106", Some(asked));
    let reply = h.post_json(&tap).await.reply.expect("a reply");
    assert!(!text_of(&reply).contains("channel"), "{reply}");
}

#[tokio::test]
async fn a_channel_that_removes_the_bot_is_unlinked() {
    let h = with_channel("administrator", true);
    link_by_tap(&h, PRIVATE).await;
    let kicked = serde_json::json!({"update_id": 9, "my_chat_member": {
        "chat": {"id": CHANNEL, "type": "channel", "title": "Fourways power"},
        "from": {"id": OPERATOR, "is_bot": false, "first_name": "Thandi"},
        "date": 1764604900,
        "old_chat_member": {"status": "administrator", "user": {"id": 1, "is_bot": true, "first_name": "b"}},
        "new_chat_member": {"status": "left", "user": {"id": 1, "is_bot": true, "first_name": "b"}}
    }});
    h.post_json(&kicked).await;
    assert!(links(&h).await.is_empty());
    assert_eq!(channel_areas(&h).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_channel_where_the_bot_may_no_longer_post_is_unlinked() {
    let membership = |id: i64, status: &str, can_post: bool| {
        serde_json::json!({"update_id": id, "my_chat_member": {
            "chat": {"id": CHANNEL, "type": "channel", "title": "Fourways power"},
            "from": {"id": OPERATOR, "is_bot": false, "first_name": "Thandi"},
            "date": 1764604900,
            "old_chat_member": {"status": "administrator", "can_post_messages": true,
                "user": {"id": 1, "is_bot": true, "first_name": "b"}},
            "new_chat_member": {"status": status, "can_post_messages": can_post,
                "user": {"id": 1, "is_bot": true, "first_name": "b"}}
        }})
    };
    let h = with_channel("administrator", true);
    link_by_tap(&h, PRIVATE).await;
    // Another right changed, posting kept: still linked.
    h.post_json(&membership(10, "administrator", true)).await;
    assert_eq!(links(&h).await.len(), 1);
    // The right to post taken away: unlinked.
    h.post_json(&membership(11, "administrator", false)).await;
    assert!(links(&h).await.is_empty());
    assert_eq!(channel_areas(&h).await, Vec::<String>::new());
}

#[tokio::test]
async fn unlinking_a_groups_id_leaves_its_own_subscriptions_alone() {
    let h = operators(&[OPERATOR]);
    h.store
        .inner
        .subscribe(ChatId(GROUP), &bertiburg(), chrono::Utc::now())
        .await
        .expect("subscribe");
    let answer = h
        .post_json(&message_update(
            1,
            PRIVATE,
            1,
            &format!("/unchannel {GROUP}"),
        ))
        .await;
    assert!(
        answer.text().contains("is not linked to any area"),
        "{}",
        answer.text()
    );
    assert_eq!(
        h.store
            .inner
            .areas_of(ChatId(GROUP))
            .await
            .expect("areas")
            .len(),
        1
    );
}
