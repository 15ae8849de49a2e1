use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::domain::{Area, StageChange};

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, day).expect("date")
}

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn local(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    date(day)
        .and_hms_opt(hour, minute, 0)
        .and_then(|t| t.and_local_timezone(ZONE).single())
        .expect("local time")
        .with_timezone(&Utc)
}

fn slot(day: u32, text: &str) -> Slot {
    Slot::parse_on(date(day), text).expect("slot")
}

fn area(region: &str) -> Area {
    Area::sepush("za_gt_test_1", "Testville", region)
}

fn rota_at(area: &Area, n: u8, slots: Vec<Slot>) -> Schedule {
    Schedule::from_days(
        area.id.clone(),
        stage(n),
        [(date(7), Vec::new()), (date(8), slots)],
    )
}

fn announced(current: u8, changes: &[(u32, u32, u8)]) -> Timeline {
    Timeline::new(
        stage(current),
        changes
            .iter()
            .map(|&(day, hour, n)| StageChange {
                starts_at: local(day, hour, 0),
                stage: stage(n),
            })
            .collect(),
        Foresight::Announced,
    )
}

fn texts(forecast: &Forecast) -> Vec<String> {
    forecast
        .outages
        .iter()
        .map(|o| format!("{} {} {}", o.slot.start.format("%d"), o.slot, o.cause))
        .collect()
}

#[test]
fn an_announced_stage_brings_its_slots_within_its_window_only() {
    let area = area("Johannesburg, Gauteng");
    let four = rota_at(
        &area,
        4,
        vec![
            slot(8, "04:00 - 06:30"),
            slot(8, "12:00 - 14:30"),
            slot(8, "20:00 - 22:30"),
        ],
    );
    let rota: Rota = BTreeMap::from([(stage(4), &four)]);
    // "Stage 0 now; Stage 4 from tomorrow 06:00 to 22:00".
    let timelines = Timelines {
        national: announced(0, &[(8, 6, 4), (8, 22, 0)]),
        cape_town: None,
    };
    let now = local(7, 9, 0);
    let forecast = Forecast::build(&area, &timelines, &rota, now, Horizon::ahead(now));
    // 04:00-06:30 is cut to 06:00-06:30 (30 minutes: kept); 20:00-22:30 to 20:00-22:00.
    assert_eq!(
        texts(&forecast),
        [
            "08 06:00-06:30 Stage 4",
            "08 12:00-14:30 Stage 4",
            "08 20:00-22:00 Stage 4"
        ]
    );
    assert!(forecast.sees_ahead());
    assert!(forecast.unknown_stages.is_empty());
}

#[test]
fn pieces_shorter_than_the_minimum_are_dropped() {
    let area = area("Johannesburg, Gauteng");
    let two = rota_at(
        &area,
        2,
        vec![slot(8, "08:00 - 10:30"), slot(8, "16:00 - 18:30")],
    );
    let rota: Rota = BTreeMap::from([(stage(2), &two)]);
    // Stage 2 from 10:10 (20 minutes of the first slot) to 16:29 (29 minutes of the second).
    let mut timelines = Timelines::national_only(stage(0));
    timelines.national = Timeline::new(
        stage(0),
        vec![
            StageChange {
                starts_at: local(8, 10, 10),
                stage: stage(2),
            },
            StageChange {
                starts_at: local(8, 16, 29),
                stage: stage(0),
            },
        ],
        Foresight::Announced,
    );
    let now = local(7, 9, 0);
    let forecast = Forecast::build(&area, &timelines, &rota, now, Horizon::ahead(now));
    assert!(forecast.outages.is_empty(), "{:?}", texts(&forecast));
    assert_eq!(MIN_PIECE, chrono::Duration::minutes(30));
}

#[test]
fn cape_town_areas_follow_the_citys_stage() {
    let city = area("City of Cape Town, Western Cape");
    let direct = area("Eskom Direct, City of Cape Town, Western Cape");
    let one = rota_at(&city, 1, vec![slot(8, "10:00 - 12:30")]);
    let three = rota_at(
        &city,
        3,
        vec![slot(8, "10:00 - 12:30"), slot(8, "18:00 - 20:30")],
    );
    let rota: Rota = BTreeMap::from([(stage(1), &one), (stage(3), &three)]);
    let timelines = Timelines {
        national: announced(3, &[]),
        cape_town: Some(announced(1, &[])),
    };
    let now = local(7, 9, 0);
    let city_forecast = Forecast::build(&city, &timelines, &rota, now, Horizon::ahead(now));
    assert_eq!(city_forecast.authority, Authority::CapeTown);
    assert!(city_forecast.authority_known);
    assert_eq!(
        texts(&city_forecast),
        ["08 10:00-12:30 Stage 1 (Cape Town)"]
    );
    let direct_forecast = Forecast::build(&direct, &timelines, &rota, now, Horizon::ahead(now));
    assert_eq!(direct_forecast.authority, Authority::National);
    assert_eq!(direct_forecast.outages.len(), 2);
}

