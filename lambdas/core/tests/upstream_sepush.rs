//! The EskomSePush adapter against a local HTTP server standing in for the business API.

use std::time::Duration;

use chrono::NaiveDate;
use loadshed_core::adapters::http::ClientSetupError;
use loadshed_core::adapters::sepush::{ApiToken, SePushClient, SePushConfig};
use loadshed_core::domain::{Area, Stage};
use loadshed_core::errors::{ErrorName, Named, UpstreamError};
use loadshed_core::ports::{AreaSearch, ScheduleSource, StageSource};
use pretty_assertions::assert_eq;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The national stage of the moment, as the stage task reads it.
async fn national_stage(client: &impl StageSource) -> Result<Stage, UpstreamError> {
    client.timelines().await.map(|t| t.national.current)
}

/// The area's schedule at one stage, as the schedule task asks for it.
async fn schedule_at(
    client: &impl ScheduleSource,
    area: &Area,
    stage: Stage,
    today: NaiveDate,
) -> Result<loadshed_core::domain::Schedule, UpstreamError> {
    let schedules = client.schedules(area, &[stage], today).await?;
    schedules
        .into_iter()
        .find(|s| s.stage == stage)
        .ok_or_else(|| UpstreamError::Malformed {
            service: "test",
            detail: format!("no schedule at {stage}"),
        })
}

const BASE: &str = "/business/2.0/";
const TOKEN: &str = "A1B2C3D4-E5F6A7B8-C9D0E1F2-TESTONLY";

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/upstream/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn config(server: &MockServer, timeout: Duration) -> SePushConfig {
    SePushConfig {
        base_url: format!("{}{BASE}", server.uri()),
        timeout,
        token: ApiToken::new(TOKEN),
    }
}

fn client(server: &MockServer) -> SePushClient {
    SePushClient::new(config(server, SePushConfig::DEFAULT_TIMEOUT)).expect("client")
}

fn bertiburg() -> Area {
    Area::sepush(
        "eskde-3-bertiburgswartlandwesterncape",
        "Bertiburg (3)",
        "Eskom Direct, Swartland, Western Cape",
    )
}

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn name<T: std::fmt::Debug>(result: Result<T, UpstreamError>) -> ErrorName {
    result.expect_err("an error").error_name()
}

async fn answering(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn status_sends_the_token_and_reads_the_national_stage_and_next_stages() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status")))
        .and(header("Token", TOKEN))
        .and(header_exists("User-Agent"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("sepush_status.json")))
        .expect(2)
        .mount(&server)
        .await;
    let esp = client(&server);
    assert_eq!(national_stage(&esp).await.expect("stage"), stage(4));
    let status = esp.status().await.expect("status");
    let next: Vec<(u8, String)> = status
        .next
        .iter()
        .map(|c| (c.stage.number(), c.starts_at.to_rfc3339()))
        .collect();
    assert_eq!(
        next,
        [
            (6, "2026-12-30T16:00:00+02:00".to_owned()),
            (3, "2026-12-31T05:00:00+02:00".to_owned())
        ]
    );
}

#[tokio::test]
async fn refused_tokens_are_unauthorized_and_permanent() {
    for status in [401, 403] {
        let server = answering(status, r#"{"error":"Invalid token"}"#).await;
        let error = national_stage(&client(&server)).await.expect_err("refused");
        assert_eq!(
            error.error_name(),
            ErrorName::UpstreamUnauthorized,
            "{status}"
        );
        assert!(!error.error_name().is_transient());
        assert!(
            !format!("{error} {error:?}").contains(TOKEN),
            "the token leaked into {error:?}"
        );
    }
}

#[tokio::test]
async fn quota_exceeded_is_permanent_other_429s_are_rate_limits_with_retry_after() {
    let server = answering(429, &fixture("sepush_quota.json")).await;
    let error = national_stage(&client(&server)).await.expect_err("quota");
    assert_eq!(error.error_name(), ErrorName::UpstreamQuotaExceeded);
    assert!(!error.error_name().is_transient());
    assert!(error.to_string().contains("Quota Exceeded"), "{error}");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "42")
                .set_body_string(r#"{"error":"Too many requests"}"#),
        )
        .mount(&server)
        .await;
    let error = national_stage(&client(&server))
        .await
        .expect_err("slow down");
    assert!(
        matches!(error, UpstreamError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(42)),
        "{error:?}"
    );
    assert!(error.error_name().is_transient());

    let server = answering(429, "").await;
    assert!(matches!(
        national_stage(&client(&server)).await,
        Err(UpstreamError::RateLimited {
            retry_after: None,
            ..
        })
    ));
}

