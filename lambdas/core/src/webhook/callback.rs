//! What the buttons we send carry back when tapped (`callback_data`, 1 to 64 bytes).
//!
//! A button names an area: by its id when that fits, else by a digest of the id. Either way the
//! tap is resolved against a fresh list (the search again, or the chat's subscriptions), never
//! trusted to describe the area itself: the data is just a choice among what we offered.

use sha2::{Digest, Sha256};

use crate::domain::{AreaId, ReminderLead};
use crate::ports::InlineButton;

const SUBSCRIBE: &str = "s";
const UNSUBSCRIBE: &str = "u";
/// Links the channel named in the `/channel` the list answers to the tapped area.
const CHANNEL: &str = "c";
/// `r:15`: remind 15 minutes before each outage (`r:0`: no reminders).
const REMINDER_LEAD: &str = "r";
/// Separates the action from an area id.
const BY_ID: char = ':';
/// Separates the action from the digest of an area id too long for the data.
const BY_DIGEST: char = '#';
/// 16 bytes of SHA-256 in hex: collisions among a handful of choices are out of the question.
const DIGEST_HEX_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackAction {
    Subscribe(AreaRef),
    Unsubscribe(AreaRef),
    /// A `/channel` search result: link the channel to this area.
    Channel(AreaRef),
    /// A `/settings` button: the reminder lead chosen.
    ReminderLead(ReminderLead),
}

/// An area as named in callback data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AreaRef {
    Id(AreaId),
    Digest(String),
}

impl AreaRef {
    pub fn for_area(id: &AreaId, action: &str) -> AreaRef {
        let fits = action.len() + 1 + id.as_str().len() <= InlineButton::CALLBACK_DATA_MAX_BYTES;
        if fits {
            AreaRef::Id(id.clone())
        } else {
            AreaRef::Digest(digest(id))
        }
    }

    pub fn matches(&self, id: &AreaId) -> bool {
        match self {
            AreaRef::Id(own) => own == id,
            AreaRef::Digest(hex) => *hex == digest(id),
        }
    }
}

fn digest(id: &AreaId) -> String {
    let hash = Sha256::digest(id.as_str().as_bytes());
    let mut hex = hex::encode(hash);
    hex.truncate(DIGEST_HEX_LEN);
    hex
}

impl CallbackAction {
    pub fn subscribe(id: &AreaId) -> Self {
        CallbackAction::Subscribe(AreaRef::for_area(id, SUBSCRIBE))
    }

    pub fn unsubscribe(id: &AreaId) -> Self {
        CallbackAction::Unsubscribe(AreaRef::for_area(id, UNSUBSCRIBE))
    }

    pub fn channel(id: &AreaId) -> Self {
        CallbackAction::Channel(AreaRef::for_area(id, CHANNEL))
    }

    /// The callback data; at most 64 bytes by construction.
    pub fn encode(&self) -> String {
        let (action, area) = match self {
            CallbackAction::Subscribe(area) => (SUBSCRIBE, area),
            CallbackAction::Unsubscribe(area) => (UNSUBSCRIBE, area),
            CallbackAction::Channel(area) => (CHANNEL, area),
            CallbackAction::ReminderLead(lead) => {
                return format!("{REMINDER_LEAD}{BY_ID}{}", lead.minutes());
            }
        };
        match area {
            AreaRef::Id(id) => format!("{action}{BY_ID}{id}"),
            AreaRef::Digest(hex) => format!("{action}{BY_DIGEST}{hex}"),
        }
    }

    /// `None` for data we did not write (an old bot version's buttons, or a forged tap).
    pub fn decode(data: &str) -> Option<Self> {
        let split = data.find([BY_ID, BY_DIGEST])?;
        let (action, rest) = data.split_at(split);
        let mut rest = rest.chars();
        let separator = rest.next()?;
        let value = rest.as_str();
        if value.is_empty() {
            return None;
        }
        if action == REMINDER_LEAD && separator == BY_ID {
            // Only the leads we offer: any other number is not ours.
            let minutes: u16 = value.parse().ok()?;
            return ReminderLead::try_from(minutes)
                .ok()
                .map(CallbackAction::ReminderLead);
        }
        let area = if separator == BY_ID {
            AreaRef::Id(AreaId::new(value))
        } else if value.len() == DIGEST_HEX_LEN && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            AreaRef::Digest(value.to_ascii_lowercase())
        } else {
            return None;
        };
        match action {
            SUBSCRIBE => Some(CallbackAction::Subscribe(area)),
            UNSUBSCRIBE => Some(CallbackAction::Unsubscribe(area)),
            CHANNEL => Some(CallbackAction::Channel(area)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_travel_as_themselves() {
        let id = AreaId::new("eskom:64106");
        let action = CallbackAction::subscribe(&id);
        assert_eq!(action.encode(), "s:eskom:64106");
        assert_eq!(CallbackAction::decode("s:eskom:64106"), Some(action));
        let action = CallbackAction::unsubscribe(&id);
        assert_eq!(action.encode(), "u:eskom:64106");
        assert_eq!(CallbackAction::decode(&action.encode()), Some(action));
        let action = CallbackAction::channel(&id);
        assert_eq!(action.encode(), "c:eskom:64106");
        assert_eq!(CallbackAction::decode(&action.encode()), Some(action));
    }

    #[test]
    fn long_ids_travel_as_a_digest_within_64_bytes() {
        let id = AreaId::new(format!("esp:{}", "westerncape-outside-capetown-".repeat(3)));
        let action = CallbackAction::subscribe(&id);
        let data = action.encode();
        assert!(data.len() <= 64, "{data} is {} bytes", data.len());
        assert!(data.starts_with("s#"));
        let decoded = CallbackAction::decode(&data).expect("decodes");
        let CallbackAction::Subscribe(area) = decoded else {
            panic!("wrong action: {decoded:?}");
        };
        assert!(area.matches(&id));
        assert!(!area.matches(&AreaId::new("esp:other")));
    }

    #[test]
    fn ids_of_exactly_the_limit_are_kept() {
        let id = AreaId::new("x".repeat(62));
        assert_eq!(CallbackAction::subscribe(&id).encode().len(), 64);
        assert!(matches!(
            CallbackAction::subscribe(&id),
            CallbackAction::Subscribe(AreaRef::Id(_))
        ));
        let id = AreaId::new("x".repeat(63));
        assert!(matches!(
            CallbackAction::subscribe(&id),
            CallbackAction::Subscribe(AreaRef::Digest(_))
        ));
    }

    #[test]
    fn reminder_leads_travel_as_minutes_and_only_the_offered_ones() {
        for lead in ReminderLead::CHOICES {
            let data = CallbackAction::ReminderLead(lead).encode();
            assert_eq!(data, format!("r:{}", lead.minutes()));
            assert_eq!(
                CallbackAction::decode(&data),
                Some(CallbackAction::ReminderLead(lead))
            );
        }
        for data in ["r:7", "r:", "r:-5", "r:15x", "r#15", "r:99999999999"] {
            assert_eq!(CallbackAction::decode(data), None, "{data:?}");
        }
    }

    #[test]
    fn foreign_data_is_refused() {
        for data in [
            "",
            "s",
            "s:",
            "x:eskom:1",
            "s#nothex",
            "s#abc",
            "subscribe eskom:1",
            "🙂:x",
        ] {
            assert_eq!(CallbackAction::decode(data), None, "{data:?}");
        }
    }
}
