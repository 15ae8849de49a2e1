//! The site against an in-memory store and a manual clock: every status, the caching headers, and
//! what the pages and feeds say.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use http::{Method, Request, StatusCode, header};

use super::{WebSettings, WebSite};
use crate::adapters::memory_store::MemoryStore;
use crate::clock::{Clock, ManualClock};
use crate::domain::{Area, AreaId, ChatId, Schedule, Slot, Stage};
use crate::errors::StoreError;
use crate::ports::{ScheduleStore, StageStore, StageWrite, StoredStage, SubscriptionStore};

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
}

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
}

fn schedule(area: &Area, n: u8, day1: &[&str]) -> Schedule {
    let slot = |d, t| Slot::parse_on(date(d), t).expect("slot");
    Schedule::from_days(
        area.id.clone(),
        stage(n),
        [
            (date(1), day1.iter().map(|t| slot(1, t)).collect()),
            (date(2), vec![slot(2, "16:00 - 18:30")]),
            (date(3), vec![]),
        ],
    )
}

struct Fixture {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    site: WebSite,
}

/// Bertiburg followed at stage 4 with a schedule, at 09:00 on 1 December.
async fn fixture() -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 9, 0).expect("time"));
    let area = bertiburg();
    store
        .subscribe(ChatId(1), &area, clock.now())
        .await
        .expect("subscribe");
    put_stage(&store, 4, clock.now()).await;
    store
        .put_schedule(
            &schedule(&area, 4, &["08:00 - 10:30", "22:00 - 00:30"]),
            clock.now(),
        )
        .await
        .expect("schedule");
    let site = WebSite::new(
        WebSettings {
            bot_username: Some("@loadshed_bot".into()),
            https: true,
        },
        store.clone(),
        clock.clone(),
    );
    Fixture { store, clock, site }
}

async fn put_stage(store: &MemoryStore, n: u8, at: DateTime<Utc>) {
    let expected = store
        .current_stage()
        .await
        .expect("read")
        .map(|s| s.version);
    match store
        .put_stage(
            &crate::domain::Timelines::national_only(stage(n)),
            None,
            at,
            expected,
        )
        .await
        .expect("write")
    {
        StageWrite::Written(_) => {}
        StageWrite::Conflict => panic!("stage write conflicted"),
    }
}

fn get(path: &str) -> Request<()> {
    request(Method::GET, path)
}

fn request(method: Method, path: &str) -> Request<()> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "abc.lambda-url.af-south-1.on.aws")
        .body(())
        .expect("request")
}

fn header_of(response: &http::Response<String>, name: header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_front_page_names_the_stage_and_links_each_followed_area() {
    let f = fixture().await;
    let other = Area::sepush(
        "eskde-10-fourways",
        "Fourways <ext 10> & \"more\"",
        "Eskom Direct",
    );
    f.store
        .subscribe(ChatId(2), &other, f.clock.now())
        .await
        .expect("subscribe");
    let response = f.site.serve(&get("/")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL),
        "public, max-age=60"
    );
    let body = response.body();
    assert!(
        body.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{body}"
    );
    assert!(body.contains("Loadshedding Stage 4"), "{body}");
    assert!(
        body.contains("href=\"/areas/eskom:64106\">Bertiburg</a>"),
        "{body}"
    );
    assert!(
        body.contains("href=\"/areas/esp:eskde-10-fourways\">"),
        "{body}"
    );
    // Upstream text is escaped, never markup.
    assert!(
        body.contains("Fourways &lt;ext 10&gt; &amp; &quot;more&quot;"),
        "{body}"
    );
    assert!(!body.contains("<ext 10>"));
    assert!(!body.contains("<script"));
    // The stage change time, in South African time.
    assert!(
        body.contains("datetime=\"2026-12-01T09:00:00+02:00\""),
        "{body}"
    );
}

