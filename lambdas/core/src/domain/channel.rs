//! Area channels: a Telegram channel an operator linked to an area, so the area's news is posted
//! there once for all its members, besides each subscriber's own chat.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{AreaId, ChatId};

/// A channel linked to an area. The channel is also subscribed to the area (it is one more chat of
/// the area, so every notify path, paging included, reaches it); this record is what `/subscribe`
/// shows people beside their own subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelLink {
    pub channel: ChatId,
    pub area: AreaId,
    /// The channel's title, cut to [`ChannelLink::TITLE_MAX_CHARS`].
    pub title: String,
    /// Where people join: `https://t.me/<username>` for a public channel, else its invite link;
    /// none when Telegram gave neither (the bot lacks the right to invite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The Telegram user who linked it (from the operator allow-list), for the logs and audits.
    pub linked_by: i64,
}

impl ChannelLink {
    /// Telegram's own limit on a chat title.
    pub const TITLE_MAX_CHARS: usize = 128;
    /// Longer than any t.me or invite link Telegram makes: an item stays far within DynamoDB's.
    pub const URL_MAX_CHARS: usize = 256;

    pub fn new(
        channel: ChatId,
        area: AreaId,
        title: &str,
        url: Option<String>,
        linked_by: i64,
    ) -> Self {
        ChannelLink {
            channel,
            area,
            title: title.chars().take(Self::TITLE_MAX_CHARS).collect(),
            url: url.filter(|url| {
                url.starts_with("https://") && url.chars().count() <= Self::URL_MAX_CHARS
            }),
            linked_by,
        }
    }

    /// Whether a store may keep it: what [`ChannelLink::new`] builds always is.
    pub fn is_within_limits(&self) -> bool {
        self.title.chars().count() <= Self::TITLE_MAX_CHARS
            && self
                .url
                .as_ref()
                .is_none_or(|url| url.chars().count() <= Self::URL_MAX_CHARS)
            && self.area.as_str().len() <= AreaId::MAX_BYTES
    }
}

/// The Telegram users (or chats) allowed to link channels: the operator allow-list. Empty: nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelAdmins(BTreeSet<i64>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a Telegram user or chat id (expected comma-separated whole numbers)")]
pub struct InvalidChannelAdmins(pub String);

impl ChannelAdmins {
    pub fn new(ids: impl IntoIterator<Item = i64>) -> Self {
        ChannelAdmins(ids.into_iter().collect())
    }

    pub fn allows(&self, id: i64) -> bool {
        self.0.contains(&id)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl FromStr for ChannelAdmins {
    type Err = InvalidChannelAdmins;

    /// `"12345, -1001234"`; blanks around ids and an empty list are fine, anything else is refused
    /// whole (a typo must not quietly leave an operator out, or let someone in).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse::<i64>()
                    .ok()
                    .filter(|n| *n != 0)
                    .ok_or_else(|| InvalidChannelAdmins(id.to_owned()))
            })
            .collect::<Result<BTreeSet<_>, _>>()
            .map(ChannelAdmins)
    }
}

impl fmt::Display for ChannelAdmins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.0.iter().map(i64::to_string).collect();
        f.write_str(&ids.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_parse_from_a_comma_separated_list() {
        let admins: ChannelAdmins = " 12345, -1001234567890 ,,".parse().expect("valid");
        assert!(admins.allows(12345));
        assert!(admins.allows(-1001234567890));
        assert!(!admins.allows(1));
        assert_eq!(admins.len(), 2);
        assert!("".parse::<ChannelAdmins>().expect("empty").is_empty());
        for bad in ["12a", "@alice", "1;2", "0", "99999999999999999999"] {
            assert!(bad.parse::<ChannelAdmins>().is_err(), "{bad}");
        }
    }

    #[test]
    fn links_keep_only_https_urls_and_short_titles() {
        let area = AreaId::new("eskom:1");
        let link = ChannelLink::new(
            ChatId(-100),
            area.clone(),
            &"t".repeat(300),
            Some("javascript:alert(1)".into()),
            7,
        );
        assert_eq!(link.title.chars().count(), ChannelLink::TITLE_MAX_CHARS);
        assert_eq!(link.url, None);
        assert!(link.is_within_limits());
        let link = ChannelLink::new(ChatId(-100), area, "x", Some("https://t.me/x".into()), 7);
        assert_eq!(link.url.as_deref(), Some("https://t.me/x"));
    }
}
