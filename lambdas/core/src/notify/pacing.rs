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

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::ChatId;

#[derive(Debug, Clone, Copy)]
pub struct PacingLimits {
    /// Grid step for all sends of the bot (34.5 ms: at most 29 a second, 30 in any second even with
    /// 35 ms of network jitter; 34 ms measured 31 arrivals in one second at a real stand-in).
    pub overall_gap: Duration,
    /// Between two messages to one private chat.
    pub chat_gap: Duration,
    /// Between two messages to one group (negative chat ids): 3 s is Telegram's 20 a minute.
    pub group_gap: Duration,
}

impl Default for PacingLimits {
    fn default() -> Self {
        PacingLimits {
            overall_gap: Duration::from_micros(34_500),
            chat_gap: Duration::from_secs(1),
            group_gap: Duration::from_secs(3),
        }
    }
}

#[derive(Debug)]
pub struct Pacer {
    limits: PacingLimits,
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    origin: Instant,
    /// Grid slots reserved from the current one on (older ones are dropped as time passes).
    taken: BTreeSet<u64>,
    /// When each chat may next receive a message.
    next_for: HashMap<ChatId, Instant>,
    /// When the sends of the last second started, oldest first.
    started: VecDeque<Instant>,
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
                next_for: HashMap::new(),
                started: VecDeque::new(),
            }),
        }
    }

    pub fn limits(&self) -> PacingLimits {
        self.limits
    }

    fn gap_for(&self, chat: ChatId) -> Duration {
        if chat.0 < 0 {
            self.limits.group_gap
        } else {
            self.limits.chat_gap
        }
    }

    /// Reserves the earliest slot at which a message to `chat` is allowed, and counts it as sent
    /// then. `None` when that slot would be after `not_after` (nothing is reserved): the caller is
    /// out of time.
    pub fn reserve(&self, chat: ChatId, not_after: Option<Instant>) -> Option<Instant> {
        let now = Instant::now();
        let gap = self.limits.overall_gap.max(Duration::from_micros(1));
        let chat_gap = self.gap_for(chat);
        let mut state = self.lock();
        let ready = state.next_for.get(&chat).copied().unwrap_or(now).max(now);
        let step = gap.as_nanos();
        let since = ready.saturating_duration_since(state.origin).as_nanos();
        let mut slot = u64::try_from(since.div_ceil(step)).unwrap_or(u64::MAX);
        while state.taken.contains(&slot) {
            slot = slot.saturating_add(1);
        }
        let at = state.origin + gap.saturating_mul(u32::try_from(slot).unwrap_or(u32::MAX));
        if not_after.is_some_and(|limit| at > limit) {
            return None;
        }
        state.taken.insert(slot);
        let current = u64::try_from(now.saturating_duration_since(state.origin).as_nanos() / step)
            .unwrap_or(0);
        state.taken = state.taken.split_off(&current);
        state.next_for.insert(chat, at + chat_gap);
        if state.next_for.len() > FORGET_CHATS_OVER {
            state.next_for.retain(|_, next| *next > now);
        }
        Some(at)
    }

    /// The most sends the gate lets start within one second: as many grid slots as a second
    /// holds.
    fn starts_per_second(&self) -> usize {
        let gap = self
            .limits
            .overall_gap
            .max(Duration::from_micros(1))
            .as_nanos();
        usize::try_from(SECOND.as_nanos().div_ceil(gap)).unwrap_or(usize::MAX)
    }

    /// Counts a send as starting now, or says until when the last second is full.
    fn try_start(&self) -> Result<(), Instant> {
        let now = Instant::now();
        let limit = self.starts_per_second();
        let mut state = self.lock();
        while state
            .started
            .front()
            .is_some_and(|start| now.saturating_duration_since(*start) >= SECOND)
        {
            state.started.pop_front();
        }
        if state.started.len() >= limit
            && let Some(oldest) = state.started.front()
        {
            return Err(*oldest + SECOND);
        }
        state.started.push_back(now);
        Ok(())
    }

    /// Waits at the gate until the send may start (right away unless sends bunched), and counts
    /// it. Call it after the slot's wait, just before the send.
    pub async fn start_send(&self) {
        while let Err(until) = self.try_start() {
            tokio::time::sleep_until(until).await;
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

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(PacingLimits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(overall_ms: u64) -> PacingLimits {
        PacingLimits {
            overall_gap: Duration::from_millis(overall_ms),
            chat_gap: Duration::from_secs(1),
            group_gap: Duration::from_secs(3),
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
}
