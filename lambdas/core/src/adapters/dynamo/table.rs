//! Creating the table: used by the tests and the local mode. The SAM template in `infra/` declares
//! the same schema; keep the two in step.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};

use super::keys;
use super::sdk_errors::{request_bug, store_error};
use crate::errors::StoreError;

/// How long to wait for a new table to become active (real DynamoDB takes seconds).
const ACTIVE_WITHIN: Duration = Duration::from_secs(120);

/// Creates the table unless it exists: string keys `PK` (hash) and `SK` (range), on-demand billing,
/// a stream with new and old images (the choreography's triggers), and TTL on `expires_at`.
/// True when it created the table; an existing table is left exactly as it is.
pub async fn create_table(client: &Client, name: &str) -> Result<bool, StoreError> {
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(keys::PK)?)
        .attribute_definitions(string_attribute(keys::SK)?)
        .key_schema(key_element(keys::PK, KeyType::Hash)?)
        .key_schema(key_element(keys::SK, KeyType::Range)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(request_bug)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(error)
            if matches!(
                error.as_service_error(),
                Some(CreateTableError::ResourceInUseException(_))
            ) =>
        {
            return Ok(false);
        }
        Err(error) => return Err(store_error("CreateTable", error)),
    }
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(ACTIVE_WITHIN)
        .await
        .map_err(|error| {
            StoreError::Unavailable(format!(
                "table {name} did not become active: {}",
                DisplayErrorContext(&error)
            ))
        })?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(keys::EXPIRES_AT)
                .build()
                .map_err(request_bug)?,
        )
        .send()
        .await
        .map_err(|error| store_error("UpdateTimeToLive", error))?;
    tracing::info!(table = name, "created DynamoDB table");
    Ok(true)
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(request_bug)
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(request_bug)
}
