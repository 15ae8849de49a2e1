//! Creating the table: used by the tests and the local mode. The SAM template in `infra/` declares
//! the same schema; keep the two in step.

use std::time::Duration;

use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};

use super::DynamoStore;
use super::call_errors::store_error;
use super::keys;
use crate::errors::StoreError;

/// How long to wait for a new table to become active (real DynamoDB takes seconds).
const ACTIVE_WITHIN: Duration = Duration::from_secs(120);
/// Between two looks at a table that is still being created.
const POLL_EVERY: Duration = Duration::from_millis(500);

fn built<T>(result: Result<T, BuildError>) -> Result<T, StoreError> {
    result.map_err(|error| StoreError::Invalid(format!("CreateTable: {error}")))
}

/// Creates the store's table unless it exists: string keys `PK` (hash) and `SK` (range),
/// on-demand billing, a stream with new and old images (the choreography's triggers), and TTL on
/// `expires_at`. True when it created the table; an existing table is left exactly as it is.
pub async fn create_table(store: &DynamoStore) -> Result<bool, StoreError> {
    let attribute = |name: &str| {
        built(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build(),
        )
    };
    let key = |name: &str, kind: KeyType| {
        built(
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build(),
        )
    };
    let created = store
        .client
        .create_table()
        .table_name(&store.table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(keys::PK)?)
        .attribute_definitions(attribute(keys::SK)?)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .stream_specification(built(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build(),
        )?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(error) if error.code() == Some("ResourceInUseException") => return Ok(false),
        Err(error) => return Err(store_error("CreateTable", error)),
    }
    wait_until_active(store).await?;
    store
        .client
        .update_time_to_live()
        .table_name(&store.table)
        .time_to_live_specification(built(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(keys::EXPIRES_AT)
                .build(),
        )?)
        .send()
        .await
        .map_err(|error| store_error("UpdateTimeToLive", error))?;
    tracing::info!(table = store.table(), "created DynamoDB table");
    Ok(true)
}

/// Polls DescribeTable until the table is `ACTIVE`, as the SDK's `wait_until_table_exists` does.
async fn wait_until_active(store: &DynamoStore) -> Result<(), StoreError> {
    let waited = tokio::time::timeout(ACTIVE_WITHIN, async {
        loop {
            let answer = store
                .client
                .describe_table()
                .table_name(&store.table)
                .send()
                .await
                .map_err(|error| store_error("DescribeTable", error))?;
            if answer.table.and_then(|table| table.table_status) == Some(TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    })
    .await;
    waited.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(format!(
            "table {} did not become active within {ACTIVE_WITHIN:?}",
            store.table()
        )))
    })
}
