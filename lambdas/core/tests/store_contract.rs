//! The store contract, run against the in-memory adapter and against DynamoDB (moto's server).
//!
//! The DynamoDB half needs `LOADSHED_TEST_AWS_ENDPOINT`; without it those tests fail and say how to
//! run them: `scripts/with-moto cargo test -p loadshed-core --test store_contract`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod store_support;

/// One test per case and adapter: `memory::<case>` and `dynamo::<case>`.
macro_rules! contract {
    ($($case:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::store_support::cases::$case(crate::store_support::memory()).await;
                }
            )+
        }

        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let store = crate::store_support::dynamo_as_port().await;
                    crate::store_support::cases::$case(store).await;
                }
            )+
        }
    };
}

contract!(
    stage_first_write,
    stage_timelines_and_what_they_replaced_round_trip,
    chat_settings_default_and_last_write_wins,
    stage_retried_write_is_not_written_twice,
    stage_stale_version_conflicts,
    stage_concurrent_writers_one_wins,
    schedule_written_only_when_changed,
    subscribe_and_unsubscribe_are_idempotent,
    subscriptions_list_by_chat_and_by_area,
    subscribers_read_page_by_page,
    subscribed_areas_follow_subscriptions,
    remove_chat_drops_all_its_subscriptions,
    move_chat_moves_subscriptions,
    ledger_first_write_wins,
    ledger_concurrent_records_one_wins,
    leases_expire_and_can_be_reclaimed,
    ledger_claims_confirm_and_release,
    ledger_concurrent_claims_one_wins,
    ledger_confirms_many_at_once,
    stage_refresh_marker_moves_forward,
    leases_held_for_a_holder,
    takes_are_counted_to_their_limit,
    areas_over_the_limits_are_refused,
    channel_links_by_area_and_idempotent,
    remove_chat_drops_its_channel_links,
);

/// What only the in-memory adapter has: its snapshot file, and the failures that come with it.
mod memory_snapshot {
    use loadshed_core::adapters::memory_store::MemoryStore;
    use loadshed_core::domain::ChatId;
    use loadshed_core::errors::StoreError;
    use loadshed_core::ports::{
        DeliveryKey, DeliveryLedger, Leases, ScheduleStore, StageStore, SubscriptionStore,
    };
    use pretty_assertions::assert_eq;

    use crate::store_support::{at, bertiburg, milnerton, schedule, stage};

