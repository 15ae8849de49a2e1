//! The store in memory: for tests, and (saved as a JSON snapshot between runs) the embedded store of
//! the local mode.
//!
//! It keeps the DynamoDB adapter's semantics exactly, as the contract suite in
//! `tests/store_contract.rs` checks: the stage is written conditionally on its version, a schedule
//! only when it differs, subscriptions are readable both ways, the ledger's first write wins, and
//! expired ledger entries and leases count as absent. One lock guards all of it, so every call is
//! atomic, which is at least as strong as DynamoDB's per-item conditions and transactions.

mod feed;
mod snapshot;

use std::collections::{BTreeMap, btree_map::Entry};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::RwLock;

use crate::clock::Clock;
use crate::domain::{Area, AreaId, ChannelLink, ChatId, ChatSettings, Schedule, Stage, Timelines};
use crate::errors::StoreError;
use crate::ports::{
    ChannelStore, ChatSettingsStore, Claim, DeliveryKey, DeliveryLedger, Leases, ScheduleStore,
    StageRefresh, StageStore, StageWrite, StoredStage, SubscriptionStore,
};

use feed::{Feed, Touched, Tracked};
use snapshot::Snapshot;

pub use feed::{ChangeFeed, STREAM_ARN};

#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    feed: Feed,
}

#[derive(Debug, Default, Clone)]
struct State {
    stage: Option<StoredStage>,
    stage_refresh: Option<StageRefresh>,
    schedules: BTreeMap<(AreaId, Stage), StoredSchedule>,
    /// Keyed chat first, so one chat's areas are a contiguous range.
    subscriptions: BTreeMap<(ChatId, AreaId), Subscription>,
    settings: BTreeMap<ChatId, ChatSettings>,
    /// Keyed area first, so one area's channels are a contiguous range.
    channels: BTreeMap<(AreaId, ChatId), ChannelLink>,
    deliveries: BTreeMap<DeliveryKey, Delivery>,
    /// Ledger writes since expired entries were last dropped.
    deliveries_written: usize,
    leases: BTreeMap<String, Lease>,
    /// Uses taken under each key of [`Leases::try_take`], until the window's end. Not saved in the
    /// snapshot: the local mode runs no webhook, the only user.
    takes: BTreeMap<String, (u32, Expiring)>,
}

/// A claim, and who holds it (`None` for [`Leases::try_claim`]'s anonymous claims).
#[derive(Debug, Clone)]
struct Lease {
    expiring: Expiring,
    holder: Option<String>,
}

/// A ledger entry: a claim while `owner` is set, a delivered message once it is not.
#[derive(Debug, Clone)]
struct Delivery {
    entry: Expiring,
    owner: Option<String>,
}

impl Delivery {
    fn is_delivered(&self, now: DateTime<Utc>) -> bool {
        self.owner.is_none() && self.entry.is_live(now)
    }
}

/// Dropping expired ledger entries on every write would make a broadcast quadratic; at least this
/// many writes apart (and at least as many as the ledger holds, so a ledger of live entries, which
/// a prune cannot shrink, costs O(1) a write) keeps a long-lived local store (and its snapshot)
/// small all the same.
const PRUNE_EVERY: usize = 4096;

