use std::fmt;

use serde::{Deserialize, Serialize};

use super::Authority;

/// Our stable identifier of an area: the provider's handle, prefixed by the provider, so ids from
/// Eskom and EskomSePush can never collide (`eskom:64106`, `esp:eskde-10-fourways...`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AreaId(String);

impl AreaId {
    /// The longest id we keep, in bytes. Ids become DynamoDB keys with a short prefix (a sort key
    /// holds at most 1,024 bytes); real ones are under 100.
    pub const MAX_BYTES: usize = 512;

    pub fn new(id: impl Into<String>) -> Self {
        AreaId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AreaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a provider needs to fetch an area's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum AreaHandle {
    /// Eskom's own site: `GetScheduleM/{suburb_id}/{stage}/{province_id}/{total}`.
    Eskom {
        suburb_id: u64,
        municipality: String,
        province: String,
        province_id: u8,
        total: u32,
    },
    /// EskomSePush: `/area?id={area_id}`.
    EskomSePush { area_id: String },
}

/// A place people subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Area {
    pub id: AreaId,
    /// What people call it, e.g. "Bertiburg" or "Milnerton (14)".
    pub name: String,
    /// Where it is, for telling same-named areas apart, e.g. "Senqu, Eastern Cape".
    pub region: String,
    pub handle: AreaHandle,
}

impl Area {
    /// The longest name, region or handle text we keep, in characters. Real ones are under 100;
    /// each is stored in every subscription item and shown in replies.
    pub const TEXT_MAX_CHARS: usize = 256;

    /// Whether every value upstream gave this area is within what we store and show: areas over
    /// the limits are left out of search results rather than refused by the store later.
    pub fn is_within_limits(&self) -> bool {
        let handle_texts: Vec<&str> = match &self.handle {
            AreaHandle::Eskom {
                municipality,
                province,
                ..
            } => vec![municipality, province],
            AreaHandle::EskomSePush { area_id } => vec![area_id],
        };
        self.id.as_str().len() <= AreaId::MAX_BYTES
            && [self.name.as_str(), self.region.as_str()]
                .into_iter()
                .chain(handle_texts)
                .all(|text| text.chars().count() <= Self::TEXT_MAX_CHARS)
    }

    /// Keeps the areas within limits, logging the ones left out.
    /// Who sets this area's stage, from the area's own data: EskomSePush describes each area's
    /// supplier (its municipality); Eskom's site lists only the areas Eskom supplies itself.
    pub fn authority(&self) -> Authority {
        match &self.handle {
            AreaHandle::Eskom { .. } => Authority::National,
            AreaHandle::EskomSePush { .. } => Authority::of_supplier(&self.region),
        }
    }

    /// Whether the area is under an EskomSePush v2 id (`eskde-14-milnerton`), which v3.1 refuses
    /// with a 400: v3 ids are words joined by underscores (`za_gt_jhb_fourways_4pef`); v2 ids have
    /// none, and a dash-joined number.
    pub fn has_retired_id(&self) -> bool {
        match &self.handle {
            AreaHandle::EskomSePush { area_id } => !area_id.contains('_') && area_id.contains('-'),
            AreaHandle::Eskom { .. } => false,
        }
    }

    pub fn keep_within_limits(areas: Vec<Area>) -> Vec<Area> {
        areas
            .into_iter()
            .filter(|area| {
                let fits = area.is_within_limits();
                if !fits {
                    tracing::warn!(
                        id_bytes = area.id.as_str().len(),
                        name_chars = area.name.chars().count(),
                        "upstream area over our size limits left out"
                    );
                }
                fits
            })
            .collect()
    }

    pub fn eskom(
        suburb_id: u64,
        name: impl Into<String>,
        municipality: impl Into<String>,
        province: impl Into<String>,
        province_id: u8,
        total: u32,
    ) -> Self {
        let municipality = municipality.into();
        let province = province.into();
        Area {
            id: AreaId(format!("eskom:{suburb_id}")),
            name: name.into(),
            region: format!("{municipality}, {province}"),
            handle: AreaHandle::Eskom {
                suburb_id,
                municipality,
                province,
                province_id,
                total,
            },
        }
    }

    pub fn sepush(
        area_id: impl Into<String>,
        name: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        let area_id = area_id.into();
        Area {
            id: AreaId(format!("esp:{area_id}")),
            name: name.into(),
            region: region.into(),
            handle: AreaHandle::EskomSePush { area_id },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_by_provider() {
        let eskom = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0);
        let esp = Area::sepush(
            "eskde-14-milnerton",
            "Milnerton (14)",
            "Eskom Direct, City of Cape Town",
        );
        assert_eq!(eskom.id.as_str(), "eskom:64106");
        assert_eq!(eskom.region, "Swartland, Western Cape");
        assert_eq!(esp.id.as_str(), "esp:eskde-14-milnerton");
        assert!(esp.has_retired_id());
        assert!(
            !Area::sepush("za_gt_jhb_fourways_4pef", "Fourways", "Johannesburg").has_retired_id()
        );
        assert!(!eskom.has_retired_id());
    }

    #[test]
    fn round_trips_through_json() {
        let area = Area::eskom(9811, "Ashton", "Senqu", "Eastern Cape", 1, 538);
        let json = serde_json::to_value(&area).expect("serialize");
        assert_eq!(json["handle"]["provider"], "eskom");
        let back: Area = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, area);
    }
}
