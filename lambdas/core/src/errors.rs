//! The error catalogue: every name a task can fail with.
//!
//! These names are the Lambda `errorType`s that `statemachine/refresh.asl.json` retries (transient) or
//! catches (permanent). They are an API: never rename one without changing the definition, and keep
//! this list the single place they are written.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorName {
    // Transient: the same call may well succeed in a moment.
    /// An upstream API did not answer in time.
    UpstreamTimeout,
    /// Connection failed or dropped, or a 5xx answer.
    UpstreamUnavailable,
    /// Upstream asked us to slow down (HTTP 429 without a quota message).
    UpstreamRateLimited,
    /// Eskom's web application firewall served its "Request Rejected" page.
    UpstreamBlocked,
    /// Eskom's GetStatus flapped to 0, -1 or another value that is no stage.
    StageReadingInvalid,
    /// The store could not be reached or throttled us.
    StoreUnavailable,
    /// Telegram could not be reached, answered 5xx, or kept rate limiting past our patience.
    TelegramUnavailable,
    /// A notify run reached its deadline with messages left; the next run resumes them.
    NotifyUnfinished,

    // Permanent: retrying cannot help; a person must look.
    /// The API token was refused (HTTP 401/403).
    UpstreamUnauthorized,
    /// The EskomSePush daily quota is used up.
    UpstreamQuotaExceeded,
    /// Upstream does not know, or does not supply, the area.
    AreaNotFound,
    /// Upstream answered with something we cannot read.
    UpstreamMalformed,
    /// A stored item could not be decoded.
    StoreCorrupt,
    /// The table does not exist or the credentials are refused.
    StoreMisconfigured,
    /// Telegram refused the bot token.
    TelegramUnauthorized,
    /// The task was invoked with a payload of no known shape, or invalid values.
    InvalidInput,
    /// A bug: the handler panicked (its message is logged and returned).
    HandlerPanicked,
}

