//! Message texts: escaping, length, time-zone edges and the wording of slots and days.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{
    Area, Basis, Cause, Forecast, Foresight, Horizon, Outage, Rota, Schedule, Slot, Stage,
    StageChange, Timeline, Timelines,
};
use loadshed_core::notify::html::{MESSAGE_LIMIT, utf16_len};
use loadshed_core::notify::render::{self, AreaOutlook};
use loadshed_core::ports::{Message, StoredStage, TextFormat};

const TRICKY_NAME: &str = r#"<b>&"Tricky_*[]()~`>#+-=|{}.!\ Park"#;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn slot(on: NaiveDate, text: &str) -> Slot {
    Slot::parse_on(on, text).expect("valid slot")
}

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("valid stage")
}

fn at_local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    ManualClock::at_local(y, m, d, h, min)
        .expect("valid local time")
        .now()
}

fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
}

/// The national stage of the moment, as Eskom's site gives it (nothing announced).
fn stored(n: u8, at: DateTime<Utc>) -> StoredStage {
    StoredStage::next(&Timelines::national_only(stage(n)), None, at, None)
}

fn stored_timelines(timelines: &Timelines, at: DateTime<Utc>) -> StoredStage {
    StoredStage::next(timelines, None, at, None)
}

/// `area`'s forecast under the stored timelines with `schedules`, today and tomorrow from `now`.
fn forecast(
    area: &Area,
    stored: Option<&StoredStage>,
    schedules: &[&Schedule],
    now: DateTime<Utc>,
) -> Forecast {
    let timelines = stored.map_or_else(
        || Timelines::national_only(Stage::NONE),
        StoredStage::timelines,
    );
    let rota: Rota = schedules
        .iter()
        .map(|s| (s.stage, *s))
        .collect::<BTreeMap<_, _>>();
    Forecast::build(area, &timelines, &rota, now, Horizon::ahead(now))
}

fn local(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    at_local(
        chrono::Datelike::year(&day),
        chrono::Datelike::month(&day),
        chrono::Datelike::day(&day),
        hour,
        minute,
    )
}

fn text_of(messages: &[Message]) -> String {
    assert_eq!(messages.len(), 1, "expected one message, got {messages:#?}");
    assert_eq!(messages[0].format, TextFormat::Html);
    assert_valid_telegram_html(&messages[0].text);
    messages[0].text.clone()
}

/// Only tags Telegram knows, balanced, and only the four entities it names: what its parser accepts.
fn assert_valid_telegram_html(text: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['<', '&', '>']) {
        let tail = &rest[i..];
        if tail.starts_with('>') {
            panic!("bare '>' in {text:?}");
        }
        if let Some(after) = tail.strip_prefix('&') {
            assert!(
                ["lt;", "gt;", "amp;", "quot;"]
                    .iter()
                    .any(|e| after.starts_with(e)),
                "unknown entity at {tail:?}"
            );
            rest = after;
            continue;
        }
        let end = tail
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag at {tail:?}"));
        let tag = &tail[1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                open.pop().as_deref(),
                Some(name),
                "misnested </{name}> in {text:?}"
            );
        } else {
            assert!(
                ["b", "i", "u", "s"].contains(&tag),
                "unexpected tag <{tag}> in {text:?}"
            );
            open.push(tag.to_owned());
        }
        rest = &tail[end + 1..];
    }
    assert!(open.is_empty(), "unclosed {open:?} in {text:?}");
}

