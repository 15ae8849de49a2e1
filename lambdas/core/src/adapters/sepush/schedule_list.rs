//! An area's `schedules` list (v3.1, in `/areas_search` and `/area`): the schedules EskomSePush
//! publishes for it, `[{id, type, auto_enabled}]`, and what we read from it: which schedule to
//! follow, and who supplies the area.

use serde::Deserialize;

use crate::domain::Authority;

/// What a listed schedule is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleKind {
    /// The loadshedding rota: slots per stage.
    Loadshedding,
    /// Eskom's load reduction: slots cut at peak hours whatever the stage.
    LoadReduction,
    /// A type we do not know, kept as given.
    Other(String),
}

impl ScheduleKind {
    /// `loadshedding`, `load_reduction`; any case, any separators.
    fn read(text: &str) -> ScheduleKind {
        let squeezed: String = text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match squeezed.as_str() {
            "loadshedding" => ScheduleKind::Loadshedding,
            "loadreduction" => ScheduleKind::LoadReduction,
            _ => ScheduleKind::Other(text.to_owned()),
        }
    }
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRef {
    /// What `/schedule?id=` takes.
    pub id: String,
    pub kind: ScheduleKind,
    /// Whether EskomSePush follows it for the area by default.
    pub auto_enabled: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct ScheduleRefBody {
    id: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    auto_enabled: bool,
}

impl From<ScheduleRefBody> for ScheduleRef {
    fn from(body: ScheduleRefBody) -> Self {
        ScheduleRef {
            kind: ScheduleKind::read(&body.kind),
            id: body.id,
            auto_enabled: body.auto_enabled,
        }
    }
}

/// The schedule of `kind` to follow: the first one EskomSePush enables by default, else the first
/// one listed (what the `load-shedding` package does).
pub fn followed<'a>(list: &'a [ScheduleRef], kind: &ScheduleKind) -> Option<&'a ScheduleRef> {
    let mut of_kind = list.iter().filter(|s| &s.kind == kind).peekable();
    let first = of_kind.peek().copied();
    of_kind.find(|s| s.auto_enabled).or(first)
}

/// Who supplies the area, when the followed loadshedding schedule's id or type names it: Cape
/// Town ("capetown", "cape_town", "City of Cape Town") or Eskom ("eskom", "eskde", Eskom Direct;
/// it wins when both are named, as in "Eskom Direct, City of Cape Town"). `None`: it names
/// neither, and the area's municipality decides.
pub fn supplier(list: &[ScheduleRef]) -> Option<Authority> {
    let schedule = followed(list, &ScheduleKind::Loadshedding)?;
    let kind = match &schedule.kind {
        ScheduleKind::Other(text) => text.as_str(),
        _ => "",
    };
    let words: String = format!("{} {kind}", schedule.id)
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => ' ',
        })
        .collect();
    let squeezed: String = words.split_whitespace().collect();
    if squeezed.contains("eskom") || squeezed.contains("eskde") {
        Some(Authority::National)
    } else if squeezed.contains("capetown") {
        Some(Authority::CapeTown)
    } else {
        None
    }
}

/// The region text we keep for an area: its v2 `region`, municipality and province, each once, in
/// that order ("City of Cape Town, Western Cape"), so [`crate::domain::Area::authority`] can read
/// the supplier from it. Where the schedules list names a supplier the text does not show, it is
/// said in front: "City of Cape Town, ..." for the City's own areas, "Eskom Direct, ..." for the
/// City's areas Eskom supplies directly. Should the list and a v2 region disagree, the region text
/// is kept as it is (and the disagreement logged): v2 regions named the supplier themselves.
pub fn region_text(parts: &[&str], schedules: &[ScheduleRef]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let lower = part.to_ascii_lowercase();
        if !kept.iter().any(|k| k.to_ascii_lowercase().contains(&lower)) {
            kept.push(part);
        }
    }
    let text = kept.join(", ");
    let Some(supplier) = supplier(schedules) else {
        return text;
    };
    let lower = text.to_ascii_lowercase();
    let said = Authority::of_supplier(&text);
    match (supplier, said) {
        (Authority::CapeTown, Authority::National) if lower.contains("eskom direct") => {
            tracing::warn!(region = %text, "the schedules list names Cape Town, the region Eskom Direct; the region is kept");
            text
        }
        (Authority::CapeTown, Authority::National) => join("City of Cape Town", &text),
        (Authority::National, Authority::CapeTown) => join("Eskom Direct", &text),
        _ => text,
    }
}

