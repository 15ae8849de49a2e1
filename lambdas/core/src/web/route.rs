//! Reading a request target: which page it asks for, or why it is refused. Pure, so every odd path
//! a client can send is tried in tests (and by the fuzz target) without a store.

use percent_encoding::percent_decode_str;

use crate::domain::AreaId;
use crate::site::{AREAS_PREFIX, FEED_SUFFIX};

/// Far above our longest path (`/areas/` + a ~60-byte EskomSePush id + `.ics`), far below what a
/// server must read: longer targets are refused before anything else is looked at.
pub const MAX_PATH_BYTES: usize = 512;
/// Query strings are ignored (links shared on social media grow tracking parameters), up to this.
pub const MAX_QUERY_BYTES: usize = 1024;
/// The longest area id accepted; the providers' ids are well under it.
pub const MAX_AREA_ID_BYTES: usize = 128;

/// A page the site serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: the stage and the followed areas.
    Home,
    /// `/areas/{id}`
    AreaPage(AreaId),
    /// `/areas/{id}.ics`
    AreaFeed(AreaId),
}

/// Why a target is refused; each is a 4xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such page (404).
    NotFound,
    /// Not something a link of ours could be: an id with characters ours never have (400).
    Malformed,
    /// Path or query over the limits (414).
    TooLong,
}

impl Route {
    /// A short, fixed name for logs: never anything taken from the request.
    pub fn kind(&self) -> &'static str {
        match self {
            Route::Home => "home",
            Route::AreaPage(_) => "area",
            Route::AreaFeed(_) => "feed",
        }
    }
}

/// Reads `path` (as sent, still percent-encoded) and the raw `query`, if any.
pub fn route(path: &str, query: Option<&str>) -> Result<Route, Refusal> {
    if path.len() > MAX_PATH_BYTES || query.is_some_and(|q| q.len() > MAX_QUERY_BYTES) {
        return Err(Refusal::TooLong);
    }
    if path == "/" {
        return Ok(Route::Home);
    }
    let Some(rest) = path.strip_prefix(AREAS_PREFIX) else {
        return Err(Refusal::NotFound);
    };
    let (raw_id, feed) = match rest.strip_suffix(FEED_SUFFIX) {
        Some(id) => (id, true),
        None => (rest, false),
    };
    if raw_id.is_empty() || raw_id.contains('/') {
        // `/areas/`, `/areas/x/y`: nothing lives there.
        return Err(Refusal::NotFound);
    }
    let id = area_id(raw_id)?;
    Ok(if feed {
        Route::AreaFeed(id)
    } else {
        Route::AreaPage(id)
    })
}

/// The percent-decoded id, if it is one our providers could have issued: ASCII letters, digits,
/// `:`, `-`, `_` and `.`, at most [`MAX_AREA_ID_BYTES`].
fn area_id(raw: &str) -> Result<AreaId, Refusal> {
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| Refusal::Malformed)?;
    if decoded.len() > MAX_AREA_ID_BYTES {
        return Err(Refusal::TooLong);
    }
    let valid = !decoded.is_empty()
        && decoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.'));
    if !valid {
        return Err(Refusal::Malformed);
    }
    Ok(AreaId::new(decoded.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(id: &str) -> AreaId {
        AreaId::new(id)
    }

    #[test]
    fn the_three_pages() {
        assert_eq!(route("/", None), Ok(Route::Home));
        assert_eq!(
            route("/areas/eskom:64106", None),
            Ok(Route::AreaPage(area("eskom:64106")))
        );
        assert_eq!(
            route("/areas/esp:eskde-10-fourways.ics", Some("utm_source=x")),
            Ok(Route::AreaFeed(area("esp:eskde-10-fourways")))
        );
        // Percent-encoded colons are the same id.
        assert_eq!(
            route("/areas/eskom%3A64106.ics", None),
            Ok(Route::AreaFeed(area("eskom:64106")))
        );
    }

    #[test]
    fn odd_paths_are_not_found() {
        for path in [
            "",
            "/index.html",
            "//",
            "/areas",
            "/areas/",
            "/areas/.ics",
            "/areas/a/b",
            "/areas/a/",
            "/AREAS/a",
            "/favicon.ico",
        ] {
            assert_eq!(route(path, None), Err(Refusal::NotFound), "{path:?}");
        }
    }

    #[test]
    fn ids_ours_could_not_be_are_malformed() {
        for path in [
            "/areas/a%20b",
            "/areas/%3Cscript%3E",
            "/areas/a%2Fb",
            "/areas/%FF%FE",
            "/areas/%",
            "/areas/caf%C3%A9",
            "/areas/a;b",
            "/areas/a%00",
        ] {
            assert_eq!(route(path, None), Err(Refusal::Malformed), "{path:?}");
        }
    }

    #[test]
    fn long_targets_are_refused_first() {
        let long = format!("/areas/{}", "a".repeat(10_000));
        assert_eq!(route(&long, None), Err(Refusal::TooLong));
        let long_id = format!("/areas/{}", "a".repeat(MAX_AREA_ID_BYTES + 1));
        assert_eq!(route(&long_id, None), Err(Refusal::TooLong));
        let longest_id = format!("/areas/{}", "a".repeat(MAX_AREA_ID_BYTES));
        assert!(route(&longest_id, None).is_ok());
        let query = "q".repeat(MAX_QUERY_BYTES + 1);
        assert_eq!(route("/", Some(&query)), Err(Refusal::TooLong));
    }
}
