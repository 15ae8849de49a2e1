//! Items as stored: the domain values serialised with `serde_dynamo`, plus the key, the entity name
//! and, where it applies, the expiry attributes.
//!
//! [`stage_from_image`] and [`schedule_from_image`] decode the new images that DynamoDB Streams
//! deliver, so stream consumers read exactly what this adapter wrote.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::{self, Key};
use crate::domain::{Area, AreaId, ChatId, Schedule};
use crate::errors::StoreError;
use crate::ports::StoredStage;

pub(super) type Item = HashMap<String, AttributeValue>;

/// The schedule item's extra attribute: a digest of the schedule, so "write only when different" is
/// a single conditional put (DynamoDB cannot compare whole maps in a condition).
pub const SCHEDULE_DIGEST: &str = "digest";
/// When the schedule item was last written.
pub const UPDATED_AT: &str = "updated_at";

/// Under the chat: everything `areas_of` returns.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SubscriptionBody {
    pub chat: ChatId,
    pub area: Area,
    pub subscribed_at: DateTime<Utc>,
}

/// Under the area: `subscribers_of` needs only the chat.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SubscriberBody {
    pub chat: ChatId,
    pub area_id: AreaId,
    pub subscribed_at: DateTime<Utc>,
}

/// In the registry: the area and how many chats subscribe to it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RegistryBody {
    pub area: Area,
    pub subscribers: i64,
}

#[derive(Debug, Serialize)]
pub(super) struct DeliveryBody<'a> {
    pub chat: ChatId,
    pub message: &'a str,
    pub delivered_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub(super) struct LeaseBody<'a> {
    pub key: &'a str,
    pub claimed_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<&'a str>,
}

/// Serialises `body` into an item at `key` of the given entity.
pub(super) fn encode(key: &Key, entity: &str, body: &impl Serialize) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(body).map_err(|error| StoreError::Corrupt {
        key: key.to_string(),
        detail: format!("cannot encode the {entity} item: {error}"),
    })?;
    item.extend(key.to_item());
    item.insert(
        keys::ENTITY.to_owned(),
        AttributeValue::S(entity.to_owned()),
    );
    Ok(item)
}

/// Adds the expiry attributes: the TTL in whole seconds, rounded up, and the exact instant.
pub(super) fn with_expiry(mut item: Item, expires_at: DateTime<Utc>) -> Item {
    let millis = expires_at.timestamp_millis();
    let seconds = millis.div_euclid(1000) + i64::from(millis.rem_euclid(1000) > 0);
    item.insert(
        keys::EXPIRES_AT.to_owned(),
        AttributeValue::N(seconds.to_string()),
    );
    item.insert(
        keys::EXPIRES_AT_MS.to_owned(),
        AttributeValue::N(millis.to_string()),
    );
    item
}

/// A digest of the schedule's canonical JSON: its fields, dates and slots are always in one order.
pub(super) fn schedule_digest(schedule: &Schedule) -> Result<String, StoreError> {
    let json = serde_json::to_vec(schedule).map_err(|error| StoreError::Corrupt {
        key: Key::schedule(&schedule.area_id, schedule.stage).to_string(),
        detail: format!("cannot encode the schedule: {error}"),
    })?;
    Ok(hex::encode(Sha256::digest(&json)))
}

/// Decodes an item read from the table; anything that does not decode is `Corrupt`, naming its key.
pub(super) fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    decode_image(serde_dynamo::Item::from(item))
}

fn decode_image<T: DeserializeOwned>(item: serde_dynamo::Item) -> Result<T, StoreError> {
    let key = describe_key(&item);
    serde_dynamo::from_item(item).map_err(|error| StoreError::Corrupt {
        key,
        detail: error.to_string(),
    })
}

fn describe_key(item: &serde_dynamo::Item) -> String {
    let part = |name: &str| match item.get(name) {
        Some(serde_dynamo::AttributeValue::S(value)) => value.clone(),
        _ => format!("<no {name}>"),
    };
    format!("{}/{}", part(keys::PK), part(keys::SK))
}

/// Decodes the new image of a stage item from a DynamoDB stream record.
pub fn stage_from_image(image: serde_dynamo::Item) -> Result<StoredStage, StoreError> {
    decode_image(image)
}

/// Decodes the new image of a schedule item from a DynamoDB stream record.
pub fn schedule_from_image(image: serde_dynamo::Item) -> Result<Schedule, StoreError> {
    decode_image(image)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::Stage;

    fn number(item: &Item, name: &str) -> String {
        match item.get(name) {
            Some(AttributeValue::N(n)) => n.clone(),
            other => panic!("{name} is {other:?}"),
        }
    }

    #[test]
    fn ttl_rounds_up_and_the_exact_instant_is_kept() {
        let at = Utc
            .timestamp_millis_opt(1_800_000_000_250)
            .single()
            .expect("instant");
        let item = with_expiry(Item::new(), at);
        assert_eq!(number(&item, keys::EXPIRES_AT), "1800000001");
        assert_eq!(number(&item, keys::EXPIRES_AT_MS), "1800000000250");
        let whole = Utc
            .timestamp_opt(1_800_000_000, 0)
            .single()
            .expect("instant");
        assert_eq!(
            number(&with_expiry(Item::new(), whole), keys::EXPIRES_AT),
            "1800000000"
        );
    }

    #[test]
    fn stage_items_round_trip_and_bad_ones_name_their_key() {
        let stored = StoredStage {
            stage: Stage::new(6).expect("stage"),
            updated_at: Utc
                .timestamp_opt(1_800_000_000, 0)
                .single()
                .expect("instant"),
            version: 3,
        };
        let mut item = encode(&Key::stage(), keys::entity::STAGE, &stored).expect("encode");
        assert_eq!(
            item.get(keys::ENTITY),
            Some(&AttributeValue::S("stage".into()))
        );
        assert_eq!(decode::<StoredStage>(item.clone()).expect("decode"), stored);
        item.insert("stage".into(), AttributeValue::N("9".into()));
        match decode::<StoredStage>(item) {
            Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "STAGE/NATIONAL"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}
