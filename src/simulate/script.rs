//! The seeded script of a simulation: who follows which area, and what happens when.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use loadshed_core::domain::{
    Area, AreaId, Authority, ChatId, Foresight, ReminderLead, Stage, StageChange, Timeline,
};
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
    /// Upstream's timeline of an authority becomes this: a stage change now, an announcement, a
    /// revised announcement or a cancelled one.
    SetTimeline {
        authority: Authority,
        timeline: Timeline,
    },
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
    /// Each chat's reminder lead (`/settings`), as chosen before the simulation.
    pub leads: BTreeMap<ChatId, ReminderLead>,
    pub initial_stage: u8,
    pub initial_cape_town: u8,
    pub actions: Vec<Step>,
    pub stage_changes: usize,
    pub announcements: Announcements,
    pub revisions: usize,
}

/// How many announcements of each kind the script made.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Announcements {
    /// Announced ahead and left to take effect at their time.
    pub kept: usize,
    pub revised: usize,
    pub cancelled: usize,
    pub cape_town_changes: usize,
}

fn stage(n: u8) -> Stage {
    Stage::new(n.min(Stage::HIGHEST)).unwrap_or(Stage::NONE)
}

/// A timeline as upstream announces it: `current` now, then each change.
fn timeline(current: u8, changes: &[(DateTime<Utc>, u8)]) -> Timeline {
    Timeline::new(
        stage(current),
        changes
            .iter()
            .map(|&(starts_at, n)| StageChange {
                starts_at,
                stage: stage(n),
            })
            .collect(),
        Foresight::Announced,
    )
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
        // Most keep the default; some want more notice, some less, some none.
        let leads = chats
            .iter()
            .map(|&chat| {
                let lead = match rng.random_range(0..10) {
                    0 => ReminderLead::OFF,
                    1 => ReminderLead::CHOICES[1],
                    2 | 3 => ReminderLead::CHOICES[3],
                    4 => ReminderLead::CHOICES[4],
                    _ => ReminderLead::DEFAULT,
                };
                (chat, lead)
            })
            .collect();
        let end = start + TimeDelta::hours(i64::from(config.hours));
        let initial_stage = 2;
        let initial_cape_town = 1;
        let mut announcements = Announcements::default();
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
            // Four ways a change comes: read as it happens; announced ahead and kept; announced,
            // then revised; announced, then cancelled (the stage stays).
            let national = |timeline| Action::SetTimeline {
                authority: Authority::National,
                timeline,
            };
            match stage_changes % 4 {
                0 => {
                    actions.push(Step {
                        at,
                        action: national(timeline(next, &[])),
                    });
                    stage = next;
                }
                1 => {
                    announcements.kept += 1;
                    let window = [
                        (at + TimeDelta::minutes(40), next),
                        (at + TimeDelta::minutes(100), stage),
                    ];
                    actions.push(Step {
                        at,
                        action: national(timeline(stage, &window)),
                    });
                }
                2 => {
                    announcements.revised += 1;
                    actions.push(Step {
                        at,
                        action: national(timeline(stage, &[(at + TimeDelta::minutes(60), next)])),
                    });
                    let revised = [
                        (at + TimeDelta::minutes(45), next),
                        (at + TimeDelta::minutes(120), stage),
                    ];
                    actions.push(Step {
                        at: at + TimeDelta::minutes(20),
                        action: national(timeline(stage, &revised)),
                    });
                }
                _ => {
                    announcements.cancelled += 1;
                    actions.push(Step {
                        at,
                        action: national(timeline(stage, &[(at + TimeDelta::minutes(60), next)])),
                    });
                    actions.push(Step {
                        at: at + TimeDelta::minutes(25),
                        action: national(timeline(stage, &[])),
                    });
                }
            }
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

        // The City of Cape Town's own stage: changes of its own, one of them announced ahead.
        let mut cape_town = initial_cape_town;
        let mut at = start + TimeDelta::minutes(rng.random_range(35..=55));
        while at + TimeDelta::minutes(30) < end {
            let next = (cape_town + rng.random_range(1..=3)) % 5;
            let changes = match announcements.cape_town_changes % 2 {
                0 => vec![],
                _ => vec![(at + TimeDelta::minutes(30), next)],
            };
            let now_stage = if changes.is_empty() { next } else { cape_town };
            actions.push(Step {
                at,
                action: Action::SetTimeline {
                    authority: Authority::CapeTown,
                    timeline: timeline(now_stage, &changes),
                },
            });
            cape_town = next;
            announcements.cape_town_changes += 1;
            at += TimeDelta::minutes(rng.random_range(70..=110));
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
            leads,
            initial_stage,
            initial_cape_town,
            actions,
            stage_changes,
            announcements,
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
