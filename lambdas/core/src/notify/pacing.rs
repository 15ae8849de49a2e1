//! Telegram's broadcast limits: about 30 messages a second overall, one a second per chat, about 20
//! a minute per group, and flood-control pauses (`retry_after`) per chat.
//!
//! Written here rather than taken from a rate-limiting crate because it needs all of these at once,
//! keyed by chat, shared by concurrent sends, on tokio's clock (so tests and the simulation can pause
//! time), and with a *grid* for the overall limit: every send is given its own slot on a grid
//! `overall_gap` apart, so no two sends are ever closer than that, and any one-second window holds at
//! most `1 s / overall_gap` of them (29 with a 34.5 ms gap; 31 sends span 1.035 s, so 35 ms of
//! jitter between our clock and Telegram's arrival still keeps any second at 30 or fewer). A token bucket would allow bursts that
//! break that rule at the bucket's edges.
//!
//! The grid bounds when sends are *planned*. A send that wakes late (a busy machine, a slow store
//! write before it) would go out right before the next on-time ones, and a stall of a few hundred
//! milliseconds would bunch several: so each send also passes a *gate* as it starts, which counts
//! the sends actually started in the last second and holds it while that second is full (29 with a
//! 34.5 ms gap, the most the grid itself ever puts in a second, so an on-time send never waits).
//! A bench at 10,000 chats on a loaded machine saw 33 arrivals in one second before the gate.
//!
//! One pacer serves the whole process (see `NotifyTask`), so concurrent broadcasts in one process
//! share the budget; across processes the notify function's reserved concurrency of 1 makes the
//! process the whole bot (docs/design.md, "Delivery").
//!
//! # Paid broadcasts
//!
//! With a paid rate (`PacingLimits::paid_rate`, Telegram's `allow_paid_broadcast`, up to 1,000
//! messages a second for 0.1 Star each beyond the free 30), the grid is finer: `1 s / paid_rate`
//! stretched by the same margin as the free grid (1.035 ms at 1,000: at most 967 in any second).
//! Each send still passes the free gate first: it goes free while the last second holds fewer than
//! 29 free sends, and paid only beyond that, so a run pays for no message the free budget could
//! carry. A run that may not pay (paid rate off, or dropped to the free rate after Telegram refused
//! a paid send) reserves only slots spaced a free gap from every other free slot, so its sends
//! never wait long at the gate.
//!
//! # Reminders first
//!
//! A reminder is worth something only before its outage; an announcement still holds hours later
//! (and a newer one supersedes it). When the messages due outrun the free rate, a run marked
//! urgent (the reminder runs, `Run::urgent`) goes first: while one is sending, other runs that send
//! at the free rate start no new message ([`Pacer::urgent_run`], [`Pacer::yield_to_urgent`]). A
//! message already claimed is not held back (its claim's lease would run out while it waited); the
//! others wait before their claim, so the reminders take every slot of the grid until they are
//! done. A run that may pay does not wait: the paid rate carries both.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::ChatId;

/// Telegram's most messages a second with `allow_paid_broadcast`.
pub const MAX_PAID_RATE: u32 = 1000;

#[derive(Debug, Clone, Copy)]
pub struct PacingLimits {
    /// Grid step for all free sends of the bot (34.5 ms: at most 29 a second, 30 in any second
    /// even with 35 ms of network jitter; 34 ms measured 31 arrivals in one second at a real
    /// stand-in).
    pub overall_gap: Duration,
    /// Between two messages to one private chat.
    pub chat_gap: Duration,
    /// Between two messages to one group (negative chat ids): 3 s is Telegram's 20 a minute.
    pub group_gap: Duration,
    /// Messages a second, free ones included, when paid broadcasts are on; 0: off. At most
    /// [`MAX_PAID_RATE`] (checked where it is configured: `PaidRate`).
    pub paid_rate: u32,
}

impl Default for PacingLimits {
    fn default() -> Self {
        PacingLimits {
            overall_gap: Duration::from_micros(34_500),
            chat_gap: Duration::from_secs(1),
            group_gap: Duration::from_secs(3),
            paid_rate: 0,
        }
    }
}

