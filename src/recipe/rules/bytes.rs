//! Bytes written as text: a `tcp` request and its `expect` may hold bytes that are not text
//! (binary protocols: MQTT, PostgreSQL's startup message), written as escapes that `recipe`
//! itself reads, since TOML strings cannot hold them. `\xNN` is the byte NN (two hex digits),
//! `\\` a backslash, `\r`, `\n`, `\t` and `\0` the usual control bytes; every other character
//! stands for its UTF-8 bytes. Any other backslash is refused, so a typo never sends bytes
//! nobody meant.

use std::ops::Range;

use super::{Refusal, refuse};

/// What the escapes may be, for help lines.
pub const ESCAPES_HELP: &str = "write a byte as `\\xNN` (two hex digits), a backslash as \
     `\\\\`, or `\\r`, `\\n`, `\\t`, `\\0`; in a TOML literal string ('...') the backslashes \
     reach `recipe` as written";

/// A malformed escape: where it is in the string (byte offsets) and why it is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEscape {
    pub at: Range<usize>,
    pub refusal: Refusal,
}

/// The bytes `s` stands for, its escapes read (see the module doc).
pub fn unescape_bytes(s: &str) -> Result<Vec<u8>, BadEscape> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.char_indices().peekable();
    while let Some((i, c)) = rest.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let bad = |end: usize, message: String| BadEscape {
            at: i..end,
            refusal: refuse(message, ESCAPES_HELP),
        };
        let Some((j, e)) = rest.next() else {
            return Err(bad(s.len(), "a lone `\\` ends the string".into()));
        };
        let end = j + e.len_utf8();
        out.push(match e {
            '\\' => b'\\',
            'r' => b'\r',
            'n' => b'\n',
            't' => b'\t',
            '0' => 0,
            'x' => {
                let hex: String = (0..2)
                    .filter_map(|_| rest.next_if(|(_, h)| h.is_ascii_hexdigit()))
                    .map(|(_, h)| h)
                    .collect();
                let end = end + hex.len();
                if hex.len() != 2 {
                    return Err(bad(
                        end,
                        format!(
                            "`{}` is not a byte escape: `\\x` takes two hex digits",
                            &s[i..end]
                        ),
                    ));
                }
                u8::from_str_radix(&hex, 16).expect("two hex digits")
            }
            other => {
                return Err(bad(end, format!("unknown escape `\\{other}`")));
            }
        });
    }
    Ok(out)
}

/// `bytes` written back in the escapes [`unescape_bytes`] reads: text as it is, a backslash
/// as `\\`, `\r`, `\n`, `\t`, and every other control character or byte that is not UTF-8
/// as `\xNN` (a multi-byte control character byte by byte), so nothing reaches a terminal raw.
pub fn escape_bytes(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len());
    let hex = |out: &mut String, b: &[u8]| {
        for b in b {
            let _ = write!(out, "\\x{b:02x}");
        }
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if crate::text::escape(c.encode_utf8(&mut [0; 4])) != c.to_string() => {
                    hex(&mut out, c.encode_utf8(&mut [0; 4]).as_bytes())
                }
                c => out.push(c),
            }
        }
        hex(&mut out, chunk.invalid());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_stand_for_their_bytes_and_text_for_its_utf8() {
        assert_eq!(unescape_bytes("PING\r\n").unwrap(), b"PING\r\n");
        assert_eq!(
            unescape_bytes(r"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3C").unwrap(),
            b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c"
        );
        assert_eq!(
            unescape_bytes(r"a\\b\r\n\t\0é").unwrap(),
            "a\\b\r\n\t\0é".as_bytes()
        );
        assert_eq!(unescape_bytes(r"\xff\xFE").unwrap(), [0xff, 0xfe]);
        assert_eq!(unescape_bytes("").unwrap(), b"");
    }

    #[test]
    fn bytes_are_written_back_in_the_escapes_read() {
        let cases: [&[u8]; 4] = [
            b"PING\r\n",
            b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00",
            "a\\b\t\x1b[31mé\u{202e}".as_bytes(),
            b"\xff\xfe{port}",
        ];
        for bytes in cases {
            let written = escape_bytes(bytes);
            assert!(!written.chars().any(char::is_control), "{written}");
            assert_eq!(unescape_bytes(&written).unwrap(), bytes, "{written}");
        }
        assert_eq!(
            escape_bytes(b"\x10\x0c\x00\x04MQTT\r\n"),
            "\\x10\\x0c\\x00\\x04MQTT\\r\\n"
        );
        assert_eq!(escape_bytes("\u{202e}".as_bytes()), "\\xe2\\x80\\xae");
    }

    #[test]
    fn a_malformed_escape_is_refused_where_it_is() {
        let at = |s: &str| {
            let e = unescape_bytes(s).unwrap_err();
            (e.at, e.refusal.message)
        };
        assert_eq!(
            at(r"ab\x4"),
            (
                2..5,
                "`\\x4` is not a byte escape: `\\x` takes two hex digits".into()
            )
        );
        assert_eq!(
            at(r"\xg0"),
            (
                0..2,
                "`\\x` is not a byte escape: `\\x` takes two hex digits".into()
            )
        );
        assert_eq!(at(r"x\q"), (1..3, "unknown escape `\\q`".into()));
        assert_eq!(at(r"é\é"), (2..5, "unknown escape `\\é`".into()));
        assert_eq!(at("ab\\"), (2..3, "a lone `\\` ends the string".into()));
        assert!(
            unescape_bytes(r"\u0041")
                .unwrap_err()
                .refusal
                .help
                .contains("\\xNN")
        );
    }
}
