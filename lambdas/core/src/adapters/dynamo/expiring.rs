//! The delivery ledger and leases: items that count until they expire.
//!
//! DynamoDB's TTL deletes expired items lazily (often days later), so presence means nothing on its
//! own: reads check `expires_at_ms`, and claims may overwrite an item whose time is up.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::items::{Item, delivery_item, lease_item};
use super::keys::{self, Key};
use super::sdk_errors::conditional_put;
use crate::errors::StoreError;
use crate::ports::{DeliveryKey, DeliveryLedger, Leases};

impl DynamoStore {
    /// Puts `item` unless an unexpired item holds its key at `now`; true when it wrote.
    async fn put_unless_live(
        &self,
        item: Item,
        now: DateTime<Utc>,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT_MS)
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .send()
            .await;
        conditional_put(what, result)
    }

    async fn is_live(&self, key: &Key, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(item) = self.get_item(key).await? else {
            return Ok(false);
        };
        let expires_at_ms = expires_at_ms(&item).ok_or_else(|| StoreError::Corrupt {
            key: key.to_string(),
            detail: format!("{} is missing or not a number", keys::EXPIRES_AT_MS),
        })?;
        Ok(expires_at_ms > now.timestamp_millis())
    }
}

fn expires_at_ms(item: &HashMap<String, AttributeValue>) -> Option<i64> {
    match item.get(keys::EXPIRES_AT_MS) {
        Some(AttributeValue::N(number)) => number.parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl DeliveryLedger for DynamoStore {
    async fn was_delivered(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.is_live(&Key::delivery(key), now).await
    }

    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let item = delivery_item(key, at, expires_at)?;
        self.put_unless_live(item, at, "PutItem (delivery)").await
    }
}

#[async_trait]
impl Leases for DynamoStore {
    async fn try_claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let item = lease_item(key, now, until)?;
        self.put_unless_live(item, now, "PutItem (lease)").await
    }
}
