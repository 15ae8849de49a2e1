//! The EskomSePush business API (`developer.sepush.co.za/business/2.0/`): JSON, a token in the `Token`
//! header, and a small daily quota.

mod allowance;
mod area;
mod search;
mod status;
mod token;

use std::time::Duration;

use ::http::StatusCode;
use ::http::header::{HeaderName, HeaderValue};
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Deserialize;
use url::Url;

use crate::adapters::http::{self, Answer, ClientSetupError};
use crate::domain::{Area, AreaHandle, Schedule, Stage, Timelines};
use crate::errors::UpstreamError;
use crate::ports::{AreaSearch, ScheduleSource, StageSource};

pub use allowance::{Allowance, ApiAllowance, ShareOfAllowance, parse_allowance};
pub use area::{AreaDay, AreaEvent, AreaReport, parse_area};
pub use search::parse_areas_search;
pub use status::{NationalStatus, StageChange, parse_status};
pub use token::ApiToken;

/// The name errors and logs give this upstream.
pub const SERVICE: &str = "EskomSePush";

/// The header every request carries the API token in.
const TOKEN: HeaderName = HeaderName::from_static("token");

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
    pub const PRODUCTION_BASE_URL: &'static str = "https://developer.sepush.co.za/business/2.0/";
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    const USER_AGENT: &'static str = concat!("loadshed/", env!("CARGO_PKG_VERSION"));

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

/// EskomSePush as a [`StageSource`], [`ScheduleSource`] and [`AreaSearch`].
#[derive(Debug, Clone)]
pub struct SePushClient {
    base_url: Url,
    token: HeaderValue,
    http: http::HttpClient,
}

/// Which endpoint answered: a 404 means "no such area" only from `/area`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Status,
    Area,
    AreasSearch,
    Allowance,
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
        let http = http::build_client(config.timeout, SePushConfig::USER_AGENT)?;
        Ok(SePushClient {
            base_url,
            token,
            http,
        })
    }

    /// The national stage and the changes announced after it.
    pub async fn status(&self) -> Result<NationalStatus, UpstreamError> {
        let body = self.get(Endpoint::Status, &[]).await?;
        parse_status(&body)
    }

    /// Everything `/area` says about `area_id` (its id at EskomSePush, without our `esp:` prefix).
    pub async fn area(&self, area_id: &str) -> Result<AreaReport, UpstreamError> {
        let body = self.get(Endpoint::Area, &[("id", area_id)]).await?;
        parse_area(&body).map_err(|e| match e {
            UpstreamError::Malformed { service, detail } => UpstreamError::Malformed {
                service,
                detail: format!("area {area_id}: {detail}"),
            },
            other => other,
        })
    }

    async fn get(
        &self,
        endpoint: Endpoint,
        query: &[(&str, &str)],
    ) -> Result<String, UpstreamError> {
        let path = match endpoint {
            Endpoint::Status => "status",
            Endpoint::Area => "area",
            Endpoint::AreasSearch => "areas_search",
            Endpoint::Allowance => "api_allowance",
        };
        let url = http::endpoint(&self.base_url, &[path]);
        tracing::debug!(service = SERVICE, %url, "requesting");
        let request = self
            .http
            .get(url)
            .header(TOKEN, self.token.clone())
            .query(query);
        let answer = http::send(SERVICE, request).await?;
        if let Some(error) = answer_error(endpoint, &answer, query) {
            tracing::warn!(service = SERVICE, status = answer.status.as_u16(), %error, "request failed");
            return Err(error);
        }
        Ok(answer.body)
    }
}

/// EskomSePush's error bodies: `{"error": "Quota Exceeded - ..."}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
}

fn answer_error(
    endpoint: Endpoint,
    answer: &Answer,
    query: &[(&str, &str)],
) -> Option<UpstreamError> {
    let message = serde_json::from_str::<ErrorBody>(&answer.body)
        .ok()
        .map(|b| b.error);
    match answer.status {
        // The daily allowance is gone until midnight: retrying only burns the next day's.
        StatusCode::TOO_MANY_REQUESTS
            if message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("quota")) =>
        {
            Some(UpstreamError::QuotaExceeded {
                service: SERVICE,
                detail: message.unwrap_or_default(),
            })
        }
        StatusCode::NOT_FOUND if endpoint == Endpoint::Area => Some(UpstreamError::AreaNotFound {
            service: SERVICE,
            area: query
                .iter()
                .find(|(k, _)| *k == "id")
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_default(),
        }),
        _ => http::status_error(SERVICE, answer),
    }
}

/// A body EskomSePush sent that we cannot read.
fn malformed(detail: String, body: &str) -> UpstreamError {
    UpstreamError::Malformed {
        service: SERVICE,
        detail: format!("{detail}; body: {}", http::excerpt(body)),
    }
}

/// `/api_allowance` does not count against the allowance it reports.
#[async_trait]
impl Allowance for SePushClient {
    async fn allowance(&self) -> Result<ApiAllowance, UpstreamError> {
        let body = self.get(Endpoint::Allowance, &[]).await?;
        parse_allowance(&body)
    }
}

#[async_trait]
impl StageSource for SePushClient {
    async fn timelines(&self) -> Result<Timelines, UpstreamError> {
        Ok(self.status().await?.timelines())
    }
}

#[async_trait]
impl ScheduleSource for SePushClient {
    /// One `/area` call answers every stage (and the events): EskomSePush dates every day in full.
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
        self.area(area_id).await?.schedules(area, stages)
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
