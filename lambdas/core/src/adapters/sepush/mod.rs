//! The EskomSePush business API v3.1 (`developer.sepush.co.za/business/3.1/`): JSON, the token in a
//! `token` header, and a small quota that every answer reports in its `x-ratelimit-*` headers.
//!
//! What v3.1 is known to send is reconstructed from two maintained clients (the shared
//! docs/SEPUSH_V3.1.md); where they differ, both readings are accepted.

mod area;
mod quota;
mod schedule_list;
mod search;
mod status;
mod token;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ::http::StatusCode;
use ::http::header::{HeaderName, HeaderValue};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use url::Url;

use crate::adapters::http::{self, Answer, ClientSetupError};
use crate::domain::{Area, AreaHandle, Schedule, Stage, Timelines};
use crate::errors::UpstreamError;
use crate::ports::{AreaSearch, ScheduleSource, StageSource};

pub use area::{AreaDay, AreaEvent, AreaReport, ScheduleReport, parse_area, parse_schedule};
pub use quota::{Allowance, Quota, ShareOfAllowance};
pub use schedule_list::{ScheduleKind, ScheduleRef, region_text};
pub use search::parse_areas_search;
pub use status::{AuthorityStatus, StageChange, StatusReport, parse_status};
pub use token::ApiToken;

/// The name errors and logs give this upstream.
pub const SERVICE: &str = "EskomSePush";

/// The header every request carries the API token in.
const TOKEN: HeaderName = HeaderName::from_static("token");

/// How long a remembered quota stands for the current one. Other processes (the stage poller, the
/// schedule refresh, other webhook instances) spend the same token's calls meanwhile; reading it
/// again is free (`/schedule?test=current`), so a search never relies on a count older than this.
pub const QUOTA_FRESH_FOR: chrono::Duration = chrono::Duration::minutes(5);

/// Where and how to reach EskomSePush.
#[derive(Debug, Clone)]
pub struct SePushConfig {
    /// The API root; endpoints are appended to it.
    pub base_url: String,
    /// For each request as a whole, connecting included.
    pub timeout: Duration,
    pub token: ApiToken,
}

impl SePushConfig {
    pub const PRODUCTION_BASE_URL: &'static str = "https://developer.sepush.co.za/business/3.1/";
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Production settings with `token`.
    pub fn new(token: ApiToken) -> Self {
        SePushConfig {
            token,
            ..SePushConfig::default()
        }
    }
}

/// The production URL and timeout, and no token: [`SePushClient::new`] refuses it until one is set.
impl Default for SePushConfig {
    fn default() -> Self {
        SePushConfig {
            base_url: Self::PRODUCTION_BASE_URL.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
            token: ApiToken::default(),
        }
    }
}

/// EskomSePush as a [`StageSource`], [`ScheduleSource`], [`AreaSearch`] and [`Allowance`].
/// Clones share the remembered quota.
#[derive(Debug, Clone)]
pub struct SePushClient {
    base_url: Url,
    token: HeaderValue,
    http: http::HttpClient,
    quota: Arc<Mutex<Option<SeenQuota>>>,
}

/// The last quota an answer reported, and when.
#[derive(Debug, Clone, Copy)]
struct SeenQuota {
    quota: Quota,
    seen_at: DateTime<Utc>,
}

/// The endpoints called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Status,
    Area,
    AreasSearch,
    Schedule,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Status => "status",
            Endpoint::Area => "area",
            Endpoint::AreasSearch => "areas_search",
            Endpoint::Schedule => "schedule",
        }
    }
}

impl SePushClient {
    /// Sends nothing: the first request goes out with the first call.
    pub fn new(config: SePushConfig) -> Result<Self, ClientSetupError> {
        if config.token.is_empty() {
            return Err(ClientSetupError::MissingToken { service: SERVICE });
        }
        let base_url = http::parse_base_url(&config.base_url)?;
        let mut token = HeaderValue::from_str(config.token.expose())
            .map_err(|_| ClientSetupError::InvalidToken { service: SERVICE })?;
        // Keeps the value out of every request's and header map's `Debug` output.
        token.set_sensitive(true);
        // The token is in every request: the client follows no redirect away from the origin.
        let http = http::build_client(config.timeout, http::USER_AGENT)?;
        Ok(SePushClient {
            base_url,
            token,
            http,
            quota: Arc::new(Mutex::new(None)),
        })
    }

