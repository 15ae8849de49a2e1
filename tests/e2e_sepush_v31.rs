//! `loadshed refresh` and `loadshed web` against an EskomSePush v3.1 stand-in, as a person with a
//! token runs them: an announced national window, a Cape Town area at Cape Town's own stage, and a
//! load-reduction area. What chat 42 reads and what the calendar feed holds follow each area's
//! forecast; every request goes to the v3.1 base with the `token` header.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use loadshed_core::clock::ZONE;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "t-3f9a";
const BASE: &str = "/business/3.1";

fn local(date: NaiveDate, time: &str) -> String {
    let naive = date
        .and_time(chrono::NaiveTime::parse_from_str(time, "%H:%M").expect("time"))
        .and_local_timezone(ZONE)
        .single()
        .expect("local time");
    naive.to_rfc3339()
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&ZONE).date_naive()
}

fn tomorrow() -> NaiveDate {
    today() + Days::new(1)
}

/// `/area` in the shape both clients read: events, and slots per stage 1..=8 for two days.
fn area_body(name: &str, municipality: &str, events: Value, per_stage: &[&[&str]; 8]) -> Value {
    let days: Vec<Value> = [today(), tomorrow()]
        .iter()
        .map(|date| {
            json!({
                "date": date.to_string(),
                "name": date.format("%A").to_string(),
                "stages": per_stage.iter().map(|slots| json!(slots)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "events": events,
        "info": {"name": name, "municipality": municipality, "province": "Gauteng"},
        "schedule": {"days": days, "source": "stand-in"}
    })
}

fn quota(template: ResponseTemplate) -> ResponseTemplate {
    template
        .insert_header("x-ratelimit-limit", "50")
        .insert_header("x-ratelimit-remaining", "40")
        .insert_header("x-ratelimit-used", "10")
        .insert_header("x-ratelimit-reset", "2026-12-08T00:00:00Z")
}

async fn serve(server: &MockServer, route: &str, params: &[(&str, &str)], body: Value) {
    let mut mock = Mock::given(method("GET"))
        .and(path(format!("{BASE}/{route}")))
        .and(header("token", TOKEN));
    for (key, value) in params {
        mock = mock.and(query_param(*key, *value));
    }
    mock.respond_with(quota(ResponseTemplate::new(200).set_body_json(body)))
        .mount(server)
        .await;
}

/// The stand-in: national stage 0 now, stage 4 tomorrow from 06:00 to 22:00; Cape Town at stage 2.
async fn stand_in() -> MockServer {
    let server = MockServer::start().await;
    serve(
        &server,
        "status",
        &[],
        json!({"status": {
            "eskom": {"name": "National", "stage": "0", "stage_updated": local(today(), "05:00"),
                      "next_stages": [
                          {"stage": "4", "stage_start_timestamp": local(tomorrow(), "06:00")},
                          {"stage": "0", "stage_start_timestamp": local(tomorrow(), "22:00")}]},
            "capetown": {"name": "Cape Town", "stage": "2", "stage_updated": local(today(), "05:00"),
                         "next_stages": []}}}),
    )
    .await;
    let search = |id: &str, name: &str, municipality: &str| {
        json!({"areas": [{"id": id, "name": name, "municipality": municipality,
                          "province": "Somewhere", "schedules": []}]})
    };
    serve(
        &server,
        "areas_search",
        &[("text", "Kameeldrift")],
        search(
            "za_gt_tsh_kameeldrift_9x2k",
            "Kameeldrift (7)",
            "City of Tshwane",
        ),
    )
    .await;
    serve(
        &server,
        "areas_search",
        &[("text", "Bakoven")],
        search("za_wc_cpt_bakoven_4q7d", "Bakoven (3)", "City of Cape Town"),
    )
    .await;
    serve(
        &server,
        "areas_search",
        &[("text", "Daveyton")],
        search("za_gt_eku_daveyton_8w1m", "Daveyton (2)", "Ekurhuleni"),
    )
    .await;
    let stage_four: [&[&str]; 8] = [
        &[],
        &[],
        &[],
        &["04:00-06:30", "12:00-14:30", "20:00-22:30"],
        &[],
        &[],
        &[],
        &[],
    ];
    serve(
        &server,
        "area",
        &[("id", "za_gt_tsh_kameeldrift_9x2k")],
        area_body(
            "Kameeldrift (7)",
            "City of Tshwane",
            json!([
                {"start": local(tomorrow(), "12:00"), "end": local(tomorrow(), "14:30"), "note": "Stage 4"},
                {"start": local(tomorrow(), "20:00"), "end": local(tomorrow(), "22:30"), "note": "Stage 4"}
            ]),
            &stage_four,
        ),
    )
    .await;
    let stage_two: [&[&str]; 8] = [&[], &["10:00-12:30"], &[], &[], &[], &[], &[], &[]];
    serve(
        &server,
        "area",
        &[("id", "za_wc_cpt_bakoven_4q7d")],
        area_body("Bakoven (3)", "City of Cape Town", json!([]), &stage_two),
    )
    .await;
    let none: [&[&str]; 8] = [&[], &[], &[], &[], &[], &[], &[], &[]];
    serve(
        &server,
        "area",
        &[("id", "za_gt_eku_daveyton_8w1m")],
        area_body(
            "Daveyton (2)",
            "Ekurhuleni",
            json!([
                {"start": local(tomorrow(), "17:00"), "end": local(tomorrow(), "19:00"), "note": "Load Reduction"}
            ]),
            &none,
        ),
    )
    .await;
    server
}

/// Runs `loadshed refresh` for `name`; returns the text of the last message to chat 42.
async fn refresh(server: &MockServer, state: &Path, name: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args(["refresh", "--state"])
        .arg(state)
        .args([
            "--subscribe",
            name,
            "--chat",
            "42",
            "--input",
            r#"{"chat_id": 42}"#,
        ])
        .env("ESKOMSEPUSH_TOKEN", TOKEN)
        .env("ESKOMSEPUSH_BASE_URL", format!("{}{BASE}/", server.uri()))
        .env_remove("TELEGRAM_BOT_TOKEN")
        .output()
        .await
        .expect("run loadshed refresh");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "loadshed refresh {name} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut messages: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if line.contains("✉ to chat ") {
            if let Some(done) = current.take() {
                messages.push(done);
            }
            if line.contains("✉ to chat 42 ") {
                current = Some(String::new());
            }
        } else if let Some(text) = line.trim_start().strip_prefix("│ ")
            && let Some(message) = current.as_mut()
        {
            message.push_str(text);
            message.push('\n');
        } else if line.trim_start() == "│"
            && let Some(message) = current.as_mut()
        {
            message.push('\n');
        }
    }
    messages.extend(current);
    messages
        .pop()
        .unwrap_or_else(|| panic!("no message to chat 42 in:\n{stdout}"))
}

/// The lines of `message` from the one that starts with `name` to the next blank line.
fn part_of<'a>(message: &'a str, name: &str) -> Vec<&'a str> {
    message
        .lines()
        .skip_while(|line| !line.starts_with(name))
        .take_while(|line| !line.trim().is_empty())
        .collect()
}

