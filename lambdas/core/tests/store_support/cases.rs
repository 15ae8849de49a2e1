//! The store contract, written once against the port and run against every adapter.

use std::sync::Arc;

use chrono::Duration;
use loadshed_core::domain::{Area, AreaId, ChannelLink, ChatId};
use loadshed_core::errors::{ErrorName, Named};
use loadshed_core::ports::{Claim, DeliveryKey, StageRefresh, StageWrite, Store, StoredStage};
use pretty_assertions::assert_eq;

use super::{ashton, at, bertiburg, chats, milnerton, schedule, stage};

fn written(write: StageWrite) -> StoredStage {
    match write {
        StageWrite::Written(stored) => stored,
        StageWrite::Conflict => panic!("expected the write to go through, got Conflict"),
    }
}

fn ids(areas: &[loadshed_core::domain::Area]) -> Vec<&str> {
    areas.iter().map(|a| a.id.as_str()).collect()
}

pub async fn stage_first_write(store: Arc<dyn Store>) {
    assert_eq!(store.current_stage().await.expect("read"), None);
    let first = written(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(4)),
                None,
                at(0),
                None,
            )
            .await
            .expect("write"),
    );
    assert_eq!(
        first,
        StoredStage::next(
            &loadshed_core::domain::Timelines::national_only(stage(4)),
            None,
            at(0),
            None
        )
    );
    assert_eq!((first.stage, first.version), (stage(4), 1));
    assert_eq!(store.current_stage().await.expect("read"), Some(first));
}

/// The timelines (national and Cape Town, with announced changes) and the ones a write replaced
/// are stored whole, so notify can tell whose outages a change moves.
pub async fn stage_timelines_and_what_they_replaced_round_trip(store: Arc<dyn Store>) {
    use loadshed_core::domain::{Foresight, StageChange, Timeline, Timelines};
    let announced = Timelines {
        national: Timeline::new(
            stage(0),
            vec![
                StageChange {
                    starts_at: at(60),
                    stage: stage(4),
                },
                StageChange {
                    starts_at: at(120),
                    stage: stage(0),
                },
            ],
            Foresight::Announced,
        ),
        cape_town: Some(Timeline::new(stage(1), vec![], Foresight::Announced)),
    };
    let first = written(
        store
            .put_stage(&announced, None, at(0), None)
            .await
            .expect("write"),
    );
    let revised = Timelines {
        national: Timeline::new(
            stage(0),
            vec![StageChange {
                starts_at: at(90),
                stage: stage(4),
            }],
            Foresight::Announced,
        ),
        cape_town: None,
    };
    let second = written(
        store
            .put_stage(&revised, Some(&announced), at(10), Some(first.version))
            .await
            .expect("write"),
    );
    let read = store.current_stage().await.expect("read").expect("stored");
    assert_eq!(read, second);
    assert_eq!(read.timelines(), revised);
    assert_eq!(read.previous, Some(announced));
    assert_eq!((read.stage, read.version), (stage(0), 2));
}

/// `/settings`: a chat's settings are its own, the defaults until it chooses, the last choice wins.
pub async fn chat_settings_default_and_last_write_wins(store: Arc<dyn Store>) {
    use loadshed_core::domain::{ChatSettings, ReminderLead};
    assert_eq!(
        store.chat_settings(ChatId(7)).await.expect("read"),
        ChatSettings::default()
    );
    for minutes in [60u16, 0, 5] {
        let settings = ChatSettings {
            reminder_lead: ReminderLead::try_from(minutes).expect("lead"),
        };
        store
            .put_chat_settings(ChatId(7), &settings, at(i64::from(minutes)))
            .await
            .expect("write");
        assert_eq!(
            store.chat_settings(ChatId(7)).await.expect("read"),
            settings
        );
    }
    assert_eq!(
        store.chat_settings(ChatId(-1007)).await.expect("read"),
        ChatSettings::default()
    );
    // The settings item sits under the chat: it is no subscription.
    assert!(store.areas_of(ChatId(7)).await.expect("areas").is_empty());
}

