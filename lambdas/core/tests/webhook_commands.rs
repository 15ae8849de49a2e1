//! The commands and buttons, end to end through the real endpoint and handler with fake ports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod webhook_support;

use chrono::Duration;
use http::StatusCode;
use loadshed_core::clock::Clock;
use loadshed_core::domain::{ChatId, Schedule, Slot, Stage};
use loadshed_core::ports::{ScheduleStore, StageStore, SubscriptionStore};
use loadshed_core::webhook::WebhookSettings;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use webhook_support::{
    BOT, GROUP, Harness, PRIVATE, ashton, bertiburg, button_data, callback_update, long_named,
    message, message_update,
};

async fn subscribe_directly(h: &Harness, chat: i64, areas: &[loadshed_core::domain::Area]) {
    for area in areas {
        h.store
            .inner
            .subscribe(ChatId(chat), area, h.clock.now())
            .await
            .expect("subscribe");
    }
}

async fn areas_of(h: &Harness, chat: i64) -> Vec<String> {
    h.store
        .inner
        .areas_of(ChatId(chat))
        .await
        .expect("areas")
        .into_iter()
        .map(|a| a.id.to_string())
        .collect()
}

// ---- /start, /help and what is not for us -------------------------------------------------------

#[tokio::test]
async fn start_and_help_explain_the_commands() {
    let h = Harness::new();
    for (id, text) in [
        (1, "/start"),
        (2, "/help"),
        (3, "/help@LoadShed_Bot"),
        (4, "/HELP@loadshed_bot"),
    ] {
        let answer = h.post_json(&message_update(id, PRIVATE, id, text)).await;
        assert_eq!(answer.method(), "sendMessage", "{text}");
        let reply = answer.text();
        for command in [
            "/subscribe",
            "/unsubscribe",
            "/status",
            "/calendar",
            "/refresh",
            "/help",
        ] {
            assert!(
                reply.contains(command),
                "{text}: help lacks {command}: {reply}"
            );
        }
    }
    h.assert_untouched();
}

#[tokio::test]
async fn commands_for_another_bot_are_ignored() {
    let h = Harness::new();
    subscribe_directly(&h, GROUP, &[bertiburg()]).await;
    for (id, text) in [
        (1, "/refresh@OtherBot"),
        (2, "/help@OtherBot"),
        (3, "/subscribe@other_bot Ashton"),
    ] {
        for chat in [GROUP, PRIVATE] {
            let answer = h.post_json(&message_update(id, chat, id, text)).await;
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.reply, None, "{text} in {chat}");
        }
    }
    assert!(h.workflow.calls().is_empty());
    assert!(h.search.queries().is_empty());
    assert_eq!(h.store.writes(), 0);
}

#[tokio::test]
async fn other_talk_gets_a_hint_in_private_and_silence_in_groups() {
    let h = Harness::new();
    let hint = |answer: &webhook_support::Answer| {
        assert!(answer.text().contains("/help"), "{}", answer.text());
    };
    hint(
        &h.post_json(&message_update(1, PRIVATE, 1, "hello there"))
            .await,
    );
    hint(
        &h.post_json(&message_update(2, PRIVATE, 2, "/frobnicate"))
            .await,
    );
    hint(
        &h.post_json(&message_update(3, GROUP, 3, "/frobnicate@LoadShed_Bot"))
            .await,
    );
    // In a group, plain talk and bare unknown commands may be for people or other bots.
    assert_eq!(
        h.post_json(&message_update(4, GROUP, 4, "hello there"))
            .await
            .reply,
        None
    );
    assert_eq!(
        h.post_json(&message_update(5, GROUP, 5, "/frobnicate"))
            .await
            .reply,
        None
    );
    // A message without text (a sticker) in private.
    let sticker = json!({"update_id": 6, "message": {"message_id": 6,
        "chat": {"id": PRIVATE, "type": "private"}, "date": 1, "sticker": {"file_id": "x"}}});
    hint(&h.post_json(&sticker).await);
    h.assert_untouched();
}

