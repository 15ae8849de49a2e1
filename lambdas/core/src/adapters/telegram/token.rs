use std::fmt;

/// A bot token (`123456:AA...`). It is a password and travels in the URL path, so it never prints:
/// `Debug` and `Display` show only the bot's public id.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("the bot token is empty")]
    Empty,
    /// Deliberately without the value: a mistyped token is still mostly the real one.
    #[error(
        "the bot token is not of the form <bot id>:<secret> (digits, a colon, then letters, digits, '_' or '-')"
    )]
    Malformed,
}

impl BotToken {
    /// Checks the shape BotFather issues, which also guarantees the token is safe inside a URL path.
    pub fn new(token: impl Into<String>) -> Result<Self, InvalidToken> {
        let token = token.into();
        let trimmed = token.trim();
        if trimmed.is_empty() {
            return Err(InvalidToken::Empty);
        }
        let (id, secret) = trimmed.split_once(':').ok_or(InvalidToken::Malformed)?;
        let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let secret_ok = !secret.is_empty()
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !(id_ok && secret_ok) {
            return Err(InvalidToken::Malformed);
        }
        Ok(BotToken(trimmed.to_owned()))
    }

    /// The part before the colon: the bot's user id, which is public.
    pub fn bot_id(&self) -> &str {
        self.0.split_once(':').map_or("", |(id, _)| id)
    }

    pub(super) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BotToken({}:<redacted>)", self.bot_id())
    }
}

impl fmt::Display for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:<redacted>", self.bot_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_botfather_tokens_and_never_prints_the_secret() {
        let token = BotToken::new(" 123456:AAH-x_yz09 ").expect("valid token");
        assert_eq!(token.bot_id(), "123456");
        assert_eq!(token.expose(), "123456:AAH-x_yz09");
        for shown in [format!("{token:?}"), token.to_string()] {
            assert!(!shown.contains("AAH-x_yz09"), "{shown}");
            assert!(shown.contains("123456"), "{shown}");
        }
    }

    #[test]
    fn rejects_tokens_that_could_escape_the_url_path() {
        assert_eq!(BotToken::new(""), Err(InvalidToken::Empty));
        for bad in [
            "123456", "abc:def", ":secret", "123:", "123:a/b", "123:a?b", "123:a b",
        ] {
            assert_eq!(BotToken::new(bad), Err(InvalidToken::Malformed), "{bad}");
        }
    }
}