/// Step Functions retries a task whose write went through but whose answer got lost: the retry
/// must not write again (no second stream record, no second wave of messages).
pub async fn stage_retried_write_is_not_written_twice(store: Arc<dyn Store>) {
    written(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(4)),
                None,
                at(0),
                None,
            )
            .await
            .expect("write"),
    );
    assert_eq!(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(4)),
                None,
                at(1),
                None
            )
            .await
            .expect("retry"),
        StageWrite::Conflict
    );
    let second = written(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(5)),
                None,
                at(2),
                Some(1),
            )
            .await
            .expect("write"),
    );
    assert_eq!(second.version, 2);
    assert_eq!(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(5)),
                None,
                at(3),
                Some(1)
            )
            .await
            .expect("retry"),
        StageWrite::Conflict
    );
    assert_eq!(store.current_stage().await.expect("read"), Some(second));
}

pub async fn stage_stale_version_conflicts(store: Arc<dyn Store>) {
    written(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(4)),
                None,
                at(0),
                None,
            )
            .await
            .expect("write"),
    );
    let current = written(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(6)),
                None,
                at(10),
                Some(1),
            )
            .await
            .expect("write"),
    );
    // A slow poller read version 1 (stage 4) and now saw stage 2: it must not regress stage 6.
    assert_eq!(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(2)),
                None,
                at(20),
                Some(1)
            )
            .await
            .expect("stale"),
        StageWrite::Conflict
    );
    // Nor may a version that was never written.
    assert_eq!(
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(2)),
                None,
                at(20),
                Some(7)
            )
            .await
            .expect("bogus"),
        StageWrite::Conflict
    );
    assert_eq!(store.current_stage().await.expect("read"), Some(current));
}