#[tokio::test]
async fn a_command_is_only_a_leading_command_entity() {
    let h = Harness::new();
    // "/help" mid-sentence is talk.
    let mut mid = message_update(1, PRIVATE, 1, "please /help me");
    mid["message"]["entities"] = json!([{"type": "bot_command", "offset": 7, "length": 5}]);
    assert!(
        h.post_json(&mid)
            .await
            .text()
            .contains("did not understand")
    );
    // A slash without an entity (e.g. typed in a caption) is not a command either.
    let mut bare = message_update(2, PRIVATE, 2, "/refresh");
    bare["message"]["entities"] = json!([]);
    assert!(
        h.post_json(&bare)
            .await
            .text()
            .contains("did not understand")
    );
    // An entity longer than the text cannot be trusted.
    let mut long = message_update(3, PRIVATE, 3, "/help");
    long["message"]["entities"] = json!([{"type": "bot_command", "offset": 0, "length": 50}]);
    assert!(
        h.post_json(&long)
            .await
            .text()
            .contains("did not understand")
    );
    h.assert_untouched();
}

// ---- /subscribe and the callback ----------------------------------------------------------------

#[tokio::test]
async fn subscribe_offers_matches_and_a_tap_subscribes() {
    let h = Harness::new();
    let asked = message(PRIVATE, 20, "/subscribe Bertiburg");
    let answer = h
        .post_json(&json!({"update_id": 1, "message": asked.clone()}))
        .await;
    let reply = answer.reply.clone().expect("a keyboard");
    assert_eq!(reply["method"], "sendMessage");
    assert_eq!(reply["reply_parameters"]["message_id"], 20);
    assert_eq!(
        reply["reply_markup"]["inline_keyboard"][0][0]["text"],
        "Bertiburg (Swartland, Western Cape)"
    );
    assert_eq!(button_data(&reply), vec!["s:eskom:64106"]);
    assert_eq!(h.search.queries(), vec!["Bertiburg"]);
    assert_eq!(h.store.writes(), 0, "a search stores nothing");

    let tap = callback_update(2, PRIVATE, 21, "s:eskom:64106", Some(asked.clone()));
    let answer = h.post_json(&tap).await;
    assert_eq!(answer.method(), "editMessageText");
    let reply = answer.reply.expect("reply");
    assert_eq!(reply["message_id"], 21);
    assert_eq!(reply["chat_id"], PRIVATE);
    assert!(
        reply["text"]
            .as_str()
            .expect("text")
            .starts_with("Subscribed to Bertiburg")
    );
    assert_eq!(
        reply.get("reply_markup"),
        None,
        "the keyboard is gone once used"
    );
    let answers = h.answers.answers.lock().expect("lock").clone();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].callback_query_id, "cb-2");
    assert_eq!(areas_of(&h, PRIVATE).await, vec!["eskom:64106"]);

    // A second tap (or a redelivery) keeps one subscription and says so.
    let again = h
        .post_json(&callback_update(
            3,
            PRIVATE,
            21,
            "s:eskom:64106",
            Some(asked),
        ))
        .await;
    assert!(
        again.text().starts_with("This chat was already subscribed"),
        "{}",
        again.text()
    );
    assert_eq!(areas_of(&h, PRIVATE).await, vec!["eskom:64106"]);
}

#[tokio::test]
async fn subscribe_in_a_group_is_for_the_group() {
    let h = Harness::new();
    let asked = message(GROUP, 30, "/subscribe@LoadShed_Bot ash");
    let answer = h
        .post_json(&json!({"update_id": 1, "message": asked.clone()}))
        .await;
    let data = button_data(&answer.reply.expect("keyboard"));
    assert_eq!(data, vec!["s:eskom:9811"]);
    h.post_json(&callback_update(2, GROUP, 31, &data[0], Some(asked)))
        .await;
    assert_eq!(areas_of(&h, GROUP).await, vec!["eskom:9811"]);
    assert!(areas_of(&h, PRIVATE).await.is_empty());
}

