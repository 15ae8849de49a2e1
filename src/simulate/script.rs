//! The seeded script of a simulation: who follows which area, and what happens when.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use loadshed_core::domain::{Area, AreaId, ChatId};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use super::{SimConfig, Subscribers, area};

/// The schedule that polls the stage, as `infra/template.yaml` names it.
pub const STAGE_POLL: &str = "StageFunction.PollStage";
/// How often that schedule fires (its `cron(0/10 ...)`): stage changes are placed just before a
/// poll so each is picked up.
const POLL_MINUTES: i64 = 10;

#[derive(Debug, Clone)]
pub enum Action {
    /// Upstream's national stage becomes this.
    SetStage(u8),
    /// Upstream publishes a revised schedule for the area.
    Revise(AreaId),
    /// The schedule fires once more, besides its own firing at this moment.
    ExtraPoll(String),
    /// The chat sends `/refresh`.
    Refresh {
        chat: ChatId,
        update_id: i64,
    },
    /// The notify instance dies after this many broadcast sends from now.
    ArmCrash {
        after: usize,
    },
    SlowTelegram {
        latency: Duration,
    },
    NormalTelegram,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub action: Action,
}

pub struct Script {
    pub areas: Vec<Area>,
    pub subscriptions: BTreeMap<ChatId, Vec<Area>>,
    pub initial_stage: u8,
    pub actions: Vec<Step>,
    pub stage_changes: usize,
    pub revisions: usize,
}

impl Script {
    pub fn new(config: &SimConfig, start: DateTime<Utc>) -> Script {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let areas: Vec<Area> = (0..config.areas).map(area).collect();
        let mut subscriptions = BTreeMap::new();
        for i in 0..config.chats {
            let count = rng.random_range(1..=3).min(areas.len());
            let chosen = sample(&mut rng, areas.len(), count);
            let mut followed: Vec<Area> = chosen.iter().map(|a| areas[a].clone()).collect();
            followed.sort_by(|a, b| a.id.cmp(&b.id));
            subscriptions.insert(ChatId(10_000 + i as i64), followed);
        }
        let chats: Vec<ChatId> = subscriptions.keys().copied().collect();
        let end = start + TimeDelta::hours(i64::from(config.hours));
        let initial_stage = 2;
        let mut actions = Vec::new();
        let mut update_id = 700_000_000i64;
        let mut next_update = || {
            update_id += 1;
            update_id
        };

        // Stage changes, up and down, each a little before a poll.
        let mut stage = initial_stage;
        let mut at = start + TimeDelta::minutes(rng.random_range(15..=30));
        let mut stage_changes = 0;
        while at + TimeDelta::minutes(40) < end {
            let mut next = stage;
            while next == stage {
                let step: i8 = if rng.random_bool(0.5) { 1 } else { 2 };
                let up = stage == 0 || (stage < 6 && rng.random_bool(0.6));
                next = if up {
                    (stage as i8 + step).min(6) as u8
                } else {
                    (stage as i8 - step).max(0) as u8
                };
            }
            stage = next;
            actions.push(Step {
                at,
                action: Action::SetStage(stage),
            });
            let poll = next_poll(at);
            match stage_changes {
                0 => actions.push(Step {
                    at: poll,
                    action: Action::ExtraPoll(STAGE_POLL.to_owned()),
                }),
                1 => actions.push(Step {
                    at: poll - TimeDelta::seconds(1),
                    action: Action::ArmCrash {
                        after: rng.random_range(20..=60).min(config.chats.max(2) / 2),
                    },
                }),
                2 => {
                    actions.push(Step {
                        at: poll - TimeDelta::seconds(1),
                        action: Action::SlowTelegram {
                            latency: Duration::from_secs(3),
                        },
                    });
                    actions.push(Step {
                        at: poll + TimeDelta::minutes(15),
                        action: Action::NormalTelegram,
                    });
                }
                _ => {}
            }
            // Chats asking in the middle of the change: three after the poll stored it and, every
            // other change, one before (its run stores the change, racing the poll).
            let before = (stage_changes % 2 == 1)
                .then(|| at + TimeDelta::seconds(rng.random_range(20..=120)));
            for when in before
                .into_iter()
                .chain([3, 15, 40].map(|s| poll + TimeDelta::seconds(s)))
            {
                let chat = chats[rng.random_range(0..chats.len())];
                actions.push(Step {
                    at: when,
                    action: Action::Refresh {
                        chat,
                        update_id: next_update(),
                    },
                });
            }
            stage_changes += 1;
            at += TimeDelta::minutes(rng.random_range(50..=90));
        }

        // Schedule revisions, each brought in by one of the area's subscribers asking.
        let subscribers = subscribers_of(&subscriptions);
        let mut revisions = 0;
        let mut at = start + TimeDelta::minutes(rng.random_range(5..=20));
        while at + TimeDelta::minutes(10) < end {
            let area = &areas[rng.random_range(0..areas.len())];
            if let Some(followers) = subscribers.get(&area.id).filter(|f| !f.is_empty()) {
                actions.push(Step {
                    at,
                    action: Action::Revise(area.id.clone()),
                });
                let chat = followers[rng.random_range(0..followers.len())];
                actions.push(Step {
                    at: at + TimeDelta::seconds(rng.random_range(60..=240)),
                    action: Action::Refresh {
                        chat,
                        update_id: next_update(),
                    },
                });
                revisions += 1;
            }
            at += TimeDelta::minutes(rng.random_range(25..=50));
        }

        // In time order; at one instant, in the order written.
        actions.sort_by_key(|step| step.at);
        Script {
            areas,
            subscriptions,
            initial_stage,
            actions,
            stage_changes,
            revisions,
        }
    }

    pub fn subscribers(&self) -> Subscribers {
        subscribers_of(&self.subscriptions)
    }
}

fn subscribers_of(subscriptions: &BTreeMap<ChatId, Vec<Area>>) -> Subscribers {
    let mut subscribers: Subscribers = BTreeMap::new();
    for (chat, areas) in subscriptions {
        for area in areas {
            subscribers.entry(area.id.clone()).or_default().push(*chat);
        }
    }
    subscribers
}

/// The first poll strictly after `at`.
fn next_poll(at: DateTime<Utc>) -> DateTime<Utc> {
    let minute = i64::from(at.minute());
    let whole = at - TimeDelta::seconds(i64::from(at.second()));
    whole + TimeDelta::minutes(POLL_MINUTES - minute % POLL_MINUTES)
}
