//! What a chat chose for itself.

use std::fmt;

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How long before an outage a chat is reminded, or not at all: off, 5, 15 (the default), 30 or
/// 60 minutes. Stored as minutes, 0 for off; any other number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct ReminderLead(u16);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} minutes is not a reminder lead (choose one of off, 5, 15, 30 or 60)")]
pub struct InvalidReminderLead(pub u16);

impl ReminderLead {
    pub const OFF: ReminderLead = ReminderLead(0);
    pub const DEFAULT: ReminderLead = ReminderLead(15);
    /// The choices `/settings` offers, in the order its buttons show them.
    pub const CHOICES: [ReminderLead; 5] = [
        ReminderLead(0),
        ReminderLead(5),
        ReminderLead(15),
        ReminderLead(30),
        ReminderLead(60),
    ];

    pub fn minutes(self) -> u16 {
        self.0
    }

    /// The lead, or none when reminders are off.
    pub fn before(self) -> Option<Duration> {
        (self.0 > 0).then(|| Duration::minutes(i64::from(self.0)))
    }

    /// The longest lead any chat can choose: how far ahead a reminder run must look.
    pub fn longest() -> Duration {
        Duration::minutes(60)
    }
}

impl Default for ReminderLead {
    fn default() -> Self {
        ReminderLead::DEFAULT
    }
}

impl TryFrom<u16> for ReminderLead {
    type Error = InvalidReminderLead;
    fn try_from(minutes: u16) -> Result<Self, Self::Error> {
        ReminderLead::CHOICES
            .into_iter()
            .find(|choice| choice.0 == minutes)
            .ok_or(InvalidReminderLead(minutes))
    }
}

impl From<ReminderLead> for u16 {
    fn from(lead: ReminderLead) -> u16 {
        lead.0
    }
}

impl fmt::Display for ReminderLead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("off"),
            minutes => write!(f, "{minutes} minutes before"),
        }
    }
}

/// A chat's settings as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChatSettings {
    #[serde(default)]
    pub reminder_lead: ReminderLead,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_offered_choices_are_leads() {
        for minutes in [0u16, 5, 15, 30, 60] {
            assert_eq!(ReminderLead::try_from(minutes).map(u16::from), Ok(minutes));
        }
        for minutes in [1u16, 10, 45, 61, 1440] {
            assert_eq!(
                ReminderLead::try_from(minutes),
                Err(InvalidReminderLead(minutes))
            );
        }
        assert!(serde_json::from_str::<ReminderLead>("7").is_err());
        assert_eq!(
            ReminderLead::default().before(),
            Some(Duration::minutes(15))
        );
        assert_eq!(ReminderLead::OFF.before(), None);
        assert_eq!(ReminderLead::OFF.to_string(), "off");
        let settings: ChatSettings = serde_json::from_str("{}").expect("defaults");
        assert_eq!(settings.reminder_lead, ReminderLead::DEFAULT);
    }
}
