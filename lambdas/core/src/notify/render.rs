//! The texts subscribers read, in Telegram HTML. Every piece of upstream or user text goes through
//! [`escape`]; every message goes through [`html::split`] so none exceeds Telegram's limit.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::clock::ZONE;
use crate::domain::{
    Area, Authority, Cause, Forecast, Foresight, Outage, Slot, Stage, Timeline, Timelines,
};
use crate::ports::{Message, StoredStage};

use super::html::{self, MESSAGE_LIMIT, escape};

/// Slots longer than this show their duration: the usual slot is 2 h or 2 h 30, and a longer one
/// (merged back-to-back slots, high stages) is worth spelling out.
pub const LONG_SLOT: Duration = Duration::minutes(150);

/// Upstream names are labels; one absurdly long name must not crowd out the schedule it labels.
const NAME_MAX_CHARS: usize = 120;

/// An area and its forecast.
#[derive(Debug, Clone, Copy)]
pub struct AreaOutlook<'a> {
    pub area: &'a Area,
    pub forecast: &'a Forecast,
}

/// The stage timelines changed in a way that moves this chat's outages: the timelines in words
/// ("No loadshedding now. Stage 4 from Mon 06:00 to 22:00."), then each of the chat's areas.
pub fn stage_change(
    timelines: &Timelines,
    previous: Option<Stage>,
    areas: &[AreaOutlook<'_>],
    now: DateTime<Utc>,
) -> Vec<Message> {
    let mut lines = Vec::new();
    let national = timelines.national.as_of(now);
    let was = previous
        .filter(|p| *p != national.current)
        .map(|p| format!(" (was {})", stage_text(p)))
        .unwrap_or_default();
    let icon = if national.current.is_loadshedding() || !national.changes().is_empty() {
        "⚡"
    } else {
        "✅"
    };
    lines.push(format!(
        "{icon} <b>{}</b>{was}",
        timeline_sentence(&national, now)
    ));
    headers_for_cape_town(&mut lines, timelines, areas, now);
    for outlook in areas {
        lines.push(String::new());
        area_block(&mut lines, outlook, now);
    }
    to_messages(&lines)
}

/// An area's outages changed (new slots upstream, load reduction, upstream's own events).
pub fn schedule_change(area: &Area, forecast: &Forecast, now: DateTime<Utc>) -> Vec<Message> {
    let mut lines = vec![format!("🗓 New times for {}", area_title(area))];
    lines.push(timeline_sentence(&forecast.timeline, now));
    lines.push(String::new());
    area_days(&mut lines, forecast, now);
    to_messages(&lines)
}

/// An outage in one of the chat's areas starts soon (or, when the reminder runs late, has started).
pub fn reminder(area: &Area, outage: &Outage, now: DateTime<Utc>) -> Message {
    let span = slot_span(&outage.slot);
    let what = match outage.cause {
        Cause::LoadReduction => "Load reduction",
        Cause::Stage { .. } => "Loadshedding",
    };
    let text = if outage.slot.start > now {
        let minutes = minutes_until(outage.slot.start.with_timezone(&Utc), now);
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        format!(
            "⏰ {what} in {minutes} {unit} in {}: <b>{span}</b> ({}).",
            area_title(area),
            outage.cause
        )
    } else {
        format!(
            "⏰ {what} has started in {}: <b>{span}</b> ({}).",
            area_title(area),
            outage.cause
        )
    };
    // One short line: always within the limit, so no split is needed.
    Message::html(text)
}

/// EskomSePush retired the area's id (v2): the chat must find the area again.
pub fn resubscribe(area: &Area) -> Vec<Message> {
    let name = escape(&shorten(&area.name));
    to_messages(&[
        format!("⚠️ {} can no longer be followed.", area_title(area)),
        format!(
            "EskomSePush changed its area ids, so this subscription stopped working. Send \
             /subscribe {name} to find the area again."
        ),
    ])
}

/// `/status`: the timelines, then each of the chat's areas today and tomorrow.
pub fn status(
    stage: Option<&StoredStage>,
    areas: &[AreaOutlook<'_>],
    now: DateTime<Utc>,
) -> Vec<Message> {
    let mut lines = Vec::new();
    match stage {
        Some(stored) => {
            let since = stored.updated_at.with_timezone(&ZONE);
            let timelines = stored.timelines();
            lines.push(format!(
                "<b>{}</b> (as of {} {})",
                timeline_sentence(&timelines.national.as_of(now), now),
                since.format("%a %-d %b"),
                since.format("%H:%M")
            ));
            headers_for_cape_town(&mut lines, &timelines, areas, now);
        }
        None => lines.push("The stage is not known yet.".to_owned()),
    }
    if areas.is_empty() {
        lines.push(String::new());
        lines.push("You have no areas yet: send /subscribe followed by a place name.".to_owned());
    }
    for outlook in areas {
        lines.push(String::new());
        match stage {
            Some(_) => area_block(&mut lines, outlook, now),
            None => {
                lines.push(area_title(outlook.area));
                lines.push("Schedule unknown until the stage is known.".to_owned());
            }
        }
    }
    to_messages(&lines)
}

/// A timeline in words, as of `now`: "No loadshedding now. Stage 4 from Mon 06:00 to 22:00." A
/// timeline that cannot see ahead says so: "Stage 2 now. Times are at the current stage, until
/// Eskom announces a change."
pub fn timeline_sentence(timeline: &Timeline, now: DateTime<Utc>) -> String {
    let timeline = timeline.as_of(now);
    let mut sentences = Vec::new();
    let windows = timeline.windows();
    let mut current = match timeline.current.is_loadshedding() {
        true => format!("{} now", timeline.current),
        false => "No loadshedding now".to_owned(),
    };
    if timeline.current.is_loadshedding() {
        match windows.first().and_then(|w| w.end) {
            Some(end) => current.push_str(&format!(" until {}", when(end))),
            None if timeline.foresight == Foresight::Announced => {
                current.push_str(", until further notice")
            }
            None => {}
        }
    }
    sentences.push(current);
    for window in windows.iter().skip(1) {
        if !window.stage.is_loadshedding() {
            continue;
        }
        let Some(start) = window.start else { continue };
        let sentence = match window.end {
            Some(end) => format!(
                "{} from {} to {}",
                window.stage,
                when(start),
                until_text(start, end)
            ),
            None => format!("{} from {} until further notice", window.stage, when(start)),
        };
        sentences.push(sentence);
    }
    if timeline.foresight == Foresight::CurrentOnly {
        sentences.push("Times are at the current stage, until Eskom announces a change".to_owned());
    }
    let mut text = sentences.join(". ");
    text.push('.');
    text
}

/// A Cape Town line when the chat has a Cape Town area: the City's own stage, or that it is not
/// known and the national one is shown.
fn headers_for_cape_town(
    lines: &mut Vec<String>,
    timelines: &Timelines,
    areas: &[AreaOutlook<'_>],
    now: DateTime<Utc>,
) {
    if !areas
        .iter()
        .any(|o| o.forecast.authority == Authority::CapeTown)
    {
        return;
    }
    match &timelines.cape_town {
        Some(cape_town) => lines.push(format!(
            "City of Cape Town: <b>{}</b>",
            timeline_sentence(cape_town, now)
        )),
        None => lines.push(
            "The City of Cape Town's own stage is not known here: its areas show the national stage."
                .to_owned(),
        ),
    }
}

/// "Mon 06:00": a day name and the time, in South African time.
fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&ZONE).format("%a %H:%M").to_string()
}

/// The end of a window: its time alone on the start's day, else with its day.
fn until_text(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let (start, end) = (start.with_timezone(&ZONE), end.with_timezone(&ZONE));
    if start.date_naive() == end.date_naive() {
        end.format("%H:%M").to_string()
    } else {
        end.format("%a %H:%M").to_string()
    }
}

fn to_messages(lines: &[String]) -> Vec<Message> {
    html::split(&lines.join("\n"), MESSAGE_LIMIT)
        .into_iter()
        .map(Message::html)
        .collect()
}

fn stage_text(stage: Stage) -> String {
    if stage.is_loadshedding() {
        stage.to_string()
    } else {
        "no loadshedding".to_owned()
    }
}

fn area_title(area: &Area) -> String {
    let name = escape(&shorten(&area.name));
    if area.region.trim().is_empty() {
        format!("<b>{name}</b>")
    } else {
        format!("<b>{name}</b> <i>({})</i>", escape(&shorten(&area.region)))
    }
}

/// An upstream name cut to what a message line can carry (the webhook's texts use it too).
pub(crate) fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= NAME_MAX_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(NAME_MAX_CHARS - 1).collect();
    short.push('…');
    short
}

