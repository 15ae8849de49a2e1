//! Subscriptions, kept three ways so that every read is one Query: under the chat (`areas_of`),
//! under the area (`subscribers_of`) and, counted, in the registry (`subscribed_areas`). A
//! transaction changes all three together, so they can never disagree.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue as Sdk, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde_dynamo::AttributeValue;

use super::DynamoStore;
use super::call_errors::{cancelled_by_condition, conditional, store_error};
use super::convert::{to_sdk, value_to_sdk};
use super::items::{
    RegistryBody, SubscriberBody, SubscriptionBody, decode, subscriber_item, subscription_item,
};
use super::keys::{self, Key};
use crate::domain::{Area, AreaId, ChatId};
use crate::errors::StoreError;
use crate::ports::SubscriptionStore;

const SUBSCRIBERS: &str = "subscribers";

/// A transaction item the SDK refused to build: only a missing required field, which is a bug
/// here, never a retry.
fn built<T>(result: Result<T, BuildError>, what: &'static str) -> Result<T, StoreError> {
    result.map_err(|error| StoreError::Invalid(format!("{what}: {error}")))
}

impl DynamoStore {
    /// Runs a transaction whose first item carries the only condition; false when that condition
    /// failed (the subscription already was, or was not, there).
    ///
    /// Idempotent across the SDK's own retries: the SDK gives every TransactWriteItems a
    /// `ClientRequestToken` (a fresh UUID per call, the same on each of its attempts), so a commit
    /// whose answer was lost and is sent again is answered as the first was (success), not
    /// cancelled by its own condition. The token is not derived from the arguments: the ports
    /// carry no request id, and a token of (chat, area) alone would make DynamoDB replay the
    /// first answer, without writing, to a subscribe, unsubscribe and subscribe again within its
    /// ten-minute idempotency window.
    async fn transact_conditionally(
        &self,
        items: Vec<TransactWriteItem>,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                    error.as_service_error()
                    && cancelled_by_condition(cancelled.cancellation_reasons(), 0)
                {
                    return Ok(false);
                }
                Err(store_error(what, error))
            }
        }
    }

    /// Drops the registry item of an area nobody subscribes to any more. Only tidiness:
    /// `subscribed_areas` skips zero counts anyway, so a failure here is logged, not returned.
    async fn forget_area_if_unsubscribed(&self, area: &AreaId) {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Key::registry(area).to_sdk()))
            .condition_expression("#subscribers <= :zero")
            .expression_attribute_names("#subscribers", SUBSCRIBERS)
            .expression_attribute_values(":zero", Sdk::N("0".into()))
            .send()
            .await;
        // A failed condition is an area someone subscribed to meanwhile: kept, rightly.
        if let Err(error) = conditional("DeleteItem (registry)", result) {
            tracing::warn!(%area, %error, "left a zero-count registry item behind");
        }
    }
}

