//! `debian/copyright` in Debian's machine-readable format (DEP-5): the licence of each group of
//! files, as SPDX expressions for the SBOM. Debian's short names (`BSD-3-clause`, `Expat`,
//! `GPL-2+`) become SPDX ids (`BSD-3-Clause`, `MIT`, `GPL-2.0-or-later`); a name SPDX has no id
//! for becomes `LicenseRef-NAME`, with the text Debian gives for it. Pure: text in, record out.

use serde::{Deserialize, Serialize};

/// The most bytes of a licence text kept for a `LicenseRef-` id.
const MAX_REF_TEXT: usize = 64 * 1024;

/// What a source package's copyright file says of its licences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licences {
    /// The licence of `Files: *`: the source's own (None when no paragraph covers `*`).
    pub main: Option<String>,
    /// The licence of every `Files` paragraph, distinct, sorted.
    pub all: Vec<String>,
    /// Each `LicenseRef-` id used above, with the text Debian gives for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<LicenceRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceRef {
    pub id: String,
    /// Debian's short name, as written.
    pub name: String,
    pub text: String,
}

impl Licences {
    /// Every `Files` paragraph's licence joined with AND (the whole source's licensing), each
    /// term once: `A AND B` and `B` give `A AND B`.
    pub fn conjunction(&self) -> Option<String> {
        let mut terms: Vec<String> = Vec::new();
        for e in &self.all {
            let parts: Vec<String> = match e.contains(" OR ") {
                // An expression with OR stays whole (parenthesised when joined).
                true => vec![e.clone()],
                false => e.split(" AND ").map(str::to_string).collect(),
            };
            for p in parts {
                if !terms.contains(&p) {
                    terms.push(p);
                }
            }
        }
        terms.sort();
        (!terms.is_empty()).then(|| and_all(&terms))
    }
}

/// Expressions joined with AND, each holding an OR in parentheses (one alone as it is).
fn and_all(exprs: &[String]) -> String {
    match exprs {
        [one] => one.clone(),
        _ => exprs
            .iter()
            .map(|e| match e.contains(" OR ") && !e.starts_with('(') {
                true => format!("({e})"),
                false => e.clone(),
            })
            .collect::<Vec<_>>()
            .join(" AND "),
    }
}

/// One paragraph: its fields, each value with its continuation lines.
type Paragraph = Vec<(String, String)>;

/// Reads a DEP-5 copyright file; None when it is not one (no `Format:` naming the
/// copyright-format in its first paragraph): an old free-form file says nothing reliable.
pub fn parse(text: &str) -> Option<Licences> {
    let paragraphs = paragraphs(text);
    let header = paragraphs.first()?;
    let format = field(header, "Format")?;
    if !format.contains("copyright-format") && !format.contains("dep5") {
        return None;
    }
    // Standalone `License:` paragraphs give the text of a name used by the Files paragraphs.
    let mut texts: Vec<(String, String)> = Vec::new();
    for p in &paragraphs[1..] {
        if field(p, "Files").is_none()
            && let Some(l) = field(p, "License")
        {
            let (name, body) = l.split_once('\n').unwrap_or((l, ""));
            texts.push((name.trim().to_string(), body.to_string()));
        }
    }
    let mut out = Licences::default();
    for p in &paragraphs[1..] {
        let (Some(files), Some(licence)) = (field(p, "Files"), field(p, "License")) else {
            continue;
        };
        let (name, body) = licence.split_once('\n').unwrap_or((licence, ""));
        let (expr, refs) = to_spdx(name.trim());
        if expr.is_empty() {
            continue;
        }
        for (id, short) in refs {
            if out.refs.iter().any(|r| r.id == id) {
                continue;
            }
            let text = texts
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&short))
                .map(|(_, t)| t.as_str())
                .filter(|t| !t.trim().is_empty())
                .unwrap_or(body);
            out.refs.push(LicenceRef {
                id,
                name: short,
                text: ref_text(text),
            });
        }
        if files.split_whitespace().any(|f| f == "*") && out.main.is_none() {
            out.main = Some(expr.clone());
        }
        if !out.all.contains(&expr) {
            out.all.push(expr);
        }
    }
    out.all.sort();
    out.refs.sort_by(|a, b| a.id.cmp(&b.id));
    Some(out)
}

/// A licence text as the copyright file holds it (` .` for an empty line), made plain, capped.
fn ref_text(body: &str) -> String {
    let text: Vec<&str> = body
        .lines()
        .map(|l| {
            let l = l.strip_prefix(' ').unwrap_or(l);
            if l == "." { "" } else { l }
        })
        .collect();
    let text = text.join("\n").trim().to_string();
    if text.is_empty() {
        return "The licence Debian's copyright file names, without its text.".into();
    }
    match text.char_indices().nth(MAX_REF_TEXT) {
        Some((i, _)) => format!("{} [...]", &text[..i]),
        None => text,
    }
}