pub async fn stage_concurrent_writers_one_wins(store: Arc<dyn Store>) {
    let race = |expected: Option<u64>| {
        let store = store.clone();
        async move {
            let writers: Vec<_> = (1..=8u8)
                .map(|n| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .put_stage(
                                &loadshed_core::domain::Timelines::national_only(stage(n)),
                                None,
                                at(i64::from(n)),
                                expected,
                            )
                            .await
                            .expect("write")
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for writer in writers {
                if let StageWrite::Written(stored) = writer.await.expect("writer task") {
                    winners.push(stored);
                }
            }
            winners
        }
    };
    let first = race(None).await;
    assert_eq!(first.len(), 1, "exactly one first write wins: {first:?}");
    assert_eq!(first[0].version, 1);
    let second = race(Some(1)).await;
    assert_eq!(second.len(), 1, "exactly one update wins: {second:?}");
    assert_eq!(second[0].version, 2);
    assert_eq!(
        store.current_stage().await.expect("read"),
        Some(second[0].clone())
    );
}

pub async fn schedule_written_only_when_changed(store: Arc<dyn Store>) {
    let area = bertiburg().id;
    let original = schedule(&area, stage(4), &["08:00 - 10:30", "16:00 - 18:30"]);
    assert_eq!(store.schedule(&area, stage(4)).await.expect("read"), None);
    assert!(store.put_schedule(&original, at(0)).await.expect("first"));
    assert_eq!(
        store.schedule(&area, stage(4)).await.expect("read"),
        Some(original.clone())
    );

    assert!(!store.put_schedule(&original, at(60)).await.expect("same"));
    // Published differently (back-to-back halves, other order) but the same outages.
    let same_outages = schedule(
        &area,
        stage(4),
        &["17:00 - 18:30", "08:00 - 10:30", "16:00 - 17:00"],
    );
    assert!(
        !store
            .put_schedule(&same_outages, at(60))
            .await
            .expect("same")
    );

    let moved = schedule(&area, stage(4), &["08:00 - 10:30", "18:00 - 20:30"]);
    assert!(store.put_schedule(&moved, at(120)).await.expect("changed"));
    assert_eq!(
        store.schedule(&area, stage(4)).await.expect("read"),
        Some(moved.clone())
    );

    // Each stage and each area is its own schedule.
    assert_eq!(store.schedule(&area, stage(5)).await.expect("read"), None);
    let at_five = schedule(&area, stage(5), &["08:00 - 12:30"]);
    assert!(
        store
            .put_schedule(&at_five, at(180))
            .await
            .expect("stage 5")
    );
    let elsewhere = schedule(&ashton().id, stage(4), &["08:00 - 10:30"]);
    assert!(
        store
            .put_schedule(&elsewhere, at(180))
            .await
            .expect("ashton")
    );
    assert_eq!(
        store.schedule(&area, stage(4)).await.expect("read"),
        Some(moved)
    );
    assert_eq!(
        store.schedule(&area, stage(5)).await.expect("read"),
        Some(at_five)
    );
}

pub async fn subscribe_and_unsubscribe_are_idempotent(store: Arc<dyn Store>) {
    let (chat, area) = (ChatId(42), bertiburg());
    assert!(
        store
            .subscribe(chat, &area, at(0))
            .await
            .expect("subscribe")
    );
    assert!(!store.subscribe(chat, &area, at(1)).await.expect("again"));
    assert_eq!(
        store.areas_of(chat).await.expect("areas"),
        vec![area.clone()]
    );
    assert_eq!(
        store.subscribers_of(&area.id).await.expect("subscribers"),
        chats(&[42])
    );
    assert_eq!(
        store.subscribed_areas().await.expect("registry"),
        vec![area.clone()]
    );

    assert!(
        store
            .unsubscribe(chat, &area.id)
            .await
            .expect("unsubscribe")
    );
    assert!(!store.unsubscribe(chat, &area.id).await.expect("again"));
    assert_eq!(store.areas_of(chat).await.expect("areas"), vec![]);
    assert_eq!(
        store.subscribers_of(&area.id).await.expect("subscribers"),
        vec![]
    );
    assert_eq!(store.subscribed_areas().await.expect("registry"), vec![]);
    // Never subscribed at all.
    assert!(
        !store
            .unsubscribe(ChatId(7), &AreaId::new("eskom:1"))
            .await
            .expect("unknown")
    );
}

pub async fn subscriptions_list_by_chat_and_by_area(store: Arc<dyn Store>) {
    let (a, b, c) = (bertiburg(), ashton(), milnerton());
    for (chat, area) in [(42, &a), (42, &c), (42, &b), (-5, &a), (-10, &a), (7, &b)] {
        assert!(
            store
                .subscribe(ChatId(chat), area, at(0))
                .await
                .expect("subscribe")
        );
    }
    // Areas by id, chats by number (not by text: -10 comes before -5).
    let of_42 = store.areas_of(ChatId(42)).await.expect("areas");
    assert_eq!(
        ids(&of_42),
        ["eskom:64106", "eskom:9811", "esp:eskde-14-milnerton"]
    );
    assert_eq!(of_42[2], c, "areas come back whole");
    assert_eq!(
        store.subscribers_of(&a.id).await.expect("subscribers"),
        chats(&[-10, -5, 42])
    );
    assert_eq!(
        store.subscribers_of(&b.id).await.expect("subscribers"),
        chats(&[7, 42])
    );
    assert_eq!(
        store.subscribers_of(&c.id).await.expect("subscribers"),
        chats(&[42])
    );
    assert_eq!(store.areas_of(ChatId(8)).await.expect("areas"), vec![]);
    assert_eq!(
        store
            .subscribers_of(&AreaId::new("eskom:1"))
            .await
            .expect("subscribers"),
        vec![]
    );
}

pub async fn subscribers_read_page_by_page(store: Arc<dyn Store>) {
    let (a, b) = (bertiburg(), ashton());
    // Negative (groups) and positive chats, and ids whose text order is not their number order.
    let followers: Vec<i64> = vec![-100, -11, -5, 1, 2, 9, 10, 11, 99, 100, 1000, 5];
    for chat in &followers {
        store
            .subscribe(ChatId(*chat), &a, at(0))
            .await
            .expect("subscribe");
    }
    store.subscribe(ChatId(3), &b, at(0)).await.expect("b");
    for limit in [1, 3, 5, 12, 50] {
        let mut read = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .subscribers_page(&a.id, after, limit)
                .await
                .expect("page");
            assert!(page.len() <= limit);
            read.extend(page.iter().copied());
            match page.last() {
                Some(last) if page.len() == limit => after = Some(*last),
                _ => break,
            }
        }
        // Each subscriber once, whatever the store's own order of chats.
        read.sort_unstable();
        let mut expected = chats(&followers);
        expected.sort_unstable();
        assert_eq!(read, expected, "pages of {limit}");
    }
    assert_eq!(
        store
            .subscribers_page(&b.id, None, 10)
            .await
            .expect("other area"),
        chats(&[3])
    );
    assert_eq!(
        store
            .subscribers_page(&AreaId::new("eskom:1"), None, 10)
            .await
            .expect("nobody"),
        vec![]
    );
}