#[tokio::test]
async fn an_area_page_lists_the_stored_slots_and_what_comes_next() {
    let f = fixture().await;
    let response = f.site.serve(&get("/areas/eskom:64106")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.body();
    assert!(body.contains("<h1>Bertiburg</h1>"), "{body}");
    assert!(body.contains("Loadshedding Stage 4"));
    assert!(
        body.contains("Power is off now (Stage 4): back at 10:30 (in 1 h 30 min)."),
        "{body}"
    );
    assert!(body.contains("Today, Tuesday 1 December"));
    assert!(body.contains("Tomorrow, Wednesday 2 December"));
    // Every slot of the stored schedule, under each day it touches.
    for slot in [
        "2026-12-01T08:00:00+02:00",
        "2026-12-01T22:00:00+02:00",
        "2026-12-02T16:00:00+02:00",
    ] {
        assert!(
            body.contains(&format!("data-start=\"{slot}\"")),
            "{slot}: {body}"
        );
    }
    assert_eq!(
        body.matches("data-start=\"2026-12-01T22:00:00+02:00\"")
            .count(),
        2
    );
    assert!(body.contains("on now"));
    assert!(body.contains("No loadshedding."), "3 December is free");
    assert!(
        body.contains("Not published yet."),
        "4 December is not covered"
    );
    assert!(
        body.contains("href=\"webcal://abc.lambda-url.af-south-1.on.aws/areas/eskom:64106.ics\"")
    );
    assert!(
        body.contains("href=\"https://abc.lambda-url.af-south-1.on.aws/areas/eskom:64106.ics\"")
    );
    assert!(body.contains("href=\"https://t.me/loadshed_bot\""));

    // Later that morning the next slot is the one at 22:00.
    f.clock.advance(Duration::hours(2));
    let body = f.site.serve(&get("/areas/eskom%3A64106")).await.into_body();
    assert!(
        body.contains("Next outage today: 22:00–Wed 00:30 (Stage 4), starts in 11 h."),
        "{body}"
    );
    assert!(body.contains("(over)"));
}

#[tokio::test]
async fn stage_zero_and_an_unknown_stage_say_so() {
    let f = fixture().await;
    put_stage(&f.store, 0, f.clock.now()).await;
    let body = f.site.serve(&get("/areas/eskom:64106")).await.into_body();
    assert!(
        body.contains("No outages ahead in the days shown."),
        "{body}"
    );
    assert!(!body.contains("data-start"));
    let empty = WebSite::new(
        WebSettings::default(),
        Arc::new(MemoryStore::new()),
        f.clock.clone(),
    );
    let body = empty.serve(&get("/")).await.into_body();
    assert!(body.contains("Stage not known yet"));
    assert!(body.contains("No area is followed yet."));
}

#[tokio::test]
async fn bad_requests_are_4xx_pages() {
    let f = fixture().await;
    let cases = [
        ("/areas/no-such-area", StatusCode::NOT_FOUND),
        ("/areas/no-such-area.ics", StatusCode::NOT_FOUND),
        ("/nothing/here", StatusCode::NOT_FOUND),
        ("/areas/%3Cscript%3E", StatusCode::BAD_REQUEST),
        ("/areas/%FF", StatusCode::BAD_REQUEST),
        ("/?q=x&&&=%%", StatusCode::OK),
    ];
    for (path, status) in cases {
        let response = f.site.serve(&get(path)).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
    }
    let long = format!("/{}", "a".repeat(10_000));
    let response = f.site.serve(&get(&long)).await;
    assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
    assert!(
        !response.body().contains("aaaa"),
        "the target is not echoed"
    );
    let not_found = f.site.serve(&get("/areas/no-such-area")).await;
    assert!(not_found.body().contains("Area not found"));
    assert!(!not_found.body().contains("no-such-area"));
    assert_eq!(header_of(&not_found, header::CACHE_CONTROL), "no-store");

    for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        let response = f.site.serve(&request(method.clone(), "/")).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(header_of(&response, header::ALLOW), "GET, HEAD");
    }
}

#[tokio::test]
async fn head_has_the_headers_without_the_body() {
    let f = fixture().await;
    let get = f.site.serve(&get("/areas/eskom:64106")).await;
    let head = f
        .site
        .serve(&request(Method::HEAD, "/areas/eskom:64106"))
        .await;
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.body().is_empty());
    assert_eq!(
        head.headers().get(header::ETAG),
        get.headers().get(header::ETAG)
    );
}

