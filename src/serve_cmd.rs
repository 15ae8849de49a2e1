//! `loadshed serve`: the whole bot on one machine, for anyone with a bot token and no AWS account.
//!
//! Configuration, as the functions read it: `TELEGRAM_BOT_TOKEN` (required), `TELEGRAM_API_BASE_URL`,
//! `BOT_USERNAME` (asked of Telegram when unset), `ESKOMSEPUSH_TOKEN`, `ESKOM_BASE_URL`,
//! `ESKOMSEPUSH_BASE_URL`, `REFRESH_COOLDOWN_SECONDS`, `WEB_BASE_URL` (the pages' public address
//! for the bot's links; with `--web-port` and without it, the local address).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Utc};
use loadshed::local::clock::TokioClock;
use loadshed::local::offline::OfflineEskom;
use loadshed::local::system::SystemPorts;
use loadshed::local::web_server::{self, Pages};
use loadshed::serve::{Poller, PollerSettings, ServeSystem, SystemOptions};
use loadshed_core::adapters::eskom::EskomConfig;
use loadshed_core::adapters::telegram::{BotToken, DEFAULT_TIMEOUT, TelegramClient};
use loadshed_core::clock::Clock;
use loadshed_core::domain::ChannelAdmins;
use loadshed_core::runtime::env::CHANNEL_ADMINS;
use loadshed_core::runtime::telegram::{TELEGRAM_API_BASE_URL, TELEGRAM_BOT_TOKEN};
use loadshed_core::runtime::{self, ConfigError, Upstream, env};
use loadshed_core::site::SiteLinks;
use loadshed_core::tasks::NotifyConfig;
use loadshed_core::web::{WebSettings, WebSite};
use loadshed_core::webhook::WebhookSettings;
use loadshed_sqlite::{DATABASE_FILE, SqliteStore};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::time::Instant;

/// What a stop may take in all: SIGTERM is answered well within the 10 s systemd and Docker
/// give before SIGKILL.
const STOP_BUDGET: Duration = Duration::from_secs(8);
/// The file whose lock makes one `serve` per data folder.
const LOCK_FILE: &str = "serve.lock";

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The folder holding the store (SQLite, created if missing). One `serve` per folder.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Serve Eskom's answers from the recorded fixtures (fixtures/offline/) on a local port, as
    /// `refresh --offline` does: no upstream network, no upstream token.
    #[arg(long)]
    offline: bool,
    /// Serve the web pages and calendar feeds on 127.0.0.1:N (0: any free port; printed).
    #[arg(long, value_name = "N")]
    web_port: Option<u16>,
    /// For tests only: every schedule fires every this many seconds instead of at its
    /// expression's times.
    #[arg(long, hide = true, value_name = "SECONDS")]
    test_schedule_every: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the store: {0}")]
    Store(#[from] loadshed_core::errors::StoreError),
    #[error("{0}")]
    Local(#[from] loadshed::local::LocalError),
    #[error("{path}: {detail}")]
    Data { path: String, detail: String },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("Telegram: {0}")]
    Telegram(String),
    #[error("cannot watch for signals: {0}")]
    Signals(std::io::Error),
    #[error(
        "the system clock reads {0}: not set yet (a machine without a battery-backed clock waits for NTP)"
    )]
    ClockNotSet(String),
}

/// Before this, the system clock is surely unset: the schedules would fire at wrong times.
const EARLIEST_PLAUSIBLE_YEAR: i32 = 2025;

