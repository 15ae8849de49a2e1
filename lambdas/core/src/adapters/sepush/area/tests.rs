use super::*;
use crate::domain::Authority;
use crate::errors::{ErrorName, Named as _};

/// v2's shape, which v3.1's Home Assistant integration still reads.
const V2_BODY: &str = r#"{
  "events": [{"end": "2026-12-02T00:30:00+02:00", "note": "Stage 5", "start": "2026-12-01T22:00:00+02:00"}],
  "info": {"name": "Bertiburg (3)", "region": "Eskom Direct, Swartland, Western Cape"},
  "schedule": {"days": [
    {"date": "2026-12-01", "name": "Tuesday", "stages": [[], ["22:00-00:30"], ["14:00-16:30", "22:00-00:30"]]},
    {"date": "2026-12-02", "name": "Wednesday", "stages": [["00:00-02:30"], ["00:00-02:30", "08:00-10:30"], ["00:00-02:30", "08:00-10:30"]]}
  ], "source": "https://loadshedding.eskom.co.za/"}
}"#;

/// v3.1's `/area` as the `load-shedding` package reads it: the schedules to fetch.
const V3_AREA: &str = r#"{
  "info": {"name": "Sea Point (7)", "municipality": "City of Cape Town", "province": "Western Cape"},
  "events": [],
  "schedules": [
    {"id": "za_wc_capetown_lr_2", "type": "load_reduction", "auto_enabled": false},
    {"id": "za_wc_capetown_ls_7_old", "type": "loadshedding", "auto_enabled": false},
    {"id": "za_wc_capetown_ls_7", "type": "loadshedding", "auto_enabled": true}
  ]
}"#;

/// v3.1's `/schedule?id=`.
const V3_SCHEDULE: &str = r#"{
  "events": [
    {"start": "2026-07-09T18:00:00+02:00", "end": "2026-07-09T20:30:00+02:00", "note": "Stage 3"},
    {"start": "2026-07-10T06:00:00+02:00", "end": "2026-07-10T08:00:00+02:00", "note": "Load Reduction"}
  ],
  "schedule": {"days": [
    {"date": "2026-07-09", "name": "Thursday", "schedule": [
      {"name": "Stage 1", "slots": []},
      {"name": "Stage 2", "slots": [{"start": "2026-07-09T18:00:00+02:00", "end": "2026-07-09T20:30:00+02:00"}]},
      {"name": "Stage 3", "slots": [{"start": "2026-07-09T10:00:00+02:00", "end": "2026-07-09T12:30:00+02:00"},
                                    {"start": "2026-07-09T18:00:00+02:00", "end": "2026-07-09T20:30:00+02:00"}]},
      {"name": "Load Reduction", "slots": []}
    ]},
    {"date": "2026-07-10", "name": "Friday", "schedule": [
      {"name": "Stage 1", "slots": [{"start": "2026-07-10T02:00:00+02:00", "end": "2026-07-10T04:30:00+02:00"}]},
      {"name": "Stage 2", "slots": [{"start": "2026-07-10T02:00:00+02:00", "end": "2026-07-10T04:30:00+02:00"}]},
      {"name": "Stage 3", "slots": [{"start": "2026-07-10T02:00:00+02:00", "end": "2026-07-10T04:30:00+02:00"}]},
      {"name": "Load Reduction", "slots": [{"start": "2026-07-10T06:00:00+02:00", "end": "2026-07-10T08:00:00+02:00"}]}
    ]}
  ]}
}"#;

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn texts(schedule: &Schedule) -> Vec<String> {
    schedule.slots().iter().map(ToString::to_string).collect()
}

fn sea_point() -> Area {
    Area::sepush(
        "za_wc_cpt_seapoint_8kq2",
        "Sea Point (7)",
        "City of Cape Town, Western Cape",
    )
}

fn v3_report() -> AreaReport {
    let area = parse_area(V3_AREA).expect("area");
    area.with_schedule(parse_schedule(V3_SCHEDULE).expect("schedule"))
}

#[test]
fn reads_v2_days_per_stage_and_events() {
    let report = parse_area(V2_BODY).expect("area");
    assert_eq!(report.name, "Bertiburg (3)");
    assert_eq!(report.region, "Eskom Direct, Swartland, Western Cape");
    assert_eq!(report.days.len(), 2);
    assert_eq!(report.days[0].stages.len(), 3);
    assert!(report.has_rota());
    assert!(report.schedules.is_empty());
    assert_eq!(report.events.len(), 1);
    assert_eq!(report.events[0].stage().map(Stage::number), Some(5));
    assert_eq!(report.events[0].slot.to_string(), "22:00-00:30");
    assert_eq!(
        report.known_stages().into_iter().collect::<Vec<_>>(),
        [stage(1), stage(2), stage(3)]
    );
}

