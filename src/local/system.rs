//! The whole system on one machine, both modes at once: the refresh workflow run by the engine
//! (started by the webhook's `/refresh`), and the choreography (the template's schedules, the
//! store's change feed through the event source mappings). Every part invokes the functions
//! through one [`Lambdas`], and the notify function is one [`NotifyTask`] instance, as one process
//! holds one Telegram pacer.

use std::sync::Arc;
use std::time::Duration;

use asl::{Executor, JitterDraw};
use aws_lambda_events::dynamodb::EventRecord;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::Clock;
use loadshed_core::ports::{AreaSearch, Messenger, ScheduleSource, StageSource, Store};
use loadshed_core::tasks::{NotifyConfig, NotifyTask, ScheduleTask, StageTask};
use loadshed_core::webhook::{
    CallbackAnswers, ChannelLookup, Webhook, WebhookPorts, WebhookSettings,
};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

use super::clock::TokioClock;
use super::lambda::{EngineInvoker, Lambdas};
use super::schedules::ScheduleRunner;
use super::starter::LocalStarter;
use super::streams::{self, Backlog, DeadLetters, StreamPump};
use super::tasks::{InProcessTasks, NOTIFY_FUNCTION, SCHEDULE_FUNCTION, STAGE_FUNCTION};
use super::template::{self, FunctionSpec};
use super::{LocalError, REFRESH_DEFINITION, refresh_machine};

/// The outside world the system talks to.
pub struct SystemPorts {
    pub stage: Arc<dyn StageSource>,
    pub schedules: Arc<dyn ScheduleSource>,
    pub search: Arc<dyn AreaSearch>,
    pub messenger: Arc<dyn Messenger>,
    pub answers: Arc<dyn CallbackAnswers>,
    /// `getChat` and `getChatMember`, for `/channel`.
    pub channels: Arc<dyn ChannelLookup>,
    pub notify: NotifyConfig,
    pub bot_username: String,
}

pub struct LocalSystem {
    pub clock: TokioClock,
    pub store: Arc<MemoryStore>,
    pub functions: Vec<FunctionSpec>,
    pub lambdas: Arc<Lambdas>,
    pub starter: Arc<LocalStarter>,
    pub webhook: Webhook,
    pub dead_letters: Arc<DeadLetters>,
    pub backlog: Arc<Backlog>,
    handles: Vec<JoinHandle<()>>,
}

impl LocalSystem {
    /// Starts everything on the current tokio runtime. `store` holds whatever was set up before;
    /// its change feed is switched on here. Schedules fire until `schedules_until`; `observers`
    /// receive every stream record but those of ledger entries and leases, which no consumer reads.
    pub fn start(
        store: MemoryStore,
        ports: SystemPorts,
        clock: TokioClock,
        schedules_until: Instant,
        observers: Vec<UnboundedSender<EventRecord>>,
    ) -> Result<LocalSystem, LocalError> {
        let functions = template::functions(template::TEMPLATE)?;
        check_handlers(&functions)?;
        let shared_clock: Arc<dyn Clock> = Arc::new(clock);
        // Ledger and lease records reach no consumer (the template's filters drop them).
        let (store, feed) = store.with_change_feed_of_events(shared_clock.clone());
        let store = Arc::new(store);
        let tasks = in_process_tasks(&ports, &store, &shared_clock);
        let lambdas = Arc::new(Lambdas::new(tasks, &functions));
        let dead_letters = Arc::new(DeadLetters::default());
        let backlog = Arc::new(Backlog::default());

        let starter = refresh_starter(&lambdas, clock)?;
        let webhook = Webhook::new(
            WebhookSettings::new(ports.bot_username.clone()),
            WebhookPorts {
                clock: shared_clock.clone(),
                store: store.clone(),
                search: ports.search.clone(),
                workflow: starter.clone(),
                messenger: ports.messenger.clone(),
                answers: ports.answers.clone(),
                channels: ports.channels.clone(),
            },
        );

        let mut pumps = Vec::new();
        let mut handles = Vec::new();
        for function in &functions {
            for source in &function.streams {
                pumps.push(StreamPump {
                    source: source.clone(),
                    function: function.name.clone(),
                    lambdas: lambdas.clone(),
                    dead_letters: dead_letters.clone(),
                    backlog: backlog.clone(),
                    clock,
                });
            }
            for source in &function.schedules {
                let runner = ScheduleRunner {
                    source: source.clone(),
                    function: function.name.clone(),
                    lambdas: lambdas.clone(),
                    dead_letters: dead_letters.clone(),
                    clock,
                };
                handles.push(runner.start(schedules_until));
            }
        }
        handles.extend(streams::start(pumps, observers, feed, backlog.clone()));
        Ok(LocalSystem {
            clock,
            store,
            functions,
            lambdas,
            starter,
            webhook,
            dead_letters,
            backlog,
            handles,
        })
    }