#[tokio::test]
async fn server_errors_are_unavailable_and_bad_json_malformed() {
    for status in [500, 502, 503, 504] {
        let server = answering(status, "upstream error").await;
        assert_eq!(
            name(national_stage(&client(&server)).await),
            ErrorName::UpstreamUnavailable,
            "{status}"
        );
    }
    for body in ["<html>maintenance</html>", r#"{"status":{}}"#, "{"] {
        let server = answering(200, body).await;
        assert_eq!(
            name(national_stage(&client(&server)).await),
            ErrorName::UpstreamMalformed,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(fixture("sepush_status.json"))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let esp = SePushClient::new(config(&server, Duration::from_millis(200))).expect("client");
    assert_eq!(name(national_stage(&esp).await), ErrorName::UpstreamTimeout);
}

#[tokio::test]
async fn area_schedule_picks_the_stage_and_keeps_free_days() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}area")))
        .and(query_param("id", "eskde-3-bertiburgswartlandwesterncape"))
        .and(header("Token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("sepush_area.json")))
        .expect(1)
        .mount(&server)
        .await;
    let schedule = schedule_at(&client(&server), &bertiburg(), stage(6), date(2026, 12, 30))
        .await
        .expect("schedule");
    assert_eq!(schedule.area_id, bertiburg().id);
    let slots: Vec<String> = schedule.slots().iter().map(ToString::to_string).collect();
    assert_eq!(
        slots,
        [
            "06:00-08:30",
            "14:00-16:30",
            "22:00-02:30",
            "08:00-10:30",
            "16:00-18:30"
        ]
    );
    assert!(schedule.day(date(2027, 1, 1)).expect("covered").is_free());
    assert_eq!(schedule.dates().len(), 3);
}

#[tokio::test]
async fn area_report_has_events() {
    let server = answering(200, &fixture("sepush_area.json")).await;
    let report = client(&server)
        .area("eskde-3-bertiburgswartlandwesterncape")
        .await
        .expect("area");
    assert_eq!(report.name, "Bertiburg (3)");
    let events: Vec<(String, Option<u8>)> = report
        .events
        .iter()
        .map(|e| (e.slot.end.to_rfc3339(), e.stage().map(Stage::number)))
        .collect();
    assert_eq!(
        events,
        [
            ("2026-12-30T08:30:00+02:00".to_owned(), Some(4)),
            ("2026-12-31T00:30:00+02:00".to_owned(), Some(6))
        ]
    );
}

#[tokio::test]
async fn unknown_area_is_area_not_found() {
    let server = answering(404, r#"{"error":"Area not found"}"#).await;
    let error = schedule_at(&client(&server), &bertiburg(), stage(2), date(2026, 12, 30))
        .await
        .expect_err("unknown");
    assert!(
        matches!(&error, UpstreamError::AreaNotFound { area, .. } if area == "eskde-3-bertiburgswartlandwesterncape"),
        "{error:?}"
    );
}

#[tokio::test]
async fn stage_zero_and_foreign_areas_cost_no_quota() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let esp = client(&server);
    let today = date(2026, 12, 30);
    let none = schedule_at(&esp, &bertiburg(), Stage::NONE, today)
        .await
        .expect("stage 0");
    assert!(none.day(today).expect("covered").is_free());
    let eskom = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 12);
    assert_eq!(
        name(schedule_at(&esp, &eskom, stage(2), today).await),
        ErrorName::AreaNotFound
    );
    assert!(esp.search(" ", 5).await.expect("nothing").is_empty());
}

#[tokio::test]
async fn search_sends_text_and_builds_areas_up_to_the_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}areas_search")))
        .and(query_param("text", "bertiburg"))
        .and(header("Token", TOKEN))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(fixture("sepush_areas_search.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let areas = client(&server).search("bertiburg", 2).await.expect("areas");
    assert_eq!(areas.len(), 2);
    assert_eq!(areas[0], bertiburg());
    assert_eq!(
        areas[1].id.as_str(),
        "esp:eskde-7-bertiburgfarmsumngenikwazulunatal"
    );
}

#[test]
fn configuration_needs_a_token_and_never_prints_it() {
    let config = SePushConfig::default();
    assert_eq!(
        config.base_url,
        "https://developer.sepush.co.za/business/2.0/"
    );
    assert!(matches!(
        SePushClient::new(config),
        Err(ClientSetupError::MissingToken { .. })
    ));
    let config = SePushConfig::new(ApiToken::new(TOKEN));
    assert!(!format!("{config:?}").contains(TOKEN));
    let client = SePushClient::new(config).expect("client");
    assert!(!format!("{client:?}").contains(TOKEN));
    assert!(matches!(
        SePushClient::new(SePushConfig::new(ApiToken::new("bad\ntoken"))),
        Err(ClientSetupError::InvalidToken { .. })
    ));
}

#[tokio::test]
async fn the_token_never_follows_a_redirect_to_another_host() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("sepush_status.json")))
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status")))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/stolen", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let result = client(&server).status().await;
    assert!(
        result.is_err(),
        "a cross-host redirect is not followed: {result:?}"
    );
    let reached = elsewhere.received_requests().await.unwrap_or_default();
    assert!(
        reached.is_empty(),
        "the other host was sent {} requests",
        reached.len()
    );
}