#[tokio::test]
async fn long_area_ids_travel_as_digests_and_still_subscribe() {
    let h = Harness::new();
    let asked = message(PRIVATE, 40, "/subscribe bergrivier");
    let answer = h
        .post_json(&json!({"update_id": 1, "message": asked.clone()}))
        .await;
    let data = button_data(&answer.reply.expect("keyboard"));
    assert_eq!(data.len(), 1);
    assert!(
        data[0].len() <= 64,
        "{} is {} bytes",
        data[0],
        data[0].len()
    );
    assert!(
        !data[0].contains("westerncape"),
        "the id does not fit, so a digest travels: {}",
        data[0]
    );
    h.post_json(&callback_update(2, PRIVATE, 41, &data[0], Some(asked)))
        .await;
    assert_eq!(
        areas_of(&h, PRIVATE).await,
        vec![long_named().id.to_string()]
    );
}

#[tokio::test]
async fn subscribe_edge_cases_answer_plainly() {
    let h = Harness::new();
    let how = h
        .post_json(&message_update(1, PRIVATE, 1, "/subscribe"))
        .await
        .text();
    assert!(how.contains("/subscribe followed by"), "{how}");
    let how = h
        .post_json(&message_update(2, PRIVATE, 2, "/subscribe    "))
        .await
        .text();
    assert!(how.contains("/subscribe followed by"), "{how}");
    let none = h
        .post_json(&message_update(3, PRIVATE, 3, "/subscribe Atlantis"))
        .await
        .text();
    assert!(none.contains("no area matching \"Atlantis\""), "{none}");
    let long = format!("/subscribe {}", "a".repeat(65));
    let long = h
        .post_json(&message_update(4, PRIVATE, 4, &long))
        .await
        .text();
    assert!(long.contains("at most 64 characters"), "{long}");
    h.search.set_failing(true);
    let down = h
        .post_json(&message_update(5, PRIVATE, 5, "/subscribe Ashton"))
        .await
        .text();
    assert!(down.contains("not answering"), "{down}");
    assert_eq!(h.search.queries(), vec!["Atlantis", "Ashton"]);
    assert_eq!(h.store.writes(), 0);
}

#[tokio::test]
async fn unicode_search_text_reaches_the_search_intact() {
    let h = Harness::new();
    // The command entity counts UTF-16 units; emoji and accents after it must survive the cut.
    for (id, text, expected) in [
        (1, "/subscribe 🏠 Kwa-Thema", "🏠 Kwa-Thema"),
        (
            2,
            "/subscribe@LoadShed_Bot Ñandú é\u{301}",
            "Ñandú é\u{301}",
        ),
        (3, "/subscribe\u{a0}Gqeberha\u{2003}", "Gqeberha"),
    ] {
        h.post_json(&message_update(id, PRIVATE, id, text)).await;
        assert_eq!(
            h.search.queries().last().map(String::as_str),
            Some(expected),
            "{text}"
        );
    }
    // An emoji-only command token: the entity ends inside the text, args are what follows.
    let mut odd = message_update(4, PRIVATE, 4, "/subscribe😀Ashton");
    odd["message"]["entities"] = json!([{"type": "bot_command", "offset": 0, "length": 10}]);
    h.post_json(&odd).await;
    assert_eq!(
        h.search.queries().last().map(String::as_str),
        Some("😀Ashton")
    );
}

#[tokio::test]
async fn taps_that_cannot_be_honoured_change_nothing() {
    let h = Harness::new();
    let asked = message(PRIVATE, 50, "/subscribe Bertiburg");
    let cases = [
        // The list is older than 48 hours: Telegram no longer sends the message it answered.
        callback_update(1, PRIVATE, 51, "s:eskom:64106", None),
        // An area the search does not offer: a forged or stale button.
        callback_update(2, PRIVATE, 51, "s:eskom:1", Some(asked.clone())),
        // Data we never wrote.
        callback_update(3, PRIVATE, 51, "subscribe-me", Some(asked)),
        // The list answered something that is not a /subscribe.
        callback_update(
            4,
            PRIVATE,
            51,
            "s:eskom:64106",
            Some(message(PRIVATE, 52, "hello")),
        ),
    ];
    for tap in cases {
        let answer = h.post_json(&tap).await;
        assert_eq!(answer.method(), "answerCallbackQuery", "{tap}");
        assert!(answer.text().contains("expired"), "{}", answer.text());
    }
    assert!(areas_of(&h, PRIVATE).await.is_empty());
    assert_eq!(h.store.writes(), 0);
}