/// The paragraphs of a control-style file: fields `Name: value`, continuation lines (starting
/// with a space or tab) appended to the value after a newline; `#` comment lines skipped.
fn paragraphs(text: &str) -> Vec<Paragraph> {
    let mut out: Vec<Paragraph> = Vec::new();
    let mut cur: Paragraph = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                v.push('\n');
                v.push_str(line);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn field<'a>(p: &'a Paragraph, name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A DEP-5 licence line (`GPL-2+ or LGPL-2.1+`, `BSD-3-clause and Expat`,
/// `GPL-2+ with OpenSSL exception`) as an SPDX expression, and the `LicenseRef-` ids it used
/// (with the short name each stands for).
pub fn to_spdx(line: &str) -> (String, Vec<(String, String)>) {
    let mut refs = Vec::new();
    let mut out = Vec::new();
    // `,` in DEP-5 binds like `and`, looser than `or`: `A or B, and C`.
    for (i, group) in line.split(',').enumerate() {
        let group = group.trim();
        let group = group
            .strip_prefix("and ")
            .or_else(|| group.strip_prefix("AND "))
            .unwrap_or(group);
        if group.is_empty() {
            continue;
        }
        let words: Vec<&str> = group.split_whitespace().collect();
        let mut atoms: Vec<String> = Vec::new();
        let mut ops: Vec<&str> = Vec::new();
        let mut cur: Vec<&str> = Vec::new();
        for w in words {
            match w.to_ascii_lowercase().as_str() {
                "or" | "and" => {
                    atoms.push(atom(&cur.join(" "), &mut refs));
                    ops.push(if w.eq_ignore_ascii_case("or") {
                        "OR"
                    } else {
                        "AND"
                    });
                    cur.clear();
                }
                _ => cur.push(w),
            }
        }
        atoms.push(atom(&cur.join(" "), &mut refs));
        let mut e = atoms[0].clone();
        for (op, a) in ops.iter().zip(&atoms[1..]) {
            e = format!("{e} {op} {a}");
        }
        if i > 0 && ops.contains(&"OR") {
            e = format!("({e})");
        }
        out.push(e);
    }
    (and_all(&out), refs)
}

/// One licence name (maybe `NAME with EXCEPTION exception`) as an SPDX id, or a
/// `LicenseRef-` (recorded in `refs`) when SPDX has none.
fn atom(name: &str, refs: &mut Vec<(String, String)>) -> String {
    let name = name.trim();
    if let Some(id) = spdx_id(name) {
        return id;
    }
    let id = format!(
        "LicenseRef-{}",
        name.chars()
            .map(
                |c| match c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    true => c,
                    false => '-',
                }
            )
            .collect::<String>()
    );
    if !refs.iter().any(|(i, _)| *i == id) {
        refs.push((id.clone(), name.to_string()));
    }
    id
}

/// Debian's short name as an SPDX licence id (`+` for "or later" as the GNU ids say it).
fn spdx_id(name: &str) -> Option<String> {
    let (base, later) = match name.strip_suffix('+') {
        Some(b) => (b, true),
        None => (name, false),
    };
    let lower = base.to_ascii_lowercase();
    let gnu = |family: &str, v: &str| {
        let v = if v.contains('.') {
            v.to_string()
        } else {
            format!("{v}.0")
        };
        Some(format!(
            "{family}-{v}-{}",
            if later { "or-later" } else { "only" }
        ))
    };
    for family in ["gpl", "lgpl", "agpl", "gfdl"] {
        if let Some(v) = lower.strip_prefix(&format!("{family}-"))
            && v.chars().all(|c| c.is_ascii_digit() || c == '.')
            && !v.is_empty()
        {
            return gnu(&family.to_ascii_uppercase(), v);
        }
    }
    let mapped = match lower.as_str() {
        "expat" | "mit" => "MIT",
        "bsd-2-clause" => "BSD-2-Clause",
        "bsd-3-clause" => "BSD-3-Clause",
        "bsd-4-clause" => "BSD-4-Clause",
        "isc" => "ISC",
        "zlib" => "Zlib",
        "bsl-1.0" | "boost-1.0" | "bsl" => "BSL-1.0",
        "apache-2.0" | "apache-2" => "Apache-2.0",
        "mpl-2.0" => "MPL-2.0",
        "mpl-1.1" => "MPL-1.1",
        "cc0" | "cc0-1.0" => "CC0-1.0",
        "sspl-1.0" | "ssplv1" | "sspl-1" => "SSPL-1.0",
        "agplv3" => return gnu("AGPL", "3"),
        "openssl" => "OpenSSL",
        "curl" => "curl",
        "x11" => "X11",
        "psf-2" | "python" => "PSF-2.0",
        "unicode-dfs-2016" => "Unicode-DFS-2016",
        "fsfap" => "FSFAP",
        "fsful" => "FSFUL",
        "fsfullr" => "FSFULLR",
        "artistic" | "artistic-1.0" => "Artistic-1.0",
        "artistic-2.0" => "Artistic-2.0",
        "wtfpl" => "WTFPL",
        "unlicense" => "Unlicense",
        _ => {
            // A name already in SPDX's spelling (`BSD-3-Clause`, `Apache-2.0`).
            return (!later)
                .then(|| spdx::license_id(base))
                .flatten()
                .map(|l| l.name.to_string());
        }
    };
    if later && !mapped.starts_with("GPL") {
        return None;
    }
    Some(mapped.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIS8: &str = "\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: redis
Source: https://redis.io/

Files: *
Copyright: © 2016-2025, Redis Ltd.
License: RSALv2 or SSPLv1 or AGPLv3
 Licensed under your choice of (a) the Redis Source Available License 2.0
 (RSALv2); or (b) the Server Side Public License v1 (SSPLv1); or (c) the GNU
 Affero General Public License v3 (AGPLv3).

Files: src/rio.*
Copyright: © 2009-2012, Pieter Noordhuis
License: BSD-3-clause

Files: deps/lua/*
Copyright: © 1994-2012 Lua.org, PUC-Rio.
License: MIT

Files: debian/*
Copyright: © 2009 Chris Lamb <lamby@debian.org>
License: BSD-3-clause

License: BSD-3-clause
 Redistribution and use in source and binary forms, with or without
 modification, are permitted provided that the following conditions
 .
 are met.
";

    #[test]
    fn redis_8s_licences_are_read_as_debian_states_them() {
        let l = parse(REDIS8).unwrap();
        assert_eq!(
            l.main.as_deref(),
            Some("LicenseRef-RSALv2 OR SSPL-1.0 OR AGPL-3.0-only")
        );
        assert_eq!(
            l.all,
            [
                "BSD-3-Clause",
                "LicenseRef-RSALv2 OR SSPL-1.0 OR AGPL-3.0-only",
                "MIT"
            ]
        );
        assert_eq!(
            l.conjunction().unwrap(),
            "BSD-3-Clause AND (LicenseRef-RSALv2 OR SSPL-1.0 OR AGPL-3.0-only) AND MIT"
        );
        assert_eq!(l.refs.len(), 1);
        assert_eq!(l.refs[0].id, "LicenseRef-RSALv2");
        assert!(
            l.refs[0]
                .text
                .starts_with("Licensed under your choice of (a)")
        );
    }

    #[test]
    fn debian_short_names_become_spdx_ids() {
        for (debian, spdx) in [
            ("GPL-2+", "GPL-2.0-or-later"),
            ("GPL-3", "GPL-3.0-only"),
            ("LGPL-2.1+ or GPL-3", "LGPL-2.1-or-later OR GPL-3.0-only"),
            ("Expat", "MIT"),
            ("BSD-3-clause and Expat", "BSD-3-Clause AND MIT"),
            ("zlib", "Zlib"),
            ("BSL-1.0", "BSL-1.0"),
            ("Apache-2.0", "Apache-2.0"),
            (
                "GPL-2+ or LGPL-3, and MIT",
                "(GPL-2.0-or-later OR LGPL-3.0-only) AND MIT",
            ),
        ] {
            assert_eq!(to_spdx(debian).0, spdx, "{debian}");
        }
        let (e, refs) = to_spdx("GPL-2+ with OpenSSL exception");
        assert_eq!(e, "LicenseRef-GPL-2--with-OpenSSL-exception");
        assert_eq!(refs[0].1, "GPL-2+ with OpenSSL exception");
        let (e, refs) = to_spdx("public-domain");
        assert_eq!((e.as_str(), refs.len()), ("LicenseRef-public-domain", 1));
    }

    #[test]
    fn the_conjunction_names_each_licence_once() {
        let l = Licences {
            main: None,
            all: vec![
                "Apache-2.0".into(),
                "Apache-2.0 AND BSL-1.0".into(),
                "BSL-1.0".into(),
                "MIT OR Zlib".into(),
            ],
            refs: vec![],
        };
        assert_eq!(
            l.conjunction().unwrap(),
            "Apache-2.0 AND BSL-1.0 AND (MIT OR Zlib)"
        );
    }

    #[test]
    fn a_free_form_copyright_file_says_nothing() {
        assert_eq!(
            parse("This package was debianized by ...\n\nLicense: GPL\n"),
            None
        );
        assert_eq!(parse(""), None);
    }
}
