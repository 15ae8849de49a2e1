//! The API quota. EskomSePush v3.1 has no `/api_allowance`: every answer carries the quota in
//! `x-ratelimit-*` headers, the client remembers the last one seen, and a search that would eat
//! into the scheduled work's share of it is refused before it is sent.

use std::sync::Arc;

use ::http::HeaderMap;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::domain::Area;
use crate::errors::UpstreamError;
use crate::ports::AreaSearch;

use super::SERVICE;

/// The calls allowed in the current period.
pub const LIMIT: &str = "x-ratelimit-limit";
/// The calls left in it.
pub const REMAINING: &str = "x-ratelimit-remaining";
/// The calls used in it.
pub const USED: &str = "x-ratelimit-used";
/// When the period ends and the count starts again (ISO-8601, UTC).
pub const RESET: &str = "x-ratelimit-reset";

/// The quota as an answer's headers gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub used: u32,
    pub remaining: u32,
    /// When the count starts again, if the answer said (and said it readably).
    pub resets_at: Option<DateTime<Utc>>,
}

impl Quota {
    /// Reads the `x-ratelimit-*` headers. The limit and one of used / remaining are needed (the
    /// other is worked out from them); a header that is not an integer counts as absent, and an
    /// unreadable reset time as unknown. `None`: the answer did not say what the quota is.
    pub fn from_headers(headers: &HeaderMap) -> Option<Quota> {
        let limit = count(headers, LIMIT)?;
        let (used, remaining) = match (count(headers, USED), count(headers, REMAINING)) {
            (Some(used), Some(remaining)) => (used, remaining),
            (Some(used), None) => (used, limit.saturating_sub(used)),
            (None, Some(remaining)) => (limit.saturating_sub(remaining), remaining),
            (None, None) => return None,
        };
        Some(Quota {
            limit,
            used,
            remaining,
            resets_at: text(headers, RESET).and_then(reset_time),
        })
    }

    /// Whether the period it describes has ended by `now` (its count is then out of date).
    pub fn has_reset(&self, now: DateTime<Utc>) -> bool {
        self.resets_at.is_some_and(|at| at <= now)
    }
}

fn text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?;
    match value.to_str() {
        Ok(text) => Some(text.trim()),
        Err(_) => {
            tracing::warn!(service = SERVICE, header = name, "quota header is not text");
            None
        }
    }
}

fn count(headers: &HeaderMap, name: &str) -> Option<u32> {
    let text = text(headers, name)?;
    let parsed = text.parse::<u32>().ok();
    if parsed.is_none() {
        tracing::warn!(service = SERVICE, header = name, value = %crate::adapters::http::excerpt(text), "quota header is not a count");
    }
    parsed
}

/// `2026-06-18T22:00:00Z`, with an offset, or without one (the documentation says UTC).
fn reset_time(text: &str) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        });
    if parsed.is_none() {
        tracing::warn!(service = SERVICE, header = RESET, value = %crate::adapters::http::excerpt(text), "quota reset is not a time");
    }
    parsed
}

/// What reports the quota: the client, or the client whose token is still in SSM.
#[async_trait]
pub trait Allowance: Send + Sync {
    /// The quota as last seen, reading it first (for free) when none was seen or it is stale.
    async fn allowance(&self) -> Result<Quota, UpstreamError>;
}

/// Area search through EskomSePush that stops while the scheduled work's share of the quota is
/// still left: a loop of `/subscribe` from any number of chats can use up at most `share` of the
/// period's calls, and the stage polls and schedule refreshes keep the rest.
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
    fn searches_may_use(&self, quota: Quota) -> u32 {
        (f64::from(quota.limit) * self.share).floor() as u32
    }
}

