//! What a crate's own files say, as `recipe new --crate` reads them from the unpacked
//! `.crate`: its `Cargo.toml` (name, licence, binaries, features) and its `Cargo.lock` (how
//! many crates the build vendors, TLS and C among them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::super::NewError;

/// One binary target of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bin {
    pub name: String,
    /// Features it needs (`required-features`).
    pub needs: Vec<String>,
}

/// What `recipe new` reads from a `Cargo.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub name: String,
    pub version: String,
    pub license: Option<String>,
    pub license_file: Option<String>,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub bins: Vec<Bin>,
    /// Every feature, and what each turns on.
    pub features: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
struct RawManifest {
    package: RawPackage,
    #[serde(default)]
    bin: Vec<RawBin>,
    #[serde(default)]
    features: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawPackage {
    name: String,
    version: String,
    license: Option<String>,
    license_file: Option<String>,
    description: Option<String>,
    homepage: Option<String>,
    repository: Option<String>,
    autobins: Option<bool>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawBin {
    name: Option<String>,
    path: Option<String>,
    #[serde(default)]
    required_features: Vec<String>,
}

/// Reads the package's `Cargo.toml` (`text`) in `tree`: its binaries are the `[[bin]]`
/// targets, and unless `autobins = false` the ones cargo finds itself (`src/main.rs`, named
/// after the package; `src/bin/NAME.rs`; `src/bin/NAME/main.rs`) that no `[[bin]]` names or
/// points at; sorted by name.
pub(crate) fn read_manifest(text: &str, tree: &Path, file: &str) -> Result<Manifest, NewError> {
    let raw: RawManifest = toml::from_str(text).map_err(|e| NewError::BadCrate {
        krate: file.to_string(),
        reason: e.message().to_string(),
    })?;
    let p = raw.package;
    let mut found = if p.autobins == Some(false) {
        Vec::new()
    } else {
        found_bins(tree, &p.name)
    };
    let mut bins: BTreeMap<String, Bin> = BTreeMap::new();
    for b in raw.bin {
        let name = b.name.clone().or_else(|| {
            b.path.as_deref().map(|path| match path {
                "src/main.rs" => p.name.clone(),
                _ => bin_name_of(path),
            })
        });
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            continue;
        };
        found.retain(|(n, path)| *n != name && Some(path.as_str()) != b.path.as_deref());
        let needs = b.required_features;
        bins.insert(name.clone(), Bin { name, needs });
    }
    for (name, _) in found {
        let needs = Vec::new();
        bins.entry(name.clone()).or_insert(Bin { name, needs });
    }
    let one_line = |s: Option<String>| {
        s.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty())
    };
    Ok(Manifest {
        name: p.name,
        version: p.version,
        license: one_line(p.license),
        license_file: p.license_file,
        description: one_line(p.description),
        homepage: one_line(p.homepage),
        repository: one_line(p.repository),
        bins: bins.into_values().collect(),
        features: raw.features,
    })
}

/// The binary cargo names after a target's path: `src/bin/x.rs` and `src/bin/x/main.rs` are
/// `x`.
fn bin_name_of(path: &str) -> String {
    let p = Path::new(path);
    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
    match stem.as_deref() {
        Some("main") => p
            .parent()
            .and_then(|d| d.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Some(s) => s.to_string(),
        None => String::new(),
    }
}

/// The binaries cargo discovers in `tree` on its own: `(name, path)`, sorted.
fn found_bins(tree: &Path, package: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if tree.join("src/main.rs").is_file() {
        out.push((package.to_string(), "src/main.rs".to_string()));
    }
    if let Ok(rd) = std::fs::read_dir(tree.join("src/bin")) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(t) = e.file_type() else { continue };
            if t.is_file()
                && let Some(stem) = name.strip_suffix(".rs")
            {
                out.push((stem.to_string(), format!("src/bin/{name}")));
            } else if t.is_dir() && e.path().join("main.rs").is_file() {
                out.push((name.clone(), format!("src/bin/{name}/main.rs")));
            }
        }
    }
    out.sort();
    out
}

/// The features `default` turns on, followed through the features it names (`dep:x` and
/// `x/y` are dependencies' and not followed).
pub(crate) fn default_features(features: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    let mut on = BTreeSet::new();
    let mut todo: Vec<&str> = vec!["default"];
    while let Some(f) = todo.pop() {
        for g in features.get(f).into_iter().flatten() {
            if features.contains_key(g.as_str()) && on.insert(g.clone()) {
                todo.push(g);
            }
        }
    }
    on
}

/// A licence as SPDX writes it: the legacy `MIT/Apache-2.0` is `MIT OR Apache-2.0`.
pub(crate) fn spdx_license(license: &str) -> String {
    if license.contains('/') {
        license
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" OR ")
    } else {
        license.trim().to_string()
    }
}

/// What the lock file tells the draft: how many crates the build vendors, which of the
/// crates that link a system TLS library it holds, and which compile C.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockFacts {
    pub crates: usize,
    /// `openssl-sys` and/or `native-tls`, in that order.
    pub tls: Vec<&'static str>,
    /// Crates that compile C or assembly when the build uses them (`*-sys`, `ring`), those
    /// for other systems left out; sorted, each once.
    pub c_crates: Vec<String>,
}

/// `*-sys` crates for other systems (or with no C in them): never compiled for Linux.
const NOT_C_ON_LINUX: &[&str] = &[
    "core-foundation-sys",
    "js-sys",
    "jni-sys",
    "linux-raw-sys",
    "security-framework-sys",
    "wasi-sys",
    "web-sys",
    "windows-sys",
];

/// Reads the package's `Cargo.lock` (`text`, named `file` in errors) as the build will: a git
/// or other-registry crate, or one without a checksum, is refused
/// ([`crate::source::crates::locked_crates`]).
pub(crate) fn lock_facts(text: &str, file: &Path) -> Result<LockFacts, NewError> {
    let crates = crate::source::crates::locked_crates(text, file)?;
    let tls = ["openssl-sys", "native-tls"]
        .into_iter()
        .filter(|n| crates.iter().any(|c| c.name == *n))
        .collect();
    let mut c_crates: Vec<String> = crates
        .iter()
        .map(|c| c.name.clone())
        .filter(|n| (n.ends_with("-sys") && !NOT_C_ON_LINUX.contains(&n.as_str())) || n == "ring")
        .collect();
    c_crates.dedup();
    Ok(LockFacts {
        crates: crates.len(),
        tls,
        c_crates,
    })
}