#[async_trait]
impl SubscriptionStore for DynamoStore {
    async fn subscribe(
        &self,
        chat: ChatId,
        area: &Area,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        crate::ports::refuse_oversized(area)?;
        let under_chat = subscription_item(chat, area, at)?;
        let under_area = subscriber_item(chat, &area.id, at)?;
        let registry = Key::registry(&area.id);
        let area_value: AttributeValue =
            serde_dynamo::to_attribute_value(area).map_err(|error| StoreError::Corrupt {
                key: registry.to_string(),
                detail: format!("cannot encode the area: {error}"),
            })?;
        let what = "TransactWriteItems (subscribe)";
        let items = vec![
            TransactWriteItem::builder()
                .put(built(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_sdk(under_chat)))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", keys::PK)
                        .build(),
                    what,
                )?)
                .build(),
            TransactWriteItem::builder()
                .put(built(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_sdk(under_area)))
                        .build(),
                    what,
                )?)
                .build(),
            TransactWriteItem::builder()
                .update(built(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(registry.to_sdk()))
                        // The latest subscription's view of the area wins, e.g. a renamed suburb.
                        .update_expression(
                            "SET #area = :area, #entity = :entity ADD #subscribers :one",
                        )
                        .expression_attribute_names("#area", "area")
                        .expression_attribute_names("#entity", keys::ENTITY)
                        .expression_attribute_names("#subscribers", SUBSCRIBERS)
                        .expression_attribute_values(":area", value_to_sdk(area_value))
                        .expression_attribute_values(
                            ":entity",
                            Sdk::S(keys::entity::AREA.to_owned()),
                        )
                        .expression_attribute_values(":one", Sdk::N("1".into()))
                        .build(),
                    what,
                )?)
                .build(),
        ];
        self.transact_conditionally(items, what).await
    }

    async fn unsubscribe(&self, chat: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        let what = "TransactWriteItems (unsubscribe)";
        let items = vec![
            TransactWriteItem::builder()
                .delete(built(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(Key::subscription(chat, area).to_sdk()))
                        .condition_expression("attribute_exists(#pk)")
                        .expression_attribute_names("#pk", keys::PK)
                        .build(),
                    what,
                )?)
                .build(),
            TransactWriteItem::builder()
                .delete(built(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(Key::subscriber(area, chat).to_sdk()))
                        .build(),
                    what,
                )?)
                .build(),
            TransactWriteItem::builder()
                .update(built(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(Key::registry(area).to_sdk()))
                        .update_expression("ADD #subscribers :minus_one")
                        .expression_attribute_names("#subscribers", SUBSCRIBERS)
                        .expression_attribute_values(":minus_one", Sdk::N("-1".into()))
                        .build(),
                    what,
                )?)
                .build(),
        ];
        let removed = self.transact_conditionally(items, what).await?;
        if removed {
            self.forget_area_if_unsubscribed(area).await;
        }
        Ok(removed)
    }

    async fn areas_of(&self, chat: ChatId) -> Result<Vec<Area>, StoreError> {
        let items = self
            .query_prefix(&keys::chat_pk(chat), keys::prefix::AREA)
            .await?;
        items
            .into_iter()
            .map(|item| decode::<SubscriptionBody>(item).map(|body| body.area))
            .collect()
    }

    async fn subscribers_of(&self, area: &AreaId) -> Result<Vec<ChatId>, StoreError> {
        let items = self
            .query_prefix(&keys::area_pk(area), keys::prefix::CHAT)
            .await?;
        let mut chats = items
            .into_iter()
            .map(|item| decode::<SubscriberBody>(item).map(|body| body.chat))
            .collect::<Result<Vec<_>, _>>()?;
        // Sort keys order chats as text ("CHAT#-5" before "CHAT#-10"); callers get them by number.
        chats.sort_unstable();
        Ok(chats)
    }

    async fn subscribers_page(
        &self,
        area: &AreaId,
        after: Option<ChatId>,
        limit: usize,
    ) -> Result<Vec<ChatId>, StoreError> {
        // In sort key order (chats as text): the cursor is the last chat of the previous page.
        self.subscriber_page(area, after, limit).await
    }

    async fn subscribed_areas(&self) -> Result<Vec<Area>, StoreError> {
        let items = self
            .query_prefix(keys::REGISTRY_PK, keys::prefix::AREA)
            .await?;
        let mut areas = Vec::with_capacity(items.len());
        for item in items {
            let body = decode::<RegistryBody>(item)?;
            // A zero count is an area whose last subscriber left before the tidy-up ran.
            if body.subscribers > 0 {
                areas.push(body.area);
            }
        }
        Ok(areas)
    }

    async fn remove_chat(&self, chat: ChatId) -> Result<usize, StoreError> {
        let items = self
            .query_prefix(&keys::chat_pk(chat), keys::prefix::AREA)
            .await?;
        let mut removed = 0;
        for item in items {
            // Read the area from the key, not the body: a chat with a corrupt subscription item
            // must still be removable.
            let area = match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) => sk.strip_prefix(keys::prefix::AREA).map(AreaId::new),
                _ => None,
            };
            let Some(area) = area else {
                return Err(StoreError::Corrupt {
                    key: keys::chat_pk(chat),
                    detail: format!("a subscription item's {} is not an area key", keys::SK),
                });
            };
            self.drop_channel_link(chat, &area).await?;
            if self.unsubscribe(chat, &area).await? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn move_chat(
        &self,
        from: ChatId,
        to: ChatId,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let areas = self.areas_of(from).await?;
        for area in &areas {
            self.subscribe(to, area, at).await?;
            self.unsubscribe(from, &area.id).await?;
        }
        Ok(areas.len())
    }
}
