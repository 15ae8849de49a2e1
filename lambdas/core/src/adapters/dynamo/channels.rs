//! Area channels: one item per channel and area, under the area beside its subscribers, so
//! `channels_of` is one Query. Not on any stream filter (they are allow-lists of entities).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::call_errors::store_error;
use super::convert::to_sdk;
use super::items::{decode, encode};
use super::keys::{self, Key, entity};
use crate::domain::{AreaId, ChannelLink, ChatId};
use crate::errors::StoreError;
use crate::ports::{ChannelStore, refuse_oversized_link};

#[derive(Debug, Serialize, Deserialize)]
struct ChannelBody {
    link: ChannelLink,
    linked_at: DateTime<Utc>,
}

impl DynamoStore {
    /// Deletes the channel's link to `area`, if any; true when there was one.
    pub(super) async fn drop_channel_link(
        &self,
        channel: ChatId,
        area: &AreaId,
    ) -> Result<bool, StoreError> {
        let answer = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Key::channel(area, channel).to_sdk()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|error| store_error("DeleteItem (channel)", error))?;
        Ok(answer.attributes.is_some_and(|old| !old.is_empty()))
    }
}

#[async_trait]
impl ChannelStore for DynamoStore {
    async fn link_channel(
        &self,
        link: &ChannelLink,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        refuse_oversized_link(link)?;
        let key = Key::channel(&link.area, link.channel);
        let body = ChannelBody {
            link: link.clone(),
            linked_at: at,
        };
        let item = encode(&key, entity::CHANNEL, &body)?;
        // A plain put (the latest title and link win); the old image says whether it is new.
        let answer = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(item)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|error| store_error("PutItem (channel)", error))?;
        Ok(answer.attributes.is_none_or(|old| old.is_empty()))
    }

    async fn unlink_channel(&self, channel: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        self.drop_channel_link(channel, area).await
    }

    async fn channels_of(&self, area: &AreaId) -> Result<Vec<ChannelLink>, StoreError> {
        let items = self
            .query_prefix(&keys::area_pk(area), keys::prefix::CHANNEL)
            .await?;
        let mut links = items
            .into_iter()
            .map(|item| decode::<ChannelBody>(item).map(|body| body.link))
            .collect::<Result<Vec<_>, _>>()?;
        // Sort keys order chats as text; callers get them by number.
        links.sort_unstable_by_key(|link| link.channel);
        Ok(links)
    }
}