#[test]
fn schedule_picks_the_stage_and_merges_across_midnight() {
    let report = parse_area(V2_BODY).expect("area");
    let area = AreaId::new("esp:x");
    let one = report.schedule(area.clone(), stage(1)).expect("stage 1");
    assert_eq!(texts(&one), ["00:00-02:30"]);
    assert!(one.day(report.days[0].date).expect("covered").is_free());
    let two = report.schedule(area.clone(), stage(2)).expect("stage 2");
    // 22:00-00:30 on the 1st and 00:00-02:30 on the 2nd are one outage.
    assert_eq!(texts(&two), ["22:00-02:30", "08:00-10:30"]);
    let none = report.schedule(area.clone(), Stage::NONE).expect("stage 0");
    assert_eq!(none.days().filter(|d| d.is_free()).count(), 2);
    assert_eq!(
        report.schedule(area, stage(4)).map_err(|e| e.error_name()),
        Err(ErrorName::UpstreamMalformed)
    );
}

#[test]
fn schedules_returns_every_known_stage_and_stage_zero_carries_the_events() {
    let report = parse_area(V2_BODY).expect("area");
    let area = Area::sepush(
        "za_wc_swartland_bertiburg_9x1c",
        "Bertiburg (3)",
        report.region.clone(),
    );
    let schedules = report.schedules(&area, &[stage(2)]).expect("schedules");
    let stages: Vec<u8> = schedules.iter().map(|s| s.stage.number()).collect();
    assert_eq!(stages, [0, 1, 2, 3]);
    let zero = &schedules[0];
    assert!(zero.slots().is_empty(), "v2 lists no load reduction");
    assert_eq!(zero.dates().len(), 2);
    assert_eq!(
        zero.events(),
        [Outage {
            slot: report.events[0].slot,
            cause: Cause::Stage {
                stage: stage(5),
                authority: Authority::National
            },
            basis: Basis::Upstream,
        }]
    );
    assert!(schedules.iter().all(|s| s.area_id == area.id));
    let error = report
        .schedules(&area, &[stage(2), stage(6)])
        .expect_err("stage 6 unknown");
    assert_eq!(error.error_name(), ErrorName::UpstreamMalformed);
    assert!(error.to_string().contains("not stage 6"), "{error}");
}

#[test]
fn reads_v3_area_as_a_list_of_schedules_to_follow() {
    let report = parse_area(V3_AREA).expect("area");
    assert_eq!(report.name, "Sea Point (7)");
    assert_eq!(report.region, "City of Cape Town, Western Cape");
    assert!(!report.has_rota());
    assert!(report.days.is_empty());
    assert_eq!(
        report.followed_loadshedding().map(|s| s.id.as_str()),
        Some("za_wc_capetown_ls_7")
    );
    assert_eq!(
        report.followed_load_reduction().map(|s| s.id.as_str()),
        Some("za_wc_capetown_lr_2")
    );
    assert_eq!(
        report
            .schedules(&sea_point(), &[stage(1)])
            .map_err(|e| e.error_name()),
        Err(ErrorName::UpstreamMalformed),
        "no days: stage 1 is unknown"
    );
}

#[test]
fn reads_v3_schedules_with_stages_and_load_reduction() {
    let schedule = parse_schedule(V3_SCHEDULE).expect("schedule");
    assert_eq!(schedule.days.len(), 2);
    assert_eq!(schedule.days[0].stages.len(), 3);
    assert_eq!(schedule.days[0].load_reduction, Some(Vec::new()));
    assert_eq!(
        schedule.days[1].load_reduction.as_ref().map(Vec::len),
        Some(1)
    );
    assert_eq!(schedule.events.len(), 2);
    assert!(schedule.events[1].is_load_reduction());
    assert_eq!(schedule.events[1].stage(), None);

    let report = v3_report();
    assert!(report.has_rota() && report.lists_load_reduction());
    assert!(!parse_area(V2_BODY).expect("area").lists_load_reduction());
    let area = sea_point();
    let schedules = report.schedules(&area, &[stage(3)]).expect("schedules");
    let stages: Vec<u8> = schedules.iter().map(|s| s.stage.number()).collect();
    assert_eq!(stages, [0, 1, 2, 3]);
    assert_eq!(texts(&schedules[0]), ["06:00-08:00"]);
    assert_eq!(
        texts(&schedules[3]),
        ["10:00-12:30", "18:00-20:30", "02:00-04:30"]
    );
    let causes: Vec<String> = schedules[0]
        .events()
        .iter()
        .map(|e| format!("{} {} {:?}", e.slot, e.cause, e.basis))
        .collect();
    assert_eq!(
        causes,
        [
            "18:00-20:30 Stage 3 (Cape Town) Upstream",
            "06:00-08:00 Load reduction Upstream"
        ]
    );
}