    #[tokio::test]
    async fn a_saved_store_loads_with_everything_in_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/store.json");
        let store = MemoryStore::new();
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(3)),
                None,
                at(0),
                None,
            )
            .await
            .expect("stage");
        let plan = schedule(&bertiburg().id, stage(3), &["08:00 - 10:30"]);
        store.put_schedule(&plan, at(0)).await.expect("schedule");
        store
            .subscribe(ChatId(42), &bertiburg(), at(0))
            .await
            .expect("sub");
        store
            .subscribe(ChatId(-7), &milnerton(), at(1))
            .await
            .expect("sub");
        let delivered = DeliveryKey {
            chat: ChatId(42),
            message: "stage:3".into(),
        };
        store
            .record_delivery(&delivered, at(0), at(3600))
            .await
            .expect("ledger");
        store
            .try_claim("refresh:42", at(0), at(60))
            .await
            .expect("lease");
        let channel = loadshed_core::domain::ChannelLink::new(
            ChatId(-1001),
            milnerton().id,
            "Milnerton power",
            Some("https://t.me/milnerton_power".into()),
            4242,
        );
        loadshed_core::ports::ChannelStore::link_channel(&store, &channel, at(1))
            .await
            .expect("link");
        store.save(&path).await.expect("save");

        let loaded = MemoryStore::load(&path).await.expect("load");
        assert_eq!(
            loaded.current_stage().await.expect("stage"),
            store.current_stage().await.expect("stage")
        );
        assert_eq!(
            loaded
                .schedule(&bertiburg().id, stage(3))
                .await
                .expect("schedule"),
            Some(plan)
        );
        assert_eq!(
            loaded.subscribed_areas().await.expect("areas"),
            vec![bertiburg(), milnerton()]
        );
        assert_eq!(
            loaded.subscribers_of(&milnerton().id).await.expect("subs"),
            vec![ChatId(-7)]
        );
        assert_eq!(
            loadshed_core::ports::ChannelStore::channels_of(&loaded, &milnerton().id)
                .await
                .expect("links"),
            vec![channel]
        );
        assert!(
            loaded
                .was_delivered(&delivered, at(10))
                .await
                .expect("ledger")
        );
        assert!(
            !loaded
                .was_delivered(&delivered, at(3600))
                .await
                .expect("ledger")
        );
        assert!(
            !loaded
                .try_claim("refresh:42", at(30), at(90))
                .await
                .expect("lease")
        );
        assert!(
            loaded
                .try_claim("refresh:42", at(60), at(90))
                .await
                .expect("lease")
        );

        // Saving again over the file replaces it, leaving no partial file behind.
        loaded.save(&path).await.expect("save again");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["store.json"]);
    }

    #[tokio::test]
    async fn a_missing_snapshot_is_an_empty_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = MemoryStore::load(dir.path().join("absent.json"))
            .await
            .expect("load");
        assert_eq!(store.current_stage().await.expect("stage"), None);
        assert_eq!(store.subscribed_areas().await.expect("areas"), vec![]);
    }

    async fn load_text(text: &str) -> (Result<MemoryStore, StoreError>, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("store.json");
        std::fs::write(&path, text).expect("write");
        (MemoryStore::load(&path).await, path.display().to_string())
    }

    #[tokio::test]
    async fn a_corrupt_snapshot_is_corrupt_and_names_the_file() {
        let stage_nine = r#"{"format": 1, "stage": {"stage": 9, "updated_at": "2026-12-01T08:00:00Z", "version": 1}}"#;
        let unknown_field = r#"{"format": 1, "stage": null, "subscribers": []}"#;
        let future_format = r#"{"format": 2, "stage": null}"#;
        let bad_area = r#"{"format": 1, "stage": null, "subscriptions": [{"chat": 1, "area": {"id": "x"}, "subscribed_at": "2026-12-01T08:00:00Z"}]}"#;
        for text in [stage_nine, unknown_field, future_format, bad_area, "{", ""] {
            match load_text(text).await {
                (Err(StoreError::Corrupt { key, detail }), path) => {
                    assert_eq!(key, path, "for {text:?}: {detail}");
                }
                (other, _) => panic!("{text:?} loaded as {:?}", other.map(|_| "a store")),
            }
        }
        let (minimal, _) = load_text(r#"{"format": 1, "stage": null}"#).await;
        assert!(minimal.is_ok(), "lists may be left out");
    }

    #[tokio::test]
    async fn a_snapshot_that_cannot_be_written_is_unavailable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").expect("write");
        let store = MemoryStore::new();
        match store.save(file.join("store.json")).await {
            Err(StoreError::Unavailable(detail)) => assert!(detail.contains("a-file"), "{detail}"),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}

/// What only DynamoDB has: raw items, the table's shape and the network.
mod dynamo_specific {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType, TimeToLiveStatus};
    use loadshed_core::adapters::dynamo::{
        ClientSettings, DynamoStore, create_table, keys, schedule_from_image, stage_from_image,
    };
    use loadshed_core::domain::{AreaId, ChatId};
    use loadshed_core::errors::{ErrorName, Named, StoreError};
    use loadshed_core::ports::{
        DeliveryKey, DeliveryLedger, ScheduleStore, StageStore, SubscriptionStore,
    };
    use pretty_assertions::assert_eq;

    use crate::store_support::{at, bertiburg, dynamo, milnerton, schedule, stage};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_load_reads_back_as_subscribe_would_have_written_it() {
        let loaded = dynamo().await;
        let subscribed = dynamo().await;
        // 60 chats on Bertiburg, every third also on Milnerton, one pair given twice: more than
        // one batch of 25, and a registry count per area.
        let mut pairs: Vec<(ChatId, loadshed_core::domain::Area)> = (1..=60)
            .flat_map(|chat| {
                let mut areas = vec![(ChatId(chat), bertiburg())];
                if chat % 3 == 0 {
                    areas.push((ChatId(chat), milnerton()));
                }
                areas
            })
            .collect();
        pairs.push((ChatId(7), bertiburg()));
        let written = loaded
            .load_subscriptions(&pairs, at(0))
            .await
            .expect("bulk load");
        assert_eq!(written, 80);
        for (chat, area) in &pairs {
            subscribed
                .subscribe(*chat, area, at(0))
                .await
                .expect("subscribe");
        }
        for area in [bertiburg().id, milnerton().id] {
            assert_eq!(
                loaded.subscribers_of(&area).await.expect("loaded"),
                subscribed.subscribers_of(&area).await.expect("subscribed"),
            );
        }
        for chat in [ChatId(3), ChatId(7), ChatId(60)] {
            assert_eq!(
                loaded.areas_of(chat).await.expect("loaded"),
                subscribed.areas_of(chat).await.expect("subscribed"),
            );
        }
        assert_eq!(
            loaded.subscribed_areas().await.expect("loaded"),
            subscribed.subscribed_areas().await.expect("subscribed"),
        );
        // The counts are right too: unsubscribing everyone from Milnerton forgets the area.
        for chat in (3..=60).step_by(3) {
            assert!(
                loaded
                    .unsubscribe(ChatId(chat), &milnerton().id)
                    .await
                    .expect("unsubscribe")
            );
        }
        assert_eq!(
            loaded.subscribed_areas().await.expect("after"),
            vec![bertiburg()]
        );
    }

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_owned())
    }

    fn n(number: i64) -> AttributeValue {
        AttributeValue::N(number.to_string())
    }

    async fn put_raw(store: &DynamoStore, item: HashMap<String, AttributeValue>) {
        crate::store_support::sdk(store)
            .await
            .put_item()
            .table_name(store.table())
            .set_item(Some(item))
            .send()
            .await
            .expect("raw put");
    }

    async fn get_raw(store: &DynamoStore, pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
        crate::store_support::sdk(store)
            .await
            .get_item()
            .table_name(store.table())
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .send()
            .await
            .expect("raw get")
            .item
            .unwrap_or_else(|| panic!("no item at {pk}/{sk}"))
    }

    fn expect_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, at_key: &str) {
        match result {
            Err(error @ StoreError::Corrupt { .. }) => {
                assert_eq!(error.error_name(), ErrorName::StoreCorrupt);
                let StoreError::Corrupt { key, .. } = error else {
                    unreachable!()
                };
                assert_eq!(key, at_key);
            }
            other => panic!("expected Corrupt at {at_key}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn undecodable_items_are_corrupt_and_name_their_key() {
        let store = dynamo().await;
        let item = |pk: &str, sk: &str, entity: &str, rest: Vec<(&str, AttributeValue)>| {
            let mut item = HashMap::from([
                (keys::PK.to_owned(), s(pk)),
                (keys::SK.to_owned(), s(sk)),
                (keys::ENTITY.to_owned(), s(entity)),
            ]);
            item.extend(rest.into_iter().map(|(k, v)| (k.to_owned(), v)));
            item
        };
        put_raw(
            &store,
            item(
                "STAGE",
                "NATIONAL",
                "stage",
                vec![
                    ("stage", n(42)),
                    ("version", n(3)),
                    ("updated_at", s("2026-12-01T08:00:00Z")),
                ],
            ),
        )
        .await;
        expect_corrupt(store.current_stage().await, "STAGE/NATIONAL");

        put_raw(
            &store,
            item(
                "AREA#eskom:1",
                "SCHEDULE#4",
                "schedule",
                vec![
                    ("area_id", s("eskom:1")),
                    ("stage", n(4)),
                    ("dates", s("not a list")),
                ],
            ),
        )
        .await;
        expect_corrupt(
            store.schedule(&AreaId::new("eskom:1"), stage(4)).await,
            "AREA#eskom:1/SCHEDULE#4",
        );

        put_raw(
            &store,
            item(
                "CHAT#42",
                "AREA#eskom:1",
                "subscription",
                vec![("chat", n(42)), ("subscribed_at", s("yesterday"))],
            ),
        )
        .await;
        expect_corrupt(store.areas_of(ChatId(42)).await, "CHAT#42/AREA#eskom:1");
        // A chat whose subscription is corrupt can still be removed (Telegram says it is gone).
        assert_eq!(store.remove_chat(ChatId(42)).await.expect("remove"), 1);

        put_raw(
            &store,
            item(
                "AREA#eskom:1",
                "CHAT#7",
                "subscriber",
                vec![("chat", s("seven"))],
            ),
        )
        .await;
        expect_corrupt(
            store.subscribers_of(&AreaId::new("eskom:1")).await,
            "AREA#eskom:1/CHAT#7",
        );

        put_raw(
            &store,
            item(
                "AREAS",
                "AREA#eskom:2",
                "area",
                vec![("subscribers", n(1)), ("area", s("Bertiburg"))],
            ),
        )
        .await;
        expect_corrupt(store.subscribed_areas().await, "AREAS/AREA#eskom:2");

        put_raw(
            &store,
            item("DELIVERY#42", "MSG#stage:6", "delivery", vec![]),
        )
        .await;
        let key = DeliveryKey {
            chat: ChatId(42),
            message: "stage:6".into(),
        };
        expect_corrupt(
            store.was_delivered(&key, at(0)).await,
            "DELIVERY#42/MSG#stage:6",
        );
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_unavailable() {
        // Bind and drop: the port was free a moment ago and nothing listens on it now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let settings = ClientSettings {
            attempt_timeout: Duration::from_secs(1),
            operation_timeout: Duration::from_secs(3),
            max_attempts: Some(2),
            ..ClientSettings::with_endpoint(format!("http://127.0.0.1:{port}"))
        };
        // Credentials come from the environment (scripts/with-moto sets dummy ones), as in Lambda.
        dynamo_endpoint_or_fail();
        let store = DynamoStore::connect("loadshed-unreachable", &settings).await;
        let started = Instant::now();
        match store.current_stage().await {
            Err(error @ StoreError::Unavailable(_)) => {
                assert_eq!(error.error_name(), ErrorName::StoreUnavailable);
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the timeouts bound the wait"
        );
        match store.subscribe(ChatId(1), &bertiburg(), at(0)).await {
            Err(StoreError::Unavailable(_)) => {}
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_missing_table_is_misconfigured_not_retried() {
        dynamo_endpoint_or_fail();
        let endpoint = std::env::var(crate::store_support::ENDPOINT_ENV).unwrap_or_default();
        let store = DynamoStore::connect(
            format!("loadshed-missing-{}", uuid::Uuid::new_v4()),
            &ClientSettings::with_endpoint(endpoint),
        )
        .await;
        match store.current_stage().await {
            Err(error @ StoreError::Misconfigured(_)) => {
                assert_eq!(error.error_name(), ErrorName::StoreMisconfigured);
                assert!(!error.error_name().is_transient());
            }
            other => panic!("expected Misconfigured, got {other:?}"),
        }
    }

    /// A key over DynamoDB's limit is refused by the service itself: permanent, never retried.
    #[tokio::test]
    async fn a_request_dynamodb_refuses_is_invalid_not_unavailable() {
        dynamo_endpoint_or_fail();
        let store = crate::store_support::dynamo().await;
        let huge = loadshed_core::domain::AreaId::new("x".repeat(3000));
        let plan = crate::store_support::schedule(
            &huge,
            crate::store_support::stage(2),
            &["08:00 - 10:30"],
        );
        match store.put_schedule(&plan, at(0)).await {
            Err(error @ StoreError::Invalid(_)) => {
                assert_eq!(error.error_name(), ErrorName::InvalidInput);
                assert!(!error.error_name().is_transient());
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn dynamo_endpoint_or_fail() {
        assert!(
            std::env::var(crate::store_support::ENDPOINT_ENV).is_ok(),
            "{} is not set: run `make test`, or `scripts/with-moto cargo test -p loadshed-core \
             --test store_contract`",
            crate::store_support::ENDPOINT_ENV
        );
    }

    #[tokio::test]
    async fn the_table_has_the_declared_shape_and_creating_it_again_is_a_no_op() {
        let store = dynamo().await;
        assert!(!create_table(&store).await.expect("again"));
        let table = crate::store_support::sdk(&store)
            .await
            .describe_table()
            .table_name(store.table())
            .send()
            .await
            .expect("describe")
            .table
            .expect("table");
        let key_schema: Vec<(String, String)> = table
            .key_schema()
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            key_schema,
            [("PK".into(), "HASH".into()), ("SK".into(), "RANGE".into())]
        );
        let stream = table.stream_specification().expect("stream");
        assert!(stream.stream_enabled());
        assert_eq!(
            stream.stream_view_type(),
            Some(&StreamViewType::NewAndOldImages)
        );
        assert!(table.global_secondary_indexes().is_empty());
        let ttl = crate::store_support::sdk(&store)
            .await
            .describe_time_to_live()
            .table_name(store.table())
            .send()
            .await
            .expect("describe ttl")
            .time_to_live_description
            .expect("ttl");
        assert_eq!(ttl.attribute_name(), Some(keys::EXPIRES_AT));
        assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    }

    #[tokio::test]
    async fn the_registry_forgets_areas_without_subscribers() {
        let store = dynamo().await;
        let area = bertiburg();
        store.subscribe(ChatId(1), &area, at(0)).await.expect("sub");
        store.unsubscribe(ChatId(1), &area.id).await.expect("unsub");
        let left = crate::store_support::sdk(&store)
            .await
            .get_item()
            .table_name(store.table())
            .key(keys::PK, s("AREAS"))
            .key(keys::SK, s("AREA#eskom:64106"))
            .send()
            .await
            .expect("raw get")
            .item;
        assert_eq!(left, None, "the last unsubscribe drops the registry item");

        // Had that tidy-up failed, a zero count must still not list the area.
        store.subscribe(ChatId(1), &area, at(0)).await.expect("sub");
        let mut registry = get_raw(&store, "AREAS", "AREA#eskom:64106").await;
        registry.insert("subscribers".into(), n(0));
        put_raw(&store, registry).await;
        assert_eq!(store.subscribed_areas().await.expect("registry"), vec![]);
    }

    /// The stream filters of the choreography match on `entity`; its consumers decode the images.
    /// Query results that span pages (here 2 items a page) come back whole and in order: every
    /// read that lists (areas of a chat, subscribers of an area, the registry) follows
    /// `LastEvaluatedKey` to the end.
    #[tokio::test]
    async fn reads_follow_query_pages_to_the_end() {
        let store = dynamo().await.with_page_limit(2);
        let areas: Vec<loadshed_core::domain::Area> = (1..=5)
            .map(|n| loadshed_core::domain::Area::eskom(n, format!("Suburb {n}"), "M", "P", 1, 0))
            .collect();
        for area in &areas {
            assert!(
                store
                    .subscribe(ChatId(7), area, at(0))
                    .await
                    .expect("subscribe")
            );
        }
        for chat in 1..=5 {
            store
                .subscribe(ChatId(100 + chat), &areas[0], at(0))
                .await
                .expect("subscribe");
        }
        let mut read = store.areas_of(ChatId(7)).await.expect("areas of");
        read.sort_by(|a, b| a.id.cmp(&b.id));
        let mut expected = areas.clone();
        expected.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(read, expected);
        assert_eq!(
            store
                .subscribers_of(&areas[0].id)
                .await
                .expect("subscribers"),
            vec![
                ChatId(7),
                ChatId(101),
                ChatId(102),
                ChatId(103),
                ChatId(104),
                ChatId(105)
            ]
        );
        assert_eq!(store.subscribed_areas().await.expect("registry").len(), 5);
    }

    #[tokio::test]
    async fn items_carry_their_entity_and_stream_images_decode() {
        let store = dynamo().await;
        store
            .put_stage(
                &loadshed_core::domain::Timelines::national_only(stage(6)),
                None,
                at(0),
                None,
            )
            .await
            .expect("stage");
        let plan = schedule(&bertiburg().id, stage(6), &["08:00 - 10:30"]);
        store.put_schedule(&plan, at(0)).await.expect("schedule");
        store
            .subscribe(ChatId(42), &bertiburg(), at(0))
            .await
            .expect("subscribe");
        let key = DeliveryKey {
            chat: ChatId(42),
            message: "stage:6".into(),
        };
        store
            .record_delivery(&key, at(0), at(1) + chrono::Duration::milliseconds(1))
            .await
            .expect("ledger");

        let stage_item = get_raw(&store, "STAGE", "NATIONAL").await;
        assert_eq!(stage_item.get(keys::ENTITY), Some(&s(keys::entity::STAGE)));
        let decoded = stage_from_image(stage_item.into()).expect("stage image");
        assert_eq!(Some(decoded), store.current_stage().await.expect("read"));

        let schedule_item = get_raw(&store, "AREA#eskom:64106", "SCHEDULE#6").await;
        assert_eq!(
            schedule_item.get(keys::ENTITY),
            Some(&s(keys::entity::SCHEDULE))
        );
        assert_eq!(
            schedule_from_image(schedule_item.into()).expect("image"),
            plan
        );

        for (pk, sk, entity) in [
            ("CHAT#42", "AREA#eskom:64106", keys::entity::SUBSCRIPTION),
            ("AREA#eskom:64106", "CHAT#42", keys::entity::SUBSCRIBER),
            ("AREAS", "AREA#eskom:64106", keys::entity::AREA),
        ] {
            assert_eq!(
                get_raw(&store, pk, sk).await.get(keys::ENTITY),
                Some(&s(entity))
            );
        }
        let delivery = get_raw(&store, "DELIVERY#42", "MSG#stage:6").await;
        assert_eq!(delivery.get(keys::ENTITY), Some(&s(keys::entity::DELIVERY)));
        // TTL in whole seconds, rounded up so DynamoDB never deletes an entry that still counts.
        let expected_ttl = at(2).timestamp();
        assert_eq!(delivery.get(keys::EXPIRES_AT), Some(&n(expected_ttl)));
    }
}
