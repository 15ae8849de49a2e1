//! The site over HTTP: method and target checks, the store reads each page needs (GetItem and Query
//! only), rendering, and the caching headers.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use maud::Markup;
use sha2::{Digest, Sha256};
use tracing::{error, info};

use crate::clock::{Clock, ZONE};
use crate::domain::{Area, AreaId, Forecast, Stage, Timelines};
use crate::errors::{Named, StoreError};
use crate::notify::Forecasts;
use crate::ports::{ScheduleStore, StageStore, StoredStage, SubscriptionStore};
use crate::site::SiteLinks;

use super::route::{Refusal, Route, route};
use super::view::{self, AreaView};
use super::{feed, pages};

/// The reads the site makes. Every store implements them; the deployed function may only read.
pub trait WebStore: StageStore + ScheduleStore + SubscriptionStore {}

impl<T> WebStore for T where T: StageStore + ScheduleStore + SubscriptionStore + ?Sized {}

/// Pages change every minute ("starts in 2 h 15 min"); a minute of caching costs nothing.
pub const PAGE_CACHE: &str = "public, max-age=60";
/// Feeds change only when the stage, the schedule or an ended slot does.
pub const FEED_CACHE: &str = "public, max-age=900";
const HTML: &str = "text/html; charset=utf-8";
const CALENDAR: &str = "text/calendar; charset=utf-8";
/// No scripts, no frames, no forms; only the inline style.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// Longest `Host` header used to build absolute links; DNS names are at most 253 bytes.
const MAX_HOST_BYTES: usize = 260;

/// What the site needs to know besides its ports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebSettings {
    /// The bot's username, for the "alerts on Telegram" link; none: no link.
    pub bot_username: Option<String>,
    /// Absolute links (feed, webcal) are built on this scheme and the request's `Host`: https on
    /// AWS, http for `loadshed web` on 127.0.0.1.
    pub https: bool,
}

/// Serves the pages. Build once at start; it holds only shared handles.
#[derive(Clone)]
pub struct WebSite {
    settings: WebSettings,
    store: Arc<dyn WebStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WebSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSite")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A body and what identifies its version.
struct Rendered {
    body: String,
    content_type: &'static str,
    cache: &'static str,
    etag: String,
}

impl WebSite {
    pub fn new(settings: WebSettings, store: Arc<dyn WebStore>, clock: Arc<dyn Clock>) -> Self {
        WebSite {
            settings: WebSettings {
                bot_username: settings
                    .bot_username
                    .map(|name| name.trim_start_matches('@').to_owned())
                    .filter(|name| !name.is_empty()),
                ..settings
            },
            store,
            clock,
        }
    }

    /// Answers one request. The body is ignored. Statuses:
    /// - 200 the page; 304 when `If-None-Match` names its ETag;
    /// - 400 an id ours never look like, 404 no such page or area, 405 not GET or HEAD,
    ///   414 path or query over the limits;
    /// - 503 the store could not be read (the page says to try again).
    pub async fn serve<B>(&self, request: &Request<B>) -> Response<String> {
        let head = request.method() == Method::HEAD;
        let response = self.respond(request).await;
        if head {
            response.map(|_| String::new())
        } else {
            response
        }
    }

    async fn respond<B>(&self, request: &Request<B>) -> Response<String> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            // The method is one of a few known words or an extension token; only its length is logged.
            info!(
                status = 405,
                method_bytes = request.method().as_str().len(),
                "method not allowed"
            );
            let mut response = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "These pages can only be read (GET or HEAD).",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let uri = request.uri();
        let route = match route(uri.path(), uri.query()) {
            Ok(route) => route,
            Err(refusal) => {
                // The target is the client's text: only its size is logged.
                let status = refused(refusal);
                info!(
                    status = status.status().as_u16(),
                    path_bytes = uri.path().len(),
                    query_bytes = uri.query().map_or(0, str::len),
                    "request refused"
                );
                return status;
            }
        };
        let site = self.site_links(request.headers());
        let now = self.clock.now();
        let rendered = match &route {
            Route::Home => self.home(now).await.map(Some),
            Route::AreaPage(id) => self.area(id, false, site.as_ref(), now).await,
            Route::AreaFeed(id) => self.area(id, true, site.as_ref(), now).await,
        };
        let rendered = match rendered {
            Ok(Some(rendered)) => rendered,
            Ok(None) => {
                // Only ids of followed areas are ours to log; an unknown one is the client's text.
                info!(route = route.kind(), status = 404, "no such area");
                return problem(
                    StatusCode::NOT_FOUND,
                    "Area not found",
                    "No followed area has this address. Areas appear here once someone follows them with the Telegram bot.",
                );
            }
            Err(err) => {
                error!(route = route.kind(), error_name = %err.error_name(), error = %err, "store not readable");
                let mut response = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Try again in a minute",
                    "The schedules cannot be read right now.",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                return response;
            }
        };
        let not_modified = if_none_match(request.headers(), &rendered.etag);
        info!(
            route = route.kind(),
            status = if not_modified { 304 } else { 200 },
            "served"
        );
        ok(rendered, not_modified)
    }

