//! An outage ahead: when, why (a stage of an authority, or load reduction), and on what grounds.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Authority, Slot, Stage};

/// Why the power goes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// Loadshedding at `stage` of `authority`'s timeline.
    Stage { stage: Stage, authority: Authority },
    /// Eskom's load reduction: named areas cut at peak hours whatever the stage.
    LoadReduction,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Stage {
                stage,
                authority: super::Authority::CapeTown,
            } => write!(f, "{stage} (Cape Town)"),
            Cause::Stage { stage, .. } => write!(f, "{stage}"),
            Cause::LoadReduction => f.write_str("Load reduction"),
        }
    }
}

/// What an outage in a forecast rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Upstream's own forecast for the area (EskomSePush's `events`).
    Upstream,
    /// Computed here: the stage timeline applied to the area's slots at each stage, or the area's
    /// load-reduction slots.
    Rota,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Outage {
    pub slot: Slot,
    pub cause: Cause,
    pub basis: Basis,
}
