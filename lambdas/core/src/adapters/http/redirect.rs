//! Which redirects are followed: only to the request's own scheme, host and port, at most
//! [`MAX_REDIRECTS`] times.
//!
//! EskomSePush's requests carry a `Token` header and Telegram's carry the bot token in the path: a
//! redirect elsewhere would hand the secret to whoever the `Location` names, or send it in clear
//! over http. reqwest's own policies limit only the count, and strip only some headers on a
//! cross-origin hop (never a token in the path), hence this one. A refused redirect is returned as
//! the 3xx answer it is. One policy for every request lets the process keep one client; the Eskom
//! site needs no other (its captured answers in ../shared/fixtures/upstream are all direct 200s).
//! reqwest itself turns a 301/302 after a POST, and any 303, into a GET without the body, as
//! browsers do.

use reqwest::redirect::{Attempt, Policy};

/// The most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

pub fn policy() -> Policy {
    Policy::custom(|attempt| {
        let verdict = verdict(&attempt);
        match verdict {
            Verdict::Follow => attempt.follow(),
            Verdict::AwayFromOrigin => {
                tracing::warn!(
                    to_host = attempt.url().host_str().unwrap_or_default(),
                    "redirect away from the origin refused"
                );
                attempt.stop()
            }
            Verdict::TooMany => {
                tracing::warn!(
                    followed = MAX_REDIRECTS,
                    "redirect refused: too many on one request"
                );
                attempt.stop()
            }
        }
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Follow,
    AwayFromOrigin,
    TooMany,
}

/// `previous` holds the first request's URL and every one followed since.
fn verdict(attempt: &Attempt<'_>) -> Verdict {
    let Some(first) = attempt.previous().first() else {
        return Verdict::AwayFromOrigin;
    };
    if attempt.url().origin() != first.origin() {
        Verdict::AwayFromOrigin
    } else if attempt.previous().len() > MAX_REDIRECTS {
        Verdict::TooMany
    } else {
        Verdict::Follow
    }
}
