//! What a person watching a local run sees: the execution as it happens, and the messages.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use asl::{HistoryEvent, HistoryListener};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loadshed_core::domain::ChatId;
use loadshed_core::ports::{Message, Messenger, SendError, Sent, TextFormat};

/// Telegram in dry-run: prints each message instead of sending it.
#[derive(Default)]
pub struct PrintingMessenger {
    next_id: AtomicI64,
}

#[async_trait]
impl Messenger for PrintingMessenger {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        let text = match message.format {
            TextFormat::Html => html_to_text(&message.text),
            TextFormat::Plain => message.text.clone(),
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "\n  ✉ to chat {chat} (dry run: not sent)");
        for line in text.lines() {
            let _ = writeln!(out, "  │ {line}");
        }
        Ok(Sent {
            message_id: self.next_id.fetch_add(1, Ordering::SeqCst) + 1,
        })
    }
}

/// Telegram HTML as a reader sees it: tags dropped, entities decoded. Only the tags and entities our
/// renderer writes occur, so this small decoder is all a dry run needs.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Prints history events as they happen: states entered, task failures and retries, the outcome.
#[derive(Default)]
pub struct HistoryPrinter {
    started: Mutex<Option<DateTime<Utc>>>,
    last_failure: Mutex<Option<DateTime<Utc>>>,
}

impl HistoryListener for HistoryPrinter {
    fn on_event(&self, event: &HistoryEvent) {
        if let Some(line) = self.describe(event) {
            println!("{line}");
        }
    }
}

impl HistoryPrinter {
    fn describe(&self, event: &HistoryEvent) -> Option<String> {
        let detail = |key: &str| {
            event
                .details
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let elapsed = {
            let mut started = self.started.lock().ok()?;
            let start = *started.get_or_insert(event.timestamp);
            (event.timestamp - start).num_milliseconds() as f64 / 1000.0
        };
        let at = format!("[{elapsed:>7.3}s]");
        match event.event_type.as_str() {
            "ExecutionStarted" => Some(format!(
                "{at} ▶ execution started, input {}",
                detail("input")
            )),
            t if t.ends_with("StateEntered") => Some(format!("{at} → {}", detail("name"))),
            "LambdaFunctionScheduled" | "TaskScheduled" => {
                let retry = self.last_failure.lock().ok()?.take();
                retry.map(|failed| {
                    let waited = (event.timestamp - failed).num_milliseconds() as f64 / 1000.0;
                    format!("{at}   ↻ retrying after {waited:.3}s")
                })
            }
            "LambdaFunctionFailed" | "TaskFailed" | "LambdaFunctionTimedOut" | "TaskTimedOut" => {
                if let Ok(mut last) = self.last_failure.lock() {
                    *last = Some(event.timestamp);
                }
                Some(format!(
                    "{at}   ✗ {}: {}",
                    detail("error"),
                    short(&detail("cause"))
                ))
            }
            "ExecutionSucceeded" => Some(format!("{at} ✔ SUCCEEDED")),
            "ExecutionFailed" => Some(format!(
                "{at} ✘ FAILED {}: {}",
                detail("error"),
                short(&detail("cause"))
            )),
            "ExecutionTimedOut" => Some(format!("{at} ✘ TIMED_OUT")),
            _ => None,
        }
    }
}

fn short(text: &str) -> String {
    const MAX: usize = 200;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(MAX).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_reads_as_text() {
        assert_eq!(
            html_to_text("<b>Stage 4</b> &lt;Tom &amp; Jerry&gt;"),
            "Stage 4 <Tom & Jerry>"
        );
    }
}
