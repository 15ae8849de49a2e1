//! Unconditional puts in BatchWriteItem calls of 25: the subscriptions a new table is seeded with,
//! and the ledger's confirmations ([`DeliveryLedger::confirm_deliveries`]).
//!
//! [`DeliveryLedger::confirm_deliveries`]: crate::ports::DeliveryLedger::confirm_deliveries

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use super::DynamoStore;
use super::call_errors::store_error;
use super::convert::to_sdk;
use super::items::Item;
use crate::backoff::Backoff;
use crate::errors::StoreError;

/// DynamoDB's most requests in one BatchWriteItem.
pub(super) const BATCH: usize = 25;
/// Calls per batch while DynamoDB hands back unprocessed items (throttling), with back-off.
const ATTEMPTS: u32 = 8;
/// Between those calls: unprocessed items are throttling, which passes in milliseconds.
const BACKOFF: Backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));

impl DynamoStore {
    /// Puts every item of `items` (at most [`BATCH`], distinct keys: DynamoDB refuses a batch
    /// naming one key twice) in one BatchWriteItem, repeated for what DynamoDB leaves unprocessed.
    pub(super) async fn put_batch(
        &self,
        items: Vec<Item>,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(to_sdk(item)))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
                    .map_err(|error| StoreError::Invalid(format!("PutRequest: {error}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        until_processed(requests, operation, |requests| async move {
            let output = self
                .client
                .batch_write_item()
                .request_items(self.table.as_str(), requests)
                .send()
                .await
                .map_err(|error| store_error(operation, error))?;
            Ok(output
                .unprocessed_items
                .and_then(|mut left| left.remove(self.table.as_str()))
                .unwrap_or_default())
        })
        .await
    }
}

/// Calls `call` with `requests`, then with what it hands back unprocessed, until nothing is left
/// (with back-off, at most [`ATTEMPTS`] calls). Items still unprocessed after that are an
/// `Unavailable` error, never dropped; a failed call is its error at once (the SDK has retried it).
async fn until_processed<F, Fut>(
    mut requests: Vec<WriteRequest>,
    operation: &'static str,
    mut call: F,
) -> Result<(), StoreError>
where
    F: FnMut(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>, StoreError>>,
{
    for attempt in 0..ATTEMPTS {
        if requests.is_empty() {
            return Ok(());
        }
        if attempt > 0 {
            tokio::time::sleep(BACKOFF.pause(attempt)).await;
        }
        requests = call(requests).await?;
    }
    if requests.is_empty() {
        return Ok(());
    }
    Err(StoreError::Unavailable(format!(
        "{operation}: {} items still unprocessed after {ATTEMPTS} calls",
        requests.len()
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a failed expectation is its failure.

    use std::sync::Mutex;

    use super::*;

    fn requests(n: usize) -> Vec<WriteRequest> {
        (0..n)
            .map(|i| {
                let item = std::iter::once((
                    "pk".to_owned(),
                    aws_sdk_dynamodb::types::AttributeValue::S(i.to_string()),
                ))
                .collect();
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                    .build()
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn unprocessed_items_are_sent_again_until_none_is_left() {
        let calls = Mutex::new(Vec::new());
        let result = until_processed(requests(25), "BatchWriteItem (test)", |sent| {
            calls.lock().unwrap().push(sent.len());
            // Throttled: the first two calls leave all but 10 items unprocessed.
            let left = match calls.lock().unwrap().len() {
                1 | 2 => sent.into_iter().skip(10).collect(),
                _ => Vec::new(),
            };
            async move { Ok(left) }
        })
        .await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(*calls.lock().unwrap(), vec![25, 15, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn items_left_unprocessed_are_an_unavailable_error_not_a_drop() {
        let calls = Mutex::new(0);
        let result = until_processed(requests(3), "BatchWriteItem (test)", |sent| {
            *calls.lock().unwrap() += 1;
            async move { Ok(sent) }
        })
        .await;
        assert_eq!(*calls.lock().unwrap(), ATTEMPTS);
        match result {
            Err(StoreError::Unavailable(detail)) => {
                assert!(detail.contains("3 items still unprocessed"), "{detail}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_call_is_its_error_at_once() {
        let calls = Mutex::new(0);
        let result = until_processed(requests(3), "BatchWriteItem (test)", |_| {
            *calls.lock().unwrap() += 1;
            async { Err(StoreError::Unavailable("throttled".into())) }
        })
        .await;
        assert_eq!(*calls.lock().unwrap(), 1);
        assert!(matches!(result, Err(StoreError::Unavailable(_))));
    }
}
