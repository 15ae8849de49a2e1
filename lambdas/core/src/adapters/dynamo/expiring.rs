//! The delivery ledger and leases: items that count until they expire.
//!
//! DynamoDB's TTL deletes expired items lazily (often days later), so presence means nothing on its
//! own: reads check `expires_at_ms`, and claims may overwrite an item whose time is up.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue as Sdk;
use chrono::{DateTime, Utc};
use serde_dynamo::AttributeValue;

use super::DynamoStore;
use super::batch_write::BATCH;
use super::call_errors::{conditional, store_error};
use super::convert::{to_sdk, value_to_sdk};
use super::items::{Item, LeaseBody, OWNER, delivery_item, encode, lease_item, with_expiry};
use super::keys::{self, Key};
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
            .set_item(Some(to_sdk(item)))
            .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT_MS)
            .expression_attribute_values(":now", millis(now))
            .send()
            .await;
        conditional(what, result)
    }

    /// Puts `item` unless an unexpired item holds its key at `now` that the attribute `name` does
    /// not say is `holder`'s: a claim may be taken over once expired, or renewed by its holder.
    /// True when it wrote.
    async fn put_unless_held_by_another(
        &self,
        item: Item,
        now: DateTime<Utc>,
        (name, holder): (&str, &str),
        what: &'static str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(item)))
            .condition_expression(
                "attribute_not_exists(#pk) OR #expires <= :now OR #holder = :holder",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT_MS)
            .expression_attribute_names("#holder", name)
            .expression_attribute_values(":now", millis(now))
            .expression_attribute_values(":holder", Sdk::S(holder.to_owned()))
            .send()
            .await;
        conditional(what, result)
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
            .set_key(Some(key.to_sdk()))
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#holder", attribute)
            .expression_attribute_values(":holder", Sdk::S(holder.to_owned()))
            .send()
            .await;
        // Deleted, or the condition failed: either way the claim is not ours any more.
        conditional(what, result).map(|_| ())
    }

    fn live_at(key: &Key, item: &Item, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let expires_at_ms = expires_at_ms(item).ok_or_else(|| StoreError::Corrupt {
            key: key.to_string(),
            detail: format!("{} is missing or not a number", keys::EXPIRES_AT_MS),
        })?;
        Ok(expires_at_ms > now.timestamp_millis())
    }
}

/// An instant as a number attribute of epoch milliseconds, as conditions compare them.
fn millis(at: DateTime<Utc>) -> Sdk {
    Sdk::N(at.timestamp_millis().to_string())
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
        let claimed = self
            .put_unless_held_by_another(item, now, (OWNER, owner), "PutItem (delivery claim)")
            .await?;
        if claimed {
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
            .set_item(Some(to_sdk(item)))
            .send()
            .await
            .map_err(|error| store_error("PutItem (delivery)", error))?;
        Ok(())
    }

    /// The delivered entries in BatchWriteItem calls of 25 (unconditional puts, as
    /// `confirm_delivery` writes them), sent at once: a BatchWriteItem costs the same write units
    /// as its puts, in one round trip instead of 25. A key given twice is written once (DynamoDB
    /// refuses a batch naming a key twice).
    async fn confirm_deliveries(
        &self,
        keys: &[DeliveryKey],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let distinct: BTreeSet<&DeliveryKey> = keys.iter().collect();
        let items = distinct
            .into_iter()
            .map(|key| delivery_item(key, at, expires_at, None))
            .collect::<Result<Vec<_>, _>>()?;
        let mut batches = Vec::with_capacity(items.len().div_ceil(BATCH));
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            batches.push(items.by_ref().take(BATCH).collect::<Vec<_>>());
        }
        futures::future::try_join_all(
            batches
                .into_iter()
                .map(|batch| self.put_batch(batch, "BatchWriteItem (deliveries)")),
        )
        .await?;
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
        self.put_unless_held_by_another(
            with_expiry(item, until),
            now,
            (LEASE_HOLDER, holder),
            "PutItem (lease)",
        )
        .await
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
        let expiry = with_expiry(Item::new(), until);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::lease(key).to_sdk()))
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
            .expression_attribute_values(":entity", Sdk::S(keys::entity::LEASE.to_owned()))
            .expression_attribute_values(":key", Sdk::S(key.to_owned()))
            .expression_attribute_values(":one", Sdk::N("1".to_owned()))
            .expression_attribute_values(":limit", Sdk::N(limit.to_string()));
        for (name, placeholder) in [
            (keys::EXPIRES_AT, ":expires"),
            (keys::EXPIRES_AT_MS, ":expires_ms"),
        ] {
            if let Some(value) = expiry.get(name) {
                update =
                    update.expression_attribute_values(placeholder, value_to_sdk(value.clone()));
            }
        }
        conditional("UpdateItem (count)", update.send().await)
    }
}

/// The attribute counting the uses taken ([`Leases::try_take`]).
const TAKEN: &str = "taken";

/// The lease attribute naming who holds it ([`LeaseBody::holder`]).
const LEASE_HOLDER: &str = "holder";
