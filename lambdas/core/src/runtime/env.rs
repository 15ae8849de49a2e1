//! Reading configuration from environment variables, with errors that say which variable and why.

use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set: {purpose}")]
    Missing {
        name: &'static str,
        purpose: &'static str,
    },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("cannot set up the {what} client: {reason}")]
    Client { what: &'static str, reason: String },
}

/// Who may link channels to areas (`/channel`): comma-separated Telegram ids
/// ([`ChannelAdmins`](crate::domain::ChannelAdmins)), read by the webhook and `loadshed serve`.
pub const CHANNEL_ADMINS: &str = "CHANNEL_ADMINS";

/// A variable that must be set and not empty.
pub fn required(name: &'static str, purpose: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError::Missing { name, purpose })
}

/// A variable that may be absent; empty counts as absent (SAM writes empty strings for unset
/// parameters).
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// A parsed variable with a default when absent.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: format!("{text:?}: {e}"),
            }),
    }
}
