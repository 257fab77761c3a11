//! The module info text inside Go's build info (`path`, `mod`, `dep`, `=>`, `build` lines),
//! parsed as `runtime/debug.ParseBuildInfo` does, with Go's string unquoting.

use super::super::facts::{GoBuildInfo, GoModule};
use super::SENTINEL;

/// Strips the 16-byte sentinels around the module info, as `debug/buildinfo` does: only when
/// there is room for both and the end sentinel follows a newline; otherwise there is no module
/// info (a binary not built in module mode) and the result is empty.
pub fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n > 2 * SENTINEL && modinfo[n - SENTINEL - 1] == b'\n' {
        &modinfo[SENTINEL..n - SENTINEL]
    } else {
        &[]
    }
}

/// Parses the module info text (sentinels already stripped), as `runtime/debug.ParseBuildInfo`
/// does: `go`, `path`, `mod`, `dep`, `=>` and `build` lines, each ended by a newline (an
/// unterminated last line is ignored, as Go does), unknown lines skipped. `go_version` is set
/// only from a `go` line. A `=>` line may omit its sum (Go requires the column, possibly empty).
pub fn parse_modinfo(modinfo: &str) -> Result<GoBuildInfo, String> {
    let mut info = GoBuildInfo::default();
    // Which module a `=>` line replaces: None, the main module, or deps[i].
    enum Last {
        None,
        Main,
        Dep(usize),
    }
    let mut last = Last::None;
    let mut rest = modinfo;
    let mut line_no = 0usize;
    while let Some((line, tail)) = rest.split_once('\n') {
        rest = tail;
        line_no += 1;
        let fail = |e: String| format!("module info line {line_no}: {e}");
        if let Some(v) = line.strip_prefix("go\t") {
            info.go_version = v.to_string();
        } else if let Some(v) = line.strip_prefix("path\t") {
            info.path = v.to_string();
        } else if let Some(v) = line.strip_prefix("mod\t") {
            info.main = Some(module_line(v).map_err(fail)?);
            last = Last::Main;
        } else if let Some(v) = line.strip_prefix("dep\t") {
            info.deps.push(module_line(v).map_err(fail)?);
            last = Last::Dep(info.deps.len() - 1);
        } else if let Some(v) = line.strip_prefix("=>\t") {
            let m = module_line(v).map_err(fail)?;
            let target = match last {
                Last::None => None,
                Last::Main => info.main.as_mut(),
                Last::Dep(i) => info.deps.get_mut(i),
            };
            let target = target
                .ok_or_else(|| fail("replacement with no module on the line before".into()))?;
            target.replace = Some(Box::new(m));
            last = Last::None;
        } else if let Some(kv) = line.strip_prefix("build\t") {
            info.settings.push(build_line(kv).map_err(fail)?);
        }
    }
    Ok(info)
}

/// `PATH\tVERSION[\tSUM]`.
fn module_line(v: &str) -> Result<GoModule, String> {
    let cols: Vec<&str> = v.split('\t').collect();
    if cols.len() != 2 && cols.len() != 3 {
        return Err(format!("expected 2 or 3 columns, got {}", cols.len()));
    }
    Ok(GoModule {
        path: cols[0].to_string(),
        version: cols[1].to_string(),
        sum: cols.get(2).filter(|s| !s.is_empty()).map(|s| s.to_string()),
        replace: None,
    })
}

