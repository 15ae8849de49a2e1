//! What the bot says in its own words. Plain text (no parse mode), so names from upstream need no
//! escaping here.

use crate::domain::{Area, ReminderLead};
use crate::notify::render::shorten;

/// An area as the texts name it: upstream's name and region, each cut as notify cuts them, so no
/// upstream value can push a message past Telegram's 4,096 characters or a toast past 200.
fn named(area: &Area) -> String {
    format!("{} ({})", shorten(&area.name), shorten(&area.region))
}

pub fn help() -> String {
    "loadshed tells you when your power goes off: the loadshedding stage, your area's outage \
     slots for today and tomorrow, and a reminder before each slot.\n\
     \n\
     /subscribe <place> - follow an area, e.g. /subscribe Fourways\n\
     /unsubscribe - stop following an area\n\
     /status - the stage and your areas' slots for today and tomorrow\n\
     /calendar - your areas' outages as calendar feeds for your phone\n\
     /refresh - fetch the latest stage and schedules now\n\
     /settings - how long before an outage you are reminded\n\
     /channel - (operators) post an area's news to a channel as well\n\
     /help - this message"
        .to_owned()
}

/// `/settings`: the reminder lead now, and the choice.
pub fn settings(lead: ReminderLead) -> String {
    let now = match lead.before() {
        Some(_) => format!(
            "You are reminded {} minutes before each outage.",
            lead.minutes()
        ),
        None => "Reminders are off.".to_owned(),
    };
    format!("{now}\nHow long before an outage should I remind you?")
}

/// A `/settings` button's label.
pub fn reminder_lead_button(lead: ReminderLead, chosen: bool) -> String {
    let label = match lead.minutes() {
        0 => "Off".to_owned(),
        minutes => format!("{minutes} min"),
    };
    if chosen {
        format!("✓ {label}")
    } else {
        label
    }
}

/// After a tap on a `/settings` button.
pub fn reminder_lead_set(lead: ReminderLead) -> String {
    match lead.before() {
        Some(_) => format!(
            "Done: you will be reminded {} minutes before each outage. /settings changes it.",
            lead.minutes()
        ),
        None => "Done: no more reminders. /settings turns them back on.".to_owned(),
    }
}

pub fn unknown_command() -> String {
    "I did not understand that. /help lists what I can do.".to_owned()
}

pub fn subscribe_how() -> String {
    "Tell me where: /subscribe followed by your suburb or town, e.g. /subscribe Fourways".to_owned()
}

pub fn search_too_long(max_chars: usize) -> String {
    format!("That is a long name. Try a suburb or town in at most {max_chars} characters.")
}

pub fn no_matches(query: &str) -> String {
    format!(
        "I found no area matching \"{query}\". Try the suburb or town as Eskom spells it, or a shorter part of it."
    )
}

pub fn pick_area(query: &str) -> String {
    format!("Areas matching \"{query}\". Tap yours:")
}

pub fn too_many_searches(searches: u32, minutes: i64) -> String {
    format!(
        "That is a lot of searching: a chat can search {searches} times every {minutes} minutes. Please try again later."
    )
}

pub fn search_quota_used() -> String {
    "The area search has used its share of today's upstream allowance. Please try again tomorrow."
        .to_owned()
}

pub fn too_many_areas(max: usize) -> String {
    format!("A chat can follow at most {max} areas. /unsubscribe one first.")
}

pub fn too_slow() -> String {
    "That took too long on my side. Please try again in a minute.".to_owned()
}

pub fn search_failed() -> String {
    "The area search is not answering right now. Please try again in a minute.".to_owned()
}

pub fn subscribed(area: &Area, new: bool) -> String {
    let lead = if new {
        "Subscribed"
    } else {
        "This chat was already subscribed"
    };
    format!(
        "{lead} to {}. /status shows its slots; I will tell you when the stage or its schedule changes.",
        named(area)
    )
}

pub fn subscribed_toast(area: &Area) -> String {
    format!("Subscribed to {}", shorten(&area.name))
}

pub fn choice_expired() -> String {
    "This list has expired. Send /subscribe with your place again.".to_owned()
}

pub fn no_subscriptions() -> String {
    "This chat follows no area yet. /subscribe <place> adds one.".to_owned()
}

pub fn pick_unsubscribe() -> String {
    "Tap an area to stop following it:".to_owned()
}

pub fn unsubscribed(area: &Area) -> String {
    format!("Unsubscribed from {}.", named(area))
}

pub fn unsubscribed_toast(area: &Area) -> String {
    format!("Unsubscribed from {}", shorten(&area.name))
}

pub fn not_subscribed_any_more() -> String {
    "This chat no longer follows that area.".to_owned()
}

pub fn refresh_needs_area() -> String {
    "There is nothing to refresh yet: /subscribe <place> first.".to_owned()
}

pub fn refreshing() -> String {
    "Refreshing... the latest stage and slots follow in a moment.".to_owned()
}

pub fn already_refreshing(cooldown_seconds: i64) -> String {
    format!(
        "Already refreshing: the result is on its way. A chat can refresh once every {cooldown_seconds} seconds."
    )
}

