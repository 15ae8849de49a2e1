//! GetStatus: the national stage as Eskom's own site reads it.

use crate::domain::Stage;
use crate::errors::UpstreamError;

use super::SERVICE;

/// Reads GetStatus's body: a bare number N meaning stage N-1, so 1 is "no loadshedding" and 9 is
/// stage 8.
///
/// Eskom's endpoint is known to flap to `0` and `-1` for minutes at a time; those, and any other
/// number outside 1..=9, are an [`UpstreamError::InvalidReading`] (transient: ask again soon), never
/// a stage. Anything that is no number at all (an HTML error page, an empty body) is
/// [`UpstreamError::Malformed`].
pub fn parse_status(body: &str) -> Result<Stage, UpstreamError> {
    let text = body.trim();
    // The body is served as JSON; a JSON string "4" would mean the same as 4.
    let number = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    let reading: i64 = number.parse().map_err(|_| UpstreamError::Malformed {
        service: SERVICE,
        detail: format!(
            "GetStatus answered {:?}, not a number",
            crate::adapters::http::excerpt(body)
        ),
    })?;
    let invalid = || UpstreamError::InvalidReading {
        service: SERVICE,
        reading: number.to_owned(),
    };
    if !(1..=9).contains(&reading) {
        return Err(invalid());
    }
    Stage::try_from(reading - 1).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::{ErrorName, Named};

    #[test]
    fn body_n_is_stage_n_minus_one() {
        for n in 1..=9u8 {
            let stage = parse_status(&n.to_string()).expect("valid reading");
            assert_eq!(stage.number(), n - 1);
        }
        assert_eq!(parse_status(" 5\r\n").map(Stage::number).ok(), Some(4));
        assert_eq!(parse_status("\"3\"").map(Stage::number).ok(), Some(2));
    }

    #[test]
    fn flapping_values_are_transient_invalid_readings() {
        for body in ["0", "-1", "10", "99"] {
            let error = parse_status(body).expect_err(body);
            assert_eq!(error.error_name(), ErrorName::StageReadingInvalid, "{body}");
            assert!(error.error_name().is_transient());
        }
    }

    #[test]
    fn non_numbers_are_malformed() {
        for body in ["", "four", "<html><body>Error</body></html>", "1.5", "[1]"] {
            let error = parse_status(body).expect_err(body);
            assert_eq!(error.error_name(), ErrorName::UpstreamMalformed, "{body:?}");
        }
    }
}