#[derive(Debug, Clone)]
struct StoredSchedule {
    schedule: Schedule,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Subscription {
    area: Area,
    subscribed_at: DateTime<Utc>,
}

/// A ledger entry or a lease: written `at`, counts until `expires_at`.
#[derive(Debug, Clone, Copy)]
struct Expiring {
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl Expiring {
    /// Millisecond precision, as the DynamoDB adapter stores it, so both agree on every instant.
    fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.timestamp_millis() > now.timestamp_millis()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Loads a snapshot written by [`MemoryStore::save`]. A missing file is an empty store (the
    /// first run); an unreadable one is `Corrupt`, naming the file and the place, so a typo in a
    /// hand-edited snapshot never silently drops subscriptions.
    pub async fn load(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let snapshot = Snapshot::read(path.as_ref().to_owned()).await?;
        Ok(MemoryStore {
            state: RwLock::new(snapshot.into_state()),
            feed: Feed::default(),
        })
    }

    /// Turns on the change feed: from now on every write that changes an item emits the stream
    /// record DynamoDB would (see [`feed`](self)), stamped with `clock`'s time.
    pub fn with_change_feed(mut self, clock: Arc<dyn Clock>) -> (Self, ChangeFeed) {
        let (feed, records) = Feed::start(clock, true);
        self.feed = feed;
        (self, records)
    }

    /// [`with_change_feed`](Self::with_change_feed) without the records of ledger entries and
    /// leases, which every event source mapping of the template filters out: what the local
    /// system's consumers would see, without two records for every message a broadcast sends.
    pub fn with_change_feed_of_events(mut self, clock: Arc<dyn Clock>) -> (Self, ChangeFeed) {
        let (feed, records) = Feed::start(clock, false);
        self.feed = feed;
        (self, records)
    }

    /// The write lock, tracked for the change feed.
    async fn write(&self) -> Tracked<'_> {
        Tracked::new(self.state.write().await, &self.feed)
    }

    /// Writes everything to `path` as JSON, atomically (a crash leaves the old file or the new one,
    /// never half of one), creating missing parent folders.
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<(), StoreError> {
        let snapshot = Snapshot::from_state(&*self.state.read().await);
        snapshot.write(path.as_ref().to_owned()).await
    }

    fn subscribe_locked(
        state: &mut Tracked<'_>,
        chat: ChatId,
        area: &Area,
        at: DateTime<Utc>,
    ) -> bool {
        state.touch(Touched::Subscription(chat, &area.id));
        match state.subscriptions.entry((chat, area.id.clone())) {
            Entry::Occupied(_) => false,
            Entry::Vacant(vacant) => {
                vacant.insert(Subscription {
                    area: area.clone(),
                    subscribed_at: at,
                });
                true
            }
        }
    }

    fn areas_locked(state: &State, chat: ChatId) -> Vec<Area> {
        state
            .subscriptions
            .range((chat, AreaId::new(""))..)
            .take_while(|((c, _), _)| *c == chat)
            .map(|(_, subscription)| subscription.area.clone())
            .collect()
    }
}

#[async_trait]
impl ChatSettingsStore for MemoryStore {
    async fn chat_settings(&self, chat: ChatId) -> Result<ChatSettings, StoreError> {
        Ok(self
            .state
            .read()
            .await
            .settings
            .get(&chat)
            .copied()
            .unwrap_or_default())
    }

    async fn put_chat_settings(
        &self,
        chat: ChatId,
        settings: &ChatSettings,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Not a change any stream consumer reacts to: no feed record.
        self.state.write().await.settings.insert(chat, *settings);
        Ok(())
    }
}

#[async_trait]
impl StageStore for MemoryStore {
    async fn current_stage(&self) -> Result<Option<StoredStage>, StoreError> {
        Ok(self.state.read().await.stage.clone())
    }

    async fn put_stage(
        &self,
        timelines: &Timelines,
        replaced: Option<&Timelines>,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Stage);
        let stored_version = state.stage.as_ref().map(|s| s.version);
        if stored_version != expected {
            return Ok(StageWrite::Conflict);
        }
        let written =
            StoredStage::next(timelines, replaced, at, expected).over(state.stage.as_ref());
        state.stage = Some(written.clone());
        Ok(StageWrite::Written(written))
    }

    async fn stage_refresh(&self) -> Result<Option<StageRefresh>, StoreError> {
        Ok(self.state.read().await.stage_refresh.clone())
    }

    async fn put_stage_refresh(&self, marker: &StageRefresh) -> Result<bool, StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::StageRefresh);
        if state
            .stage_refresh
            .as_ref()
            .is_some_and(|stored| stored.stage_updated_at >= marker.stage_updated_at)
        {
            return Ok(false);
        }
        state.stage_refresh = Some(marker.clone());
        Ok(true)
    }
}

#[async_trait]
impl ScheduleStore for MemoryStore {
    async fn schedule(&self, area: &AreaId, stage: Stage) -> Result<Option<Schedule>, StoreError> {
        let state = self.state.read().await;
        Ok(state
            .schedules
            .get(&(area.clone(), stage))
            .map(|stored| stored.schedule.clone()))
    }

    async fn put_schedule(
        &self,
        schedule: &Schedule,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Schedule(&schedule.area_id, schedule.stage));
        let key = (schedule.area_id.clone(), schedule.stage);
        if state
            .schedules
            .get(&key)
            .is_some_and(|stored| stored.schedule == *schedule)
        {
            return Ok(false);
        }
        state.schedules.insert(
            key,
            StoredSchedule {
                schedule: schedule.clone(),
                updated_at: at,
            },
        );
        Ok(true)
    }
}

