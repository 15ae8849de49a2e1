//! The database file: pragmas, tables, and the format number that guards them.

use std::path::Path;

use loadshed_core::errors::StoreError;
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::unavailable;

/// Bumped on any change an older version could misread; a database of another format is refused.
const FORMAT: i64 = 1;

/// One table per kind of item of the in-memory store's state. Values that are domain types are
/// kept as their serde JSON (as the in-memory store's snapshot keeps them); instants as RFC 3339
/// text, exact to the nanosecond, with the expiry also in epoch milliseconds for comparisons.
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stage (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    stored TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stage_refresh (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    marker TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedules (
    area TEXT NOT NULL,
    stage INTEGER NOT NULL,
    schedule TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (area, stage)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (
    chat INTEGER NOT NULL,
    area_id TEXT NOT NULL,
    area TEXT NOT NULL,
    subscribed_at TEXT NOT NULL,
    PRIMARY KEY (chat, area_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subscriptions_by_area ON subscriptions (area_id, chat);
CREATE TABLE IF NOT EXISTS settings (
    chat INTEGER PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channels (
    area_id TEXT NOT NULL,
    channel INTEGER NOT NULL,
    link TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (area_id, channel)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS channels_by_channel ON channels (channel);
CREATE TABLE IF NOT EXISTS deliveries (
    chat INTEGER NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    owner TEXT,
    PRIMARY KEY (chat, message)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_by_expiry ON deliveries (expires_at_ms);
CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    holder TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS takes (
    key TEXT PRIMARY KEY,
    taken INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream (
    sequence INTEGER PRIMARY KEY,
    record TEXT NOT NULL
);
";

/// Opens the database, creating the folder, the file and the tables as needed.
pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| {
            StoreError::Misconfigured(format!("cannot create {}: {error}", parent.display()))
        })?;
    }
    let connection = Connection::open(path).map_err(|error| {
        StoreError::Misconfigured(format!("cannot open {}: {error}", path.display()))
    })?;
    // WAL: readers never block the writer and a commit appends to one file. FULL: the WAL is
    // synced at every commit, so a committed write survives a power cut, not only a killed
    // process. busy_timeout: another process briefly holding the file (a backup) is waited for.
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
        .and_then(|()| connection.pragma_update(None, "foreign_keys", "ON"))
        .and_then(|()| connection.busy_timeout(std::time::Duration::from_secs(5)))
        .map_err(unavailable)?;
    let mode: String = connection
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .map_err(unavailable)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Misconfigured(format!(
            "{} cannot be put in WAL mode (it stays {mode}): is it on a network file system?",
            path.display()
        )));
    }
    connection.execute_batch(TABLES).map_err(unavailable)?;
    match counter(&connection, "format")? {
        None => set_counter(&connection, "format", FORMAT)?,
        Some(FORMAT) => {}
        Some(other) => {
            return Err(StoreError::Corrupt {
                key: path.display().to_string(),
                detail: format!(
                    "database format {other} is not the format {FORMAT} this version reads"
                ),
            });
        }
    }
    Ok(connection)
}

pub(crate) fn counter(connection: &Connection, name: &str) -> Result<Option<i64>, StoreError> {
    connection
        .query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
            row.get(0)
        })
        .optional()
        .map_err(unavailable)
}

pub(crate) fn set_counter(
    connection: &Connection,
    name: &str,
    value: i64,
) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO meta (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )
        .map(drop)
        .map_err(unavailable)
}
