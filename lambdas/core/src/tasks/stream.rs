//! DynamoDB Streams batches: the choreography's carrier of stage and schedule changes.

use std::future::Future;

use aws_lambda_events::dynamodb::{self, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tracing::{error, warn};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::adapters::dynamo::keys::{ENTITY, entity};
use crate::adapters::dynamo::{
    schedule_from_image, schedule_written_at, stage_from_image, stage_refresh_from_image,
};
use crate::domain::{Schedule, Stage};
use crate::errors::Named;
use crate::ports::{StageRefresh, StoredStage};

use super::TaskError;

/// What a stream record tells a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The national stage changed.
    Stage {
        stage: StoredStage,
        previous: Option<Stage>,
    },
    /// An area's schedule at a stage was written at `written_at`; `previous` is what it replaced.
    Schedule {
        schedule: Box<Schedule>,
        previous: Option<Box<Schedule>>,
        written_at: DateTime<Utc>,
    },
    /// The schedules were refreshed after a stage change: time to announce it.
    StageRefreshed(StageRefresh),
    /// Anything else on the table (subscriptions, ledger, leases, deletions).
    Other,
}

/// Reads a record's new image. A record we cannot read is an error, reported as a batch item
/// failure so the event source mapping retries it and finally parks it in the DLQ: never dropped.
pub fn change_of(record: &EventRecord) -> Result<Change, TaskError> {
    if record.event_name == "REMOVE" {
        return Ok(Change::Other);
    }
    let new = record.change.new_image.clone();
    let old = record.change.old_image.clone();
    let unreadable = |e: crate::errors::StoreError| {
        TaskError::invalid_input(format!("stream record {}: {e}", record.event_id))
    };
    match entity_of(&new).as_deref() {
        Some(entity::STAGE) => Ok(Change::Stage {
            stage: stage_from_image(new).map_err(unreadable)?,
            previous: match entity_of(&old) {
                Some(_) => Some(stage_from_image(old).map_err(unreadable)?.stage),
                None => None,
            },
        }),
        Some(entity::SCHEDULE) => Ok(Change::Schedule {
            written_at: schedule_written_at(new.clone()).map_err(unreadable)?,
            schedule: Box::new(schedule_from_image(new).map_err(unreadable)?),
            previous: match entity_of(&old) {
                Some(_) => Some(Box::new(schedule_from_image(old).map_err(unreadable)?)),
                None => None,
            },
        }),
        Some(entity::STAGE_REFRESH) => Ok(Change::StageRefreshed(
            stage_refresh_from_image(new).map_err(unreadable)?,
        )),
        Some(_) => Ok(Change::Other),
        None => Err(TaskError::invalid_input(format!(
            "stream record {} has no `{ENTITY}` attribute: not an item this store wrote",
            record.event_id
        ))),
    }
}

fn entity_of(image: &serde_dynamo::Item) -> Option<String> {
    #[derive(Deserialize)]
    struct Entity {
        entity: String,
    }
    serde_dynamo::from_item::<_, Entity>(image.clone())
        .ok()
        .map(|e| e.entity)
}

/// Processes the batch in order and stops at the first failure, which it reports as a partial
/// batch response: Lambda checkpoints everything before it and retries from it, so the good
/// records are not replayed and one bad record does not block the shard forever (the event source
/// mapping's retry limit and DLQ take it from there).
pub async fn for_each_record<F, Fut>(batch: dynamodb::Event, mut handle: F) -> DynamoDbEventResponse
where
    F: FnMut(Change) -> Fut,
    Fut: Future<Output = Result<(), TaskError>>,
{
    for_each_record_with_id(batch, |_, change| handle(change)).await
}

/// [`for_each_record`], also telling the handler each record's event id, which stays the same when
/// the record is delivered again.
pub async fn for_each_record_with_id<F, Fut>(
    batch: dynamodb::Event,
    mut handle: F,
) -> DynamoDbEventResponse
where
    F: FnMut(String, Change) -> Fut,
    Fut: Future<Output = Result<(), TaskError>>,
{
    let mut response = DynamoDbEventResponse::default();
    for record in batch.records {
        let result = match change_of(&record) {
            Ok(change) => handle(record.event_id.clone(), change).await,
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            let id = record
                .change
                .sequence_number
                .clone()
                .unwrap_or_else(|| record.event_id.clone());
            if error.error_name().is_transient() {
                warn!(record = %id, name = %error.error_name(), %error, "stream record failed; it will be retried");
            } else {
                error!(record = %id, name = %error.error_name(), %error, "stream record failed permanently");
            }
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(id);
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}