#[async_trait]
impl SubscriptionStore for MemoryStore {
    async fn subscribe(
        &self,
        chat: ChatId,
        area: &Area,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        crate::ports::refuse_oversized(area)?;
        let mut state = self.write().await;
        Ok(Self::subscribe_locked(&mut state, chat, area, at))
    }

    async fn unsubscribe(&self, chat: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Subscription(chat, area));
        Ok(state.subscriptions.remove(&(chat, area.clone())).is_some())
    }

    async fn areas_of(&self, chat: ChatId) -> Result<Vec<Area>, StoreError> {
        Ok(Self::areas_locked(&*self.state.read().await, chat))
    }

    async fn subscribers_of(&self, area: &AreaId) -> Result<Vec<ChatId>, StoreError> {
        let state = self.state.read().await;
        // A scan: fine for the handful of subscriptions of tests and local runs, and it cannot
        // drift out of step the way a second index could.
        let mut chats: Vec<ChatId> = state
            .subscriptions
            .keys()
            .filter(|(_, a)| a == area)
            .map(|(chat, _)| *chat)
            .collect();
        chats.sort_unstable();
        Ok(chats)
    }

    async fn subscribers_page(
        &self,
        area: &AreaId,
        after: Option<ChatId>,
        limit: usize,
    ) -> Result<Vec<ChatId>, StoreError> {
        let state = self.state.read().await;
        let from = match after {
            Some(ChatId(i64::MAX)) => return Ok(Vec::new()),
            Some(ChatId(after)) => ChatId(after + 1),
            None => ChatId(i64::MIN),
        };
        // Keyed chat first: a page scans on from the cursor until it has `limit` of the area's
        // chats, so all pages of an area together scan the subscriptions once.
        Ok(state
            .subscriptions
            .range((from, AreaId::new(""))..)
            .filter(|((_, a), _)| a == area)
            .map(|((chat, _), _)| *chat)
            .take(limit)
            .collect())
    }

    async fn subscribed_areas(&self) -> Result<Vec<Area>, StoreError> {
        let state = self.state.read().await;
        // Like the DynamoDB registry: the area as given by its latest subscription.
        let mut latest: BTreeMap<&AreaId, &Subscription> = BTreeMap::new();
        for ((_, id), subscription) in &state.subscriptions {
            let slot = latest.entry(id).or_insert(subscription);
            if subscription.subscribed_at > slot.subscribed_at {
                *slot = subscription;
            }
        }
        Ok(latest.into_values().map(|s| s.area.clone()).collect())
    }

    async fn remove_chat(&self, chat: ChatId) -> Result<usize, StoreError> {
        let mut state = self.write().await;
        for area in Self::areas_locked(&state, chat) {
            state.touch(Touched::Subscription(chat, &area.id));
        }
        state.channels.retain(|(_, c), _| *c != chat);
        let before = state.subscriptions.len();
        state.subscriptions.retain(|(c, _), _| *c != chat);
        Ok(before - state.subscriptions.len())
    }

    async fn move_chat(
        &self,
        from: ChatId,
        to: ChatId,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut state = self.write().await;
        let areas = Self::areas_locked(&state, from);
        for area in &areas {
            state.touch(Touched::Subscription(from, &area.id));
            Self::subscribe_locked(&mut state, to, area, at);
            state.subscriptions.remove(&(from, area.id.clone()));
        }
        Ok(areas.len())
    }
}

/// Channel links are not on the change feed: no consumer reads them (the template's event source
/// mappings filter them out, as they do chat settings).
#[async_trait]
impl ChannelStore for MemoryStore {
    async fn link_channel(
        &self,
        link: &ChannelLink,
        _at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        crate::ports::refuse_oversized_link(link)?;
        let mut state = self.state.write().await;
        Ok(state
            .channels
            .insert((link.area.clone(), link.channel), link.clone())
            .is_none())
    }

    async fn unlink_channel(&self, channel: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        let mut state = self.state.write().await;
        Ok(state.channels.remove(&(area.clone(), channel)).is_some())
    }

