//! When the store may forget stream records: once every mapping is done with them.
//!
//! The pumps report no per-record progress, but they count what they hold ([`Backlog`]: every
//! record handed to a pump until processed or dead-lettered) and [`Lambdas`] counts invocations
//! running. The fan-out hands each record to the observers just before it counts it for the pumps,
//! so a record is checkpointed only one tick after it was observed, and only while nothing is held
//! or running: by then the fan-out counted it, and it was processed. Erring late only means a record
//! is sent again after a restart, which every consumer takes as the redelivery it is.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::dynamodb::EventRecord;
use loadshed_sqlite::{SqliteStore, sequence_of};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::local::lambda::Lambdas;
use crate::local::streams::Backlog;

pub struct Checkpointer {
    pub store: Arc<SqliteStore>,
    pub lambdas: Arc<Lambdas>,
    pub backlog: Arc<Backlog>,
    pub every: Duration,
}

impl Checkpointer {
    /// Runs until `observed` closes (the fan-out stopped).
    pub async fn run(self, mut observed: UnboundedReceiver<EventRecord>) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The last record observed, and the one observed by the previous tick.
        let mut seen: Option<u64> = None;
        let mut candidate: Option<u64> = None;
        let mut done: Option<u64> = None;
        loop {
            tokio::select! {
                record = observed.recv() => match record {
                    Some(record) => {
                        seen = sequence_of(&record).max(seen);
                        continue;
                    }
                    None => return,
                },
                _ = tick.tick() => {}
            }
            let idle = self.backlog.get() == 0 && self.lambdas.in_flight() == 0;
            if let Some(through) = candidate.filter(|c| idle && done.is_none_or(|d| *c > d)) {
                match self.store.checkpoint(through).await {
                    Ok(()) => done = Some(through),
                    Err(error) => tracing::warn!(%error, "stream checkpoint not stored"),
                }
            }
            candidate = seen;
        }
    }
}
