//! Suites of Debian's archive: which archive serves one (the main archive, or the security
//! archive for `*-security`), the release it belongs to, and the default list `recipe new`
//! and `recipe outdated` read. Pure.

/// The suites read when none are configured: both supported releases, each with its point
/// release updates and its security archive.
pub const DEFAULT_SUITES: &[&str] = &[
    "bookworm",
    "bookworm-updates",
    "bookworm-security",
    "trixie",
    "trixie-updates",
    "trixie-security",
];

/// Which of the mirror's two archives serves a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Archive {
    /// `debian/`: `dists/SUITE/`, `pool/main/...`.
    Main,
    /// `debian-security/`: `dists/SUITE/`, `pool/updates/main/...`.
    Security,
}

impl Archive {
    /// Both, in the order a pinned file is looked for.
    pub const ALL: [Archive; 2] = [Archive::Main, Archive::Security];

    /// The archive's folder under the mirror's base URL.
    pub fn folder(self) -> &'static str {
        match self {
            Archive::Main => "debian",
            Archive::Security => "debian-security",
        }
    }

    /// The archive's pool folder, under which [`super::index::pool_path`] goes.
    pub fn pool(self) -> &'static str {
        match self {
            Archive::Main => "pool",
            Archive::Security => "pool/updates",
        }
    }
}

/// A suite name, checked: `bookworm`, `bookworm-security`, `trixie-updates`, `sid`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Suite {
    pub name: String,
}

impl Suite {
    /// A suite name of lowercase letters, digits and `-`; `None` otherwise.
    pub fn parse(name: &str) -> Option<Suite> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Suite { name: name.into() })
    }

    /// The security archive serves `*-security`, the main archive the rest.
    pub fn archive(&self) -> Archive {
        if self.name.ends_with("-security") {
            Archive::Security
        } else {
            Archive::Main
        }
    }

    /// Whether updates in this suite are security updates.
    pub fn is_security(&self) -> bool {
        self.archive() == Archive::Security
    }

    /// The release codename the suite belongs to: the name up to its first `-`
    /// (`bookworm-security` -> `bookworm`).
    pub fn release(&self) -> &str {
        self.name.split('-').next().unwrap_or(&self.name)
    }
}

/// A comma- or space-separated list of suite names; the first name that is not one is the
/// error.
pub fn parse_list(list: &str) -> Result<Vec<Suite>, String> {
    let mut out: Vec<Suite> = Vec::new();
    for n in list.split([',', ' ', '\n', '\t']).filter(|n| !n.is_empty()) {
        let s = Suite::parse(n).ok_or_else(|| n.to_string())?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err(list.to_string());
    }
    Ok(out)
}

/// [`DEFAULT_SUITES`] as suites.
pub fn defaults() -> Vec<Suite> {
    DEFAULT_SUITES
        .iter()
        .filter_map(|n| Suite::parse(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites() {
        let s = Suite::parse("bookworm-security").unwrap();
        assert_eq!(s.release(), "bookworm");
        assert_eq!(s.archive(), Archive::Security);
        assert!(!Suite::parse("trixie-updates").unwrap().is_security());
        assert!(Suite::parse("../x").is_none());
        assert!(Suite::parse("Bookworm").is_none());
        assert_eq!(defaults().len(), 6);
        assert_eq!(parse_list("bookworm, bookworm-security").unwrap().len(), 2);
        assert_eq!(parse_list("bookworm,x/y"), Err("x/y".to_string()));
        assert!(parse_list(" ").is_err());
    }
}
