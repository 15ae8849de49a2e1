//! The webhook secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token`.

use std::fmt;

use subtle::ConstantTimeEq;

/// Set with `setWebhook`'s `secret_token`: 1 to 256 characters of `A-Z`, `a-z`, `0-9`, `_` and `-`.
/// Never printed.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the webhook secret must be 1 to {max} characters of A-Z, a-z, 0-9, '_' and '-' (got {len} characters)", max = WebhookSecret::MAX_LEN)]
pub struct InvalidSecret {
    /// Only the length: the value itself is a secret even when it is a wrong one.
    pub len: usize,
}

impl WebhookSecret {
    pub const MAX_LEN: usize = 256;

    pub fn new(secret: impl Into<String>) -> Result<Self, InvalidSecret> {
        let secret = secret.into();
        let valid = !secret.is_empty()
            && secret.len() <= Self::MAX_LEN
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(WebhookSecret(secret.into_bytes()))
        } else {
            Err(InvalidSecret {
                len: secret.chars().count(),
            })
        }
    }

    /// Compares in time independent of where the first difference is, so the secret cannot be
    /// guessed byte by byte from response times. (A length mismatch returns early; the length
    /// alone does not help a guesser much.)
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_slice().ct_eq(presented).into()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_matches() {
        let secret = WebhookSecret::new("s3cret_-X").expect("valid");
        assert!(secret.matches(b"s3cret_-X"));
        assert!(!secret.matches(b"s3cret_-x"));
        assert!(!secret.matches(b"s3cret_-"));
        assert!(!secret.matches(b"s3cret_-XY"));
        assert!(!secret.matches(b""));
    }

    #[test]
    fn telegram_rules_are_enforced_and_the_value_never_printed() {
        assert!(WebhookSecret::new("").is_err());
        assert!(WebhookSecret::new("has space").is_err());
        assert!(WebhookSecret::new("a".repeat(257)).is_err());
        assert!(WebhookSecret::new("a".repeat(256)).is_ok());
        let secret = WebhookSecret::new("topsecret").expect("valid");
        assert!(!format!("{secret:?}").contains("topsecret"));
        let err = WebhookSecret::new("top secret").expect_err("invalid");
        assert!(!err.to_string().contains("top secret"));
    }
}