async fn feed(state: &Path, area_id: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args(["web", "--state"])
        .arg(state)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start loadshed web");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("Serving the web pages on ") {
                return rest.split_whitespace().next().map(str::to_owned);
            }
        }
        None
    })
    .await
    .expect("loadshed web printed its address")
    .expect("an address");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let url = format!(
        "{}/areas/{}.ics",
        base.trim_end_matches('/'),
        area_id.replace(':', "%3A")
    );
    let body = reqwest::get(&url)
        .await
        .expect("GET the feed")
        .text()
        .await
        .expect("feed body");
    let _ = child.start_kill();
    body
}

/// The feed's events as (start in local time, summary).
fn events(feed: &str) -> Vec<(String, String)> {
    let unfolded = feed.replace("\r\n ", "");
    let mut events = Vec::new();
    let mut start = None;
    for line in unfolded.lines() {
        if let Some(value) = line.strip_prefix("DTSTART:") {
            let utc = DateTime::parse_from_str(&format!("{value} +0000"), "%Y%m%dT%H%M%SZ %z")
                .expect("UTC time");
            start = Some(
                utc.with_timezone(&ZONE)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            );
        }
        if let Some(summary) = line.strip_prefix("SUMMARY:")
            && let Some(at) = start.take()
        {
            events.push((at, summary.to_owned()));
        }
    }
    events
}

