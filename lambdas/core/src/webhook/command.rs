//! Reading a bot command from a message: `/cmd`, `/cmd@BotName` and their arguments.
//!
//! Telegram marks commands with a `bot_command` entity, so we trust the entity and do not scan the
//! text ourselves. Only a command at the very start of the message counts: a `/word` in the middle
//! of a sentence is conversation, not an order.

use super::update::{Message, MessageEntity};

/// What a message says to this bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// A command for us: the name in lowercase without slash or `@bot`, and the rest of the text
    /// trimmed. `mentioned`: written `/cmd@ThisBot`, so it was surely meant for us even in a group
    /// with other bots.
    Command {
        name: String,
        args: String,
        mentioned: bool,
    },
    /// `/cmd@SomeOtherBot`: not ours to answer.
    OtherBot,
    /// No command at the start of the message.
    NotACommand,
}

/// Reads `message` as seen by the bot called `bot_username` (with or without the leading `@`).
pub fn parse(message: &Message, bot_username: &str) -> Addressed {
    let Some(text) = message.text.as_deref() else {
        return Addressed::NotACommand;
    };
    let Some(entity) = message
        .entities
        .iter()
        .find(|e| e.kind == MessageEntity::BOT_COMMAND && e.offset == 0)
    else {
        return Addressed::NotACommand;
    };
    let Some(end) = utf16_to_byte_index(text, entity.length) else {
        // An entity that does not fit the text cannot come from Telegram; treating it as plain text
        // is the reading that does nothing on the user's behalf.
        return Addressed::NotACommand;
    };
    let Some(token) = text[..end].strip_prefix('/') else {
        return Addressed::NotACommand;
    };
    let (name, target) = match token.split_once('@') {
        Some((name, target)) => (name, Some(target)),
        None => (token, None),
    };
    let ours = bot_username.trim_start_matches('@');
    if let Some(target) = target
        && !target.eq_ignore_ascii_case(ours)
    {
        return Addressed::OtherBot;
    }
    if name.is_empty() {
        return Addressed::NotACommand;
    }
    Addressed::Command {
        name: name.to_lowercase(),
        args: text[end..].trim().to_owned(),
        mentioned: target.is_some(),
    }
}

/// The byte index in `text` after `units` UTF-16 code units; `None` when that falls inside a
/// character (half of a surrogate pair) or beyond the end.
fn utf16_to_byte_index(text: &str, units: usize) -> Option<usize> {
    let mut counted = 0;
    for (index, c) in text.char_indices() {
        if counted == units {
            return Some(index);
        }
        counted += c.len_utf16();
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::update::{Chat, ChatKind};

    fn message(text: &str, entities: &[(&str, usize, usize)]) -> Message {
        Message {
            message_id: 1,
            chat: Chat {
                id: 1,
                kind: ChatKind::Private,
            },
            from: None,
            text: Some(text.to_owned()),
            entities: entities
                .iter()
                .map(|(kind, offset, length)| MessageEntity {
                    kind: (*kind).to_owned(),
                    offset: *offset,
                    length: *length,
                })
                .collect(),
            reply_to_message: None,
            migrate_to_chat_id: None,
        }
    }

    fn command(name: &str, args: &str, mentioned: bool) -> Addressed {
        Addressed::Command {
            name: name.to_owned(),
            args: args.to_owned(),
            mentioned,
        }
    }

    #[test]
    fn plain_and_addressed_commands() {
        let bot = "loadshed_bot";
        assert_eq!(
            parse(&message("/start", &[("bot_command", 0, 6)]), bot),
            command("start", "", false)
        );
        assert_eq!(
            parse(
                &message(
                    "/subscribe@LoadShed_Bot  Fourways ext 10 ",
                    &[("bot_command", 0, 23)]
                ),
                bot
            ),
            command("subscribe", "Fourways ext 10", true)
        );
        assert_eq!(
            parse(
                &message("/refresh@OtherBot", &[("bot_command", 0, 17)]),
                bot
            ),
            Addressed::OtherBot
        );
        assert_eq!(
            parse(
                &message("/Status", &[("bot_command", 0, 7)]),
                "@loadshed_bot"
            ),
            command("status", "", false)
        );
    }

    #[test]
    fn only_a_leading_command_entity_counts() {
        let bot = "b";
        assert_eq!(parse(&message("/help", &[]), bot), Addressed::NotACommand);
        assert_eq!(
            parse(&message("try /help", &[("bot_command", 4, 5)]), bot),
            Addressed::NotACommand
        );
        assert_eq!(
            parse(&message("hello", &[("bold", 0, 5)]), bot),
            Addressed::NotACommand
        );
    }

    #[test]
    fn arguments_after_multibyte_text_are_cut_at_utf16_offsets() {
        // The command is ASCII, the argument has an emoji (two UTF-16 units) and accents.
        let text = "/subscribe Kwa-Thema 🏠 Ekurhuleni é";
        let parsed = parse(&message(text, &[("bot_command", 0, 10)]), "b");
        assert_eq!(
            parsed,
            command("subscribe", "Kwa-Thema 🏠 Ekurhuleni é", false)
        );
    }

    #[test]
    fn entities_that_do_not_fit_the_text_are_not_commands() {
        assert_eq!(
            parse(&message("/help", &[("bot_command", 0, 9)]), "b"),
            Addressed::NotACommand
        );
        // A length that ends inside a surrogate pair.
        assert_eq!(
            parse(&message("/😀", &[("bot_command", 0, 2)]), "b"),
            Addressed::NotACommand
        );
        assert_eq!(
            parse(&message("/@b", &[("bot_command", 0, 3)]), "b"),
            Addressed::NotACommand
        );
    }

    #[test]
    fn utf16_indices() {
        assert_eq!(utf16_to_byte_index("a😀b", 0), Some(0));
        assert_eq!(utf16_to_byte_index("a😀b", 1), Some(1));
        assert_eq!(utf16_to_byte_index("a😀b", 2), None);
        assert_eq!(utf16_to_byte_index("a😀b", 3), Some(5));
        assert_eq!(utf16_to_byte_index("a😀b", 4), Some(6));
        assert_eq!(utf16_to_byte_index("a😀b", 5), None);
    }
}
