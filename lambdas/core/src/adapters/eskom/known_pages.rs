//! Pages Eskom serves instead of the answer asked for.

/// The web application firewall's block page ("Request Rejected ... Your support ID is ..."). It has
/// been served with status 200 and in place of any endpoint's answer, so every body is checked.
pub fn is_request_rejected(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("<title>request rejected</title>")
        || lower.contains("the requested url was rejected")
}

/// GetScheduleM's answer for a suburb Eskom does not supply directly ("We regret that we could not
/// find an Eskom schedule ..."): its customers are the municipality's.
pub fn is_not_supplied(body: &str) -> bool {
    body.to_ascii_lowercase()
        .contains("we regret that we could not")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_firewall_page_by_title_or_text() {
        assert!(is_request_rejected(
            "<html><head><TITLE>Request Rejected</TITLE></head></html>"
        ));
        assert!(is_request_rejected(
            "<body>The requested URL was rejected. Please consult with your administrator.</body>"
        ));
        assert!(!is_request_rejected("4"));
        assert!(!is_request_rejected(
            "<div class=\"dayMonth\">Mon, 07 Sep</div>"
        ));
    }

    #[test]
    fn recognises_the_not_supplied_page() {
        assert!(is_not_supplied(
            "<p>We regret that we could not find a schedule for this area.</p>"
        ));
        assert!(!is_not_supplied("<div class=\"scheduleDay\"></div>"));
    }
}
