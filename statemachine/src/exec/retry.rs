//! Retry and Catch, shared by Task, Parallel and Map.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use super::failure::At;
use super::failure::Failure;
use super::io::apply_result_path;
use super::options::JitterDraw;
use super::state::{Outcome, Thread, evaluate_assign};
use crate::model::retry::error_matches;
use crate::model::{Catcher, Jitter, Retrier};

/// Per-state retry bookkeeping: each retrier counts its own attempts, and the first retrier whose `ErrorEquals`
/// matches decides alone (an exhausted retrier does not hand over to a later one).
pub(crate) struct RetryState {
    counts: Vec<u32>,
    /// `$$.State.RetryCount`: retries so far across all retriers.
    pub retry_count: u32,
}

impl RetryState {
    pub fn new(retriers: &[Retrier]) -> Self {
        RetryState {
            counts: vec![0; retriers.len()],
            retry_count: 0,
        }
    }

    /// How long to wait before retrying after `failure`, or `None` when it is not to be retried.
    pub fn next_delay(
        &mut self,
        retriers: &[Retrier],
        failure: &Failure,
        draw: JitterDraw,
    ) -> Option<Duration> {
        let error = failure.error.as_deref().unwrap_or_default();
        let (index, retrier) = retriers
            .iter()
            .enumerate()
            .find(|(_, r)| error_matches(&r.error_equals, error))?;
        let done = self.counts[index];
        if done >= retrier.max_attempts {
            return None;
        }
        let base = retrier.base_delay_seconds(done).max(0.0);
        let seconds = match retrier.jitter_strategy {
            Jitter::None => base,
            Jitter::Full => match draw {
                JitterDraw::Random => rand::rng().random_range(0.0..=base),
                JitterDraw::Fraction(fraction) => base * fraction.clamp(0.0, 1.0),
            },
        };
        self.counts[index] += 1;
        self.retry_count += 1;
        tracing::debug!(
            error,
            retry = self.retry_count,
            delay_seconds = seconds,
            "retrying after an error"
        );
        Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
    }
}

/// Hands `failure` to the first matching catcher: its `{Error, Cause}` goes through the catcher's `ResultPath` into
/// the state's raw input.
pub(crate) fn catch<'m>(
    thread: &Thread,
    at: At<'_>,
    catchers: &'m [Catcher],
    failure: Failure,
    raw_input: Value,
    context: &Value,
) -> Result<Outcome<'m>, Failure> {
    let error = failure.error.as_deref().unwrap_or_default();
    let Some(catcher) = catchers
        .iter()
        .find(|c| error_matches(&c.error_equals, error))
    else {
        return Err(failure);
    };
    let error_output = failure.as_catch_output();
    let assigned = evaluate_assign(
        at,
        catcher.assign.as_ref(),
        &thread.scope(&error_output, context),
    )?;
    let output = apply_result_path(at, &catcher.result_path, raw_input, error_output)?;
    Ok(Outcome {
        next: Some(&catcher.next),
        output,
        assigned,
    })
}
