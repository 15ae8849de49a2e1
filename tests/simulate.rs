//! `loadshed simulate`'s scenario as tests: the whole system (workflow, schedules, streams, webhook)
//! through stage changes up and down, schedule revisions, `/refresh`es in the middle of changes,
//! two stage polls at once, Telegram 429s and 5xx, a notify instance crashing mid-broadcast and
//! Telegram slowing to a crawl; every chat must be told each thing once. Virtual time: hours of
//! script take a moment.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::time::Duration;

use loadshed::simulate::{self, SimConfig, Summary};

async fn simulate(chats: usize, areas: usize, seed: u64, hours: u32) -> Summary {
    simulate_paid(chats, areas, seed, hours, 0).await
}

async fn simulate_paid(
    chats: usize,
    areas: usize,
    seed: u64,
    hours: u32,
    paid_rate: u32,
) -> Summary {
    simulate::run(SimConfig {
        chats,
        areas,
        seed,
        hours,
        latency: Duration::from_millis(100),
        paid_rate,
    })
    .await
    .expect("the simulation runs")
}

fn shown(summary: &Summary) -> String {
    serde_json::to_string_pretty(summary).unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn every_chat_is_told_each_change_once_through_crashes_retries_and_races() {
    let summary = simulate(300, 12, 7, 5).await;
    let report = shown(&summary);
    assert!(summary.settled, "{report}");
    assert_eq!(summary.accounting.total.missing, 0, "{report}");
    assert_eq!(summary.accounting.total.duplicates, 0, "{report}");
    assert_eq!(summary.accounting.total.unexpected, 0, "{report}");
    // At 300 chats the free rate keeps up: no reminder waits out its outage, no message is
    // superseded.
    assert_eq!(summary.accounting.total.expired, 0, "{report}");
    assert_eq!(summary.accounting.total.superseded, 0, "{report}");
    assert!(summary.passed());
    // The script really did what it says.
    let script = &summary.script;
    assert!(script.stage_changes_scripted >= 3, "{report}");
    // Every scripted change is stored, and so are announcements, their revisions and
    // cancellations, and Cape Town's own changes.
    assert!(
        script.stage_changes_stored > script.stage_changes_scripted,
        "{report}"
    );
    assert_eq!(script.crashes, 1, "{report}");
    assert!(
        script.refreshes_started > 0 && script.schedule_revisions > 0,
        "{report}"
    );
    assert!(
        summary.rate.rate_limited > 0 && summary.rate.server_errors > 0,
        "{report}"
    );
    let kinds = &summary.accounting.by_kind;
    for kind in ["stage", "schedule", "status", "reminder"] {
        assert!(
            kinds.get(kind).is_some_and(|t| t.expected > 0),
            "{kind}: {report}"
        );
    }
    // Telegram's limits held: 30 a second overall, one a second per chat.
    assert!(summary.rate.max_sends_in_1s <= 30, "{report}");
    assert!(summary.rate.max_to_one_chat_in_1s <= 1, "{report}");
    assert!(summary.dlq.is_empty(), "{report}");
    assert_eq!(
        summary.executions.get("SUCCEEDED").copied(),
        Some(script.refreshes_started),
        "{report}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_tells_the_same_story() {
    let first = simulate(60, 6, 11, 3).await;
    let second = simulate(60, 6, 11, 3).await;
    assert_eq!(first.accounting.total, second.accounting.total);
    assert_eq!(first.script.refreshes_sent, second.script.refreshes_sent);
    assert_eq!(first.rate.telegram_calls, second.rate.telegram_calls);
    let other = simulate(60, 6, 12, 3).await;
    assert!(other.passed(), "{}", shown(&other));
}

#[tokio::test(start_paused = true)]
async fn an_empty_simulation_is_refused() {
    let error = simulate::run(SimConfig {
        chats: 0,
        ..SimConfig::default()
    })
    .await
    .expect_err("no chats");
    assert!(error.to_string().contains("at least one chat"), "{error}");
}

#[test]
fn the_command_prints_the_summary_and_its_exit_status_says_whether_it_passed() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args(["simulate", "--chats", "40", "--areas", "5", "--hours", "3"])
        .output()
        .expect("run loadshed simulate");
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the summary is JSON");
    for field in [
        "expected",
        "delivered",
        "duplicates",
        "missing",
        "lateness_p99_s",
        "rate",
        "dlq",
    ] {
        assert!(summary.get(field).is_some(), "{field} in {summary}");
    }
    let passed =
        summary["duplicates"] == 0 && summary["missing"] == 0 && summary["unexpected"] == 0;
    assert_eq!(output.status.success(), passed, "{summary}");
    assert!(passed, "{summary}");
}

#[tokio::test(start_paused = true)]
async fn with_paid_broadcasts_every_chat_is_told_once_and_sends_beyond_the_free_budget_are_paid() {
    let summary = simulate_paid(2000, 12, 7, 4, 1000).await;
    let report = shown(&summary);
    assert!(summary.passed(), "{report}");
    assert!(summary.settled, "{report}");
    let rate = &summary.rate;
    // Faster than the free rate allows, never past Telegram's paid limit, one a second per chat.
    assert!(rate.max_sends_in_1s > 30, "{report}");
    assert!(rate.max_sends_in_1s <= 1000, "{report}");
    assert!(rate.max_to_one_chat_in_1s <= 1, "{report}");
    assert!(rate.paid > 0, "{report}");
    assert!(rate.paid < rate.telegram_calls, "{report}");
    assert_eq!(rate.stars, rate.paid as f64 / 10.0, "{report}");
}

#[test]
fn the_command_refuses_a_paid_rate_above_telegrams_limit() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_loadshed"))
        .args(["simulate", "--chats", "10", "--paid-broadcast-rate", "1001"])
        .output()
        .expect("run loadshed simulate");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("--paid-broadcast-rate"), "{error}");
}
