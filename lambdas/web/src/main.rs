//! The web Lambda: its Function URL serves each followed area's page and calendar feed. Only wiring
//! lives here; the behaviour is `loadshed_core::web`.
//!
//! Configuration (environment):
//! - `LOADSHED_TABLE`: the DynamoDB table, read with GetItem and Query only
//! - `BOT_USERNAME` (optional): the bot's username, for the pages' link to it

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Request, run, service_fn};
use loadshed_core::clock::SystemClock;
use loadshed_core::runtime::{self, env};
use loadshed_core::web::{WebSettings, WebSite};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_tracing();
    let store = Arc::new(runtime::store_from_env().await?);
    let settings = WebSettings {
        bot_username: env::optional("BOT_USERNAME"),
        https: true,
    };
    let site = Arc::new(WebSite::new(settings, store, Arc::new(SystemClock)));
    run(service_fn(move |request: Request| {
        let site = site.clone();
        async move { Ok::<_, Infallible>(site.serve(&request).await) }
    }))
    .await
}
