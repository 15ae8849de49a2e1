//! `loadshed refresh`: the refresh workflow on this machine, through the very definition and task
//! handlers that run on AWS.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use asl::{ExecutionStatus, Executor};
use loadshed::local::console::{HistoryPrinter, PrintingMessenger};
use loadshed::local::offline::{DEMO_SEARCH, OfflineEskom};
use loadshed::local::{self, REFRESH_DEFINITION};
use loadshed_core::adapters::eskom::EskomConfig;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, SystemClock};
use loadshed_core::domain::ChatId;
use loadshed_core::ports::{Messenger, SubscriptionStore};
use loadshed_core::runtime::{self, Upstream, telegram::TELEGRAM_BOT_TOKEN};
use loadshed_core::tasks::NotifyConfig;
use serde_json::Value;

/// The chat the demo subscription belongs to.
pub const DEMO_CHAT: i64 = 1;

#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    /// Serve Eskom's responses from the recorded fixtures (fixtures/offline/) on a local port: no
    /// network, no tokens. Without it, the real Eskom site (or EskomSePush with ESKOMSEPUSH_TOKEN).
    #[arg(long)]
    offline: bool,
    /// The execution input, as JSON or @FILE (samples in statemachine/events/). `{}` refreshes
    /// every subscribed area and reports changes.
    #[arg(long, default_value = "{}")]
    input: String,
    /// Keep the store in this JSON file between runs. Without it the store starts empty.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Before the run, subscribe --chat to the first area found for TEXT.
    #[arg(long, value_name = "TEXT")]
    subscribe: Option<String>,
    /// The chat that --subscribe (and, offline, the demo subscription) is for.
    #[arg(long, default_value_t = DEMO_CHAT)]
    chat: i64,
    /// Run this definition instead of the built-in statemachine/refresh.asl.json.
    #[arg(long, value_name = "FILE")]
    definition: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the input is not JSON: {0}")]
    Input(serde_json::Error),
    #[error(transparent)]
    Config(#[from] runtime::ConfigError),
    #[error(transparent)]
    Local(#[from] local::LocalError),
    #[error("the store: {0}")]
    Store(#[from] loadshed_core::errors::StoreError),
    #[error("area search for {text:?}: {detail}")]
    Search { text: String, detail: String },
}

pub async fn run(args: RefreshArgs) -> ExitCode {
    match refresh(args).await {
        Ok(status) => match status {
            ExecutionStatus::Succeeded => ExitCode::SUCCESS,
            ExecutionStatus::Failed | ExecutionStatus::TimedOut => ExitCode::from(1),
        },
        Err(error) => {
            eprintln!("loadshed refresh: {error}");
            ExitCode::from(2)
        }
    }
}

async fn refresh(args: RefreshArgs) -> Result<ExecutionStatus, SetupError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let definition = match &args.definition {
        Some(path) => read(path)?,
        None => REFRESH_DEFINITION.to_owned(),
    };
    let machine = local::refresh_machine(&definition)?;
    let input = parse_input(&args.input)?;

    // Kept alive for the whole run: the offline server stops when dropped.
    let offline = match args.offline {
        true => Some(OfflineEskom::start(clock.today()).await),
        false => None,
    };
    let upstream = match &offline {
        Some(server) => Upstream::new(EskomConfig::with_base_url(server.base_url()), None)?,
        None => Upstream::from_env(runtime::SecretReader::lazy())?,
    };
    let store = Arc::new(match &args.state {
        Some(path) => MemoryStore::load(path).await?,
        None => MemoryStore::new(),
    });
    let messenger: Arc<dyn Messenger> = match runtime::env::optional(TELEGRAM_BOT_TOKEN) {
        Some(_) => {
            println!("Telegram: TELEGRAM_BOT_TOKEN is set, messages are really sent.");
            Arc::new(runtime::telegram_from_env(runtime::SecretReader::lazy())?)
        }
        None => Arc::new(PrintingMessenger::default()),
    };

    let chat = ChatId(args.chat);
    let wanted = match (&args.subscribe, args.offline) {
        (Some(text), _) => Some(text.as_str()),
        (None, true) if store.subscribed_areas().await?.is_empty() => Some(DEMO_SEARCH),
        (None, _) => None,
    };
    if let Some(text) = wanted {
        subscribe(&upstream, &store, chat, text, clock.as_ref()).await?;
    }

    println!(
        "Running statemachine/refresh.asl.json locally ({} upstream{}).",
        upstream.provider,
        if args.offline {
            ", recorded responses"
        } else {
            ""
        }
    );
    let tasks = local::in_process_tasks(
        store.clone(),
        &upstream,
        messenger,
        clock.clone(),
        NotifyConfig::default(),
    );
    let name = format!("local-{}", clock.now().format("%Y%m%dT%H%M%S"));
    let execution = Executor::new(machine, tasks)
        .with_listener(HistoryPrinter::default())
        .with_options(local::execution_options(&name))
        .execute(input)
        .await;

    match (&execution.output, &execution.error) {
        (Some(output), _) => println!("\nOutput:\n{}", pretty(output)),
        (None, Some(error)) => println!(
            "\nError: {error}\nCause: {}",
            execution.cause.as_deref().unwrap_or("(none)")
        ),
        (None, None) => {}
    }
    if let Some(path) = &args.state {
        store.save(path).await?;
        println!("Store saved to {}.", path.display());
    }
    Ok(execution.status)
}

/// Subscribes `chat` to the first area found for `text` (shared with `loadshed web --offline`).
pub async fn subscribe(
    upstream: &Upstream,
    store: &MemoryStore,
    chat: ChatId,
    text: &str,
    clock: &dyn Clock,
) -> Result<(), SetupError> {
    let search_error = |detail: String| SetupError::Search {
        text: text.to_owned(),
        detail,
    };
    let found = upstream
        .search
        .search(text, 5)
        .await
        .map_err(|e| search_error(e.to_string()))?;
    let area = found
        .into_iter()
        .next()
        .ok_or_else(|| search_error("no area found".to_owned()))?;
    store.subscribe(chat, &area, clock.now()).await?;
    println!(
        "Chat {chat} follows {} ({}) [{}].",
        area.name, area.region, area.id
    );
    Ok(())
}

fn parse_input(text: &str) -> Result<Value, SetupError> {
    let json = match text.strip_prefix('@') {
        Some(path) => read(&PathBuf::from(path))?,
        None => text.to_owned(),
    };
    serde_json::from_str(&json).map_err(SetupError::Input)
}

fn read(path: &PathBuf) -> Result<String, SetupError> {
    std::fs::read_to_string(path).map_err(|source| SetupError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
