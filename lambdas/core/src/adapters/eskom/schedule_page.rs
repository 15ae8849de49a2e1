//! GetScheduleM's HTML fragment: one `div.scheduleDay` per day, holding a `div.dayMonth` date such
//! as `Mon, 07 Sep` (no year) and one `<a>` per outage (`08:00 - 10:30`), or a lone `-` on a day
//! without outages.

use chrono::{Datelike, NaiveDate, Weekday};
use scraper::{ElementRef, Html, Node};

use crate::domain::{InvalidSlot, Slot};

use super::known_pages;

/// One day as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageDay {
    pub date: NaiveDate,
    /// Empty on a `-` day.
    pub slots: Vec<Slot>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The "We regret that we could not ..." page: Eskom does not supply the suburb.
    #[error("Eskom does not supply this suburb")]
    NotSupplied,
    #[error("{0}")]
    Unreadable(String),
}

/// A day's text as collected from the page, before it is checked.
#[derive(Debug, Default)]
struct DayText {
    label: String,
    slots: Vec<String>,
    dash: bool,
}

/// Parses the page; `today` anchors the year-less dates (see [`anchor_date`]).
///
/// The page is walked in document order rather than by `div.scheduleDay > ...` selectors: each
/// `div.dayMonth` opens a day, and every link with text and every `-` until the next one belongs to
/// it. Eskom's markup is loose and copies of it pass through tools that damage tags (a lost `>`
/// turns `</div> <div class="scheduleDay">` into one end tag); the order of dates and slots survives
/// any such nesting damage, the nesting does not.
pub fn parse_schedule_page(html: &str, today: NaiveDate) -> Result<Vec<PageDay>, PageError> {
    if known_pages::is_not_supplied(html) {
        return Err(PageError::NotSupplied);
    }
    let document = Html::parse_document(html);
    let mut days: Vec<DayText> = Vec::new();
    for node in document.tree.root().descendants() {
        match node.value() {
            Node::Element(element)
                if element.name() == "div" && element.classes().any(|c| c == "dayMonth") =>
            {
                let label = ElementRef::wrap(node)
                    .map(|e| e.text().collect::<String>())
                    .unwrap_or_default();
                days.push(DayText {
                    label: collapse_whitespace(&label),
                    ..DayText::default()
                });
            }
            Node::Element(element) if element.name() == "a" => {
                // Only the link's own text: when the parser repairs broken nesting it wraps later
                // content in copies of an unclosed link, and those copies hold no text of their own.
                let text: String = node
                    .children()
                    .filter_map(|child| child.value().as_text().map(|t| t.to_string()))
                    .collect();
                let text = collapse_whitespace(&text);
                if text.is_empty() {
                    continue;
                }
                let day = days.last_mut().ok_or_else(|| {
                    PageError::Unreadable(format!("slot {text:?} appears before any date"))
                })?;
                day.slots.push(text);
            }
            Node::Text(text) if text.trim() == "-" => {
                if let Some(day) = days.last_mut() {
                    day.dash = true;
                }
            }
            _ => {}
        }
    }
    if days.is_empty() {
        return Err(PageError::Unreadable(format!(
            "no div.dayMonth in the page: {}",
            crate::adapters::http::excerpt(html)
        )));
    }
    days.into_iter().map(|day| read_day(day, today)).collect()
}

fn read_day(day: DayText, today: NaiveDate) -> Result<PageDay, PageError> {
    let date = anchor_date(&day.label, today).ok_or_else(|| {
        PageError::Unreadable(format!(
            "{:?} is not a date like \"Mon, 07 Sep\" near {today}",
            day.label
        ))
    })?;
    match (day.slots.is_empty(), day.dash) {
        (true, false) => {
            return Err(PageError::Unreadable(format!(
                "{} shows neither slots nor \"-\"",
                day.label
            )));
        }
        (false, true) => {
            return Err(PageError::Unreadable(format!(
                "{} shows slots and \"-\" at once",
                day.label
            )));
        }
        _ => {}
    }
    let slots = day
        .slots
        .iter()
        .map(|text| Slot::parse_on(date, text))
        .collect::<Result<Vec<_>, InvalidSlot>>()
        .map_err(|e| PageError::Unreadable(format!("{}: {e}", day.label)))?;
    Ok(PageDay { date, slots })
}

