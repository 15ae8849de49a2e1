//! Subscriptions (readable by chat and by area), area channels and each chat's settings.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loadshed_core::domain::{Area, AreaId, ChannelLink, ChatId, ChatSettings};
use loadshed_core::errors::StoreError;
use loadshed_core::ports::{
    ChannelStore, ChatSettingsStore, SubscriptionStore, refuse_oversized, refuse_oversized_link,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::codec::{from_json, instant, parse_instant, to_json, unavailable};
use crate::feed::{Touched, Tx};

/// A subscription as stored: the area as given when subscribing, and when.
type Row = (Area, DateTime<Utc>);

fn decode(chat: i64, area_id: &str, area: &str, at: &str) -> Result<Row, StoreError> {
    let key = format!("subscription {chat} {area_id}");
    Ok((from_json(area, &key)?, parse_instant(at, &key)?))
}

pub(crate) fn row(
    connection: &Connection,
    chat: ChatId,
    area: &AreaId,
) -> Result<Option<Row>, StoreError> {
    let found: Option<(String, String)> = connection
        .query_row(
            "SELECT area, subscribed_at FROM subscriptions WHERE chat = ?1 AND area_id = ?2",
            params![chat.0, area.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(unavailable)?;
    found
        .map(|(json, at)| decode(chat.0, area.as_str(), &json, &at))
        .transpose()
}

/// Every subscription matching `filter` (an SQL condition on `chat` and `area_id`), in
/// (chat, area) order, as the in-memory store iterates them.
fn rows(
    connection: &Connection,
    filter: &str,
    values: impl rusqlite::Params,
) -> Result<Vec<(ChatId, Row)>, StoreError> {
    let sql = format!(
        "SELECT chat, area_id, area, subscribed_at FROM subscriptions WHERE {filter} ORDER BY chat, area_id"
    );
    let mut statement = connection.prepare(&sql).map_err(unavailable)?;
    let found = statement
        .query_map(values, |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .map_err(unavailable)?;
    let mut rows = Vec::new();
    for found in found {
        let (chat, area_id, area, at) = found.map_err(unavailable)?;
        rows.push((ChatId(chat), decode(chat, &area_id, &area, &at)?));
    }
    Ok(rows)
}

/// The registry item's content: the area as its latest subscription gives it (the first of equal
/// times, in chat order) and how many chats follow it; none once nobody does.
pub(crate) fn registry(
    connection: &Connection,
    area: &AreaId,
) -> Result<Option<(Area, i64)>, StoreError> {
    let rows = rows(connection, "area_id = ?1", [area.as_str()])?;
    let count = rows.len() as i64;
    Ok(latest(rows.into_iter().map(|(_, row)| row)).map(|area| (area, count)))
}

fn latest(rows: impl Iterator<Item = Row>) -> Option<Area> {
    let mut latest: Option<Row> = None;
    for row in rows {
        if latest.as_ref().is_none_or(|(_, at)| row.1 > *at) {
            latest = Some(row);
        }
    }
    latest.map(|(area, _)| area)
}

fn areas_of(connection: &Connection, chat: ChatId) -> Result<Vec<Area>, StoreError> {
    Ok(rows(connection, "chat = ?1", [chat.0])?
        .into_iter()
        .map(|(_, (area, _))| area)
        .collect())
}

/// Subscribes within a write; true when new.
fn subscribe_in(
    tx: &mut Tx<'_>,
    chat: ChatId,
    area: &Area,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    tx.touch(Touched::Subscription(chat, area.id.clone()))?;
    let json = to_json(area, &format!("subscription {chat} {}", area.id))?;
    let inserted = tx
        .connection()
        .execute(
            "INSERT INTO subscriptions (chat, area_id, area, subscribed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (chat, area_id) DO NOTHING",
            params![chat.0, area.id.as_str(), json, instant(at)],
        )
        .map_err(unavailable)?;
    Ok(inserted == 1)
}

fn delete(tx: &Tx<'_>, chat: ChatId, area: &AreaId) -> Result<bool, StoreError> {
    tx.connection()
        .execute(
            "DELETE FROM subscriptions WHERE chat = ?1 AND area_id = ?2",
            params![chat.0, area.as_str()],
        )
        .map(|deleted| deleted == 1)
        .map_err(unavailable)
}

#[async_trait]
impl SubscriptionStore for SqliteStore {
    async fn subscribe(
        &self,
        chat: ChatId,
        area: &Area,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        refuse_oversized(area)?;
        let area = area.clone();
        self.write(move |tx| subscribe_in(tx, chat, &area, at))
            .await
    }

    async fn unsubscribe(&self, chat: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        let area = area.clone();
        self.write(move |tx| {
            tx.touch(Touched::Subscription(chat, area.clone()))?;
            delete(tx, chat, &area)
        })
        .await
    }

    async fn areas_of(&self, chat: ChatId) -> Result<Vec<Area>, StoreError> {
        self.read(move |connection| areas_of(connection, chat))
            .await
    }

    async fn subscribers_of(&self, area: &AreaId) -> Result<Vec<ChatId>, StoreError> {
        let area = area.clone();
        self.read(move |connection| {
            Ok(rows(connection, "area_id = ?1", [area.as_str()])?
                .into_iter()
                .map(|(chat, _)| chat)
                .collect())
        })
        .await
    }

    async fn subscribers_page(
        &self,
        area: &AreaId,
        after: Option<ChatId>,
        limit: usize,
    ) -> Result<Vec<ChatId>, StoreError> {
        let area = area.clone();
        let after = after.map_or(i64::MIN, |chat| chat.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |connection| {
            let mut statement = connection
                .prepare(
                    "SELECT chat FROM subscriptions WHERE area_id = ?1 AND chat > ?2 \
                     ORDER BY chat LIMIT ?3",
                )
                .map_err(unavailable)?;
            let chats = statement
                .query_map(rusqlite::params![area.as_str(), after, limit], |row| {
                    row.get::<_, i64>(0)
                })
                .map_err(unavailable)?;
            let mut page = Vec::new();
            for chat in chats {
                page.push(ChatId(chat.map_err(unavailable)?));
            }
            Ok(page)
        })
        .await
    }

    async fn subscribed_areas(&self) -> Result<Vec<Area>, StoreError> {
        self.read(|connection| {
            let mut by_area: std::collections::BTreeMap<AreaId, Vec<Row>> = Default::default();
            for (_, row) in rows(connection, "1", [])? {
                by_area.entry(row.0.id.clone()).or_default().push(row);
            }
            Ok(by_area
                .into_values()
                .filter_map(|rows| latest(rows.into_iter()))
                .collect())
        })
        .await
    }

    async fn remove_chat(&self, chat: ChatId) -> Result<usize, StoreError> {
        self.write(move |tx| {
            let areas = areas_of(tx.connection(), chat)?;
            for area in &areas {
                tx.touch(Touched::Subscription(chat, area.id.clone()))?;
            }
            // Links are not on the stream (as in memory): dropped in the same transaction.
            tx.connection()
                .execute("DELETE FROM channels WHERE channel = ?1", [chat.0])
                .map_err(unavailable)?;
            for area in &areas {
                delete(tx, chat, &area.id)?;
            }
            Ok(areas.len())
        })
        .await
    }

    async fn move_chat(
        &self,
        from: ChatId,
        to: ChatId,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        self.write(move |tx| {
            let areas = areas_of(tx.connection(), from)?;
            for area in &areas {
                tx.touch(Touched::Subscription(from, area.id.clone()))?;
                subscribe_in(tx, to, area, at)?;
                delete(tx, from, &area.id)?;
            }
            Ok(areas.len())
        })
        .await
    }
}

/// Not a change any stream consumer reacts to: nothing touched, no record (as in memory).
#[async_trait]
impl ChannelStore for SqliteStore {
    async fn link_channel(
        &self,
        link: &ChannelLink,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        refuse_oversized_link(link)?;
        let key = format!("channel {} {}", link.area, link.channel);
        let json = to_json(link, &key)?;
        let (area, channel) = (link.area.clone(), link.channel);
        self.write(move |tx| {
            let connection = tx.connection();
            let known: Option<i64> = connection
                .query_row(
                    "SELECT channel FROM channels WHERE area_id = ?1 AND channel = ?2",
                    params![area.as_str(), channel.0],
                    |row| row.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            connection
                .execute(
                    "INSERT INTO channels (area_id, channel, link, linked_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (area_id, channel) DO UPDATE
                     SET link = excluded.link, linked_at = excluded.linked_at",
                    params![area.as_str(), channel.0, json, instant(at)],
                )
                .map_err(unavailable)?;
            Ok(known.is_none())
        })
        .await
    }

    async fn unlink_channel(&self, channel: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        let area = area.clone();
        self.write(move |tx| {
            tx.connection()
                .execute(
                    "DELETE FROM channels WHERE area_id = ?1 AND channel = ?2",
                    params![area.as_str(), channel.0],
                )
                .map(|deleted| deleted > 0)
                .map_err(unavailable)
        })
        .await
    }

    async fn channels_of(&self, area: &AreaId) -> Result<Vec<ChannelLink>, StoreError> {
        let area = area.clone();
        self.read(move |connection| {
            let mut statement = connection
                .prepare("SELECT channel, link FROM channels WHERE area_id = ?1 ORDER BY channel")
                .map_err(unavailable)?;
            let rows = statement
                .query_map([area.as_str()], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(unavailable)?;
            let mut links = Vec::new();
            for row in rows {
                let (channel, json) = row.map_err(unavailable)?;
                links.push(from_json(&json, &format!("channel {area} {channel}"))?);
            }
            Ok(links)
        })
        .await
    }
}

#[async_trait]
impl ChatSettingsStore for SqliteStore {
    async fn chat_settings(&self, chat: ChatId) -> Result<ChatSettings, StoreError> {
        self.read(move |connection| {
            let json: Option<String> = connection
                .query_row(
                    "SELECT settings FROM settings WHERE chat = ?1",
                    [chat.0],
                    |row| row.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            Ok(json
                .map(|json| from_json(&json, &format!("settings {chat}")))
                .transpose()?
                .unwrap_or_default())
        })
        .await
    }

    async fn put_chat_settings(
        &self,
        chat: ChatId,
        settings: &ChatSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let json = to_json(settings, &format!("settings {chat}"))?;
        // Not a change any stream consumer reacts to: nothing touched, no record (as in memory).
        self.write(move |tx| {
            tx.connection()
                .execute(
                    "INSERT INTO settings (chat, settings, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (chat) DO UPDATE
                     SET settings = excluded.settings, updated_at = excluded.updated_at",
                    params![chat.0, json, instant(at)],
                )
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }
}