#[test]
fn a_tricky_area_name_is_escaped_and_the_markup_stays_valid() {
    let area = Area::sepush("tricky_1", TRICKY_NAME, "Senqu & Co <Eastern Cape>");
    let today = date(2026, 11, 28);
    let schedule = Schedule::from_days(
        area.id.clone(),
        stage(2),
        [
            (today, vec![slot(today, "08:00 - 10:30")]),
            (date(2026, 11, 29), vec![]),
        ],
    );
    let now = at_local(2026, 11, 28, 7, 0);
    let stored = stored(2, now);
    let forecast = forecast(&area, Some(&stored), &[&schedule], now);
    let outlook = [AreaOutlook {
        area: &area,
        forecast: &forecast,
    }];
    for text in [
        text_of(&render::status(Some(&stored), &outlook, now)),
        text_of(&render::stage_change(
            &stored.timelines(),
            None,
            &outlook,
            now,
        )),
        text_of(&render::schedule_change(&area, &forecast, now)),
        {
            let reminder = render::reminder(&area, &forecast.outages[0], now);
            assert_valid_telegram_html(&reminder.text);
            reminder.text
        },
        {
            let parts = render::resubscribe(&area);
            text_of(&parts)
        },
    ] {
        assert!(
            text.contains(r#"&lt;b&gt;&amp;&quot;Tricky_*[]()~`&gt;#+-=|{}.!\ Park"#),
            "{text}"
        );
        assert!(!text.contains(TRICKY_NAME), "{text}");
    }
}

#[test]
fn status_shows_today_and_tomorrow_with_dates_slots_over_and_durations() {
    let area = bertiburg();
    let today = date(2026, 11, 28);
    let tomorrow = date(2026, 11, 29);
    let schedule = Schedule::from_days(
        area.id.clone(),
        stage(4),
        [
            (
                today,
                vec![
                    slot(today, "08:00 - 10:30"),
                    slot(today, "16:00 - 18:30"),
                    slot(today, "18:30 - 20:30"),
                ],
            ),
            (tomorrow, vec![slot(tomorrow, "00:00 - 02:00")]),
        ],
    );
    let now = at_local(2026, 11, 28, 12, 0);
    let stored = stored(4, at_local(2026, 11, 28, 5, 0));
    let forecast = forecast(&area, Some(&stored), &[&schedule], now);
    let text = text_of(&render::status(
        Some(&stored),
        &[AreaOutlook {
            area: &area,
            forecast: &forecast,
        }],
        now,
    ));
    let expected = [
        "<b>Stage 4 now. Times are at the current stage, until Eskom announces a change.</b> (as of Sat 28 Nov 05:00)",
        "",
        "<b>Bertiburg</b> <i>(Swartland, Western Cape)</i>",
        "<u>Today, Sat 28 Nov</u>",
        "• <s>08:00–10:30</s> over Stage 4",
        "• 16:00–20:30 Stage 4 (4 h 30 min)",
        "<u>Tomorrow, Sun 29 Nov</u>",
        "• 00:00–02:00 Stage 4",
    ]
    .join("\n");
    assert_eq!(text, expected);
}

#[test]
fn an_announced_stage_is_named_with_its_start_and_end_and_its_slots_follow_it() {
    // The issue's case: "Stage 0 now; Stage 4 from tomorrow 06:00 to 22:00".
    let area = bertiburg();
    let today = date(2026, 12, 6);
    let tomorrow = date(2026, 12, 7);
    let four = Schedule::from_days(
        area.id.clone(),
        stage(4),
        [
            (today, vec![slot(today, "12:00 - 14:30")]),
            (
                tomorrow,
                vec![
                    slot(tomorrow, "04:00 - 06:30"),
                    slot(tomorrow, "12:00 - 14:30"),
                    slot(tomorrow, "20:00 - 22:30"),
                ],
            ),
        ],
    );
    let timelines = Timelines {
        national: Timeline::new(
            stage(0),
            vec![
                StageChange {
                    starts_at: local(tomorrow, 6, 0),
                    stage: stage(4),
                },
                StageChange {
                    starts_at: local(tomorrow, 22, 0),
                    stage: stage(0),
                },
            ],
            Foresight::Announced,
        ),
        cape_town: None,
    };
    let now = local(today, 9, 0);
    let stored = stored_timelines(&timelines, now);
    let forecast = forecast(&area, Some(&stored), &[&four], now);
    let outlook = [AreaOutlook {
        area: &area,
        forecast: &forecast,
    }];
    let text = text_of(&render::stage_change(
        &timelines,
        Some(stage(0)),
        &outlook,
        now,
    ));
    let expected = [
        "⚡ <b>No loadshedding now. Stage 4 from Mon 06:00 to 22:00.</b>",
        "",
        "<b>Bertiburg</b> <i>(Swartland, Western Cape)</i>",
        "<u>Today, Sun 6 Dec</u>",
        "• No loadshedding",
        "<u>Tomorrow, Mon 7 Dec</u>",
        "• 06:00–06:30 Stage 4",
        "• 12:00–14:30 Stage 4",
        "• 20:00–22:00 Stage 4",
    ]
    .join("\n");
    assert_eq!(text, expected);
}

#[test]
fn cape_town_areas_show_the_citys_stage_and_load_reduction_is_named() {
    let city = Area::sepush(
        "za_wc_kenilworth_1",
        "Kenilworth",
        "City of Cape Town, Western Cape",
    );
    let reduced = Area::sepush("za_gt_tembisa_2", "Tembisa", "Ekurhuleni, Gauteng");
    let today = date(2026, 12, 6);
    let one = Schedule::from_days(
        city.id.clone(),
        stage(1),
        [(today, vec![slot(today, "10:00 - 12:30")])],
    );
    let three = Schedule::from_days(
        city.id.clone(),
        stage(3),
        [(
            today,
            vec![slot(today, "10:00 - 12:30"), slot(today, "18:00 - 20:30")],
        )],
    );
    let reduction = Schedule::from_days(
        reduced.id.clone(),
        stage(0),
        [(today, vec![slot(today, "17:00 - 19:00")])],
    );
    let timelines = Timelines {
        national: Timeline::new(stage(3), vec![], Foresight::Announced),
        cape_town: Some(Timeline::new(stage(1), vec![], Foresight::Announced)),
    };
    let now = local(today, 9, 0);
    let stored = stored_timelines(&timelines, now);
    let city_forecast = forecast(&city, Some(&stored), &[&one, &three], now);
    let reduced_forecast = forecast(&reduced, Some(&stored), &[&reduction], now);
    let text = text_of(&render::status(
        Some(&stored),
        &[
            AreaOutlook {
                area: &city,
                forecast: &city_forecast,
            },
            AreaOutlook {
                area: &reduced,
                forecast: &reduced_forecast,
            },
        ],
        now,
    ));
    assert!(
        text.starts_with("<b>Stage 3 now, until further notice.</b>"),
        "{text}"
    );
    assert!(
        text.contains("City of Cape Town: <b>Stage 1 now, until further notice.</b>"),
        "{text}"
    );
    assert!(text.contains("<b>Kenilworth</b> <i>(City of Cape Town, Western Cape)</i>\n<u>Today, Sun 6 Dec</u>\n• 10:00–12:30 Stage 1 (Cape Town)\n"), "{text}");
    assert!(
        !text.contains("18:00–20:30"),
        "the national stage 3 slot is not Cape Town's: {text}"
    );
    assert!(text.contains("• 17:00–19:00 Load reduction"), "{text}");
    let reminder = render::reminder(&reduced, &reduced_forecast.outages[0], local(today, 16, 45));
    assert!(
        reminder
            .text
            .starts_with("⏰ Load reduction in 15 minutes in <b>Tembisa</b>"),
        "{}",
        reminder.text
    );
    assert!(
        reminder
            .text
            .ends_with("<b>17:00–19:00</b> (Load reduction)."),
        "{}",
        reminder.text
    );
}

#[test]
fn late_evening_shows_a_slot_across_midnight_on_both_days_at_the_end_of_the_year() {
    let area = bertiburg();
    let eve = date(2026, 12, 31);
    let new_year = date(2027, 1, 1);
    let schedule = Schedule::from_days(
        area.id.clone(),
        stage(6),
        [
            (eve, vec![slot(eve, "22:00 - 00:30")]),
            (new_year, vec![slot(new_year, "14:00 - 16:30")]),
        ],
    );
    // 23:30 SAST is 21:30 UTC: still the 31st in South Africa.
    let now = at_local(2026, 12, 31, 23, 30);
    let stored = stored(6, at_local(2026, 12, 31, 20, 0));
    let forecast_eve = forecast(&area, Some(&stored), &[&schedule], now);
    let text = text_of(&render::stage_change(
        &stored.timelines(),
        Some(stage(4)),
        &[AreaOutlook {
            area: &area,
            forecast: &forecast_eve,
        }],
        now,
    ));
    let expected = [
        "⚡ <b>Stage 6 now. Times are at the current stage, until Eskom announces a change.</b> (was Stage 4)",
        "",
        "<b>Bertiburg</b> <i>(Swartland, Western Cape)</i>",
        "<u>Today, Thu 31 Dec</u>",
        "• 22:00–00:30 Stage 6 <b>now</b>",
        "<u>Tomorrow, Fri 1 Jan</u>",
        "• until 00:30 (from 22:00 the day before) Stage 6",
        "• 14:00–16:30 Stage 6",
    ]
    .join("\n");
    assert_eq!(text, expected);

    // 00:30 SAST on the 1st is still the 31st in UTC: the day must be the 1st.
    let later = at_local(2027, 1, 1, 0, 30);
    let forecast_day = forecast(&area, Some(&stored), &[&schedule], later);
    let text = text_of(&render::status(
        Some(&stored),
        &[AreaOutlook {
            area: &area,
            forecast: &forecast_day,
        }],
        later,
    ));
    assert!(text.contains("<u>Today, Fri 1 Jan</u>\n• <s>until 00:30 (from 22:00 the day before)</s> over Stage 6\n• 14:00–16:30 Stage 6\n<u>Tomorrow, Sat 2 Jan</u>\n• Schedule not known for this day"), "{text}");
    assert!(!text.contains("31 Dec</u>"), "{text}");
}

#[test]
fn free_days_are_said_plainly_and_unknown_days_as_unknown() {
    let area = bertiburg();
    let today = date(2026, 6, 1);
    let free_today = Schedule::from_days(area.id.clone(), stage(2), [(today, vec![])]);
    let now = at_local(2026, 6, 1, 9, 0);
    let status = |stored: &StoredStage, schedules: &[&Schedule]| {
        let forecast = forecast(&area, Some(stored), schedules, now);
        text_of(&render::status(
            Some(stored),
            &[AreaOutlook {
                area: &area,
                forecast: &forecast,
            }],
            now,
        ))
    };

    let text = status(&stored(2, now), &[&free_today]);
    assert!(text.contains("<u>Today, Mon 1 Jun</u>\n• No loadshedding\n<u>Tomorrow, Tue 2 Jun</u>\n• Schedule not known for this day"), "{text}");

    // A schedule for another stage says nothing about this one.
    let text = status(&stored(3, now), &[&free_today]);
    assert!(!text.contains("No loadshedding"), "{text}");
    assert_eq!(
        text.matches("Stage 3 times not known yet").count(),
        2,
        "{text}"
    );

    // Stage 0 needs no schedule.
    let text = status(&stored(0, now), &[]);
    assert!(text.starts_with("<b>No loadshedding now."), "{text}");
    assert_eq!(text.matches("• No loadshedding").count(), 2, "{text}");

    let zero = stored(0, now);
    let forecast = forecast(&area, Some(&zero), &[], now);
    let text = text_of(&render::stage_change(
        &zero.timelines(),
        Some(stage(2)),
        &[AreaOutlook {
            area: &area,
            forecast: &forecast,
        }],
        now,
    ));
    assert!(
        text.starts_with("✅ <b>No loadshedding now. Times are at the current stage, until Eskom announces a change.</b> (was Stage 2)"),
        "{text}"
    );
}

#[test]
fn status_without_a_stage_or_areas_says_so() {
    let now = at_local(2026, 6, 1, 9, 0);
    let text = text_of(&render::status(None, &[], now));
    assert!(text.contains("The stage is not known yet."), "{text}");
    assert!(text.contains("/subscribe"), "{text}");
    let area = bertiburg();
    let forecast = forecast(&area, None, &[], now);
    let text = text_of(&render::status(
        None,
        &[AreaOutlook {
            area: &area,
            forecast: &forecast,
        }],
        now,
    ));
    assert!(
        text.contains("Schedule unknown until the stage is known."),
        "{text}"
    );
}

#[test]
fn schedule_change_lists_the_outages_from_today_on() {
    let area = bertiburg();
    let yesterday = date(2026, 11, 27);
    let today = date(2026, 11, 28);
    let tomorrow = date(2026, 11, 29);
    let schedule = Schedule::from_days(
        area.id.clone(),
        stage(3),
        [
            (yesterday, vec![slot(yesterday, "10:00 - 12:30")]),
            (today, vec![slot(today, "20:00 - 24:00")]),
            (tomorrow, vec![]),
        ],
    );
    let now = at_local(2026, 11, 28, 6, 0);
    let stored = stored(3, now);
    let forecast = forecast(&area, Some(&stored), &[&schedule], now);
    let text = text_of(&render::schedule_change(&area, &forecast, now));
    let expected = [
        "🗓 New times for <b>Bertiburg</b> <i>(Swartland, Western Cape)</i>",
        "Stage 3 now. Times are at the current stage, until Eskom announces a change.",
        "",
        "<u>Today, Sat 28 Nov</u>",
        "• 20:00–24:00 Stage 3 (4 h)",
        "<u>Tomorrow, Sun 29 Nov</u>",
        "• No loadshedding",
    ]
    .join("\n");
    assert_eq!(text, expected);
}

#[test]
fn reminders_count_the_minutes_and_admit_when_late() {
    let area = bertiburg();
    let today = date(2026, 11, 28);
    let outage = Outage {
        slot: slot(today, "18:00 - 20:30"),
        cause: Cause::Stage {
            stage: stage(4),
            authority: loadshed_core::domain::Authority::National,
        },
        basis: Basis::Rota,
    };
    let early = render::reminder(&area, &outage, at_local(2026, 11, 28, 17, 45));
    assert_eq!(
        early.text,
        "⏰ Loadshedding in 15 minutes in <b>Bertiburg</b> <i>(Swartland, Western Cape)</i>: <b>18:00–20:30</b> (Stage 4)."
    );
    let late = render::reminder(
        &area,
        &outage,
        at_local(2026, 11, 28, 18, 0) + Duration::seconds(20),
    );
    assert!(
        late.text.starts_with("⏰ Loadshedding has started in "),
        "{}",
        late.text
    );
}

#[test]
fn a_long_status_is_split_at_line_boundaries_within_the_limit() {
    let today = date(2026, 11, 28);
    let areas: Vec<Area> = (0..60)
        .map(|i| {
            Area::sepush(
                format!("area_{i}"),
                format!("{i:02} {} <&> 🔌", "Ward".repeat(30)),
                "Region",
            )
        })
        .collect();
    let schedules: Vec<Schedule> = areas
        .iter()
        .map(|a| {
            Schedule::from_days(
                a.id.clone(),
                stage(8),
                [(
                    today,
                    vec![
                        slot(today, "00:00 - 02:30"),
                        slot(today, "04:00 - 06:30"),
                        slot(today, "08:00 - 10:30"),
                        slot(today, "12:00 - 14:30"),
                    ],
                )],
            )
        })
        .collect();
    let now = at_local(2026, 11, 28, 9, 0);
    let stored = stored(8, now);
    let forecasts: Vec<Forecast> = areas
        .iter()
        .zip(&schedules)
        .map(|(area, schedule)| forecast(area, Some(&stored), &[schedule], now))
        .collect();
    let outlooks: Vec<AreaOutlook<'_>> = areas
        .iter()
        .zip(&forecasts)
        .map(|(area, forecast)| AreaOutlook { area, forecast })
        .collect();
    let parts = render::status(Some(&stored), &outlooks, now);
    assert!(parts.len() > 1, "expected a split, got one part");
    for part in &parts {
        assert!(
            utf16_len(&part.text) <= MESSAGE_LIMIT,
            "{}",
            utf16_len(&part.text)
        );
        assert!(!part.text.starts_with('\n') && !part.text.ends_with('\n'));
        assert_valid_telegram_html(&part.text);
    }
    let joined: String = parts
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for i in 0..60 {
        assert_eq!(
            joined.matches(&format!("<b>{i:02} Ward")).count(),
            1,
            "area {i}"
        );
    }
    assert_eq!(
        joined.matches("• <s>").count(),
        60 * 2,
        "two slots over per area"
    );
}

#[test]
fn an_outage_longer_than_a_day_reads_all_day_in_the_middle() {
    let area = bertiburg();
    let (d1, d2, d3) = (date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 7));
    let schedule = Schedule::from_days(
        area.id.clone(),
        stage(8),
        [
            (d1, vec![slot(d1, "22:00 - 24:00")]),
            (d2, vec![slot(d2, "00:00 - 24:00")]),
            (d3, vec![slot(d3, "00:00 - 02:00")]),
        ],
    );
    let now = at_local(2026, 3, 6, 12, 0);
    let stored = stored(8, now);
    let forecast = forecast(&area, Some(&stored), &[&schedule], now);
    let text = text_of(&render::status(
        Some(&stored),
        &[AreaOutlook {
            area: &area,
            forecast: &forecast,
        }],
        now,
    ));
    assert!(
        text.contains("<u>Today, Fri 6 Mar</u>\n• all day (from Thu 22:00 to Sat 02:00) Stage 8 <b>now</b> (28 h)\n<u>Tomorrow, Sat 7 Mar</u>\n• until 02:00 (from Thu 22:00) Stage 8 (28 h)"),
        "{text}"
    );
}
