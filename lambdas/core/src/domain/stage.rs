use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The national loadshedding stage: 0 (none) to 8.
///
/// A reading outside that range is an [`InvalidStage`] error, never a silent stage 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Stage(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a loadshedding stage (expected 0 to 8)")]
pub struct InvalidStage(pub String);

impl Stage {
    pub const NONE: Stage = Stage(0);
    pub const HIGHEST: u8 = 8;

    pub fn new(number: u8) -> Result<Self, InvalidStage> {
        if number <= Self::HIGHEST {
            Ok(Stage(number))
        } else {
            Err(InvalidStage(number.to_string()))
        }
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn is_loadshedding(self) -> bool {
        self.0 > 0
    }

    /// All stages with outages, 1..=8: the index order upstream schedules use.
    pub fn all_active() -> impl Iterator<Item = Stage> {
        (1..=Self::HIGHEST).map(Stage)
    }
}

impl TryFrom<u8> for Stage {
    type Error = InvalidStage;
    fn try_from(number: u8) -> Result<Self, Self::Error> {
        Stage::new(number)
    }
}

impl TryFrom<i64> for Stage {
    type Error = InvalidStage;
    fn try_from(number: i64) -> Result<Self, Self::Error> {
        u8::try_from(number)
            .map_err(|_| InvalidStage(number.to_string()))
            .and_then(Stage::new)
    }
}

impl From<Stage> for u8 {
    fn from(stage: Stage) -> u8 {
        stage.0
    }
}

impl FromStr for Stage {
    type Err = InvalidStage;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim()
            .parse::<u8>()
            .map_err(|_| InvalidStage(text.to_owned()))
            .and_then(Stage::new)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_loadshedding() {
            write!(f, "Stage {}", self.0)
        } else {
            f.write_str("No loadshedding")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_zero_to_eight() {
        for n in 0..=8u8 {
            assert_eq!(Stage::new(n).map(Stage::number), Ok(n));
        }
    }

    #[test]
    fn rejects_out_of_range_and_garbage() {
        assert!(Stage::new(9).is_err());
        assert!(Stage::try_from(-1i64).is_err());
        assert!("".parse::<Stage>().is_err());
        assert!("four".parse::<Stage>().is_err());
        assert!("<html>".parse::<Stage>().is_err());
        assert_eq!(" 4 ".parse::<Stage>(), Ok(Stage(4)));
    }

    #[test]
    fn serde_rejects_invalid_numbers() {
        assert!(serde_json::from_str::<Stage>("9").is_err());
        assert_eq!(serde_json::from_str::<Stage>("3").ok(), Some(Stage(3)));
        assert_eq!(serde_json::to_string(&Stage(6)).ok().as_deref(), Some("6"));
    }

    #[test]
    fn displays_for_people() {
        assert_eq!(Stage::NONE.to_string(), "No loadshedding");
        assert_eq!(Stage(2).to_string(), "Stage 2");
    }
}
