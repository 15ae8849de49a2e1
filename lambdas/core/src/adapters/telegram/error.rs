use std::time::Duration;

use serde::Deserialize;

use crate::domain::ChatId;
use crate::errors::{ErrorName, Named};
use crate::ports::SendError;

/// A failed Bot API call. `method` names the call; no variant ever holds the request URL, which
/// carries the bot token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    #[error("Telegram {method}: flood control, retry after {}s", retry_after.as_secs())]
    RateLimited {
        method: &'static str,
        retry_after: Duration,
    },
    /// 403 (blocked by the user, kicked from the group, user deactivated, ...) or 400 "chat not
    /// found" (the chat was deleted, or the bot never was or no longer is in it).
    #[error("Telegram {method}: chat unreachable: {description}")]
    Forbidden {
        method: &'static str,
        description: String,
    },
    /// 400 with `parameters.migrate_to_chat_id`: the group is now a supergroup with a new id.
    #[error("Telegram {method}: chat migrated to {to}")]
    ChatMigrated { method: &'static str, to: ChatId },
    #[error("Telegram {method} refused the request ({status}): {description}")]
    Rejected {
        method: &'static str,
        status: u16,
        description: String,
    },
    #[error("Telegram refused the bot token ({method} answered {status})")]
    Unauthorized { method: &'static str, status: u16 },
    #[error("Telegram {method} did not answer within {after:?}")]
    Timeout {
        method: &'static str,
        after: Duration,
    },
    #[error("Telegram {method} is unavailable: {detail}")]
    Unavailable {
        method: &'static str,
        detail: String,
    },
    #[error("Telegram {method} sent a response we cannot read: {detail}")]
    Malformed {
        method: &'static str,
        detail: String,
    },
    /// The request's body could not be written as JSON: nothing was sent, and the same call fails
    /// the same way every time.
    #[error("Telegram {method}: the request could not be encoded as JSON: {detail}")]
    Unencodable {
        method: &'static str,
        detail: String,
    },
}

impl Named for TelegramError {
    fn error_name(&self) -> ErrorName {
        match self {
            TelegramError::RateLimited { .. }
            | TelegramError::Timeout { .. }
            | TelegramError::Unavailable { .. }
            // An unreadable answer from Telegram is a proxy or outage page, not a lasting state.
            | TelegramError::Malformed { .. } => ErrorName::TelegramUnavailable,
            TelegramError::Unauthorized { .. } => ErrorName::TelegramUnauthorized,
            // The request itself was refused for this chat: retrying the same call cannot help.
            TelegramError::Forbidden { .. }
            | TelegramError::ChatMigrated { .. }
            | TelegramError::Rejected { .. }
            | TelegramError::Unencodable { .. } => ErrorName::InvalidInput,
        }
    }
}

impl From<TelegramError> for SendError {
    fn from(error: TelegramError) -> Self {
        match error {
            TelegramError::RateLimited { retry_after, .. } => {
                SendError::RateLimited { retry_after }
            }
            TelegramError::Forbidden { description, .. } => SendError::ChatUnreachable {
                reason: description,
            },
            TelegramError::ChatMigrated { to, .. } => SendError::ChatMigrated { to },
            TelegramError::Rejected {
                status,
                description,
                ..
            } => SendError::Rejected {
                status,
                reason: description,
            },
            TelegramError::Unauthorized { .. } => SendError::Unauthorized,
            // Never sent, so no HTTP status: 0 says so. Permanent, as a refusal is.
            TelegramError::Unencodable { detail, .. } => SendError::Rejected {
                status: 0,
                reason: detail,
            },
            error @ (TelegramError::Timeout { .. }
            | TelegramError::Unavailable { .. }
            | TelegramError::Malformed { .. }) => SendError::Unavailable {
                detail: error.to_string(),
            },
        }
    }
}

/// `parameters` of an error answer.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ResponseParameters {
    pub retry_after: Option<u64>,
    pub migrate_to_chat_id: Option<i64>,
}

