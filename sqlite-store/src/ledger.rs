//! The delivery ledger, leases and counted takes: entries that count until they expire (to the
//! millisecond, exclusive), and count as absent after, whether or not they were deleted yet.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loadshed_core::errors::StoreError;
use loadshed_core::ports::{Claim, DeliveryKey, DeliveryLedger, Leases};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::codec::{instant, millis, parse_instant, unavailable};
use crate::feed::{Touched, Tx};

/// A ledger entry: a claim while `owner` is set, a delivered message once it is not.
pub(crate) struct Delivery {
    pub at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub owner: Option<String>,
}

pub(crate) struct Lease {
    pub at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub holder: Option<String>,
}

fn is_live(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    millis(expires_at) > millis(now)
}

/// Expired ledger entries are dropped every this many ledger writes (as the in-memory store does):
/// on every write it would make a broadcast slower, never it would let the file grow for ever.
const PRUNE_EVERY: i64 = 4096;
const LEDGER_WRITES: &str = "ledger_writes";

pub(crate) fn delivery(
    connection: &Connection,
    key: &DeliveryKey,
) -> Result<Option<Delivery>, StoreError> {
    let name = format!("delivery {} {}", key.chat, key.message);
    let row: Option<(String, String, Option<String>)> = connection
        .query_row(
            "SELECT at, expires_at, owner FROM deliveries WHERE chat = ?1 AND message = ?2",
            params![key.chat.0, key.message],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(unavailable)?;
    row.map(|(at, expires_at, owner)| {
        Ok(Delivery {
            at: parse_instant(&at, &name)?,
            expires_at: parse_instant(&expires_at, &name)?,
            owner,
        })
    })
    .transpose()
}

pub(crate) fn lease(connection: &Connection, name: &str) -> Result<Option<Lease>, StoreError> {
    let key = format!("lease {name}");
    let row: Option<(String, String, Option<String>)> = connection
        .query_row(
            "SELECT at, expires_at, holder FROM leases WHERE key = ?1",
            [name],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(unavailable)?;
    row.map(|(at, expires_at, holder)| {
        Ok(Lease {
            at: parse_instant(&at, &key)?,
            expires_at: parse_instant(&expires_at, &key)?,
            holder,
        })
    })
    .transpose()
}

fn put_delivery(
    tx: &Tx<'_>,
    key: &DeliveryKey,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    owner: Option<&str>,
) -> Result<(), StoreError> {
    tx.connection()
        .execute(
            "INSERT INTO deliveries (chat, message, at, expires_at, expires_at_ms, owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (chat, message) DO UPDATE SET at = excluded.at,
                 expires_at = excluded.expires_at, expires_at_ms = excluded.expires_at_ms,
                 owner = excluded.owner",
            params![
                key.chat.0,
                key.message,
                instant(at),
                instant(expires_at),
                millis(expires_at),
                owner
            ],
        )
        .map(drop)
        .map_err(unavailable)
}

/// Counts a ledger write; every [`PRUNE_EVERY`] drops the entries expired at `now`.
fn prune_deliveries(tx: &Tx<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
    let written = crate::schema::counter(tx.connection(), LEDGER_WRITES)?.unwrap_or(0) + 1;
    if written >= PRUNE_EVERY {
        tx.connection()
            .execute(
                "DELETE FROM deliveries WHERE expires_at_ms <= ?1",
                [millis(now)],
            )
            .map_err(unavailable)?;
        crate::schema::set_counter(tx.connection(), LEDGER_WRITES, 0)
    } else {
        crate::schema::set_counter(tx.connection(), LEDGER_WRITES, written)
    }
}

#[async_trait]
impl DeliveryLedger for SqliteStore {
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let (key, owner) = (key.clone(), owner.to_owned());
        self.write(move |tx| {
            tx.touch(Touched::Delivery(key.clone()))?;
            prune_deliveries(tx, now)?;
            if let Some(live) =
                delivery(tx.connection(), &key)?.filter(|d| is_live(d.expires_at, now))
            {
                match live.owner {
                    None => return Ok(Claim::Delivered),
                    Some(holder) if holder != owner => {
                        return Ok(Claim::HeldBy {
                            owner: holder,
                            until: live.expires_at,
                        });
                    }
                    Some(_) => {}
                }
            }
            put_delivery(tx, &key, now, lease_until, Some(&owner))?;
            Ok(Claim::Claimed)
        })
        .await
    }

    async fn confirm_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |tx| {
            tx.touch(Touched::Delivery(key.clone()))?;
            put_delivery(tx, &key, at, expires_at, None)
        })
        .await
    }

    /// Every key in one transaction: one commit (and one sync to disk) instead of one per key.
    async fn confirm_deliveries(
        &self,
        keys: &[DeliveryKey],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            for key in &keys {
                tx.touch(Touched::Delivery(key.clone()))?;
                put_delivery(tx, key, at, expires_at, None)?;
            }
            Ok(())
        })
        .await
    }

    async fn release_delivery(&self, key: &DeliveryKey, owner: &str) -> Result<(), StoreError> {
        let (key, owner) = (key.clone(), owner.to_owned());
        self.write(move |tx| {
            tx.touch(Touched::Delivery(key.clone()))?;
            tx.connection()
                .execute(
                    "DELETE FROM deliveries WHERE chat = ?1 AND message = ?2 AND owner = ?3",
                    params![key.chat.0, key.message, owner],
                )
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn was_delivered(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = key.clone();
        self.read(move |connection| {
            Ok(delivery(connection, &key)?
                .is_some_and(|d| d.owner.is_none() && is_live(d.expires_at, now)))
        })
        .await
    }

    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = key.clone();
        self.write(move |tx| {
            tx.touch(Touched::Delivery(key.clone()))?;
            prune_deliveries(tx, at)?;
            if delivery(tx.connection(), &key)?.is_some_and(|d| is_live(d.expires_at, at)) {
                return Ok(false);
            }
            put_delivery(tx, &key, at, expires_at, None)?;
            Ok(true)
        })
        .await
    }
}

impl SqliteStore {
    async fn claim(
        &self,
        key: &str,
        holder: Option<&str>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (key, holder) = (key.to_owned(), holder.map(str::to_owned));
        self.write(move |tx| {
            tx.touch(Touched::Lease(key.clone()))?;
            let held = lease(tx.connection(), &key)?;
            tx.connection()
                .execute(
                    "DELETE FROM leases WHERE expires_at_ms <= ?1",
                    [millis(now)],
                )
                .map_err(unavailable)?;
            let claimable = match held.filter(|l| is_live(l.expires_at, now)) {
                None => true,
                Some(live) => holder.is_some() && live.holder == holder,
            };
            if !claimable {
                return Ok(false);
            }
            tx.connection()
                .execute(
                    "INSERT INTO leases (key, at, expires_at, expires_at_ms, holder)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (key) DO UPDATE SET at = excluded.at,
                         expires_at = excluded.expires_at, expires_at_ms = excluded.expires_at_ms,
                         holder = excluded.holder",
                    params![key, instant(now), instant(until), millis(until), holder],
                )
                .map_err(unavailable)?;
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl Leases for SqliteStore {
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
        let (key, holder) = (key.to_owned(), holder.to_owned());
        self.write(move |tx| {
            tx.touch(Touched::Lease(key.clone()))?;
            tx.connection()
                .execute(
                    "DELETE FROM leases WHERE key = ?1 AND holder = ?2",
                    params![key, holder],
                )
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn is_claimed(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.read(move |connection| {
            Ok(lease(connection, &key)?.is_some_and(|l| is_live(l.expires_at, now)))
        })
        .await
    }

    async fn try_take(
        &self,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = key.to_owned();
        // Not an item any stream consumer reads: nothing touched (as in memory).
        self.write(move |tx| {
            let connection = tx.connection();
            connection
                .execute("DELETE FROM takes WHERE expires_at_ms <= ?1", [millis(now)])
                .map_err(unavailable)?;
            let taken: i64 = connection
                .query_row("SELECT taken FROM takes WHERE key = ?1", [&key], |row| {
                    row.get(0)
                })
                .optional()
                .map_err(unavailable)?
                .unwrap_or(0);
            if taken >= i64::from(limit) {
                return Ok(false);
            }
            connection
                .execute(
                    "INSERT INTO takes (key, taken, expires_at_ms) VALUES (?1, 1, ?2)
                     ON CONFLICT (key) DO UPDATE SET taken = taken + 1",
                    params![key, millis(until)],
                )
                .map_err(unavailable)?;
            Ok(true)
        })
        .await
    }
}