pub async fn subscribed_areas_follow_subscriptions(store: Arc<dyn Store>) {
    let (a, b) = (bertiburg(), ashton());
    assert_eq!(store.subscribed_areas().await.expect("registry"), vec![]);
    store
        .subscribe(ChatId(1), &a, at(0))
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(2), &a, at(0))
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(2), &b, at(0))
        .await
        .expect("subscribe");
    let both = vec![a.clone(), b.clone()];
    assert_eq!(store.subscribed_areas().await.expect("registry"), both);

    store
        .unsubscribe(ChatId(1), &a.id)
        .await
        .expect("unsubscribe");
    assert_eq!(
        store.subscribed_areas().await.expect("registry"),
        both,
        "Bertiburg still has chat 2"
    );
    store
        .unsubscribe(ChatId(2), &a.id)
        .await
        .expect("unsubscribe");
    assert_eq!(
        store.subscribed_areas().await.expect("registry"),
        vec![b.clone()]
    );
    store.subscribe(ChatId(3), &a, at(9)).await.expect("again");
    assert_eq!(store.subscribed_areas().await.expect("registry"), both);
}

pub async fn remove_chat_drops_all_its_subscriptions(store: Arc<dyn Store>) {
    let (a, b, c) = (bertiburg(), ashton(), milnerton());
    for area in [&a, &b, &c] {
        store
            .subscribe(ChatId(42), area, at(0))
            .await
            .expect("subscribe");
    }
    store
        .subscribe(ChatId(7), &b, at(0))
        .await
        .expect("subscribe");

    assert_eq!(store.remove_chat(ChatId(42)).await.expect("remove"), 3);
    assert_eq!(store.areas_of(ChatId(42)).await.expect("areas"), vec![]);
    assert_eq!(
        store.subscribers_of(&b.id).await.expect("subscribers"),
        chats(&[7])
    );
    assert_eq!(
        store.subscribers_of(&a.id).await.expect("subscribers"),
        vec![]
    );
    assert_eq!(
        store.subscribed_areas().await.expect("registry"),
        vec![b.clone()]
    );
    assert_eq!(store.remove_chat(ChatId(42)).await.expect("again"), 0);
    assert_eq!(store.areas_of(ChatId(7)).await.expect("areas"), vec![b]);
}

