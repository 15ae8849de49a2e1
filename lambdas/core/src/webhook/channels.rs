//! Area channels: naming a channel in `/channel`, and what Telegram says about it and the bot's
//! standing there, which decides whether the bot can post the area's news to it.

use async_trait::async_trait;

use crate::adapters::telegram::{ChatInfo, ChatMemberInfo, ChatRef, TelegramClient, TelegramError};
use crate::domain::ChatId;
use crate::runtime::telegram::TelegramMessenger;

/// The Bot API calls `/channel` makes itself (their answers are needed, so they cannot ride in the
/// webhook's response).
#[async_trait]
pub trait ChannelLookup: Send + Sync {
    /// `getChat`.
    async fn chat(&self, chat: &ChatRef) -> Result<ChatInfo, TelegramError>;
    /// The bot's own `getChatMember` in `chat` (its id from `getMe`).
    async fn bot_member(&self, chat: ChatId) -> Result<ChatMemberInfo, TelegramError>;
}

#[async_trait]
impl ChannelLookup for TelegramClient {
    async fn chat(&self, chat: &ChatRef) -> Result<ChatInfo, TelegramError> {
        self.get_chat(chat).await
    }

    async fn bot_member(&self, chat: ChatId) -> Result<ChatMemberInfo, TelegramError> {
        // Asked each time: `/channel` is an operator's rare command, and the token's numeric
        // prefix is a convention the Bot API does not promise.
        let me = self.get_me().await?;
        self.get_chat_member(chat, me.id).await
    }
}

/// The client whose token may still be in SSM: the first call loads it.
#[async_trait]
impl ChannelLookup for TelegramMessenger {
    async fn chat(&self, chat: &ChatRef) -> Result<ChatInfo, TelegramError> {
        self.loaded("getChat").await?.chat(chat).await
    }

    async fn bot_member(&self, chat: ChatId) -> Result<ChatMemberInfo, TelegramError> {
        self.loaded("getChatMember").await?.bot_member(chat).await
    }
}

/// Reads the channel an operator named: `@username`, `https://t.me/username` or a numeric id
/// (`-100…`). `None` for anything else.
pub fn parse_reference(text: &str) -> Option<ChatRef> {
    if let Ok(id) = text.parse::<i64>() {
        // Channels and supergroups are negative; a user's id is never a channel.
        return (id < 0).then_some(ChatRef::Id(id));
    }
    let name = text
        .strip_prefix('@')
        .or_else(|| text.strip_prefix("https://t.me/"))
        .or_else(|| text.strip_prefix("t.me/"))?;
    // Telegram's usernames: 5 to 32 letters, digits and underscores.
    let valid = (5..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    valid.then(|| ChatRef::Username(format!("@{name}")))
}

/// How people join the channel: its public address, else its invite link.
pub fn join_url(chat: &ChatInfo) -> Option<String> {
    chat.username
        .as_ref()
        .map(|name| format!("https://t.me/{name}"))
        .or_else(|| chat.invite_link.clone())
}

/// Why the bot cannot post to a chat named in `/channel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPostable {
    /// A group or a private chat, not a channel.
    NotAChannel,
    /// The bot is not an administrator there (or not in it at all).
    NotAdmin,
    /// An administrator without the right to post messages.
    CannotPost,
}

/// Whether the bot's standing lets it post to the channel.
pub fn postable(chat: &ChatInfo, bot: &ChatMemberInfo) -> Result<(), NotPostable> {
    if chat.kind != "channel" {
        return Err(NotPostable::NotAChannel);
    }
    match bot.status.as_str() {
        "creator" => Ok(()),
        "administrator" if bot.can_post_messages => Ok(()),
        "administrator" => Err(NotPostable::CannotPost),
        _ => Err(NotPostable::NotAdmin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(kind: &str, username: Option<&str>, invite: Option<&str>) -> ChatInfo {
        ChatInfo {
            id: -1001,
            kind: kind.to_owned(),
            title: Some("Power".into()),
            username: username.map(str::to_owned),
            invite_link: invite.map(str::to_owned),
        }
    }

    fn member(status: &str, can_post_messages: bool) -> ChatMemberInfo {
        ChatMemberInfo {
            status: status.to_owned(),
            can_post_messages,
        }
    }

    #[test]
    fn references_are_usernames_links_or_negative_ids() {
        let name = Some(ChatRef::Username("@fourways_power".into()));
        assert_eq!(parse_reference("@fourways_power"), name);
        assert_eq!(parse_reference("https://t.me/fourways_power"), name);
        assert_eq!(parse_reference("t.me/fourways_power"), name);
        assert_eq!(
            parse_reference("-1001234567890"),
            Some(ChatRef::Id(-1001234567890))
        );
        for bad in [
            "42",
            "@abc",
            "@has space",
            "@päivä_news",
            "fourways",
            "",
            "@",
            "-x",
        ] {
            assert_eq!(parse_reference(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_bot_must_be_an_admin_allowed_to_post_in_a_channel() {
        let channel = chat("channel", None, None);
        assert_eq!(postable(&channel, &member("administrator", true)), Ok(()));
        assert_eq!(
            postable(&channel, &member("administrator", false)),
            Err(NotPostable::CannotPost)
        );
        for status in ["member", "left", "kicked", "restricted"] {
            assert_eq!(
                postable(&channel, &member(status, true)),
                Err(NotPostable::NotAdmin)
            );
        }
        assert_eq!(
            postable(
                &chat("supergroup", None, None),
                &member("administrator", true)
            ),
            Err(NotPostable::NotAChannel)
        );
    }

    #[test]
    fn the_join_link_is_the_public_address_else_the_invite_link() {
        assert_eq!(
            join_url(&chat("channel", Some("power"), Some("https://t.me/+abc"))).as_deref(),
            Some("https://t.me/power")
        );
        assert_eq!(
            join_url(&chat("channel", None, Some("https://t.me/+abc"))).as_deref(),
            Some("https://t.me/+abc")
        );
        assert_eq!(join_url(&chat("channel", None, None)), None);
    }
}
