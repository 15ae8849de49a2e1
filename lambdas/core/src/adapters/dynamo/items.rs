//! Items as stored: the domain values serialised with `serde_dynamo`, plus the key, the entity name
//! and, where it applies, the expiry attributes.
//!
//! [`stage_from_image`] and [`schedule_from_image`] decode the new images that DynamoDB Streams
//! deliver, so stream consumers read exactly what this adapter wrote.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_dynamo::AttributeValue;
use sha2::{Digest, Sha256};

use super::keys::{self, Key};
use crate::domain::{Area, AreaId, ChatId, Schedule};
use crate::errors::StoreError;
use crate::ports::{DeliveryKey, StageRefresh, StoredStage};

pub type Item = HashMap<String, AttributeValue>;

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

/// A ledger entry: a claim while `owner` is set, a delivered message once it is not.
#[derive(Debug, Serialize)]
pub(super) struct DeliveryBody<'a> {
    pub chat: ChatId,
    pub message: &'a str,
    pub delivered_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<&'a str>,
}

/// The owner attribute of a claimed ledger entry.
pub(super) const OWNER: &str = "owner";

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

// ------------------------------------------------------------------------------------------------
// Each entity's item exactly as the adapter writes it: shared by the adapter's writes and the
// in-memory store's change feed, so a local stream record carries the same image as DynamoDB's.

pub fn stage_item(stored: &StoredStage) -> Result<Item, StoreError> {
    encode(&Key::stage(), keys::entity::STAGE, stored)
}

/// The stage-refresh marker's `stage_updated_at` in epoch milliseconds: conditions compare
/// numbers, not text.
pub(super) const STAGE_UPDATED_AT_MS: &str = "stage_updated_at_ms";

pub fn stage_refresh_item(marker: &StageRefresh) -> Result<Item, StoreError> {
    let mut item = encode(&Key::stage_refresh(), keys::entity::STAGE_REFRESH, marker)?;
    item.insert(
        STAGE_UPDATED_AT_MS.to_owned(),
        AttributeValue::N(marker.stage_updated_at.timestamp_millis().to_string()),
    );
    Ok(item)
}

/// `digest` is [`schedule_digest`] of `schedule`, which the write's condition also needs.
pub fn schedule_item(
    schedule: &Schedule,
    digest: &str,
    at: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let key = Key::schedule(&schedule.area_id, schedule.stage);
    let mut item = encode(&key, keys::entity::SCHEDULE, schedule)?;
    item.insert(
        SCHEDULE_DIGEST.to_owned(),
        AttributeValue::S(digest.to_owned()),
    );
    item.insert(UPDATED_AT.to_owned(), AttributeValue::S(at.to_rfc3339()));
    Ok(item)
}

pub fn subscription_item(chat: ChatId, area: &Area, at: DateTime<Utc>) -> Result<Item, StoreError> {
    let body = SubscriptionBody {
        chat,
        area: area.clone(),
        subscribed_at: at,
    };
    encode(
        &Key::subscription(chat, &area.id),
        keys::entity::SUBSCRIPTION,
        &body,
    )
}

pub fn subscriber_item(chat: ChatId, area: &AreaId, at: DateTime<Utc>) -> Result<Item, StoreError> {
    let body = SubscriberBody {
        chat,
        area_id: area.clone(),
        subscribed_at: at,
    };
    encode(
        &Key::subscriber(area, chat),
        keys::entity::SUBSCRIBER,
        &body,
    )
}

/// The registry item as the adapter's update expressions leave it.
pub fn registry_item(area: &Area, subscribers: i64) -> Result<Item, StoreError> {
    let body = RegistryBody {
        area: area.clone(),
        subscribers,
    };
    encode(&Key::registry(&area.id), keys::entity::AREA, &body)
}

/// A delivered message (`owner: None`), or a claim on sending it held by `owner` until
/// `expires_at`.
pub fn delivery_item(
    key: &DeliveryKey,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    owner: Option<&str>,
) -> Result<Item, StoreError> {
    let body = DeliveryBody {
        chat: key.chat,
        message: &key.message,
        delivered_at: at,
        owner,
    };
    let item = encode(&Key::delivery(key), keys::entity::DELIVERY, &body)?;
    Ok(with_expiry(item, expires_at))
}

pub fn lease_item(name: &str, at: DateTime<Utc>, until: DateTime<Utc>) -> Result<Item, StoreError> {
    let body = LeaseBody {
        key: name,
        claimed_at: at,
        holder: None,
    };
    let item = encode(&Key::lease(name), keys::entity::LEASE, &body)?;
    Ok(with_expiry(item, until))
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
pub fn schedule_digest(schedule: &Schedule) -> Result<String, StoreError> {
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

/// When a schedule item was written, from its image.
pub fn schedule_written_at(image: serde_dynamo::Item) -> Result<DateTime<Utc>, StoreError> {
    #[derive(Deserialize)]
    struct Written {
        updated_at: DateTime<Utc>,
    }
    decode_image::<Written>(image).map(|w| w.updated_at)
}

/// Decodes the new image of a stage-refresh marker from a DynamoDB stream record.
pub fn stage_refresh_from_image(image: serde_dynamo::Item) -> Result<StageRefresh, StoreError> {
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
        let stored = StoredStage::next(
            &crate::domain::Timelines::national_only(Stage::new(6).expect("stage")),
            None,
            Utc.timestamp_opt(1_800_000_000, 0)
                .single()
                .expect("instant"),
            Some(2),
        );
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
