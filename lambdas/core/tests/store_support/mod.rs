//! Shared by the store contract suite: the two adapters under test and the values stored.

pub mod cases;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use loadshed_core::adapters::dynamo::{ClientSettings, DynamoStore, create_table};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::domain::{Area, AreaId, ChatId, Schedule, Slot, Stage};
use loadshed_core::ports::Store;

/// Where `scripts/with-moto` says its server listens.
pub const ENDPOINT_ENV: &str = "LOADSHED_TEST_AWS_ENDPOINT";

pub fn memory() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

/// A DynamoDB store on a fresh table of its own, so tests never see each other's items.
pub async fn dynamo() -> DynamoStore {
    let endpoint = std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_ENV} is not set, so there is no DynamoDB-compatible server to test against: \
             run `make test`, or `scripts/with-moto cargo test -p loadshed-core --test store_contract`"
        )
    });
    let store = DynamoStore::connect(
        format!("loadshed-test-{}", uuid::Uuid::new_v4()),
        &ClientSettings::with_endpoint(endpoint),
    )
    .await;
    let created = create_table(&store).await.expect("create the test table");
    assert!(created, "a fresh table name must create a table");
    store
}

/// The SDK's own DynamoDB client on the store's endpoint: the tests' way to read and write raw
/// items and look at the table, independently of the adapter under test.
pub async fn sdk(store: &DynamoStore) -> aws_sdk_dynamodb::Client {
    store.client().clone()
}

pub async fn dynamo_as_port() -> Arc<dyn Store> {
    Arc::new(dynamo().await)
}

/// A fixed instant, `seconds` after 2026-12-01 08:00 UTC.
pub fn at(seconds: i64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
        .single()
        .expect("valid instant");
    base + Duration::seconds(seconds)
}

pub fn stage(number: u8) -> Stage {
    Stage::new(number).expect("valid stage")
}

pub fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
}

pub fn ashton() -> Area {
    Area::eskom(9811, "Ashton", "Senqu", "Eastern Cape", 1, 538)
}

pub fn milnerton() -> Area {
    Area::sepush(
        "eskde-14-milnerton",
        "Milnerton (14)",
        "Eskom Direct, City of Cape Town",
    )
}

pub fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, day).expect("valid date")
}

/// A schedule over 1-3 December: the given slots on the 1st, the 2nd free, the 3rd one slot.
pub fn schedule(area: &AreaId, at_stage: Stage, first_day: &[&str]) -> Schedule {
    let slots = first_day
        .iter()
        .map(|text| Slot::parse_on(date(1), text).expect("valid slot"))
        .collect();
    Schedule::from_days(
        area.clone(),
        at_stage,
        [
            (date(1), slots),
            (date(2), Vec::new()),
            (
                date(3),
                vec![Slot::parse_on(date(3), "22:00 - 00:30").expect("valid slot")],
            ),
        ],
    )
}

pub fn chats(list: &[i64]) -> Vec<ChatId> {
    list.iter().copied().map(ChatId).collect()
}