impl PacingLimits {
    /// These limits with paid broadcasts at `rate` messages a second (0: off).
    pub fn with_paid_rate(mut self, rate: u32) -> Self {
        self.paid_rate = rate.min(MAX_PAID_RATE);
        self
    }

    fn free_gap(&self) -> Duration {
        self.overall_gap.max(Duration::from_micros(1))
    }

    /// The most sends these limits let start within any one second (29 free; 967 at a paid
    /// 1,000).
    pub fn most_sends_per_second(&self) -> usize {
        per_second(self.step())
    }

    /// The grid's step: the free gap, or with a paid rate the same margin over `1 s / rate`.
    fn step(&self) -> Duration {
        let free = self.free_gap();
        match self.paid_rate {
            0 => free,
            rate => {
                // overall_gap is sized for the free budget (29 of Telegram's 30 a second); the paid
                // step keeps that ratio to its own rate.
                let nanos = free.as_nanos() * FREE_BUDGET as u128 / u128::from(rate);
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX).max(1)).min(free)
            }
        }
    }
}

/// Telegram's free broadcast budget a second.
const FREE_BUDGET: u32 = 30;

/// A reserved send: when, and whether the slot was reserved as a paid one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub at: Instant,
    /// Reserved on the paid grid (the send may still go free if the free budget has room).
    pub paid: bool,
}

/// How a send goes out, decided at the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fare {
    Free,
    /// With `allow_paid_broadcast`.
    Paid,
}

#[derive(Debug)]
pub struct Pacer {
    limits: PacingLimits,
    state: Mutex<PacerState>,
    /// Urgent runs sending now: other runs start no new message while it is above 0.
    urgent: tokio::sync::watch::Sender<usize>,
}

/// An urgent run in progress: other runs wait while it lives (see [`Pacer::urgent_run`]).
#[derive(Debug)]
pub struct UrgentRun<'p> {
    pacer: &'p Pacer,
}

impl Drop for UrgentRun<'_> {
    fn drop(&mut self) {
        self.pacer
            .urgent
            .send_modify(|running| *running = running.saturating_sub(1));
    }
}

#[derive(Debug)]
struct PacerState {
    origin: Instant,
    /// Grid slots reserved from the current one on (older ones are dropped as time passes).
    taken: BTreeSet<u64>,
    /// The slots reserved as free ones (a subset of `taken`, and of what was taken just before).
    free_taken: BTreeSet<u64>,
    /// When each chat may next receive a message.
    next_for: HashMap<ChatId, Instant>,
    /// When the sends of the last second started, oldest first.
    started: VecDeque<Instant>,
    /// When the free sends of the last second started, oldest first.
    free_started: VecDeque<Instant>,
}

/// The gate's window.
const SECOND: Duration = Duration::from_secs(1);

/// Above this many chats remembered, those whose gap has passed are forgotten.
const FORGET_CHATS_OVER: usize = 20_000;