pub async fn run(args: ServeArgs) -> ExitCode {
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadshed serve: {error}");
            ExitCode::from(2)
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let mut terminate = signal(SignalKind::terminate()).map_err(ServeError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServeError::Signals)?;
    let _lock = lock_data(&args.data)?;

    // The clock is read once and follows the monotonic clock from here (as the local system's
    // parts expect): it must be right now.
    let now = Utc::now();
    if now.year() < EARLIEST_PLAUSIBLE_YEAR {
        return Err(ServeError::ClockNotSet(now.to_rfc3339()));
    }
    let clock = TokioClock::starting_at(now);
    let shared_clock: Arc<dyn Clock> = Arc::new(clock);
    let (store, feed) =
        SqliteStore::open_with_feed(args.data.join(DATABASE_FILE), shared_clock.clone()).await?;
    let store = Arc::new(store);

    // Kept for the whole run: the offline server stops when dropped.
    let offline = match args.offline {
        true => Some(OfflineEskom::start(shared_clock.today()).await),
        false => None,
    };
    let upstream = match &offline {
        Some(server) => Upstream::new(EskomConfig::with_base_url(server.base_url()), None)?,
        None => Upstream::from_env(runtime::SecretReader::lazy())?,
    };

    let token = env::required(TELEGRAM_BOT_TOKEN, "the bot token from @BotFather")?;
    // Before any call out: a bad list stops the start at once, as it stops the webhook function.
    let channel_admins: ChannelAdmins = env::parsed_or(CHANNEL_ADMINS, ChannelAdmins::default())?;
    let base_url = env::optional(TELEGRAM_API_BASE_URL)
        .unwrap_or_else(|| loadshed_core::adapters::telegram::DEFAULT_BASE_URL.to_owned());
    let poll = PollerSettings::default();
    let telegram = telegram_client(&token, &base_url, DEFAULT_TIMEOUT)?;
    // The long poll's client waits longer than Telegram holds the request.
    let polling = telegram_client(
        &token,
        &base_url,
        poll.poll_timeout + Duration::from_secs(10),
    )?;
    let messenger = Arc::new(runtime::telegram_from_env(runtime::SecretReader::lazy())?);
    let bot_username = match env::optional("BOT_USERNAME") {
        Some(name) => name,
        None => telegram
            .get_me()
            .await
            .map_err(|e| ServeError::Telegram(format!("getMe: {e}")))?
            .username
            .ok_or_else(|| ServeError::Telegram("getMe: the bot has no username".into()))?,
    };

    // The command menu, as `loadshed set-webhook` sets it for the deployed bot; a failure only
    // leaves the menu as it was.
    if let Err(error) = telegram.set_my_commands(&crate::oncall::menu()).await {
        tracing::warn!(%error, "setMyCommands failed: the command menu is unchanged");
    }

    let listener = match args.web_port {
        Some(port) => Some(
            TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|source| ServeError::Listen { port, source })?,
        ),
        None => None,
    };
    let local_site = listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map(|address| format!("http://{address}/"));
    let site_url = env::optional("WEB_BASE_URL").or(local_site.clone());
    let site = site_url
        .as_deref()
        .map(SiteLinks::parse)
        .transpose()
        .map_err(|e| ConfigError::Invalid {
            name: "WEB_BASE_URL",
            reason: e.to_string(),
        })?;
    let cooldown: u32 = env::parsed_or(
        "REFRESH_COOLDOWN_SECONDS",
        WebhookSettings::DEFAULT_REFRESH_COOLDOWN_SECONDS as u32,
    )?;
    let webhook_settings = WebhookSettings::new(bot_username.clone())
        .with_refresh_cooldown(chrono::Duration::seconds(i64::from(cooldown)))
        .with_site(site)
        .with_channel_admins(channel_admins);

    let system = ServeSystem::start(
        store.clone(),
        feed,
        SystemPorts {
            stage: upstream.stage.clone(),
            schedules: upstream.schedules.clone(),
            search: upstream.search.clone(),
            messenger: messenger.clone(),
            answers: messenger.clone(),
            channels: messenger,
            notify: NotifyConfig::default(),
            bot_username: bot_username.clone(),
        },
        clock,
        SystemOptions {
            webhook: webhook_settings,
            schedule_every: args.test_schedule_every.map(Duration::from_secs),
            checkpoint_every: Duration::from_secs(1),
        },
    )?;

    let (stop_sender, stop) = watch::channel(false);
    let web = listener.map(|listener| {
        let site = WebSite::new(
            WebSettings {
                bot_username: Some(bot_username.clone()),
                https: false,
            },
            store.clone(),
            shared_clock.clone(),
        );
        let mut stop = stop.clone();
        tokio::spawn(web_server::run(
            listener,
            Arc::new(Pages::Fixed(site)),
            async move {
                let _ = stop.wait_for(|stop| *stop).await;
            },
        ))
    });
    let poller = Poller {
        polling,
        telegram,
        webhook: system.webhook.clone(),
        store: store.clone(),
        clock: shared_clock,
        settings: poll,
    };
    let mut polling = tokio::spawn(poller.run(stop.clone()));
    println!(
        "loadshed serve: @{bot_username}, {} upstream{}, data in {}{}. SIGTERM or Ctrl-C stops.",
        upstream.provider,
        if args.offline {
            " (recorded answers)"
        } else {
            ""
        },
        args.data.display(),
        local_site
            .map(|url| format!(", web pages on {url}"))
            .unwrap_or_default(),
    );

    let failed = tokio::select! {
        _ = terminate.recv() => None,
        _ = interrupt.recv() => None,
        ended = &mut polling => Some(ended),
    };
    let deadline = Instant::now() + STOP_BUDGET;
    let _ = stop_sender.send(true);
    let outcome = match failed {
        // The poller stopped on its own: a refused token or a store that cannot be written.
        Some(Ok(Err(error))) => Err(ServeError::Telegram(error.to_string())),
        Some(Ok(Ok(()))) => Ok(()),
        Some(Err(join)) => Err(ServeError::Telegram(format!("the poller died: {join}"))),
        None => {
            // The update in hand is finished; the rest of its batch comes again next time.
            if tokio::time::timeout_at(deadline, &mut polling)
                .await
                .is_err()
            {
                polling.abort();
                tracing::warn!("the update in hand was cut off by the stop");
            }
            Ok(())
        }
    };
    let finished = system.stop(deadline).await;
    if let Some(web) = web {
        web.abort();
    }
    println!(
        "loadshed serve: stopped{}.",
        if finished {
            ""
        } else {
            " (work cut off resumes after a restart)"
        }
    );
    outcome
}

fn telegram_client(
    token: &str,
    base_url: &str,
    timeout: Duration,
) -> Result<TelegramClient, ConfigError> {
    let token = BotToken::new(token.to_owned()).map_err(|e| ConfigError::Invalid {
        name: TELEGRAM_BOT_TOKEN,
        reason: e.to_string(),
    })?;
    TelegramClient::with_base_url(token, base_url, timeout).map_err(|e| ConfigError::Client {
        what: "Telegram",
        reason: e.to_string(),
    })
}

/// Creates the data folder and locks it: two processes polling one bot would each get half the
/// updates, and two writers on one store are one too many.
fn lock_data(dir: &Path) -> Result<std::fs::File, ServeError> {
    let failed = |detail: String| ServeError::Data {
        path: dir.display().to_string(),
        detail,
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(format!("cannot create: {e}")))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| failed(format!("cannot open {LOCK_FILE}: {e}")))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(failed(
            "another `loadshed serve` is using this folder".to_owned(),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(failed(format!("cannot lock: {e}"))),
    }
}
