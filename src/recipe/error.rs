//! A mistake in a recipe file, pointing at `file:line:column` with the line and a caret.
//!
//! Everything in it that came from the file (its name, the lines shown, the values quoted in
//! the message) is escaped with [`crate::text`], so a recipe cannot colour the terminal or
//! forge output lines; the caret still points at the right column of the escaped line.

use std::ops::Range;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};

use crate::text;

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
pub struct RecipeError {
    /// `file:line:column`, 1-based, the column in characters of the file's line.
    pub location: String,
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    pub help: Option<String>,
}

impl RecipeError {
    pub fn new(
        file: &Path,
        text: &str,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) -> Self {
        let start = floor_char_boundary(text, span.start);
        let end = floor_char_boundary(text, span.end).max(start);
        let (line, col) = line_col(text, start);
        let message = text::escape(&message).into_owned();
        let label = message.clone();
        let (shown, map) = escape_source(text);
        let (start, end) = (map(start), map(end));
        RecipeError {
            location: format!("{}:{line}:{col}", text::path(file)),
            src: NamedSource::new(text::path(file), shown),
            span: (start, end - start).into(),
            label,
            message,
            help: help.map(|h| text::escape_lines(&h).into_owned()),
        }
    }
}

impl RecipeError {
    /// The error drawn as the command line shows it without colour: location, lines, caret,
    /// help.
    pub fn render(&self) -> String {
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_context_lines(1)
            .with_links(false)
            .with_wrap_lines(false)
            .render_report(&mut out, self)
            .expect("writing to a String cannot fail");
        out
    }
}

/// `text` as it is shown under an error: every character [`text::escape`] would escape,
/// except newlines and tabs, written as its escape (`\x1b`), and `\r\n` as `\n`. Returns it
/// with a map from byte offsets of `text` to byte offsets of the shown text.
fn escape_source(text: &str) -> (String, impl Fn(usize) -> usize + '_) {
    let plain = !text.contains('\r')
        && text
            .split(['\n', '\t'])
            .all(|part| matches!(text::escape(part), std::borrow::Cow::Borrowed(_)));
    let mut shown = String::new();
    // offsets[i]: where byte i of `text` is in `shown` (only filled when something changes).
    let mut offsets: Vec<usize> = Vec::new();
    if plain {
        shown.push_str(text);
    } else {
        offsets.reserve(text.len() + 1);
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            offsets.resize(i, shown.len());
            offsets.push(shown.len());
            let crlf = c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n');
            match c {
                _ if crlf => {}
                '\n' | '\t' => shown.push(c),
                c => shown.push_str(&text::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
        offsets.resize(text.len() + 1, shown.len());
    }
    let map = move |offset: usize| -> usize {
        if offsets.is_empty() {
            offset.min(text.len())
        } else {
            offsets[offset.min(text.len())]
        }
    };
    (shown, map)
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// 1-based line and column (in characters) of byte `offset`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_caret_still_points() {
        let text = "a = \"\x1b[31mred\"\r\nname = \"\u{7}x\"\r\n";
        let start = text.find("\"\u{7}x").unwrap();
        let e = RecipeError::new(
            Path::new("/r/bad\x1b.toml"),
            text,
            start..start + 4,
            "bad name `\u{7}x`\nforged".into(),
            Some("help\x1b".into()),
        );
        assert_eq!(e.location, "/r/bad\\x1b.toml:2:8");
        assert_eq!(e.message, "bad name `\\x07x`\\nforged");
        let out = e.render();
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "raw control characters in:\n{out}"
        );
        assert!(out.contains("a = \"\\x1b[31mred\""), "{out}");
        // The caret line sits under `"\x07x"` of `name = "\x07x"`.
        let lines: Vec<&str> = out.lines().collect();
        let at = lines.iter().position(|l| l.contains("name = ")).unwrap();
        let col = |l: &str, pat: &str| {
            l.chars().count() - l.split_once(pat).unwrap().1.chars().count() - pat.chars().count()
        };
        let value = col(lines[at], "\"\\x07x\"");
        let caret = lines[at + 1]
            .chars()
            .position(|c| c != ' ' && c != '·' && c != '│' && c != '┆' && c != '.' && c != ':')
            .unwrap();
        assert_eq!(caret, value, "{out}");
    }

    #[test]
    fn plain_text_is_shown_as_it_is() {
        let (shown, map) = escape_source("a\tb\nc");
        assert_eq!(shown, "a\tb\nc");
        assert_eq!(map(3), 3);
        let (shown, map) = escape_source("a\r\nb\x1bc");
        assert_eq!(shown, "a\nb\\x1bc");
        assert_eq!(map(3), 2);
        assert_eq!(map(5), 7);
        assert_eq!(map(6), 8);
    }
}
