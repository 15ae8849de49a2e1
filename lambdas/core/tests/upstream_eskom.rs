//! The Eskom adapter against a local HTTP server standing in for loadshedding.eskom.co.za.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::time::Duration;

use chrono::NaiveDate;
use loadshed_core::adapters::eskom::{EskomClient, EskomConfig};
use loadshed_core::domain::{Area, AreaHandle, Stage};
use loadshed_core::errors::{ErrorName, Named, UpstreamError};
use loadshed_core::ports::AreaSearch;
use pretty_assertions::assert_eq;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const BASE: &str = "/LoadShedding/";

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/upstream/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The exact User-Agent: wiremock's `header` matcher splits values at commas, and a browser's
/// User-Agent has one ("KHTML, like Gecko").
struct BrowserUserAgent;

impl Match for BrowserUserAgent {
    fn matches(&self, request: &Request) -> bool {
        request
            .headers
            .get("user-agent")
            .is_some_and(|v| v.as_bytes() == EskomConfig::BROWSER_USER_AGENT.as_bytes())
    }
}

fn client(server: &MockServer) -> EskomClient {
    client_with_timeout(server, EskomConfig::DEFAULT_TIMEOUT)
}

fn client_with_timeout(server: &MockServer, timeout: Duration) -> EskomClient {
    EskomClient::new(EskomConfig {
        timeout,
        ..EskomConfig::with_base_url(format!("{}{BASE}", server.uri()))
    })
    .expect("client")
}

fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 12)
}

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

async fn serve(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("{BASE}{at}")))
        .respond_with(response)
        .mount(server)
        .await;
}

fn name<T: std::fmt::Debug>(result: Result<T, UpstreamError>) -> ErrorName {
    result.expect_err("an error").error_name()
}

#[tokio::test]
async fn get_status_n_is_stage_n_minus_one_and_sends_a_browser_user_agent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}GetStatus")))
        .and(BrowserUserAgent)
        .respond_with(ResponseTemplate::new(200).set_body_string("5"))
        .expect(1)
        .mount(&server)
        .await;
    let stage = client(&server).current_stage().await.expect("stage");
    assert_eq!(stage.number(), 4);
}

#[tokio::test]
async fn get_status_flapping_to_zero_or_minus_one_is_a_transient_invalid_reading() {
    for body in ["0", "-1"] {
        let server = MockServer::start().await;
        serve(
            &server,
            "GetStatus",
            ResponseTemplate::new(200).set_body_string(body),
        )
        .await;
        let error = client(&server)
            .current_stage()
            .await
            .expect_err("not a stage");
        assert_eq!(error.error_name(), ErrorName::StageReadingInvalid, "{body}");
        assert!(error.error_name().is_transient());
    }
}

#[tokio::test]
async fn get_status_html_or_text_is_malformed() {
    for body in ["<html><body>Server Error</body></html>", "", "stage 4"] {
        let server = MockServer::start().await;
        serve(
            &server,
            "GetStatus",
            ResponseTemplate::new(200).set_body_string(body),
        )
        .await;
        assert_eq!(
            name(client(&server).current_stage().await),
            ErrorName::UpstreamMalformed,
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn the_firewall_page_is_blocked_on_every_endpoint_whatever_the_status() {
    let page = fixture("eskom_firewall.html");
    for status in [200, 403, 503] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).set_body_string(page.clone()))
            .mount(&server)
            .await;
        let eskom = client(&server);
        assert_eq!(
            name(eskom.current_stage().await),
            ErrorName::UpstreamBlocked
        );
        assert_eq!(
            name(
                eskom
                    .schedule(&bertiburg(), stage(2), date(2026, 12, 30))
                    .await
            ),
            ErrorName::UpstreamBlocked
        );
        assert_eq!(
            name(eskom.search("Bertiburg", 10).await),
            ErrorName::UpstreamBlocked
        );
        assert!(ErrorName::UpstreamBlocked.is_transient());
    }
}

#[tokio::test]
async fn a_bare_refusal_is_blocked_too_since_eskom_takes_no_credentials() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GetStatus",
        ResponseTemplate::new(403).set_body_string("Forbidden"),
    )
    .await;
    assert_eq!(
        name(client(&server).current_stage().await),
        ErrorName::UpstreamBlocked
    );
}

#[tokio::test]
async fn server_errors_are_unavailable_and_other_statuses_malformed() {
    for (status, expected) in [
        (500, ErrorName::UpstreamUnavailable),
        (502, ErrorName::UpstreamUnavailable),
        (503, ErrorName::UpstreamUnavailable),
        (429, ErrorName::UpstreamRateLimited),
        (404, ErrorName::UpstreamMalformed),
    ] {
        let server = MockServer::start().await;
        serve(
            &server,
            "GetStatus",
            ResponseTemplate::new(status).set_body_string("1"),
        )
        .await;
        assert_eq!(
            name(client(&server).current_stage().await),
            expected,
            "HTTP {status}"
        );
    }
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GetStatus",
        ResponseTemplate::new(200)
            .set_body_string("2")
            .set_delay(Duration::from_secs(2)),
    )
    .await;
    let error = client_with_timeout(&server, Duration::from_millis(200))
        .current_stage()
        .await
        .expect_err("timeout");
    assert!(
        matches!(error, UpstreamError::Timeout { after, .. } if after == Duration::from_millis(200)),
        "{error:?}"
    );
    assert_eq!(error.error_name(), ErrorName::UpstreamTimeout);
}

