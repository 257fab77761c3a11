//! Debian source packages as data: the releases a recipe may name, the file names of a source
//! package, its patch series ([`series`]), the CVE ids its changelog and patches name
//! ([`cves`]), and the record of what a build applied ([`Applied`]). Pure: no file or network
//! access here.

pub mod copyright;
pub mod cves;
pub mod deb;
pub mod index;
pub mod mirror;
pub mod series;
pub mod suites;
pub mod version;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Debian's releases by codename and number (the purl `distro` qualifier is `debian-NUMBER`).
pub const RELEASES: &[(&str, u32)] = &[
    ("buster", 10),
    ("bullseye", 11),
    ("bookworm", 12),
    ("trixie", 13),
    ("forky", 14),
    ("duke", 15),
];

/// The number of release `codename` (`bookworm` -> 12).
pub fn release_number(codename: &str) -> Option<u32> {
    RELEASES
        .iter()
        .find(|(name, _)| *name == codename)
        .map(|(_, n)| *n)
}

/// The codenames, for help lines.
pub fn codenames() -> String {
    RELEASES
        .iter()
        .map(|(n, _)| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Debian version without its epoch (`5:7.0.15-1` -> `7.0.15-1`), as file names spell it.
pub fn without_epoch(version: &str) -> &str {
    version.split_once(':').map_or(version, |(_, v)| v)
}

/// The name of Debian's part of a format 3.0 (quilt) source package, as `dpkg-source` makes it
/// (xz, its default).
pub fn changes_file_name(package: &str, version: &str) -> String {
    format!("{package}_{}.debian.tar.xz", without_epoch(version))
}

/// How Debian's part of a source package is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// `3.0 (quilt)`: a `debian.tar.*` holding `debian/`, whose `debian/patches/series` is
    /// applied in order.
    #[serde(rename = "3.0 (quilt)")]
    Quilt,
    /// `1.0`: one `.diff.gz` against the upstream tree.
    #[serde(rename = "1.0")]
    Diff,
    /// `3.0 (native)`: one tarball holding `debian/` itself, no patches.
    #[serde(rename = "3.0 (native)")]
    Native,
}

impl Format {
    /// The format of Debian's part named `file`, from its name.
    pub fn of(file: &str) -> Option<Format> {
        if file.ends_with(".diff.gz") {
            return Some(Format::Diff);
        }
        [".debian.tar.xz", ".debian.tar.gz", ".debian.tar.bz2"]
            .iter()
            .any(|s| file.ends_with(s))
            .then_some(Format::Quilt)
    }
}

/// Whether `file` names Debian's part of a source package.
pub fn is_changes_file(file: &str) -> bool {
    Format::of(file).is_some()
}

/// What a build made of a Debian source package: the patches applied in order and those left
/// out, each with the CVE ids it names, and the CVE ids of the changelog. Kept in the cache
/// entry's `meta.json`, so that an image's SBOM and VEX say what its entries were built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub package: String,
    pub version: String,
    /// The release's codename (`bookworm`).
    pub release: String,
    pub format: Format,
    /// Applied, in the series' order.
    pub patches: Vec<PatchRecord>,
    pub left_out: Vec<LeftOut>,
    /// Every CVE id `debian/changelog` names, sorted.
    pub changelog_cves: Vec<String>,
    /// The licences `debian/copyright` gives (machine-readable ones only), for the SBOM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licences: Option<copyright::Licences>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchRecord {
    /// As the series lists it (`CVE-2023-38545.patch`, `debian/foo.diff`).
    pub name: String,
    /// The CVE ids its name and header name, sorted.
    pub cves: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub name: String,
    pub reason: String,
    pub cves: Vec<String>,
}

impl Applied {
    /// The CVE ids this build may state fixed: those the changelog or an applied patch names,
    /// less every one a left-out patch names (a fix left out is never claimed).
    pub fn fixed(&self) -> BTreeSet<String> {
        let out: BTreeSet<&String> = self.left_out.iter().flat_map(|l| &l.cves).collect();
        self.changelog_cves
            .iter()
            .chain(self.patches.iter().flat_map(|p| &p.cves))
            .filter(|c| !out.contains(c))
            .cloned()
            .collect()
    }

    /// The CVE ids named only by left-out patches' or also by them: never stated fixed.
    pub fn not_fixed(&self) -> BTreeSet<String> {
        self.left_out.iter().flat_map(|l| l.cves.clone()).collect()
    }

    /// The purl scanners match Debian's advisories against:
    /// `pkg:deb/debian/NAME@VERSION?arch=source&distro=debian-N`.
    pub fn purl(&self) -> String {
        purl(&self.package, &self.version, &self.release)
    }
}

/// `pkg:deb/debian/PACKAGE@VERSION?arch=source&distro=debian-N` (the version percent-encoded as
/// the purl spec asks: `+` is `%2B`, `:` of an epoch `%3A`).
pub fn purl(package: &str, version: &str, release: &str) -> String {
    let enc: String = version
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '-' | '_' | '~' => c.to_string(),
            c => format!("%{:02X}", c as u32),
        })
        .collect();
    let distro = release_number(release)
        .map(|n| format!("&distro=debian-{n}"))
        .unwrap_or_default();
    format!("pkg:deb/debian/{package}@{enc}?arch=source{distro}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_purls() {
        assert_eq!(without_epoch("5:7.0.15-1~deb12u10"), "7.0.15-1~deb12u10");
        assert_eq!(
            changes_file_name("redis", "5:7.0.15-1~deb12u10"),
            "redis_7.0.15-1~deb12u10.debian.tar.xz"
        );
        assert_eq!(Format::of("pcre2_10.42-1.diff.gz"), Some(Format::Diff));
        assert_eq!(
            Format::of("curl_7.88.1-10+deb12u15.debian.tar.xz"),
            Some(Format::Quilt)
        );
        assert_eq!(Format::of("curl_7.88.1.orig.tar.gz"), None);
        assert_eq!(
            purl("curl", "7.88.1-10+deb12u15", "bookworm"),
            "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u15?arch=source&distro=debian-12"
        );
        assert_eq!(
            purl("redis", "5:7.0.15-1~deb12u10", "trixie"),
            "pkg:deb/debian/redis@5%3A7.0.15-1~deb12u10?arch=source&distro=debian-13"
        );
    }

    #[test]
    fn a_cve_of_a_left_out_patch_is_never_fixed() {
        let a = Applied {
            package: "p".into(),
            version: "1-1".into(),
            release: "bookworm".into(),
            format: Format::Quilt,
            patches: vec![PatchRecord {
                name: "CVE-2024-1.patch".into(),
                cves: vec!["CVE-2024-1".into()],
            }],
            left_out: vec![LeftOut {
                name: "CVE-2024-2.patch".into(),
                reason: "r".into(),
                cves: vec!["CVE-2024-2".into()],
            }],
            changelog_cves: vec![
                "CVE-2024-1".into(),
                "CVE-2024-2".into(),
                "CVE-2023-9".into(),
            ],
            licences: None,
        };
        let fixed: Vec<_> = a.fixed().into_iter().collect();
        assert_eq!(fixed, ["CVE-2023-9", "CVE-2024-1"]);
        assert!(a.not_fixed().contains("CVE-2024-2"));
    }
}
