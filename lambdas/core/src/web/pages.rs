//! The HTML pages, written with maud: templates are Rust checked at compile time, and every `(value)`
//! spliced in is HTML-escaped unless marked otherwise (nothing here is). No JavaScript: the pages
//! are complete as served; the CSS is inline so one request gives the whole page.

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::clock::ZONE;
use crate::domain::{Area, Outage, Slot, Stage};
use crate::ports::StoredStage;
use crate::site::{SiteLinks, area_path, feed_path};

use super::view::{AreaView, DayView, Next, duration_text};

/// Readable on a phone, in light and dark mode; colours meet WCAG AA contrast against their
/// backgrounds (4.5:1 for text).
const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#4a4a4a;--link:#0b57d0;--box:#f3f3f3;--warn:#8a1c00}\
@media (prefers-color-scheme:dark){:root{--fg:#ececec;--bg:#121212;--muted:#c2c2c2;--link:#8ab4f8;--box:#242424;--warn:#ffb59e}}\
*{box-sizing:border-box}\
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}\
header,main,footer{max-width:40rem;margin:0 auto;padding:0 1rem}\
header{padding-top:1rem}\
a{color:var(--link)}\
h1{font-size:1.6rem;margin:.5rem 0}\
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\
.muted,footer{color:var(--muted)}\
.stage{background:var(--box);border-radius:.5rem;padding:.75rem 1rem;margin:1rem 0}\
.stage strong{font-size:1.25rem}\
.next{font-weight:600}\
ul{padding-left:1.25rem;margin:.25rem 0}\
li{margin:.25rem 0}\
ul.areas{list-style:none;padding:0}\
ul.areas li{margin:.75rem 0}\
.over{color:var(--muted);text-decoration:line-through}\
.now{color:var(--warn);font-weight:700}\
footer{font-size:.9rem;padding-bottom:2rem;margin-top:2rem}";

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a href="/" { "loadshed" }
                    " · loadshedding in South Africa"
                }
                main { (body) }
                footer {
                    p { "Times are South African (Africa/Johannesburg). Schedules come from Eskom and may change at short notice." }
                }
            }
        }
    }
}

/// `/`: the stage, when it last changed, and the followed areas.
pub fn home(stage: Option<&StoredStage>, areas: &[Area], now: DateTime<Tz>) -> Markup {
    layout(
        "Loadshedding: stage and followed areas",
        html! {
            h1 { "Loadshedding now" }
            (stage_box(stage))
            h2 { "Followed areas" }
            @if areas.is_empty() {
                p { "No area is followed yet. Follow yours with the Telegram bot's /subscribe." }
            } @else {
                ul.areas {
                    @for area in areas {
                        li {
                            a href=(area_path(&area.id)) { (area.name) }
                            @if !area.region.trim().is_empty() {
                                br;
                                span.muted { (area.region) }
                            }
                        }
                    }
                }
            }
            p.muted { "As of " (now.format("%a %-d %b %Y, %H:%M")) "." }
        },
    )
}

/// `/areas/{id}`: the stage, what happens next, the days' slots and the calendar links.
pub fn area(view: &AreaView, site: Option<&SiteLinks>, bot: Option<&str>) -> Markup {
    let title = format!("Loadshedding in {}", view.area.name);
    let today = view.today();
    layout(
        &title,
        html! {
            h1 { (view.area.name) }
            @if !view.area.region.trim().is_empty() {
                p.muted { (view.area.region) }
            }
            (stage_box(view.stage.as_ref()))
            @if let Some(timeline) = &view.timeline {
                p.timeline { (timeline) }
            }
            (next_line(view))
            @for day in &view.days {
                (day_section(day, today, view.now))
            }
            h2 { "In your calendar" }
            p { "Every upcoming outage as a calendar event, updated about every hour:" }
            ul {
                @match site {
                    Some(site) => {
                        li { a href=(site.webcal(&view.area.id)) { "Subscribe in your calendar app" } }
                        li { a href=(site.feed(&view.area.id)) { "Calendar feed (.ics)" } " · " (site.feed(&view.area.id)) }
                    }
                    None => {
                        li { a href=(feed_path(&view.area.id)) { "Calendar feed (.ics)" } }
                    }
                }
            }
            @if let Some(bot) = bot {
                h2 { "Alerts on Telegram" }
                p {
                    "A reminder before each outage, and a message when the stage or the schedule changes: "
                    a href={ "https://t.me/" (bot) } { "@" (bot) }
                }
            }
            p.muted { "As of " (view.now.format("%a %-d %b %Y, %H:%M")) ". " a href="/" { "All followed areas" } }
        },
    )
}

