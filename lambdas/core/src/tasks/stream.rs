//! DynamoDB Streams batches: the choreography's carrier of stage and schedule changes.

use std::future::Future;

use aws_lambda_events::dynamodb::{self, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tracing::{error, warn};

use crate::adapters::dynamo::{StreamedItem, decode_streamed_item};
use crate::domain::{AreaId, Stage};
use crate::errors::Named;

use super::TaskError;

/// What a stream record tells a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The national stage changed to this.
    Stage(Stage),
    /// An area's schedule at a stage was written.
    Schedule { area: AreaId, stage: Stage },
    /// Anything else on the table (subscriptions, ledger, leases, deletions).
    Other,
}

/// Reads a record's new image. A record we cannot read is an error, reported as a batch item
/// failure so the event source mapping retries it and finally parks it in the DLQ: never dropped.
pub fn change_of(record: &EventRecord) -> Result<Change, TaskError> {
    if record.event_name == "REMOVE" {
        return Ok(Change::Other);
    }
    let item = decode_streamed_item(record.change.new_image.clone())
        .map_err(|e| TaskError::invalid_input(format!("stream record {}: {e}", record.event_id)))?;
    Ok(match item {
        StreamedItem::Stage { stage } => Change::Stage(stage),
        StreamedItem::Schedule { area, stage } => Change::Schedule { area, stage },
        StreamedItem::Other => Change::Other,
    })
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
    let mut response = DynamoDbEventResponse::default();
    for record in batch.records {
        let result = match change_of(&record) {
            Ok(change) => handle(change).await,
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            let id = record.change.sequence_number.clone().unwrap_or_else(|| record.event_id.clone());
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
