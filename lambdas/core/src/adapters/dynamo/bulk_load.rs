//! Seeding a new table with many subscriptions at once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::call_errors::store_error;
use super::convert::to_sdk;
use super::items::{registry_item, subscriber_item, subscription_item};
use crate::backoff::Backoff;
use crate::domain::{Area, AreaId, ChatId};
use crate::errors::StoreError;

/// DynamoDB's most requests in one BatchWriteItem.
const BATCH: usize = 25;
/// Calls per batch while DynamoDB hands back unprocessed items (throttling), with back-off.
const ATTEMPTS: u32 = 8;
/// Between those calls: unprocessed items are throttling, which passes in milliseconds.
const BACKOFF: Backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));

impl DynamoStore {
    /// Writes `subscriptions` into a table that nobody else writes yet (a new deployment seeded from
    /// a snapshot, a benchmark): the same items `subscribe` keeps, under the chat, under the area
    /// and counted in the registry, but in BatchWriteItem calls of 25, without conditions or
    /// transactions. `subscribe` is one transaction per subscription, a round trip each, and moto
    /// copies the whole table for every transaction: seeding 1,000 chats that way takes it most of
    /// half an hour. The registry's counts come from the input (a pair given twice counts once)
    /// and overwrite what is stored, so this is never for a live table. Returns how many distinct
    /// subscriptions it wrote.
    pub async fn load_subscriptions(
        &self,
        subscriptions: &[(ChatId, Area)],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut pairs: BTreeSet<(ChatId, &AreaId)> = BTreeSet::new();
        let mut areas: BTreeMap<&AreaId, (&Area, i64)> = BTreeMap::new();
        let mut items = Vec::new();
        for (chat, area) in subscriptions {
            crate::ports::refuse_oversized(area)?;
            if !pairs.insert((*chat, &area.id)) {
                continue;
            }
            items.push(subscription_item(*chat, area, at)?);
            items.push(subscriber_item(*chat, &area.id, at)?);
            // The last view of an area wins, as with `subscribe`.
            let entry = areas.entry(&area.id).or_insert((area, 0));
            entry.0 = area;
            entry.1 += 1;
        }
        for (area, count) in areas.values() {
            items.push(registry_item(area, *count)?);
        }
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let batch = items
                .by_ref()
                .take(BATCH)
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(to_sdk(item)))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                        .map_err(|error| StoreError::Invalid(format!("PutRequest: {error}")))
                })
                .collect::<Result<_, _>>()?;
            self.write_batch(batch).await?;
        }
        Ok(pairs.len())
    }

    /// One BatchWriteItem, repeated for what DynamoDB leaves unprocessed.
    async fn write_batch(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(BACKOFF.pause(attempt)).await;
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(self.table.as_str(), requests)
                .send()
                .await
                .map_err(|error| store_error("BatchWriteItem (load subscriptions)", error))?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(self.table.as_str()))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(format!(
            "BatchWriteItem (load subscriptions): {} items still unprocessed after {ATTEMPTS} calls",
            requests.len()
        )))
    }
}
