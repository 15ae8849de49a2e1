//! `/areas_search?text=`: areas whose name matches. v3.1 gives each area's municipality and
//! province (v2 gave one `region` text) and its `schedules` list; both shapes are read.

use serde::Deserialize;

use crate::domain::Area;
use crate::errors::UpstreamError;

use super::malformed;
use super::schedule_list::{ScheduleRef, ScheduleRefBody, region_text};

#[derive(Debug, Deserialize)]
struct SearchBody {
    areas: Vec<Found>,
}

#[derive(Debug, Deserialize)]
struct Found {
    id: String,
    name: String,
    /// v2's one text, e.g. "Eskom Direct, City of Cape Town, Western Cape".
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    municipality: Option<String>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    schedules: Vec<ScheduleRefBody>,
}

/// Reads `/areas_search`. Each area's region text is built by
/// [`region_text`](super::schedule_list::region_text): region, municipality and province, with the
/// supplier its schedules list names, so [`Area::authority`] tells the City of Cape Town's own areas
/// from the rest.
pub fn parse_areas_search(body: &str) -> Result<Vec<Area>, UpstreamError> {
    let parsed: SearchBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("/areas_search is not an area list ({e})"), body))?;
    Ok(Area::keep_within_limits(
        parsed
            .areas
            .into_iter()
            .map(|found| {
                let schedules: Vec<ScheduleRef> =
                    found.schedules.into_iter().map(Into::into).collect();
                let region = region_text(
                    &[
                        found.region.as_deref().unwrap_or_default(),
                        found.municipality.as_deref().unwrap_or_default(),
                        found.province.as_deref().unwrap_or_default(),
                    ],
                    &schedules,
                );
                Area::sepush(found.id, found.name, region)
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AreaHandle, Authority};
    use crate::errors::{ErrorName, Named};

    #[test]
    fn areas_over_the_size_limits_are_left_out() {
        let huge_id = "x".repeat(3000);
        let huge_name = "N".repeat(100_000);
        let body = format!(
            r#"{{"areas":[{{"id":"{huge_id}","name":"A","region":"R"}},{{"id":"ok","name":"{huge_name}","region":"R"}},{{"id":"fine","name":"Fine","region":"R"}}]}}"#
        );
        let areas = parse_areas_search(&body).expect("areas");
        let ids: Vec<&str> = areas.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["esp:fine"]);
    }

    #[test]
    fn builds_v3_areas_with_a_region_from_municipality_and_province() {
        let body = r#"{"areas":[
          {"id":"za_wc_cpt_seapoint_8kq2","name":"Sea Point (7)","municipality":"City of Cape Town","province":"Western Cape",
           "schedules":[{"id":"za_wc_capetown_ls_7","type":"loadshedding","auto_enabled":true}]},
          {"id":"za_wc_cpt_tableview_3mxa","name":"Table View (14)","municipality":"City of Cape Town","province":"Western Cape",
           "schedules":[{"id":"za_wc_eskde_ls_14","type":"loadshedding","auto_enabled":true},
                        {"id":"za_lr_eskde_2","type":"load_reduction","auto_enabled":false}]},
          {"id":"za_gt_jhb_fourways_4pef","name":"Fourways (10)","municipality":"City of Johannesburg","province":"Gauteng"}
        ]}"#;
        let areas = parse_areas_search(body).expect("areas");
        let found: Vec<(&str, &str, &str, Authority)> = areas
            .iter()
            .map(|a| {
                (
                    a.id.as_str(),
                    a.name.as_str(),
                    a.region.as_str(),
                    a.authority(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "esp:za_wc_cpt_seapoint_8kq2",
                    "Sea Point (7)",
                    "City of Cape Town, Western Cape",
                    Authority::CapeTown
                ),
                (
                    "esp:za_wc_cpt_tableview_3mxa",
                    "Table View (14)",
                    "Eskom Direct, City of Cape Town, Western Cape",
                    Authority::National
                ),
                (
                    "esp:za_gt_jhb_fourways_4pef",
                    "Fourways (10)",
                    "City of Johannesburg, Gauteng",
                    Authority::National
                ),
            ]
        );
        assert_eq!(
            areas[2].handle,
            AreaHandle::EskomSePush {
                area_id: "za_gt_jhb_fourways_4pef".into()
            }
        );
        assert!(areas.iter().all(|a| !a.has_retired_id()));
    }

    #[test]
    fn still_reads_v2_areas() {
        let body = r#"{"areas":[{"id":"eskde-3-bertiburgswartlandwesterncape","name":"Bertiburg (3)","region":"Eskom Direct, Swartland, Western Cape"}]}"#;
        let areas = parse_areas_search(body).expect("areas");
        assert_eq!(areas.len(), 1);
        assert_eq!(
            areas[0],
            Area::sepush(
                "eskde-3-bertiburgswartlandwesterncape",
                "Bertiburg (3)",
                "Eskom Direct, Swartland, Western Cape"
            )
        );
        assert_eq!(
            parse_areas_search(r#"{"areas":[]}"#).map(|a| a.len()).ok(),
            Some(0)
        );
    }

    #[test]
    fn anything_else_is_malformed() {
        for body in [
            "",
            "[]",
            r#"{"areas":[{"name":"no id"}]}"#,
            r#"{"areas":[{"id":"a","name":"A","schedules":[{"type":"loadshedding"}]}]}"#,
            r#"{"areas":[{"id":"a","name":"A","municipality":7}]}"#,
        ] {
            assert_eq!(
                parse_areas_search(body).map_err(|e| e.error_name()),
                Err(ErrorName::UpstreamMalformed),
                "{body}"
            );
        }
    }
}
