//! The webhook Lambda: Telegram posts each update to its Function URL; it answers commands, keeps
//! subscriptions and starts the refresh workflow on `/refresh`. Only wiring lives here; the
//! behaviour is `loadshed_core::webhook`, the clients come from `loadshed_core::runtime`.
//!
//! Configuration (environment):
//! - `TELEGRAM_BOT_TOKEN` or `TELEGRAM_BOT_TOKEN_PARAMETER` (the name of an SSM SecureString)
//! - `TELEGRAM_WEBHOOK_SECRET` or `TELEGRAM_WEBHOOK_SECRET_PARAMETER`: the `secret_token` given to
//!   `setWebhook`
//! - `BOT_USERNAME`: the bot's username, to tell `/cmd@ThisBot` from commands for other bots
//! - `LOADSHED_TABLE`: the DynamoDB table
//! - `STATE_MACHINE_ARN`: the refresh workflow `/refresh` starts
//! - `ESKOMSEPUSH_TOKEN` or `ESKOMSEPUSH_TOKEN_PARAMETER` (optional): area search through
//!   EskomSePush; Eskom's own site without it
//! - `WEB_BASE_URL` (optional): the web function's URL; `/status` and `/calendar` link its pages,
//!   and without it the bot leaves the links out
//! - `REFRESH_COOLDOWN_SECONDS` (default 60): one `/refresh` per chat per this many seconds
//! - `CHANNEL_ADMINS` (default empty: nobody): comma-separated Telegram user (or chat) ids who may
//!   link channels to areas with `/channel`
//! - `TELEGRAM_API_BASE_URL`, `ESKOM_BASE_URL`, `ESKOMSEPUSH_BASE_URL` (optional): other servers
//!   for the APIs, e.g. local fakes

use std::sync::Arc;

use http::{Request, Response, StatusCode};
use loadshed_core::adapters::step_functions::{self, StepFunctionsStarter};
use loadshed_core::clock::SystemClock;
use loadshed_core::domain::ChannelAdmins;
use loadshed_core::runtime::env::CHANNEL_ADMINS;
use loadshed_core::runtime::secrets::{SecretError, SecretReader, SecretSource};
use loadshed_core::runtime::telegram::WEBHOOK_SECRET;
use loadshed_core::runtime::{self, Upstream, env, function_url};
use loadshed_core::site::SiteLinks;
use loadshed_core::webhook::{
    Endpoint, InvalidSecret, Webhook, WebhookPorts, WebhookSecret, WebhookSettings,
};
use tokio::sync::OnceCell;
use tracing::error;

/// The web pages' address, from the stack (the web function's URL).
const WEB_BASE_URL: &str = "WEB_BASE_URL";

#[derive(Debug, thiserror::Error)]
enum SecretSetupError {
    #[error(transparent)]
    Read(#[from] SecretError),
    #[error("TELEGRAM_WEBHOOK_SECRET: {0}")]
    Invalid(#[from] InvalidSecret),
}

/// The endpoint needs the webhook secret, which may live in SSM: it is then read on the first
/// request, so start-up makes no network call.
struct Lazy {
    secret: SecretSource,
    secrets: SecretReader,
    webhook: Webhook,
    endpoint: OnceCell<Endpoint>,
}

impl Lazy {
    async fn endpoint(&self) -> Result<&Endpoint, SecretSetupError> {
        self.endpoint
            .get_or_try_init(|| async {
                let secret = WebhookSecret::new(self.secrets.read(&self.secret).await?)?;
                Ok(Endpoint::new(secret, self.webhook.clone()))
            })
            .await
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let secret = WEBHOOK_SECRET.required_source()?;
    let bot_username = env::required(
        "BOT_USERNAME",
        "the bot's username, to ignore commands addressed to other bots",
    )?;
    let state_machine_arn = env::required(
        "STATE_MACHINE_ARN",
        "the refresh state machine that /refresh starts",
    )?;
    // Unsigned, so a negative cooldown is a start-up error rather than no cooldown at all.
    let cooldown: u32 = env::parsed_or(
        "REFRESH_COOLDOWN_SECONDS",
        WebhookSettings::DEFAULT_REFRESH_COOLDOWN_SECONDS as u32,
    )?;
    let channel_admins: ChannelAdmins = env::parsed_or(CHANNEL_ADMINS, ChannelAdmins::default())?;
    let site = env::optional(WEB_BASE_URL)
        .map(|url| SiteLinks::parse(&url))
        .transpose()
        .map_err(|err| env::ConfigError::Invalid {
            name: WEB_BASE_URL,
            reason: err.to_string(),
        })?;
    // Loaded once and shared by every AWS client of the process (DynamoDB, SSM, Step Functions).
    let aws = runtime::load_config().await;
    let secrets = SecretReader::new(&aws);
    let upstream = Upstream::from_env(secrets.clone())?;
    let telegram = Arc::new(runtime::telegram_from_env(secrets.clone())?);
    let store = Arc::new(runtime::store_from_env(&aws)?);
    let workflow = Arc::new(StepFunctionsStarter::new(
        step_functions::client(&aws, None),
        state_machine_arn,
    ));
    let settings = WebhookSettings::new(bot_username)
        .with_refresh_cooldown(chrono::Duration::seconds(i64::from(cooldown)))
        .with_site(site)
        .with_channel_admins(channel_admins);
    let webhook = Webhook::new(
        settings,
        WebhookPorts {
            clock: Arc::new(SystemClock),
            store,
            search: upstream.search,
            workflow,
            messenger: telegram.clone(),
            answers: telegram.clone(),
            channels: telegram,
        },
    );
    let lazy = Arc::new(Lazy {
        secret,
        secrets,
        webhook,
        endpoint: OnceCell::new(),
    });
    if lazy.secret.value().is_some() {
        // The secret is at hand: a malformed one fails the start, not the first update.
        lazy.endpoint().await?;
    }
    // Every payload is answered: a Function URL request with its HTTP response, anything else with
    // `InvalidInput` (never lambda_runtime's own deserialisation error, named after a Rust type).
    runtime::run_task(|payload| {
        let lazy = lazy.clone();
        async move {
            let request = function_url::request_of(payload)?;
            Ok(function_url::response_of(serve(&lazy, &request).await))
        }
    })
    .await
}

async fn serve(lazy: &Lazy, request: &Request<Vec<u8>>) -> Response<String> {
    match lazy.endpoint().await {
        Ok(endpoint) => endpoint.serve(request).await,
        Err(err) => {
            // Without the secret no request can be checked; a 5xx makes Telegram try again later,
            // and the next invocation retries the setup.
            error!(error = %err, "webhook setup failed");
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}
