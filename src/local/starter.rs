//! Starting workflow runs in-process: what the webhook's `/refresh` does when there is no AWS.

use std::collections::HashMap;
use std::sync::Mutex;

use asl::{Execution, Executor, JitterDraw};
use async_trait::async_trait;
use loadshed_core::ports::{ExecutionName, StartOutcome, WorkflowError, WorkflowStarter};
use tokio::task::JoinHandle;

use super::execution_options;

/// Runs each started execution on its own tokio task, keeping Step Functions' rule that a name is
/// used once.
pub struct LocalStarter {
    executor: Executor,
    jitter: JitterDraw,
    /// Every name ever started; the handle is taken once the run is collected.
    runs: Mutex<HashMap<String, Option<JoinHandle<Execution>>>>,
}

impl LocalStarter {
    pub fn new(executor: Executor) -> Self {
        LocalStarter {
            executor,
            jitter: JitterDraw::default(),
            runs: Mutex::new(HashMap::new()),
        }
    }

    /// How retries draw their FULL jitter (pinned, a simulation repeats exactly).
    pub fn with_jitter(mut self, jitter: JitterDraw) -> Self {
        self.jitter = jitter;
        self
    }

    /// Executions started and not yet finished.
    pub fn running(&self) -> usize {
        self.runs
            .lock()
            .map(|runs| {
                runs.values()
                    .flatten()
                    .filter(|handle| !handle.is_finished())
                    .count()
            })
            .unwrap_or_default()
    }

    /// Waits for every execution not yet collected, in name order.
    pub async fn finish_all(&self) -> Vec<(String, Execution)> {
        let handles: Vec<(String, JoinHandle<Execution>)> = match self.runs.lock() {
            Ok(mut runs) => {
                let mut handles: Vec<_> = runs
                    .iter_mut()
                    .filter_map(|(name, handle)| handle.take().map(|h| (name.clone(), h)))
                    .collect();
                handles.sort_by(|a, b| a.0.cmp(&b.0));
                handles
            }
            Err(_) => Vec::new(),
        };
        let mut finished = Vec::with_capacity(handles.len());
        for (name, handle) in handles {
            if let Ok(execution) = handle.await {
                finished.push((name, execution));
            }
        }
        finished
    }

    /// Waits for the named execution to finish and returns it; `None` if no such run was started or
    /// it was already collected.
    pub async fn finished(&self, name: &str) -> Option<Execution> {
        let handle = self.runs.lock().ok()?.get_mut(name)?.take()?;
        handle.await.ok()
    }

    /// How many executions were started.
    pub fn started(&self) -> usize {
        self.runs.lock().map(|runs| runs.len()).unwrap_or_default()
    }
}

#[async_trait]
impl WorkflowStarter for LocalStarter {
    async fn start(
        &self,
        name: &ExecutionName,
        input: &str,
    ) -> Result<StartOutcome, WorkflowError> {
        let input = serde_json::from_str(input).map_err(|e| WorkflowError::Rejected {
            detail: format!("the execution input is not JSON: {e}"),
        })?;
        let mut runs = self.runs.lock().map_err(|_| WorkflowError::Unavailable {
            detail: "the local starter's lock was poisoned".to_owned(),
        })?;
        if runs.contains_key(name.as_str()) {
            return Ok(StartOutcome::AlreadyExists);
        }
        let executor = self.executor.clone().with_options(asl::ExecutionOptions {
            jitter: self.jitter,
            ..execution_options(name.as_str())
        });
        runs.insert(
            name.as_str().to_owned(),
            Some(tokio::spawn(async move { executor.execute(input).await })),
        );
        Ok(StartOutcome::Started {
            execution_arn: format!(
                "arn:aws:states:af-south-1:000000000000:execution:loadshed-refresh:{name}"
            ),
        })
    }
}
