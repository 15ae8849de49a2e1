//! The EskomSePush adapter against a local HTTP server standing in for the v3.1 business API, serving
//! the reconstructed fixtures of `tests/fixtures/sepush_v31/` (see the README there).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use loadshed_core::adapters::http::ClientSetupError;
use loadshed_core::adapters::sepush::{
    Allowance, ApiToken, Quota, SePushClient, SePushConfig, ShareOfAllowance,
};
use loadshed_core::domain::{Area, Authority, Basis, Cause, Schedule, Stage};
use loadshed_core::errors::{ErrorName, Named, UpstreamError};
use loadshed_core::ports::{AreaSearch, ScheduleSource, StageSource};
use pretty_assertions::assert_eq;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const BASE: &str = "/business/3.1/";
const TOKEN: &str = "A1B2C3D4-E5F6A7B8-C9D0E1F2-TESTONLY";

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/sepush_v31/{name}",
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

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn today() -> NaiveDate {
    date(2026, 7, 9)
}

fn name<T: std::fmt::Debug>(result: Result<T, UpstreamError>) -> ErrorName {
    result.expect_err("an error").error_name()
}

fn fourways() -> Area {
    Area::sepush(
        "za_gt_jhb_fourways_4pef",
        "Fourways (10)",
        "City of Johannesburg, Gauteng",
    )
}

fn table_view_sp() -> Area {
    Area::sepush(
        "za_wc_cpt_tableviewsp_3mxa",
        "Table View SP (14)",
        "Eskom Direct, City of Cape Town, Western Cape",
    )
}

/// When the quota of the answers below resets: the next midnight UTC after the real time now (the
/// client compares it with the system clock, and a quota whose period is over is read again).
fn next_reset() -> DateTime<Utc> {
    let tomorrow = Utc::now().date_naive() + chrono::Days::new(1);
    tomorrow.and_time(NaiveTime::MIN).and_utc()
}

/// A 200 with `body` and the quota headers: `used` of 50, resetting at `reset`.
fn with_quota_until(body: &str, used: u32, reset: DateTime<Utc>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_string(body)
        .insert_header("x-ratelimit-limit", "50")
        .insert_header("x-ratelimit-remaining", (50 - used).to_string().as_str())
        .insert_header("x-ratelimit-used", used.to_string().as_str())
        .insert_header(
            "x-ratelimit-reset",
            reset.format("%Y-%m-%dT%H:%M:%SZ").to_string().as_str(),
        )
}

/// A 200 with `body` and the quota headers: `used` of 50, resetting at the next midnight UTC.
fn with_quota(body: &str, used: u32) -> ResponseTemplate {
    with_quota_until(body, used, next_reset())
}

