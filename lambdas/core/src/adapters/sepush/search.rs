//! `/areas_search?text=`: areas whose name matches.

use serde::Deserialize;

use crate::domain::Area;
use crate::errors::UpstreamError;

use super::malformed;

#[derive(Debug, Deserialize)]
struct SearchBody {
    areas: Vec<Found>,
}

#[derive(Debug, Deserialize)]
struct Found {
    id: String,
    name: String,
    #[serde(default)]
    region: String,
}

pub fn parse_areas_search(body: &str) -> Result<Vec<Area>, UpstreamError> {
    let parsed: SearchBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("/areas_search is not an area list ({e})"), body))?;
    Ok(Area::keep_within_limits(
        parsed
            .areas
            .into_iter()
            .map(|found| Area::sepush(found.id, found.name, found.region))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AreaHandle;
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
    fn builds_sepush_areas() {
        let body = r#"{"areas":[{"id":"eskde-3-bertiburgswartlandwesterncape","name":"Bertiburg (3)","region":"Eskom Direct, Swartland, Western Cape"}]}"#;
        let areas = parse_areas_search(body).expect("areas");
        assert_eq!(areas.len(), 1);
        assert_eq!(
            areas[0].id.as_str(),
            "esp:eskde-3-bertiburgswartlandwesterncape"
        );
        assert_eq!(
            areas[0].handle,
            AreaHandle::EskomSePush {
                area_id: "eskde-3-bertiburgswartlandwesterncape".into()
            }
        );
        assert_eq!(
            parse_areas_search(r#"{"areas":[]}"#).map(|a| a.len()).ok(),
            Some(0)
        );
    }

    #[test]
    fn anything_else_is_malformed() {
        for body in ["", "[]", r#"{"areas":[{"name":"no id"}]}"#] {
            assert_eq!(
                parse_areas_search(body).map_err(|e| e.error_name()),
                Err(ErrorName::UpstreamMalformed),
                "{body}"
            );
        }
    }
}
