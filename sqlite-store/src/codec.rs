//! Values to and from columns: instants as exact RFC 3339 text, domain values as serde JSON, and
//! SQLite's errors as the store's.

use chrono::{DateTime, SecondsFormat, Utc};
use loadshed_core::errors::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// SQLite could not do what was asked (I/O error, disk full, locked): a retry may succeed.
pub(crate) fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("SQLite: {error}"))
}

/// Nanoseconds kept: a value read back equals the value written.
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn parse_instant(text: &str, key: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| StoreError::Corrupt {
            key: key.to_owned(),
            detail: format!("{text:?} is not an RFC 3339 instant: {error}"),
        })
}

pub(crate) fn to_json(value: &impl Serialize, key: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Corrupt {
        key: key.to_owned(),
        detail: format!("cannot encode: {error}"),
    })
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str, key: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        key: key.to_owned(),
        detail: format!("stored value does not decode: {error}"),
    })
}

/// Expiry compared to the millisecond, as the DynamoDB adapter and the in-memory store compare it.
pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}
