//! One page of an area's subscribers: a Query of the area's partition for `CHAT#` items, `Limit`
//! items from the item after the cursor (`ExclusiveStartKey`). Kept apart from `query_prefix`,
//! which reads every page, because a broadcast to 100,000 chats plans page by page.

use super::call_errors::store_error;
use super::items::{SubscriberBody, decode};
use super::keys::{self, Key};
use super::{DynamoStore, convert, corrupt};
use crate::domain::{AreaId, ChatId};
use crate::errors::StoreError;

/// DynamoDB's Query reads at most 1 MB a page whatever `Limit` says; a larger `Limit` buys nothing.
const MOST_PER_QUERY: usize = 1000;

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
        let mut start = after.map(|chat| Key::subscriber(area, chat).to_sdk());
        while chats.len() < limit {
            let want = (limit - chats.len()).min(MOST_PER_QUERY);
            let answer = self
                .prefix_query(&pk, keys::prefix::CHAT)
                .set_exclusive_start_key(start.take())
                // `want` is at most MOST_PER_QUERY, well inside an i32.
                .limit(want as i32)
                .send()
                .await
                .map_err(|error| store_error("Query (subscriber page)", error))?;
            for item in answer.items.unwrap_or_default() {
                let item = convert::from_sdk(item).map_err(|detail| corrupt(pk.clone(), detail))?;
                chats.push(decode::<SubscriberBody>(item)?.chat);
            }
            match answer.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => break,
            }
        }
        Ok(chats)
    }
}
