//! DynamoDB Streams and Lambda's event source mappings, locally: the embedded store's change feed
//! fanned out to one pump per `Type: DynamoDB` event of the template, each filtering, batching and
//! retrying as the mapping's properties say.
//!
//! Semantics kept from Lambda: filters drop records before batching; a batch closes at BatchSize
//! or MaximumBatchingWindowInSeconds after its first record; a shard's batches run one at a time,
//! in order. A batch whose response names failed records (ReportBatchItemFailures) is checkpointed
//! before the first of them and retried from there; a function error, timeout or crash retries the
//! whole batch, split in halves when BisectBatchOnFunctionError is set. After MaximumRetryAttempts
//! retries, or once a record is older than MaximumRecordAgeInSeconds, the records go to the
//! on-failure destination (the local dead-letter list) and the shard moves on.
//! Simplified: the table is one shard (DynamoDB has one per partition range, which only ever
//! loosens ordering), and a retry waits one second (Lambda retries at once, then backs off).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::dynamodb::EventRecord;
use aws_lambda_events::streams::DynamoDbEventResponse;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

use super::clock::TokioClock;
use super::lambda::{InvokeError, Lambdas};
use super::template::StreamSource;

const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// What was given up on: stream records past their retries or age, schedule invocations past
/// theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    /// The event source, e.g. `NotifyFunction.ScheduleChanged`.
    pub source: String,
    pub reason: String,
    /// Sequence numbers of the records (empty for a schedule invocation).
    pub records: Vec<String>,
    pub at: String,
}

#[derive(Debug, Default)]
pub struct DeadLetters {
    letters: Mutex<Vec<DeadLetter>>,
}

impl DeadLetters {
    pub fn push(&self, letter: DeadLetter) {
        tracing::error!(source = %letter.source, reason = %letter.reason, records = letter.records.len(), "sent to the dead-letter queue");
        if let Ok(mut letters) = self.letters.lock() {
            letters.push(letter);
        }
    }

    pub fn all(&self) -> Vec<DeadLetter> {
        self.letters.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Records handed to pumps and not yet done with (processed or dead-lettered).
#[derive(Debug, Default)]
pub struct Backlog(AtomicUsize);

impl Backlog {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::SeqCst);
    }

    fn done(&self, n: usize) {
        self.0.fetch_sub(n, Ordering::SeqCst);
    }
}

/// A record on its way, with its JSON form (what filters see).
#[derive(Debug, Clone)]
struct Pending {
    record: EventRecord,
    json: Value,
}

/// Fans the feed out: each mapping gets the records its filters pass, and each observer every
/// record.
pub struct Fanout {
    pumps: Vec<(StreamSource, UnboundedSender<Pending>)>,
    observers: Vec<UnboundedSender<EventRecord>>,
    backlog: Arc<Backlog>,
}

impl Fanout {
    pub async fn run(self, mut feed: UnboundedReceiver<EventRecord>) {
        while let Some(record) = feed.recv().await {
            for observer in &self.observers {
                let _ = observer.send(record.clone());
            }
            let json = match serde_json::to_value(&record) {
                Ok(json) => json,
                Err(error) => {
                    tracing::error!(%error, "a stream record does not serialise");
                    continue;
                }
            };
            for (source, pump) in &self.pumps {
                // Patterns were checked when the template was read, so matching cannot fail.
                if source.passes(&json).unwrap_or(false) {
                    self.backlog.add(1);
                    let pending = Pending {
                        record: record.clone(),
                        json: json.clone(),
                    };
                    if pump.send(pending).is_err() {
                        self.backlog.done(1);
                    }
                }
            }
        }
    }
}

/// One event source mapping.
pub struct StreamPump {
    pub source: StreamSource,
    /// The function's name.
    pub function: String,
    pub lambdas: Arc<Lambdas>,
    pub dead_letters: Arc<DeadLetters>,
    pub backlog: Arc<Backlog>,
    pub clock: TokioClock,
}

/// Starts a pump per mapping and the fan-out feeding them; `observers` get every record too.
pub fn start(
    pumps: Vec<StreamPump>,
    observers: Vec<UnboundedSender<EventRecord>>,
    feed: UnboundedReceiver<EventRecord>,
    backlog: Arc<Backlog>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    let mut outlets = Vec::new();
    for pump in pumps {
        let (sender, receiver) = unbounded_channel();
        outlets.push((pump.source.clone(), sender));
        handles.push(tokio::spawn(pump.run(receiver)));
    }
    let fanout = Fanout {
        pumps: outlets,
        observers,
        backlog,
    };
    handles.push(tokio::spawn(fanout.run(feed)));
    handles
}

