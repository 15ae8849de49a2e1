//! The store of `loadshed serve`: SQLite in one file, in WAL mode, with the same [`Store`] traits
//! and the same change feed as the in-memory store (`loadshed_core::adapters::memory_store`),
//! checked by the same contract suite.
//!
//! Durability: every call is one transaction, committed (`synchronous = FULL`: the WAL is synced
//! at each commit) before it returns, so a process killed at any moment loses nothing it was told
//! was written, and a power cut loses nothing either.
//!
//! The change feed is durable too: the stream records a write makes are stored in the same
//! transaction (table `stream`) and sent on after the commit; [`SqliteStore::checkpoint`] drops
//! those the consumer is done with, and opening the store again sends those left first, so a
//! record is never lost between a write and its consumer (it may be seen twice, as a DynamoDB
//! stream's consumer may see a record twice; every consumer is idempotent).
//!
//! One connection behind a mutex, used on tokio's blocking threads: every call is atomic, as in
//! the in-memory store, which is at least as strong as DynamoDB's per-item conditions.

mod codec;
mod feed;
mod ledger;
mod schema;
mod stage;
mod subscriptions;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lambda_events::dynamodb::EventRecord;
use loadshed_core::clock::Clock;
use loadshed_core::errors::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use feed::Tx;
pub use feed::{STREAM_ARN, sequence_of};

/// The receiving end of the change feed: one record per item change, in write order, starting
/// with those a previous process left unconsumed.
pub type ChangeFeed = UnboundedReceiver<EventRecord>;

/// The file name of the database in the data folder.
pub const DATABASE_FILE: &str = "loadshed.sqlite3";

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Mutex<Connection>,
    feed: Option<FeedSink>,
    path: PathBuf,
}

struct FeedSink {
    sender: UnboundedSender<EventRecord>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("feed", &self.inner.feed.is_some())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating it and its folder if need be) the database at `path`, without a change
    /// feed: writes record no stream records.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let connection = blocking(move || schema::open(&path).map(|c| (c, path))).await?;
        Ok(SqliteStore::from_parts(connection, None))
    }

    /// Opens the database with its change feed on: the records a previous process left
    /// unconsumed come first, then one per item change from now on, stamped with `clock`'s time.
    pub async fn open_with_feed(
        path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, ChangeFeed), StoreError> {
        let path = path.as_ref().to_owned();
        let (connection, left) = blocking(move || {
            let connection = schema::open(&path)?;
            let left = feed::unconsumed(&connection)?;
            Ok(((connection, path), left))
        })
        .await?;
        let (sender, receiver) = unbounded_channel();
        if !left.is_empty() {
            tracing::info!(
                records = left.len(),
                "stream records a previous run left unconsumed: sent again"
            );
        }
        for record in left {
            // The receiver is in hand: this cannot fail.
            let _ = sender.send(record);
        }
        let sink = FeedSink { sender, clock };
        Ok((SqliteStore::from_parts(connection, Some(sink)), receiver))
    }

    fn from_parts((connection, path): (Connection, PathBuf), feed: Option<FeedSink>) -> Self {
        SqliteStore {
            inner: Arc::new(Inner {
                connection: Mutex::new(connection),
                feed,
                path,
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The consumer is done with every stream record up to `sequence` (the number in the
    /// record's `SequenceNumber`): they are not sent again when the store is next opened.
    pub async fn checkpoint(&self, sequence: u64) -> Result<(), StoreError> {
        self.read(move |connection| feed::checkpoint(connection, sequence))
            .await
    }

    /// Stream records stored and not yet checkpointed.
    pub async fn unconsumed(&self) -> Result<usize, StoreError> {
        self.read(|connection| feed::unconsumed(connection).map(|left| left.len()))
            .await
    }

    /// A named number kept with the data (e.g. the next Telegram update offset), written in its
    /// own transaction.
    pub async fn counter(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let name = name.to_owned();
        self.read(move |connection| schema::counter(connection, &name))
            .await
    }

    pub async fn set_counter(&self, name: &str, value: i64) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.read(move |connection| schema::set_counter(connection, &name, value))
            .await
    }

    /// Runs `work` on the connection on a blocking thread (reads, and writes no stream record).
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        blocking(move || work(&inner.lock())).await
    }

    /// Runs `work` in one transaction, then commits it with the stream records of the items it
    /// touched and changed, and sends those on; an error rolls everything back.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        blocking(move || {
            let mut connection = inner.lock();
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(codec::unavailable)?;
            let clock = inner.feed.as_ref().map(|sink| sink.clock.clone());
            let mut tx = Tx::new(transaction, clock);
            let result = work(&mut tx)?;
            let records = tx.commit()?;
            if let Some(sink) = &inner.feed {
                // Sent under the lock, so records leave in commit order. A dropped receiver only
                // means nobody follows the feed any more; the records stay stored.
                for record in records {
                    let _ = sink.sender.send(record);
                }
            }
            Ok(result)
        })
        .await
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic in a transaction rolled it back as it unwound: the connection is fine to use.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// SQLite calls block: off the async worker threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| StoreError::Unavailable(format!("a store call did not finish: {error}")))?
}