#[tokio::test]
async fn etags_follow_the_stored_versions_and_answer_304() {
    let f = fixture().await;
    let first = f.site.serve(&get("/areas/eskom:64106.ics")).await;
    let etag = header_of(&first, header::ETAG);
    assert!(etag.starts_with("\"s1-"), "{etag}");
    let again = f.site.serve(&get("/areas/eskom:64106.ics")).await;
    assert_eq!(header_of(&again, header::ETAG), etag, "nothing changed");
    assert_eq!(again.body(), first.body(), "byte-identical between changes");

    let conditional = |tags: &str| {
        Request::builder()
            .uri("/areas/eskom:64106.ics")
            .header(header::HOST, "abc.lambda-url.af-south-1.on.aws")
            .header(header::IF_NONE_MATCH, tags)
            .body(())
            .expect("request")
    };
    let cached = f
        .site
        .serve(&conditional(&format!("\"x\", W/{etag}")))
        .await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert!(cached.body().is_empty());
    assert_eq!(header_of(&cached, header::ETAG), etag);
    assert_eq!(
        header_of(&cached, header::CACHE_CONTROL),
        "public, max-age=900"
    );
    let stale = f.site.serve(&conditional("\"s0-other\"")).await;
    assert_eq!(stale.status(), StatusCode::OK);

    // A stage change changes the feed and its ETag, and the old ETag no longer matches.
    put_stage(&f.store, 6, f.clock.now()).await;
    let area = bertiburg();
    f.store
        .put_schedule(&schedule(&area, 6, &["08:00 - 12:30"]), f.clock.now())
        .await
        .expect("schedule");
    let changed = f.site.serve(&conditional(&etag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(header_of(&changed, header::ETAG), etag);
    assert!(
        changed
            .body()
            .contains("SUMMARY:Loadshedding Stage 6: Bertiburg")
    );
    assert!(!changed.body().contains("Stage 4"));
}

#[tokio::test]
async fn the_feed_has_one_event_per_upcoming_slot_with_stable_uids() {
    let f = fixture().await;
    // 10:45: the 08:00 slot is over and left out.
    f.clock.advance(Duration::minutes(105));
    let response = f.site.serve(&get("/areas/eskom:64106.ics")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "text/calendar; charset=utf-8"
    );
    let ics = response.body();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    for line in [
        "VERSION:2.0",
        "PRODID:-//loadshed//area feed//EN",
        "X-WR-CALNAME:Loadshedding: Bertiburg",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "DTSTART:20261201T200000Z",
        "DTEND:20261201T223000Z",
        "DTSTART:20261202T140000Z",
        "DTEND:20261202T163000Z",
        "UID:20261201T200000Z-eskom:64106@loadshed",
        "DTSTAMP:20261201T070000Z",
        "URL:https://abc.lambda-url.af-south-1.on.aws/areas/eskom:64106",
    ] {
        assert!(ics.contains(&format!("\r\n{line}\r\n")), "{line}: {ics}");
    }
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);

    // A new stage that keeps the 22:00 start moves only its end: same UID, new DTEND.
    put_stage(&f.store, 6, f.clock.now()).await;
    f.store
        .put_schedule(
            &schedule(&bertiburg(), 6, &["22:00 - 02:30"]),
            f.clock.now(),
        )
        .await
        .expect("schedule");
    let ics = f
        .site
        .serve(&get("/areas/eskom:64106.ics"))
        .await
        .into_body();
    assert!(
        ics.contains("UID:20261201T200000Z-eskom:64106@loadshed\r\n"),
        "{ics}"
    );
    assert!(ics.contains("DTEND:20261202T003000Z\r\n"), "{ics}");
}

/// A store that cannot be reached.
struct Unreachable;

fn down<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable("connection refused".into()))
}

#[async_trait]
impl StageStore for Unreachable {
    async fn current_stage(&self) -> Result<Option<StoredStage>, StoreError> {
        down()
    }
    async fn put_stage(
        &self,
        _: &crate::domain::Timelines,
        _: Option<&crate::domain::Timelines>,
        _: DateTime<Utc>,
        _: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        down()
    }
    async fn stage_refresh(&self) -> Result<Option<crate::ports::StageRefresh>, StoreError> {
        down()
    }
    async fn put_stage_refresh(&self, _: &crate::ports::StageRefresh) -> Result<bool, StoreError> {
        down()
    }
}

#[async_trait]
impl ScheduleStore for Unreachable {
    async fn schedule(&self, _: &AreaId, _: Stage) -> Result<Option<Schedule>, StoreError> {
        down()
    }
    async fn put_schedule(&self, _: &Schedule, _: DateTime<Utc>) -> Result<bool, StoreError> {
        down()
    }
}

#[async_trait]
impl SubscriptionStore for Unreachable {
    async fn subscribe(&self, _: ChatId, _: &Area, _: DateTime<Utc>) -> Result<bool, StoreError> {
        down()
    }
    async fn unsubscribe(&self, _: ChatId, _: &AreaId) -> Result<bool, StoreError> {
        down()
    }
    async fn areas_of(&self, _: ChatId) -> Result<Vec<Area>, StoreError> {
        down()
    }
    async fn subscribers_of(&self, _: &AreaId) -> Result<Vec<ChatId>, StoreError> {
        down()
    }
    async fn subscribed_areas(&self) -> Result<Vec<Area>, StoreError> {
        down()
    }
    async fn remove_chat(&self, _: ChatId) -> Result<usize, StoreError> {
        down()
    }
    async fn move_chat(&self, _: ChatId, _: ChatId, _: DateTime<Utc>) -> Result<usize, StoreError> {
        down()
    }
}

#[async_trait]
impl crate::ports::ChannelStore for Unreachable {
    async fn link_channel(
        &self,
        _: &crate::domain::ChannelLink,
        _: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        down()
    }
    async fn unlink_channel(&self, _: ChatId, _: &AreaId) -> Result<bool, StoreError> {
        down()
    }
    async fn channels_of(&self, _: &AreaId) -> Result<Vec<crate::domain::ChannelLink>, StoreError> {
        down()
    }
}

#[tokio::test]
async fn an_unreadable_store_is_a_503_that_says_to_try_again() {
    let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 9, 0).expect("time"));
    let site = WebSite::new(WebSettings::default(), Arc::new(Unreachable), clock);
    for path in ["/", "/areas/eskom:64106", "/areas/eskom:64106.ics"] {
        let response = site.serve(&get(path)).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(header_of(&response, header::RETRY_AFTER), "30");
        assert!(response.body().contains("Try again in a minute"));
    }
    // Bad input is still refused before the store is asked.
    let response = site.serve(&get("/areas/%FF")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