    async fn home(&self, now: DateTime<Utc>) -> Result<Rendered, StoreError> {
        let stage = self.store.current_stage().await?;
        let mut areas = self.store.subscribed_areas().await?;
        areas.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.region, &a.id).cmp(&(
                b.name.to_lowercase(),
                &b.region,
                &b.id,
            ))
        });
        let body = pages::home(stage.as_ref(), &areas, now.with_timezone(&ZONE)).into_string();
        Ok(Rendered {
            etag: etag(stage.as_ref(), None, &body),
            body,
            content_type: HTML,
            cache: PAGE_CACHE,
        })
    }

    /// An area's page, or with `as_feed` its calendar feed; `None` when no followed area has `id`.
    async fn area(
        &self,
        id: &AreaId,
        as_feed: bool,
        site: Option<&SiteLinks>,
        now: DateTime<Utc>,
    ) -> Result<Option<Rendered>, StoreError> {
        let Some((area, stage, forecast)) = self.area_data(id, now).await? else {
            return Ok(None);
        };
        let (body, content_type, cache) = if as_feed {
            let body = feed::feed(&area, stage.as_ref(), &forecast, site, now);
            (body, CALENDAR, FEED_CACHE)
        } else {
            let view = AreaView::new(area, stage.clone(), &forecast, now);
            let bot = self.settings.bot_username.as_deref();
            (render(pages::area(&view, site, bot)), HTML, PAGE_CACHE)
        };
        Ok(Some(Rendered {
            etag: etag(stage.as_ref(), Some(&forecast), &body),
            body,
            content_type,
            cache,
        }))
    }

    /// The followed area with this id, the stage, and its forecast: one Query (the registry of
    /// followed areas), the stage, and the area's schedules at the stages its forecast reads.
    async fn area_data(
        &self,
        id: &AreaId,
        now: DateTime<Utc>,
    ) -> Result<Option<(Area, Option<StoredStage>, Forecast)>, StoreError> {
        let Some(area) = self
            .store
            .subscribed_areas()
            .await?
            .into_iter()
            .find(|a| &a.id == id)
        else {
            return Ok(None);
        };
        let stage = self.store.current_stage().await?;
        let timelines = stage.as_ref().map_or_else(
            || Timelines::national_only(Stage::NONE),
            StoredStage::timelines,
        );
        let forecasts = Forecasts::load(
            self.store.as_ref(),
            std::slice::from_ref(&area),
            &[&timelines],
            now,
        )
        .await?
        .with_horizon(view::horizon(now));
        let forecast = forecasts.of(&area, &timelines);
        Ok(Some((area, stage, forecast)))
    }

    /// Absolute links need the site's own address, which only the request knows (a Function URL
    /// cannot be passed to its own function without a cycle in the template). A `Host` that is not
    /// a plain host name gives no absolute links rather than links to somewhere else.
    fn site_links(&self, headers: &HeaderMap) -> Option<SiteLinks> {
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let plain = !host.is_empty()
            && host.len() <= MAX_HOST_BYTES
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !plain {
            return None;
        }
        let scheme = if self.settings.https { "https" } else { "http" };
        SiteLinks::parse(&format!("{scheme}://{host}/")).ok()
    }
}

fn render(markup: Markup) -> String {
    markup.into_string()
}

/// The stored stage's version and the forecast's fingerprint name the data; the body's digest adds
/// what the clock changes (slots ending, "starts in ..."), so equal ETags mean equal bodies.
fn etag(stage: Option<&StoredStage>, forecast: Option<&Forecast>, body: &str) -> String {
    let version = stage.map_or(0, |s| s.version);
    let fingerprint =
        forecast.map_or_else(|| "none".to_owned(), |f| f.fingerprint()[..12].to_owned());
    let digest = hex::encode(&Sha256::digest(body.as_bytes())[..8]);
    format!("\"s{version}-{fingerprint}-{digest}\"")
}

/// Whether `If-None-Match` lists `etag` (or is `*`). Weak comparison, as RFC 9110 asks for it.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn ok(rendered: Rendered, not_modified: bool) -> Response<String> {
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, String::new())
    } else {
        (StatusCode::OK, rendered.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    common_headers(headers, rendered.content_type);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(rendered.cache),
    );
    if let Ok(value) = HeaderValue::from_str(&rendered.etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

fn refused(refusal: Refusal) -> Response<String> {
    match refusal {
        Refusal::NotFound => problem(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no page at this address.",
        ),
        Refusal::Malformed => problem(
            StatusCode::BAD_REQUEST,
            "Not an area address",
            "Area addresses look like /areas/eskom:64106. Follow a link from the front page.",
        ),
        Refusal::TooLong => problem(
            StatusCode::URI_TOO_LONG,
            "Address too long",
            "This address is longer than any page here.",
        ),
    }
}

fn problem(status: StatusCode, title: &str, explanation: &str) -> Response<String> {
    let mut response = Response::new(render(pages::problem(title, explanation)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    common_headers(headers, HTML);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn common_headers(headers: &mut HeaderMap, content_type: &'static str) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}
