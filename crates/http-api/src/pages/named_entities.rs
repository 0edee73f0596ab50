//! The escaper of every `.html` template (named in `askama.toml`).

use std::fmt;

use askama::filters::Escaper;

/// Writes the five HTML-special characters as named entities: `&lt;` where askama's own
/// escaper writes `&#60;`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NamedEntities;

impl Escaper for NamedEntities {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let mut plain = 0;
        for (at, c) in text.char_indices() {
            if let Some(entity) = entity(c) {
                dest.write_str(&text[plain..at])?;
                dest.write_str(entity)?;
                plain = at + c.len_utf8();
            }
        }
        dest.write_str(&text[plain..])
    }
}

fn entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    }
}
