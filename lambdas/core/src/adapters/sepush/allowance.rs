//! `/api_allowance`: how many calls of today's allowance are used, and a search that leaves the
//! scheduled work its share of them.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;

use crate::domain::Area;
use crate::errors::UpstreamError;
use crate::ports::AreaSearch;

use super::{SERVICE, malformed};

/// Today's use of the API allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ApiAllowance {
    pub count: u32,
    pub limit: u32,
}

#[derive(Deserialize)]
struct AllowanceBody {
    allowance: ApiAllowance,
}

pub fn parse_allowance(body: &str) -> Result<ApiAllowance, UpstreamError> {
    serde_json::from_str::<AllowanceBody>(body)
        .map(|b| b.allowance)
        .map_err(|e| malformed(format!("/api_allowance is not an allowance ({e})"), body))
}

/// What reports the allowance: the client, or the client whose token is still in SSM.
#[async_trait]
pub trait Allowance: Send + Sync {
    async fn allowance(&self) -> Result<ApiAllowance, UpstreamError>;
}

/// Area search through EskomSePush that stops while the scheduled work's share of the daily
/// allowance is still left: a loop of `/subscribe` from any number of chats can use up at most
/// `share` of the day's calls, and the stage polls and schedule refreshes keep the rest.
pub struct ShareOfAllowance<S> {
    inner: Arc<S>,
    share: f64,
}

impl<S> ShareOfAllowance<S> {
    /// A third: the scheduled work (a stage poll every 10 minutes is 144 calls a day on its own
    /// on a paid plan; the free plan's 50 leave no room for polling there) needs the most.
    pub const DEFAULT_SHARE: f64 = 1.0 / 3.0;

    pub fn new(inner: Arc<S>, share: f64) -> Self {
        ShareOfAllowance {
            inner,
            share: share.clamp(0.0, 1.0),
        }
    }

    /// The calls searches may have used before they stop.
    fn searches_may_use(&self, allowance: ApiAllowance) -> u32 {
        (f64::from(allowance.limit) * self.share).floor() as u32
    }
}

#[async_trait]
impl<S: AreaSearch + Allowance> AreaSearch for ShareOfAllowance<S> {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError> {
        let allowance = self.inner.allowance().await?;
        let cap = self.searches_may_use(allowance);
        if allowance.count >= cap {
            tracing::warn!(
                used = allowance.count,
                limit = allowance.limit,
                cap,
                "search refused: the rest of today's allowance is kept for the scheduled work"
            );
            return Err(UpstreamError::QuotaExceeded {
                service: SERVICE,
                detail: format!(
                    "{} of {} calls used today; searches stop at {cap} to leave the rest to the scheduled work",
                    allowance.count, allowance.limit
                ),
            });
        }
        self.inner.search(text, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_answer() {
        let body = r#"{"allowance": {"count": 39, "limit": 50, "type": "daily"}}"#;
        assert_eq!(
            parse_allowance(body).expect("allowance"),
            ApiAllowance {
                count: 39,
                limit: 50
            }
        );
        assert!(parse_allowance("<html>").is_err());
    }
}