#[tokio::test]
async fn nobody_listening_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let eskom = EskomClient::new(EskomConfig::with_base_url(format!(
        "http://{address}/LoadShedding/"
    )))
    .expect("client");
    assert_eq!(
        name(eskom.current_stage().await),
        ErrorName::UpstreamUnavailable
    );
}

#[tokio::test]
async fn schedule_requests_suburb_stage_province_total_and_rolls_into_january() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}GetScheduleM/64106/2/9/12")))
        .and(BrowserUserAgent)
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("eskom_schedule_year_end.html")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let schedule = client(&server)
        .schedule(&bertiburg(), stage(2), date(2026, 12, 30))
        .await
        .expect("schedule");
    assert_eq!(schedule.area_id, bertiburg().id);
    assert_eq!(schedule.stage, stage(2));
    assert_eq!(
        schedule.dates(),
        [
            date(2026, 12, 30),
            date(2026, 12, 31),
            date(2027, 1, 1),
            date(2027, 1, 2)
        ]
    );
    let slots: Vec<(String, String)> = schedule
        .slots()
        .iter()
        .map(|s| (s.start.to_rfc3339(), s.end.to_rfc3339()))
        .collect();
    // 22:00-00:30 and the next day's 00:30-02:30 are one outage to the people living it.
    let expected = [
        ("2026-12-30T06:00:00+02:00", "2026-12-30T08:30:00+02:00"),
        ("2026-12-30T22:00:00+02:00", "2026-12-31T02:30:00+02:00"),
        ("2026-12-31T14:00:00+02:00", "2026-12-31T16:30:00+02:00"),
        ("2027-01-02T20:00:00+02:00", "2027-01-02T22:30:00+02:00"),
    ];
    assert_eq!(
        slots,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    assert!(schedule.day(date(2027, 1, 1)).expect("covered").is_free());
    assert_eq!(schedule.day(date(2027, 1, 3)), None);
}

#[tokio::test]
async fn schedule_of_a_suburb_eskom_does_not_supply_is_area_not_found() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GetScheduleM/64106/2/9/12",
        ResponseTemplate::new(200).set_body_string(fixture("eskom_not_supplied.html")),
    )
    .await;
    let error = client(&server)
        .schedule(&bertiburg(), stage(2), date(2026, 12, 30))
        .await
        .expect_err("not supplied");
    assert!(
        matches!(&error, UpstreamError::AreaNotFound { area, .. } if area == "eskom:64106"),
        "{error:?}"
    );
    assert!(!error.error_name().is_transient());
}

#[tokio::test]
async fn schedule_page_without_days_is_malformed() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GetScheduleM/64106/2/9/12",
        ResponseTemplate::new(200).set_body_string("<html><body>Oops</body></html>"),
    )
    .await;
    assert_eq!(
        name(
            client(&server)
                .schedule(&bertiburg(), stage(2), date(2026, 12, 30))
                .await
        ),
        ErrorName::UpstreamMalformed
    );
}

#[tokio::test]
async fn schedule_at_stage_zero_or_for_another_provider_asks_eskom_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let eskom = client(&server);
    let today = date(2026, 12, 30);
    let none = eskom
        .schedule(&bertiburg(), Stage::NONE, today)
        .await
        .expect("stage 0");
    assert!(none.slots().is_empty());
    assert!(none.day(today).expect("today covered").is_free());
    let esp = Area::sepush("eskde-3-bertiburg", "Bertiburg (3)", "Swartland");
    assert_eq!(
        name(eskom.schedule(&esp, stage(2), today).await),
        ErrorName::AreaNotFound
    );
}

#[tokio::test]
async fn search_sends_text_and_limit_and_numbers_provinces() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}FindSuburbs")))
        .and(query_param("searchText", "Berti burg"))
        .and(query_param("maxResults", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("eskom_find_suburbs.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let areas = client(&server)
        .search("  Berti burg ", 2)
        .await
        .expect("areas");
    // The server ignored maxResults and sent three; the caller asked for two.
    assert_eq!(areas.len(), 2);
    assert_eq!(
        areas[0],
        Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 12)
    );
    let AreaHandle::Eskom { province_id, .. } = &areas[1].handle else {
        panic!("an Eskom area: {:?}", areas[1]);
    };
    assert_eq!(*province_id, 4);
}

#[tokio::test]
async fn empty_search_asks_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let eskom = client(&server);
    assert!(eskom.search("   ", 10).await.expect("empty").is_empty());
    assert!(
        eskom
            .search("Bertiburg", 0)
            .await
            .expect("empty")
            .is_empty()
    );
}

#[test]
fn configuration_defaults_to_production_and_refuses_bad_base_urls() {
    let config = EskomConfig::default();
    assert_eq!(
        config.base_url,
        "https://loadshedding.eskom.co.za/LoadShedding/"
    );
    assert!(config.user_agent.starts_with("Mozilla/5.0"));
    assert!(EskomClient::new(config).is_ok());
    assert!(EskomClient::new(EskomConfig::with_base_url("not a url")).is_err());
}

#[tokio::test]
async fn a_body_over_the_cap_is_not_read() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GetStatus",
        ResponseTemplate::new(200).set_body_string("1".repeat(2 * 1024 * 1024)),
    )
    .await;
    let error = client(&server)
        .current_stage()
        .await
        .expect_err("too large");
    assert_eq!(error.error_name(), ErrorName::UpstreamMalformed);
    assert!(error.to_string().contains("larger than"), "{error}");
}
