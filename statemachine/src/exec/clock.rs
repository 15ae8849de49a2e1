//! Time for the executor: the real clock, or a virtual one under which Wait states and retry back-off take no real
//! time.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

#[async_trait]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    async fn sleep(&self, duration: Duration);

    /// Called by the executor when the whole execution is blocked. A virtual clock jumps to its earliest pending
    /// sleep and wakes it, returning true; a real clock returns false.
    fn advance_when_idle(&self) -> bool {
        false
    }

    /// How many sleeps are waiting on this clock (virtual clocks only; a real clock reports 0).
    fn pending_sleeps(&self) -> usize {
        0
    }
}

/// Wall-clock time and tokio timers.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Virtual time: `sleep` parks until every other part of the execution is blocked too, then time jumps forward to
/// the earliest wake-up. (tokio's paused test clock does this for a whole runtime, but only on a current-thread
/// runtime built with `test-util`, and it would also freeze an invoker's real network timeouts; this clock only
/// governs the executor's own time, on any runtime.) So a machine with hours of Wait runs in microseconds, and races such as a task against its
/// `TimeoutSeconds` still resolve in virtual-time order.
///
/// Task invocations may do real I/O: while one is in flight and nothing but the executor's own timers (Wait,
/// back-off, timeouts) is asleep, the executor holds virtual time still until the invocation makes progress, so a
/// `TimeoutSeconds` does not fire just because a handler awaits a socket. An invoker that sleeps on this clock
/// itself (a simulated latency) lets time move again.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    inner: Arc<Mutex<VirtualState>>,
}

#[derive(Debug)]
struct VirtualState {
    now: DateTime<Utc>,
    next_id: u64,
    /// Pending sleeps ordered by (deadline, registration order).
    timers: BTreeMap<(DateTime<Utc>, u64), ()>,
    wakers: HashMap<u64, Waker>,
}

impl VirtualClock {
    pub fn starting_at(now: DateTime<Utc>) -> Self {
        VirtualClock {
            inner: Arc::new(Mutex::new(VirtualState {
                now,
                next_id: 0,
                timers: BTreeMap::new(),
                wakers: HashMap::new(),
            })),
        }
    }

    /// Starts at the current wall-clock time, so Wait `Timestamp`s in the near future behave as they would for real.
    pub fn new() -> Self {
        VirtualClock::starting_at(Utc::now())
    }

    fn state(&self) -> MutexGuard<'_, VirtualState> {
        // A poisoned lock only means another thread panicked mid-update of plain data; the data is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock::new()
    }
}

struct VirtualSleep {
    clock: VirtualClock,
    deadline: DateTime<Utc>,
    id: Option<u64>,
}

impl Future for VirtualSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let clock = self.clock.clone();
        let mut state = clock.state();
        if state.now >= self.deadline {
            if let Some(id) = self.id.take() {
                state.wakers.remove(&id);
                state.timers.remove(&(self.deadline, id));
            }
            return Poll::Ready(());
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                let id = state.next_id;
                state.next_id += 1;
                state.timers.insert((self.deadline, id), ());
                self.id = Some(id);
                id
            }
        };
        state.wakers.insert(id, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for VirtualSleep {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let mut state = self.clock.state();
            state.timers.remove(&(self.deadline, id));
            state.wakers.remove(&id);
        }
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.state().now
    }

    async fn sleep(&self, duration: Duration) {
        let delta = TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX);
        let deadline = self
            .now()
            .checked_add_signed(delta)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        VirtualSleep {
            clock: self.clone(),
            deadline,
            id: None,
        }
        .await;
    }

    fn pending_sleeps(&self) -> usize {
        self.state().timers.len()
    }

    fn advance_when_idle(&self) -> bool {
        let mut state = self.state();
        let Some((&(deadline, _), ())) = state.timers.first_key_value() else {
            return false;
        };
        if deadline > state.now {
            state.now = deadline;
        }
        let due: Vec<(DateTime<Utc>, u64)> = state
            .timers
            .range(..=(deadline, u64::MAX))
            .map(|(k, ())| *k)
            .collect();
        let mut woke = false;
        for key in due {
            if let Some(waker) = state.wakers.remove(&key.1) {
                waker.wake();
                woke = true;
            }
        }
        woke
    }
}

/// Polls `future` and, whenever nothing inside it was woken and `may_advance` agrees, lets the clock advance
/// virtual time.
pub(crate) struct DriveWithClock<F> {
    future: Pin<Box<F>>,
    clock: Arc<dyn Clock>,
    may_advance: Box<dyn Fn() -> bool + Send>,
    flag: Arc<WokenFlag>,
}

struct WokenFlag {
    woken: AtomicBool,
    outer: Mutex<Option<Waker>>,
}

impl Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        let outer = self
            .outer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(waker) = outer.as_ref() {
            waker.wake_by_ref();
        }
    }
}

impl<F: Future> DriveWithClock<F> {
    pub(crate) fn new(
        future: F,
        clock: Arc<dyn Clock>,
        may_advance: Box<dyn Fn() -> bool + Send>,
    ) -> Self {
        DriveWithClock {
            future: Box::pin(future),
            clock,
            may_advance,
            flag: Arc::new(WokenFlag {
                woken: AtomicBool::new(false),
                outer: Mutex::new(None),
            }),
        }
    }
}

impl<F: Future> Future for DriveWithClock<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        *self
            .flag
            .outer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cx.waker().clone());
        let waker = Waker::from(self.flag.clone());
        let mut inner_cx = Context::from_waker(&waker);
        // Re-polling straight away after an inner wake saves a round trip through the runtime; the cap keeps a
        // future that keeps waking itself from starving other tasks (the forwarded wake re-schedules us).
        for _ in 0..1024 {
            self.flag.woken.store(false, Ordering::SeqCst);
            if let Poll::Ready(out) = self.future.as_mut().poll(&mut inner_cx) {
                return Poll::Ready(out);
            }
            if self.flag.woken.load(Ordering::SeqCst) {
                continue;
            }
            if !(self.may_advance)() || !self.clock.advance_when_idle() {
                return Poll::Pending;
            }
        }
        Poll::Pending
    }
}

/// Gives way once: wakes itself and returns pending, so a state loop that never waits still lets the executor notice
/// a timeout or a full history (any runtime; `tokio::task::yield_now` needs tokio's).
pub(crate) fn yield_now() -> impl Future<Output = ()> {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldNow(false)
}