fn join(front: &str, text: &str) -> String {
    match text.is_empty() {
        true => front.to_owned(),
        false => format!("{front}, {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, kind: &str, auto_enabled: bool) -> ScheduleRef {
        ScheduleRefBody {
            id: id.into(),
            kind: kind.into(),
            auto_enabled,
        }
        .into()
    }

    #[test]
    fn follows_the_enabled_schedule_of_a_kind_else_the_first() {
        let list = [
            listed("a", "load_reduction", false),
            listed("b", "loadshedding", false),
            listed("c", "LoadShedding", true),
            listed("d", "load-reduction", false),
        ];
        let id = |kind| followed(&list, &kind).map(|s| s.id.as_str());
        assert_eq!(id(ScheduleKind::Loadshedding), Some("c"));
        assert_eq!(id(ScheduleKind::LoadReduction), Some("a"));
        assert_eq!(followed(&list[..1], &ScheduleKind::Loadshedding), None);
        assert_eq!(
            listed("x", "water", true).kind,
            ScheduleKind::Other("water".into())
        );
    }

    #[test]
    fn the_supplier_comes_from_the_followed_loadshedding_schedule() {
        let city = [listed("za_wc_capetown_ls_7", "loadshedding", true)];
        let eskom = [listed("za_wc_eskde_ls_14", "loadshedding", true)];
        let both = [listed("eskom_direct_cape_town_14", "loadshedding", true)];
        let neither = [listed("za_gt_jhb_ls_11", "loadshedding", true)];
        let only_reduction = [listed("za_wc_capetown_lr_1", "load_reduction", true)];
        assert_eq!(supplier(&city), Some(Authority::CapeTown));
        assert_eq!(supplier(&eskom), Some(Authority::National));
        assert_eq!(supplier(&both), Some(Authority::National));
        assert_eq!(supplier(&neither), None);
        assert_eq!(supplier(&only_reduction), None);
        assert_eq!(supplier(&[]), None);
    }

    #[test]
    fn the_region_text_names_the_supplier_the_way_area_authority_reads_it() {
        let city = [listed("za_wc_capetown_ls_7", "loadshedding", true)];
        let eskom = [listed("za_wc_eskde_ls_14", "loadshedding", true)];
        let cases: [(&[&str], &[ScheduleRef], &str, Authority); 7] = [
            (
                &["", "City of Cape Town", "Western Cape"],
                &[],
                "City of Cape Town, Western Cape",
                Authority::CapeTown,
            ),
            (
                &["", "City of Cape Town", "Western Cape"],
                &eskom,
                "Eskom Direct, City of Cape Town, Western Cape",
                Authority::National,
            ),
            (
                // "Cape Town" already reads as the City's (`Authority::of_supplier`).
                &["", "Cape Town", "Western Cape"],
                &city,
                "Cape Town, Western Cape",
                Authority::CapeTown,
            ),
            (
                &[
                    "Eskom Direct, City of Cape Town, Western Cape",
                    "City of Cape Town",
                    "Western Cape",
                ],
                &city,
                "Eskom Direct, City of Cape Town, Western Cape",
                Authority::National,
            ),
            (
                &["", "", ""],
                &city,
                "City of Cape Town",
                Authority::CapeTown,
            ),
            (
                &["JHB City Power", "", ""],
                &[],
                "JHB City Power",
                Authority::National,
            ),
            (&["", "", ""], &[], "", Authority::National),
        ];
        for (parts, schedules, text, authority) in cases {
            let region = region_text(parts, schedules);
            assert_eq!(region, text, "{parts:?}");
            assert_eq!(Authority::of_supplier(&region), authority, "{region}");
        }
    }
}
