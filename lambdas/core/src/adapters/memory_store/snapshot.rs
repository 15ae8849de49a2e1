//! The JSON file the local mode keeps its store in between runs.
//!
//! Lists rather than maps, because JSON object keys can only be strings; readable and editable by
//! hand, and checked as strictly on the way in as a DynamoDB item is (a stage 9 is an error).

use std::io::{self, ErrorKind};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Delivery, Expiring, Lease, State, StoredSchedule, Subscription};
use crate::domain::{Area, ChannelLink, ChatId, ChatSettings, Schedule};
use crate::errors::StoreError;
use crate::ports::{DeliveryKey, StageRefresh, StoredStage};

/// Bumped on any change a previous version could misread.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Snapshot {
    format: u32,
    stage: Option<StoredStage>,
    /// Added within format 1: older snapshots have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stage_refresh: Option<StageRefresh>,
    #[serde(default)]
    schedules: Vec<ScheduleRecord>,
    #[serde(default)]
    subscriptions: Vec<SubscriptionRecord>,
    #[serde(default)]
    deliveries: Vec<DeliveryRecord>,
    #[serde(default)]
    leases: Vec<LeaseRecord>,
    /// Added within format 1: older snapshots have none (every chat at the defaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    settings: Vec<SettingsRecord>,
    /// Added within format 1: older snapshots have none (no area channels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    channels: Vec<ChannelLink>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsRecord {
    chat: ChatId,
    settings: ChatSettings,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleRecord {
    schedule: Schedule,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionRecord {
    chat: ChatId,
    area: Area,
    subscribed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryRecord {
    chat: ChatId,
    message: String,
    delivered_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// Set while the delivery is only claimed (added within format 1: older snapshots hold
    /// deliveries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claimed_by: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseRecord {
    key: String,
    claimed_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder: Option<String>,
}

impl Snapshot {
    pub(super) fn from_state(state: &State) -> Self {
        Snapshot {
            format: FORMAT,
            stage: state.stage.clone(),
            stage_refresh: state.stage_refresh.clone(),
            schedules: state
                .schedules
                .values()
                .map(|stored| ScheduleRecord {
                    schedule: stored.schedule.clone(),
                    updated_at: stored.updated_at,
                })
                .collect(),
            subscriptions: state
                .subscriptions
                .iter()
                .map(|((chat, _), subscription)| SubscriptionRecord {
                    chat: *chat,
                    area: subscription.area.clone(),
                    subscribed_at: subscription.subscribed_at,
                })
                .collect(),
            deliveries: state
                .deliveries
                .iter()
                .map(|(key, delivery)| DeliveryRecord {
                    chat: key.chat,
                    message: key.message.clone(),
                    delivered_at: delivery.entry.at,
                    expires_at: delivery.entry.expires_at,
                    claimed_by: delivery.owner.clone(),
                })
                .collect(),
            leases: state
                .leases
                .iter()
                .map(|(key, lease)| LeaseRecord {
                    key: key.clone(),
                    claimed_at: lease.expiring.at,
                    expires_at: lease.expiring.expires_at,
                    holder: lease.holder.clone(),
                })
                .collect(),
            settings: state
                .settings
                .iter()
                .map(|(&chat, &settings)| SettingsRecord { chat, settings })
                .collect(),
            channels: state.channels.values().cloned().collect(),
        }
    }

    pub(super) fn into_state(self) -> State {
        let mut state = State {
            stage: self.stage,
            stage_refresh: self.stage_refresh,
            ..State::default()
        };
        for record in self.schedules {
            let key = (record.schedule.area_id.clone(), record.schedule.stage);
            let stored = StoredSchedule {
                schedule: record.schedule,
                updated_at: record.updated_at,
            };
            state.schedules.insert(key, stored);
        }
        for record in self.subscriptions {
            let subscription = Subscription {
                subscribed_at: record.subscribed_at,
                area: record.area,
            };
            let key = (record.chat, subscription.area.id.clone());
            state.subscriptions.insert(key, subscription);
        }
        for record in self.deliveries {
            let key = DeliveryKey {
                chat: record.chat,
                message: record.message,
            };
            let delivery = Delivery {
                entry: Expiring {
                    at: record.delivered_at,
                    expires_at: record.expires_at,
                },
                owner: record.claimed_by,
            };
            state.deliveries.insert(key, delivery);
        }
        for record in self.leases {
            let lease = Lease {
                expiring: Expiring {
                    at: record.claimed_at,
                    expires_at: record.expires_at,
                },
                holder: record.holder,
            };
            state.leases.insert(record.key, lease);
        }
        for record in self.settings {
            state.settings.insert(record.chat, record.settings);
        }
        for link in self.channels {
            state
                .channels
                .insert((link.area.clone(), link.channel), link);
        }
        state
    }

    pub(super) async fn read(path: PathBuf) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let bytes = match blocking(move || std::fs::read(&path)).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                tracing::info!(path = %shown, "no store snapshot yet: starting empty");
                return Ok(Snapshot::from_state(&State::default()));
            }
            Err(error) => return Err(io_error(&shown, "read", &error)),
        };
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
                key: shown.clone(),
                detail: error.to_string(),
            })?;
        if snapshot.format != FORMAT {
            return Err(StoreError::Corrupt {
                key: shown,
                detail: format!(
                    "snapshot format {} is not the format {FORMAT} this version reads",
                    snapshot.format
                ),
            });
        }
        Ok(snapshot)
    }

    pub(super) async fn write(&self, path: PathBuf) -> Result<(), StoreError> {
        let shown = path.display().to_string();
        let json = serde_json::to_vec_pretty(self).map_err(|error| StoreError::Corrupt {
            key: shown.clone(),
            detail: format!("cannot encode the snapshot: {error}"),
        })?;
        blocking(move || {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            // Write beside the target and rename over it: rename is atomic on one file system.
            let mut partial = path.clone().into_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            std::fs::write(&partial, &json)?;
            std::fs::rename(&partial, &path)
        })
        .await
        .map_err(|error| io_error(&shown, "write", &error))
    }
}

/// File I/O off the async worker threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

fn io_error(path: &str, doing: &str, error: &io::Error) -> StoreError {
    StoreError::Unavailable(format!("cannot {doing} store snapshot {path}: {error}"))
}
