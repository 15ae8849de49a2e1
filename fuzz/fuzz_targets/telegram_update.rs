//! What Telegram posts: update decoding, then the command and callback parsers the webhook runs on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loadshed_core::webhook::Update;
use loadshed_core::webhook::callback::CallbackAction;
use loadshed_core::webhook::command;

fuzz_target!(|data: &[u8]| {
    let Ok(update) = serde_json::from_slice::<Update>(data) else {
        return;
    };
    for message in [
        update.message.as_ref(),
        update
            .callback_query
            .as_ref()
            .and_then(|q| q.message.as_ref()),
    ]
    .into_iter()
    .flatten()
    {
        let _ = command::parse(message, "LoadShed_Bot");
        if let Some(asked) = message.reply_to_message.as_deref() {
            let _ = command::parse(asked, "LoadShed_Bot");
        }
    }
    if let Some(data) = update
        .callback_query
        .as_ref()
        .and_then(|q| q.data.as_deref())
    {
        if let Some(action) = CallbackAction::decode(data) {
            // What we decode we must be able to write back within Telegram's 64 bytes.
            assert!(action.encode().len() <= 64 || data.len() > 64);
        }
    }
});