impl StreamPump {
    async fn run(self, mut records: UnboundedReceiver<Pending>) {
        let mut waiting: VecDeque<Pending> = VecDeque::new();
        loop {
            if waiting.is_empty() {
                match records.recv().await {
                    Some(first) => waiting.push_back(first),
                    None => return,
                }
            }
            let closes = Instant::now() + self.source.batching_window;
            while waiting.len() < self.source.batch_size {
                tokio::select! {
                    next = records.recv() => match next {
                        Some(record) => waiting.push_back(record),
                        None => break,
                    },
                    () = sleep_until(closes) => break,
                }
            }
            let take = waiting.len().min(self.source.batch_size);
            let batch: Vec<Pending> = waiting.drain(..take).collect();
            self.process(batch).await;
        }
    }

    /// Runs one batch to its end: processed, or what failed dead-lettered.
    async fn process(&self, batch: Vec<Pending>) {
        let total = batch.len();
        // (records, retries so far); halves of a bisected batch go first, in order.
        let mut work: VecDeque<(Vec<Pending>, u32)> = VecDeque::from([(batch, 0)]);
        while let Some((batch, retries)) = work.pop_front() {
            let batch = self.drop_expired(batch);
            if batch.is_empty() {
                continue;
            }
            let payload = json!({"Records": batch.iter().map(|p| &p.json).collect::<Vec<_>>()});
            let failed_from = match self.lambdas.invoke(&self.function, payload).await {
                Ok(response) => match self.first_failed(&batch, &response) {
                    None => continue,
                    Some(index) => Failure::Records(index),
                },
                Err(error) => Failure::Function(error),
            };
            let exhausted = self
                .source
                .max_retry_attempts
                .is_some_and(|max| retries >= max);
            match failed_from {
                Failure::Records(index) => {
                    let rest = batch[index..].to_vec();
                    if exhausted {
                        self.give_up(&rest, "retries exhausted (batch item failures)");
                    } else {
                        sleep(RETRY_PAUSE).await;
                        work.push_front((rest, retries + 1));
                    }
                }
                Failure::Function(error) => {
                    let reason = match &error {
                        InvokeError::Function(failure) => {
                            format!("function error {}", failure.error)
                        }
                        InvokeError::TimedOut { .. } => "function timed out".to_owned(),
                        InvokeError::Crashed => "function crashed".to_owned(),
                    };
                    if exhausted {
                        self.give_up(&batch, &format!("retries exhausted ({reason})"));
                    } else if self.source.bisect_on_error && batch.len() > 1 {
                        let mut first = batch;
                        let second = first.split_off(first.len() / 2);
                        sleep(RETRY_PAUSE).await;
                        work.push_front((second, retries + 1));
                        work.push_front((first, retries + 1));
                    } else {
                        sleep(RETRY_PAUSE).await;
                        work.push_front((batch, retries + 1));
                    }
                }
            }
        }
        self.backlog.done(total);
    }

    /// The index of the first record the response reports failed; a response naming a record not in
    /// the batch fails the whole batch, as Lambda treats it.
    fn first_failed(&self, batch: &[Pending], response: &Value) -> Option<usize> {
        if !self.source.partial_batch_response {
            return None;
        }
        let response: DynamoDbEventResponse = match serde_json::from_value(response.clone()) {
            Ok(response) => response,
            // Lambda reads an unparseable response as complete success.
            Err(_) => return None,
        };
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_deref().unwrap_or_default())
            .collect();
        if failed.is_empty() {
            return None;
        }
        let positions = failed.iter().map(|id| {
            batch
                .iter()
                .position(|p| p.record.change.sequence_number.as_deref() == Some(*id))
        });
        let mut first = None;
        for position in positions {
            match position {
                None => return Some(0),
                Some(p) => first = Some(first.map_or(p, |f: usize| f.min(p))),
            }
        }
        first
    }

    fn drop_expired(&self, batch: Vec<Pending>) -> Vec<Pending> {
        let Some(max_age) = self.source.max_record_age else {
            return batch;
        };
        let now = self.clock.utc_now();
        let (expired, live): (Vec<Pending>, Vec<Pending>) = batch.into_iter().partition(|p| {
            (now - p.record.change.approximate_creation_date_time)
                .to_std()
                .is_ok_and(|age| age > max_age)
        });
        if !expired.is_empty() {
            self.give_up(&expired, "record older than MaximumRecordAgeInSeconds");
        }
        live
    }

    fn give_up(&self, records: &[Pending], reason: &str) {
        self.dead_letters.push(DeadLetter {
            source: self.source.id.clone(),
            reason: reason.to_owned(),
            records: records
                .iter()
                .filter_map(|p| p.record.change.sequence_number.clone())
                .collect(),
            at: self.clock.utc_now().to_rfc3339(),
        });
    }
}

enum Failure {
    /// Checkpoint before this record and retry from it.
    Records(usize),
    Function(InvokeError),
}
