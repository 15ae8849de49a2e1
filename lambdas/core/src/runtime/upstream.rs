//! Choosing and wiring the upstream APIs.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::adapters::eskom::{EskomClient, EskomConfig};
use crate::adapters::sepush::{ApiToken, SePushClient, SePushConfig};
use crate::domain::{Area, AreaHandle, Schedule, Stage};
use crate::errors::UpstreamError;
use crate::ports::{AreaSearch, ScheduleSource, StageSource};

use super::env::{self, ConfigError};

pub const ESKOMSEPUSH_TOKEN: &str = "ESKOMSEPUSH_TOKEN";
pub const ESKOM_BASE_URL: &str = "ESKOM_BASE_URL";
pub const ESKOMSEPUSH_BASE_URL: &str = "ESKOMSEPUSH_BASE_URL";

/// The upstream ports, wired to Eskom or EskomSePush.
#[derive(Clone)]
pub struct Upstream {
    pub stage: Arc<dyn StageSource>,
    pub schedules: Arc<dyn ScheduleSource>,
    pub search: Arc<dyn AreaSearch>,
    /// Which API answers stage and search: "Eskom" or "EskomSePush".
    pub provider: &'static str,
}

impl Upstream {
    /// EskomSePush when a token is configured, Eskom's own site otherwise. Schedules always go to
    /// the API the area was found with, so switching providers keeps existing subscriptions working.
    pub fn new(eskom: EskomConfig, sepush: Option<SePushConfig>) -> Result<Self, ConfigError> {
        let eskom = Arc::new(EskomClient::new(eskom).map_err(|e| client_error("Eskom", e))?);
        let sepush = sepush
            .map(SePushClient::new)
            .transpose()
            .map_err(|e| client_error("EskomSePush", e))?
            .map(Arc::new);
        let schedules = Arc::new(ByProvider {
            eskom: eskom.clone(),
            sepush: sepush.clone(),
        });
        Ok(match sepush {
            Some(sepush) => Upstream {
                stage: sepush.clone(),
                schedules,
                search: sepush,
                provider: crate::adapters::sepush::SERVICE,
            },
            None => Upstream {
                stage: eskom.clone(),
                schedules,
                search: eskom,
                provider: crate::adapters::eskom::SERVICE,
            },
        })
    }

    /// From `ESKOMSEPUSH_TOKEN` (optional), `ESKOM_BASE_URL` and `ESKOMSEPUSH_BASE_URL` (optional
    /// overrides). Makes no network call.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut eskom = EskomConfig::default();
        if let Some(url) = env::optional(ESKOM_BASE_URL) {
            eskom.base_url = url;
        }
        let sepush = env::optional(ESKOMSEPUSH_TOKEN).map(|token| {
            let mut config = SePushConfig::new(ApiToken::new(token));
            if let Some(url) = env::optional(ESKOMSEPUSH_BASE_URL) {
                config.base_url = url;
            }
            config
        });
        Upstream::new(eskom, sepush)
    }
}

fn client_error(what: &'static str, error: impl std::fmt::Display) -> ConfigError {
    ConfigError::Client {
        what,
        reason: error.to_string(),
    }
}

/// Sends each area's schedule request to the API its handle belongs to.
struct ByProvider {
    eskom: Arc<EskomClient>,
    sepush: Option<Arc<SePushClient>>,
}

#[async_trait]
impl ScheduleSource for ByProvider {
    async fn schedule(&self, area: &Area, stage: Stage, today: NaiveDate) -> Result<Schedule, UpstreamError> {
        match (&area.handle, &self.sepush) {
            (AreaHandle::Eskom { .. }, _) => self.eskom.schedule(area, stage, today).await,
            (AreaHandle::EskomSePush { .. }, Some(sepush)) => sepush.schedule(area, stage, today).await,
            (AreaHandle::EskomSePush { .. }, None) => Err(UpstreamError::Unauthorized {
                service: crate::adapters::sepush::SERVICE,
            }),
        }
    }
}