#[test]
fn load_reduction_counts_whatever_the_stage_and_missing_slots_are_said() {
    let area = area("Ekurhuleni, Gauteng");
    let reduction = rota_at(&area, 0, vec![slot(8, "17:00 - 19:00")]);
    let rota: Rota = BTreeMap::from([(stage(0), &reduction)]);
    let timelines = Timelines {
        national: announced(0, &[(8, 20, 2)]),
        cape_town: None,
    };
    let now = local(7, 9, 0);
    let forecast = Forecast::build(&area, &timelines, &rota, now, Horizon::ahead(now));
    assert_eq!(texts(&forecast), ["08 17:00-19:00 Load reduction"]);
    assert_eq!(forecast.unknown_stages, [stage(2)]);
    // Stage 2 holds from tomorrow 20:00: today is known (no loadshedding), tomorrow is not.
    assert!(forecast.knows(date(7)));
    assert!(!forecast.knows(date(8)));
}

#[test]
fn upstream_events_win_within_their_span_and_disagreements_are_counted() {
    let area = area("Johannesburg, Gauteng");
    let two = rota_at(
        &area,
        2,
        vec![slot(8, "08:00 - 10:30"), slot(8, "20:00 - 22:30")],
    );
    let events = Schedule::no_loadshedding(area.id.clone(), [date(7), date(8)]).with_events(vec![
        Outage {
            slot: slot(8, "08:00 - 10:30"),
            cause: Cause::Stage {
                stage: stage(2),
                authority: Authority::National,
            },
            basis: Basis::Upstream,
        },
        Outage {
            slot: slot(8, "12:00 - 14:00"),
            cause: Cause::LoadReduction,
            basis: Basis::Upstream,
        },
    ]);
    let rota: Rota = BTreeMap::from([(stage(0), &events), (stage(2), &two)]);
    let timelines = Timelines {
        national: announced(2, &[]),
        cape_town: None,
    };
    let now = local(7, 9, 0);
    let forecast = Forecast::build(&area, &timelines, &rota, now, Horizon::ahead(now));
    // Within 08:00-14:00 the events speak (the computed 08:00 agrees; load reduction is theirs);
    // 20:00-22:30 is outside their span: computed.
    assert_eq!(
        texts(&forecast),
        [
            "08 08:00-10:30 Stage 2",
            "08 12:00-14:00 Load reduction",
            "08 20:00-22:30 Stage 2"
        ]
    );
    assert_eq!(forecast.outages[0].basis, Basis::Upstream);
    assert_eq!(forecast.outages[2].basis, Basis::Rota);
    assert_eq!(forecast.disagreements, 1);
}

#[test]
fn the_same_news_seen_later_is_no_news() {
    let area = area("Johannesburg, Gauteng");
    let four = rota_at(&area, 4, vec![slot(8, "12:00 - 14:30")]);
    let rota: Rota = BTreeMap::from([(stage(4), &four)]);
    let before = Timelines {
        national: announced(0, &[(8, 6, 4), (8, 22, 0)]),
        cape_town: None,
    };
    // At 06:00 the source says "stage 4 now, 0 from 22:00".
    let on_time = Timelines {
        national: announced(4, &[(8, 22, 0)]),
        cape_town: None,
    };
    let now = local(8, 6, 1);
    let horizon = Horizon::ahead(now);
    let a = Forecast::build(&area, &before, &rota, now, horizon);
    let b = Forecast::build(&area, &on_time, &rota, now, horizon);
    assert!(!b.differs_from(&a, now));
    assert_eq!(a.fingerprint(), b.fingerprint());
    // A revision that moves the end from 22:00 to 23:00 changes nobody's outages here either.
    let revised = Timelines {
        national: announced(4, &[(8, 23, 0)]),
        cape_town: None,
    };
    assert!(!Forecast::build(&area, &revised, &rota, now, horizon).differs_from(&b, now));
    // Cancelled: stage 0 from now on.
    let cancelled = Timelines::national_only(stage(0));
    assert!(Forecast::build(&area, &cancelled, &rota, now, horizon).differs_from(&b, now));
}

#[test]
fn the_horizon_is_today_and_tomorrow_in_local_time() {
    let horizon = Horizon::ahead(local(7, 23, 30));
    assert_eq!(horizon.from.to_rfc3339(), "2026-12-07T00:00:00+02:00");
    assert_eq!(horizon.until.to_rfc3339(), "2026-12-09T00:00:00+02:00");
    assert_eq!(horizon.dates(), [date(7), date(8)]);
}
