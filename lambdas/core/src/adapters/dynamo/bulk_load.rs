//! Seeding a new table with many subscriptions at once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::DynamoStore;
use super::call_errors::store_error;
use super::items::{registry_item, subscriber_item, subscription_item};
use super::wire;
use crate::domain::{Area, AreaId, ChatId};
use crate::errors::StoreError;

/// DynamoDB's most requests in one BatchWriteItem.
const BATCH: usize = 25;
/// Calls per batch while DynamoDB hands back unprocessed items (throttling), with back-off.
const ATTEMPTS: u32 = 8;

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
                .map(|item| json!({ "PutRequest": { "Item": wire::item(&item) } }))
                .collect();
            self.write_batch(batch).await?;
        }
        Ok(pairs.len())
    }

    /// One BatchWriteItem, repeated for what DynamoDB leaves unprocessed.
    async fn write_batch(&self, mut requests: Vec<Value>) -> Result<(), StoreError> {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50) * 2u32.pow(attempt - 1)).await;
            }
            // BatchWriteItem names its tables inside the request: not `self.call`.
            let input = json!({ "RequestItems": { self.table.as_str(): requests } });
            let mut output = self
                .client
                .call("BatchWriteItem", &input)
                .await
                .map_err(|error| store_error("BatchWriteItem (load subscriptions)", error))?;
            requests = match output
                .pointer_mut(&format!("/UnprocessedItems/{}", pointer_token(&self.table)))
                .map(Value::take)
            {
                Some(Value::Array(left)) => left,
                _ => Vec::new(),
            };
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

/// `name` as one token of a JSON pointer (RFC 6901 escapes `~` and `/`).
fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}