pub async fn move_chat_moves_subscriptions(store: Arc<dyn Store>) {
    let (a, b) = (bertiburg(), ashton());
    let (group, supergroup) = (ChatId(-4001), ChatId(-1_004_001));
    store.subscribe(group, &a, at(0)).await.expect("subscribe");
    store.subscribe(group, &b, at(0)).await.expect("subscribe");
    store
        .subscribe(supergroup, &b, at(0))
        .await
        .expect("subscribe");

    assert_eq!(
        store
            .move_chat(group, supergroup, at(5))
            .await
            .expect("move"),
        2
    );
    assert_eq!(store.areas_of(group).await.expect("areas"), vec![]);
    assert_eq!(
        store.areas_of(supergroup).await.expect("areas"),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(
        store.subscribers_of(&a.id).await.expect("subscribers"),
        vec![supergroup]
    );
    assert_eq!(
        store.subscribers_of(&b.id).await.expect("subscribers"),
        vec![supergroup]
    );
    assert_eq!(
        store.subscribed_areas().await.expect("registry"),
        vec![a, b]
    );
    assert_eq!(
        store
            .move_chat(group, supergroup, at(6))
            .await
            .expect("again"),
        0
    );
}

pub async fn ledger_first_write_wins(store: Arc<dyn Store>) {
    let key = DeliveryKey {
        chat: ChatId(42),
        message: "stage:6@2026-12-01T10:00Z".into(),
    };
    let other_chat = DeliveryKey {
        chat: ChatId(43),
        ..key.clone()
    };
    let until = at(3600);
    assert!(!store.was_delivered(&key, at(0)).await.expect("read"));
    assert!(
        store
            .record_delivery(&key, at(0), until)
            .await
            .expect("first")
    );
    assert!(
        !store
            .record_delivery(&key, at(5), until)
            .await
            .expect("second")
    );
    assert!(
        !store
            .record_delivery(&key, at(5), at(99_999))
            .await
            .expect("third")
    );
    assert!(store.was_delivered(&key, at(10)).await.expect("read"));
    assert!(
        !store
            .was_delivered(&other_chat, at(10))
            .await
            .expect("read")
    );
    assert!(
        store
            .record_delivery(&other_chat, at(10), until)
            .await
            .expect("other chat")
    );

    // Expired entries count as absent, whether or not the backend has deleted them yet.
    let just_before = until - Duration::milliseconds(1);
    assert!(store.was_delivered(&key, just_before).await.expect("read"));
    assert!(!store.was_delivered(&key, until).await.expect("read"));
    assert!(
        !store
            .record_delivery(&key, just_before, at(7200))
            .await
            .expect("live")
    );
    assert!(
        store
            .record_delivery(&key, until, at(7200))
            .await
            .expect("expired")
    );
    assert!(store.was_delivered(&key, at(7199)).await.expect("read"));
}

pub async fn ledger_concurrent_records_one_wins(store: Arc<dyn Store>) {
    let key = DeliveryKey {
        chat: ChatId(42),
        message: "slots:eskom:64106@2026-12-01".into(),
    };
    let recorders: Vec<_> = (0..8)
        .map(|n| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                store
                    .record_delivery(&key, at(n), at(3600))
                    .await
                    .expect("record")
            })
        })
        .collect();
    let mut wins = 0;
    for recorder in recorders {
        if recorder.await.expect("recorder task") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one of the concurrent records wins");
}

pub async fn leases_expire_and_can_be_reclaimed(store: Arc<dyn Store>) {
    let key = "refresh:42";
    assert!(store.try_claim(key, at(0), at(60)).await.expect("claim"));
    assert!(!store.try_claim(key, at(30), at(90)).await.expect("held"));
    assert!(
        store
            .try_claim("refresh:43", at(30), at(90))
            .await
            .expect("other key")
    );
    assert!(
        !store
            .try_claim(key, at(60) - Duration::milliseconds(1), at(120))
            .await
            .expect("held")
    );
    // The claim's end is exclusive: at `until` it is over, and a new claim replaces it.
    assert!(
        store
            .try_claim(key, at(60), at(120))
            .await
            .expect("expired")
    );
    assert!(
        !store
            .try_claim(key, at(90), at(150))
            .await
            .expect("reclaimed")
    );
    assert!(
        store
            .try_claim(key, at(200), at(260))
            .await
            .expect("expired again")
    );
}

