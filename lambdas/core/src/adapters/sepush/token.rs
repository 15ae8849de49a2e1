//! The EskomSePush API token: kept out of every log line and debug print.

use std::fmt;

/// A secret: `Debug` and `Display` never show it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(token.into().trim().to_owned())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The token itself, for the one place that sends it: the `Token` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let token = ApiToken::new(" 0A1B2C3D-SECRET ");
        assert_eq!(token.expose(), "0A1B2C3D-SECRET");
        assert!(!format!("{token:?} {token}").contains("SECRET"));
    }
}
