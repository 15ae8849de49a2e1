//! `loadshed web` end to end, as a person and a calendar app meet it:
//!
//! - in headless Chromium (Debian's `chromium`, driven by `playwright-core`: tests/web/browse.mjs),
//!   the front page, a click on an area, and the slots shown checked against the store; a screenshot,
//!   and axe-core's accessibility rules on both pages;
//! - each calendar feed read by Python's `icalendar` (tests/web/check_ics.py), every event's times
//!   checked against the store and against Africa/Johannesburg;
//! - what `loadshed web --offline` answers to good and bad requests.
//!
//! `make test` installs Chromium (apt), the npm packages and the .venv these need; without them the
//! tests fail and say which is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{Days, SecondsFormat, Utc};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::ZONE;
use loadshed_core::domain::{Area, Schedule, Slot};
use loadshed_core::ports::{ScheduleStore, StageStore, StoredStage, SubscriptionStore};
use loadshed_core::site::{area_path, feed_path};
use loadshed_core::web::view::DAYS_SHOWN;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const PATIENCE: Duration = Duration::from_secs(60);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_python() -> PathBuf {
    let python = repo().join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: `make tools` (run by `make test`) creates it",
        python.display()
    );
    python
}

/// `loadshed web ARGS --port 0`, until it prints its address.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_loadshed"))
            .arg("web")
            .args(args)
            .args(["--port", "0"])
            .env("BOT_USERNAME", "loadshed_demo_bot")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start loadshed web");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(rest) = line.strip_prefix("Serving the web pages on ") {
                    return rest.split_whitespace().next().map(str::to_owned);
                }
            }
            None
        })
        .await
        .expect("loadshed web printed its address within 60 s")
        .expect("loadshed web printed its address before it exited");
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Server {
            child,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// `loadshed refresh --offline --state FILE`: the demo store, as a file both the server and the
/// test read.
fn demo_state(dir: &Path) -> PathBuf {
    let state = dir.join("state.json");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args(["refresh", "--offline", "--state"])
        .arg(&state)
        .output()
        .expect("run loadshed refresh");
    assert!(
        output.status.success(),
        "loadshed refresh --offline failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    state
}

struct Stored {
    areas: Vec<Area>,
    stage: StoredStage,
    schedules: Vec<Option<Schedule>>,
}

async fn stored(state: &Path) -> Stored {
    let store = MemoryStore::load(state).await.expect("load the state");
    let areas = store.subscribed_areas().await.expect("areas");
    let stage = store
        .current_stage()
        .await
        .expect("stage")
        .expect("the demo stores a stage");
    let mut schedules = Vec::new();
    for area in &areas {
        schedules.push(
            store
                .schedule(&area.id, stage.stage)
                .await
                .expect("schedule"),
        );
    }
    Stored {
        areas,
        stage,
        schedules,
    }
}

fn rfc3339<Tz: chrono::TimeZone>(at: chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The slots an area page lists, day by day, as the store has them.
fn expected_days(schedule: &Schedule) -> Vec<Vec<(String, String)>> {
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    (0..u64::from(DAYS_SHOWN))
        .map(|n| today.checked_add_days(Days::new(n)).expect("date"))
        .map(|date| {
            schedule
                .day(date)
                .map(|day| {
                    day.slots
                        .iter()
                        .map(|s| (rfc3339(s.start), rfc3339(s.end)))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

fn upcoming_json(schedule: &Schedule) -> Value {
    let now = Utc::now();
    let slots: Vec<&Slot> = schedule.slots().iter().filter(|s| s.end > now).collect();
    Value::Array(
        slots
            .iter()
            .map(|s| serde_json::json!({"start": rfc3339(s.start), "end": rfc3339(s.end)}))
            .collect(),
    )
}

/// Reads `feed` with Python's icalendar; `expected` (the store's upcoming slots) must match exactly.
async fn check_feed(dir: &Path, name: &str, feed: &str, expected: Option<&Value>) -> Value {
    let feed_file = dir.join(format!("{name}.ics"));
    std::fs::write(&feed_file, feed).expect("write the feed");
    let mut command = Command::new(venv_python());
    command
        .arg(repo().join("tests/web/check_ics.py"))
        .arg(&feed_file);
    if let Some(expected) = expected {
        let expected_file = dir.join(format!("{name}.expected.json"));
        std::fs::write(&expected_file, expected.to_string()).expect("write the expected slots");
        command.arg(&expected_file);
    }
    let output = command.output().await.expect("run check_ics.py");
    assert!(
        output.status.success(),
        "icalendar does not accept the feed {name}: {}\n{feed}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("check_ics.py prints JSON")
}

#[tokio::test]
async fn in_chromium_the_front_page_leads_to_the_slots_the_store_holds() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `make test` installs Debian's chromium"
    );
    let script = repo().join("tests/web/browse.mjs");
    assert!(
        repo().join("node_modules/playwright-core").exists(),
        "node_modules/playwright-core is missing: `make test` runs npm ci"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let state = demo_state(dir.path());
    let stored = stored(&state).await;
    assert!(!stored.areas.is_empty(), "the demo follows an area");
    let server = Server::start(&["--state", state.to_str().expect("path")]).await;

    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-area-page.png");
    let _ = std::fs::remove_file(&screenshot);
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        Command::new("node")
            .arg(&script)
            .arg(server.url("/"))
            .arg(&screenshot)
            .output(),
    )
    .await
    .expect("the browser finished within 2 minutes")
    .expect("run node");
    assert!(
        output.status.success(),
        "browse.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("browse.mjs prints JSON");
    let home = &seen["home"];
    let area_page = &seen["area"];

    // The front page: the stage and a link per followed area, named as stored.
    assert_eq!(home["status"], 200);
    assert_eq!(home["lang"], "en");
    assert_eq!(
        home["stage"],
        format!("Loadshedding {}", stored.stage.stage)
    );
    let links: Vec<(String, String)> = home["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| {
            (
                l["href"].as_str().expect("href").to_owned(),
                l["text"].as_str().expect("text").to_owned(),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> = stored
        .areas
        .iter()
        .map(|a| (area_path(&a.id), a.name.clone()))
        .collect();
    want.sort_by_key(|(_, name)| name.to_lowercase());
    assert_eq!(links, want);

    // The click landed on the first area's page, which lists the stored slots day by day.
    let index = stored
        .areas
        .iter()
        .position(|a| area_path(&a.id) == links[0].0)
        .expect("the link is a stored area");
    let (area, schedule) = (&stored.areas[index], stored.schedules[index].as_ref());
    let schedule = schedule.expect("the demo refresh stored the area's schedule");
    assert_eq!(area_page["url"], server.url(&area_path(&area.id)));
    assert_eq!(area_page["h1"], area.name.as_str());
    assert_eq!(
        area_page["stage"],
        format!("Loadshedding {}", stored.stage.stage)
    );
    let shown: Vec<Vec<(String, String)>> = area_page["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|day| {
            day["slots"]
                .as_array()
                .expect("slots")
                .iter()
                .map(|s| {
                    assert_eq!(s["visible"], true, "{s}");
                    (
                        s["start"].as_str().expect("start").to_owned(),
                        s["end"].as_str().expect("end").to_owned(),
                    )
                })
                .collect()
        })
        .collect();
    let expected = expected_days(schedule);
    assert!(expected.iter().any(|d| !d.is_empty()), "the demo has slots");
    assert_eq!(shown, expected, "slots shown vs the store, day by day");
    // What a person reads is the same time as the machine-readable one, in South African time.
    for day in area_page["days"].as_array().expect("days") {
        for slot in day["slots"].as_array().expect("slots") {
            let start =
                chrono::DateTime::parse_from_rfc3339(slot["start"].as_str().expect("start"))
                    .expect("start")
                    .with_timezone(&ZONE);
            let shown = slot["shownStart"].as_str().expect("shown");
            assert!(
                shown.ends_with(&start.format("%H:%M").to_string()),
                "{slot}"
            );
        }
    }
    assert_eq!(area_page["feed"], server.url(&feed_path(&area.id)));
    assert_eq!(
        area_page["webcal"],
        server
            .url(&feed_path(&area.id))
            .replacen("http://", "webcal://", 1)
    );
    // Readable on a phone: nothing wider than its screen.
    assert!(
        area_page["scrollWidth"].as_i64().is_some_and(|w| w <= 390),
        "{}",
        area_page["scrollWidth"]
    );

    // No script needed, and axe-core finds nothing on either page (contrast, lang, headings, ...).
    for (name, page) in [("front page", home), ("area page", area_page)] {
        let check = &page["accessibility"];
        assert_eq!(check["scripts"], 0, "{name} has scripts");
        assert_eq!(check["violations"], serde_json::json!([]), "{name}");
        for rule in ["color-contrast", "html-has-lang", "page-has-heading-one"] {
            assert!(
                check["passes"]
                    .as_array()
                    .expect("passes")
                    .iter()
                    .any(|p| p == rule),
                "{name}: axe did not check {rule}"
            );
        }
    }

    let png = std::fs::read(&screenshot).expect("the screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    println!("screenshot: {}", screenshot.display());

    // Each area's feed, read by an independent parser, holds exactly the store's upcoming slots.
    let client = reqwest::Client::new();
    for (area, schedule) in stored.areas.iter().zip(&stored.schedules) {
        let response = client
            .get(server.url(&feed_path(&area.id)))
            .send()
            .await
            .expect("feed");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/calendar; charset=utf-8"
        );
        let feed = response.text().await.expect("feed text");
        let expected = schedule
            .as_ref()
            .map(upcoming_json)
            .unwrap_or(Value::Array(vec![]));
        let summary = check_feed(
            dir.path(),
            &area.id.as_str().replace(':', "_"),
            &feed,
            Some(&expected),
        )
        .await;
        assert_eq!(summary["name"], format!("Loadshedding: {}", area.name));
    }
}

#[tokio::test]
async fn the_offline_site_answers_pages_feeds_and_bad_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&["--offline"]).await;
    let client = reqwest::Client::new();

    let home = client.get(server.url("/")).send().await.expect("GET /");
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["content-type"], "text/html; charset=utf-8");
    let body = home.text().await.expect("body");
    let link = body
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/areas/"))
        .expect("the front page links an area page")
        .to_owned();

    let page = client
        .get(server.url(&link))
        .send()
        .await
        .expect("area page");
    assert_eq!(page.status(), 200);
    let body = page.text().await.expect("body");
    assert!(
        body.contains("Loadshedding Stage"),
        "the page names the stage: {body}"
    );

    let feed_link = format!("{link}.ics");
    assert!(
        body.contains(&format!("href=\"{}\"", server.url(&feed_link))),
        "{body}"
    );
    let feed = client
        .get(server.url(&feed_link))
        .send()
        .await
        .expect("feed");
    assert_eq!(feed.status(), 200);
    let etag = feed.headers()["etag"].clone();
    let feed = feed.text().await.expect("feed text");
    // Revalidation: the feed changes only with the store or when a slot ends, so its ETag gets a
    // 304 without a body.
    let again = client
        .get(server.url(&feed_link))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(again.status(), 304);
    assert!(again.text().await.expect("body").is_empty());
    let summary = check_feed(dir.path(), "offline", &feed, None).await;
    let events = summary["events"].as_array().expect("events");
    assert!(!events.is_empty(), "at least one upcoming outage: {feed}");
    for event in events {
        // Read back in South African time, every event is +02:00 (the zone has no DST).
        for key in ["local_start", "local_end"] {
            assert!(
                event[key].as_str().expect(key).ends_with("+02:00"),
                "{event}"
            );
        }
    }

    for (path, status) in [
        ("/areas/no-such-area".to_owned(), 404),
        ("/areas/no-such-area.ics".to_owned(), 404),
        ("/areas/%3Cb%3E".to_owned(), 400),
        (format!("/{}", "a".repeat(10_000)), 414),
        (format!("/areas/{}", "a".repeat(10_000)), 414),
        ("/?utm_source=x&%%%".to_owned(), 200),
    ] {
        let response = client.get(server.url(&path)).send().await.expect("request");
        assert_eq!(
            response.status().as_u16(),
            status,
            "{}",
            &path[..path.len().min(40)]
        );
    }
    let post = client
        .post(server.url("/"))
        .body("x")
        .send()
        .await
        .expect("POST");
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
}
