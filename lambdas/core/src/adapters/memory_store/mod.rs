//! The store in memory: for tests, and (saved as a JSON snapshot between runs) the embedded store of
//! the local mode.
//!
//! It keeps the DynamoDB adapter's semantics exactly, as the contract suite in
//! `tests/store_contract.rs` checks: the stage is written conditionally on its version, a schedule
//! only when it differs, subscriptions are readable both ways, the ledger's first write wins, and
//! expired ledger entries and leases count as absent. One lock guards all of it, so every call is
//! atomic, which is at least as strong as DynamoDB's per-item conditions and transactions.

mod snapshot;

use std::collections::{BTreeMap, btree_map::Entry};
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::RwLock;

use crate::domain::{Area, AreaId, ChatId, Schedule, Stage};
use crate::errors::StoreError;
use crate::ports::{
    DeliveryKey, DeliveryLedger, Leases, ScheduleStore, StageStore, StageWrite, StoredStage,
    SubscriptionStore,
};

use snapshot::Snapshot;

#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

#[derive(Debug, Default, Clone)]
struct State {
    stage: Option<StoredStage>,
    schedules: BTreeMap<(AreaId, Stage), StoredSchedule>,
    /// Keyed chat first, so one chat's areas are a contiguous range.
    subscriptions: BTreeMap<(ChatId, AreaId), Subscription>,
    deliveries: BTreeMap<DeliveryKey, Expiring>,
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
        })
    }

    /// Writes everything to `path` as JSON, atomically (a crash leaves the old file or the new one,
    /// never half of one), creating missing parent folders.
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<(), StoreError> {
        let snapshot = Snapshot::from_state(&*self.state.read().await);
        snapshot.write(path.as_ref().to_owned()).await
    }

    fn subscribe_locked(state: &mut State, chat: ChatId, area: &Area, at: DateTime<Utc>) -> bool {
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
impl StageStore for MemoryStore {
    async fn current_stage(&self) -> Result<Option<StoredStage>, StoreError> {
        Ok(self.state.read().await.stage.clone())
    }

    async fn put_stage(
        &self,
        stage: Stage,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        let mut state = self.state.write().await;
        let stored_version = state.stage.as_ref().map(|s| s.version);
        if stored_version != expected {
            return Ok(StageWrite::Conflict);
        }
        let written = StoredStage {
            stage,
            updated_at: at,
            version: expected.map_or(1, |v| v + 1),
        };
        state.stage = Some(written.clone());
        Ok(StageWrite::Written(written))
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
        let mut state = self.state.write().await;
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
        let mut state = self.state.write().await;
        Ok(Self::subscribe_locked(&mut state, chat, area, at))
    }

    async fn unsubscribe(&self, chat: ChatId, area: &AreaId) -> Result<bool, StoreError> {
        let mut state = self.state.write().await;
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
        let mut state = self.state.write().await;
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
        let mut state = self.state.write().await;
        let areas = Self::areas_locked(&state, from);
        for area in &areas {
            Self::subscribe_locked(&mut state, to, area, at);
            state.subscriptions.remove(&(from, area.id.clone()));
        }
        Ok(areas.len())
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
        Ok(state.deliveries.get(key).is_some_and(|e| e.is_live(now)))
    }

    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.write().await;
        // Dropping what has expired keeps a long-lived local store (and its snapshot) small.
        state.deliveries.retain(|_, entry| entry.is_live(at));
        match state.deliveries.entry(key.clone()) {
            Entry::Occupied(_) => Ok(false),
            Entry::Vacant(vacant) => {
                vacant.insert(Expiring { at, expires_at });
                Ok(true)
            }
        }
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
        let mut state = self.state.write().await;
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
        let mut state = self.state.write().await;
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