#[tokio::test]
async fn a_tap_when_the_search_is_down_says_so() {
    let h = Harness::new();
    h.search.set_failing(true);
    let tap = callback_update(
        1,
        PRIVATE,
        51,
        "s:eskom:64106",
        Some(message(PRIVATE, 50, "/subscribe Bertiburg")),
    );
    let answer = h.post_json(&tap).await;
    assert_eq!(answer.method(), "answerCallbackQuery");
    assert!(answer.text().contains("not answering"));
    assert!(areas_of(&h, PRIVATE).await.is_empty());
}

// ---- /unsubscribe ----------------------------------------------------------------------------------

#[tokio::test]
async fn unsubscribe_lists_the_areas_and_a_tap_removes_one() {
    let h = Harness::new();
    let none = h
        .post_json(&message_update(1, PRIVATE, 1, "/unsubscribe"))
        .await
        .text();
    assert!(none.contains("no area yet"), "{none}");

    subscribe_directly(&h, PRIVATE, &[bertiburg(), ashton()]).await;
    let answer = h
        .post_json(&message_update(2, PRIVATE, 2, "/unsubscribe"))
        .await;
    let mut data = button_data(&answer.reply.expect("keyboard"));
    data.sort();
    assert_eq!(data, vec!["u:eskom:64106", "u:eskom:9811"]);

    let answer = h
        .post_json(&callback_update(3, PRIVATE, 3, "u:eskom:64106", None))
        .await;
    assert_eq!(answer.method(), "editMessageText");
    assert!(answer.text().starts_with("Unsubscribed from Bertiburg"));
    assert_eq!(areas_of(&h, PRIVATE).await, vec!["eskom:9811"]);

    // Tapping the same button again changes nothing.
    let again = h
        .post_json(&callback_update(4, PRIVATE, 3, "u:eskom:64106", None))
        .await;
    assert_eq!(again.method(), "answerCallbackQuery");
    assert!(again.text().contains("no longer follows"));
    assert_eq!(areas_of(&h, PRIVATE).await, vec!["eskom:9811"]);
}

// ---- /settings ---------------------------------------------------------------------------------------

#[tokio::test]
async fn settings_offers_the_reminder_leads_and_a_tap_stores_the_choice() {
    use loadshed_core::domain::ReminderLead;
    use loadshed_core::ports::ChatSettingsStore;
    let h = Harness::new();
    let answer = h
        .post_json(&message_update(1, PRIVATE, 1, "/settings"))
        .await;
    assert!(
        answer
            .text()
            .contains("You are reminded 15 minutes before each outage."),
        "{}",
        answer.text()
    );
    let keyboard = answer.reply.expect("keyboard");
    assert_eq!(
        button_data(&keyboard),
        vec!["r:0", "r:5", "r:15", "r:30", "r:60"]
    );
    // The current choice is marked, on one row of five.
    let rows = keyboard["reply_markup"]["inline_keyboard"]
        .as_array()
        .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][2]["text"], "✓ 15 min");

    let tap = h
        .post_json(&callback_update(2, PRIVATE, 1, "r:60", None))
        .await;
    assert_eq!(tap.method(), "editMessageText");
    assert!(
        tap.text().contains("60 minutes before each outage"),
        "{}",
        tap.text()
    );
    let stored = h
        .store
        .inner
        .chat_settings(ChatId(PRIVATE))
        .await
        .expect("settings");
    assert_eq!(stored.reminder_lead.minutes(), 60);

    // Off, and a redelivered tap stores the same again.
    for update in [3, 3] {
        let off = h
            .post_json(&callback_update(update, PRIVATE, 1, "r:0", None))
            .await;
        assert!(off.text().contains("no more reminders") || off.method() != "editMessageText");
    }
    let stored = h
        .store
        .inner
        .chat_settings(ChatId(PRIVATE))
        .await
        .expect("settings");
    assert_eq!(stored.reminder_lead, ReminderLead::OFF);
    let menu = h
        .post_json(&message_update(4, PRIVATE, 4, "/settings"))
        .await;
    assert!(
        menu.text().starts_with("Reminders are off."),
        "{}",
        menu.text()
    );

    // A lead we never offer is a foreign tap: nothing changes.
    let forged = h
        .post_json(&callback_update(5, PRIVATE, 1, "r:7", None))
        .await;
    assert_eq!(forged.method(), "answerCallbackQuery");
    let stored = h
        .store
        .inner
        .chat_settings(ChatId(PRIVATE))
        .await
        .expect("settings");
    assert_eq!(stored.reminder_lead, ReminderLead::OFF);
    // Another chat keeps the default.
    let other = h
        .store
        .inner
        .chat_settings(ChatId(GROUP))
        .await
        .expect("settings");
    assert_eq!(other.reminder_lead, ReminderLead::DEFAULT);
}

