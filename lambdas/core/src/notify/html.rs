//! Telegram's HTML parse mode: escaping, and keeping each message within the length limit.

/// Telegram's limit for a message text: 4096 characters after entity parsing, counted in UTF-16
/// code units (how the Bot API measures entity offsets and lengths).
pub const MESSAGE_LIMIT: usize = 4096;

/// Escapes text for Telegram HTML.
///
/// Hand-written because Telegram's set is narrow: it understands exactly the named entities `&lt;`,
/// `&gt;`, `&amp;` and `&quot;`, and general HTML escapers emit others (`&#x27;`, `&apos;`) that a
/// different target needs and Telegram's docs do not promise.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Length as Telegram counts it. Measured on the HTML source, which is never shorter than the text
/// left after Telegram strips the tags and decodes the entities: a conservative bound.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits HTML made of self-contained lines (every tag closed on the line that opens it) into
/// messages of at most `limit` UTF-16 units, breaking only between lines. A single line longer than
/// `limit` is broken between characters, never inside a tag or an entity, with its open tags closed
/// at the break and reopened after it. Blank lines at the edges of a part are dropped, and so are
/// parts with nothing to show (Telegram refuses an empty text).
pub fn split(html: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for line in html.split('\n') {
        let line_len = utf16_len(line);
        let joined_len = if current.is_empty() {
            line_len
        } else {
            utf16_len(&current) + 1 + line_len
        };
        if joined_len <= limit {
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(line);
            continue;
        }
        push_part(&mut parts, std::mem::take(&mut current));
        if line_len <= limit {
            current.push_str(line);
        } else {
            let mut pieces = break_line(line, limit);
            // The tail may share its part with the lines that follow.
            current = pieces.pop().unwrap_or_default();
            for piece in pieces {
                push_part(&mut parts, piece);
            }
        }
    }
    push_part(&mut parts, current);
    parts
}

fn push_part(parts: &mut Vec<String>, part: String) {
    let trimmed = part.trim_matches('\n');
    if !trimmed.trim().is_empty() {
        parts.push(trimmed.to_owned());
    }
}

/// Longer than any entity name Telegram knows, and than a numeric one (`#128268`).
const ENTITY_MAX_LEN: usize = 12;

/// The length of the entity `text` starts with (`&amp;`, `&#128268;`), if it starts with one: a
/// stray '&' must not swallow the text up to some later ';'.
fn entity_len(text: &str) -> Option<usize> {
    let body = text
        .bytes()
        .skip(1)
        .take(ENTITY_MAX_LEN)
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
        .count();
    (body > 0 && text.as_bytes().get(1 + body) == Some(&b';')).then_some(body + 2)
}

/// The indivisible pieces of a line of HTML.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Open { tag: &'a str, name: &'a str },
    Close(&'a str),
    Text(&'a str),
}

fn tokenize(line: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = line;
    while let Some(first) = rest.chars().next() {
        let end = match first {
            '<' => rest.find('>').map(|i| i + 1),
            '&' => entity_len(rest),
            _ => None,
        }
        .unwrap_or(first.len_utf8());
        let (token, tail) = rest.split_at(end);
        rest = tail;
        tokens.push(if token.len() > 1 && token.starts_with("</") {
            Token::Close(token)
        } else if token.len() > 1 && token.starts_with('<') {
            let name = token[1..token.len() - 1]
                .split_whitespace()
                .next()
                .unwrap_or_default();
            Token::Open { tag: token, name }
        } else {
            Token::Text(token)
        });
    }
    tokens
}

fn break_line(line: &str, limit: usize) -> Vec<String> {
    let closers = |open: &[(&str, &str)]| -> String {
        open.iter()
            .rev()
            .map(|(_, name)| format!("</{name}>"))
            .collect()
    };
    let mut pieces = Vec::new();
    let mut open: Vec<(&str, &str)> = Vec::new();
    let mut piece = String::new();
    let mut piece_has_content = false;
    for token in tokenize(line) {
        let mut after = open.clone();
        let text = match token {
            Token::Open { tag, name } => {
                after.push((tag, name));
                tag
            }
            Token::Close(tag) => {
                after.pop();
                tag
            }
            Token::Text(text) => text,
        };
        let needed = utf16_len(&piece) + utf16_len(text) + utf16_len(&closers(&after));
        // A piece holding only reopened tags takes the token anyway, so the loop always advances.
        if needed > limit && piece_has_content {
            piece.push_str(&closers(&open));
            pieces.push(std::mem::take(&mut piece));
            piece = open.iter().map(|(tag, _)| *tag).collect();
            piece_has_content = false;
        }
        piece.push_str(text);
        piece_has_content |= matches!(token, Token::Text(_));
        open = after;
    }
    pieces.push(piece);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_exactly_what_telegram_parses() {
        assert_eq!(
            escape(r#"<b>&"x'_*[]()~`>#+-=|{}.!\"#),
            r#"&lt;b&gt;&amp;&quot;x'_*[]()~`&gt;#+-=|{}.!\"#
        );
    }

    #[test]
    fn counts_utf16_units() {
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(utf16_len("⚡"), 1);
        assert_eq!(utf16_len("🔌"), 2);
    }

    #[test]
    fn short_text_stays_whole() {
        assert_eq!(split("a\nb", 10), ["a\nb"]);
        assert_eq!(split("\n\n", 10), Vec::<String>::new());
    }

    #[test]
    fn splits_between_lines() {
        assert_eq!(split("aaaa\nbbbb\ncc", 9), ["aaaa\nbbbb", "cc"]);
        assert_eq!(split("aaaa\n\nbbbb", 5), ["aaaa", "bbbb"]);
    }

    #[test]
    fn breaks_an_overlong_line_outside_tags_and_entities() {
        let parts = split("<b>a&amp;bcdef</b>\nz", 14);
        for part in &parts {
            assert!(utf16_len(part) <= 14, "{part}");
        }
        assert_eq!(parts, ["<b>a&amp;b</b>", "<b>cdef</b>\nz"]);
    }

    #[test]
    fn a_stray_ampersand_does_not_hide_the_text_after_it() {
        let tokens = tokenize("a & b; c&amp;&#128268;");
        assert_eq!(tokens[2], Token::Text("&"));
        assert_eq!(
            tokens[tokens.len() - 2..],
            [Token::Text("&amp;"), Token::Text("&#128268;")]
        );
    }

    #[test]
    fn surrogate_pairs_count_double() {
        let parts = split("🔌🔌🔌", 4);
        assert_eq!(parts, ["🔌🔌", "🔌"]);
    }
}
