//! A recipe's `cpe = "vendor:product"`: the vendor and product parts of a CPE 2.3 name
//! (NISTIR 7695), written as they appear in a formatted string (`cpe:2.3:a:VENDOR:PRODUCT:...`)
//! and in NVD's dictionary, so a name can be copied from there as it is.

use super::{Refusal, refuse};

const HELP: &str = "`cpe` is \"vendor:product\" as NVD's CPE dictionary writes them, e.g. \
     \"haxx:curl\": lowercase letters, digits, `.`, `_` and `-`; other punctuation escaped \
     with `\\` (`notepad\\+\\+`; in TOML write it in single quotes); no spaces, no wildcards";

/// Punctuation a CPE 2.3 formatted string carries only escaped (`\+`): every printable ASCII
/// character but letters, digits, `.`, `_` and `-` (which stand unescaped) and space (which a
/// name never holds). The set of the SPDX 2.3 `cpe23Type` pattern.
pub const CPE_QUOTED: &str = "\\*?!\"#$%&'()+,/:;<=>@[]^`{|}~";

/// `vendor:product`: two parts split at the one unescaped `:`, each a CPE 2.3 value of the
/// formatted-string binding with no wildcard and no logical value (`*` ANY, `-` NA): letters
/// (lowercase, as NVD writes every name), digits, `.`, `_`, `-`, and `\` before any other
/// printable ASCII punctuation. Returns the two parts as written (still escaped).
pub fn cpe(s: &str) -> Result<(String, String), Refusal> {
    let shown = crate::text::escape(s);
    let bad = |why: String| refuse(format!("invalid CPE `{shown}`: {why}"), HELP);
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let part = parts.last_mut().expect("one part at least");
        match c {
            'a'..='z' | '0'..='9' | '.' | '_' | '-' => part.push(c),
            ':' => parts.push(String::new()),
            '\\' => match chars.next() {
                Some(n) if CPE_QUOTED.contains(n) => {
                    part.push('\\');
                    part.push(n);
                }
                Some(n @ ('.' | '_' | '-')) => {
                    return Err(bad(format!("`{n}` stands unescaped in a CPE name")));
                }
                Some(n) => {
                    return Err(bad(format!(
                        "`\\{}` is not an escape of CPE 2.3",
                        crate::text::escape(&n.to_string())
                    )));
                }
                None => return Err(bad("it ends in a lone `\\`".into())),
            },
            'A'..='Z' => {
                return Err(bad(format!(
                    "`{c}` is uppercase; CPE names are lowercase (`{}`)",
                    c.to_ascii_lowercase()
                )));
            }
            '*' | '?' => {
                return Err(bad(format!(
                    "`{c}` is a wildcard; a recipe names one product (escape it as `\\{c}` if \
                     the name holds it)"
                )));
            }
            c if c.is_whitespace() => {
                return Err(bad(
                    "a CPE name holds no spaces (NVD writes `_` for one)".into()
                ));
            }
            c if CPE_QUOTED.contains(c) => {
                return Err(bad(format!("`{c}` must be escaped as `\\{c}`")));
            }
            c => {
                return Err(bad(format!(
                    "`{}` is not a character of CPE 2.3 (printable ASCII only)",
                    crate::text::escape(&c.to_string())
                )));
            }
        }
    }
    let [vendor, product]: [String; 2] = parts.try_into().map_err(|p: Vec<String>| {
        bad(if p.len() == 1 {
            "no `:` between vendor and product".to_string()
        } else {
            format!(
                "{} unescaped `:`; give one, between vendor and product (the version is the \
                 recipe's)",
                p.len() - 1
            )
        })
    })?;
    for (what, v) in [("vendor", &vendor), ("product", &product)] {
        if v.is_empty() {
            return Err(bad(format!("the {what} is empty")));
        }
        if v == "-" {
            return Err(bad(format!(
                "the {what} `-` is CPE's \"not applicable\", not a name"
            )));
        }
    }
    Ok((vendor, product))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpe_names_as_nvd_writes_them() {
        for (ok, v, p) in [
            ("haxx:curl", "haxx", "curl"),
            ("openssl:openssl", "openssl", "openssl"),
            ("libexpat_project:libexpat", "libexpat_project", "libexpat"),
            ("coredns.io:coredns", "coredns.io", "coredns"),
            ("httpbingo:go-httpbin", "httpbingo", "go-httpbin"),
            (
                r"notepad-plus-plus:notepad\+\+",
                "notepad-plus-plus",
                r"notepad\+\+",
            ),
            (r"a\:b:c", r"a\:b", "c"),
            (r"a:\\", "a", r"\\"),
        ] {
            assert_eq!(cpe(ok), Ok((v.to_string(), p.to_string())), "{ok}");
        }
    }

    #[test]
    fn bad_cpe_names_say_why() {
        for (bad, says) in [
            ("curl", "no `:` between vendor and product"),
            ("a:b:c", "2 unescaped `:`"),
            (":curl", "the vendor is empty"),
            ("haxx:", "the product is empty"),
            ("-:curl", "`-` is CPE's \"not applicable\""),
            ("haxx:*", "`*` is a wildcard"),
            ("haxx:cu?l", "`?` is a wildcard"),
            ("haxx:c url", "no spaces"),
            ("Haxx:curl", "`H` is uppercase"),
            ("haxx:c+", r"`+` must be escaped as `\+`"),
            (r"haxx:c\.x", "`.` stands unescaped"),
            (r"haxx:c\x", r"`\x` is not an escape"),
            ("haxx:curl\\", "lone `\\`"),
            ("haxx:cürl", "printable ASCII only"),
        ] {
            let r = cpe(bad).unwrap_err();
            assert!(r.message.contains(says), "{bad}: {}", r.message);
            assert!(r.message.starts_with("invalid CPE `"), "{}", r.message);
        }
    }
}