// ---- /status -----------------------------------------------------------------------------------------

#[tokio::test]
async fn status_reads_the_store_only() {
    let h = Harness::new();
    subscribe_directly(&h, PRIVATE, &[bertiburg()]).await;
    let unknown = h
        .post_json(&message_update(1, PRIVATE, 1, "/status"))
        .await
        .text();
    assert!(unknown.contains("not known"), "{unknown}");

    let stage = Stage::new(4).expect("stage");
    let now = h.clock.now();
    h.store
        .inner
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage),
            None,
            now,
            None,
        )
        .await
        .expect("stage");
    let today = h.clock.today();
    let slot = Slot::on(
        today,
        chrono::NaiveTime::from_hms_opt(20, 0, 0).expect("time"),
        chrono::NaiveTime::from_hms_opt(22, 30, 0).expect("time"),
    )
    .expect("slot");
    let schedule = Schedule::from_days(
        bertiburg().id,
        stage,
        [
            (today, vec![slot]),
            (today.succ_opt().expect("date"), vec![]),
        ],
    );
    h.store
        .inner
        .put_schedule(&schedule, now)
        .await
        .expect("schedule");

    let answer = h.post_json(&message_update(2, PRIVATE, 2, "/status")).await;
    let reply = answer.reply.expect("reply");
    assert_eq!(reply["parse_mode"], "HTML");
    let text = reply["text"].as_str().expect("text");
    assert!(text.contains("Stage 4"), "{text}");
    assert!(text.contains("Bertiburg"), "{text}");
    assert!(text.contains("20:00"), "{text}");
    assert!(h.search.queries().is_empty(), "no upstream call");
    assert!(h.workflow.calls().is_empty());
}

#[tokio::test]
async fn a_status_too_long_for_one_message_arrives_in_order() {
    let h = Harness::new();
    let stage = Stage::new(6).expect("stage");
    h.store
        .inner
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage),
            None,
            h.clock.now(),
            None,
        )
        .await
        .expect("stage");
    let many: Vec<_> = (0..60)
        .map(|i| {
            loadshed_core::domain::Area::eskom(
                1000 + i,
                format!("Suburb {i} {}", "x".repeat(80)),
                "Somewhere",
                "Gauteng",
                3,
                10,
            )
        })
        .collect();
    subscribe_directly(&h, PRIVATE, &many).await;
    let answer = h.post_json(&message_update(1, PRIVATE, 1, "/status")).await;
    let sent = h.messenger.sent.lock().expect("lock").clone();
    assert!(!sent.is_empty(), "the earlier parts go out directly");
    assert!(sent.iter().all(|(chat, _)| *chat == ChatId(PRIVATE)));
    let last = answer.text();
    // The parts, in order, hold every area once.
    let all: String = sent
        .iter()
        .map(|(_, m)| m.text.as_str())
        .chain([last.as_str()])
        .collect();
    for i in 0..60 {
        assert_eq!(
            all.matches(&format!("Suburb {i} ")).count(),
            1,
            "suburb {i}"
        );
    }
    assert!(sent[0].1.text.contains("Suburb 0 "));
    assert!(last.contains("Suburb 59 "));
}

