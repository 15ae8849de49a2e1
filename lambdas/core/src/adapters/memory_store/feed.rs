//! The embedded store's change feed: what DynamoDB Streams would carry for each write, so the local
//! system runs the choreography (stream -> event source mapping -> task) on the same records.
//!
//! Off by default: a store without a feed encodes nothing. With one, every write method takes the
//! lock through [`Tracked`], names the items it may touch, and on release the items whose image
//! changed become INSERT / MODIFY / REMOVE records, in write order (emitted under the lock), with
//! NEW_AND_OLD_IMAGES encoded by the DynamoDB adapter's own item functions. A write that changes
//! nothing emits nothing, as DynamoDB does.
//!
//! Not modelled: TTL deletions (the memory store drops expired ledger entries and leases when it
//! next writes that map, silently; the table's consumers filter TTL REMOVEs out anyway) and shards
//! (one ordered feed for the whole table, stricter than DynamoDB's per-partition order).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lambda_events::dynamodb::{EventRecord, StreamRecord, StreamViewType};
use chrono::{DateTime, Utc};
use tokio::sync::RwLockWriteGuard;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::State;
use crate::adapters::dynamo::items::{self, Item};
use crate::adapters::dynamo::keys::Key;
use crate::clock::Clock;
use crate::domain::{AreaId, ChatId, Stage};
use crate::errors::StoreError;
use crate::ports::DeliveryKey;

/// The receiving end: one record per item change, in write order.
pub type ChangeFeed = UnboundedReceiver<EventRecord>;

/// The stream ARN records carry (Lambda puts the event source mapping's stream there).
pub const STREAM_ARN: &str =
    "arn:aws:dynamodb:af-south-1:000000000000:table/loadshed/stream/2026-01-01T00:00:00.000";

#[derive(Default)]
pub(super) struct Feed {
    sink: Option<Sink>,
}

struct Sink {
    sender: UnboundedSender<EventRecord>,
    clock: Arc<dyn Clock>,
    sequence: AtomicU64,
    /// Whether ledger entries and leases are fed too.
    bookkeeping: bool,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("on", &self.sink.is_some())
            .finish()
    }
}

impl Feed {
    /// `bookkeeping`: feed ledger entries and leases too, as DynamoDB does. The template's event
    /// source mappings filter them all out (tests/infra_template.rs checks it), and during a
    /// broadcast they are two records a message: a local system leaves them out.
    pub(super) fn start(clock: Arc<dyn Clock>, bookkeeping: bool) -> (Feed, ChangeFeed) {
        let (sender, receiver) = unbounded_channel();
        let sink = Sink {
            sender,
            clock,
            sequence: AtomicU64::new(0),
            bookkeeping,
        };
        (Feed { sink: Some(sink) }, receiver)
    }
}

/// The items a write may change, named before it changes them.
pub(super) enum Touched<'a> {
    Stage,
    StageRefresh,
    Schedule(&'a AreaId, Stage),
    /// The subscription under the chat, under the area, and the area's registry item.
    Subscription(ChatId, &'a AreaId),
    Delivery(&'a DeliveryKey),
    Lease(&'a str),
}

/// The store's write lock, recording the touched items' images before the write and emitting the
/// differences when it is released.
pub(super) struct Tracked<'a> {
    state: RwLockWriteGuard<'a, State>,
    feed: &'a Feed,
    /// (key, image before, the touch that names it), one per item; the touch rides on the first
    /// of its items only, so each touch is re-read once at the end.
    before: Vec<(Key, Option<Item>, Option<Owned>)>,
}

/// A [`Touched`] kept until the write is over.
enum Owned {
    Stage,
    StageRefresh,
    Schedule(AreaId, Stage),
    Subscription(ChatId, AreaId),
    Delivery(DeliveryKey),
    Lease(String),
}

impl<'a> Tracked<'a> {
    pub(super) fn new(state: RwLockWriteGuard<'a, State>, feed: &'a Feed) -> Self {
        Tracked {
            state,
            feed,
            before: Vec::new(),
        }
    }

    /// Names items the write may change; call before changing them.
    pub(super) fn touch(&mut self, touched: Touched<'_>) {
        let Some(sink) = &self.feed.sink else {
            return;
        };
        if !sink.bookkeeping && matches!(touched, Touched::Delivery(_) | Touched::Lease(_)) {
            return;
        }
        let owned = match touched {
            Touched::Stage => Owned::Stage,
            Touched::StageRefresh => Owned::StageRefresh,
            Touched::Schedule(area, stage) => Owned::Schedule(area.clone(), stage),
            Touched::Subscription(chat, area) => Owned::Subscription(chat, area.clone()),
            Touched::Delivery(key) => Owned::Delivery(key.clone()),
            Touched::Lease(name) => Owned::Lease(name.to_owned()),
        };
        let mut first = None;
        for (key, image) in images(&self.state, &owned) {
            if self.before.iter().any(|(k, _, _)| *k == key) {
                continue;
            }
            self.before.push((key, image, None));
            first.get_or_insert(self.before.len() - 1);
        }
        if let Some(first) = first {
            self.before[first].2 = Some(owned);
        }
    }
}

impl Deref for Tracked<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for Tracked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        let Some(sink) = &self.feed.sink else {
            return;
        };
        let mut after: Vec<(Key, Option<Item>)> = Vec::new();
        for (_, _, owned) in &self.before {
            if let Some(owned) = owned {
                after.extend(images(&self.state, owned));
            }
        }
        for (key, old, _) in self.before.drain(..) {
            let new = after
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, image)| image.clone());
            if old != new {
                sink.emit(&key, old, new);
            }
        }
    }
}

