//! Choosing and wiring the upstream APIs.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use tokio::sync::OnceCell;
use tracing::error;

use crate::adapters::eskom::{EskomClient, EskomConfig};
use crate::adapters::sepush::{
    Allowance, ApiToken, Quota, SePushClient, SePushConfig, ShareOfAllowance,
};
#[cfg(feature = "schedules")]
use crate::domain::AreaHandle;
use crate::domain::{Area, Schedule, Stage, Timelines};
use crate::errors::UpstreamError;
use crate::ports::{AreaSearch, ScheduleSource, StageSource};

use super::env::{self, ConfigError};
use super::secrets::{SecretReader, SecretSource, SecretVar};

pub const ESKOMSEPUSH_TOKEN: &str = "ESKOMSEPUSH_TOKEN";
pub const ESKOMSEPUSH_TOKEN_PARAMETER: &str = "ESKOMSEPUSH_TOKEN_PARAMETER";
pub const ESKOM_BASE_URL: &str = "ESKOM_BASE_URL";
pub const ESKOMSEPUSH_BASE_URL: &str = "ESKOMSEPUSH_BASE_URL";

/// The EskomSePush API token (optional): its value, or the SSM parameter holding it.
pub const SEPUSH_TOKEN: SecretVar = SecretVar {
    name: ESKOMSEPUSH_TOKEN,
    parameter: ESKOMSEPUSH_TOKEN_PARAMETER,
    purpose: "the EskomSePush API token (or, in ESKOMSEPUSH_TOKEN_PARAMETER, the SSM parameter holding it)",
};

/// The upstream ports, wired to Eskom or EskomSePush.
#[derive(Clone)]
pub struct Upstream {
    pub stage: Arc<dyn StageSource>,
    /// Needs the `schedules` feature (Eskom's schedule pages are HTML, parsed with scraper).
    #[cfg(feature = "schedules")]
    pub schedules: Arc<dyn ScheduleSource>,
    pub search: Arc<dyn AreaSearch>,
    /// Which API answers stage and search: "Eskom" or "EskomSePush".
    pub provider: &'static str,
}

impl Upstream {
    /// EskomSePush when a token is configured, Eskom's own site otherwise. Schedules always go to
    /// the API the area was found with, so switching providers keeps existing subscriptions working.
    pub fn new(eskom: EskomConfig, sepush: Option<SePushConfig>) -> Result<Self, ConfigError> {
        let sepush = sepush
            .map(SePushClient::new)
            .transpose()
            .map_err(|e| client_error("EskomSePush", e))?
            .map(Arc::new);
        Upstream::wire(eskom, sepush)
    }

    fn wire<S>(eskom: EskomConfig, sepush: Option<Arc<S>>) -> Result<Self, ConfigError>
    where
        S: StageSource + ScheduleSource + AreaSearch + Allowance + 'static,
    {
        let eskom = Arc::new(EskomClient::new(eskom).map_err(|e| client_error("Eskom", e))?);
        #[cfg(feature = "schedules")]
        let schedules = Arc::new(ByProvider {
            eskom: eskom.clone(),
            sepush: sepush.clone().map(|s| -> Arc<dyn ScheduleSource> { s }),
        });
        Ok(match sepush {
            Some(sepush) => Upstream {
                stage: sepush.clone(),
                #[cfg(feature = "schedules")]
                schedules,
                // Searches come from users, any number of them: they get a share of the allowance.
                search: Arc::new(ShareOfAllowance::new(
                    sepush,
                    ShareOfAllowance::<S>::DEFAULT_SHARE,
                )),
                provider: crate::adapters::sepush::SERVICE,
            },
            None => Upstream {
                stage: eskom.clone(),
                #[cfg(feature = "schedules")]
                schedules,
                search: eskom,
                provider: crate::adapters::eskom::SERVICE,
            },
        })
    }

