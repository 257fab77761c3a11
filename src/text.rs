//! Text from outside (file names, recipe lines, archive entries, registry answers) made safe to
//! print: control characters and bidirectional overrides are written as visible escapes, so no
//! input can colour the terminal, move its cursor or forge a line of `recipe`'s own output.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

/// True for a character that must not reach a terminal raw.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every control character (newlines included) escaped: `\n`, `\r`, `\t`, `\x1b`,
/// `\u{202e}`. Text without any is returned as it is.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`escape`] but keeps newlines: for multi-line text such as a log's last lines.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(escape_rendered(s, false))
}

/// A whole rendered report (miette's output): every control character but the newline is
/// escaped; with `color`, the colour sequences the renderer itself writes (`ESC [ digits ; m`)
/// are kept. Outside text embedded in it never moves the cursor, sets a title or forges a line
/// break of its own (line breaks in the pieces themselves are escaped where they are made).
pub fn escape_rendered(s: &str, color: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if color && c == '\x1b' {
            let tail = &rest[1..];
            if let Some(body) = tail.strip_prefix('[') {
                let n = body
                    .bytes()
                    .take_while(|b| b.is_ascii_digit() || *b == b';')
                    .count();
                if body.as_bytes().get(n) == Some(&b'm') {
                    out.push_str(&rest[..n + 3]);
                    rest = &rest[n + 3..];
                    continue;
                }
            }
        }
        if c == '\n' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    use fmt::Write;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 && unsafe_char(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if unsafe_char(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Everything but ASCII letters, digits and RFC 3986's unreserved `-._~` (for URL query values
/// and purl segments).
pub const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` percent-encoded: every character of `set` as `%XX` of its UTF-8 bytes.
pub fn percent_encode(s: &str, set: &'static percent_encoding::AsciiSet) -> String {
    percent_encoding::utf8_percent_encode(s, set).to_string()
}

/// The last `n` lines of a log file (lossy UTF-8, not escaped), read from its last 16 KiB
/// only: a huge log costs nothing to quote. Empty when it cannot be read.
pub fn file_tail(path: &Path, n: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL_BYTES: u64 = 16 * 1024;
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)));
    let mut buf = Vec::new();
    let _ = f.take(TAIL_BYTES).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A path for messages: lossy UTF-8, escaped.
pub fn path(p: &Path) -> String {
    escape(&p.to_string_lossy()).into_owned()
}

/// `Display` of a string with [`escape`] applied, for use in `format!` and `#[error(...)]`.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// `s` as one POSIX shell word, quoted (by `shlex`) only when it must be: `a/b-c` stays as it
/// is, `a b` becomes `'a b'`, `it's` becomes `"it's"`. The one shell quoter: command lines
/// shown to people, CI job lines and the scripts `recipe` writes all use it.
///
/// Besides shlex's bare characters, `=`, `,` and `%` stay bare: shlex quotes them for places
/// `recipe` never puts a word (an assignment as the first word, inside a brace expansion, a
/// job spec), and `CC=/x/cc` or `--arch amd64,arm64` read better without quotes. A NUL (which
/// no argument can hold) is kept as it is.
pub fn shell_word(s: &str) -> String {
    let bare = |b: u8| b.is_ascii_alphanumeric() || b"-_./:@+=,%".contains(&b);
    if !s.is_empty() && s.bytes().all(bare) {
        return s.to_string();
    }
    shlex::Quoter::new()
        .allow_nul(true)
        .quote(s)
        .expect("quoting with NUL allowed cannot fail")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_the_shell() {
        assert_eq!(shell_word("a/b-c"), "a/b-c");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "\"it's\"");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("CC=/x/cc"), "CC=/x/cc");
        assert_eq!(shell_word("amd64,arm64"), "amd64,arm64");
        assert_eq!(shell_word("{a,b}"), "'{a,b}'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(escape("plain name-1.2"), "plain name-1.2");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\x1b[31mred\nrecipe: ok\r\t\u{7f}"),
            "a\\x1b[31mred\\nrecipe: ok\\r\\t\\x7f"
        );
        assert_eq!(escape("x\u{9b}y\u{202e}z"), "x\\u{9b}y\\u{202e}z");
        assert_eq!(escape("é ü 中"), "é ü 中");
    }

    #[test]
    fn a_rendered_report_keeps_only_its_own_colours() {
        let r = "\x1b[31merror\x1b[0m: file `a\x1b]0;title\x07\rb`\n";
        assert_eq!(
            escape_rendered(r, true),
            "\x1b[31merror\x1b[0m: file `a\\x1b]0;title\\x07\\rb`\n"
        );
        assert_eq!(
            escape_rendered(r, false),
            "\\x1b[31merror\\x1b[0m: file `a\\x1b]0;title\\x07\\rb`\n"
        );
    }

    #[test]
    fn escape_lines_keeps_newlines_only() {
        assert_eq!(
            escape_lines("one\ntwo\x1b]0;t\x07"),
            "one\ntwo\\x1b]0;t\\x07"
        );
        assert_eq!(path(Path::new("/tmp/a\nb")), "/tmp/a\\nb");
    }
}