// ---- /refresh ------------------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_starts_the_workflow_with_an_input_built_from_the_update() {
    let h = Harness::new();
    subscribe_directly(&h, GROUP, &[bertiburg(), ashton()]).await;
    let answer = h
        .post_json(&message_update(196958706, GROUP, 38, "/refresh"))
        .await;
    assert!(answer.text().starts_with("Refreshing"), "{}", answer.text());
    let executions = h.workflow.executions();
    assert_eq!(executions.len(), 1);
    let (name, input) = executions.iter().next().expect("one");
    assert_eq!(name, "tg-196958706");
    // Areas in the store's order.
    let areas = h.store.inner.areas_of(ChatId(GROUP)).await.expect("areas");
    let expected = format!(
        r#"{{"source":"telegram","chat_id":{GROUP},"message_id":38,"update_id":196958706,"areas":["{}","{}"]}}"#,
        areas[0].id, areas[1].id
    );
    assert_eq!(input, &expected);
}

#[tokio::test]
async fn the_same_update_delivered_three_times_starts_one_execution() {
    let h = Harness::new();
    subscribe_directly(&h, PRIVATE, &[bertiburg()]).await;
    let update = message_update(500, PRIVATE, 9, "/refresh");
    for delivery in 1..=3 {
        let answer = h.post_json(&update).await;
        assert_eq!(answer.status, StatusCode::OK);
        // Telegram redelivers only when it did not get our answer, so each delivery is answered.
        assert!(
            answer.text().starts_with("Refreshing"),
            "delivery {delivery}: {}",
            answer.text()
        );
    }
    assert_eq!(h.workflow.executions().len(), 1);
    let calls = h.workflow.calls();
    assert!(
        calls.iter().all(|call| call == &calls[0]),
        "same name and same bytes: {calls:?}"
    );
}

#[tokio::test]
async fn refresh_has_a_per_chat_cooldown() {
    let h = Harness::with_settings(
        WebhookSettings::new(BOT).with_refresh_cooldown(Duration::seconds(60)),
    );
    subscribe_directly(&h, PRIVATE, &[bertiburg()]).await;
    subscribe_directly(&h, GROUP, &[bertiburg()]).await;
    assert!(
        h.post_json(&message_update(1, PRIVATE, 1, "/refresh"))
            .await
            .text()
            .starts_with("Refreshing")
    );
    h.clock.advance(Duration::seconds(30));
    let busy = h
        .post_json(&message_update(2, PRIVATE, 2, "/refresh"))
        .await
        .text();
    assert!(busy.starts_with("Already refreshing"), "{busy}");
    assert!(busy.contains("60 seconds"), "{busy}");
    // Another chat is not held back.
    assert!(
        h.post_json(&message_update(3, GROUP, 3, "/refresh"))
            .await
            .text()
            .starts_with("Refreshing")
    );
    h.clock.advance(Duration::seconds(31));
    assert!(
        h.post_json(&message_update(4, PRIVATE, 4, "/refresh"))
            .await
            .text()
            .starts_with("Refreshing")
    );
    let names: Vec<String> = h.workflow.executions().into_keys().collect();
    assert_eq!(names, vec!["tg-1", "tg-3", "tg-4"]);
}

#[tokio::test]
async fn refresh_needs_an_area() {
    let h = Harness::new();
    let text = h
        .post_json(&message_update(1, PRIVATE, 1, "/refresh"))
        .await
        .text();
    assert!(text.contains("/subscribe"), "{text}");
    assert!(h.workflow.calls().is_empty());
}

#[tokio::test]
async fn a_failed_start_is_told_to_the_chat() {
    let h = Harness::new();
    subscribe_directly(&h, PRIVATE, &[bertiburg()]).await;
    h.workflow.set_failing(true);
    let answer = h
        .post_json(&message_update(1, PRIVATE, 1, "/refresh"))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.text().contains("could not start"),
        "{}",
        answer.text()
    );
    assert!(h.workflow.executions().is_empty());
}

// ---- Membership and migration ------------------------------------------------------------------------

#[tokio::test]
async fn a_group_that_becomes_a_supergroup_keeps_its_subscriptions() {
    let h = Harness::new();
    let old_group = -218487457;
    subscribe_directly(&h, old_group, &[bertiburg()]).await;
    let migrated = json!({"update_id": 1, "message": {
        "message_id": 454, "chat": {"id": old_group, "type": "group", "title": "T"},
        "date": 1, "migrate_to_chat_id": GROUP}});
    assert_eq!(h.post_json(&migrated).await.reply, None);
    assert!(areas_of(&h, old_group).await.is_empty());
    assert_eq!(areas_of(&h, GROUP).await, vec!["eskom:64106"]);
}