/// `KEY=VALUE`, either side possibly Go-quoted.
fn build_line(kv: &str) -> Result<(String, String), String> {
    let (key, raw_value) = match kv.as_bytes().first() {
        None => return Err("build line missing '='".to_string()),
        Some(b'=') => return Err("build line with missing key".to_string()),
        Some(b'"' | b'`') => {
            let (key, used) =
                unquote_prefix(kv).map_err(|e| format!("invalid quoted key in build line: {e}"))?;
            match kv[used..].strip_prefix('=') {
                Some(v) => (key, v),
                None => return Err("build line missing '=' after quoted key".to_string()),
            }
        }
        Some(_) => {
            let (k, v) = kv
                .split_once('=')
                .ok_or("build line missing '=' after key")?;
            if k.contains([' ', '\t', '\r', '\n', '"', '`']) {
                return Err(format!("unquoted key {k:?} must be quoted"));
            }
            (k.to_string(), v)
        }
    };
    let value = match raw_value.as_bytes().first() {
        Some(b'"' | b'`') => {
            let (v, used) = unquote_prefix(raw_value)
                .map_err(|e| format!("invalid quoted value in build line: {e}"))?;
            if used != raw_value.len() {
                return Err("invalid quoted value in build line: text after the quote".to_string());
            }
            v
        }
        _ => {
            if raw_value.contains([' ', '\t', '\r', '\n', '"', '`']) {
                return Err(format!("unquoted value {raw_value:?} must be quoted"));
            }
            raw_value.to_string()
        }
    };
    Ok((key, value))
}

/// Go's `strconv.QuotedPrefix` + `Unquote` for a `"..."` or `` `...` `` string at the start of
/// `s`: the unquoted text and how many bytes of `s` the quoted string took.
pub fn unquote_prefix(s: &str) -> Result<(String, usize), String> {
    let b = s.as_bytes();
    match b.first() {
        Some(b'`') => {
            let end = s[1..].find('`').ok_or("unterminated raw string")? + 1;
            // Go drops carriage returns from raw strings.
            Ok((s[1..end].replace('\r', ""), end + 1))
        }
        Some(b'"') => {
            let mut out: Vec<u8> = Vec::new();
            let mut i = 1;
            loop {
                let c = *b.get(i).ok_or("unterminated string")?;
                match c {
                    b'"' => {
                        let text = String::from_utf8(out)
                            .map_err(|_| "escapes give invalid UTF-8".to_string())?;
                        return Ok((text, i + 1));
                    }
                    b'\n' => return Err("newline in string".to_string()),
                    b'\\' => {
                        let e = *b.get(i + 1).ok_or("unterminated escape")?;
                        i += 2;
                        let simple = match e {
                            b'a' => Some(0x07),
                            b'b' => Some(0x08),
                            b'f' => Some(0x0c),
                            b'n' => Some(b'\n'),
                            b'r' => Some(b'\r'),
                            b't' => Some(b'\t'),
                            b'v' => Some(0x0b),
                            b'\\' => Some(b'\\'),
                            b'"' => Some(b'"'),
                            _ => None,
                        };
                        if let Some(v) = simple {
                            out.push(v);
                            continue;
                        }
                        match e {
                            b'x' => {
                                let v = hex_digits(b, i, 2)?;
                                out.push(v as u8);
                                i += 2;
                            }
                            b'0'..=b'7' => {
                                let d = b.get(i - 1..i + 2).ok_or("octal escape truncated")?;
                                let mut v: u32 = 0;
                                for &c in d {
                                    if !(b'0'..=b'7').contains(&c) {
                                        return Err("invalid octal escape".to_string());
                                    }
                                    v = v * 8 + u32::from(c - b'0');
                                }
                                let v = u8::try_from(v).map_err(|_| "octal escape above 255")?;
                                out.push(v);
                                i += 2;
                            }
                            b'u' | b'U' => {
                                let n = if e == b'u' { 4 } else { 8 };
                                let v = hex_digits(b, i, n)?;
                                let ch = char::from_u32(v).ok_or("escape is not a valid rune")?;
                                let mut buf = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                                i += n;
                            }
                            _ => return Err(format!("unknown escape \\{}", e as char)),
                        }
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
        }
        _ => Err("not a quoted string".to_string()),
    }
}

fn hex_digits(b: &[u8], at: usize, n: usize) -> Result<u32, String> {
    let d = b
        .get(at..at.checked_add(n).ok_or("escape truncated")?)
        .ok_or("escape truncated")?;
    let mut v: u32 = 0;
    for &c in d {
        let x = (c as char).to_digit(16).ok_or("invalid hex escape")?;
        v = v.checked_mul(16).ok_or("escape overflows")? + x;
    }
    Ok(v)
}
