//! One page of an area's subscribers: a Query of the area's partition for `CHAT#` items, `Limit`
//! items from the item after the cursor (`ExclusiveStartKey`). Kept apart from `query_prefix`,
//! which reads every page, because a broadcast to 100,000 chats plans page by page.

use serde_dynamo::AttributeValue;
use serde_json::{Value, json};

use super::call_errors::store_error;
use super::items::{SubscriberBody, decode};
use super::keys::{self, Key};
use super::{DynamoStore, corrupt, wire};
use crate::domain::{AreaId, ChatId};
use crate::errors::StoreError;

impl DynamoStore {
    /// Up to `limit` subscribers of `area` after `after`, in sort key order (chats as text). A
    /// Query page may come back short of `limit` with more to read (1 MB, or items filtered): it
    /// is read on until the page is full or the partition ends, so only a short page is the last.
    pub(super) async fn subscriber_page(
        &self,
        area: &AreaId,
        after: Option<ChatId>,
        limit: usize,
    ) -> Result<Vec<ChatId>, StoreError> {
        let pk = keys::area_pk(area);
        let mut chats = Vec::new();
        let mut start: Option<Value> =
            after.map(|chat| wire::item(&Key::subscriber(area, chat).to_item()));
        while chats.len() < limit {
            let want = limit - chats.len();
            let mut input = json!({
                "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
                "ExpressionAttributeNames": wire::names(&[("#pk", keys::PK), ("#sk", keys::SK)]),
                "ExpressionAttributeValues": wire::values(&[
                    (":pk", AttributeValue::S(pk.clone())),
                    (":prefix", AttributeValue::S(keys::prefix::CHAT.to_owned())),
                ]),
                "ConsistentRead": true,
                "Limit": want.min(1000),
            });
            if let Some(start) = start.take() {
                input["ExclusiveStartKey"] = start;
            }
            let mut answer = self
                .call("Query", input)
                .await
                .map_err(|error| store_error("Query (subscriber page)", error))?;
            let items = answer
                .get("Items")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for item in items {
                let item = wire::parse_item(item).map_err(|detail| corrupt(pk.clone(), detail))?;
                chats.push(decode::<SubscriberBody>(item)?.chat);
            }
            match answer.get_mut("LastEvaluatedKey").map(Value::take) {
                Some(next @ Value::Object(_)) => start = Some(next),
                _ => break,
            }
        }
        Ok(chats)
    }
}
