//! Rust crates compiled into a cargo-built app, for the SBOM: which crates of `cargo metadata`'s
//! resolved graph end up linked into the app's binaries, each with Cargo.lock's checksum and its
//! declared licence, and each as an SPDX package that scanners know as `pkg:cargo/NAME@VERSION`.
//!
//! Pure: [`linked_crates`] reads a parsed [`cargo_metadata::Metadata`] (run with
//! `--filter-platform`, so other platforms' dependencies are already gone) and [`lock_checksums`]
//! reads Cargo.lock's text; neither spawns cargo nor reads a file.
//!
//! Linked means reached from the package that owns the binaries along normal dependency edges:
//! build-dependencies (they run in the build script) and dev-dependencies (tests) are not followed,
//! proc-macro crates are left out together with what only they reach (they run in the compiler),
//! and the owning package itself is the app package, not a crate of the list.

use std::collections::{BTreeMap, BTreeSet};

use cargo_metadata::{DependencyKind, Metadata, Package, PackageId, TargetKind};
use serde::{Deserialize, Serialize};

use super::locate::{purl_ref, purl_segment};
use super::{Checksum, NOASSERTION, Package as SpdxPackage};

/// The source string of crates.io in Cargo.lock and `cargo metadata`.
pub const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";
/// crates.io's sparse index, as a source replaced by it may be written.
const CRATES_IO_SPARSE: &str = "sparse+https://index.crates.io/";

/// One crate linked into an app, as the build recorded it (stored with the build's outputs,
/// so new fields must be optional with a default).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Crate {
    pub name: String,
    pub version: String,
    /// The sha256 (lowercase hex) of the `.crate` file, from Cargo.lock; None for a path or git
    /// crate, which Cargo.lock gives none.
    #[serde(default)]
    pub checksum: Option<String>,
    /// Cargo.toml's `license` as written (normalised to SPDX only in the document); None for a
    /// crate with only a `license-file`, or neither.
    #[serde(default)]
    pub license: Option<String>,
    /// Where cargo took it from: [`CRATES_IO`], another `registry+`/`sparse+` index, or
    /// `git+URL?...#COMMIT`; None for a path crate (one of the source tree's own).
    #[serde(default)]
    pub source: Option<String>,
}

impl Crate {
    /// Whether it comes from crates.io.
    pub fn is_crates_io(&self) -> bool {
        matches!(self.source.as_deref(), Some(CRATES_IO | CRATES_IO_SPARSE))
    }
}

/// The crates linked into the binaries `bins` (all the workspace's binaries when empty): sorted,
/// each once. The packages that own those binaries are the roots and are not listed.
pub fn linked_crates(
    metadata: &Metadata,
    lock_checksums: &BTreeMap<(String, String), String>,
    bins: &[String],
) -> Vec<Crate> {
    let Some(resolve) = &metadata.resolve else {
        return Vec::new();
    };
    let packages: BTreeMap<&PackageId, &Package> =
        metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let nodes: BTreeMap<&PackageId, &cargo_metadata::Node> =
        resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let mut todo = roots(metadata, bins);
    let mut seen: BTreeSet<&PackageId> = todo.iter().copied().collect();
    let mut out = BTreeSet::new();
    while let Some(id) = todo.pop() {
        let Some(node) = nodes.get(id) else { continue };
        for dep in &node.deps {
            // No kinds at all: a cargo too old to say; count it in rather than miss a crate.
            let normal = dep.dep_kinds.is_empty()
                || dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind == DependencyKind::Normal);
            let Some(p) = packages.get(&dep.pkg) else {
                continue;
            };
            if !normal || is_proc_macro(p) || !seen.insert(&dep.pkg) {
                continue;
            }
            out.insert(crate_of(p, lock_checksums));
            todo.push(&dep.pkg);
        }
    }
    out.into_iter().collect()
}

/// The workspace members that own a binary of `bins`; with `bins` empty, the root package, or
/// every member with a binary when the workspace has no root package.
fn roots<'a>(metadata: &'a Metadata, bins: &[String]) -> Vec<&'a PackageId> {
    let has_bin = |p: &Package| {
        p.targets
            .iter()
            .any(|t| t.is_kind(TargetKind::Bin) && (bins.is_empty() || bins.contains(&t.name)))
    };
    if bins.is_empty()
        && let Some(root) = metadata.root_package()
    {
        return vec![&root.id];
    }
    metadata
        .workspace_packages()
        .into_iter()
        .filter(|p| has_bin(p))
        .map(|p| &p.id)
        .collect()
}

/// A proc-macro crate runs in the compiler: its library target is a `proc-macro`.
fn is_proc_macro(p: &Package) -> bool {
    p.targets.iter().any(|t| t.is_kind(TargetKind::ProcMacro))
}