#[test]
fn a_schedule_folded_into_an_area_adds_to_the_same_days_and_drops_repeated_events() {
    let v2 = parse_area(V2_BODY).expect("area");
    let extra = parse_schedule(
        r#"{"events": [{"end": "2026-12-02T00:30:00+02:00", "note": "Stage 5", "start": "2026-12-01T22:00:00+02:00"}],
            "schedule": {"days": [{"date": "2026-12-02", "schedule": [
              {"name": "Stage 1", "slots": ["04:00-06:30"]},
              {"name": "LOAD_REDUCTION", "slots": [{"start": "2026-12-02T17:00:00+02:00", "end": "2026-12-02T19:00:00+02:00"}]}]},
              {"date": "2026-12-03", "schedule": [{"name": "Stage 1", "slots": []}]}]}}"#,
    )
    .expect("schedule");
    let report = v2.with_schedule(extra);
    assert_eq!(report.events.len(), 1);
    assert_eq!(report.days.len(), 3);
    assert_eq!(report.days[1].stages[&stage(1)].len(), 2);
    assert_eq!(
        report.days[1].load_reduction.as_ref().map(Vec::len),
        Some(1)
    );
    assert_eq!(report.days[0].load_reduction, None);
    // The 3rd lists stage 1 only: stages 2 and 3 are no longer known on every day.
    assert_eq!(
        report.known_stages().into_iter().collect::<Vec<_>>(),
        [stage(1)]
    );
}

#[test]
fn event_notes_name_a_stage_or_load_reduction() {
    let event = |note: &str| AreaEvent {
        slot: parse_area(V2_BODY).expect("area").events[0].slot,
        note: note.to_owned(),
    };
    assert_eq!(event("Stage 6").stage(), Some(stage(6)));
    assert_eq!(event(" stage 2 (Cape Town)").stage(), Some(stage(2)));
    assert_eq!(event("Stage").stage(), None);
    assert_eq!(event("Stage 12").stage(), None);
    assert_eq!(event("Stagé").stage(), None);
    assert!(event("load reduction").is_load_reduction());
    assert!(!event("Maintenance").is_load_reduction());
}

#[test]
fn events_of_unknown_cause_are_left_out_of_stage_zero() {
    let body = V2_BODY.replace("\"Stage 5\"", "\"Maintenance\"");
    let report = parse_area(&body).expect("area");
    let schedules = report
        .schedules(&Area::sepush("za_x_1", "X", "Swartland"), &[])
        .expect("schedules");
    assert!(schedules[0].events().is_empty());
}

#[test]
fn unreadable_parts_are_malformed() {
    for body in [
        V2_BODY.replace("2026-12-01\", \"name", "01/12/2026\", \"name"),
        V2_BODY.replace("[\"22:00-00:30\"]", "[\"late\"]"),
        V2_BODY.replace(
            "\"start\": \"2026-12-01T22:00:00+02:00\"",
            "\"start\": \"2026-12-02T01:00:00+02:00\"",
        ),
        V2_BODY.replace("\"schedule\"", "\"timetable\""),
        V2_BODY.replace("[[], ", "[[], [], [], [], [], [], [], [], [], "),
        V3_AREA.replace("\"id\": \"za_wc_capetown_lr_2\", ", ""),
        "[]".to_owned(),
        "{}".to_owned(),
        "null".to_owned(),
    ] {
        assert_eq!(
            parse_area(&body).map_err(|e| e.error_name()),
            Err(ErrorName::UpstreamMalformed),
            "{body}"
        );
    }
    for body in [
        V3_SCHEDULE.replace("\"Stage 2\"", "\"Stage 9\""),
        V3_SCHEDULE.replace(
            "2026-07-09T20:30:00+02:00\"}]}",
            "2026-07-09T17:30:00+02:00\"}]}",
        ),
        V3_SCHEDULE.replace(
            "\"end\": \"2026-07-10T08:00:00+02:00\"}]}",
            "\"end\": \"soon\"}]}",
        ),
        V3_SCHEDULE.replace("\"schedule\": {\"days\"", "\"rota\": {\"days\""),
        r#"{"events": []}"#.to_owned(),
    ] {
        assert_eq!(
            parse_schedule(&body).map_err(|e| e.error_name()),
            Err(ErrorName::UpstreamMalformed),
            "{body}"
        );
    }
}

#[test]
fn unknown_entry_names_are_left_out_and_stage_zero_has_no_slots() {
    let body = V3_SCHEDULE
        .replace("\"Stage 1\", \"slots\": []", "\"Water\", \"slots\": []")
        .replace(
            "\"Load Reduction\", \"slots\": []",
            "\"Stage 0\", \"slots\": []",
        );
    let report = parse_schedule(&body).expect("schedule");
    let listed: Vec<u8> = report.days[0].stages.keys().map(|s| s.number()).collect();
    assert_eq!(listed, [2, 3]);
}
