//! What `/channel` reads from outside: the channel a person names, and Telegram's `getChat` and
//! `getChatMember` answers the bot checks before it links a channel.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::telegram::{ChatInfo, ChatMemberInfo};
use loadshed_core::webhook::channels;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for word in text.split_whitespace() {
            let _ = channels::parse_reference(word);
        }
    }
    // One input, both answers: a chat and the bot's membership in it.
    let Ok((chat, member)) = serde_json::from_slice::<(ChatInfo, ChatMemberInfo)>(data) else {
        if let Ok(chat) = serde_json::from_slice::<ChatInfo>(data) {
            let _ = channels::join_url(&chat);
        }
        return;
    };
    let _ = channels::join_url(&chat);
    let _ = channels::postable(&chat, &member);
});
