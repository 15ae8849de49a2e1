//! `loadshed web`: the public pages and calendar feeds on 127.0.0.1, as the web function serves
//! them, from the offline demo (`--offline`) or from a `--state` file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use asl::{ExecutionStatus, Executor};
use loadshed::local::console::PrintingMessenger;
use loadshed::local::offline::{DEMO_SEARCH, OfflineEskom};
use loadshed::local::web_server::{self, Pages, StateFile};
use loadshed::local::{self, REFRESH_DEFINITION};
use loadshed_core::adapters::eskom::EskomConfig;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, SystemClock};
use loadshed_core::domain::ChatId;
use loadshed_core::runtime::{self, Upstream};
use loadshed_core::tasks::NotifyConfig;
use loadshed_core::web::{WebSettings, WebSite};
use tokio::net::TcpListener;

use crate::refresh_cmd::{self, DEMO_CHAT};

#[derive(Debug, clap::Args)]
pub struct WebArgs {
    /// Run the offline demo first (its demo area followed, recorded Eskom answers), then serve its
    /// store.
    #[arg(long, conflicts_with = "state", required_unless_present = "state")]
    offline: bool,
    /// Serve the store kept in this file by `loadshed refresh --state FILE`; read again when it
    /// changes.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// The port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The bot's username, for the pages' link to it.
    #[arg(long, env = "BOT_USERNAME")]
    bot_username: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum WebError {
    #[error("{0} does not exist: create it with `loadshed refresh --offline --state {0}`")]
    NoStateFile(String),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("the offline demo: {0}")]
    Demo(String),
    #[error(transparent)]
    Config(#[from] runtime::ConfigError),
    #[error("the store: {0}")]
    Store(#[from] loadshed_core::errors::StoreError),
}

pub async fn run(args: WebArgs) -> ExitCode {
    match web(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadshed web: {error}");
            ExitCode::from(2)
        }
    }
}

async fn web(args: WebArgs) -> Result<(), WebError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = WebSettings {
        bot_username: args.bot_username.clone(),
        https: false,
    };
    let pages = match &args.state {
        Some(path) => {
            if !path.exists() {
                return Err(WebError::NoStateFile(path.display().to_string()));
            }
            let file = StateFile::new(path.clone(), settings, clock.clone());
            // A file that does not load is an error now, not on the first request.
            file.site().await?;
            Pages::StateFile(file)
        }
        None => {
            let store = offline_demo(clock.clone()).await?;
            Pages::Fixed(WebSite::new(settings, store, clock))
        }
    };
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|source| WebError::Listen {
            port: args.port,
            source,
        })?;
    let address = listener.local_addr().map_err(WebError::Serve)?;
    println!("Serving the web pages on http://{address}/ (Ctrl-C stops).");
    web_server::run(listener, Arc::new(pages), async {
        // Without a signal handler the server runs until the process is killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
    .map_err(WebError::Serve)
}

/// The store `loadshed refresh --offline` leaves: the demo area followed and refreshed through the
/// real workflow from the recorded Eskom answers.
async fn offline_demo(clock: Arc<dyn Clock>) -> Result<Arc<MemoryStore>, WebError> {
    let offline = OfflineEskom::start(clock.today()).await;
    let upstream = Upstream::new(EskomConfig::with_base_url(offline.base_url()), None)?;
    let store = Arc::new(MemoryStore::new());
    refresh_cmd::subscribe(
        &upstream,
        &store,
        ChatId(DEMO_CHAT),
        DEMO_SEARCH,
        clock.as_ref(),
    )
    .await
    .map_err(|e| WebError::Demo(e.to_string()))?;
    let machine =
        local::refresh_machine(REFRESH_DEFINITION).map_err(|e| WebError::Demo(e.to_string()))?;
    let tasks = local::in_process_tasks(
        store.clone(),
        &upstream,
        Arc::new(PrintingMessenger::default()),
        clock.clone(),
        NotifyConfig::default(),
    );
    let name = format!("web-{}", clock.now().format("%Y%m%dT%H%M%S"));
    let execution = Executor::new(machine, tasks)
        .with_options(local::execution_options(&name))
        .execute(serde_json::json!({}))
        .await;
    match execution.status {
        ExecutionStatus::Succeeded => Ok(store),
        status => Err(WebError::Demo(format!(
            "the refresh ended {status:?}: {}",
            execution.error.unwrap_or_default()
        ))),
    }
}