/// A page for a refused request: 404, 400, 405, 414, 503.
pub fn problem(title: &str, explanation: &str) -> Markup {
    layout(
        title,
        html! {
            h1 { (title) }
            p { (explanation) }
            p { a href="/" { "See the stage and the followed areas" } }
        },
    )
}

fn stage_box(stage: Option<&StoredStage>) -> Markup {
    html! {
        div.stage {
            @match stage {
                Some(stored) => {
                    strong { (stage_name(stored.stage)) }
                    br;
                    @let since = stored.updated_at.with_timezone(&ZONE);
                    "since "
                    time datetime=(since.to_rfc3339_opts(SecondsFormat::Secs, false)) { (since.format("%a %-d %b %Y, %H:%M")) }
                }
                None => { strong { "Stage not known yet" } }
            }
        }
    }
}

fn stage_name(stage: Stage) -> String {
    if stage.is_loadshedding() {
        format!("Loadshedding {stage}")
    } else {
        "No loadshedding".to_owned()
    }
}

fn next_line(view: &AreaView) -> Markup {
    html! {
        p.next {
            @match view.next {
                Some(Next::EndsIn { outage, left }) => {
                    "Power is off now (" (outage.cause) "): back at " (clock_time(outage.slot.end, outage.slot.start.date_naive()))
                    " (in " (duration_text(left)) ")."
                }
                Some(Next::StartsIn { outage, left }) => {
                    "Next outage " (day_words(outage.slot.start.date_naive(), view.today())) ": "
                    (span_text(&outage.slot, outage.slot.start.date_naive()))
                    " (" (outage.cause) "), starts in " (duration_text(left)) "."
                }
                None => @match &view.stage {
                    None => "The stage is not known yet.",
                    Some(_) if view.days.iter().all(|d| d.known) => "No outages ahead in the days shown.",
                    Some(_) if view.days.iter().any(|d| d.known) => "No more outages in the published schedule.",
                    Some(_) => "The schedule at this stage is not known yet.",
                },
            }
        }
    }
}

fn day_section(day: &DayView, today: NaiveDate, now: DateTime<Tz>) -> Markup {
    html! {
        section {
            h2 { (day_heading(day.date, today)) }
            @if !day.outages.is_empty() {
                ul.slots {
                    @for outage in &day.outages {
                        (slot_item(outage, day.date, now))
                    }
                }
            }
            @if !day.known {
                p { "Not published yet." }
            } @else if day.outages.is_empty() {
                p { "No loadshedding." }
            }
        }
    }
}

/// One outage as listed under `date`: the times carry machine-readable `datetime`s, and its cause
/// follows.
fn slot_item(outage: &Outage, date: NaiveDate, now: DateTime<Tz>) -> Markup {
    let slot = &outage.slot;
    let over = slot.end <= now;
    let on = slot.start <= now && now < slot.end;
    html! {
        li.slot.over[over] data-start=(slot.start.to_rfc3339()) data-end=(slot.end.to_rfc3339()) {
            time datetime=(slot.start.to_rfc3339()) { (stamp(slot.start, date)) }
            "–"
            time datetime=(slot.end.to_rfc3339()) { (clock_time(slot.end, date)) }
            " " span.cause { (outage.cause) }
            @if over { " (over)" }
            @if on { " " span.now { "on now" } }
        }
    }
}

fn span_text(slot: &Slot, date: NaiveDate) -> String {
    format!("{}–{}", stamp(slot.start, date), clock_time(slot.end, date))
}

/// A start as seen from `date`'s list: its weekday only when it is on another day.
fn stamp(at: DateTime<Tz>, date: NaiveDate) -> String {
    if at.date_naive() == date {
        at.format("%H:%M").to_string()
    } else {
        at.format("%a %H:%M").to_string()
    }
}

/// An end as seen from `date`'s list: midnight after it reads `24:00`, as schedules write it.
fn clock_time(at: DateTime<Tz>, date: NaiveDate) -> String {
    if at.time() == NaiveTime::MIN && Some(at.date_naive()) == date.succ_opt() {
        "24:00".to_owned()
    } else {
        stamp(at, date)
    }
}

fn day_heading(date: NaiveDate, today: NaiveDate) -> String {
    let full = date.format("%A %-d %B");
    if date == today {
        format!("Today, {full}")
    } else if Some(date) == today.succ_opt() {
        format!("Tomorrow, {full}")
    } else {
        full.to_string()
    }
}

/// The day in a sentence: "today", "tomorrow", "on Thursday 3 December".
fn day_words(date: NaiveDate, today: NaiveDate) -> String {
    if date == today {
        "today".to_owned()
    } else if Some(date) == today.succ_opt() {
        "tomorrow".to_owned()
    } else {
        format!("on {}", date.format("%A %-d %B"))
    }
}
