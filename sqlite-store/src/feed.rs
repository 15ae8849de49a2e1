//! The change feed: what DynamoDB Streams would carry for each write, exactly as the in-memory
//! store's feed makes it (`loadshed_core::adapters::memory_store`), stored with the write.
//!
//! A write names the items it may touch before changing them ([`Tx::touch`]); at commit the items
//! whose image changed become INSERT / MODIFY / REMOVE records with NEW_AND_OLD_IMAGES encoded by
//! the DynamoDB adapter's own item functions, numbered from a sequence kept in the database (so
//! event ids never repeat across restarts: the notify task names its ledger claims after them),
//! and stored in table `stream` until checkpointed. A write that changes nothing records nothing.
//!
//! As in the in-memory store: expired ledger entries, leases and takes are dropped silently (the
//! table's consumers filter TTL deletions out anyway), and chat settings make no record.

use std::sync::Arc;

use aws_lambda_events::dynamodb::{EventRecord, StreamRecord, StreamViewType};
use chrono::{DateTime, Utc};
use loadshed_core::adapters::dynamo::items::{self, Item};
use loadshed_core::adapters::dynamo::keys::Key;
use loadshed_core::clock::Clock;
use loadshed_core::domain::{AreaId, ChatId, Stage};
use loadshed_core::errors::StoreError;
use loadshed_core::ports::DeliveryKey;
use rusqlite::{Connection, Transaction, params};

use crate::codec::{from_json, to_json, unavailable};
use crate::schema;
use crate::{ledger, stage, subscriptions};

/// The stream ARN records carry: the in-memory store's, so the template's mappings read both alike.
pub use loadshed_core::adapters::memory_store::STREAM_ARN;

/// The last sequence number given to a stream record.
const SEQUENCE: &str = "stream_sequence";

/// The items a write may change.
#[derive(Debug, Clone)]
pub(crate) enum Touched {
    Stage,
    StageRefresh,
    Schedule(AreaId, Stage),
    /// The subscription under the chat, under the area, and the area's registry item.
    Subscription(ChatId, AreaId),
    Delivery(DeliveryKey),
    Lease(String),
}

/// One write's transaction, recording the touched items' images before the write.
pub(crate) struct Tx<'c> {
    transaction: Transaction<'c>,
    /// Set when the feed is on.
    clock: Option<Arc<dyn Clock>>,
    /// (key, image before, the touch that names it), one per item; the touch rides on the first of
    /// its items only, so each touch is read once at the end.
    before: Vec<(Key, Option<Item>, Option<Touched>)>,
}

impl<'c> Tx<'c> {
    pub(crate) fn new(transaction: Transaction<'c>, clock: Option<Arc<dyn Clock>>) -> Self {
        Tx {
            transaction,
            clock,
            before: Vec::new(),
        }
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.transaction
    }

    /// Names items the write may change; call before changing them.
    pub(crate) fn touch(&mut self, touched: Touched) -> Result<(), StoreError> {
        if self.clock.is_none() {
            return Ok(());
        }
        let mut first = None;
        for (key, image) in images(&self.transaction, &touched)? {
            if self.before.iter().any(|(k, _, _)| *k == key) {
                continue;
            }
            self.before.push((key, image, None));
            first.get_or_insert(self.before.len() - 1);
        }
        if let Some(first) = first {
            self.before[first].2 = Some(touched);
        }
        Ok(())
    }

    /// Stores the records of what changed and commits; returns the records to send.
    pub(crate) fn commit(mut self) -> Result<Vec<EventRecord>, StoreError> {
        let mut records = Vec::new();
        if let Some(clock) = self.clock.take() {
            let mut after: Vec<(Key, Option<Item>)> = Vec::new();
            for (_, _, touched) in &self.before {
                if let Some(touched) = touched {
                    after.extend(images(&self.transaction, touched)?);
                }
            }
            let changes: Vec<(Key, Option<Item>, Option<Item>)> = self
                .before
                .drain(..)
                .filter_map(|(key, old, _)| {
                    let new = after
                        .iter()
                        .find(|(k, _)| *k == key)
                        .and_then(|(_, image)| image.clone());
                    (old != new).then_some((key, old, new))
                })
                .collect();
            if !changes.is_empty() {
                let mut sequence = schema::counter(&self.transaction, SEQUENCE)?.unwrap_or(0);
                let now = clock.now();
                for (key, old, new) in changes {
                    sequence += 1;
                    let Some(record) = record(sequence as u64, &key, old, new, now) else {
                        continue;
                    };
                    let json = to_json(&record, "stream record")?;
                    self.transaction
                        .execute(
                            "INSERT INTO stream (sequence, record) VALUES (?1, ?2)",
                            params![sequence, json],
                        )
                        .map_err(unavailable)?;
                    records.push(record);
                }
                schema::set_counter(&self.transaction, SEQUENCE, sequence)?;
            }
        }
        self.transaction.commit().map_err(unavailable)?;
        Ok(records)
    }
}

