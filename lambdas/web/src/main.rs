//! The web Lambda: its Function URL serves each followed area's page and calendar feed. Only wiring
//! lives here; the behaviour is `loadshed_core::web`.
//!
//! Configuration (environment):
//! - `LOADSHED_TABLE`: the DynamoDB table, read with GetItem and Query only
//! - `BOT_USERNAME` (optional): the bot's username, for the pages' link to it

use std::sync::Arc;

use loadshed_core::clock::SystemClock;
use loadshed_core::runtime::{self, env, function_url};
use loadshed_core::web::{WebSettings, WebSite};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let aws = runtime::load_config().await;
    let store = Arc::new(runtime::store_from_env(&aws)?);
    let settings = WebSettings {
        bot_username: env::optional("BOT_USERNAME"),
        https: true,
    };
    let site = Arc::new(WebSite::new(settings, store, Arc::new(SystemClock)));
    // Every payload is answered: a Function URL request with its page, anything else with
    // `InvalidInput` (never lambda_runtime's own deserialisation error, named after a Rust type).
    runtime::run_task(|payload| {
        let site = site.clone();
        async move {
            let request = function_url::request_of(payload)?;
            Ok(function_url::response_of(site.serve(&request).await))
        }
    })
    .await
}
