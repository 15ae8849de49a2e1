//! Message texts: escaping, length, time-zone edges and the wording of slots and days.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, Schedule, Slot, Stage};
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

fn stored(n: u8, at: DateTime<Utc>) -> StoredStage {
    StoredStage {
        stage: stage(n),
        updated_at: at,
        version: 1,
    }
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
    let area = Area::sepush("tricky-1", TRICKY_NAME, "Senqu & Co <Eastern Cape>");
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
    let outlook = [AreaOutlook {
        area: &area,
        schedule: Some(&schedule),
    }];
    for text in [
        text_of(&render::status(Some(&stored(2, now)), &outlook, now)),
        text_of(&render::stage_change(stage(2), None, &outlook, now)),
        text_of(&render::schedule_change(&area, &schedule, now)),
        {
            let reminder = render::reminder(&area, &schedule.slots()[0], stage(2), now);
            assert_valid_telegram_html(&reminder.text);
            reminder.text
        },
    ] {
        assert!(
            text.contains(r#"&lt;b&gt;&amp;&quot;Tricky_*[]()~`&gt;#+-=|{}.!\ Park"#),
            "{text}"
        );
        assert!(
            text.contains("Senqu &amp; Co &lt;Eastern Cape&gt;"),
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
    let text = text_of(&render::status(
        Some(&stored(4, at_local(2026, 11, 28, 5, 0))),
        &[AreaOutlook {
            area: &area,
            schedule: Some(&schedule),
        }],
        now,
    ));
    let expected = [
        "<b>Stage 4</b> (since Sat 28 Nov 05:00)",
        "",
        "<b>Bertiburg</b> <i>(Swartland, Western Cape)</i>",
        "<u>Today, Sat 28 Nov</u>",
        "• <s>08:00–10:30</s> over",
        "• 16:00–20:30 (4 h 30 min)",
        "<u>Tomorrow, Sun 29 Nov</u>",
        "• 00:00–02:00",
    ]
    .join("\n");
    assert_eq!(text, expected);
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
    let outlook = [AreaOutlook {
        area: &area,
        schedule: Some(&schedule),
    }];

    // 23:30 SAST is 21:30 UTC: still the 31st in South Africa.
    let text = text_of(&render::stage_change(
        stage(6),
        Some(stage(4)),
        &outlook,
        at_local(2026, 12, 31, 23, 30),
    ));
    let expected = [
        "⚡ Loadshedding is now <b>Stage 6</b> (was Stage 4).",
        "",
        "<b>Bertiburg</b> <i>(Swartland, Western Cape)</i>",
        "<u>Today, Thu 31 Dec</u>",
        "• 22:00–00:30 <b>now</b>",
        "<u>Tomorrow, Fri 1 Jan</u>",
        "• until 00:30 (from 22:00 the day before)",
        "• 14:00–16:30",
    ]
    .join("\n");
    assert_eq!(text, expected);

    // 00:30 SAST on the 1st is still the 31st in UTC: the day must be the 1st.
    let text = text_of(&render::status(
        Some(&stored(6, at_local(2026, 12, 31, 20, 0))),
        &outlook,
        at_local(2027, 1, 1, 0, 30),
    ));
    assert!(text.contains("<u>Today, Fri 1 Jan</u>\n• <s>until 00:30 (from 22:00 the day before)</s> over\n• 14:00–16:30\n<u>Tomorrow, Sat 2 Jan</u>\n• Schedule not known"), "{text}");
    assert!(!text.contains("31 Dec</u>"), "{text}");
}

#[test]
fn free_days_are_said_plainly_and_unknown_days_as_unknown() {
    let area = bertiburg();
    let today = date(2026, 6, 1);
    let free_today = Schedule::from_days(area.id.clone(), stage(2), [(today, vec![])]);
    let now = at_local(2026, 6, 1, 9, 0);
    let outlook = |schedule| {
        [AreaOutlook {
            area: &area,
            schedule,
        }]
    };

    let text = text_of(&render::status(
        Some(&stored(2, now)),
        &outlook(Some(&free_today)),
        now,
    ));
    assert!(text.contains("<u>Today, Mon 1 Jun</u>\n• No loadshedding\n<u>Tomorrow, Tue 2 Jun</u>\n• Schedule not known"), "{text}");

    // A schedule for another stage says nothing about this one.
    let text = text_of(&render::status(
        Some(&stored(3, now)),
        &outlook(Some(&free_today)),
        now,
    ));
    assert!(!text.contains("No loadshedding"), "{text}");
    assert_eq!(text.matches("Schedule not known").count(), 2, "{text}");

    // Stage 0 needs no schedule.
    let text = text_of(&render::status(Some(&stored(0, now)), &outlook(None), now));
    assert!(text.starts_with("<b>No loadshedding</b>"), "{text}");
    assert_eq!(text.matches("• No loadshedding").count(), 2, "{text}");

    let text = text_of(&render::stage_change(
        stage(0),
        Some(stage(2)),
        &outlook(None),
        now,
    ));
    assert!(
        text.starts_with("✅ <b>Loadshedding is suspended</b> (was Stage 2)."),
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
    let text = text_of(&render::status(
        None,
        &[AreaOutlook {
            area: &area,
            schedule: None,
        }],
        now,
    ));
    assert!(
        text.contains("Schedule unknown until the stage is known."),
        "{text}"
    );
}

#[test]
fn schedule_change_lists_the_new_slots_from_today_on() {
    let area = bertiburg();
    let yesterday = date(2026, 11, 27);
    let today = date(2026, 11, 28);
    let later = date(2026, 11, 30);
    let schedule = Schedule::from_days(
        area.id.clone(),
        stage(3),
        [
            (yesterday, vec![slot(yesterday, "10:00 - 12:30")]),
            (today, vec![slot(today, "20:00 - 24:00")]),
            (later, vec![]),
        ],
    );
    let text = text_of(&render::schedule_change(
        &area,
        &schedule,
        at_local(2026, 11, 28, 6, 0),
    ));
    let expected = [
        "🗓 New schedule for <b>Bertiburg</b> <i>(Swartland, Western Cape)</i>",
        "<b>Stage 3</b>",
        "<u>Today, Sat 28 Nov</u>",
        "• 20:00–24:00 (4 h)",
        "<u>Mon 30 Nov</u>",
        "• No loadshedding",
    ]
    .join("\n");
    assert_eq!(text, expected);
}

#[test]
fn reminders_count_the_minutes_and_admit_when_late() {
    let area = bertiburg();
    let today = date(2026, 11, 28);
    let outage = slot(today, "18:00 - 20:30");
    let early = render::reminder(&area, &outage, stage(4), at_local(2026, 11, 28, 17, 45));
    assert_eq!(
        early.text,
        "⏰ Loadshedding in 15 minutes in <b>Bertiburg</b> <i>(Swartland, Western Cape)</i>: <b>18:00–20:30</b> (Stage 4)."
    );
    let late = render::reminder(
        &area,
        &outage,
        stage(4),
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
                format!("area-{i}"),
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
    let outlooks: Vec<AreaOutlook<'_>> = areas
        .iter()
        .zip(&schedules)
        .map(|(area, schedule)| AreaOutlook {
            area,
            schedule: Some(schedule),
        })
        .collect();
    let now = at_local(2026, 11, 28, 9, 0);
    let parts = render::status(Some(&stored(8, now)), &outlooks, now);
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
    let text = text_of(&render::status(
        Some(&stored(8, now)),
        &[AreaOutlook {
            area: &area,
            schedule: Some(&schedule),
        }],
        now,
    ));
    assert!(
        text.contains("<u>Today, Fri 6 Mar</u>\n• all day (from Thu 22:00 to Sat 02:00) <b>now</b> (28 h)\n<u>Tomorrow, Sat 7 Mar</u>\n• until 02:00 (from Thu 22:00) (28 h)"),
        "{text}"
    );
}
