//! Creating the table: used by the tests and the local mode. The SAM template in `infra/` declares
//! the same schema; keep the two in step.

use std::time::Duration;

use serde_json::{Value, json};

use super::DynamoStore;
use super::call_errors::store_error;
use super::keys;
use crate::errors::StoreError;

/// How long to wait for a new table to become active (real DynamoDB takes seconds).
const ACTIVE_WITHIN: Duration = Duration::from_secs(120);
/// Between two looks at a table that is still being created.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// Creates the store's table unless it exists: string keys `PK` (hash) and `SK` (range),
/// on-demand billing, a stream with new and old images (the choreography's triggers), and TTL on
/// `expires_at`. True when it created the table; an existing table is left exactly as it is.
pub async fn create_table(store: &DynamoStore) -> Result<bool, StoreError> {
    let input = json!({
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            { "AttributeName": keys::PK, "AttributeType": "S" },
            { "AttributeName": keys::SK, "AttributeType": "S" },
        ],
        "KeySchema": [
            { "AttributeName": keys::PK, "KeyType": "HASH" },
            { "AttributeName": keys::SK, "KeyType": "RANGE" },
        ],
        "StreamSpecification": { "StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES" },
    });
    match store.call("CreateTable", input).await {
        Ok(_) => {}
        Err(error) if error.code() == Some("ResourceInUseException") => return Ok(false),
        Err(error) => return Err(store_error("CreateTable", error)),
    }
    wait_until_active(store).await?;
    let ttl = json!({
        "TimeToLiveSpecification": { "Enabled": true, "AttributeName": keys::EXPIRES_AT },
    });
    store
        .call("UpdateTimeToLive", ttl)
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
                .call("DescribeTable", json!({}))
                .await
                .map_err(|error| store_error("DescribeTable", error))?;
            if answer.pointer("/Table/TableStatus").and_then(Value::as_str) == Some("ACTIVE") {
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
