//! `loadshed web`: the web function's pages served on 127.0.0.1, from the offline demo's store or
//! from a `--state` file (read again whenever the file changes, so a `loadshed refresh --state`
//! in another terminal shows on the next reload).
//!
//! hyper directly, not a web framework: the site does its own routing (`loadshed_core::web`), so all
//! a local server needs is to hand it each request, which is a few lines over hyper's connection
//! API (already in the tree through wiremock).

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::Clock;
use loadshed_core::errors::StoreError;
use loadshed_core::web::{WebSettings, WebSite, pages};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// Where the pages' data comes from.
pub enum Pages {
    /// A store that lives as long as the server (the offline demo's).
    Fixed(WebSite),
    /// A `--state` snapshot, loaded again when its modification time changes.
    StateFile(StateFile),
}

pub struct StateFile {
    path: PathBuf,
    settings: WebSettings,
    clock: Arc<dyn Clock>,
    loaded: Mutex<Option<(SystemTime, WebSite)>>,
}

impl StateFile {
    pub fn new(path: PathBuf, settings: WebSettings, clock: Arc<dyn Clock>) -> Self {
        StateFile {
            path,
            settings,
            clock,
            loaded: Mutex::new(None),
        }
    }

    /// The site on the file as it is now.
    pub async fn site(&self) -> Result<WebSite, StoreError> {
        let modified = tokio::fs::metadata(&self.path)
            .await
            .and_then(|m| m.modified())
            .map_err(|error| {
                StoreError::Misconfigured(format!("{}: {error}", self.path.display()))
            })?;
        let mut loaded = self.loaded.lock().await;
        if let Some((at, site)) = loaded.as_ref()
            && *at == modified
        {
            return Ok(site.clone());
        }
        let store = Arc::new(MemoryStore::load(&self.path).await?);
        let site = WebSite::new(self.settings.clone(), store, self.clock.clone());
        *loaded = Some((modified, site.clone()));
        Ok(site)
    }
}

impl Pages {
    async fn serve(&self, request: Request<()>) -> Response<String> {
        let site = match self {
            Pages::Fixed(site) => site.clone(),
            Pages::StateFile(file) => match file.site().await {
                Ok(site) => site,
                Err(error) => {
                    tracing::error!(%error, "the state file cannot be read");
                    return unreadable_state();
                }
            },
        };
        site.serve(&request).await
    }
}

fn unreadable_state() -> Response<String> {
    let page = pages::problem(
        "The state file cannot be read",
        "loadshed web could not read its --state file; the terminal it runs in says why.",
    );
    let mut response = Response::new(page.into_string());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Serves `pages` on `listener` until `shutdown` completes; each connection on its own task.
pub async fn run(
    listener: TcpListener,
    pages: Arc<Pages>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let pages = pages.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let pages = pages.clone();
                async move {
                    // The site reads no body; dropping it unread is fine for GET and HEAD, and any
                    // other method is refused.
                    let (parts, _body) = request.into_parts();
                    let response = pages.serve(Request::from_parts(parts, ())).await;
                    Ok::<_, Infallible>(response.map(|body| Full::new(Bytes::from(body))))
                }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}
