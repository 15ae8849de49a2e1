//! The parts of the local system, wired on the real clock to the SQLite store: the tasks behind one
//! [`Lambdas`], the refresh definition behind the webhook's `/refresh`, the template's schedules
//! and its stream event source mappings over the store's durable change feed.

use std::sync::Arc;
use std::time::Duration;

use loadshed_core::clock::Clock;
use loadshed_core::webhook::{Webhook, WebhookPorts, WebhookSettings};
use loadshed_sqlite::{ChangeFeed, SqliteStore};
use tokio::sync::mpsc::unbounded_channel;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::checkpoint::Checkpointer;
use crate::local::LocalError;
use crate::local::clock::TokioClock;
use crate::local::cron::Cron;
use crate::local::lambda::Lambdas;
use crate::local::schedules::ScheduleRunner;
use crate::local::starter::LocalStarter;
use crate::local::streams::{self, Backlog, DeadLetters, StreamPump};
use crate::local::system::{SystemPorts, check_handlers, in_process_tasks, refresh_starter};
use crate::local::template;

/// Schedules run for as long as the process does; tokio needs an end.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

pub struct SystemOptions {
    pub webhook: WebhookSettings,
    /// For tests only: every schedule fires at this period instead of its expression, so its
    /// firing on the real clock is seen in seconds.
    pub schedule_every: Option<Duration>,
    /// How often consumed stream records are dropped from the store.
    pub checkpoint_every: Duration,
}

pub struct ServeSystem {
    pub store: Arc<SqliteStore>,
    pub lambdas: Arc<Lambdas>,
    pub starter: Arc<LocalStarter>,
    pub webhook: Webhook,
    pub backlog: Arc<Backlog>,
    pub dead_letters: Arc<DeadLetters>,
    schedules: Vec<JoinHandle<()>>,
    streams: Vec<JoinHandle<()>>,
}

impl ServeSystem {
    /// Starts the schedules, the stream mappings (over `feed`, which begins with what a previous
    /// run left unconsumed) and the checkpointer on the current runtime.
    pub fn start(
        store: Arc<SqliteStore>,
        feed: ChangeFeed,
        ports: SystemPorts,
        clock: TokioClock,
        options: SystemOptions,
    ) -> Result<ServeSystem, LocalError> {
        let functions = template::functions(template::TEMPLATE)?;
        check_handlers(&functions)?;
        let shared_clock: Arc<dyn Clock> = Arc::new(clock);
        let tasks = in_process_tasks(&ports, &store, &shared_clock);
        let lambdas = Arc::new(Lambdas::new(tasks, &functions));
        let dead_letters = Arc::new(DeadLetters::default());
        let backlog = Arc::new(Backlog::default());
        let starter = refresh_starter(&lambdas, clock)?;
        let webhook = Webhook::new(
            options.webhook,
            WebhookPorts {
                clock: shared_clock,
                store: store.clone(),
                search: ports.search.clone(),
                workflow: starter.clone(),
                messenger: ports.messenger.clone(),
                answers: ports.answers.clone(),
                channels: ports.channels.clone(),
            },
        );

        let mut pumps = Vec::new();
        let mut schedules = Vec::new();
        let until = Instant::now() + FOREVER;
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
                let mut source = source.clone();
                if let Some(period) = options.schedule_every {
                    source.expression = Cron::Rate(period);
                }
                tracing::info!(schedule = %source.id, function = %function.name, "schedule on");
                let runner = ScheduleRunner {
                    source,
                    function: function.name.clone(),
                    lambdas: lambdas.clone(),
                    dead_letters: dead_letters.clone(),
                    clock,
                };
                schedules.push(runner.start(until));
            }
        }
        let (observer, observed) = unbounded_channel();
        let mut streams = streams::start(pumps, vec![observer], feed, backlog.clone());
        let checkpointer = Checkpointer {
            store: store.clone(),
            lambdas: lambdas.clone(),
            backlog: backlog.clone(),
            every: options.checkpoint_every,
        };
        streams.push(tokio::spawn(checkpointer.run(observed)));
        Ok(ServeSystem {
            store,
            lambdas,
            starter,
            webhook,
            backlog,
            dead_letters,
            schedules,
            streams,
        })
    }

    /// Nothing running: no invocation, no stream record held, no execution open.
    pub fn is_idle(&self) -> bool {
        self.lambdas.in_flight() == 0 && self.backlog.get() == 0 && self.starter.running() == 0
    }

    /// Stops firing schedules and taking stream records, then waits until what runs has finished
    /// or `deadline` passes. Whatever is cut off is the ledger's and the stream's to resume: a
    /// send's claim is taken over by the record's redelivery after a restart (the record was not
    /// checkpointed), a claim of an execution lapses with its lease.
    pub async fn stop(self, deadline: Instant) -> bool {
        for handle in &self.schedules {
            handle.abort();
        }
        let mut idle = self.is_idle();
        while !idle && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            idle = self.is_idle();
        }
        for handle in &self.streams {
            handle.abort();
        }
        if !idle {
            tracing::warn!(
                invocations = self.lambdas.in_flight(),
                records = self.backlog.get(),
                executions = self.starter.running(),
                "stopped with work unfinished: it resumes from the ledger and the stream after a restart"
            );
        }
        idle
    }
}
