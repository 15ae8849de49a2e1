use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Area, AreaId, ChannelLink, ChatId, ChatSettings, Schedule, Stage, Timelines};
use crate::errors::StoreError;

/// The stage timelines as stored (one item), with the version that guards the next write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredStage {
    /// The national stage when the timelines were read.
    pub stage: Stage,
    pub updated_at: DateTime<Utc>,
    /// Increases by one with every write; conditional writes compare it.
    pub version: u64,
    /// National and Cape Town timelines. Absent in items written before timelines were kept: read
    /// through [`StoredStage::timelines`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timelines: Option<Timelines>,
    /// The timelines this write replaced: what people were told before, so notify can tell whose
    /// outages the change moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Timelines>,
    /// The changes stored before this one, newest first, each with the timelines it replaced
    /// (at most [`EARLIER_KEPT`], none older than [`EARLIER_KEPT_FOR`]): an announcement resumed
    /// after a newer change was stored still tells exactly the chats its own change moved
    /// ([`StoredStage::change_at`]). Absent in items written before it was kept: such an older
    /// change is unknown, and its announcement falls back to the current timelines for every chat.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<StoredChange>,
}

/// One stored change of the timelines: what it wrote and what it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChange {
    pub updated_at: DateTime<Utc>,
    pub timelines: Timelines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Timelines>,
}

/// Earlier changes kept on the stage item: a broadcast at the free rate to 100,000 chats takes an
/// hour, and the script's (and Eskom's busiest days') changes come hours apart, so a few suffice.
pub const EARLIER_KEPT: usize = 8;

/// How long an earlier change is kept: the refresh workflow's `TimeoutSeconds` and the stream's
/// `MaximumRecordAgeInSeconds` (6 h each) bound how late an announcement may still be resumed; the
/// margin covers a marker written late.
pub const EARLIER_KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(12);

impl StoredStage {
    /// The timelines as written; an item from before timelines were kept holds the national stage.
    pub fn timelines(&self) -> Timelines {
        self.timelines
            .clone()
            .unwrap_or_else(|| Timelines::national_only(self.stage))
    }