    /// `/status`: the national stage and Cape Town's, with the changes announced after them.
    pub async fn status(&self) -> Result<StatusReport, UpstreamError> {
        let body = self.get(Endpoint::Status, &[]).await?;
        parse_status(&body)
    }

    /// Everything `/area` says about `area_id` (its id at EskomSePush, without our `esp:` prefix).
    pub async fn area(&self, area_id: &str) -> Result<AreaReport, UpstreamError> {
        let body = self.get(Endpoint::Area, &[("id", area_id)]).await?;
        parse_area(&body).map_err(|e| in_context(e, "area", area_id))
    }

    /// Everything `/schedule` says about the schedule `schedule_id` (from an area's list).
    pub async fn schedule(&self, schedule_id: &str) -> Result<ScheduleReport, UpstreamError> {
        let body = self.get(Endpoint::Schedule, &[("id", schedule_id)]).await?;
        parse_schedule(&body).map_err(|e| in_context(e, "schedule", schedule_id))
    }

    /// `/area`, with the rota it does not list itself read from `/schedule`.
    ///
    /// Upstream calls, each counted against the quota: **1** when `/area` lists the slots per
    /// stage itself (v2's shape); otherwise 1 more for the followed loadshedding schedule, and 1
    /// more for the area's load-reduction schedule only when it has one and the loadshedding
    /// answer does not say its load reduction: **1 to 3** per area.
    pub async fn area_with_rota(&self, area_id: &str) -> Result<AreaReport, UpstreamError> {
        let mut report = self.area(area_id).await?;
        if report.has_rota() {
            return Ok(report);
        }
        let Some(loadshedding) = report.followed_loadshedding().map(|s| s.id.clone()) else {
            // Events alone still say something; the stages asked for are then unknown, which
            // `AreaReport::schedules` reports.
            tracing::warn!(
                service = SERVICE,
                area = area_id,
                "/area lists neither a rota nor a loadshedding schedule"
            );
            return Ok(report);
        };
        report = report.with_schedule(self.schedule(&loadshedding).await?);
        if !report.lists_load_reduction()
            && let Some(reduction) = report.followed_load_reduction().map(|s| s.id.clone())
        {
            report = report.with_schedule(self.schedule(&reduction).await?);
        }
        Ok(report)
    }

    /// The quota the last answer reported, if any answer did.
    pub fn last_quota(&self) -> Option<Quota> {
        self.seen_quota().map(|seen| seen.quota)
    }

    fn seen_quota(&self) -> Option<SeenQuota> {
        // A poisoned lock only means another thread panicked while holding a plain copy.
        *self.quota.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(&self, quota: Quota) {
        *self.quota.lock().unwrap_or_else(PoisonError::into_inner) = Some(SeenQuota {
            quota,
            seen_at: Utc::now(),
        });
    }

    async fn get(
        &self,
        endpoint: Endpoint,
        query: &[(&str, &str)],
    ) -> Result<String, UpstreamError> {
        self.exchange(endpoint, query)
            .await
            .map(|(body, _quota)| body)
    }

    /// Sends one request; the quota its answer reports (error answers included) is remembered and
    /// returned with the body.
    async fn exchange(
        &self,
        endpoint: Endpoint,
        query: &[(&str, &str)],
    ) -> Result<(String, Option<Quota>), UpstreamError> {
        let url = http::endpoint(&self.base_url, &[endpoint.path()]);
        tracing::debug!(service = SERVICE, %url, "requesting");
        let request = self
            .http
            .get(url)
            .header(TOKEN, self.token.clone())
            .query(query);
        let answer = http::send(SERVICE, request).await?;
        let quota = Quota::from_headers(&answer.headers);
        match quota {
            Some(quota) => {
                tracing::debug!(
                    service = SERVICE,
                    used = quota.used,
                    remaining = quota.remaining,
                    limit = quota.limit,
                    "quota"
                );
                self.remember(quota);
            }
            None => tracing::debug!(service = SERVICE, "answer without quota headers"),
        }
        if let Some(error) = answer_error(&answer, query, quota) {
            tracing::warn!(service = SERVICE, status = answer.status.as_u16(), %error, "request failed");
            return Err(error);
        }
        Ok((answer.body, quota))
    }
}

/// EskomSePush's error bodies: `{"error": "..."}` (v2 and the clients' reading of v3.1), or
/// `{"message": "..."}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(alias = "message")]
    error: String,
}

