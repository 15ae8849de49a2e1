//! The store on DynamoDB: one table, string keys `PK` and `SK` with entity prefixes, no index.
//!
//! # Key design
//!
//! | entity (`entity`) | `PK`               | `SK`              | attributes                                         |
//! |-------------------|--------------------|-------------------|----------------------------------------------------|
//! | `stage`           | `STAGE`            | `NATIONAL`        | `stage` N, `version` N, `updated_at` S             |
//! | `stage_refresh`   | `STAGE`            | `REFRESHED`       | `stage` N, `stage_updated_at` S, `refreshed_at` S, `stage_updated_at_ms` N |
//! | `schedule`        | `AREA#<area id>`   | `SCHEDULE#<0..8>` | `area_id`, `stage`, `dates`, `slots`, `digest` S, `updated_at` S |
//! | `subscriber`      | `AREA#<area id>`   | `CHAT#<chat id>`  | `chat` N, `area_id` S, `subscribed_at` S           |
//! | `channel`         | `AREA#<area id>`   | `CHANNEL#<chat>`  | `link` M, `linked_at` S                            |
//! | `subscription`    | `CHAT#<chat id>`   | `AREA#<area id>`  | `chat` N, `area` M, `subscribed_at` S              |
//! | `area`            | `AREAS`            | `AREA#<area id>`  | `area` M, `subscribers` N                          |
//! | `delivery`        | `DELIVERY#<chat>`  | `MSG#<message>`   | `chat`, `message`, `delivered_at`, `owner` (claims only), `expires_at` N, `expires_at_ms` N |
//! | `lease`           | `LEASE#<name>`     | `LEASE`           | `key`, `claimed_at`, `expires_at` N, `expires_at_ms` N |
//!
//! Every access is a GetItem, a Query on one partition, or a conditional write; nothing scans:
//! - the stage is written with `attribute_not_exists(PK)` (first write) or `version = :expected`;
//! - a schedule is written with `attribute_not_exists(PK) OR digest <> :digest` (only a change);
//! - `subscribers_of` queries `AREA#<id>` for `CHAT#`, `areas_of` queries `CHAT#<id>` for `AREA#`;
//! - `channels_of` queries `AREA#<id>` for `CHANNEL#`; `remove_chat` deletes a chat's link to each
//!   of its areas before the subscription, so a retried removal finds what is left;
//! - `subscribed_areas` queries the registry partition `AREAS`: one item per area holding a count
//!   of subscribers. Subscribe and unsubscribe change the chat's item, the area's item and the
//!   count in one transaction, so the three views never disagree. The registry is one partition so
//!   the read is one strongly consistent Query (a GSI would be eventually consistent); subscriptions
//!   change far too rarely for that partition to run hot.
//! - ledger entries and leases are written with `attribute_not_exists(PK) OR expires_at_ms <= :now`
//!   and read as absent once `expires_at_ms` has passed: TTL (on `expires_at`, epoch seconds)
//!   deletes them only eventually. A delivery claim may also overwrite a claim of its own owner
//!   (`owner = :owner`); its confirmation is a plain put; its release deletes with `owner = :owner`.
//! - the stage-refresh marker is written with `attribute_not_exists(PK) OR stage_updated_at_ms < :t`,
//!   so it only moves forward.
//!
//! # Streams
//!
//! The table's stream carries new and old images of every item. Consumers filter on `entity`:
//! `{"dynamodb": {"NewImage": {"entity": {"S": ["stage"]}}}}` feeds the schedule task, and
//! `"schedule"` feeds notify. TTL deletions and other entities (subscriptions, ledger, leases) must
//! be filtered out. [`stage_from_image`] and [`schedule_from_image`] decode the images.
//!
//! # Errors
//!
//! Throttling, timeouts, connection and service errors are `StoreError::Unavailable` (retried by
//! the workflow); an item that does not decode is `StoreError::Corrupt`, naming its `PK/SK`.

mod batch_write;
mod bulk_load;
mod call_errors;
mod channels;
mod client;
mod convert;
mod expiring;
pub mod items;
pub mod keys;
mod paging;
mod schedule;
mod settings;
mod stage;
mod subscriptions;
mod table;

use std::sync::Arc;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue as Sdk;

pub use client::{ClientSettings, client};
pub use items::{
    schedule_from_image, schedule_written_at, stage_from_image, stage_refresh_from_image,
};
pub use table::create_table;

use crate::adapters::aws::SdkConfig;
use crate::errors::StoreError;
use call_errors::store_error;
use items::Item;
use keys::Key;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Arc<aws_sdk_dynamodb::Client>,
    table: String,
    /// `Limit` of each Query page; `None` lets DynamoDB fill pages of up to 1 MB.
    page_limit: Option<u32>,
}

impl DynamoStore {
    /// Makes no network call; the first store call is the first request.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client: Arc::new(client),
            table: table.into(),
            page_limit: None,
        }
    }

    /// Reads Query results `limit` items per page: more round trips, the same results. Tests use
    /// it to cross page boundaries without a megabyte of items.
    pub fn with_page_limit(mut self, limit: u32) -> Self {
        self.page_limit = Some(limit);
        self
    }

    /// A store on `table` on the process's AWS configuration, reached as `settings` say.
    pub fn from_config(
        config: &SdkConfig,
        table: impl Into<String>,
        settings: &ClientSettings,
    ) -> Self {
        DynamoStore::new(client(config, settings), table)
    }

    /// [`DynamoStore::from_config`] on a configuration loaded for this store alone
    /// ([`crate::adapters::aws::load_config`]): tests, benches and tools that need one store.
    pub async fn connect(table: impl Into<String>, settings: &ClientSettings) -> Self {
        let config = crate::adapters::aws::load_config().await;
        DynamoStore::from_config(&config, table, settings)
    }

    /// The SDK client the store sends with (tests read raw items with it).
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A strongly consistent read: the version of the stage guards the next write, and a retried
    /// task must see what its previous attempt wrote.
    async fn get_item(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_sdk()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| store_error("GetItem", error))?;
        match answer.item {
            None => Ok(None),
            Some(item) => convert::from_sdk(item)
                .map(Some)
                .map_err(|detail| corrupt(key.to_string(), detail)),
        }
    }

    /// A consistent Query of partition `pk` for the items whose sort key starts with `prefix`; the
    /// caller sets where to start and how many.
    fn prefix_query(&self, pk: &str, prefix: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", Sdk::S(pk.to_owned()))
            .expression_attribute_values(":prefix", Sdk::S(prefix.to_owned()))
            .consistent_read(true)
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, in sort key order, across
    /// result pages.
    async fn query_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let answer = self
                .prefix_query(pk, prefix)
                .set_exclusive_start_key(start.take())
                .set_limit(
                    self.page_limit
                        .map(|limit| limit.min(i32::MAX as u32) as i32),
                )
                .send()
                .await
                .map_err(|error| store_error("Query", error))?;
            for item in answer.items.unwrap_or_default() {
                items.push(
                    convert::from_sdk(item).map_err(|detail| corrupt(pk.to_owned(), detail))?,
                );
            }
            match answer.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => return Ok(items),
            }
        }
    }
}

/// An answer whose item is not of the types DynamoDB documents: a newer DynamoDB or a bug, never a
/// retry.
fn corrupt(key: String, detail: String) -> StoreError {
    StoreError::Corrupt {
        key,
        detail: format!("DynamoDB answered an unreadable item: {detail}"),
    }
}