/// The area's title and its days.
fn area_block(lines: &mut Vec<String>, outlook: &AreaOutlook<'_>, now: DateTime<Utc>) {
    lines.push(area_title(outlook.area));
    area_days(lines, outlook.forecast, now);
}

/// Each day of the forecast's horizon: its outages, or that there are none, or what is not known.
fn area_days(lines: &mut Vec<String>, forecast: &Forecast, now: DateTime<Utc>) {
    let today = now.with_timezone(&ZONE).date_naive();
    for date in forecast.horizon.dates() {
        lines.push(day_heading(date, today));
        let outages: Vec<&Outage> = forecast.on(date).collect();
        let unknown: Vec<String> = match forecast.knows(date) {
            true => Vec::new(),
            false => match unknown_on(forecast, date).as_slice() {
                [] => vec!["• Schedule not known for this day".to_owned()],
                stages => stages
                    .iter()
                    .map(|stage| format!("• {stage} times not known yet"))
                    .collect(),
            },
        };
        if outages.is_empty() && unknown.is_empty() {
            lines.push("• No loadshedding".to_owned());
        }
        lines.extend(outages.iter().map(|outage| outage_line(outage, date, now)));
        lines.extend(unknown);
    }
}

/// The stages without stored slots whose window touches `date`.
fn unknown_on(forecast: &Forecast, date: NaiveDate) -> Vec<Stage> {
    let (Some(day_start), Some(day_end)) = (
        date.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(ZONE).earliest()),
        date.succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(ZONE).earliest()),
    ) else {
        return Vec::new();
    };
    let (day_start, day_end) = (day_start.with_timezone(&Utc), day_end.with_timezone(&Utc));
    let mut stages: Vec<Stage> = forecast
        .timeline
        .windows()
        .into_iter()
        .filter(|w| forecast.unknown_stages.contains(&w.stage))
        .filter(|w| w.start.is_none_or(|s| s < day_end) && w.end.is_none_or(|e| e > day_start))
        .map(|w| w.stage)
        .collect();
    stages.dedup();
    stages
}