/// The errors of v3.1: 400 (an id it does not know, v2 ids included) and 404 for an id are
/// [`UpstreamError::AreaNotFound`]; 429 is the quota gone, whatever the body says (retrying only
/// burns the next period's); 401/403 refused tokens and 5xx as for every upstream.
fn answer_error(
    answer: &Answer,
    query: &[(&str, &str)],
    quota: Option<Quota>,
) -> Option<UpstreamError> {
    let message = serde_json::from_str::<ErrorBody>(&answer.body)
        .ok()
        .map(|b| b.error);
    let id = query.iter().find(|(k, _)| *k == "id").map(|(_, v)| *v);
    match (answer.status, id) {
        (StatusCode::TOO_MANY_REQUESTS, _) => {
            let said = message.unwrap_or_else(|| "HTTP 429".to_owned());
            let until = quota
                .and_then(|q| q.resets_at)
                .map(|at| format!(" (the quota resets at {})", at.to_rfc3339()))
                .unwrap_or_default();
            Some(UpstreamError::QuotaExceeded {
                service: SERVICE,
                detail: format!("{said}{until}"),
            })
        }
        (StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND, Some(id)) => {
            Some(UpstreamError::AreaNotFound {
                service: SERVICE,
                area: id.to_owned(),
            })
        }
        _ => http::status_error(SERVICE, answer),
    }
}

/// Names the id a malformed answer was about.
fn in_context(error: UpstreamError, what: &str, id: &str) -> UpstreamError {
    match error {
        UpstreamError::Malformed { service, detail } => UpstreamError::Malformed {
            service,
            detail: format!("{what} {id}: {detail}"),
        },
        other => other,
    }
}

/// A body EskomSePush sent that we cannot read.
fn malformed(detail: String, body: &str) -> UpstreamError {
    UpstreamError::Malformed {
        service: SERVICE,
        detail: format!("{detail}; body: {}", http::excerpt(body)),
    }
}

/// The quota last seen while it is fresh ([`QUOTA_FRESH_FOR`], and its period not over); else one
/// `GET /schedule?test=current`, which answers sample data and costs nothing, reads it.
#[async_trait]
impl Allowance for SePushClient {
    async fn allowance(&self) -> Result<Quota, UpstreamError> {
        let now = Utc::now();
        if let Some(seen) = self.seen_quota()
            && now - seen.seen_at < QUOTA_FRESH_FOR
            && !seen.quota.has_reset(now)
        {
            return Ok(seen.quota);
        }
        let (_sample, quota) = self
            .exchange(Endpoint::Schedule, &[("test", "current")])
            .await?;
        quota.ok_or_else(|| UpstreamError::Malformed {
            service: SERVICE,
            detail:
                "the free /schedule?test=current answer reported no quota (x-ratelimit-* headers)"
                    .to_owned(),
        })
    }
}

#[async_trait]
impl StageSource for SePushClient {
    /// One `/status` call: the national timeline and Cape Town's.
    async fn timelines(&self) -> Result<Timelines, UpstreamError> {
        Ok(self.status().await?.timelines())
    }
}

#[async_trait]
impl ScheduleSource for SePushClient {
    /// One answer gives every stage (and the events), so every stage upstream lists is returned,
    /// asked or not; see [`SePushClient::area_with_rota`] for the 1 to 3 calls it costs. An area
    /// under a retired v2 id is refused without a call: v3.1 answers those with a 400 that would
    /// cost a call each refresh.
    async fn schedules(
        &self,
        area: &Area,
        stages: &[Stage],
        _today: NaiveDate,
    ) -> Result<Vec<Schedule>, UpstreamError> {
        let AreaHandle::EskomSePush { area_id } = &area.handle else {
            return Err(UpstreamError::AreaNotFound {
                service: SERVICE,
                area: area.id.to_string(),
            });
        };
        if area.has_retired_id() {
            tracing::info!(service = SERVICE, area = %area.id, "retired v2 id: not requested");
            return Err(UpstreamError::AreaNotFound {
                service: SERVICE,
                area: area_id.clone(),
            });
        }
        self.area_with_rota(area_id).await?.schedules(area, stages)
    }
}

#[async_trait]
impl AreaSearch for SePushClient {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError> {
        let text = text.trim();
        if text.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let body = self.get(Endpoint::AreasSearch, &[("text", text)]).await?;
        let mut areas = parse_areas_search(&body)?;
        // The API takes no limit of its own.
        areas.truncate(limit);
        Ok(areas)
    }
}