#[tokio::test]
async fn a_bot_blocked_or_removed_drops_the_chat() {
    let h = Harness::new();
    subscribe_directly(&h, PRIVATE, &[bertiburg(), ashton()]).await;
    subscribe_directly(&h, GROUP, &[ashton()]).await;
    let member = |update_id: i64, chat: Value, status: &str| {
        json!({"update_id": update_id, "my_chat_member": {
            "chat": chat, "from": {"id": 77, "is_bot": false, "first_name": "T"}, "date": 1,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": true, "first_name": "b"}},
            "new_chat_member": {"status": status, "user": {"id": 1, "is_bot": true, "first_name": "b"}}}})
    };
    h.post_json(&member(
        1,
        json!({"id": GROUP, "type": "supergroup", "title": "S"}),
        "administrator",
    ))
    .await;
    assert_eq!(areas_of(&h, GROUP).await, vec!["eskom:9811"]);
    h.post_json(&member(
        2,
        json!({"id": PRIVATE, "type": "private"}),
        "kicked",
    ))
    .await;
    assert!(areas_of(&h, PRIVATE).await.is_empty());
    h.post_json(&member(
        3,
        json!({"id": GROUP, "type": "supergroup", "title": "S"}),
        "left",
    ))
    .await;
    assert!(areas_of(&h, GROUP).await.is_empty());
}

// ---- links to the web pages ------------------------------------------------------------------------------

fn with_site() -> Harness {
    let site = loadshed_core::site::SiteLinks::parse("https://web.example/").expect("site");
    Harness::with_settings(WebhookSettings::new(BOT).with_site(Some(site)))
}

#[tokio::test]
async fn status_ends_with_each_areas_page_when_the_site_is_known() {
    let h = with_site();
    subscribe_directly(&h, PRIVATE, &[bertiburg(), ashton()]).await;
    let text = h
        .post_json(&message_update(1, PRIVATE, 1, "/status"))
        .await
        .text();
    let links: Vec<&str> = text.lines().rev().take(2).collect();
    assert_eq!(
        links,
        [
            format!(
                "<a href=\"https://web.example/areas/{}\">Ashton</a>",
                ashton().id
            ),
            format!(
                "<a href=\"https://web.example/areas/{}\">Bertiburg</a>",
                bertiburg().id
            ),
        ]
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        "{text}"
    );

    // Without the site's address the bot simply leaves the links out.
    let plain = Harness::new();
    subscribe_directly(&plain, PRIVATE, &[bertiburg()]).await;
    let text = plain
        .post_json(&message_update(1, PRIVATE, 1, "/status"))
        .await
        .text();
    assert!(!text.contains("href"), "{text}");
}

#[tokio::test]
async fn calendar_answers_with_each_followed_areas_feeds() {
    let h = with_site();
    let none = h
        .post_json(&message_update(1, PRIVATE, 1, "/calendar"))
        .await
        .text();
    assert!(none.contains("/subscribe"), "{none}");
    subscribe_directly(&h, PRIVATE, &[bertiburg()]).await;
    let answer = h
        .post_json(&message_update(2, PRIVATE, 2, "/calendar"))
        .await;
    let reply = answer.reply.expect("reply");
    assert_eq!(reply["parse_mode"], "HTML");
    let text = reply["text"].as_str().expect("text");
    let id = bertiburg().id;
    assert!(text.contains("Bertiburg"), "{text}");
    assert!(
        text.contains(&format!("<code>webcal://web.example/areas/{id}.ics</code>")),
        "{text}"
    );
    assert!(
        text.contains(&format!("https://web.example/areas/{id}.ics")),
        "{text}"
    );
    assert!(h.search.queries().is_empty(), "no upstream call");

    let plain = Harness::new();
    subscribe_directly(&plain, PRIVATE, &[bertiburg()]).await;
    let text = plain
        .post_json(&message_update(1, PRIVATE, 1, "/calendar"))
        .await
        .text();
    assert!(text.contains("no web pages"), "{text}");
}