#[async_trait]
impl<S: AreaSearch + Allowance> AreaSearch for ShareOfAllowance<S> {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError> {
        let quota = match self.inner.allowance().await {
            Ok(quota) => quota,
            // Refused or spent: the search would be too.
            Err(
                error @ (UpstreamError::Unauthorized { .. } | UpstreamError::QuotaExceeded { .. }),
            ) => return Err(error),
            // The quota could not be read (the free test call failed, or an answer carried no
            // headers): the search goes ahead, one call, and its own answer's headers are read.
            // Refusing a person's search because the bookkeeping failed would be the worse error.
            Err(error) => {
                tracing::warn!(%error, "quota unknown: searching without the share check");
                return self.inner.search(text, limit).await;
            }
        };
        let cap = self.searches_may_use(quota);
        if quota.used >= cap || quota.remaining == 0 {
            tracing::warn!(
                used = quota.used,
                remaining = quota.remaining,
                limit = quota.limit,
                cap,
                "search refused: the rest of the quota is kept for the scheduled work"
            );
            let until = quota
                .resets_at
                .map(|at| format!(" until {}", at.to_rfc3339()))
                .unwrap_or_default();
            return Err(UpstreamError::QuotaExceeded {
                service: SERVICE,
                detail: format!(
                    "{} of {} calls used; searches stop at {cap}{until} to leave the rest to the scheduled work",
                    quota.used, quota.limit
                ),
            });
        }
        self.inner.search(text, limit).await
    }
}

#[cfg(test)]
mod tests {
    use ::http::HeaderValue;
    use chrono::TimeZone;

    use super::*;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_bytes(value).expect("header value"));
        }
        map
    }

    fn reset() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 10, 0, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn reads_all_four_headers() {
        let quota = Quota::from_headers(&headers(&[
            (LIMIT, b"50"),
            (REMAINING, b" 38 "),
            (USED, b"12"),
            (RESET, b"2026-07-10T00:00:00Z"),
        ]))
        .expect("quota");
        assert_eq!(
            quota,
            Quota {
                limit: 50,
                used: 12,
                remaining: 38,
                resets_at: Some(reset())
            }
        );
        assert!(!quota.has_reset(reset() - chrono::Duration::seconds(1)));
        assert!(quota.has_reset(reset()));
    }

    #[test]
    fn works_out_a_missing_count_and_reads_reset_times_with_or_without_an_offset() {
        let only_remaining = Quota::from_headers(&headers(&[
            (LIMIT, b"500"),
            (REMAINING, b"480"),
            (RESET, b"2026-07-10T02:00:00+02:00"),
        ]))
        .expect("quota");
        assert_eq!((only_remaining.used, only_remaining.remaining), (20, 480));
        assert_eq!(only_remaining.resets_at, Some(reset()));
        let only_used = Quota::from_headers(&headers(&[
            (LIMIT, b"50"),
            (USED, b"60"),
            (RESET, b"2026-07-10T00:00:00"),
        ]))
        .expect("quota");
        assert_eq!((only_used.used, only_used.remaining), (60, 0));
        assert_eq!(only_used.resets_at, Some(reset()));
    }

    #[test]
    fn missing_or_garbage_headers_say_nothing_rather_than_something_wrong() {
        for pairs in [
            vec![],
            vec![(REMAINING, b"3".as_slice()), (USED, b"47".as_slice())],
            vec![(LIMIT, b"fifty".as_slice()), (USED, b"1".as_slice())],
            vec![(LIMIT, b"50".as_slice())],
            vec![(LIMIT, b"50".as_slice()), (USED, b"-1".as_slice())],
            vec![(LIMIT, b"-50".as_slice()), (REMAINING, b"1".as_slice())],
            vec![(LIMIT, b"\xff".as_slice()), (REMAINING, b"1".as_slice())],
            vec![(LIMIT, b"99999999999".as_slice()), (USED, b"1".as_slice())],
        ] {
            assert_eq!(Quota::from_headers(&headers(&pairs)), None, "{pairs:?}");
        }
        // A garbage count next to a good one: the good one is used.
        let quota = Quota::from_headers(&headers(&[
            (LIMIT, b"50"),
            (USED, b"lots"),
            (REMAINING, b"10"),
            (RESET, b"at midnight"),
        ]))
        .expect("quota");
        assert_eq!(
            (quota.used, quota.remaining, quota.resets_at),
            (40, 10, None)
        );
        assert!(!quota.has_reset(reset()), "an unknown reset never passes");
    }
}
