//! The CVE ids a text names (`CVE-2023-38545`), as Debian writes them in changelogs, patch file
//! names and DEP-3 patch headers.

use std::collections::BTreeSet;

/// Every distinct `CVE-YYYY-NNNN...` in `text` (four-digit year, four or more digits), in
/// upper case, sorted. Case-insensitive: patch file names are often `cve-2023-1234.patch`.
pub fn in_text(text: &str) -> BTreeSet<String> {
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i + 13 <= b.len() {
        if b[i..i + 4].eq_ignore_ascii_case(b"CVE-")
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            let year = &b[i + 4..i + 8];
            if year.iter().all(u8::is_ascii_digit) && b[i + 8] == b'-' {
                let digits = b[i + 9..].iter().take_while(|c| c.is_ascii_digit()).count();
                let end = i + 9 + digits;
                let followed = b.get(end).is_some_and(|c| c.is_ascii_alphabetic());
                if digits >= 4 && !followed {
                    out.insert(format!("CVE-{}", &text[i + 4..end]));
                    i = end;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// The CVE ids of a patch: its name and its header (the text before the first `---`/`diff`
/// line, where DEP-3 fields and the description stand).
pub fn of_patch(name: &str, text: &str) -> BTreeSet<String> {
    let header_end = text
        .find("\n--- ")
        .into_iter()
        .chain(text.find("\ndiff "))
        .chain(text.find("\nIndex: "))
        .min()
        .unwrap_or(text.len());
    let mut cves = in_text(name);
    cves.extend(in_text(&text[..header_end]));
    cves
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ids_in_names_headers_and_changelogs() {
        let v: Vec<_> = in_text("* Fix CVE-2023-38545 and cve-2023-38546; CVE-2024-123456.")
            .into_iter()
            .collect();
        assert_eq!(v, ["CVE-2023-38545", "CVE-2023-38546", "CVE-2024-123456"]);
        assert!(in_text("CVE-2023-12 XCVE-2023-1234 CVE-20a3-1234 CVE-2023-1234x").is_empty());
        let p = "Description: fix heap overflow\nBug: CVE-2022-1111\n--- a/x\n+++ b/x\n+CVE-2021-9999\n";
        let v: Vec<_> = of_patch("CVE-2023-38545.patch", p).into_iter().collect();
        assert_eq!(v, ["CVE-2022-1111", "CVE-2023-38545"]);
    }
}
