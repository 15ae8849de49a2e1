//! A chat's settings: one item under the chat, written whole (last write wins).

use super::DynamoStore;
use super::call_errors::store_error;
use super::convert::to_sdk;
use super::items::{decode, encode};
use super::keys::{Key, entity};
use crate::domain::{ChatId, ChatSettings};
use crate::errors::StoreError;
use crate::ports::ChatSettingsStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct SettingsBody {
    chat: ChatId,
    settings: ChatSettings,
    updated_at: DateTime<Utc>,
}

#[async_trait]
impl ChatSettingsStore for DynamoStore {
    async fn chat_settings(&self, chat: ChatId) -> Result<ChatSettings, StoreError> {
        Ok(self
            .get_item(&Key::chat_settings(chat))
            .await?
            .map(decode::<SettingsBody>)
            .transpose()?
            .map(|body| body.settings)
            .unwrap_or_default())
    }

    async fn put_chat_settings(
        &self,
        chat: ChatId,
        settings: &ChatSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let body = SettingsBody {
            chat,
            settings: *settings,
            updated_at: at,
        };
        let item = encode(&Key::chat_settings(chat), entity::CHAT_SETTINGS, &body)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(item)))
            .send()
            .await
            .map(drop)
            .map_err(|error| store_error("PutItem (chat settings)", error))
    }
}