impl Sink {
    fn emit(&self, key: &Key, old: Option<Item>, new: Option<Item>) {
        let event_name = match (&old, &new) {
            (None, Some(_)) => "INSERT",
            (Some(_), Some(_)) => "MODIFY",
            (Some(_), None) => "REMOVE",
            (None, None) => return,
        };
        let sequence = self.sequence.fetch_add(1, Ordering::SeqCst) + 1;
        let record = record(sequence, event_name, key, old, new, self.clock.now());
        // A dropped receiver only means nobody follows the feed any more.
        let _ = self.sender.send(record);
    }
}

fn record(
    sequence: u64,
    event_name: &str,
    key: &Key,
    old: Option<Item>,
    new: Option<Item>,
    at: DateTime<Utc>,
) -> EventRecord {
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
    record
}

/// The touched items as the DynamoDB adapter would hold them now (`None`: no such item).
fn images(state: &State, touched: &Owned) -> Vec<(Key, Option<Item>)> {
    let encoded = |result: Result<Item, StoreError>| match result {
        Ok(item) => Some(item),
        Err(error) => {
            // Encoding our own domain values cannot fail in practice; if it ever does, the record
            // would be wrong, so say so loudly rather than emit a made-up image.
            tracing::error!(%error, "change feed: an item could not be encoded");
            None
        }
    };
    match touched {
        Owned::Stage => vec![(
            Key::stage(),
            state
                .stage
                .as_ref()
                .and_then(|s| encoded(items::stage_item(s))),
        )],
        Owned::StageRefresh => vec![(
            Key::stage_refresh(),
            state
                .stage_refresh
                .as_ref()
                .and_then(|m| encoded(items::stage_refresh_item(m))),
        )],
        Owned::Schedule(area, stage) => {
            let image = state
                .schedules
                .get(&(area.clone(), *stage))
                .and_then(|stored| {
                    let item = items::schedule_digest(&stored.schedule).and_then(|digest| {
                        items::schedule_item(&stored.schedule, &digest, stored.updated_at)
                    });
                    encoded(item)
                });
            vec![(Key::schedule(area, *stage), image)]
        }
        Owned::Subscription(chat, area) => {
            let subscription = state.subscriptions.get(&(*chat, area.clone()));
            let under_chat = subscription
                .and_then(|s| encoded(items::subscription_item(*chat, &s.area, s.subscribed_at)));
            let under_area = subscription
                .and_then(|s| encoded(items::subscriber_item(*chat, area, s.subscribed_at)));
            vec![
                (Key::subscription(*chat, area), under_chat),
                (Key::subscriber(area, *chat), under_area),
                (Key::registry(area), registry_image(state, area)),
            ]
        }
        Owned::Delivery(key) => vec![(
            Key::delivery(key),
            state.deliveries.get(key).and_then(|d| {
                let owner = d.owner.as_deref();
                encoded(items::delivery_item(
                    key,
                    d.entry.at,
                    d.entry.expires_at,
                    owner,
                ))
            }),
        )],
        Owned::Lease(name) => vec![(
            Key::lease(name),
            state.leases.get(name).and_then(|e| {
                encoded(items::lease_item(
                    name,
                    e.expiring.at,
                    e.expiring.expires_at,
                ))
            }),
        )],
    }
}

/// The registry item: the area as its latest subscription has it and the count of subscribers;
/// none once the last one left (the adapter deletes a zero count).
fn registry_image(state: &State, area: &AreaId) -> Option<Item> {
    let mut count = 0;
    let mut latest = None;
    for ((_, id), subscription) in &state.subscriptions {
        if id == area {
            count += 1;
            if latest
                .is_none_or(|l: &super::Subscription| subscription.subscribed_at > l.subscribed_at)
            {
                latest = Some(subscription);
            }
        }
    }
    let latest = latest?;
    items::registry_item(&latest.area, count).ok()
}
