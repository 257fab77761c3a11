//! Architecture invariant: no function in `src/` (unit tests included) is longer than
//! [`MAX_LINES`] lines, from its `fn` line to its closing brace. A long function is split by
//! its structure (a function per step or per case), not squeezed.
//!
//! The count is a small brace counter over the source with comments, string literals and
//! character literals blanked, so a `{` in a message or a comment does not count.

use crate::util::*;

/// The most lines a function may have.
const MAX_LINES: usize = 100;

/// Functions allowed over the limit: none.
const ALLOWED: &[&str] = &[];

/// `text` with the insides of comments, string literals (plain, byte, raw) and character
/// literals replaced by spaces; line breaks are kept, so line numbers stay.
fn blank(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // Keeps line breaks of the skipped part `c[from..to]`, blanks the rest.
    let skip = |out: &mut String, from: usize, to: usize| {
        out.extend(
            c[from..to]
                .iter()
                .map(|&ch| if ch == '\n' { '\n' } else { ' ' }),
        );
    };
    while i < c.len() {
        let rest = &c[i..];
        let end = if rest.starts_with(&['/', '/']) {
            rest.iter()
                .position(|&ch| ch == '\n')
                .map_or(c.len(), |n| i + n)
        } else if rest.starts_with(&['/', '*']) {
            i + block_comment(rest)
        } else if let Some(n) = raw_string(rest, i > 0 && ident(c[i - 1])) {
            i + n
        } else if rest[0] == '"' {
            i + quoted(rest, '"')
        } else if rest[0] == '\'' && (rest.get(1) == Some(&'\\') || rest.get(2) == Some(&'\'')) {
            // A character literal; a lifetime or a label (`'a`) has no closing quote there.
            i + quoted(rest, '\'')
        } else {
            out.push(rest[0]);
            i += 1;
            continue;
        };
        skip(&mut out, i, end);
        i = end;
    }
    out
}

fn ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The length of the (possibly nested) block comment at the start of `s`.
fn block_comment(s: &[char]) -> usize {
    let mut depth = 0;
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(&['/', '*']) {
            depth += 1;
            i += 2;
        } else if s[i..].starts_with(&['*', '/']) {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    s.len()
}

/// The length of the literal at the start of `s` that ends at the next unescaped `close`.
fn quoted(s: &[char], close: char) -> usize {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            '\\' => i += 2,
            ch if ch == close => return i + 1,
            _ => i += 1,
        }
    }
    s.len()
}

/// The length of the raw string (`r"..."`, `r#"..."#`, `br"..."`) at the start of `s`, if one
/// starts there (`after_ident`: `s` continues a word, as the `r` of `for`).
fn raw_string(s: &[char], after_ident: bool) -> Option<usize> {
    if after_ident {
        return None;
    }
    let start = if s.starts_with(&['b', 'r']) {
        2
    } else if s.first() == Some(&'r') {
        1
    } else {
        return None;
    };
    let hashes = s[start..].iter().take_while(|&&ch| ch == '#').count();
    if s.get(start + hashes) != Some(&'"') {
        return None;
    }
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = start + hashes + 1;
    let n = (body..s.len()).find(|&j| s[j..].starts_with(&close));
    Some(n.map_or(s.len(), |j| j + close.len()))
}

/// The name of the function whose signature begins on `line` (a blanked line), if one does.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        if let Some(r) = rest.strip_prefix("pub(") {
            rest = r.split_once(')')?.1.trim_start();
        }
        for word in ["pub ", "const ", "async ", "unsafe ", "default "] {
            if let Some(r) = rest.strip_prefix(word) {
                rest = r.trim_start();
            }
        }
        if let Some(r) = rest.strip_prefix("extern ") {
            // The ABI string is blanked: `extern "  "`.
            let r = r.trim_start();
            rest = match r.strip_prefix('"') {
                Some(abi) => abi.split_once('"')?.1.trim_start(),
                None => r,
            };
        }
        if rest == before {
            break;
        }
    }
    let name = rest.strip_prefix("fn ")?.trim_start();
    let end = name.find(|ch: char| !ident(ch)).unwrap_or(name.len());
    (end > 0).then(|| &name[..end])
}

/// Every function with a body in `text`: its name, first line (1-based) and length in lines.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let blanked = blank(text);
    let lines: Vec<&str> = blanked.lines().collect();
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else {
            continue;
        };
        let mut depth = 0usize;
        let mut opened = false;
        for (j, l) in lines.iter().enumerate().skip(start) {
            for ch in l.chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            if opened && depth == 0 {
                out.push((name.to_string(), start + 1, j - start + 1));
                break;
            }
            if !opened && l.trim_end().ends_with(';') {
                break; // a declaration without a body (a trait's method, an extern fn)
            }
        }
    }
    out
}

/// The functions of `text` (from `file`) over [`MAX_LINES`], as `file:line name (N lines)`.
fn too_long(file: &str, text: &str, allowed: &[&str]) -> Vec<String> {
    functions(text)
        .into_iter()
        .filter(|(name, _, n)| *n > MAX_LINES && !allowed.contains(&name.as_str()))
        .map(|(name, line, n)| format!("{file}:{line} {name} ({n} lines)"))
        .collect()
}

#[test]
fn no_function_in_src_is_over_100_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut found = Vec::new();
    let mut counted = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let name = f.strip_prefix(root()).unwrap().display().to_string();
        counted += functions(&text).len();
        found.extend(too_long(&name, &text, ALLOWED));
    }
    assert!(counted > 1000, "found only {counted} functions");
    assert!(
        found.is_empty(),
        "functions over {MAX_LINES} lines (split them by their structure):\n{}",
        found.join("\n")
    );
}

/// The counter is not idle: a function of 101 lines is caught, one of 100 is not, and braces
/// in strings, raw strings, characters and comments do not count.
#[test]
fn the_counter_catches_a_long_function_and_ignores_braces_in_literals() {
    let body = |n: usize| "    let x = 1;\n".repeat(n - 2);
    let text = format!(
        "pub(crate) fn long() {{\n{}}}\n\nfn short() -> u8 {{\n{}}}\n",
        body(101),
        body(100)
    );
    assert_eq!(
        too_long("a.rs", &text, &[]),
        ["a.rs:1 long (101 lines)"],
        "{:?}",
        functions(&text)
    );
    assert!(too_long("a.rs", &text, &["long"]).is_empty());

    let tricky = r####"
/// A doc comment with a { brace
fn tricky<'a>(s: &'a str) -> usize {
    let open = '{';
    let esc = '\'';
    let text = "}} \" {";
    let raw = r#"}"# ;
    let bytes = br##"{"##;
    /* a { block /* nested } */ comment */
    'outer: for _ in 0..1 { break 'outer; }
    s.len() + 1 // }
}

trait T {
    fn declared(&self) -> [u8; 2];
}

async unsafe extern "C" fn after() {
}
"####;
    assert_eq!(
        functions(tricky),
        [("tricky".to_string(), 3, 10), ("after".to_string(), 18, 2)]
    );
}