    /// A runner for the schedule `id` (`Function.Event`), to fire it by hand.
    pub fn schedule(&self, id: &str) -> Option<ScheduleRunner> {
        self.functions.iter().find_map(|function| {
            function
                .schedules
                .iter()
                .find(|s| s.id == id)
                .map(|source| ScheduleRunner {
                    source: source.clone(),
                    function: function.name.clone(),
                    lambdas: self.lambdas.clone(),
                    dead_letters: self.dead_letters.clone(),
                    clock: self.clock,
                })
        })
    }

    /// Nothing left to do: no invocation running, no stream record waiting, no execution open.
    pub fn is_idle(&self) -> bool {
        self.lambdas.in_flight() == 0 && self.backlog.get() == 0 && self.starter.running() == 0
    }

    /// Waits (checking after every `step`) until the system is idle, or `limit` passes; true when idle.
    pub async fn settle(&self, step: Duration, limit: Instant) -> bool {
        loop {
            // A step first: a record just written is still on its way to the pumps.
            sleep(step).await;
            if self.is_idle() {
                return true;
            }
            if Instant::now() >= limit {
                return false;
            }
        }
    }
}

impl Drop for LocalSystem {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.abort();
        }
    }
}

/// Every function with event sources must be one the in-process system can invoke.
pub(crate) fn check_handlers(functions: &[FunctionSpec]) -> Result<(), LocalError> {
    let known = [STAGE_FUNCTION, SCHEDULE_FUNCTION, NOTIFY_FUNCTION];
    for function in functions {
        let has_events = !function.streams.is_empty() || !function.schedules.is_empty();
        if has_events && !known.contains(&function.name.as_str()) {
            return Err(LocalError::Definition(format!(
                "{} ({}) has event sources but the in-process system has no handler for it",
                function.id, function.name
            )));
        }
    }
    Ok(())
}

/// The three task handlers on `store`. One notify task for the process: one Telegram pacer, as
/// the notify function's reserved concurrency of 1 makes one on AWS.
pub(crate) fn in_process_tasks<S: Store + 'static>(
    ports: &SystemPorts,
    store: &Arc<S>,
    clock: &Arc<dyn Clock>,
) -> InProcessTasks {
    InProcessTasks {
        stage: Arc::new(StageTask::new(
            ports.stage.clone(),
            store.clone(),
            clock.clone(),
        )),
        schedule: Arc::new(ScheduleTask::new(
            ports.schedules.clone(),
            store.clone(),
            clock.clone(),
        )),
        notify: Arc::new(NotifyTask::new(
            store.clone(),
            ports.messenger.clone(),
            clock.clone(),
            ports.notify.clone(),
        )),
    }
}

/// The refresh workflow's engine over `lambdas`, and the starter `/refresh` and on-call use.
pub(crate) fn refresh_starter(
    lambdas: &Arc<Lambdas>,
    clock: TokioClock,
) -> Result<Arc<LocalStarter>, LocalError> {
    let executor = Executor::new(
        refresh_machine(REFRESH_DEFINITION)?,
        EngineInvoker(lambdas.clone()),
    )
    .with_clock(clock);
    Ok(Arc::new(
        LocalStarter::new(executor).with_jitter(JitterDraw::Fraction(0.5)),
    ))
}