pub fn refresh_failed() -> String {
    "I could not start the refresh just now. Please try again in a minute.".to_owned()
}

pub fn something_failed() -> String {
    "Something went wrong on my side. Please try again in a minute.".to_owned()
}

/// A button label: the name and where it is, cut to what a phone shows on one line.
pub fn area_button(prefix: &str, area: &Area) -> String {
    const MAX_CHARS: usize = 48;
    let full = format!("{prefix}{} ({})", area.name, area.region);
    if full.chars().count() <= MAX_CHARS {
        return full;
    }
    let mut cut: String = full.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

pub fn no_web_pages() -> String {
    "This bot has no web pages set up, so there are no calendar feeds to offer.".to_owned()
}

// ---- Area channels (`/channel`) -----------------------------------------------------------------

/// A channel as the texts name it: its title cut like an area's name, or its id.
fn channel_named(title: Option<&str>, id: i64) -> String {
    match title.filter(|t| !t.trim().is_empty()) {
        Some(title) => format!("\"{}\"", shorten(title)),
        None => format!("channel {id}"),
    }
}

pub fn channel_how() -> String {
    "Link a channel to an area, so the area's news is posted there once for all its members:\n\
     /channel @yourchannel <place>, e.g. /channel @fourways_power Fourways\n\
     First make this bot an administrator of the channel, allowed to post messages.\n\
     /channel off @yourchannel unlinks it (a private channel: use its id, -100...)."
        .to_owned()
}

pub fn channel_not_allowed(user: Option<i64>) -> String {
    let id = user.map_or_else(String::new, |id| format!(" (yours is {id})"));
    format!(
        "Only the bot's operators can link channels. An operator adds your Telegram id{id} to the bot's CHANNEL_ADMINS setting."
    )
}

pub fn channel_bad_reference(text: &str) -> String {
    format!(
        "\"{}\" is not a channel I can look up: write @channelname, or the channel's id (-100...).",
        shorten(text)
    )
}

pub fn channel_not_found() -> String {
    "Telegram does not show me that channel: check the name, and add this bot to the channel as an administrator allowed to post messages, then try again.".to_owned()
}

pub fn channel_not_a_channel() -> String {
    "That is not a channel. In a group, /subscribe <place> follows an area for the group itself."
        .to_owned()
}

pub fn channel_not_admin(title: Option<&str>, id: i64) -> String {
    format!(
        "This bot is not an administrator of {}. Make it one, with the right to post messages, then try again.",
        channel_named(title, id)
    )
}

pub fn channel_cannot_post(title: Option<&str>, id: i64) -> String {
    format!(
        "This bot is an administrator of {} but may not post messages there. Give it that right, then try again.",
        channel_named(title, id)
    )
}

pub fn channel_check_failed() -> String {
    "I could not check the channel with Telegram just now. Please try again in a minute.".to_owned()
}

pub fn pick_channel_area(title: Option<&str>, id: i64, query: &str) -> String {
    format!(
        "Areas matching \"{query}\". Tap the one whose news {} should carry:",
        channel_named(title, id)
    )
}

pub fn channel_linked(title: Option<&str>, id: i64, area: &Area, new: bool) -> String {
    let lead = if new { "Linked" } else { "Already linked:" };
    format!(
        "{lead} {} to {}. Its stage changes, schedule changes and outage reminders are posted there once for everyone; /subscribe shows the channel beside the area. /channel off {id} unlinks it.",
        channel_named(title, id),
        named(area)
    )
}

pub fn channel_linked_toast(area: &Area) -> String {
    format!("Channel linked to {}", shorten(&area.name))
}

pub fn channel_unlinked(title: Option<&str>, id: i64, areas: usize) -> String {
    format!(
        "Unlinked {} from its {areas} area(s): nothing more is posted there.",
        channel_named(title, id)
    )
}

pub fn channel_not_linked(title: Option<&str>, id: i64) -> String {
    format!("{} is not linked to any area.", channel_named(title, id))
}

/// A channel's line: its name, and where to join it when known.
fn channel_line(link: &crate::domain::ChannelLink) -> String {
    let name = channel_named(Some(&link.title), link.channel.0);
    match &link.url {
        Some(url) => format!("{name}: {url}"),
        None => name,
    }
}

/// Under a `/subscribe` list: the listed areas that have channels, beside the buttons that
/// subscribe this chat.
pub fn listed_channels(areas: &[(&Area, Vec<crate::domain::ChannelLink>)]) -> String {
    let mut lines =
        vec!["Or follow an area's channel, where its news is posted for everyone:".to_owned()];
    for (area, links) in areas {
        for link in links {
            lines.push(format!("{}: {}", shorten(&area.name), channel_line(link)));
        }
    }
    lines.join("\n")
}

/// The area's channels, after a subscription's confirmation: where everyone can follow it too.
pub fn area_channels(links: &[crate::domain::ChannelLink]) -> String {
    let lines: Vec<String> = links.iter().map(channel_line).collect();
    format!(
        "This area also has a channel, where its news is posted for everyone:\n{}",
        lines.join("\n")
    )
}