#[tokio::test]
async fn a_redirect_on_the_same_host_is_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status")))
        .respond_with(ResponseTemplate::new(301).insert_header(
            "Location",
            format!("{}{BASE}status-moved", server.uri()).as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status-moved")))
        .and(header("Token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("sepush_status.json")))
        .mount(&server)
        .await;
    assert!(client(&server).status().await.is_ok());
}

#[tokio::test]
async fn an_endless_body_is_not_read_past_the_cap() {
    let server = MockServer::start().await;
    let huge = format!("{{\"areas\": [{}]}}", "{}, ".repeat(600_000));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    let error = client(&server)
        .search("milnerton", 5)
        .await
        .expect_err("too large");
    assert_eq!(error.error_name(), ErrorName::UpstreamMalformed);
    assert!(error.to_string().contains("larger than"), "{error}");
}

#[tokio::test]
async fn searches_stop_while_the_scheduled_work_keeps_its_share_of_the_allowance() {
    use loadshed_core::adapters::sepush::ShareOfAllowance;
    for (used, allowed) in [(10, true), (16, false), (49, false)] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("{BASE}api_allowance")))
            .respond_with(ResponseTemplate::new(200).set_body_string(format!(
                r#"{{"allowance": {{"count": {used}, "limit": 50, "type": "daily"}}}}"#
            )))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{BASE}areas_search")))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(fixture("sepush_areas_search.json")),
            )
            .mount(&server)
            .await;
        let search = ShareOfAllowance::new(std::sync::Arc::new(client(&server)), 1.0 / 3.0);
        let result = search.search("milnerton", 5).await;
        let searched = server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .any(|r| r.url.path().ends_with("areas_search"));
        assert_eq!(searched, allowed, "{used} used");
        if allowed {
            assert!(result.is_ok(), "{used}: {result:?}");
        } else {
            assert_eq!(name(result), ErrorName::UpstreamQuotaExceeded, "{used}");
        }
    }
}
