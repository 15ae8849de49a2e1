//! The recorded upstream responses of the offline mode, served on a local port so that the real
//! Eskom adapter runs against them.
//!
//! wiremock is a test server, but it is exactly "recorded responses on a local port" and it is
//! already in the workspace for the adapter tests; a hand-written HTTP server would add code and
//! nothing else.

use chrono::{Duration, NaiveDate};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const GET_STATUS: &str = include_str!("../../fixtures/offline/eskom/GetStatus.txt");
const FIND_SUBURBS: &str = include_str!("../../fixtures/offline/eskom/FindSuburbs.json");
/// (suburb id, stage, page): `{{DAYn}}` marks where the page's dates go.
const SCHEDULE_PAGES: &[(&str, &str, &str)] = &[
    (
        "64106",
        "4",
        include_str!("../../fixtures/offline/eskom/GetScheduleM_64106_4.html"),
    ),
    (
        "9811",
        "4",
        include_str!("../../fixtures/offline/eskom/GetScheduleM_9811_4.html"),
    ),
];
/// The suburb the demo subscription follows.
pub const DEMO_SEARCH: &str = "Bertiburg";

/// Eskom's site, recorded, on 127.0.0.1.
pub struct OfflineEskom {
    server: MockServer,
}

impl OfflineEskom {
    /// Serves the recorded pages with their dates starting at `today`.
    pub async fn start(today: NaiveDate) -> Self {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/LoadShedding/GetStatus"))
            .respond_with(ResponseTemplate::new(200).set_body_string(GET_STATUS.trim()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/LoadShedding/FindSuburbs"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("Content-Type", "application/json; charset=utf-8")
                    .set_body_string(FIND_SUBURBS.trim()),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/LoadShedding/GetScheduleM/\d+/\d+/"))
            .respond_with(SchedulePages { today })
            .mount(&server)
            .await;
        OfflineEskom { server }
    }

    /// The server, for tests that script extra answers on top of the recording (mount them with a
    /// priority below wiremock's default of 5 so they win).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The base URL the Eskom adapter takes.
    pub fn base_url(&self) -> String {
        format!("{}/LoadShedding/", self.server.uri())
    }
}

/// Answers `GetScheduleM/{suburb}/{stage}/...` with the recorded page, dated from `today`; a suburb or
/// stage with no recording is a 404, which the adapter reports as an error for that area.
struct SchedulePages {
    today: NaiveDate,
}

impl Respond for SchedulePages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut segments = request.url.path().split('/').skip(3);
        let (suburb, stage) = (
            segments.next().unwrap_or_default(),
            segments.next().unwrap_or_default(),
        );
        match SCHEDULE_PAGES
            .iter()
            .find(|(s, st, _)| *s == suburb && *st == stage)
        {
            Some((_, _, page)) => {
                ResponseTemplate::new(200).set_body_string(dated(page, self.today))
            }
            None => ResponseTemplate::new(404),
        }
    }
}

/// Fills `{{DAY0}}`..`{{DAY6}}` with `Sat, 28 Nov`-style dates from `today` on.
fn dated(page: &str, today: NaiveDate) -> String {
    (0..7).fold(page.to_owned(), |page, n| {
        let date = today + Duration::days(n);
        page.replace(
            &format!("{{{{DAY{n}}}}}"),
            &date.format("%a, %d %b").to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_get_dates_from_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 30).expect("date");
        let page = dated(SCHEDULE_PAGES[0].2, today);
        assert!(
            page.contains("Wed, 30 Dec") && page.contains("Tue, 05 Jan"),
            "{page}"
        );
        assert!(!page.contains("{{"));
    }
}
