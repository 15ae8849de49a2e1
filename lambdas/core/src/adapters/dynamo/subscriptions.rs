//! Subscriptions, kept three ways so that every read is one Query: under the chat (`areas_of`),
//! under the area (`subscribers_of`) and, counted, in the registry (`subscribed_areas`). A
//! transaction changes all three together, so they can never disagree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_dynamo::AttributeValue;
use serde_json::{Value, json};

use super::DynamoStore;
use super::call_errors::{cancelled_by_condition, conditional, store_error};
use super::items::{
    RegistryBody, SubscriberBody, SubscriptionBody, decode, subscriber_item, subscription_item,
};
use super::keys::{self, Key};
use super::wire;
use crate::domain::{Area, AreaId, ChatId};
use crate::errors::StoreError;
use crate::ports::SubscriptionStore;

const SUBSCRIBERS: &str = "subscribers";

impl DynamoStore {
    /// Runs a transaction whose first item carries the only condition; false when that condition
    /// failed (the subscription already was, or was not, there). Each item names its table, so
    /// not `self.call`.
    async fn transact_conditionally(
        &self,
        items: Vec<Value>,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        let input = json!({ "TransactItems": items });
        match self.client.call("TransactWriteItems", &input).await {
            Ok(_) => Ok(true),
            Err(error) if cancelled_by_condition(&error, 0) => Ok(false),
            Err(error) => Err(store_error(what, error)),
        }
    }

    /// Drops the registry item of an area nobody subscribes to any more. Only tidiness:
    /// `subscribed_areas` skips zero counts anyway, so a failure here is logged, not returned.
    async fn forget_area_if_unsubscribed(&self, area: &AreaId) {
        let input = json!({
            "Key": wire::item(&Key::registry(area).to_item()),
            "ConditionExpression": "#subscribers <= :zero",
            "ExpressionAttributeNames": wire::names(&[("#subscribers", SUBSCRIBERS)]),
            "ExpressionAttributeValues": wire::values(&[(":zero", AttributeValue::N("0".into()))]),
        });
        // A failed condition is an area someone subscribed to meanwhile: kept, rightly.
        if let Err(error) = conditional(
            "DeleteItem (registry)",
            self.call("DeleteItem", input).await,
        ) {
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
        let items = vec![
            json!({ "Put": {
                "TableName": self.table,
                "Item": wire::item(&under_chat),
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": wire::names(&[("#pk", keys::PK)]),
            }}),
            json!({ "Put": { "TableName": self.table, "Item": wire::item(&under_area) } }),
            json!({ "Update": {
                "TableName": self.table,
                "Key": wire::item(&registry.to_item()),
                // The latest subscription's view of the area wins, e.g. a renamed suburb.
                "UpdateExpression": "SET #area = :area, #entity = :entity ADD #subscribers :one",
                "ExpressionAttributeNames": wire::names(&[
                    ("#area", "area"),
                    ("#entity", keys::ENTITY),
                    ("#subscribers", SUBSCRIBERS),
                ]),
                "ExpressionAttributeValues": wire::values(&[
                    (":area", area_value),
                    (":entity", AttributeValue::S(keys::entity::AREA.to_owned())),
                    (":one", AttributeValue::N("1".into())),
                ]),
            }}),
        ];
        self.transact_conditionally(items, "TransactWriteItems (subscribe)")
            .await
    }

    async fn unsubscribe(&self, chat: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        let items = vec![
            json!({ "Delete": {
                "TableName": self.table,
                "Key": wire::item(&Key::subscription(chat, area).to_item()),
                "ConditionExpression": "attribute_exists(#pk)",
                "ExpressionAttributeNames": wire::names(&[("#pk", keys::PK)]),
            }}),
            json!({ "Delete": {
                "TableName": self.table,
                "Key": wire::item(&Key::subscriber(area, chat).to_item()),
            }}),
            json!({ "Update": {
                "TableName": self.table,
                "Key": wire::item(&Key::registry(area).to_item()),
                "UpdateExpression": "ADD #subscribers :minus_one",
                "ExpressionAttributeNames": wire::names(&[("#subscribers", SUBSCRIBERS)]),
                "ExpressionAttributeValues":
                    wire::values(&[(":minus_one", AttributeValue::N("-1".into()))]),
            }}),
        ];
        let removed = self
            .transact_conditionally(items, "TransactWriteItems (unsubscribe)")
            .await?;
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