fn day_heading(date: NaiveDate, today: NaiveDate) -> String {
    let label = if date == today {
        "Today, "
    } else if Some(date) == today.succ_opt() {
        "Tomorrow, "
    } else {
        ""
    };
    format!("<u>{label}{}</u>", date.format("%a %-d %b"))
}

fn outage_line(outage: &Outage, date: NaiveDate, now: DateTime<Utc>) -> String {
    let slot = &outage.slot;
    let starts_before = slot.start.date_naive() < date;
    let ends_after = date
        .succ_opt()
        .is_some_and(|next| slot.end.naive_local() > next.and_time(NaiveTime::MIN));
    let mut line = if starts_before && ends_after {
        format!(
            "all day (from {} to {})",
            slot.start.format("%a %H:%M"),
            slot.end.format("%a %H:%M")
        )
    } else if starts_before {
        let from = if Some(slot.start.date_naive()) == date.pred_opt() {
            format!("{} the day before", slot.start.format("%H:%M"))
        } else {
            slot.start.format("%a %H:%M").to_string()
        };
        format!("until {} (from {from})", slot.end.format("%H:%M"))
    } else {
        slot_span(slot)
    };
    if slot.is_over(now) {
        line = format!("<s>{line}</s> over");
    }
    line.push_str(&format!(" {}", outage.cause));
    if slot.is_on(now) && date == now.with_timezone(&ZONE).date_naive() {
        // Only under today: under tomorrow's heading "now" would read as a mistake.
        line.push_str(" <b>now</b>");
    }
    if slot.duration() > LONG_SLOT {
        line.push_str(&format!(" ({})", duration_text(slot.duration())));
    }
    format!("• {line}")
}

/// `22:00–00:30`; an end at midnight the next day reads `24:00`, as schedules write it.
fn slot_span(slot: &Slot) -> String {
    let end = if slot.end.time() == NaiveTime::MIN
        && Some(slot.end.date_naive()) == slot.start.date_naive().succ_opt()
    {
        "24:00".to_owned()
    } else {
        slot.end.format("%H:%M").to_string()
    };
    format!("{}–{end}", slot.start.format("%H:%M"))
}

fn duration_text(duration: Duration) -> String {
    let minutes = duration.num_minutes();
    match (minutes / 60, minutes % 60) {
        (h, 0) => format!("{h} h"),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m:02} min"),
    }
}

/// Whole minutes, rounded up: a reminder 14 min 10 s ahead says 15, not 14.
fn minutes_until(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let seconds = (at - now).num_seconds();
    (seconds + 59).div_euclid(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(Duration::minutes(270)), "4 h 30 min");
        assert_eq!(duration_text(Duration::minutes(180)), "3 h");
        assert_eq!(duration_text(Duration::minutes(45)), "45 min");
        assert_eq!(duration_text(Duration::minutes(125)), "2 h 05 min");
    }

    #[test]
    fn minutes_round_up() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(minutes_until(now + Duration::seconds(850), now), 15);
        assert_eq!(minutes_until(now + Duration::minutes(15), now), 15);
        assert_eq!(minutes_until(now + Duration::seconds(1), now), 1);
    }

    #[test]
    fn long_names_are_shortened() {
        let long = "x".repeat(500);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), NAME_MAX_CHARS);
        assert!(short.ends_with('…'));
        assert_eq!(shorten("  Bertiburg "), "Bertiburg");
    }
}
