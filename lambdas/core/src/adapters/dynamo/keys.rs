//! Key layout of the one table: partition (`PK`) and sort (`SK`) keys, entity names and attribute
//! names. The infrastructure filters DynamoDB Streams on these, so they are an API: change one only
//! together with `infra/`.

use std::collections::HashMap;
use std::fmt;

use serde_dynamo::AttributeValue;

use crate::domain::{AreaId, ChatId, Stage};
use crate::ports::DeliveryKey;

/// Partition key attribute (string).
pub const PK: &str = "PK";
/// Sort key attribute (string).
pub const SK: &str = "SK";
/// What an item is, on every item, so stream filters can match on it.
pub const ENTITY: &str = "entity";
/// Epoch seconds after which DynamoDB may delete the item (the table's TTL attribute). Rounded up,
/// so an item is never deleted before it expires.
pub const EXPIRES_AT: &str = "expires_at";
/// Epoch milliseconds at which the item stops counting. TTL deletion lags by up to days, so reads
/// and conditional writes compare this, not the presence of the item.
pub const EXPIRES_AT_MS: &str = "expires_at_ms";

/// Values of the [`ENTITY`] attribute.
pub mod entity {
    /// The national stage. Its changes feed the schedule task.
    pub const STAGE: &str = "stage";
    /// The marker that the schedules were refreshed after a stage change. Its changes feed notify,
    /// which announces the stage change.
    pub const STAGE_REFRESH: &str = "stage_refresh";
    /// One area's schedule at one stage. Its changes feed the notify task.
    pub const SCHEDULE: &str = "schedule";
    /// A chat's subscription to an area, kept under the chat (`areas_of`).
    pub const SUBSCRIPTION: &str = "subscription";
    /// The same subscription kept under the area (`subscribers_of`).
    pub const SUBSCRIBER: &str = "subscriber";
    /// An area with subscribers, in the registry (`subscribed_areas`).
    pub const AREA: &str = "area";
    /// A delivery ledger entry.
    pub const DELIVERY: &str = "delivery";
    /// A lease (cooldown, handled update).
    pub const LEASE: &str = "lease";
    /// A chat's settings (`/settings`), under the chat beside its subscriptions.
    pub const CHAT_SETTINGS: &str = "chat_settings";
    /// A channel linked to an area (`/channel`), under the area beside its subscribers.
    pub const CHANNEL: &str = "channel";
}

/// Key prefixes: every key starts with its entity's prefix, so entities never collide.
pub mod prefix {
    pub const AREA: &str = "AREA#";
    pub const CHAT: &str = "CHAT#";
    /// Not a prefix of `CHAT#`, so `subscribers_of` never reads a channel link as a subscriber.
    pub const CHANNEL: &str = "CHANNEL#";
    pub const SCHEDULE: &str = "SCHEDULE#";
    pub const DELIVERY: &str = "DELIVERY#";
    pub const MESSAGE: &str = "MSG#";
    pub const LEASE: &str = "LEASE#";
}

/// Sort key of a chat's settings item.
pub const CHAT_SETTINGS_SK: &str = "SETTINGS";
/// Partition of the single national stage item.
pub const STAGE_PK: &str = "STAGE";
pub const STAGE_SK: &str = "NATIONAL";
/// Sort key of the stage-refresh marker, beside the stage in its partition.
pub const STAGE_REFRESH_SK: &str = "REFRESHED";
/// Partition of the registry of subscribed areas. All of it in one partition is what makes
/// `subscribed_areas` one strongly consistent Query; subscriptions change far too rarely to make
/// it a hot partition.
pub const REGISTRY_PK: &str = "AREAS";
/// Sort key of every lease item (leases have one item per partition).
pub const LEASE_SK: &str = "LEASE";

/// The primary key of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn stage() -> Self {
        Key::new(STAGE_PK, STAGE_SK)
    }

    pub fn stage_refresh() -> Self {
        Key::new(STAGE_PK, STAGE_REFRESH_SK)
    }

    pub fn schedule(area: &AreaId, stage: Stage) -> Self {
        Key::new(
            area_pk(area),
            format!("{}{}", prefix::SCHEDULE, stage.number()),
        )
    }

    /// The subscription as seen from the chat.
    /// Under the chat's partition, beside its subscriptions (which `areas_of` reads by their
    /// `AREA#` prefix, so this item is never mistaken for one).
    pub fn chat_settings(chat: ChatId) -> Self {
        Key::new(chat_pk(chat), CHAT_SETTINGS_SK)
    }

    pub fn subscription(chat: ChatId, area: &AreaId) -> Self {
        Key::new(chat_pk(chat), format!("{}{area}", prefix::AREA))
    }

    /// The subscription as seen from the area.
    pub fn subscriber(area: &AreaId, chat: ChatId) -> Self {
        Key::new(area_pk(area), format!("{}{chat}", prefix::CHAT))
    }

    /// A channel linked to the area, under the area (`channels_of`).
    pub fn channel(area: &AreaId, channel: ChatId) -> Self {
        Key::new(area_pk(area), format!("{}{channel}", prefix::CHANNEL))
    }

    pub fn registry(area: &AreaId) -> Self {
        Key::new(REGISTRY_PK, format!("{}{area}", prefix::AREA))
    }

    pub fn delivery(key: &DeliveryKey) -> Self {
        Key::new(
            format!("{}{}", prefix::DELIVERY, key.chat),
            format!("{}{}", prefix::MESSAGE, key.message),
        )
    }

    pub fn lease(name: &str) -> Self {
        Key::new(format!("{}{name}", prefix::LEASE), LEASE_SK)
    }

    fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key as the attributes of an item (a request's `Key`, or part of an `Item`).
    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    /// The key as a request's `Key`, in the SDK's types.
    pub fn to_sdk(&self) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
        super::convert::to_sdk(self.to_item())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.pk, self.sk)
    }
}

pub fn area_pk(area: &AreaId) -> String {
    format!("{}{area}", prefix::AREA)
}

pub fn chat_pk(chat: ChatId) -> String {
    format!("{}{chat}", prefix::CHAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_their_entity_prefix() {
        let area = AreaId::new("eskom:64106");
        let stage = Stage::new(4).expect("stage");
        assert_eq!(Key::stage().to_string(), "STAGE/NATIONAL");
        assert_eq!(
            Key::schedule(&area, stage).to_string(),
            "AREA#eskom:64106/SCHEDULE#4"
        );
        assert_eq!(
            Key::subscription(ChatId(-100), &area).to_string(),
            "CHAT#-100/AREA#eskom:64106"
        );
        assert_eq!(
            Key::subscriber(&area, ChatId(-100)).to_string(),
            "AREA#eskom:64106/CHAT#-100"
        );
        assert_eq!(Key::registry(&area).to_string(), "AREAS/AREA#eskom:64106");
        assert_eq!(
            Key::channel(&area, ChatId(-1001)).to_string(),
            "AREA#eskom:64106/CHANNEL#-1001"
        );
        assert!(!prefix::CHANNEL.starts_with(prefix::CHAT));
        let delivery = DeliveryKey {
            chat: ChatId(42),
            message: "stage:6@2026-12-01T10:00Z".into(),
        };
        assert_eq!(
            Key::delivery(&delivery).to_string(),
            "DELIVERY#42/MSG#stage:6@2026-12-01T10:00Z"
        );
        assert_eq!(
            Key::lease("refresh:42").to_string(),
            "LEASE#refresh:42/LEASE"
        );
    }
}
