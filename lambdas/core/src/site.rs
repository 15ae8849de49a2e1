//! The public web site's addresses: the one place that knows how area pages and calendar feeds are
//! named. The web function serves these paths ([`crate::web`]); the bot links them (`/status`,
//! `/calendar`). Nothing here renders or serves anything, so the bot can link the site without
//! depending on the web module.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use url::Url;

use crate::domain::AreaId;

/// Where area pages live: `/areas/{area-id}`, and the feed at `/areas/{area-id}.ics`.
pub const AREAS_PREFIX: &str = "/areas/";
pub const FEED_SUFFIX: &str = ".ics";

/// What a path segment must not carry literally (RFC 3986's path-segment set, plus `%` itself).
/// Our ids are `[a-z0-9:-]`, so in practice nothing is encoded; the set guards against any other
/// id reaching a link.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// The path of an area's page, e.g. `/areas/eskom:64106`. Always absolute: a relative
/// `eskom:64106` would read as a URL with scheme `eskom`.
pub fn area_path(area: &AreaId) -> String {
    format!(
        "{AREAS_PREFIX}{}",
        utf8_percent_encode(area.as_str(), SEGMENT)
    )
}

/// The path of an area's calendar feed, e.g. `/areas/eskom:64106.ics`.
pub fn feed_path(area: &AreaId) -> String {
    format!("{}{FEED_SUFFIX}", area_path(area))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSiteUrl {
    #[error("{0:?} is not a URL")]
    NotAUrl(String),
    #[error("{0:?} must be an http or https URL with a host, without query or fragment")]
    NotASite(String),
}

/// The site's absolute links, from its base URL (the web function's URL, e.g.
/// `https://abc.lambda-url.af-south-1.on.aws/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteLinks {
    /// Scheme and authority only, without a trailing slash: `https://host[:port]`.
    origin: String,
    https: bool,
}

impl SiteLinks {
    pub fn parse(text: &str) -> Result<Self, InvalidSiteUrl> {
        let url = Url::parse(text.trim()).map_err(|_| InvalidSiteUrl::NotAUrl(text.to_owned()))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(InvalidSiteUrl::NotASite(text.to_owned())),
        };
        let plain_root = url.path() == "/" || url.path().is_empty();
        if url.host_str().is_none()
            || !plain_root
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(InvalidSiteUrl::NotASite(text.to_owned()));
        }
        Ok(SiteLinks {
            origin: url.origin().ascii_serialization(),
            https,
        })
    }

    /// `https://host/`
    pub fn home(&self) -> String {
        format!("{}/", self.origin)
    }

    /// `https://host/areas/{id}`
    pub fn area_page(&self, area: &AreaId) -> String {
        format!("{}{}", self.origin, area_path(area))
    }

    /// `https://host/areas/{id}.ics`: to download, or for calendar apps that take an https feed.
    pub fn feed(&self, area: &AreaId) -> String {
        format!("{}{}", self.origin, feed_path(area))
    }

    /// `webcal://host/areas/{id}.ics`: phones open their calendar app's "subscribe" on this scheme,
    /// which means the same address over http(s).
    pub fn webcal(&self, area: &AreaId) -> String {
        let rest = self
            .origin
            .strip_prefix(if self.https { "https" } else { "http" })
            .unwrap_or(&self.origin);
        format!("webcal{rest}{}", feed_path(area))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_from_a_function_url() {
        let site = SiteLinks::parse("https://abc.lambda-url.af-south-1.on.aws/").expect("url");
        let area = AreaId::new("eskom:64106");
        assert_eq!(site.home(), "https://abc.lambda-url.af-south-1.on.aws/");
        assert_eq!(
            site.area_page(&area),
            "https://abc.lambda-url.af-south-1.on.aws/areas/eskom:64106"
        );
        assert_eq!(
            site.feed(&area),
            "https://abc.lambda-url.af-south-1.on.aws/areas/eskom:64106.ics"
        );
        assert_eq!(
            site.webcal(&area),
            "webcal://abc.lambda-url.af-south-1.on.aws/areas/eskom:64106.ics"
        );
        let local = SiteLinks::parse("http://127.0.0.1:8080").expect("url");
        assert_eq!(
            local.webcal(&area),
            "webcal://127.0.0.1:8080/areas/eskom:64106.ics"
        );
    }

    #[test]
    fn only_plain_site_roots_are_accepted() {
        for bad in [
            "",
            "abc",
            "ftp://host/",
            "https://host/sub/",
            "https://host/?q=1",
            "https://host/#x",
            "https://user:pw@host/",
        ] {
            assert!(SiteLinks::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn odd_ids_are_encoded_in_paths() {
        assert_eq!(
            area_path(&AreaId::new("a b/c?d#e%")),
            "/areas/a%20b%2Fc%3Fd%23e%25"
        );
        assert_eq!(feed_path(&AreaId::new("esp:x-1")), "/areas/esp:x-1.ics");
    }
}