#[tokio::test]
async fn each_situation_is_told_and_fed_by_the_forecast_through_v3_1() {
    let server = stand_in().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    let day = tomorrow().format("%a").to_string();
    let when = |time: &str| format!("{} {time}", tomorrow());

    // An announced national window: stage 4 tomorrow 06:00 to 22:00; EskomSePush's events speak.
    let message = refresh(&server, &state, "Kameeldrift").await;
    assert!(
        message.contains(&format!(
            "No loadshedding now. Stage 4 from {day} 06:00 to 22:00."
        )),
        "{message}"
    );
    let part = part_of(&message, "Kameeldrift (7)").join("\n");
    assert!(part.contains("• 12:00–14:30 Stage 4"), "{message}");
    assert!(part.contains("• 20:00–22:30 Stage 4"), "{message}");
    assert!(!part.contains("04:00"), "before the window: {message}");

    // A Cape Town area at the City's stage 2, not the national 0.
    let message = refresh(&server, &state, "Bakoven").await;
    assert!(
        message.contains("City of Cape Town: Stage 2 now"),
        "{message}"
    );
    let part = part_of(&message, "Bakoven (3)").join("\n");
    assert!(
        part.contains("• 10:00–12:30 Stage 2 (Cape Town)"),
        "{message}"
    );

    // Load reduction, named as such.
    let message = refresh(&server, &state, "Daveyton").await;
    let part = part_of(&message, "Daveyton (2)").join("\n");
    assert!(part.contains("• 17:00–19:00 Load reduction"), "{message}");

    // The calendar feeds: tomorrow's outages at the forecast's times, their causes in the summary.
    let kameeldrift = events(&feed(&state, "esp:za_gt_tsh_kameeldrift_9x2k").await);
    assert!(
        kameeldrift.contains(&(
            when("12:00"),
            "Loadshedding Stage 4: Kameeldrift (7)".into()
        )),
        "{kameeldrift:?}"
    );
    assert!(
        kameeldrift.contains(&(
            when("20:00"),
            "Loadshedding Stage 4: Kameeldrift (7)".into()
        )),
        "{kameeldrift:?}"
    );
    let daveyton = events(&feed(&state, "esp:za_gt_eku_daveyton_8w1m").await);
    assert_eq!(
        daveyton,
        [(when("17:00"), "Load reduction: Daveyton (2)".to_owned())]
    );
    let bakoven = events(&feed(&state, "esp:za_wc_cpt_bakoven_4q7d").await);
    assert!(
        bakoven.contains(&(
            when("10:00"),
            "Loadshedding Stage 2 (Cape Town): Bakoven (3)".into()
        )),
        "{bakoven:?}"
    );

    // Every request went to the v3.1 base with the token (the mocks match only those), and nothing
    // asked for /api_allowance.
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(!requests.is_empty());
    for request in &requests {
        assert!(
            request.url.path().starts_with(&format!("{BASE}/")),
            "{}",
            request.url
        );
        assert_eq!(
            request.headers.get("token").and_then(|v| v.to_str().ok()),
            Some(TOKEN)
        );
        assert!(!request.url.path().contains("api_allowance"));
    }
}