/// Claim before send: one owner at a time, its own claim retaken at once, someone else's only
/// after the lease; a confirmed delivery is never claimed again until it expires.
pub async fn ledger_claims_confirm_and_release(store: Arc<dyn Store>) {
    let key = DeliveryKey {
        chat: ChatId(42),
        message: "stage:6@2026-12-01T10:00:00+00:00#1".into(),
    };
    let lease = at(90);
    assert_eq!(
        store
            .claim_delivery(&key, "wf:a", at(0), lease)
            .await
            .expect("claim"),
        Claim::Claimed
    );
    assert!(!store.was_delivered(&key, at(1)).await.expect("read"));
    assert_eq!(
        store
            .claim_delivery(&key, "stream:b", at(1), at(91))
            .await
            .expect("claim"),
        Claim::HeldBy {
            owner: "wf:a".into(),
            until: lease
        }
    );
    // The same run, retried, takes its claim back at once.
    assert_eq!(
        store
            .claim_delivery(&key, "wf:a", at(2), at(92))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    // A record without a claim cannot slip in under a live claim.
    assert!(
        !store
            .record_delivery(&key, at(3), at(3600))
            .await
            .expect("record")
    );
    // Releasing someone else's claim does nothing; the owner's own release frees the key.
    store
        .release_delivery(&key, "stream:b")
        .await
        .expect("release");
    assert!(matches!(
        store
            .claim_delivery(&key, "stream:b", at(3), at(93))
            .await
            .expect("claim"),
        Claim::HeldBy { .. }
    ));
    store.release_delivery(&key, "wf:a").await.expect("release");
    assert_eq!(
        store
            .claim_delivery(&key, "stream:b", at(4), at(94))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    // The owner died: after its lease another run takes over.
    assert_eq!(
        store
            .claim_delivery(&key, "wf:c", at(94), at(184))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    store
        .confirm_delivery(&key, at(100), at(3600))
        .await
        .expect("confirm");
    assert!(store.was_delivered(&key, at(101)).await.expect("read"));
    for owner in ["wf:c", "stream:b"] {
        assert_eq!(
            store
                .claim_delivery(&key, owner, at(102), at(192))
                .await
                .expect("claim"),
            Claim::Delivered
        );
    }
    store.release_delivery(&key, "wf:c").await.expect("release");
    assert!(store.was_delivered(&key, at(103)).await.expect("read"));
}

/// Of many runs claiming one delivery at once, exactly one gets it.
pub async fn ledger_concurrent_claims_one_wins(store: Arc<dyn Store>) {
    let key = DeliveryKey {
        chat: ChatId(7),
        message: "schedule:eskom:64106:abc#1".into(),
    };
    let claimers: Vec<_> = (0..8)
        .map(|n| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                store
                    .claim_delivery(&key, &format!("run-{n}"), at(0), at(90))
                    .await
                    .expect("claim")
            })
        })
        .collect();
    let mut wins = 0;
    for claimer in claimers {
        if claimer.await.expect("claimer task") == Claim::Claimed {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

/// Confirmations in one call: every key ends delivered until the given expiry, whatever held it
/// (its own run's claim, another run's live claim, an expired claim, a delivery, nothing), across
/// the store's batch sizes (DynamoDB writes 25 a call) and with a key given twice.
pub async fn ledger_confirms_many_at_once(store: Arc<dyn Store>) {
    let key = |chat: i64| DeliveryKey {
        chat: ChatId(chat),
        message: format!("stage:6@2026-12-01T10:00:00+00:00#{}", chat % 3 + 1),
    };
    let keys: Vec<DeliveryKey> = (1..=60).map(key).collect();
    for chat in 1..=10 {
        // This run's own claims.
        let claimed = store
            .claim_delivery(&key(chat), "wf:a", at(0), at(90))
            .await;
        assert_eq!(claimed.expect("claim"), Claim::Claimed);
    }
    for chat in 11..=20 {
        // Another run's live claims: the message went out all the same, and saying so is right.
        let claimed = store
            .claim_delivery(&key(chat), "wf:b", at(0), at(90))
            .await;
        assert_eq!(claimed.expect("claim"), Claim::Claimed);
    }
    for chat in 21..=30 {
        // Claims whose lease ran out before the confirmation.
        let claimed = store
            .claim_delivery(&key(chat), "wf:dead", at(0), at(5))
            .await;
        assert_eq!(claimed.expect("claim"), Claim::Claimed);
    }
    for chat in 31..=40 {
        // Delivered already.
        store
            .confirm_delivery(&key(chat), at(1), at(3600))
            .await
            .expect("confirm");
    }
    store
        .confirm_deliveries(&[], at(10), at(7200))
        .await
        .expect("nothing to confirm");
    let mut given = keys.clone();
    given.push(key(7));
    store
        .confirm_deliveries(&given, at(10), at(7200))
        .await
        .expect("confirm many");
    for key in &keys {
        assert!(
            store.was_delivered(key, at(11)).await.expect("read"),
            "{key:?}"
        );
        for owner in ["wf:a", "wf:b", "wf:c"] {
            assert_eq!(
                store
                    .claim_delivery(key, owner, at(12), at(102))
                    .await
                    .expect("claim"),
                Claim::Delivered,
                "{key:?} for {owner}"
            );
        }
        // Kept until the expiry given (exclusive), the earlier delivery's included.
        assert!(store.was_delivered(key, at(7199)).await.expect("read"));
        assert!(!store.was_delivered(key, at(7200)).await.expect("read"));
    }
    // A key it was not given is untouched.
    assert!(!store.was_delivered(&key(61), at(11)).await.expect("read"));
}

/// The stage-refresh marker only moves forward.
pub async fn stage_refresh_marker_moves_forward(store: Arc<dyn Store>) {
    assert_eq!(store.stage_refresh().await.expect("read"), None);
    let first = StageRefresh {
        stage: stage(4),
        stage_updated_at: at(100),
        previous: Some(stage(2)),
        refreshed_at: at(110),
    };
    assert!(store.put_stage_refresh(&first).await.expect("write"));
    let again = StageRefresh {
        refreshed_at: at(120),
        ..first.clone()
    };
    assert!(!store.put_stage_refresh(&again).await.expect("same change"));
    let older = StageRefresh {
        stage: stage(2),
        stage_updated_at: at(50),
        previous: None,
        refreshed_at: at(130),
    };
    assert!(!store.put_stage_refresh(&older).await.expect("older change"));
    assert_eq!(store.stage_refresh().await.expect("read"), Some(first));
    let newer = StageRefresh {
        stage: stage(6),
        stage_updated_at: at(200),
        previous: Some(stage(4)),
        refreshed_at: at(205),
    };
    assert!(store.put_stage_refresh(&newer).await.expect("newer change"));
    assert_eq!(store.stage_refresh().await.expect("read"), Some(newer));
}

pub async fn leases_held_for_a_holder(store: Arc<dyn Store>) {
    let key = "refresh-cooldown:42";
    assert!(store.is_claimed(key, at(0)).await.is_ok_and(|held| !held));
    assert!(
        store
            .try_claim_for(key, "tg-update:1", at(0), at(60))
            .await
            .expect("claim")
    );
    assert!(store.is_claimed(key, at(1)).await.expect("read"));
    // The same holder again (a redelivery) is let through; another holder is not.
    assert!(
        store
            .try_claim_for(key, "tg-update:1", at(5), at(65))
            .await
            .expect("same holder")
    );
    assert!(
        !store
            .try_claim_for(key, "tg-update:2", at(10), at(70))
            .await
            .expect("other holder")
    );
    // Only the holder can give it up.
    store
        .release(key, "tg-update:2")
        .await
        .expect("release by another");
    assert!(store.is_claimed(key, at(11)).await.expect("read"));
    store.release(key, "tg-update:1").await.expect("release");
    assert!(!store.is_claimed(key, at(12)).await.expect("read"));
    assert!(
        store
            .try_claim_for(key, "tg-update:2", at(12), at(72))
            .await
            .expect("free again")
    );
    // Expired claims count as absent.
    assert!(!store.is_claimed(key, at(72)).await.expect("read"));
    store
        .release("never-claimed", "x")
        .await
        .expect("nothing to release");
}

pub async fn takes_are_counted_to_their_limit(store: Arc<dyn Store>) {
    let key = "searches:42:0";
    for taken in 0..3 {
        assert!(
            store
                .try_take(key, 3, at(taken), at(3600))
                .await
                .expect("take"),
            "{taken}"
        );
    }
    assert!(
        !store
            .try_take(key, 3, at(10), at(3600))
            .await
            .expect("used up")
    );
    assert!(
        !store
            .try_take(key, 3, at(11), at(3600))
            .await
            .expect("still used up")
    );
    assert!(
        store
            .try_take("searches:43:0", 3, at(12), at(3600))
            .await
            .expect("other key")
    );
}

pub async fn areas_over_the_limits_are_refused(store: Arc<dyn Store>) {
    let huge = Area::sepush("x".repeat(3000), "Huge", "Nowhere");
    let error = store
        .subscribe(ChatId(42), &huge, at(0))
        .await
        .expect_err("refused");
    assert_eq!(error.error_name(), ErrorName::InvalidInput, "{error}");
    assert!(store.areas_of(ChatId(42)).await.expect("areas").is_empty());
}

fn channel_link(channel: i64, area: &Area, title: &str) -> ChannelLink {
    ChannelLink::new(
        ChatId(channel),
        area.id.clone(),
        title,
        Some(format!("https://t.me/{title}")),
        4242,
    )
}

pub async fn channel_links_by_area_and_idempotent(store: Arc<dyn Store>) {
    let (a, b) = (bertiburg(), ashton());
    assert_eq!(store.channels_of(&a.id).await.expect("none"), vec![]);
    // Chats as text would put -1005 before -1000000000003; callers get them by number.
    let big = channel_link(-1_000_000_000_003, &a, "big");
    let small = channel_link(-1005, &a, "small");
    assert!(store.link_channel(&small, at(0)).await.expect("link"));
    assert!(store.link_channel(&big, at(0)).await.expect("link"));
    // A redelivered link changes nothing; a new title replaces the old one.
    assert!(!store.link_channel(&small, at(1)).await.expect("again"));
    let renamed = channel_link(-1005, &a, "renamed");
    assert!(!store.link_channel(&renamed, at(2)).await.expect("rename"));
    assert_eq!(
        store.channels_of(&a.id).await.expect("links"),
        vec![big.clone(), renamed.clone()]
    );
    assert_eq!(store.channels_of(&b.id).await.expect("other area"), vec![]);
    // A link is not a subscription: subscribers and areas are the subscription store's alone.
    assert_eq!(store.subscribers_of(&a.id).await.expect("subs"), vec![]);
    assert_eq!(store.subscribed_areas().await.expect("registry"), vec![]);

    assert!(
        store
            .unlink_channel(ChatId(-1005), &a.id)
            .await
            .expect("unlink")
    );
    assert!(
        !store
            .unlink_channel(ChatId(-1005), &a.id)
            .await
            .expect("unlink again")
    );
    assert_eq!(store.channels_of(&a.id).await.expect("links"), vec![big]);

    let oversized = ChannelLink {
        title: "t".repeat(ChannelLink::TITLE_MAX_CHARS + 1),
        ..renamed
    };
    let refused = store
        .link_channel(&oversized, at(3))
        .await
        .expect_err("refused");
    assert_eq!(refused.error_name(), ErrorName::InvalidInput);
}

pub async fn remove_chat_drops_its_channel_links(store: Arc<dyn Store>) {
    let (a, b) = (bertiburg(), ashton());
    for area in [&a, &b] {
        store
            .subscribe(ChatId(-1007), area, at(0))
            .await
            .expect("subscribe");
        store
            .link_channel(&channel_link(-1007, area, "gone"), at(0))
            .await
            .expect("link");
    }
    let kept = channel_link(-1008, &a, "kept");
    store
        .subscribe(ChatId(-1008), &a, at(0))
        .await
        .expect("subscribe");
    store.link_channel(&kept, at(0)).await.expect("link");

    assert_eq!(store.remove_chat(ChatId(-1007)).await.expect("remove"), 2);
    assert_eq!(store.channels_of(&a.id).await.expect("links"), vec![kept]);
    assert_eq!(store.channels_of(&b.id).await.expect("links"), vec![]);
    assert_eq!(
        store.subscribers_of(&a.id).await.expect("subs"),
        chats(&[-1008])
    );
}