impl Pacer {
    pub fn new(limits: PacingLimits) -> Self {
        Pacer {
            limits,
            state: Mutex::new(PacerState {
                origin: Instant::now(),
                taken: BTreeSet::new(),
                free_taken: BTreeSet::new(),
                next_for: HashMap::new(),
                started: VecDeque::new(),
                free_started: VecDeque::new(),
            }),
            urgent: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Marks an urgent run as sending until the guard is dropped.
    pub fn urgent_run(&self) -> UrgentRun<'_> {
        self.urgent.send_modify(|running| *running += 1);
        UrgentRun { pacer: self }
    }

    /// Waits while an urgent run is sending; false when `not_after` came first (the caller is out
    /// of time).
    pub async fn yield_to_urgent(&self, not_after: Option<Instant>) -> bool {
        let mut running = self.urgent.subscribe();
        let idle = running.wait_for(|running| *running == 0);
        match not_after {
            // The sender lives as long as the pacer, so the wait ends only when no run is urgent.
            None => idle.await.is_ok(),
            Some(limit) => matches!(tokio::time::timeout_at(limit, idle).await, Ok(Ok(_))),
        }
    }

    pub fn limits(&self) -> PacingLimits {
        self.limits
    }

    /// Whether sends beyond the free budget may be paid for.
    pub fn pays(&self) -> bool {
        self.limits.paid_rate > 0
    }

    fn gap_for(&self, chat: ChatId) -> Duration {
        if chat.0 < 0 {
            self.limits.group_gap
        } else {
            self.limits.chat_gap
        }
    }

    /// Grid steps between two free slots.
    fn free_every(&self) -> u64 {
        let step = self.limits.step().as_nanos();
        u64::try_from(self.limits.free_gap().as_nanos().div_ceil(step))
            .unwrap_or(1)
            .max(1)
    }

    /// Reserves the earliest free slot at which a message to `chat` is allowed, and counts it as
    /// sent then. `None` when that slot would be after `not_after` (nothing is reserved): the
    /// caller is out of time.
    pub fn reserve(&self, chat: ChatId, not_after: Option<Instant>) -> Option<Instant> {
        self.reserve_slot(chat, not_after, false)
            .map(|slot| slot.at)
    }

    /// Reserves the earliest slot for `chat`: any slot of the grid when `may_pay` (and the pacer
    /// pays), else only one a free gap from every other free slot. `None` when it would be after
    /// `not_after` (nothing is reserved).
    pub fn reserve_slot(
        &self,
        chat: ChatId,
        not_after: Option<Instant>,
        may_pay: bool,
    ) -> Option<Slot> {
        let now = Instant::now();
        let step = self.limits.step();
        let may_pay = may_pay && self.pays();
        let every = self.free_every();
        let chat_gap = self.gap_for(chat);
        let mut state = self.lock();
        let ready = state.next_for.get(&chat).copied().unwrap_or(now).max(now);
        let nanos = step.as_nanos();
        let since = ready.saturating_duration_since(state.origin).as_nanos();
        let mut slot = u64::try_from(since.div_ceil(nanos)).unwrap_or(u64::MAX);
        let free = loop {
            while state.taken.contains(&slot) {
                slot = slot.saturating_add(1);
            }
            let low = slot.saturating_sub(every - 1);
            let high = slot.saturating_add(every - 1);
            match state.free_taken.range(low..=high).next_back().copied() {
                None => break true,
                Some(_) if may_pay => break false,
                Some(conflict) => slot = conflict.saturating_add(every).max(slot + 1),
            }
        };
        let at = state.origin + step.saturating_mul(u32::try_from(slot).unwrap_or(u32::MAX));
        if not_after.is_some_and(|limit| at > limit) {
            return None;
        }
        state.taken.insert(slot);
        if free {
            state.free_taken.insert(slot);
        }
        let current = u64::try_from(now.saturating_duration_since(state.origin).as_nanos() / nanos)
            .unwrap_or(0);
        state.taken = state.taken.split_off(&current);
        state.free_taken = state.free_taken.split_off(&current.saturating_sub(every));
        state.next_for.insert(chat, at + chat_gap);
        if state.next_for.len() > FORGET_CHATS_OVER {
            state.next_for.retain(|_, next| *next > now);
        }
        Some(Slot { at, paid: !free })
    }

    /// The most sends the gate lets start within one second: as many grid slots as a second
    /// holds.
    fn starts_per_second(&self) -> usize {
        self.limits.most_sends_per_second()
    }

    /// The most free sends the gate lets start within one second.
    fn free_starts_per_second(&self) -> usize {
        per_second(self.limits.free_gap())
    }

    /// Counts a send as starting now and says how it goes, or says until when it must wait.
    fn try_start(&self, may_pay: bool) -> Result<Fare, Instant> {
        let now = Instant::now();
        let limit = self.starts_per_second();
        let free_limit = self.free_starts_per_second();
        let may_pay = may_pay && self.pays();
        let mut guard = self.lock();
        let state = &mut *guard;
        for window in [&mut state.started, &mut state.free_started] {
            while window
                .front()
                .is_some_and(|start| now.saturating_duration_since(*start) >= SECOND)
            {
                window.pop_front();
            }
        }
        if state.started.len() >= limit
            && let Some(oldest) = state.started.front()
        {
            return Err(*oldest + SECOND);
        }
        let fare = if state.free_started.len() < free_limit {
            Fare::Free
        } else if may_pay {
            Fare::Paid
        } else {
            return Err(state
                .free_started
                .front()
                .map_or(now, |oldest| *oldest + SECOND));
        };
        state.started.push_back(now);
        if fare == Fare::Free {
            state.free_started.push_back(now);
        }
        Ok(fare)
    }

    /// Waits at the gate until a free send may start (right away unless sends bunched), and
    /// counts it. Call it after the slot's wait, just before the send.
    pub async fn start_send(&self) {
        self.start(false).await;
    }

    /// Waits at the gate until the send may start, counts it, and says whether it goes free or
    /// paid: free while the last second's free budget has room, paid beyond it when `may_pay`
    /// (and the pacer pays), else it waits for the free budget.
    pub async fn start(&self, may_pay: bool) -> Fare {
        loop {
            match self.try_start(may_pay) {
                Ok(fare) => return fare,
                Err(until) => tokio::time::sleep_until(until).await,
            }
        }
    }

    /// Flood control for one chat: Telegram asked us not to send to it for `pause`.
    pub fn pause_chat(&self, chat: ChatId, pause: Duration) {
        let until = Instant::now() + pause;
        let mut state = self.lock();
        let next = state.next_for.entry(chat).or_insert(until);
        *next = (*next).max(until);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        // A poisoned lock only means a panicking thread held it; the schedule it guards stays valid.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How many grid slots `gap` apart one second holds.
fn per_second(gap: Duration) -> usize {
    let gap = gap.max(Duration::from_micros(1)).as_nanos();
    usize::try_from(SECOND.as_nanos().div_ceil(gap)).unwrap_or(usize::MAX)
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(PacingLimits::default())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn limits(overall_ms: u64) -> PacingLimits {
        PacingLimits {
            overall_gap: Duration::from_millis(overall_ms),
            chat_gap: Duration::from_secs(1),
            group_gap: Duration::from_secs(3),
            paid_rate: 0,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_a_grid_overall_and_gapped_per_chat() {
        let pacer = Pacer::new(limits(100));
        let start = Instant::now();
        let at = |i: Option<Instant>| i.expect("slot").duration_since(start);
        assert_eq!(at(pacer.reserve(ChatId(1), None)), Duration::ZERO);
        assert_eq!(
            at(pacer.reserve(ChatId(2), None)),
            Duration::from_millis(100)
        );
        // Chat 1 must wait its second; the grid slots in between stay free for others.
        assert_eq!(at(pacer.reserve(ChatId(1), None)), Duration::from_secs(1));
        assert_eq!(
            at(pacer.reserve(ChatId(3), None)),
            Duration::from_millis(200)
        );
        // A group waits three seconds between messages.
        assert_eq!(
            at(pacer.reserve(ChatId(-5), None)),
            Duration::from_millis(300)
        );
        assert_eq!(
            at(pacer.reserve(ChatId(-5), None)),
            Duration::from_millis(3300)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_chat_does_not_hold_up_the_others() {
        let pacer = Pacer::new(limits(100));
        let start = Instant::now();
        pacer.pause_chat(ChatId(1), Duration::from_secs(5));
        let first = pacer.reserve(ChatId(1), None).expect("slot");
        assert_eq!(first.duration_since(start), Duration::from_secs(5));
        let other = pacer.reserve(ChatId(2), None).expect("slot");
        assert_eq!(other.duration_since(start), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_reserved_past_the_limit() {
        let pacer = Pacer::new(limits(100));
        let start = Instant::now();
        let limit = Some(start + Duration::from_millis(150));
        assert!(pacer.reserve(ChatId(1), limit).is_some());
        assert!(pacer.reserve(ChatId(2), limit).is_some());
        assert_eq!(pacer.reserve(ChatId(3), limit), None);
        // The refused reservation took no slot.
        let next = pacer.reserve(ChatId(3), None).expect("slot");
        assert_eq!(next.duration_since(start), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn late_sends_do_not_bunch_at_the_gate() {
        let pacer = Pacer::default();
        let start = Instant::now();
        // Planned on the grid, but the machine stalled: 40 sends all wake at once, 200 ms late.
        let slots: Vec<Instant> = (0..40)
            .map(|chat| pacer.reserve(ChatId(chat), None).expect("slot"))
            .collect();
        tokio::time::sleep_until(start + Duration::from_millis(200)).await;
        let mut starts = Vec::new();
        for slot in slots {
            tokio::time::sleep_until(slot).await;
            pacer.start_send().await;
            starts.push(Instant::now());
        }
        assert_eq!(pacer.starts_per_second(), 29);
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < SECOND)
                .count();
            assert!(in_window <= 29, "{in_window} sends started within a second");
        }
        // The ones held went at the first moment the second allowed.
        assert_eq!(
            starts[29].duration_since(start),
            Duration::from_millis(1200)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn on_time_sends_never_wait_at_the_gate() {
        let pacer = Pacer::default();
        for chat in 0..100 {
            let slot = pacer.reserve(ChatId(chat), None).expect("slot");
            tokio::time::sleep_until(slot).await;
            let before = Instant::now();
            pacer.start_send().await;
            assert_eq!(Instant::now(), before, "send {chat} waited");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_paid_rate_fills_its_grid_and_free_only_slots_keep_the_free_gap() {
        let pacer = Pacer::new(PacingLimits::default().with_paid_rate(1000));
        let start = Instant::now();
        let paying: Vec<Slot> = (0..2000)
            .map(|chat| pacer.reserve_slot(ChatId(chat), None, true).expect("slot"))
            .collect();
        let in_first_second = paying
            .iter()
            .filter(|s| s.at.duration_since(start) < SECOND)
            .count();
        assert!(
            (960..=967).contains(&in_first_second),
            "{in_first_second} in the first second"
        );
        // A run that may not pay gets only slots a free gap from every other free one.
        let free_only: Vec<Slot> = (5000..5040)
            .map(|chat| pacer.reserve_slot(ChatId(chat), None, false).expect("slot"))
            .collect();
        assert!(free_only.iter().all(|s| !s.paid));
        let mut free: Vec<Instant> = paying
            .iter()
            .chain(&free_only)
            .filter(|s| !s.paid)
            .map(|s| s.at)
            .collect();
        free.sort();
        for pair in free.windows(2) {
            assert!(
                pair[1].duration_since(pair[0]) >= Duration::from_micros(34_500),
                "free slots {:?} apart",
                pair[1].duration_since(pair[0])
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_gate_sends_free_while_the_free_budget_lasts_then_paid() {
        let pacer = Pacer::new(PacingLimits::default().with_paid_rate(1000));
        let mut fares = Vec::new();
        for _ in 0..100 {
            fares.push(pacer.start(true).await);
        }
        assert!(fares[..29].iter().all(|f| *f == Fare::Free));
        assert!(fares[29..].iter().all(|f| *f == Fare::Paid));
        // Without leave to pay, a send waits for the free budget of the next second.
        let before = Instant::now();
        assert_eq!(pacer.start(false).await, Fare::Free);
        assert_eq!(Instant::now().duration_since(before), SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn no_one_second_window_holds_more_than_thirty() {
        let pacer = Pacer::default();
        let mut times: Vec<Instant> = (0..300)
            .map(|chat| pacer.reserve(ChatId(chat), None).expect("slot"))
            .collect();
        times.sort();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
                .count();
            assert!(in_window <= 30, "{in_window} sends within a second");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn other_runs_wait_while_an_urgent_run_sends() {
        let pacer = Arc::new(Pacer::default());
        // No urgent run: nothing to wait for.
        assert!(pacer.yield_to_urgent(None).await);
        let urgent = pacer.urgent_run();
        let second = pacer.urgent_run();
        let start = Instant::now();
        // Out of time before the urgent runs end: false, at the limit.
        assert!(
            !pacer
                .yield_to_urgent(Some(start + Duration::from_secs(2)))
                .await
        );
        assert_eq!(Instant::now().duration_since(start), Duration::from_secs(2));
        let waiter = tokio::spawn({
            let pacer = pacer.clone();
            async move {
                let ok = pacer.yield_to_urgent(None).await;
                (ok, Instant::now())
            }
        });
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(urgent);
        tokio::time::sleep(Duration::from_secs(4)).await;
        // Still one urgent run: the waiter waits on.
        assert!(!waiter.is_finished());
        drop(second);
        let (ok, resumed) = waiter.await.expect("waiter");
        assert!(ok);
        assert_eq!(resumed.duration_since(start), Duration::from_secs(9));
    }
}