/// Gives a year-less `Mon, 07 Sep` the year that puts it nearest to `today`, so a page read on
/// 30 December that runs into January gets next year's January, and a page that still starts with
/// yesterday in early January gets last year's December. The weekday must then match: a mismatch
/// means the page is not what we think it is, and is refused rather than guessed.
pub fn anchor_date(label: &str, today: NaiveDate) -> Option<NaiveDate> {
    let (weekday, day_month) = label.split_once(',')?;
    let weekday: Weekday = weekday.trim().parse().ok()?;
    let year = today.year();
    let nearest = [year - 1, year, year + 1]
        .into_iter()
        .filter_map(|y| {
            NaiveDate::parse_from_str(&format!("{} {y}", day_month.trim()), "%d %b %Y").ok()
        })
        .min_by_key(|date| (*date - today).num_days().abs())?;
    (nearest.weekday() == weekday).then_some(nearest)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn anchors_year_less_dates_near_today() {
        let today = date(2026, 12, 30);
        assert_eq!(anchor_date("Wed, 30 Dec", today), Some(date(2026, 12, 30)));
        assert_eq!(anchor_date("Fri, 01 Jan", today), Some(date(2027, 1, 1)));
        let new_year = date(2027, 1, 2);
        assert_eq!(
            anchor_date("Thu, 31 Dec", new_year),
            Some(date(2026, 12, 31))
        );
        // 29 February only exists in leap years; 2028 is the nearest one to early 2028.
        assert_eq!(
            anchor_date("Tue, 29 Feb", date(2028, 2, 27)),
            Some(date(2028, 2, 29))
        );
    }

    #[test]
    fn refuses_a_weekday_that_does_not_fit_and_garbage() {
        let today = date(2020, 9, 7);
        assert_eq!(anchor_date("Mon, 07 Sep", today), Some(today));
        assert_eq!(anchor_date("Tue, 07 Sep", today), None);
        assert_eq!(anchor_date("07 Sep", today), None);
        assert_eq!(anchor_date("", today), None);
    }

    #[test]
    fn a_day_needs_slots_or_a_dash() {
        let today = date(2020, 9, 7);
        let neither = r##"<div class="scheduleDay"><div class="dayMonth">Mon, 07 Sep</div><div></div></div>"##;
        assert!(matches!(
            parse_schedule_page(neither, today),
            Err(PageError::Unreadable(_))
        ));
        let both =
            r##"<div class="dayMonth">Mon, 07 Sep</div><div>-</div><a href="#">08:00 - 10:30</a>"##;
        assert!(matches!(
            parse_schedule_page(both, today),
            Err(PageError::Unreadable(_))
        ));
    }

    #[test]
    fn a_slot_before_any_date_or_an_unreadable_slot_is_refused() {
        let today = date(2020, 9, 7);
        let early = r##"<a href="#">08:00 - 10:30</a><div class="dayMonth">Mon, 07 Sep</div>"##;
        assert!(parse_schedule_page(early, today).is_err());
        let bad = r##"<div class="dayMonth">Mon, 07 Sep</div><a href="#">soon</a>"##;
        assert!(parse_schedule_page(bad, today).is_err());
        assert!(parse_schedule_page("<html><body></body></html>", today).is_err());
    }

    #[test]
    fn links_without_text_are_not_slots() {
        let today = date(2020, 9, 7);
        let page = r##"<div class="dayMonth">Mon, 07 Sep</div><a href="#">22:00 - 00:30</a>
            <a id="printButton1" href="/x"><img src="/p.png"></a>"##;
        let days = parse_schedule_page(page, today).expect("page");
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].slots.len(), 1);
        assert_eq!(
            days[0].slots[0].end.to_rfc3339(),
            "2020-09-08T00:30:00+02:00"
        );
    }
}
