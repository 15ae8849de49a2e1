//! Real updates captured from Telegram (../shared/fixtures/upstream), through the real endpoint.
//! The capture's bot is `@rgen_bot`, so the webhook here plays that bot.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod webhook_support;

use http::StatusCode;
use loadshed_core::clock::Clock;
use loadshed_core::domain::ChatId;
use loadshed_core::ports::SubscriptionStore;
use loadshed_core::webhook::{Update, WebhookSettings};
use serde_json::Value;
use webhook_support::{FakeSearch, Harness, bertiburg};

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/upstream/telegram_getUpdates_group_commands_migration_2017_EXCERPT.json"
);

fn captured_updates() -> Vec<Value> {
    let folder = std::path::Path::new(CAPTURE)
        .parent()
        .expect("the capture is in a folder");
    assert!(
        folder.is_dir(),
        "the shared fixtures folder {} is missing: this test needs ../shared beside the checkout (present in CI)",
        folder.display()
    );
    let text =
        std::fs::read_to_string(CAPTURE).unwrap_or_else(|e| panic!("cannot read {CAPTURE}: {e}"));
    let envelope: Value = serde_json::from_str(&text).expect("the capture is JSON");
    envelope["result"]
        .as_array()
        .expect("a result list")
        .clone()
}

fn update(updates: &[Value], id: i64) -> &Value {
    updates
        .iter()
        .find(|u| u["update_id"] == id)
        .unwrap_or_else(|| panic!("update {id} is in the capture"))
}

#[test]
fn every_captured_update_parses() {
    let updates = captured_updates();
    assert_eq!(updates.len(), 9);
    for raw in &updates {
        let parsed: Update = serde_json::from_value(raw.clone())
            .unwrap_or_else(|e| panic!("update {} does not parse: {e}", raw["update_id"]));
        assert_eq!(Value::from(parsed.update_id), raw["update_id"]);
    }
}

#[tokio::test]
async fn captured_commands_are_answered_as_the_bot_they_name() {
    let updates = captured_updates();
    let h = Harness::build(
        WebhookSettings::new("rgen_bot"),
        FakeSearch::default(),
        None,
    );

    // `/start@rgen_bot` (entity length 15 includes the mention) and `/help@rgen_bot`: ours.
    for id in [196958703, 196958704] {
        let answer = h.post_json(update(&updates, id)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(
            answer.text().contains("/subscribe"),
            "update {id}: {}",
            answer.text()
        );
        assert_eq!(
            answer.reply.as_ref().expect("reply")["chat_id"],
            -1001283156137_i64
        );
    }
    // `/random@rgen_bot 20 30` (length 16 excludes the args): ours, but unknown.
    let answer = h.post_json(update(&updates, 196958708)).await;
    assert!(answer.text().contains("/help"), "{}", answer.text());
    // Bare unknown commands in a group may be for another bot: silence.
    for id in [196958666, 196958706] {
        assert_eq!(
            h.post_json(update(&updates, id)).await.reply,
            None,
            "update {id}"
        );
    }
    // An edit re-runs nothing.
    assert_eq!(h.post_json(update(&updates, 196958667)).await.reply, None);
    h.assert_untouched();

    // The same captures, seen by another bot: the addressed ones are not its business.
    let other = Harness::build(
        WebhookSettings::new("loadshed_bot"),
        FakeSearch::default(),
        None,
    );
    for id in [196958703, 196958704, 196958707, 196958708] {
        assert_eq!(
            other.post_json(update(&updates, id)).await.reply,
            None,
            "update {id}"
        );
    }
    other.assert_untouched();
}

#[tokio::test]
async fn the_captured_migration_moves_the_groups_subscriptions() {
    let updates = captured_updates();
    let h = Harness::build(
        WebhookSettings::new("rgen_bot"),
        FakeSearch::default(),
        None,
    );
    let (old, new) = (ChatId(-218487457), ChatId(-1001283156137));
    h.store
        .inner
        .subscribe(old, &bertiburg(), h.clock.now())
        .await
        .expect("subscribe");
    // The pair: migrate_to in the old group, migrate_from in the new supergroup.
    for id in [196958669, 196958670] {
        let answer = h.post_json(update(&updates, id)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.reply, None);
    }
    assert!(h.store.inner.areas_of(old).await.expect("areas").is_empty());
    assert_eq!(
        h.store.inner.areas_of(new).await.expect("areas"),
        vec![bertiburg()]
    );
}