/// When Telegram asks for a pause without saying how long, wait this much before trying again.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Maps an error answer to its variant. `code` is the body's `error_code` when there is one (it is
/// what the Bot API documents), else the HTTP status.
pub(super) fn classify(
    method: &'static str,
    code: u16,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
) -> TelegramError {
    let parameters = parameters.unwrap_or_default();
    let description = description.unwrap_or_else(|| format!("HTTP {code}"));
    if let Some(to) = parameters.migrate_to_chat_id {
        return TelegramError::ChatMigrated {
            method,
            to: ChatId(to),
        };
    }
    match code {
        429 => TelegramError::RateLimited {
            method,
            retry_after: parameters
                .retry_after
                .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs),
        },
        401 => TelegramError::Unauthorized {
            method,
            status: code,
        },
        // Our method names are fixed, so "Not Found" means the URL's token part is not a bot Telegram
        // knows (a malformed or deleted token): the same remedy as 401, a person fixing the token.
        404 => TelegramError::Unauthorized {
            method,
            status: code,
        },
        403 => TelegramError::Forbidden {
            method,
            description,
        },
        // A chat deleted or left for good answers 400, not 403, but no later call to it can succeed
        // either: it is as unreachable as a chat that blocked the bot.
        400 if is_chat_gone(&description) => TelegramError::Forbidden {
            method,
            description,
        },
        400..=499 => TelegramError::Rejected {
            method,
            status: code,
            description,
        },
        _ => TelegramError::Unavailable {
            method,
            detail: description,
        },
    }
}

/// The 400 descriptions that mean the chat itself is gone, as the Bot API words them
/// ("Bad Request: chat not found").
fn is_chat_gone(description: &str) -> bool {
    description.to_ascii_lowercase().contains("chat not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(retry_after: Option<u64>, migrate: Option<i64>) -> Option<ResponseParameters> {
        Some(ResponseParameters {
            retry_after,
            migrate_to_chat_id: migrate,
        })
    }

    #[test]
    fn each_documented_failure_has_its_variant_and_name() {
        let cases = [
            (
                classify("sendMessage", 429, None, params(Some(9), None)),
                ErrorName::TelegramUnavailable,
            ),
            (
                classify("sendMessage", 401, Some("Unauthorized".into()), None),
                ErrorName::TelegramUnauthorized,
            ),
            (
                classify("sendMessage", 404, Some("Not Found".into()), None),
                ErrorName::TelegramUnauthorized,
            ),
            (
                classify(
                    "sendMessage",
                    403,
                    Some("Forbidden: bot was blocked by the user".into()),
                    None,
                ),
                ErrorName::InvalidInput,
            ),
            (
                classify(
                    "sendMessage",
                    400,
                    Some("Bad Request: message text is empty".into()),
                    None,
                ),
                ErrorName::InvalidInput,
            ),
            (
                classify("sendMessage", 502, None, None),
                ErrorName::TelegramUnavailable,
            ),
        ];
        for (error, name) in cases {
            assert_eq!(error.error_name(), name, "{error}");
        }
        assert_eq!(
            classify("sendMessage", 429, None, params(Some(9), None)),
            TelegramError::RateLimited {
                method: "sendMessage",
                retry_after: Duration::from_secs(9)
            }
        );
        assert_eq!(
            classify("sendMessage", 429, None, None),
            TelegramError::RateLimited {
                method: "sendMessage",
                retry_after: DEFAULT_RETRY_AFTER
            }
        );
    }

    #[test]
    fn a_chat_not_found_is_unreachable_like_a_block() {
        let error = classify(
            "sendMessage",
            400,
            Some("Bad Request: chat not found".into()),
            None,
        );
        assert_eq!(
            SendError::from(error),
            SendError::ChatUnreachable {
                reason: "Bad Request: chat not found".into()
            }
        );
        let other = classify(
            "sendMessage",
            400,
            Some("Bad Request: can't parse entities".into()),
            None,
        );
        assert!(matches!(SendError::from(other), SendError::Rejected { .. }));
    }

    #[test]
    fn migration_wins_over_the_status_code() {
        let error = classify(
            "sendMessage",
            400,
            Some("Bad Request: group chat was upgraded to a supergroup chat".into()),
            params(None, Some(-1001283156137)),
        );
        assert_eq!(
            SendError::from(error),
            SendError::ChatMigrated {
                to: ChatId(-1001283156137)
            }
        );
    }

    #[test]
    fn a_request_that_cannot_be_encoded_is_permanent() {
        let error = TelegramError::Unencodable {
            method: "sendMessage",
            detail: "key must be a string".into(),
        };
        assert_eq!(error.error_name(), ErrorName::InvalidInput);
        let sent = SendError::from(error);
        assert!(
            matches!(&sent, SendError::Rejected { status: 0, reason } if reason == "key must be a string"),
            "{sent:?}"
        );
        assert_eq!(sent.error_name(), ErrorName::InvalidInput);
    }
}
