//! The webhook Lambda: Telegram posts each update to its Function URL; it answers commands, keeps
//! subscriptions and starts the refresh workflow on `/refresh`. Only wiring lives here; the
//! behaviour is `loadshed_core::webhook`.
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
//! - `REFRESH_COOLDOWN_SECONDS` (default 60): one `/refresh` per chat per this many seconds
//! - `TELEGRAM_API_BASE_URL`, `ESKOM_BASE_URL`, `ESKOMSEPUSH_BASE_URL` (optional): other servers
//!   for the APIs, e.g. local fakes

use std::convert::Infallible;
use std::sync::Arc;

use aws_config::BehaviorVersion;
use lambda_http::{Request, Response, run, service_fn};
use loadshed_core::adapters::dynamo::DynamoStore;
use loadshed_core::adapters::eskom::EskomConfig;
use loadshed_core::adapters::sepush::{ApiToken, SePushConfig};
use loadshed_core::adapters::step_functions::{self, StepFunctionsStarter};
use loadshed_core::adapters::telegram::{
    BotToken, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, TelegramClient,
};
use loadshed_core::clock::SystemClock;
use loadshed_core::runtime::secrets::{SecretError, SecretReader, SecretSource};
use loadshed_core::runtime::telegram::{BOT_TOKEN, WEBHOOK_SECRET};
use loadshed_core::runtime::upstream::{ESKOM_BASE_URL, ESKOMSEPUSH_BASE_URL, SEPUSH_TOKEN};
use loadshed_core::runtime::{self, ConfigError, Upstream, env};
use loadshed_core::webhook::{Endpoint, Webhook, WebhookPorts, WebhookSecret, WebhookSettings};
use tokio::sync::OnceCell;
use tracing::error;

const REFRESH_COOLDOWN_SECONDS: &str = "REFRESH_COOLDOWN_SECONDS";
const TELEGRAM_API_BASE_URL: &str = "TELEGRAM_API_BASE_URL";

#[derive(Debug)]
struct Config {
    bot_token: SecretSource,
    webhook_secret: SecretSource,
    sepush_token: Option<SecretSource>,
    bot_username: String,
    state_machine_arn: String,
    refresh_cooldown_seconds: u32,
    telegram_base_url: String,
    eskom_base_url: Option<String>,
    sepush_base_url: Option<String>,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        let refresh_cooldown_seconds = env::parsed_or(
            REFRESH_COOLDOWN_SECONDS,
            WebhookSettings::DEFAULT_REFRESH_COOLDOWN_SECONDS as u32,
        )?;
        Ok(Config {
            bot_token: BOT_TOKEN.required_source()?,
            webhook_secret: WEBHOOK_SECRET.required_source()?,
            sepush_token: SEPUSH_TOKEN.source()?,
            bot_username: env::required(
                "BOT_USERNAME",
                "the bot's username, to ignore commands addressed to other bots",
            )?,
            state_machine_arn: env::required(
                "STATE_MACHINE_ARN",
                "the refresh state machine that /refresh starts",
            )?,
            refresh_cooldown_seconds,
            telegram_base_url: env::optional(TELEGRAM_API_BASE_URL)
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            eskom_base_url: env::optional(ESKOM_BASE_URL),
            sepush_base_url: env::optional(ESKOMSEPUSH_BASE_URL),
        })
    }

    fn needs_ssm(&self) -> bool {
        let sources = [
            Some(&self.bot_token),
            Some(&self.webhook_secret),
            self.sepush_token.as_ref(),
        ];
        sources.into_iter().flatten().any(|s| s.value().is_none())
    }
}

#[derive(Debug, thiserror::Error)]
enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("TELEGRAM_WEBHOOK_SECRET: {0}")]
    WebhookSecret(#[from] loadshed_core::webhook::InvalidSecret),
    #[error("TELEGRAM_BOT_TOKEN: {0}")]
    BotToken(#[from] loadshed_core::adapters::telegram::InvalidToken),
    #[error(transparent)]
    Telegram(#[from] loadshed_core::adapters::http::ClientSetupError),
}

/// What start-up builds: everything that needs no secret and no network.
struct Wiring {
    config: Config,
    store: Arc<DynamoStore>,
    workflow: Arc<StepFunctionsStarter>,
    secrets: SecretReader,
}

impl Wiring {
    /// The endpoint, once the secrets are at hand (read from SSM if need be).
    async fn endpoint(&self) -> Result<Endpoint, SetupError> {
        let config = &self.config;
        let secret = WebhookSecret::new(self.secrets.read(&config.webhook_secret).await?)?;
        let token = BotToken::new(self.secrets.read(&config.bot_token).await?)?;
        let telegram = Arc::new(TelegramClient::with_base_url(
            token,
            &config.telegram_base_url,
            DEFAULT_TIMEOUT,
        )?);
        let mut eskom = EskomConfig::default();
        if let Some(url) = &config.eskom_base_url {
            eskom.base_url = url.clone();
        }
        let sepush = match &config.sepush_token {
            Some(source) => {
                let mut sepush = SePushConfig::new(ApiToken::new(self.secrets.read(source).await?));
                if let Some(url) = &config.sepush_base_url {
                    sepush.base_url = url.clone();
                }
                Some(sepush)
            }
            None => None,
        };
        let upstream = Upstream::new(eskom, sepush)?;
        let settings = WebhookSettings::new(&config.bot_username).with_refresh_cooldown(
            chrono::Duration::seconds(i64::from(config.refresh_cooldown_seconds)),
        );
        let webhook = Webhook::new(
            settings,
            WebhookPorts {
                clock: Arc::new(SystemClock),
                store: self.store.clone(),
                search: upstream.search,
                workflow: self.workflow.clone(),
                messenger: telegram.clone(),
                answers: telegram,
            },
        );
        Ok(Endpoint::new(secret, webhook))
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let store = Arc::new(runtime::store_from_env().await?);
    let workflow = Arc::new(StepFunctionsStarter::new(
        step_functions::client(None).await,
        config.state_machine_arn.clone(),
    ));
    // Building the client costs no network call; it is used only for `..._PARAMETER` secrets.
    let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let secrets = SecretReader::with_client(aws_sdk_ssm::Client::new(&aws));
    let wiring = Arc::new(Wiring {
        config,
        store,
        workflow,
        secrets,
    });
    let endpoint: Arc<OnceCell<Endpoint>> = Arc::new(OnceCell::new());
    if !wiring.config.needs_ssm() {
        // Everything is at hand: a bad secret or token fails the start, not the first update.
        let ready = wiring.endpoint().await?;
        endpoint
            .set(ready)
            .map_err(|_| "the endpoint was set twice at start")?;
    }
    run(service_fn(move |request: Request| {
        let wiring = wiring.clone();
        let endpoint = endpoint.clone();
        async move { Ok::<_, Infallible>(serve(&wiring, &endpoint, request).await) }
    }))
    .await
}

async fn serve(
    wiring: &Wiring,
    endpoint: &OnceCell<Endpoint>,
    request: Request,
) -> Response<String> {
    match endpoint.get_or_try_init(|| wiring.endpoint()).await {
        Ok(endpoint) => endpoint.serve(&request).await,
        Err(err) => {
            // Without the secret no request can be checked; a 5xx makes Telegram try again later,
            // and the next invocation retries the setup.
            error!(error = %err, "webhook setup failed");
            let mut response = Response::new(String::new());
            *response.status_mut() = lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}