    async fn channels_of(&self, area: &AreaId) -> Result<Vec<ChannelLink>, StoreError> {
        let state = self.state.read().await;
        Ok(state
            .channels
            .range((area.clone(), ChatId(i64::MIN))..)
            .take_while(|((a, _), _)| a == area)
            .map(|(_, link)| link.clone())
            .collect())
    }
}

impl State {
    fn prune_deliveries(&mut self, now: DateTime<Utc>) {
        self.deliveries_written += 1;
        if self.deliveries_written >= PRUNE_EVERY.max(self.deliveries.len()) {
            self.deliveries_written = 0;
            self.deliveries
                .retain(|_, delivery| delivery.entry.is_live(now));
        }
    }
}

#[async_trait]
impl DeliveryLedger for MemoryStore {
    async fn was_delivered(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let state = self.state.read().await;
        Ok(state
            .deliveries
            .get(key)
            .is_some_and(|d| d.is_delivered(now)))
    }

    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Delivery(key));
        state.prune_deliveries(at);
        if state
            .deliveries
            .get(key)
            .is_some_and(|d| d.entry.is_live(at))
        {
            return Ok(false);
        }
        state.deliveries.insert(
            key.clone(),
            Delivery {
                entry: Expiring { at, expires_at },
                owner: None,
            },
        );
        Ok(true)
    }

    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Delivery(key));
        state.prune_deliveries(now);
        if let Some(live) = state.deliveries.get(key).filter(|d| d.entry.is_live(now)) {
            match &live.owner {
                None => return Ok(Claim::Delivered),
                Some(holder) if holder != owner => {
                    return Ok(Claim::HeldBy {
                        owner: holder.clone(),
                        until: live.entry.expires_at,
                    });
                }
                Some(_) => {}
            }
        }
        state.deliveries.insert(
            key.clone(),
            Delivery {
                entry: Expiring {
                    at: now,
                    expires_at: lease_until,
                },
                owner: Some(owner.to_owned()),
            },
        );
        Ok(Claim::Claimed)
    }

    async fn confirm_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Delivery(key));
        state.deliveries.insert(
            key.clone(),
            Delivery {
                entry: Expiring { at, expires_at },
                owner: None,
            },
        );
        Ok(())
    }

    async fn release_delivery(&self, key: &DeliveryKey, owner: &str) -> Result<(), StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Delivery(key));
        if state
            .deliveries
            .get(key)
            .is_some_and(|d| d.owner.as_deref() == Some(owner))
        {
            state.deliveries.remove(key);
        }
        Ok(())
    }
}

#[async_trait]
impl Leases for MemoryStore {
    async fn try_claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.claim(key, None, now, until).await
    }

    async fn try_claim_for(
        &self,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.claim(key, Some(holder), now, until).await
    }

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Lease(key));
        if let Entry::Occupied(lease) = state.leases.entry(key.to_owned())
            && lease.get().holder.as_deref() == Some(holder)
        {
            lease.remove();
        }
        Ok(())
    }

    async fn try_take(
        &self,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.write().await;
        state.takes.retain(|_, (_, window)| window.is_live(now));
        let (taken, _) = state.takes.entry(key.to_owned()).or_insert((
            0,
            Expiring {
                at: now,
                expires_at: until,
            },
        ));
        if *taken >= limit {
            return Ok(false);
        }
        *taken += 1;
        Ok(true)
    }

    async fn is_claimed(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let state = self.state.read().await;
        Ok(state
            .leases
            .get(key)
            .is_some_and(|lease| lease.expiring.is_live(now)))
    }
}

impl MemoryStore {
    async fn claim(
        &self,
        key: &str,
        holder: Option<&str>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.write().await;
        state.touch(Touched::Lease(key));
        state.leases.retain(|_, lease| lease.expiring.is_live(now));
        let lease = Lease {
            expiring: Expiring {
                at: now,
                expires_at: until,
            },
            holder: holder.map(str::to_owned),
        };
        match state.leases.entry(key.to_owned()) {
            Entry::Occupied(mut held)
                if holder.is_some() && held.get().holder.as_deref() == holder =>
            {
                held.insert(lease);
                Ok(true)
            }
            Entry::Occupied(_) => Ok(false),
            Entry::Vacant(vacant) => {
                vacant.insert(lease);
                Ok(true)
            }
        }
    }
}
