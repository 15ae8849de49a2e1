//! FindSuburbs: Eskom's suburb search, answering a JSON list such as
//! `[{"MunicipalityName":"Senqu","ProvinceName":"Eastern Cape","Name":"Ashton","Id":9811,"Total":538}]`.

use serde::Deserialize;

use crate::domain::Area;
use crate::errors::UpstreamError;

use super::SERVICE;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FoundSuburb {
    id: u64,
    name: String,
    municipality_name: String,
    province_name: String,
    total: u32,
}

/// Reads FindSuburbs' answer into areas. A suburb in a province we cannot number makes the whole
/// answer [`UpstreamError::Malformed`]: its schedule URL could not be built, and dropping it quietly
/// would hide it from the person searching.
pub fn parse_suburbs(body: &str) -> Result<Vec<Area>, UpstreamError> {
    let found: Vec<FoundSuburb> =
        serde_json::from_str(body).map_err(|e| UpstreamError::Malformed {
            service: SERVICE,
            detail: format!(
                "FindSuburbs answer is not a suburb list ({e}): {}",
                crate::adapters::http::excerpt(body)
            ),
        })?;
    let areas = found
        .into_iter()
        .map(|suburb| {
            let province_id =
                province_id(&suburb.province_name).ok_or_else(|| UpstreamError::Malformed {
                    service: SERVICE,
                    detail: format!(
                        "suburb {} is in unknown province {:?}",
                        suburb.id, suburb.province_name
                    ),
                })?;
            Ok(Area::eskom(
                suburb.id,
                suburb.name.trim(),
                suburb.municipality_name.trim(),
                suburb.province_name.trim(),
                province_id,
                suburb.total,
            ))
        })
        .collect::<Result<Vec<_>, UpstreamError>>()?;
    Ok(Area::keep_within_limits(areas))
}

/// The number Eskom's site gives each province in its drop-down and in GetScheduleM URLs.
///
/// Names are compared without case, spaces or dashes: Eskom writes both "KwaZulu-Natal" and
/// "Kwazulu Natal" in different places.
pub fn province_id(name: &str) -> Option<u8> {
    let key: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let id = match key.as_str() {
        "easterncape" => 1,
        "freestate" => 2,
        "gauteng" => 3,
        "kwazulunatal" => 4,
        "limpopo" => 5,
        "mpumalanga" => 6,
        "northwest" => 7,
        "northerncape" => 8,
        "westerncape" => 9,
        _ => return None,
    };
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AreaHandle;
    use crate::errors::{ErrorName, Named};

    #[test]
    fn numbers_all_nine_provinces_however_written() {
        let names = [
            "Eastern Cape",
            "Free State",
            "Gauteng",
            "KwaZulu-Natal",
            "Limpopo",
            "Mpumalanga",
            "North West",
            "Northern Cape",
            "Western Cape",
        ];
        for (i, name) in names.iter().enumerate() {
            assert_eq!(province_id(name), u8::try_from(i + 1).ok(), "{name}");
        }
        assert_eq!(province_id("kwazulu natal"), Some(4));
        assert_eq!(province_id("Atlantis"), None);
    }

    #[test]
    fn suburbs_over_the_size_limits_are_left_out() {
        let body = format!(
            r#"[{{"MunicipalityName":"Swartland","ProvinceName":"Western Cape","Name":"{}","Id":1,"Total":1}},
               {{"MunicipalityName":"Swartland","ProvinceName":"Western Cape","Name":"Bertiburg","Id":64106,"Total":12}}]"#,
            "B".repeat(5000)
        );
        let areas = parse_suburbs(&body).expect("areas");
        let ids: Vec<&str> = areas.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["eskom:64106"]);
    }

    #[test]
    fn builds_eskom_areas() {
        let body = r#"[{"MunicipalityName":"Swartland","ProvinceName":"Western Cape","Name":"Bertiburg","Id":64106,"Total":12},
                      {"Name":"Abbotsdale","Id":64000,"Total":0,"MunicipalityName":"Swartland","ProvinceName":"Western Cape","Extra":true}]"#;
        let areas = parse_suburbs(body).expect("areas");
        assert_eq!(areas.len(), 2);
        assert_eq!(areas[0].id.as_str(), "eskom:64106");
        assert_eq!(areas[0].region, "Swartland, Western Cape");
        assert_eq!(
            areas[0].handle,
            AreaHandle::Eskom {
                suburb_id: 64106,
                municipality: "Swartland".into(),
                province: "Western Cape".into(),
                province_id: 9,
                total: 12,
            }
        );
        assert_eq!(parse_suburbs("[]").map(|a| a.len()).ok(), Some(0));
    }

    #[test]
    fn unknown_province_and_bad_json_are_malformed() {
        let body =
            r#"[{"MunicipalityName":"X","ProvinceName":"Atlantis","Name":"Y","Id":1,"Total":0}]"#;
        for body in [body, "<html></html>", r#"{"Id":1}"#, r#"[{"Id":"one"}]"#] {
            let error = parse_suburbs(body).expect_err(body);
            assert_eq!(error.error_name(), ErrorName::UpstreamMalformed, "{body}");
        }
    }
}
