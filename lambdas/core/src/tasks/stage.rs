//! The stage task: read the stage timelines (national and Cape Town, each with its announced
//! changes) and store them only when they changed.
//!
//! Any change is stored, an announced change reached on time included ("stage 4 from 06:00" read
//! at 06:05 as "stage 4 now"): the stored national stage stays the one of the moment. Whether a
//! write is news for anyone is the notify task's call, from the forecasts before and after.

use std::sync::Arc;

use serde_json::Value;
use tracing::info;

use crate::clock::Clock;
use crate::ports::{StageSource, StageStore, StageWrite, StoredStage};

use super::{Invocation, StageOutcome, TaskError};

/// How often a lost conditional write is re-read and retried before giving up. Two pollers racing
/// settle in one round; more rounds would mean the stage flips faster than we can read it.
const WRITE_ROUNDS: usize = 3;

pub struct StageTask {
    source: Arc<dyn StageSource>,
    store: Arc<dyn StageStore>,
    clock: Arc<dyn Clock>,
}

impl StageTask {
    pub fn new(
        source: Arc<dyn StageSource>,
        store: Arc<dyn StageStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        StageTask {
            source,
            store,
            clock,
        }
    }

    /// Lambda entry point: any schedule or workflow invocation polls the stage.
    pub async fn handle(&self, payload: Value) -> Result<Value, TaskError> {
        match Invocation::parse(payload)? {
            Invocation::Stream(_) => Err(TaskError::invalid_input(
                "the stage task polls upstream; it is not fed by a DynamoDB stream",
            )),
            Invocation::Event(_) | Invocation::Schedule(_) | Invocation::Workflow(_) => {
                let outcome = self.poll().await?;
                serde_json::to_value(outcome).map_err(|e| TaskError::invalid_input(e.to_string()))
            }
        }
    }

    /// Reads the stage; an invalid reading is an error (Eskom flaps to 0 and -1), never a change.
    ///
    /// The reading is stored with the time it was taken, and never over a reading taken later: of two
    /// pollers racing, the slower one's older reading loses even when its write comes last.
    ///
    /// The first read of the stored stage goes out together with the upstream reading: neither needs
    /// the other, and a cold start then opens its two connections at once. A stored stage read a
    /// little early is no risk: a write over it is conditional, and a lost one re-reads.
    pub async fn poll(&self) -> Result<StageOutcome, TaskError> {
        // The reading's time is taken when it arrives, not when the store's answer does.
        let read_upstream = async {
            let reading = self.source.timelines().await;
            (reading, self.clock.now())
        };
        let ((reading, observed), first_stored) =
            futures::future::join(read_upstream, self.store.current_stage()).await;
        let reading = reading?;
        let mut first_stored = Some(first_stored);
        for _ in 0..WRITE_ROUNDS {
            let stored = match first_stored.take() {
                Some(stored) => stored?,
                None => self.store.current_stage().await?,
            };
            if let Some(stored) = &stored
                && (stored.timelines() == reading || stored.updated_at > observed)
            {
                if stored.timelines() != reading {
                    info!(stage = %reading.national.current, stored = %stored.stage, "a newer reading is stored: keeping it");
                }
                return Ok(StageOutcome {
                    stage: stored.stage,
                    previous: Some(stored.stage),
                    changed: false,
                    updated_at: stored.updated_at,
                });
            }
            let replaced = stored.as_ref().map(StoredStage::timelines);
            match self
                .store
                .put_stage(
                    &reading,
                    replaced.as_ref(),
                    observed,
                    stored.as_ref().map(|s| s.version),
                )
                .await?
            {
                StageWrite::Written(written) => {
                    let previous = stored.map(|s| s.stage);
                    info!(
                        stage = %written.stage,
                        ?previous,
                        announced = reading.national.changes().len(),
                        cape_town = ?reading.cape_town.as_ref().map(|t| t.current.number()),
                        "stage timelines changed"
                    );
                    return Ok(StageOutcome {
                        stage: written.stage,
                        previous,
                        changed: true,
                        updated_at: written.updated_at,
                    });
                }
                StageWrite::Conflict => continue,
            }
        }
        Err(TaskError::Store(crate::errors::StoreError::Unavailable(
            format!("the stored stage kept changing under {WRITE_ROUNDS} conditional writes"),
        )))
    }
}
