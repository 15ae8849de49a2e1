//! `loadshed set-webhook`: registers the deployed webhook with Telegram (`setWebhook` with the
//! secret token and the update kinds the webhook reads) and sets the bot's command menu
//! (`setMyCommands`).
//!
//! The URL and the secrets' SSM parameter names come from the stack; `--url`,
//! `TELEGRAM_BOT_TOKEN` / `TELEGRAM_WEBHOOK_SECRET` (or their `_PARAMETER` forms) override them.

use loadshed_core::adapters::telegram::{
    BotCommand, BotToken, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, SetWebhook, TelegramClient,
};
use loadshed_core::runtime::env;
use loadshed_core::runtime::secrets::{SecretReader, SecretSource, SecretVar};
use loadshed_core::runtime::telegram::{BOT_TOKEN, TELEGRAM_API_BASE_URL, WEBHOOK_SECRET};
use loadshed_core::webhook::ALLOWED_UPDATES;

use super::stack::{
    BOT_TOKEN_PARAMETER, BOT_USERNAME, Stack, WEBHOOK_SECRET_PARAMETER, WEBHOOK_URL,
};
use super::{DEFAULT_STACK, OncallError};

/// The command menu: the commands the webhook answers (its /help text lists the same).
const MENU: &[(&str, &str)] = &[
    ("subscribe", "Follow an area, e.g. /subscribe Fourways"),
    ("unsubscribe", "Stop following an area"),
    (
        "status",
        "The stage and your areas' slots for today and tomorrow",
    ),
    (
        "calendar",
        "Your areas' outages as calendar feeds for your phone",
    ),
    ("refresh", "Fetch the latest stage and schedules now"),
    ("settings", "How long before an outage you are reminded"),
    ("help", "What this bot does"),
];

#[derive(Debug, clap::Args)]
pub struct SetWebhookArgs {
    /// The webhook's URL. Without it, the WebhookUrl output of --stack.
    #[arg(long)]
    url: Option<String>,
    /// The stack `make deploy` created.
    #[arg(long, env = "LOADSHED_STACK", default_value = DEFAULT_STACK)]
    stack: String,
    /// Drop the updates Telegram queued while no webhook was set.
    #[arg(long)]
    drop_pending_updates: bool,
}

pub async fn run(args: SetWebhookArgs) -> Result<(), OncallError> {
    let token_source = BOT_TOKEN.source()?;
    let secret_source = WEBHOOK_SECRET.source()?;
    let needs_stack = args.url.is_none() || token_source.is_none() || secret_source.is_none();
    let stack = match needs_stack {
        true => Some(Stack::describe(&args.stack).await?),
        false => None,
    };
    let url = match (args.url, &stack) {
        (Some(url), _) => url,
        (None, Some(stack)) => stack.output(WEBHOOK_URL)?.to_owned(),
        (None, None) => {
            return Err(OncallError::MissingOutput {
                stack: args.stack,
                key: WEBHOOK_URL,
            });
        }
    };
    let token_source = from_stack(token_source, &stack, BOT_TOKEN, BOT_TOKEN_PARAMETER)?;
    let secret_source = from_stack(
        secret_source,
        &stack,
        WEBHOOK_SECRET,
        WEBHOOK_SECRET_PARAMETER,
    )?;

    let secrets = SecretReader::lazy();
    let token = BotToken::new(secrets.read(&token_source).await?)
        .map_err(|e| OncallError::Telegram(format!("the bot token cannot be used: {e}")))?;
    let secret_token = secrets.read(&secret_source).await?;
    let base_url =
        env::optional(TELEGRAM_API_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    let telegram = TelegramClient::with_base_url(token, &base_url, DEFAULT_TIMEOUT)
        .map_err(|e| OncallError::Telegram(e.to_string()))?;

    let me = telegram
        .get_me()
        .await
        .map_err(|e| OncallError::Telegram(format!("getMe: {e}")))?;
    let deployed_username = stack.as_ref().and_then(|s| s.parameters.get(BOT_USERNAME));
    if let (Some(deployed), Some(actual)) = (deployed_username, &me.username)
        && !deployed.eq_ignore_ascii_case(actual)
    {
        // The webhook tells `/cmd@ThisBot` from commands for other bots by this name.
        eprintln!(
            "warning: the stack was deployed with BotUsername {deployed}, but this token is @{actual}'s; \
             redeploy with BotUsername={actual}"
        );
    }
    telegram
        .set_webhook(&SetWebhook {
            url: url.clone(),
            secret_token,
            allowed_updates: ALLOWED_UPDATES.iter().map(|s| (*s).to_owned()).collect(),
            drop_pending_updates: args.drop_pending_updates,
        })
        .await
        .map_err(|e| OncallError::Telegram(format!("setWebhook: {e}")))?;
    telegram
        .set_my_commands(&menu())
        .await
        .map_err(|e| OncallError::Telegram(format!("setMyCommands: {e}")))?;

    let name = me
        .username
        .map(|u| format!("@{u}"))
        .unwrap_or(me.id.to_string());
    println!("{name}: webhook set to {url}");
    println!(
        "{name}: command menu set to {}",
        MENU.iter()
            .map(|(c, _)| format!("/{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

/// The command menu as `setMyCommands` takes it (also set by `loadshed serve` at start).
pub(crate) fn menu() -> Vec<BotCommand> {
    MENU.iter()
        .map(|(command, description)| BotCommand {
            command: (*command).to_owned(),
            description: (*description).to_owned(),
        })
        .collect()
}

/// The secret from the environment, else the SSM parameter the stack was deployed with.
fn from_stack(
    given: Option<SecretSource>,
    stack: &Option<Stack>,
    var: SecretVar,
    parameter_key: &'static str,
) -> Result<SecretSource, OncallError> {
    if let Some(source) = given {
        return Ok(source);
    }
    stack
        .as_ref()
        .and_then(|s| s.parameters.get(parameter_key))
        .map(|name| SecretSource::Parameter(name.clone()))
        .ok_or(OncallError::Config(
            loadshed_core::runtime::ConfigError::Missing {
                name: var.name,
                purpose: var.purpose,
            },
        ))
}