    /// From `ESKOMSEPUSH_TOKEN` or `ESKOMSEPUSH_TOKEN_PARAMETER` (optional), `ESKOM_BASE_URL` and
    /// `ESKOMSEPUSH_BASE_URL` (optional overrides). Makes no network call: a token in SSM is read
    /// on the first EskomSePush request, with `secrets`.
    pub fn from_env(secrets: SecretReader) -> Result<Self, ConfigError> {
        let mut eskom = EskomConfig::default();
        if let Some(url) = env::optional(ESKOM_BASE_URL) {
            eskom.base_url = url;
        }
        let base_url = env::optional(ESKOMSEPUSH_BASE_URL);
        match SEPUSH_TOKEN.source()? {
            None => Upstream::new(eskom, None),
            Some(SecretSource::Value(token)) => {
                Upstream::new(eskom, Some(sepush_config(token, base_url)))
            }
            Some(token @ SecretSource::Parameter(_)) => {
                let lazy = LazySePush::new(token, base_url, secrets);
                Upstream::wire(eskom, Some(Arc::new(lazy)))
            }
        }
    }
}

fn sepush_config(token: String, base_url: Option<String>) -> SePushConfig {
    let mut config = SePushConfig::new(ApiToken::new(token));
    if let Some(url) = base_url {
        config.base_url = url;
    }
    config
}

/// The EskomSePush client for a token in SSM: built on the first request, which reads the token.
pub struct LazySePush {
    token: SecretSource,
    base_url: Option<String>,
    secrets: SecretReader,
    client: OnceCell<SePushClient>,
}

impl LazySePush {
    pub fn new(token: SecretSource, base_url: Option<String>, secrets: SecretReader) -> Self {
        LazySePush {
            token,
            base_url,
            secrets,
            client: OnceCell::new(),
        }
    }

    /// The client, reading the token the first time. Failures are not kept.
    async fn client(&self) -> Result<&SePushClient, UpstreamError> {
        self.client
            .get_or_try_init(|| async {
                let service = crate::adapters::sepush::SERVICE;
                let token = self.secrets.read(&self.token).await.map_err(|e| {
                    error!(error = %e, "cannot read the EskomSePush token");
                    match e.is_permanent() {
                        // Without a token every call would be refused: a person must fix it.
                        true => UpstreamError::Unauthorized { service },
                        false => UpstreamError::Unavailable {
                            service,
                            detail: e.to_string(),
                        },
                    }
                })?;
                SePushClient::new(sepush_config(token, self.base_url.clone())).map_err(|e| {
                    UpstreamError::Unavailable {
                        service,
                        detail: e.to_string(),
                    }
                })
            })
            .await
    }
}

#[async_trait]
impl StageSource for LazySePush {
    async fn timelines(&self) -> Result<Timelines, UpstreamError> {
        self.client().await?.timelines().await
    }
}

#[async_trait]
impl ScheduleSource for LazySePush {
    async fn schedules(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
    ) -> Result<Vec<Schedule>, UpstreamError> {
        self.client().await?.schedules(area, stages, today).await
    }
}

#[async_trait]
impl Allowance for LazySePush {
    async fn allowance(&self) -> Result<Quota, UpstreamError> {
        self.client().await?.allowance().await
    }
}

#[async_trait]
impl AreaSearch for LazySePush {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError> {
        self.client().await?.search(text, limit).await
    }
}

fn client_error(what: &'static str, error: impl std::fmt::Display) -> ConfigError {
    ConfigError::Client {
        what,
        reason: error.to_string(),
    }
}

/// Sends each area's schedule request to the API its handle belongs to.
#[cfg(feature = "schedules")]
struct ByProvider {
    eskom: Arc<EskomClient>,
    sepush: Option<Arc<dyn ScheduleSource>>,
}

#[cfg(feature = "schedules")]
#[async_trait]
impl ScheduleSource for ByProvider {
    async fn schedules(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
    ) -> Result<Vec<Schedule>, UpstreamError> {
        match (&area.handle, &self.sepush) {
            (AreaHandle::Eskom { .. }, _) => self.eskom.schedules(area, stages, today).await,
            (AreaHandle::EskomSePush { .. }, Some(sepush)) => {
                sepush.schedules(area, stages, today).await
            }
            (AreaHandle::EskomSePush { .. }, None) => Err(UpstreamError::Unauthorized {
                service: crate::adapters::sepush::SERVICE,
            }),
        }
    }
}
