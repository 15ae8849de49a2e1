//! Seeding a new table with many subscriptions at once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::batch_write::BATCH;
use super::items::{registry_item, subscriber_item, subscription_item};
use crate::domain::{Area, AreaId, ChatId};
use crate::errors::StoreError;

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
            let batch = items.by_ref().take(BATCH).collect();
            self.put_batch(batch, "BatchWriteItem (load subscriptions)")
                .await?;
        }
        Ok(pairs.len())
    }
}