    /// What a write of `timelines` over `replaced` (at version `expected`) stores.
    pub fn next(
        timelines: &Timelines,
        replaced: Option<&Timelines>,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> StoredStage {
        StoredStage {
            stage: timelines.national.current,
            updated_at: at,
            version: expected.map_or(1, |v| v + 1),
            timelines: Some(timelines.clone()),
            previous: replaced.cloned(),
            earlier: Vec::new(),
        }
    }

    /// This write over `old` (the item it replaces, read with the version the write expects): the
    /// old item's change joins the earlier ones, and what is too old or beyond [`EARLIER_KEPT`]
    /// is dropped. The stores call it where they hold the old item; a store that does not keeps
    /// no history (the documented fallback of [`StoredStage::change_at`]).
    pub fn over(mut self, old: Option<&StoredStage>) -> StoredStage {
        let Some(old) = old else {
            return self;
        };
        let mut earlier = Vec::with_capacity(EARLIER_KEPT);
        earlier.push(StoredChange {
            updated_at: old.updated_at,
            timelines: old.timelines(),
            previous: old.previous.clone(),
        });
        earlier.extend(old.earlier.iter().cloned());
        let oldest = self.updated_at - EARLIER_KEPT_FOR;
        earlier.retain(|change| change.updated_at >= oldest && change.updated_at < self.updated_at);
        earlier.truncate(EARLIER_KEPT);
        self.earlier = earlier;
        self
    }

    /// The change stored at `updated_at`: the timelines it wrote and those it replaced, whether it
    /// is the current one or an earlier one still kept. `None` when it is neither (an item from
    /// before earlier changes were kept, or a change older than what is kept).
    pub fn change_at(&self, updated_at: DateTime<Utc>) -> Option<StoredChange> {
        if self.updated_at == updated_at {
            return Some(StoredChange {
                updated_at,
                timelines: self.timelines(),
                previous: self.previous.clone(),
            });
        }
        self.earlier
            .iter()
            .find(|change| change.updated_at == updated_at)
            .cloned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
// Returned once per stage write (a few a day) and dropped at once: boxing the stored stage would
// change every caller for no gain.
#[allow(clippy::large_enum_variant)]
pub enum StageWrite {
    Written(StoredStage),
    /// Another writer moved the version since it was read (or, with `expected: None`, a stage is
    /// already stored): nothing was written.
    Conflict,
}

/// Written by the schedule task once it has refreshed the schedules after a stage change: the
/// choreography's signal that the change can be announced with the slots at the new stage. It is
/// written once per stage change (the first refresh to finish writes it), so `refreshed_at` divides
/// the schedule writes that the announcement covers from later ones, which are news of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRefresh {
    pub stage: Stage,
    /// The stored stage's `updated_at`: which change this is (with `stage`, the event's identity).
    pub stage_updated_at: DateTime<Utc>,
    /// The stage before the change, when the refresh knew it (for the announcement's wording).
    #[serde(default)]
    pub previous: Option<Stage>,
    pub refreshed_at: DateTime<Utc>,
}

#[async_trait]
pub trait StageStore: Send + Sync {
    async fn current_stage(&self) -> Result<Option<StoredStage>, StoreError>;

    async fn stage_refresh(&self) -> Result<Option<StageRefresh>, StoreError>;

    /// Stores the marker unless one for the same or a later stage change is stored (compared on
    /// `stage_updated_at`); true when it wrote. So a slow refresh of an older change never
    /// overwrites a newer marker, and a second refresh of the same change writes nothing.
    async fn put_stage_refresh(&self, marker: &StageRefresh) -> Result<bool, StoreError>;

    /// Writes `timelines` (replacing `replaced`, the timelines read with `expected`) only if the
    /// stored version is still `expected` (`None`: nothing stored yet), so
    /// two pollers can neither write the same change twice nor regress each other. A write stores
    /// version `expected + 1` (1 for the first write). Of concurrent writers holding the same
    /// `expected`, exactly one gets `Written`; a retry of a write that already went through gets
    /// `Conflict`, never a second write. The store does not compare stages: callers read first and
    /// write only a change (every write is a change record on the stream).
    async fn put_stage(
        &self,
        timelines: &Timelines,
        replaced: Option<&Timelines>,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError>;
}

#[async_trait]
pub trait ScheduleStore: Send + Sync {
    async fn schedule(&self, area: &AreaId, stage: Stage) -> Result<Option<Schedule>, StoreError>;

    /// Stores the schedule (one per area and stage) unless an equal one is already stored; true when
    /// it wrote. Equality is the whole value (`==`), not [`Schedule::differs_from`]: deciding what
    /// people would notice is the notify task's business, the store only avoids empty writes.
    async fn put_schedule(
        &self,
        schedule: &Schedule,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Subscriptions of chats to areas, readable both ways.
///
/// Lists are sorted: areas by id, chats by number. `remove_chat` and `move_chat` touch one area at a
/// time: they are not atomic as a whole, but idempotent, so a retry completes an interrupted call,
/// and a move subscribes the new chat before it drops the old one, so a crash never loses an area.
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// True when the subscription is new; subscribing again changes nothing and returns false.
    async fn subscribe(
        &self,
        chat: ChatId,
        area: &Area,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// True when there was a subscription to remove.
    async fn unsubscribe(&self, chat: ChatId, area: &AreaId) -> Result<bool, StoreError>;
    async fn areas_of(&self, chat: ChatId) -> Result<Vec<Area>, StoreError>;
    async fn subscribers_of(&self, area: &AreaId) -> Result<Vec<ChatId>, StoreError>;
    /// Up to `limit` of `area`'s subscribers after the chat `after` (`None`: from the first), in
    /// the store's own order of chats, which the cursor follows: page by page, a caller reads
    /// every subscriber once without holding them all (a broadcast to 100,000 chats). A page
    /// shorter than `limit` is the last. The default reads them all and cuts the page out (stores
    /// of a handful of subscriptions); the real stores read one page.
    async fn subscribers_page(
        &self,
        area: &AreaId,
        after: Option<ChatId>,
        limit: usize,
    ) -> Result<Vec<ChatId>, StoreError> {
        let all = self.subscribers_of(area).await?;
        let start = match after {
            Some(after) => all.partition_point(|chat| *chat <= after),
            None => 0,
        };
        Ok(all.into_iter().skip(start).take(limit).collect())
    }
    /// Every area with at least one subscriber.
    async fn subscribed_areas(&self) -> Result<Vec<Area>, StoreError>;
    /// The chat blocked the bot or is gone: drop all its subscriptions, and the channel links it
    /// has as a channel ([`ChannelStore`]), each before its area's subscription, so an interrupted
    /// call retried drops them all. Returns how many subscriptions.
    async fn remove_chat(&self, chat: ChatId) -> Result<usize, StoreError>;
    /// A group became a supergroup with a new id: move its subscriptions. Returns how many areas
    /// `from` had (those `to` already had count too: they are dropped from `from` all the same).
    async fn move_chat(
        &self,
        from: ChatId,
        to: ChatId,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError>;
}

/// Identifies one message to one chat, e.g. `stage:6@2026-12-01T10:00Z` for chat 42.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryKey {
    pub chat: ChatId,
    pub message: String,
}

/// What a run found when it tried to claim a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The delivery is this run's to send until the lease it asked for ends.
    Claimed,
    /// Already sent (confirmed) by some run.
    Delivered,
    /// Another run holds a live claim on it: it is sending, or it died and its lease has not run out.
    HeldBy { owner: String, until: DateTime<Utc> },
}

/// The ledger of messages sent, so retries, redeliveries and the two modes never send one twice.
///
/// A delivery goes through two entries under one key: a *claim* (owner, lease) written before the
/// send, and a *delivered* entry written over it once Telegram accepted the message. A claim counts
/// until its lease ends, a delivered entry until its `expires_at`; both exclusive, to the
/// millisecond; after that the entry is as if it had never been written, whether or not the backend
/// has deleted it yet.
#[async_trait]
pub trait DeliveryLedger: Send + Sync {
    /// Claims `key` for `owner` until `lease_until` (a conditional write). It succeeds when no live
    /// entry holds the key, or when the live claim is `owner`'s own (a retry of the same run takes its
    /// claims back at once instead of waiting for their leases).
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError>;
    /// Turns the claim into a delivered entry kept until `expires_at`. Written whoever holds the key
    /// by now: the message was sent, and saying so is always right.
    async fn confirm_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// [`DeliveryLedger::confirm_delivery`] for each of `keys` (a key given twice is written once),
    /// in as few writes as the store allows: a broadcaster confirming up to 1,000 messages a second
    /// from one process groups them (DynamoDB: 25 a BatchWriteItem instead of a PutItem each).
    /// `Ok` means every key is confirmed; after an error some may be, and a retry of the whole
    /// slice is right (each write is the same unconditional put). The default confirms one key
    /// after the other.
    async fn confirm_deliveries(
        &self,
        keys: &[DeliveryKey],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for key in keys {
            self.confirm_delivery(key, at, expires_at).await?;
        }
        Ok(())
    }
    /// Drops `owner`'s claim (the message was not sent), so another run need not wait out the lease.
    /// Does nothing when the key is delivered or claimed by someone else.
    async fn release_delivery(&self, key: &DeliveryKey, owner: &str) -> Result<(), StoreError>;
    /// Whether an unexpired delivered entry for `key` exists at `now` (a claim is not a delivery).
    async fn was_delivered(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records a sent message until `expires_at` without a claim first; false when an entry (claim
    /// or delivery) unexpired at `at` already holds the key (first write wins; an expired entry is
    /// overwritten).
    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Short-lived claims on a name: a chat's `/refresh` cooldown, an update id already handled.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Claims `key` until `until` (exclusive, to the millisecond); false when a claim unexpired at
    /// `now` already holds it. An expired claim is taken over as if it did not exist.
    async fn try_claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Claims `key` for `holder` until `until`: true when no claim was live at `now` or `holder`
    /// already holds it (the same request retried, e.g. a redelivered update), false when another
    /// holder's claim is live. One conditional write, so a retry after an error sees exactly
    /// what the first attempt did or did not claim.
    async fn try_claim_for(
        &self,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Gives `holder`'s claim on `key` up early; a claim held by another holder, or none, is left
    /// as it is.
    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError>;

    /// Whether a claim on `key` is live at `now`.
    async fn is_claimed(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Takes one of `limit` uses counted under `key`: true (and counted) while fewer than `limit`
    /// were taken, false once they are all gone. The key names its window (a chat and the hour,
    /// say), so a new window starts from zero; the count is kept until `until`, its window's end.
    async fn try_take(
        &self,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// What each chat chose (`/settings`).
#[async_trait]
pub trait ChatSettingsStore: Send + Sync {
    /// The chat's settings; the defaults when it never chose.
    async fn chat_settings(&self, chat: ChatId) -> Result<ChatSettings, StoreError>;
    /// Stores the chat's settings (last write wins: a person tapping twice means the second).
    async fn put_chat_settings(
        &self,
        chat: ChatId,
        settings: &ChatSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Channels linked to areas (area channels, `/channel`). The channel's subscription to the area is
/// kept by [`SubscriptionStore`] like any chat's; this is the link people are shown, readable by
/// area. Lists are sorted by channel number.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Keeps `link` (replacing the channel's earlier link to the same area, e.g. a new title);
    /// true when the channel was not linked to the area before.
    async fn link_channel(&self, link: &ChannelLink, at: DateTime<Utc>)
    -> Result<bool, StoreError>;
    /// True when there was a link to remove.
    async fn unlink_channel(&self, channel: ChatId, area: &AreaId) -> Result<bool, StoreError>;
    async fn channels_of(&self, area: &AreaId) -> Result<Vec<ChannelLink>, StoreError>;
}

/// Every store refuses to keep a link over [`ChannelLink::is_within_limits`].
pub fn refuse_oversized_link(link: &ChannelLink) -> Result<(), StoreError> {
    if link.is_within_limits() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "channel link of {} to an area id of {} bytes, or a title or url over its limit",
            link.channel,
            link.area.as_str().len()
        )))
    }
}

/// Everything the tasks and the webhook keep. Both adapters (in-memory, DynamoDB) implement all of it.
pub trait Store:
    StageStore
    + ScheduleStore
    + SubscriptionStore
    + ChannelStore
    + ChatSettingsStore
    + DeliveryLedger
    + Leases
{
}

impl<T> Store for T where
    T: StageStore
        + ScheduleStore
        + SubscriptionStore
        + ChannelStore
        + ChatSettingsStore
        + DeliveryLedger
        + Leases
{
}

/// Every store refuses to keep an area over [`Area::is_within_limits`]: in DynamoDB it would make
/// keys or items the service refuses, and the in-memory store keeps the same contract.
pub fn refuse_oversized(area: &Area) -> Result<(), StoreError> {
    if area.is_within_limits() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "area id of {} bytes or a text over {} characters",
            area.id.as_str().len(),
            Area::TEXT_MAX_CHARS
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a failed expectation is its failure.

    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
    }

    fn national(n: u8) -> Timelines {
        Timelines::national_only(Stage::new(n).unwrap())
    }

    /// Writes stages 1, 2, ... an hour apart, each over the one before.
    fn written(stages: u8) -> StoredStage {
        let mut stored: Option<StoredStage> = None;
        for n in 1..=stages {
            let replaced = stored.as_ref().map(StoredStage::timelines);
            let next = StoredStage::next(
                &national(n),
                replaced.as_ref(),
                at(u32::from(n)),
                stored.as_ref().map(|s| s.version),
            )
            .over(stored.as_ref());
            stored = Some(next);
        }
        stored.unwrap()
    }

    #[test]
    fn an_earlier_change_is_found_with_what_it_wrote_and_replaced() {
        let stored = written(3);
        let current = stored.change_at(at(3)).unwrap();
        assert_eq!(current.timelines, national(3));
        assert_eq!(current.previous, Some(national(2)));
        let earlier = stored.change_at(at(2)).unwrap();
        assert_eq!(earlier.timelines, national(2));
        assert_eq!(earlier.previous, Some(national(1)));
        let first = stored.change_at(at(1)).unwrap();
        assert_eq!(first.previous, None);
        assert_eq!(stored.change_at(at(4)), None);
    }

    #[test]
    fn earlier_changes_are_kept_for_a_while_and_a_few_at_most() {
        let stored = written(8);
        assert_eq!(stored.earlier.len(), 7);
        let much_later = StoredStage::next(&national(1), None, at(8) + EARLIER_KEPT_FOR, Some(8))
            .over(Some(&stored));
        // The change at 08:00 is exactly as old as what is kept; 07:00 and before are dropped.
        assert_eq!(much_later.earlier.len(), 1);
        assert!(much_later.change_at(at(7)).is_none());
        let mut many = stored;
        for hour in 9..20 {
            let replaced = many.timelines();
            many = StoredStage::next(&national(2), Some(&replaced), at(hour), Some(many.version))
                .over(Some(&many));
        }
        assert_eq!(many.earlier.len(), EARLIER_KEPT);
        assert!(
            many.earlier
                .windows(2)
                .all(|w| w[0].updated_at > w[1].updated_at)
        );
        assert!(at(19) - many.earlier[EARLIER_KEPT - 1].updated_at <= TimeDelta::hours(12));
    }

    #[test]
    fn an_item_from_before_earlier_changes_were_kept_decodes_without_them() {
        let json = serde_json::json!({
            "stage": 4,
            "updated_at": "2026-12-01T06:00:00Z",
            "version": 3,
        });
        let stored: StoredStage = serde_json::from_value(json).unwrap();
        assert!(stored.earlier.is_empty());
        // Its older changes are unknown: notify falls back to the current timelines for everyone.
        assert!(stored.change_at(at(5)).is_none());
        assert!(stored.change_at(at(6)).is_some());
        // Written again without history, nothing new appears in the encoding.
        let encoded = serde_json::to_value(&stored).unwrap();
        assert!(encoded.get("earlier").is_none());
    }
}
