//! The texts subscribers read, in Telegram HTML. Every piece of upstream or user text goes through
//! [`escape`]; every message goes through [`html::split`] so none exceeds Telegram's limit.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::clock::ZONE;
use crate::domain::{Area, Schedule, Slot, Stage};
use crate::ports::{Message, StoredStage};

use super::html::{self, MESSAGE_LIMIT, escape};

/// Slots longer than this show their duration: the usual slot is 2 h or 2 h 30, and a longer one
/// (merged back-to-back slots, high stages) is worth spelling out.
pub const LONG_SLOT: Duration = Duration::minutes(150);

/// Upstream names are labels; one absurdly long name must not crowd out the schedule it labels.
const NAME_MAX_CHARS: usize = 120;

/// An area and its stored schedule at the current stage, if there is one.
#[derive(Debug, Clone, Copy)]
pub struct AreaOutlook<'a> {
    pub area: &'a Area,
    pub schedule: Option<&'a Schedule>,
}

/// The national stage changed: the new stage, then each of the chat's areas today and tomorrow.
pub fn stage_change(
    stage: Stage,
    previous: Option<Stage>,
    areas: &[AreaOutlook<'_>],
    now: DateTime<Utc>,
) -> Vec<Message> {
    let mut lines = Vec::new();
    let was = previous
        .map(|p| format!(" (was {})", stage_text(p)))
        .unwrap_or_default();
    if stage.is_loadshedding() {
        lines.push(format!("⚡ Loadshedding is now <b>{stage}</b>{was}."));
    } else {
        lines.push(format!("✅ <b>Loadshedding is suspended</b>{was}."));
    }
    for outlook in areas {
        lines.push(String::new());
        area_block(&mut lines, stage, outlook, now);
    }
    to_messages(&lines)
}

/// An area's schedule changed at the current stage: its slots from today on.
pub fn schedule_change(area: &Area, schedule: &Schedule, now: DateTime<Utc>) -> Vec<Message> {
    let today = now.with_timezone(&ZONE).date_naive();
    let mut lines = vec![
        format!("🗓 New schedule for {}", area_title(area)),
        format!("<b>{}</b>", schedule.stage),
    ];
    let mut any = false;
    for day in schedule.days().filter(|d| d.date >= today) {
        any = true;
        lines.push(day_heading(day.date, today));
        day_lines(&mut lines, day.date, Some(&day.slots), now);
    }
    if !any {
        lines.push("No days from today on were published.".to_owned());
    }
    to_messages(&lines)
}

/// A slot in one of the chat's areas starts soon (or, when the reminder runs late, has started).
pub fn reminder(area: &Area, slot: &Slot, stage: Stage, now: DateTime<Utc>) -> Message {
    let span = slot_span(slot);
    let text = if slot.start > now {
        let minutes = minutes_until(slot.start.with_timezone(&Utc), now);
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        format!(
            "⏰ Loadshedding in {minutes} {unit} in {}: <b>{span}</b> ({stage}).",
            area_title(area)
        )
    } else {
        format!(
            "⏰ Loadshedding has started in {}: <b>{span}</b> ({stage}).",
            area_title(area)
        )
    };
    // One short line: always within the limit, so no split is needed.
    Message::html(text)
}

/// `/status`: the stored stage, then each of the chat's areas today and tomorrow.
pub fn status(
    stage: Option<&StoredStage>,
    areas: &[AreaOutlook<'_>],
    now: DateTime<Utc>,
) -> Vec<Message> {
    let mut lines = Vec::new();
    match stage {
        Some(stored) => {
            let since = stored.updated_at.with_timezone(&ZONE);
            lines.push(format!(
                "<b>{}</b> (since {} {})",
                stored.stage,
                since.format("%a %-d %b"),
                since.format("%H:%M")
            ));
        }
        None => lines.push("The stage is not known yet.".to_owned()),
    }
    if areas.is_empty() {
        lines.push(String::new());
        lines.push("You have no areas yet: send /subscribe followed by a place name.".to_owned());
    }
    let current = stage.map(|s| s.stage);
    for outlook in areas {
        lines.push(String::new());
        match current {
            Some(stage) => area_block(&mut lines, stage, outlook, now),
            None => {
                lines.push(area_title(outlook.area));
                lines.push("Schedule unknown until the stage is known.".to_owned());
            }
        }
    }
    to_messages(&lines)
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

/// The area's title and its today and tomorrow, at `stage`.
fn area_block(
    lines: &mut Vec<String>,
    stage: Stage,
    outlook: &AreaOutlook<'_>,
    now: DateTime<Utc>,
) {
    lines.push(area_title(outlook.area));
    let today = now.with_timezone(&ZONE).date_naive();
    // A schedule stored for another stage says nothing about this one.
    let schedule = outlook.schedule.filter(|s| s.stage == stage);
    for date in [Some(today), today.succ_opt()].into_iter().flatten() {
        lines.push(day_heading(date, today));
        let slots = match schedule.and_then(|s| s.day(date)) {
            Some(day) => Some(day.slots),
            // Stage 0 needs no schedule to know there are no outages.
            None if !stage.is_loadshedding() => Some(Vec::new()),
            None => None,
        };
        day_lines(lines, date, slots.as_deref(), now);
    }
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

/// `slots` is `None` when the day is not known.
fn day_lines(lines: &mut Vec<String>, date: NaiveDate, slots: Option<&[Slot]>, now: DateTime<Utc>) {
    match slots {
        None => lines.push("• Schedule not known".to_owned()),
        Some([]) => lines.push("• No loadshedding".to_owned()),
        Some(slots) => lines.extend(slots.iter().map(|slot| slot_line(slot, date, now))),
    }
}

fn slot_line(slot: &Slot, date: NaiveDate, now: DateTime<Utc>) -> String {
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
    } else if slot.is_on(now) && date == now.with_timezone(&ZONE).date_naive() {
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
