//! Timestamps as AWS checks them in `Wait.Timestamp` and the `Timestamp*` Choice operators: RFC 3339 with an upper- or
//! lower-case `T` between date and time and a mandatory offset (`Z` or `+hh:mm`).

use chrono::DateTime;

/// chrono's RFC 3339 parser also takes a space for the `T` (RFC 3339 allows it in a note), which AWS rejects, so the
/// separator is checked here first.
pub(crate) fn is_rfc3339(text: &str) -> bool {
    matches!(text.as_bytes().get(10), Some(b'T' | b't'))
        && DateTime::parse_from_rfc3339(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_rfc3339;

    #[test]
    fn accepts_utc_offsets_and_fractions() {
        assert!(is_rfc3339("2016-03-14T01:59:00Z"));
        assert!(is_rfc3339("2016-03-14T01:59:00.123+02:00"));
    }

    #[test]
    fn rejects_what_aws_rejects() {
        for bad in [
            "2016-13-05T21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
