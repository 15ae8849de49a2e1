//! The bot's links to the web pages: each area's page at the end of `/status`, and each area's
//! calendar feeds for `/calendar`. Telegram HTML, split to its message limit like every reply.

use crate::domain::Area;
use crate::notify::html::{MESSAGE_LIMIT, escape, split};
use crate::ports::Message;
use crate::site::SiteLinks;

/// Adds a line per area linking its page after the last of the `/status` messages (in it when it
/// fits, else in a message of its own).
pub fn append_page_links(parts: &mut Vec<Message>, site: &SiteLinks, areas: &[Area]) {
    if areas.is_empty() {
        return;
    }
    let mut lines = vec![String::new(), "🌐 On the web:".to_owned()];
    lines.extend(areas.iter().map(|area| {
        format!(
            "<a href=\"{}\">{}</a>",
            escape(&site.area_page(&area.id)),
            escape(&area.name)
        )
    }));
    let mut html = match parts.pop() {
        Some(last) => last.text,
        None => String::new(),
    };
    html.push('\n');
    html.push_str(&lines.join("\n"));
    parts.extend(split(&html, MESSAGE_LIMIT).into_iter().map(Message::html));
}

/// `/calendar`: for each area, its feed to subscribe to (`webcal://`, which phones hand to their
/// calendar app), its https address (for apps that ask for one), and its page.
pub fn calendar(site: &SiteLinks, areas: &[Area]) -> Vec<Message> {
    let mut lines = vec![
        "🗓 <b>Your areas' outages in your calendar</b>".to_owned(),
        "Subscribe in your calendar app with an address below (or from the area's web page). Each outage becomes an event, updated about every hour.".to_owned(),
    ];
    for area in areas {
        lines.push(String::new());
        lines.push(format!(
            "<b>{}</b> <i>({})</i>",
            escape(&area.name),
            escape(&area.region)
        ));
        // Telegram takes only http(s) and tg links in HTML, so the webcal address is tap-to-copy
        // code, and the web page (whose Subscribe link is webcal) is the link.
        lines.push(format!(
            "Subscribe: <code>{}</code>",
            escape(&site.webcal(&area.id))
        ));
        lines.push(format!("Address: {}", escape(&site.feed(&area.id))));
        lines.push(format!(
            "<a href=\"{}\">Its web page</a>",
            escape(&site.area_page(&area.id))
        ));
    }
    split(&lines.join("\n"), MESSAGE_LIMIT)
        .into_iter()
        .map(Message::html)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteLinks {
        SiteLinks::parse("https://web.example/").expect("site")
    }

    #[test]
    fn status_ends_with_each_areas_page() {
        let areas = [
            Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0),
            Area::sepush("x-1", "A <b>&", "Somewhere"),
        ];
        let mut parts = vec![Message::html("<b>Stage 4</b>")];
        append_page_links(&mut parts, &site(), &areas);
        assert_eq!(parts.len(), 1);
        let text = &parts[0].text;
        assert!(text.starts_with("<b>Stage 4</b>\n"), "{text}");
        assert!(
            text.ends_with(
                "<a href=\"https://web.example/areas/eskom:64106\">Bertiburg</a>\n<a href=\"https://web.example/areas/esp:x-1\">A &lt;b&gt;&amp;</a>"
            ),
            "{text}"
        );
        let mut none = vec![Message::html("x")];
        append_page_links(&mut none, &site(), &[]);
        assert_eq!(none, vec![Message::html("x")]);
    }

    #[test]
    fn links_past_the_limit_go_in_another_message() {
        let full = "x".repeat(MESSAGE_LIMIT - 5);
        let mut parts = vec![Message::html(full.clone())];
        let area = Area::eskom(1, "Ashton", "Senqu", "Eastern Cape", 1, 0);
        append_page_links(&mut parts, &site(), &[area]);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].text, full);
        assert!(parts[1].text.contains("areas/eskom:1"));
    }

    #[test]
    fn calendar_gives_webcal_and_https_feeds() {
        let area = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0);
        let parts = calendar(&site(), &[area]);
        assert_eq!(parts.len(), 1);
        let text = &parts[0].text;
        assert!(
            text.contains("Subscribe: <code>webcal://web.example/areas/eskom:64106.ics</code>"),
            "{text}"
        );
        assert!(
            text.contains("\nAddress: https://web.example/areas/eskom:64106.ics"),
            "{text}"
        );
        assert!(
            text.contains("<a href=\"https://web.example/areas/eskom:64106\">Its web page</a>"),
            "{text}"
        );
    }
}