fn crate_of(p: &Package, lock_checksums: &BTreeMap<(String, String), String>) -> Crate {
    let (name, version) = (p.name.to_string(), p.version.to_string());
    Crate {
        checksum: lock_checksums
            .get(&(name.clone(), version.clone()))
            .cloned(),
        license: p.license.clone().filter(|l| !l.trim().is_empty()),
        source: p.source.as_ref().map(|s| s.repr.clone()),
        name,
        version,
    }
}

/// The SPDX license expression of a Cargo.toml `license`: as written when it is one already
/// (operators in upper case); rewritten when it uses a spelling crates.io once accepted (the
/// legacy `/` for `OR`, imprecise names such as `Apache2`, `GPL-2.0+`); None when it is not an
/// expression even so, or names a `LicenseRef-`, which the document would have to define.
pub fn spdx_license(cargo_license: &str) -> Option<String> {
    let text = cargo_license.trim();
    if valid_spdx(text) {
        return Some(upper_operators(text));
    }
    let canonical = spdx::Expression::canonicalize(text).ok()??;
    valid_spdx(&canonical).then_some(canonical)
}

/// `and`, `or` and `with` in upper case, as SPDX writes them; the rest as it is.
fn upper_operators(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match word.to_ascii_uppercase().as_str() {
            op @ ("AND" | "OR" | "WITH") => out.push_str(op),
            _ => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || c == '(' || c == ')' {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A valid SPDX 2.3 expression of listed identifiers (deprecated ones are still listed).
fn valid_spdx(text: &str) -> bool {
    let mode = spdx::ParseMode {
        allow_deprecated: true,
        ..spdx::ParseMode::STRICT
    };
    let Ok(expr) = spdx::Expression::parse_mode(text, mode) else {
        return false;
    };
    expr.requirements().all(|r| {
        matches!(r.req.license, spdx::LicenseItem::Spdx { .. })
            && !matches!(r.req.addition, Some(spdx::AdditionItem::Other(_)))
    })
}

/// `pkg:cargo/NAME@VERSION`: crates.io's packages have no namespace (the purl spec's `cargo`
/// type).
pub fn cargo_purl(name: &str, version: &str) -> String {
    format!("pkg:cargo/{}@{}", purl_segment(name), purl_segment(version))
}

/// Where crates.io serves a crate's `.crate` file.
pub fn crates_io_url(name: &str, version: &str) -> String {
    format!("https://static.crates.io/crates/{name}/{name}-{version}.crate")
}

/// Where a crate can be downloaded, in SPDX's form: crates.io's `.crate`, or a git source as
/// `git+URL@COMMIT` (SPDX 2.3 clause 7.7); NOASSERTION for a path crate or another registry.
fn download_location(c: &Crate) -> String {
    if c.is_crates_io() {
        return crates_io_url(&c.name, &c.version);
    }
    match c.source.as_deref().and_then(|s| s.strip_prefix("git+")) {
        Some(git) => {
            let (url, commit) = git.split_once('#').unwrap_or((git, ""));
            let url = url.split('?').next().unwrap_or(url);
            if commit.is_empty() {
                format!("git+{url}")
            } else {
                format!("git+{url}@{commit}")
            }
        }
        None => NOASSERTION.to_string(),
    }
}

/// A crate as an SPDX package: its `.crate` and checksum, its declared licence (concluded
/// NOASSERTION: nothing was analysed, as for Go modules), and its purl.
pub(super) fn crate_package(c: &Crate, id: String) -> SpdxPackage {
    let declared = c.license.as_deref().and_then(spdx_license);
    let mut comment = Vec::new();
    match (&c.license, &declared) {
        (None, _) => comment.push("no SPDX license in Cargo.toml".to_string()),
        (Some(l), None) => comment.push(format!(
            "Cargo.toml license `{}` is not an SPDX expression",
            l.trim()
        )),
        _ => {}
    }
    match c.source.as_deref() {
        None => comment.push("a path crate of the app's source tree".to_string()),
        Some(s) if !c.is_crates_io() => comment.push(format!("from {s}")),
        Some(_) => {}
    }
    SpdxPackage {
        spdx_id: id,
        name: c.name.clone(),
        version_info: Some(c.version.clone()),
        supplier: NOASSERTION.into(),
        download_location: download_location(c),
        files_analyzed: false,
        checksums: c
            .checksum
            .iter()
            .map(|sum| Checksum {
                algorithm: "SHA256".into(),
                checksum_value: sum.to_ascii_lowercase(),
            })
            .collect(),
        homepage: None,
        source_info: None,
        license_concluded: NOASSERTION.into(),
        license_declared: declared.unwrap_or_else(|| NOASSERTION.into()),
        copyright_text: NOASSERTION.into(),
        description: None,
        comment: Some(comment.join("; ")).filter(|c| !c.is_empty()),
        external_refs: vec![purl_ref(cargo_purl(&c.name, &c.version))],
        primary_package_purpose: "LIBRARY".into(),
    }
}

#[cfg(test)]
mod tests;