impl ErrorName {
    pub const ALL: &'static [ErrorName] = &[
        ErrorName::UpstreamTimeout,
        ErrorName::UpstreamUnavailable,
        ErrorName::UpstreamRateLimited,
        ErrorName::UpstreamBlocked,
        ErrorName::StageReadingInvalid,
        ErrorName::StoreUnavailable,
        ErrorName::TelegramUnavailable,
        ErrorName::NotifyUnfinished,
        ErrorName::UpstreamUnauthorized,
        ErrorName::UpstreamQuotaExceeded,
        ErrorName::AreaNotFound,
        ErrorName::UpstreamMalformed,
        ErrorName::StoreCorrupt,
        ErrorName::StoreMisconfigured,
        ErrorName::TelegramUnauthorized,
        ErrorName::InvalidInput,
        ErrorName::HandlerPanicked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::UpstreamTimeout => "UpstreamTimeout",
            ErrorName::UpstreamUnavailable => "UpstreamUnavailable",
            ErrorName::UpstreamRateLimited => "UpstreamRateLimited",
            ErrorName::UpstreamBlocked => "UpstreamBlocked",
            ErrorName::StageReadingInvalid => "StageReadingInvalid",
            ErrorName::StoreUnavailable => "StoreUnavailable",
            ErrorName::TelegramUnavailable => "TelegramUnavailable",
            ErrorName::NotifyUnfinished => "NotifyUnfinished",
            ErrorName::UpstreamUnauthorized => "UpstreamUnauthorized",
            ErrorName::UpstreamQuotaExceeded => "UpstreamQuotaExceeded",
            ErrorName::AreaNotFound => "AreaNotFound",
            ErrorName::UpstreamMalformed => "UpstreamMalformed",
            ErrorName::StoreCorrupt => "StoreCorrupt",
            ErrorName::StoreMisconfigured => "StoreMisconfigured",
            ErrorName::TelegramUnauthorized => "TelegramUnauthorized",
            ErrorName::InvalidInput => "InvalidInput",
            ErrorName::HandlerPanicked => "HandlerPanicked",
        }
    }

    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorName::UpstreamTimeout
                | ErrorName::UpstreamUnavailable
                | ErrorName::UpstreamRateLimited
                | ErrorName::UpstreamBlocked
                | ErrorName::StageReadingInvalid
                | ErrorName::StoreUnavailable
                | ErrorName::TelegramUnavailable
                | ErrorName::NotifyUnfinished
        )
    }

    pub fn from_name(name: &str) -> Option<ErrorName> {
        ErrorName::ALL.iter().copied().find(|e| e.as_str() == name)
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Anything that fails with a catalogued name.
pub trait Named {
    fn error_name(&self) -> ErrorName;
}

/// A failure talking to Eskom or EskomSePush. `service` names which one.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{service} did not answer within {after:?}")]
    Timeout {
        service: &'static str,
        after: Duration,
    },
    #[error("{service} is unavailable: {detail}")]
    Unavailable {
        service: &'static str,
        detail: String,
    },
    #[error("{service} is rate limiting requests{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        service: &'static str,
        retry_after: Option<Duration>,
    },
    #[error("{service}'s firewall rejected the request (\"Request Rejected\" page)")]
    Blocked { service: &'static str },
    #[error("{service} returned {reading:?}, which is not a stage")]
    InvalidReading {
        service: &'static str,
        reading: String,
    },
    #[error("{service} refused the API token")]
    Unauthorized { service: &'static str },
    #[error("{service} quota exceeded: {detail}")]
    QuotaExceeded {
        service: &'static str,
        detail: String,
    },
    #[error("{service} does not supply area {area}")]
    AreaNotFound { service: &'static str, area: String },
    #[error("{service} sent a response we cannot read: {detail}")]
    Malformed {
        service: &'static str,
        detail: String,
    },
}

impl Named for UpstreamError {
    fn error_name(&self) -> ErrorName {
        match self {
            UpstreamError::Timeout { .. } => ErrorName::UpstreamTimeout,
            UpstreamError::Unavailable { .. } => ErrorName::UpstreamUnavailable,
            UpstreamError::RateLimited { .. } => ErrorName::UpstreamRateLimited,
            UpstreamError::Blocked { .. } => ErrorName::UpstreamBlocked,
            UpstreamError::InvalidReading { .. } => ErrorName::StageReadingInvalid,
            UpstreamError::Unauthorized { .. } => ErrorName::UpstreamUnauthorized,
            UpstreamError::QuotaExceeded { .. } => ErrorName::UpstreamQuotaExceeded,
            UpstreamError::AreaNotFound { .. } => ErrorName::AreaNotFound,
            UpstreamError::Malformed { .. } => ErrorName::UpstreamMalformed,
        }
    }
}

/// A failure of the store.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("stored item {key} is corrupt: {detail}")]
    Corrupt { key: String, detail: String },
    #[error("store misconfigured: {0}")]
    Misconfigured(String),
    /// The store refused the request itself (a key or item over DynamoDB's size limits): the same
    /// request can never succeed.
    #[error("store refused the request: {0}")]
    Invalid(String),
}

impl Named for StoreError {
    fn error_name(&self) -> ErrorName {
        match self {
            StoreError::Unavailable(_) => ErrorName::StoreUnavailable,
            StoreError::Corrupt { .. } => ErrorName::StoreCorrupt,
            StoreError::Misconfigured(_) => ErrorName::StoreMisconfigured,
            StoreError::Invalid(_) => ErrorName::InvalidInput,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for name in ErrorName::ALL {
            assert_eq!(ErrorName::from_name(name.as_str()), Some(*name));
            let serialized = serde_json::to_value(name).expect("serialize");
            assert_eq!(serialized, name.as_str());
        }
        let mut names: Vec<_> = ErrorName::ALL.iter().map(|n| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorName::ALL.len());
    }

    #[test]
    fn transient_and_permanent_are_both_present() {
        assert!(ErrorName::ALL.iter().any(|n| n.is_transient()));
        assert!(ErrorName::ALL.iter().any(|n| !n.is_transient()));
        assert!(!ErrorName::UpstreamUnauthorized.is_transient());
        assert!(ErrorName::UpstreamBlocked.is_transient());
    }
}