/// Records stored and not yet checkpointed, in order.
pub(crate) fn unconsumed(connection: &Connection) -> Result<Vec<EventRecord>, StoreError> {
    let mut statement = connection
        .prepare("SELECT sequence, record FROM stream ORDER BY sequence")
        .map_err(unavailable)?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(unavailable)?;
    let mut records = Vec::new();
    for row in rows {
        let (sequence, json) = row.map_err(unavailable)?;
        records.push(from_json(&json, &format!("stream record {sequence}"))?);
    }
    Ok(records)
}

pub(crate) fn checkpoint(connection: &Connection, sequence: u64) -> Result<(), StoreError> {
    let sequence = i64::try_from(sequence).unwrap_or(i64::MAX);
    connection
        .execute("DELETE FROM stream WHERE sequence <= ?1", [sequence])
        .map(drop)
        .map_err(unavailable)
}

/// The record DynamoDB Streams would deliver, as the in-memory store's feed builds it.
fn record(
    sequence: u64,
    key: &Key,
    old: Option<Item>,
    new: Option<Item>,
    at: DateTime<Utc>,
) -> Option<EventRecord> {
    let event_name = match (&old, &new) {
        (None, Some(_)) => "INSERT",
        (Some(_), Some(_)) => "MODIFY",
        (Some(_), None) => "REMOVE",
        (None, None) => return None,
    };
    let image = |item: Option<Item>| item.map(serde_dynamo::Item::from).unwrap_or_default();
    let mut change = StreamRecord::default();
    change.approximate_creation_date_time = at;
    change.keys = serde_dynamo::Item::from(key.to_item());
    change.new_image = image(new);
    change.old_image = image(old);
    // DynamoDB's sequence numbers are decimal strings that grow within a shard.
    change.sequence_number = Some(format!("{sequence:021}"));
    change.size_bytes = serde_json::to_vec(&change.new_image)
        .map(|b| b.len())
        .unwrap_or_default() as i64;
    change.stream_view_type = Some(StreamViewType::NewAndOldImages);
    let mut record = EventRecord::default();
    record.aws_region = "af-south-1".to_owned();
    record.change = change;
    record.event_id = format!("{sequence:032x}");
    record.event_name = event_name.to_owned();
    record.event_source = Some("aws:dynamodb".to_owned());
    record.event_version = Some("1.1".to_owned());
    record.event_source_arn = Some(STREAM_ARN.to_owned());
    Some(record)
}

/// The sequence number of a record this store made.
pub fn sequence_of(record: &EventRecord) -> Option<u64> {
    record.change.sequence_number.as_deref()?.parse().ok()
}

/// The touched items as the DynamoDB adapter would hold them now (`None`: no such item).
fn images(
    connection: &Connection,
    touched: &Touched,
) -> Result<Vec<(Key, Option<Item>)>, StoreError> {
    Ok(match touched {
        Touched::Stage => vec![(
            Key::stage(),
            stage::stored(connection)?
                .map(|s| items::stage_item(&s))
                .transpose()?,
        )],
        Touched::StageRefresh => vec![(
            Key::stage_refresh(),
            stage::marker(connection)?
                .map(|m| items::stage_refresh_item(&m))
                .transpose()?,
        )],
        Touched::Schedule(area, at_stage) => {
            let image = match stage::schedule_row(connection, area, *at_stage)? {
                Some((schedule, updated_at)) => {
                    let digest = items::schedule_digest(&schedule)?;
                    Some(items::schedule_item(&schedule, &digest, updated_at)?)
                }
                None => None,
            };
            vec![(Key::schedule(area, *at_stage), image)]
        }
        Touched::Subscription(chat, area) => {
            let subscription = subscriptions::row(connection, *chat, area)?;
            let under_chat = subscription
                .as_ref()
                .map(|(a, at)| items::subscription_item(*chat, a, *at))
                .transpose()?;
            let under_area = subscription
                .as_ref()
                .map(|(_, at)| items::subscriber_item(*chat, area, *at))
                .transpose()?;
            let registry = subscriptions::registry(connection, area)?
                .map(|(latest, count)| items::registry_item(&latest, count))
                .transpose()?;
            vec![
                (Key::subscription(*chat, area), under_chat),
                (Key::subscriber(area, *chat), under_area),
                (Key::registry(area), registry),
            ]
        }
        Touched::Delivery(key) => vec![(
            Key::delivery(key),
            ledger::delivery(connection, key)?
                .map(|d| items::delivery_item(key, d.at, d.expires_at, d.owner.as_deref()))
                .transpose()?,
        )],
        Touched::Lease(name) => vec![(
            Key::lease(name),
            ledger::lease(connection, name)?
                .map(|l| items::lease_item(name, l.at, l.expires_at))
                .transpose()?,
        )],
    })
}