async fn answering(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    server
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// Every request went to the v3.1 base with the token in the `token` header, and none to the
/// `/api_allowance` of v2.
async fn all_v31_with_the_token(server: &MockServer) {
    for request in received(server).await {
        let path = request.url.path();
        assert!(path.starts_with(BASE), "{path} is not under {BASE}");
        assert!(
            !path.contains("api_allowance"),
            "{path}: v2's allowance call"
        );
        assert_eq!(
            request.headers.get("token").and_then(|v| v.to_str().ok()),
            Some(TOKEN),
            "{path} without the token header"
        );
    }
}

/// Slot texts with their day, e.g. "09 20:00-22:30".
fn slot_texts(schedule: &Schedule) -> Vec<String> {
    schedule
        .slots()
        .iter()
        .map(|s| format!("{} {s}", s.start.format("%d")))
        .collect()
}

fn event_texts(schedule: &Schedule) -> Vec<String> {
    schedule
        .events()
        .iter()
        .map(|e| {
            assert_eq!(e.basis, Basis::Upstream);
            format!("{} {} {}", e.slot.start.format("%d"), e.slot, e.cause)
        })
        .collect()
}

#[tokio::test]
async fn status_gives_the_national_and_cape_town_timelines_with_their_announced_changes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status")))
        .and(header("token", TOKEN))
        .and(header_exists("User-Agent"))
        .respond_with(with_quota(
            &fixture("status_reconstructed_2026-07-09.json"),
            7,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let esp = client(&server);
    let timelines = esp.timelines().await.expect("timelines");
    let changes = |authority| {
        let timeline = timelines.of(authority);
        std::iter::once(format!("{}", timeline.current.number()))
            .chain(timeline.changes().iter().map(|c| {
                format!(
                    "{}@{}",
                    c.stage.number(),
                    c.starts_at
                        .with_timezone(&chrono_tz::Africa::Johannesburg)
                        .format("%d %H:%M")
                )
            }))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        changes(Authority::National),
        ["2", "4@09 16:00", "2@10 05:00"]
    );
    assert_eq!(
        changes(Authority::CapeTown),
        ["1", "2@09 17:00", "0@10 05:00"]
    );
    assert!(timelines.knows(Authority::CapeTown));
    assert_eq!(esp.last_quota().map(|q| q.used), Some(7));
    all_v31_with_the_token(&server).await;
}

#[tokio::test]
async fn a_status_without_capetown_has_no_cape_town_timeline_and_without_eskom_is_malformed() {
    let server = answering(
        200,
        r#"{"status":{"eskom":{"stage":"3","next_stages":[]}}}"#,
    )
    .await;
    let timelines = client(&server).timelines().await.expect("timelines");
    assert_eq!(timelines.national.current, stage(3));
    assert_eq!(timelines.cape_town, None);

    let server = answering(
        200,
        r#"{"status":{"capetown":{"stage":"3","next_stages":[]}}}"#,
    )
    .await;
    assert_eq!(
        name(client(&server).timelines().await),
        ErrorName::UpstreamMalformed
    );
}

#[tokio::test]
async fn refused_tokens_are_unauthorized_and_permanent() {
    for status in [401, 403] {
        let server = answering(status, r#"{"error":"Invalid token"}"#).await;
        let error = client(&server).timelines().await.expect_err("refused");
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
async fn a_429_is_the_quota_exceeded_whatever_the_body() {
    for body in [
        r#"{"error":"Quota Exceeded - Your quota has been exceeded"}"#,
        r#"{"error":"Too many requests"}"#,
        "",
        "<html>slow down</html>",
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(429)
                    .set_body_string(body)
                    .insert_header("Retry-After", "42")
                    .insert_header("x-ratelimit-limit", "50")
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-used", "50")
                    .insert_header("x-ratelimit-reset", "2026-07-10T00:00:00Z"),
            )
            .mount(&server)
            .await;
        let esp = client(&server);
        let error = esp.timelines().await.expect_err("quota");
        assert!(
            matches!(error, UpstreamError::QuotaExceeded { .. }),
            "{body}: {error:?}"
        );
        assert_eq!(error.error_name(), ErrorName::UpstreamQuotaExceeded);
        assert!(!error.error_name().is_transient());
        assert!(
            error.to_string().contains("2026-07-10T00:00:00+00:00"),
            "says when it resets: {error}"
        );
        assert_eq!(esp.last_quota().map(|q| q.remaining), Some(0), "{body}");
        let error = esp
            .schedules(&fourways(), &[stage(2)], today())
            .await
            .expect_err("quota");
        assert_eq!(error.error_name(), ErrorName::UpstreamQuotaExceeded);
    }
}

#[tokio::test]
async fn server_errors_are_unavailable_and_bad_json_malformed() {
    for status in [500, 502, 503, 504] {
        let server = answering(status, "upstream error").await;
        assert_eq!(
            name(client(&server).timelines().await),
            ErrorName::UpstreamUnavailable,
            "{status}"
        );
    }
    for body in ["<html>maintenance</html>", r#"{"status":{}}"#, "{"] {
        let server = answering(200, body).await;
        assert_eq!(
            name(client(&server).timelines().await),
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
                .set_body_string(fixture("status_reconstructed_2026-07-09.json"))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let esp = SePushClient::new(config(&server, Duration::from_millis(200))).expect("client");
    assert_eq!(name(esp.timelines().await), ErrorName::UpstreamTimeout);
}

#[tokio::test]
async fn an_area_in_v2_shape_gives_every_stage_and_the_events_in_one_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}area")))
        .and(query_param("id", "za_gt_jhb_fourways_4pef"))
        .and(header("token", TOKEN))
        .respond_with(with_quota(
            &fixture("area_reconstructed_za_gt_jhb_fourways_4pef.json"),
            12,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}schedule")))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let area = fourways();
    let schedules = client(&server)
        .schedules(&area, &[Stage::NONE, stage(4)], today())
        .await
        .expect("schedules");
    let stages: Vec<u8> = schedules.iter().map(|s| s.stage.number()).collect();
    assert_eq!(stages, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(schedules.iter().all(|s| s.area_id == area.id));
    assert!(
        schedules
            .iter()
            .all(|s| s.dates() == [date(2026, 7, 9), date(2026, 7, 10)])
    );
    let zero = &schedules[0];
    assert!(
        zero.slots().is_empty(),
        "v2's shape lists load reduction only as events"
    );
    assert_eq!(
        event_texts(zero),
        [
            "09 16:00-16:30 Load reduction",
            "09 20:00-22:30 Stage 4",
            "10 04:00-05:00 Stage 4"
        ]
    );
    assert!(zero.events().iter().any(|e| e.cause
        == Cause::Stage {
            stage: stage(4),
            authority: Authority::National
        }));
    assert_eq!(
        slot_texts(&schedules[4]),
        [
            "09 04:00-06:30",
            "09 12:00-14:30",
            "09 20:00-22:30",
            "10 04:00-06:30",
            "10 12:00-14:30"
        ]
    );
    // Stage 8 runs 20:00-00:30 on the 9th and starts 02:00 on the 10th: two outages.
    assert_eq!(
        slot_texts(&schedules[8])[2..4],
        ["09 20:00-00:30".to_owned(), "10 02:00-06:30".to_owned()]
    );
    assert_eq!(received(&server).await.len(), 1, "one call per area");
    all_v31_with_the_token(&server).await;
}

#[tokio::test]
async fn an_area_with_a_schedules_list_follows_its_loadshedding_and_load_reduction_schedules() {
    let server = MockServer::start().await;
    let serve = |at: &str, id: &str, file: &str, used: u32| {
        Mock::given(method("GET"))
            .and(path(format!("{BASE}{at}")))
            .and(query_param("id", id))
            .and(header("token", TOKEN))
            .respond_with(with_quota(&fixture(file), used))
            .expect(1)
    };
    serve(
        "area",
        "za_wc_cpt_tableviewsp_3mxa",
        "area_reconstructed_za_wc_cpt_tableviewsp_3mxa.json",
        20,
    )
    .mount(&server)
    .await;
    serve(
        "schedule",
        "za_wc_eskde_ls_14",
        "schedule_reconstructed_za_wc_eskde_ls_14.json",
        21,
    )
    .mount(&server)
    .await;
    serve(
        "schedule",
        "za_lr_eskde_wc_2",
        "schedule_reconstructed_za_lr_eskde_wc_2.json",
        22,
    )
    .mount(&server)
    .await;
    let esp = client(&server);
    let area = table_view_sp();
    assert_eq!(area.authority(), Authority::National);
    let schedules = esp
        .schedules(&area, &[stage(4)], today())
        .await
        .expect("schedules");
    let stages: Vec<u8> = schedules.iter().map(|s| s.stage.number()).collect();
    assert_eq!(stages, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    let zero = &schedules[0];
    assert_eq!(slot_texts(zero), ["10 17:00-19:00"]);
    assert_eq!(
        event_texts(zero),
        [
            "09 16:00-18:30 Stage 4",
            "10 00:00-02:30 Stage 4",
            "10 17:00-19:00 Load reduction"
        ]
    );
    assert_eq!(
        slot_texts(&schedules[4]),
        [
            "09 08:00-10:30",
            "09 16:00-18:30",
            "10 00:00-02:30",
            "10 08:00-10:30"
        ]
    );
    assert!(schedules[1].day(today()).expect("covered").is_free());
    assert_eq!(received(&server).await.len(), 3, "/area and two /schedule");
    assert_eq!(esp.last_quota().map(|q| q.used), Some(22));
    all_v31_with_the_token(&server).await;
}

#[tokio::test]
async fn unknown_and_v2_ids_answered_400_are_area_not_found() {
    let server = answering(400, r#"{"error":"Invalid area id"}"#).await;
    let area = Area::sepush("za_gt_jhb_nowhere_0000", "Nowhere", "Gauteng");
    let error = client(&server)
        .schedules(&area, &[stage(2)], today())
        .await
        .expect_err("unknown");
    assert!(
        matches!(&error, UpstreamError::AreaNotFound { area, .. } if area == "za_gt_jhb_nowhere_0000"),
        "{error:?}"
    );
    assert!(!error.error_name().is_transient());
    // Asked directly (not through the port), a v2 id goes out and comes back a 400 too.
    let error = client(&server)
        .area("eskde-10-fourwaysext10cityofjohannesburggauteng")
        .await
        .expect_err("v2 id");
    assert_eq!(error.error_name(), ErrorName::AreaNotFound);
    // A 400 on a call without an id is not about an area.
    assert_eq!(
        name(client(&server).timelines().await),
        ErrorName::UpstreamMalformed
    );
}

#[tokio::test]
async fn retired_v2_ids_and_foreign_areas_cost_no_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let esp = client(&server);
    let retired = Area::sepush(
        "eskde-14-milnertoncityofcapetownwesterncape",
        "Milnerton (14)",
        "Eskom Direct, City of Cape Town, Western Cape",
    );
    assert!(retired.has_retired_id());
    let error = esp
        .schedules(&retired, &[stage(2)], today())
        .await
        .expect_err("retired");
    assert!(
        matches!(&error, UpstreamError::AreaNotFound { area, .. } if area == "eskde-14-milnertoncityofcapetownwesterncape"),
        "{error:?}"
    );
    let eskom = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 12);
    assert_eq!(
        name(esp.schedules(&eskom, &[stage(2)], today()).await),
        ErrorName::AreaNotFound
    );
    assert!(esp.search(" ", 5).await.expect("nothing").is_empty());
}

#[tokio::test]
async fn search_sends_text_and_builds_areas_with_their_supplier_up_to_the_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}areas_search")))
        .and(query_param("text", "table view"))
        .and(header("token", TOKEN))
        .respond_with(with_quota(
            &fixture("areas_search_reconstructed_table_view.json"),
            3,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let areas = client(&server)
        .search("table view", 2)
        .await
        .expect("areas");
    let found: Vec<(&str, &str, Authority)> = areas
        .iter()
        .map(|a| (a.id.as_str(), a.region.as_str(), a.authority()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "esp:za_wc_cpt_tableview_7rhd",
                "City of Cape Town, Western Cape",
                Authority::CapeTown
            ),
            (
                "esp:za_wc_cpt_tableviewsp_3mxa",
                "Eskom Direct, City of Cape Town, Western Cape",
                Authority::National
            ),
        ]
    );
    assert_eq!(areas[1], table_view_sp());
    all_v31_with_the_token(&server).await;
}

#[tokio::test]
async fn the_quota_is_read_from_every_answer_and_kept_when_an_answer_does_not_say() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status")))
        .respond_with(with_quota(
            &fixture("status_reconstructed_2026-07-09.json"),
            30,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(fixture("status_reconstructed_2026-07-09.json"))
                .insert_header("x-ratelimit-limit", "lots")
                .insert_header("x-ratelimit-used", "31"),
        )
        .mount(&server)
        .await;
    let esp = client(&server);
    assert_eq!(esp.last_quota(), None, "nothing seen yet");
    esp.timelines().await.expect("first");
    let first = esp.last_quota().expect("quota");
    assert_eq!((first.limit, first.used, first.remaining), (50, 30, 20));
    assert_eq!(first.resets_at, Some(next_reset()));
    esp.timelines().await.expect("second");
    assert_eq!(
        esp.last_quota(),
        Some(first),
        "an unreadable quota does not replace a readable one"
    );
    // A clone shares what was seen.
    assert_eq!(esp.clone().allowance().await.expect("remembered"), first);
    assert_eq!(
        received(&server).await.len(),
        2,
        "the remembered quota cost nothing"
    );
}

#[tokio::test]
async fn before_any_answer_the_quota_is_read_with_one_free_test_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}schedule")))
        .and(query_param("test", "current"))
        .and(header("token", TOKEN))
        .respond_with(with_quota(
            &fixture("schedule_test_current_reconstructed.json"),
            9,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let esp = client(&server);
    let quota = esp.allowance().await.expect("quota");
    assert_eq!(
        quota,
        Quota {
            limit: 50,
            used: 9,
            remaining: 41,
            resets_at: Some(next_reset()),
        }
    );
    // Remembered: no second call.
    assert_eq!(esp.allowance().await.expect("again"), quota);
    all_v31_with_the_token(&server).await;

    let silent = answering(200, &fixture("schedule_test_current_reconstructed.json")).await;
    assert_eq!(
        name(client(&silent).allowance().await),
        ErrorName::UpstreamMalformed,
        "an answer without quota headers leaves the quota unknown"
    );
}

#[tokio::test]
async fn a_quota_whose_period_is_over_is_read_again_for_free() {
    let server = MockServer::start().await;
    let over = next_reset() - chrono::Duration::days(1);
    Mock::given(method("GET"))
        .and(path(format!("{BASE}status")))
        .respond_with(with_quota_until(
            &fixture("status_reconstructed_2026-07-09.json"),
            49,
            over,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}schedule")))
        .and(query_param("test", "current"))
        .respond_with(with_quota(
            &fixture("schedule_test_current_reconstructed.json"),
            0,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let esp = client(&server);
    esp.timelines().await.expect("status");
    assert_eq!(esp.last_quota().map(|q| q.used), Some(49));
    let quota = esp.allowance().await.expect("read again");
    assert_eq!((quota.used, quota.remaining), (0, 50));
    assert_eq!(esp.last_quota(), Some(quota));
}

#[tokio::test]
async fn searches_stop_while_the_scheduled_work_keeps_its_share_of_the_quota() {
    for (used, allowed) in [(10, true), (16, false), (49, false)] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("{BASE}schedule")))
            .and(query_param("test", "current"))
            .respond_with(with_quota(
                &fixture("schedule_test_current_reconstructed.json"),
                used,
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{BASE}areas_search")))
            .respond_with(with_quota(
                &fixture("areas_search_reconstructed_table_view.json"),
                used + 1,
            ))
            .mount(&server)
            .await;
        let search = ShareOfAllowance::new(Arc::new(client(&server)), 1.0 / 3.0);
        let result = search.search("table view", 5).await;
        let paths: Vec<String> = received(&server)
            .await
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect();
        let searched = paths.iter().any(|p| p.ends_with("areas_search"));
        assert_eq!(searched, allowed, "{used} used: {paths:?}");
        if allowed {
            assert_eq!(result.expect("areas").len(), 3);
            assert_eq!(paths.len(), 2, "one free quota read, one search");
        } else {
            let error = result.expect_err("refused");
            assert_eq!(
                error.error_name(),
                ErrorName::UpstreamQuotaExceeded,
                "{used}"
            );
            assert!(error.to_string().contains("of 50 calls used"), "{error}");
        }
        all_v31_with_the_token(&server).await;
    }
}

/// A stand-in (or a bad moment) where the free quota read fails: the person's search still goes
/// out, once, and its own answer's headers are read; a refused token is still refused.
#[tokio::test]
async fn a_search_goes_ahead_when_the_quota_cannot_be_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}schedule")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}areas_search")))
        .respond_with(with_quota(
            &fixture("areas_search_reconstructed_table_view.json"),
            7,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let esp = Arc::new(client(&server));
    let search = ShareOfAllowance::new(esp.clone(), 1.0 / 3.0);
    let areas = search.search("table view", 5).await.expect("areas");
    assert_eq!(areas.len(), 3);
    assert_eq!(esp.last_quota().map(|q| q.used), Some(7));
    all_v31_with_the_token(&server).await;

    let refused = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&refused)
        .await;
    let search = ShareOfAllowance::new(Arc::new(client(&refused)), 1.0 / 3.0);
    let error = search.search("table view", 5).await.expect_err("refused");
    assert_eq!(error.error_name(), ErrorName::UpstreamUnauthorized);
    let paths: Vec<String> = received(&refused)
        .await
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(
        !paths.iter().any(|p| p.ends_with("areas_search")),
        "{paths:?}"
    );
}

#[test]
fn configuration_needs_a_token_and_never_prints_it() {
    let config = SePushConfig::default();
    assert_eq!(
        config.base_url,
        "https://developer.sepush.co.za/business/3.1/"
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
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(fixture("status_reconstructed_2026-07-09.json")),
        )
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
    let reached = received(&elsewhere).await;
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
        .and(header("token", TOKEN))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(fixture("status_reconstructed_2026-07-09.json")),
        )
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
        .search("table view", 5)
        .await
        .expect_err("too large");
    assert_eq!(error.error_name(), ErrorName::UpstreamMalformed);
    assert!(error.to_string().contains("larger than"), "{error}");
}
