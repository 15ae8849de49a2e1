//! The delivery ledger and leases: items that count until they expire.
//!
//! DynamoDB's TTL deletes expired items lazily (often days later), so presence means nothing on its
//! own: reads check `expires_at_ms`, and claims may overwrite an item whose time is up.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::items::{Item, LeaseBody, OWNER, delivery_item, encode, lease_item, with_expiry};
use super::keys::{self, Key};
use super::sdk_errors::{conditional_put, store_error};
use crate::errors::StoreError;
use crate::ports::{Claim, DeliveryKey, DeliveryLedger, Leases};

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
        Self::live_at(key, &item, now)
    }

    /// Deletes the item at `key` if its `attribute` still names `holder`. Someone else's claim, or
    /// none, is nothing of ours to give up: not an error.
    async fn delete_if_held(
        &self,
        key: &Key,
        attribute: &str,
        holder: &str,
        what: &'static str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#holder", attribute)
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(store_error(what, error)),
        }
    }

    fn live_at(key: &Key, item: &Item, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let expires_at_ms = expires_at_ms(item).ok_or_else(|| StoreError::Corrupt {
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
        let ledger_key = Key::delivery(key);
        let Some(item) = self.get_item(&ledger_key).await? else {
            return Ok(false);
        };
        // A claim is not a delivery.
        Ok(!item.contains_key(OWNER) && Self::live_at(&ledger_key, &item, now)?)
    }

    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let item = delivery_item(key, at, expires_at, None)?;
        self.put_unless_live(item, at, "PutItem (delivery)").await
    }

    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let item = delivery_item(key, now, lease_until, Some(owner))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(#pk) OR #expires <= :now OR #owner = :owner",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT_MS)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .send()
            .await;
        if conditional_put("PutItem (delivery claim)", result)? {
            return Ok(Claim::Claimed);
        }
        // Lost the condition: one more read tells a delivery from someone else's live claim. (If
        // that entry expired in between, say it is held until now: the caller tries again later.)
        let ledger_key = Key::delivery(key);
        let Some(item) = self.get_item(&ledger_key).await? else {
            return Ok(Claim::HeldBy {
                owner: String::new(),
                until: now,
            });
        };
        let until = expires_at_ms(&item)
            .and_then(chrono::DateTime::from_timestamp_millis)
            .ok_or_else(|| StoreError::Corrupt {
                key: ledger_key.to_string(),
                detail: format!("{} is missing or not a number", keys::EXPIRES_AT_MS),
            })?;
        Ok(match item.get(OWNER) {
            Some(AttributeValue::S(holder)) => Claim::HeldBy {
                owner: holder.clone(),
                until,
            },
            _ => Claim::Delivered,
        })
    }

    async fn confirm_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item = delivery_item(key, at, expires_at, None)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| store_error("PutItem (delivery)", error))?;
        Ok(())
    }

    async fn release_delivery(&self, key: &DeliveryKey, owner: &str) -> Result<(), StoreError> {
        self.delete_if_held(
            &Key::delivery(key),
            OWNER,
            owner,
            "DeleteItem (delivery claim)",
        )
        .await
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

    async fn try_claim_for(
        &self,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let body = LeaseBody {
            key,
            claimed_at: now,
            holder: Some(holder),
        };
        let item = encode(&Key::lease(key), keys::entity::LEASE, &body)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(with_expiry(item, until)))
            .condition_expression(
                "attribute_not_exists(#pk) OR #expires <= :now OR #holder = :holder",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT_MS)
            .expression_attribute_names("#holder", LEASE_HOLDER)
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()))
            .send()
            .await;
        conditional_put("PutItem (lease)", result)
    }

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        self.delete_if_held(&Key::lease(key), LEASE_HOLDER, holder, "DeleteItem (lease)")
            .await
    }

    async fn is_claimed(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.is_live(&Key::lease(key), now).await
    }

    /// One UpdateItem: `ADD count 1` under the condition that fewer than `limit` were taken.
    async fn try_take(
        &self,
        key: &str,
        limit: u32,
        _now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let item = with_expiry(Item::new(), until);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::lease(key).to_item()))
            .update_expression(
                "SET #entity = :entity, #key = :key, #expires = :expires, #expires_ms = :expires_ms ADD #count :one",
            )
            .condition_expression("attribute_not_exists(#pk) OR #count < :limit")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#entity", keys::ENTITY)
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_names("#expires_ms", keys::EXPIRES_AT_MS)
            .expression_attribute_names("#count", TAKEN)
            .expression_attribute_values(":entity", AttributeValue::S(keys::entity::LEASE.to_owned()))
            .expression_attribute_values(":key", AttributeValue::S(key.to_owned()))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()));
        for (name, placeholder) in [
            (keys::EXPIRES_AT, ":expires"),
            (keys::EXPIRES_AT_MS, ":expires_ms"),
        ] {
            if let Some(value) = item.get(name) {
                update = update.expression_attribute_values(placeholder, value.clone());
            }
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(error) => Err(store_error("UpdateItem (count)", error)),
        }
    }
}

/// The attribute counting the uses taken ([`Leases::try_take`]).
const TAKEN: &str = "taken";

/// The lease attribute naming who holds it ([`LeaseBody::holder`]).
const LEASE_HOLDER: &str = "holder";
