//! A first recipe from a crates.io crate: the version and the `.crate`'s sha256 (`cksum`) from
//! crates.io's sparse index, the `.crate` fetched into the source store by that sha256 (so the
//! bytes written into the recipe are the index's), then its `Cargo.toml` (name, licence,
//! binaries, features) and `Cargo.lock` (required; crates.io crates only, as the build
//! vendors them; OpenSSL or native-tls in it flagged) read from the unpacked tree.
//!
//! The index is `RECIPE_CRATES_INDEX` (default `https://index.crates.io`), one file per crate
//! at cargo's sparse-index path (`3/s/syn`, `se/rd/serde`), each line a JSON object with at
//! least `vers`, `cksum` and `yanked`. The `.crate` comes from
//! [`crate::source::crates::crate_url`] (`RECIPE_CRATES_URL`), as the build fetches it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Draft, NewError, io_err};
use crate::source::{Fetch, Limits, Origin, SourceError, Store};

/// The variable naming the sparse index's base URL.
pub const ENV_CRATES_INDEX: &str = "RECIPE_CRATES_INDEX";
const DEFAULT_INDEX: &str = "https://index.crates.io";
/// The largest index file read (crates.io's biggest are a few MiB).
const MAX_INDEX: u64 = 32 << 20;

/// `recipe new --crate NAME[@VERSION] [RECIPE]`.
#[derive(Debug, Clone)]
pub struct CrateRequest {
    pub krate: String,
    /// None: the newest version that is neither a pre-release nor yanked.
    pub version: Option<String>,
    /// The recipe's name (default: the crate's).
    pub name: Option<String>,
}

impl CrateRequest {
    /// From `NAME` or `NAME@VERSION`.
    pub fn parse(spec: &str, name: Option<String>) -> Result<CrateRequest, NewError> {
        let bad = |why| NewError::BadInput {
            what: "crate",
            value: spec.to_string(),
            why,
        };
        let (krate, version) = match spec.split_once('@') {
            Some((k, v)) => (k, Some(v)),
            None => (spec, None),
        };
        if crate::recipe::rules::crate_name(krate).is_err() {
            return Err(bad(
                "expected NAME or NAME@VERSION with a crates.io name (letters, digits, `_` and \
                 `-`, starting with a letter), e.g. `miniserve@0.35.0`",
            ));
        }
        if let Some(v) = version
            && semver::Version::parse(v).is_err()
        {
            return Err(bad(
                "the version must be a crate's exact version, e.g. `2.44.1`",
            ));
        }
        if let Some(n) = &name
            && crate::recipe::rules::recipe_name(n).is_err()
        {
            return Err(NewError::BadInput {
                what: "recipe name",
                value: n.clone(),
                why: "a recipe name is lowercase letters and digits, separated by single `.`, \
                      `_` or `__`, or by dashes, e.g. `static-web-server`",
            });
        }
        Ok(CrateRequest {
            krate: krate.to_string(),
            version: version.map(str::to_string),
            name,
        })
    }

    /// The recipe's name: the one given, or the crate's made a recipe name.
    pub fn recipe_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| super::recipe_name(&self.krate))
    }
}

/// A crate's file in a sparse index (cargo's layout): `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`,
/// lowercase.
pub(crate) fn index_path(krate: &str) -> String {
    let n = krate.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

fn index_url(krate: &str) -> String {
    let base = std::env::var(ENV_CRATES_INDEX)
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_INDEX.to_string());
    format!("{}/{}", base.trim_end_matches('/'), index_path(krate))
}

/// One version of a crate, as its index line gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub(crate) struct Release {
    /// The crate's name as published (the index file is found case-insensitively).
    pub name: String,
    pub vers: String,
    /// The `.crate`'s sha256, lowercase hex.
    pub cksum: String,
    #[serde(default)]
    pub yanked: bool,
}

/// The releases of an index file, one JSON object a line (blank lines skipped).
pub(crate) fn parse_index(text: &str, url: &str) -> Result<Vec<Release>, NewError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| NewError::BadIndex {
            url: url.to_string(),
            line: i + 1,
            reason,
        };
        let r: Release = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        if r.cksum.len() != 64 || !r.cksum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("`cksum` is not a sha256".into()));
        }
        if semver::Version::parse(&r.vers).is_err() {
            return Err(bad(format!(
                "`vers` {} is not a version",
                crate::text::escape(&r.vers)
            )));
        }
        out.push(Release {
            cksum: r.cksum.to_ascii_lowercase(),
            ..r
        });
    }
    Ok(out)
}

/// The release asked for: that exact version (yanked or not: the caller says so), or the
/// newest that is neither a pre-release nor yanked.
pub(crate) fn choose<'a>(
    releases: &'a [Release],
    krate: &str,
    version: Option<&str>,
) -> Result<&'a Release, NewError> {
    let parsed = |r: &Release| semver::Version::parse(&r.vers).ok();
    let found = match version {
        Some(v) => releases.iter().find(|r| r.vers == v),
        None => releases
            .iter()
            .filter(|r| !r.yanked)
            .filter_map(|r| Some((parsed(r)?, r)))
            .filter(|(v, _)| v.pre.is_empty())
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, r)| r),
    };
    found.ok_or_else(|| {
        let mut known: Vec<&Release> = releases.iter().filter(|r| !r.yanked).collect();
        known.sort_by_key(|r| std::cmp::Reverse(parsed(r)));
        NewError::UnknownCrate {
            krate: krate.to_string(),
            version: version.map(str::to_string),
            known: known.iter().take(5).map(|r| r.vers.clone()).collect(),
        }
    })
}

/// Reads `krate`'s index file (capped at [`MAX_INDEX`] or the download cap, whichever is
/// smaller) through the URL origin's GET.
fn read_index(krate: &str, cache: &Path) -> Result<Vec<Release>, NewError> {
    let url = index_url(krate);
    let mut limits = Limits::from_env()?;
    limits.max_download = limits.max_download.min(MAX_INDEX);
    let tmp = super::scratch(cache)?;
    let (file, _) = match crate::source::download_to_temp(&url, &tmp, &limits) {
        Ok(x) => x,
        Err(SourceError::HttpStatus { status: 404, .. }) => {
            return Err(NewError::UnknownCrate {
                krate: krate.to_string(),
                version: None,
                known: Vec::new(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let text = std::fs::read_to_string(&file).map_err(io_err(format!("reading {url}")))?;
    parse_index(&text, &url)
}

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

/// A first recipe for the crate `req`: the release from the index, the `.crate` checked
/// against its `cksum`, and what its `Cargo.toml` and `Cargo.lock` say.
pub fn from_crate(
    req: &CrateRequest,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Draft, NewError> {
    progress(&format!("reading the index of {}", req.krate));
    let releases = read_index(&req.krate, cache)?;
    let release = choose(&releases, &req.krate, req.version.as_deref())?.clone();
    let label = format!("{}-{}", release.name, release.vers);
    let store = Store::new(crate::cache::Layout::new(cache).sources());
    let fetch = Fetch {
        sha256: release.cksum.clone(),
        origins: vec![Origin::Url(crate::source::crates::crate_url(
            &release.name,
            &release.vers,
        ))],
    };
    let archive = store.fetch(&fetch, progress).map_err(|e| match e {
        SourceError::AllOriginsFailed { ref errors, .. }
            if errors
                .iter()
                .any(|e| matches!(e, SourceError::Mismatch { .. })) =>
        {
            NewError::CrateChecksum {
                krate: label.clone(),
                source: e,
            }
        }
        e => e.into(),
    })?;
    let (_work, tree) = super::unpack(cache, &archive, 1)?;
    let read = |file: &str| -> Result<Option<String>, NewError> {
        let path = tree.join(file);
        if !path.is_file() {
            return Ok(None);
        }
        std::fs::read_to_string(&path)
            .map(Some)
            .map_err(io_err(format!("reading {label}/{file}")))
    };
    let toml_text = read("Cargo.toml")?.ok_or_else(|| NewError::BadCrate {
        krate: label.clone(),
        reason: "it holds no `Cargo.toml`".into(),
    })?;
    let manifest = read_manifest(&toml_text, &tree, &format!("{label}/Cargo.toml"))?;
    if manifest.name != release.name || manifest.version != release.vers {
        return Err(NewError::BadCrate {
            krate: label,
            reason: format!(
                "its `Cargo.toml` names {} {}",
                crate::text::escape(&manifest.name),
                crate::text::escape(&manifest.version)
            ),
        });
    }
    // A library crate is refused as such, before its (usually absent) lock file.
    if manifest.bins.is_empty() {
        return Err(NewError::NoBinary(label));
    }
    let lock_text = read("Cargo.lock")?.ok_or_else(|| NewError::NoCargoLock(label.clone()))?;
    let lock = lock_facts(&lock_text, Path::new(&format!("{label}/Cargo.lock")))?;
    let mut d = crate_draft(req, &release, &manifest, &lock);
    binaries(&mut d, &manifest, &label)?;
    features_and_tls(&mut d, &manifest, &lock);
    smoke_and_image(&mut d);
    Ok(d)
}

/// The draft's name, version, licence, homepage, description and source pin.
fn crate_draft(
    req: &CrateRequest,
    release: &Release,
    manifest: &Manifest,
    lock: &LockFacts,
) -> Draft {
    let (name, vers) = (&release.name, &release.vers);
    let mut d = Draft {
        name: req.recipe_name(),
        version: vers.replace('+', "-"),
        homepage: manifest
            .homepage
            .clone()
            .or_else(|| manifest.repository.clone())
            .unwrap_or_else(|| format!("https://crates.io/crates/{name}")),
        description: manifest
            .description
            .clone()
            .unwrap_or_else(|| format!("{name} (Rust)")),
        sha256: release.cksum.clone(),
        note: format!("the .crate file crates.io serves for {name} {vers}"),
        source_comment: vec![format!(
            "sha256 of {name}-{vers}.crate as crates.io's index lists it (`cksum`); `recipe new` \
             checked the bytes it fetched against it."
        )],
        origin_table: "source.crate".into(),
        origin_lines: vec![
            ("name".into(), name.clone()),
            ("version".into(), vers.clone()),
        ],
        system: "cargo".into(),
        ..Draft::default()
    };
    d.guesses.push(format!(
        "source: {name}-{vers}.crate, sha256 {} (crates.io's index){}",
        release.cksum,
        if req.version.is_none() {
            ", the newest release that is neither a pre-release nor yanked"
        } else {
            ""
        }
    ));
    if release.yanked {
        d.checks.push(format!(
            "{name} {vers} is yanked on crates.io: its authors withdrew it; prefer another version"
        ));
    }
    d.guesses.push(format!(
        "build system: cargo (Cargo.lock pins {} crate{} from crates.io)",
        lock.crates,
        if lock.crates == 1 { "" } else { "s" }
    ));
    match (&manifest.license, &manifest.license_file) {
        (Some(l), _) => {
            d.license = spdx_license(l);
            d.license_comment =
                vec!["the licence is the package's `license` in Cargo.toml.".into()];
            d.guesses
                .push(format!("license {}, from Cargo.toml", d.license));
        }
        (None, file) => {
            d.license = "NOASSERTION".into();
            d.checks.push(format!(
                "license: Cargo.toml names no SPDX licence{}; set the SPDX expression \
                 (`NOASSERTION` now)",
                file.as_ref()
                    .map(|f| format!(" (only the file `{}`)", crate::text::escape(f)))
                    .unwrap_or_default()
            ));
        }
    }
    if manifest.description.is_none() {
        d.checks
            .push("description: one line saying what the app is".into());
    }
    d
}

/// The binaries cargo builds by default as app files (those needing a feature that is not on
/// by default are left out, and said so), with `bins` written out when there are several.
fn binaries(d: &mut Draft, manifest: &Manifest, label: &str) -> Result<(), NewError> {
    let on = default_features(&manifest.features);
    let (built, left): (Vec<&Bin>, Vec<&Bin>) = manifest
        .bins
        .iter()
        .partition(|b| b.needs.iter().all(|f| on.contains(f)));
    for b in &left {
        d.checks.push(format!(
            "binary `{}` needs the feature(s) {}, not on by default: left out; to ship it, add \
             them to `features` and it to `bins` and `[app] files`",
            b.name,
            b.needs.join(", ")
        ));
    }
    if built.is_empty() {
        return Err(NewError::NoBinary(label.to_string()));
    }
    // The binary named after the package first: the image's entrypoint.
    let mut names: Vec<String> = built.iter().map(|b| b.name.clone()).collect();
    names.sort_by_key(|n| (*n != manifest.name, n.clone()));
    d.files = names
        .iter()
        .map(|n| format!("/usr/local/bin/{n}"))
        .collect();
    d.guesses.push(format!(
        "binaries {} -> app files {}",
        names.join(", "),
        d.files.join(", ")
    ));
    if names.len() > 1 {
        d.build_comment.push(format!(
            "CHECK: the package has {} binaries; keep in `bins` (and `[app] files`) those the \
             image needs.",
            names.len()
        ));
        d.options.push(("bins".into(), names));
        d.checks
            .push("[build] bins: more than one binary; keep the ones the image needs".into());
    }
    Ok(())
}

/// The package's features (as a comment) and what an OpenSSL in the lock file asks of a
/// static build.
fn features_and_tls(d: &mut Draft, manifest: &Manifest, lock: &LockFacts) {
    let features: Vec<&String> = manifest
        .features
        .keys()
        .filter(|f| *f != "default")
        .collect();
    if !features.is_empty() {
        let on: Vec<String> = default_features(&manifest.features).into_iter().collect();
        d.build_comment.push(format!(
            "features of the package: {} (on by default: {}); `features = [...]` turns more \
             on, `no-default-features = true` turns the defaults off.",
            features
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if on.is_empty() {
                "none".to_string()
            } else {
                on.join(", ")
            }
        ));
    }
    if !lock.c_crates.is_empty() {
        d.guesses.push(format!(
            "crates that compile C when the build uses them (zig is their C compiler; some may \
             be for features or systems not built): {}",
            lock.c_crates.join(", ")
        ));
    }
    if lock.tls.is_empty() {
        return;
    }
    let helpful: Vec<&str> = features
        .iter()
        .map(|f| f.as_str())
        .filter(|f| f.contains("rustls") || f.contains("vendored") || f.contains("openssl"))
        .collect();
    let hint = if helpful.is_empty() {
        String::new()
    } else {
        format!(" (the package's features that may: {})", helpful.join(", "))
    };
    let tls = lock.tls.join(" and ");
    d.build_comment.push(format!(
        "CHECK: Cargo.lock has {tls}: openssl-sys links the system OpenSSL, which a static musl \
         build cannot; turn on a feature that builds it vendored (openssl's `vendored`) or one \
         that uses rustls instead{hint}."
    ));
    d.checks.push(format!(
        "[build] features: Cargo.lock has {tls}; a static build needs OpenSSL vendored \
         (openssl's `vendored` feature) or rustls instead{hint}"
    ));
}

/// An active `--version` smoke test (clap's `--version` prints `NAME VERSION`) and what the
/// image needs checked.
fn smoke_and_image(d: &mut Draft) {
    let program = d
        .files
        .first()
        .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
        .unwrap_or_default();
    d.smoke = Some((vec![program.clone(), "--version".into()], d.version.clone()));
    d.checks.push(format!(
        "[smoke]: a guess (`{program} --version` printing {}); confirm it, or make it a \
         service test",
        d.version
    ));
    d.image_checks("an app");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_specs_are_checked() {
        let r = CrateRequest::parse("static-web-server@2.44.1", None).unwrap();
        assert_eq!(
            (r.krate.as_str(), r.version.as_deref()),
            ("static-web-server", Some("2.44.1"))
        );
        assert_eq!(r.recipe_name(), "static-web-server");
        let r = CrateRequest::parse("Mini_Serve", Some("ms".into())).unwrap();
        assert_eq!(
            (r.version.clone(), r.recipe_name()),
            (None, "ms".to_string())
        );
        assert_eq!(
            CrateRequest::parse("Mini_Serve", None)
                .unwrap()
                .recipe_name(),
            "mini_serve"
        );
        for bad in [
            "",
            "1x",
            "a b",
            "x@",
            "x@latest",
            "x@1.0",
            "../x@1.0.0",
            "x@1.0.0/..",
        ] {
            assert!(CrateRequest::parse(bad, None).is_err(), "{bad}");
        }
        assert!(CrateRequest::parse("x", Some("../y".into())).is_err());
    }

    #[test]
    fn index_paths_are_cargos() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("Syn"), "3/s/syn");
        assert_eq!(index_path("serde"), "se/rd/serde");
        assert_eq!(index_path("static-web-server"), "st/at/static-web-server");
    }

    fn rel(vers: &str, yanked: bool) -> Release {
        Release {
            name: "x".into(),
            vers: vers.into(),
            cksum: "a".repeat(64),
            yanked,
        }
    }

    #[test]
    fn the_newest_release_is_neither_a_pre_release_nor_yanked() {
        let all = [
            rel("0.9.0", false),
            rel("0.10.0", false),
            rel("0.11.0-rc.1", false),
            rel("0.12.0", true),
        ];
        assert_eq!(choose(&all, "x", None).unwrap().vers, "0.10.0");
        // Asked for, a yanked or pre-release version is taken (the draft says it is yanked).
        assert!(choose(&all, "x", Some("0.12.0")).unwrap().yanked);
        assert_eq!(
            choose(&all, "x", Some("0.11.0-rc.1")).unwrap().vers,
            "0.11.0-rc.1"
        );
        let e = choose(&all, "x", Some("1.0.0")).unwrap_err().to_string();
        assert!(
            e.contains("(its newest: 0.11.0-rc.1, 0.10.0, 0.9.0)"),
            "{e}"
        );
        assert!(choose(&[rel("1.0.0", true)], "x", None).is_err());
    }

    #[test]
    fn index_lines_are_parsed_and_checked() {
        let good = format!(
            "{{\"name\":\"x\",\"vers\":\"1.0.0\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false,\"v\":2}}\n\n",
            "AB".repeat(32)
        );
        let r = parse_index(&good, "u").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].cksum, "ab".repeat(32));
        let e = parse_index(&good.replace("AB", "A"), "u").unwrap_err();
        assert!(e.to_string().starts_with("u:1: "), "{e}");
        assert!(parse_index("{\"vers\":\"1\"}", "u").is_err());
        assert!(parse_index(&good.replace("1.0.0", "one"), "u").is_err());
    }

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for f in files {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "fn main() {}\n").unwrap();
        }
        d
    }

    #[test]
    fn binaries_are_the_targets_cargo_builds() {
        let t = tree(&[
            "src/main.rs",
            "src/bin/b.rs",
            "src/bin/c/main.rs",
            "src/bin/d.rs",
        ]);
        let text = r#"
[package]
name = "app"
version = "1.0.0"
license = "MIT/Apache-2.0"
description = """two
   lines"""

[features]
default = ["a"]
a = ["b", "dep:x"]
b = []
extra = []

[[bin]]
name = "dee"
path = "src/bin/d.rs"
required-features = ["extra"]
"#;
        let m = read_manifest(text, t.path(), "Cargo.toml").unwrap();
        let names: Vec<&str> = m.bins.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["app", "b", "c", "dee"]);
        assert_eq!(m.bins[3].needs, ["extra"]);
        assert_eq!(m.description.as_deref(), Some("two lines"));
        assert_eq!(
            spdx_license(m.license.as_deref().unwrap()),
            "MIT OR Apache-2.0"
        );
        assert_eq!(spdx_license("Apache-2.0 OR MIT"), "Apache-2.0 OR MIT");
        assert_eq!(
            default_features(&m.features)
                .into_iter()
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        // autobins = false: the [[bin]] targets only.
        let off = text.replace("[package]\n", "[package]\nautobins = false\n");
        let m = read_manifest(&off, t.path(), "Cargo.toml").unwrap();
        assert_eq!(m.bins.len(), 1);
        let e = read_manifest("[package]\n", t.path(), "x/Cargo.toml").unwrap_err();
        assert!(e.to_string().starts_with("x/Cargo.toml: "), "{e}");
    }

    #[test]
    fn openssl_in_the_lock_file_is_flagged_and_git_crates_refused() {
        let lock = |name: &str, source: &str| {
            format!(
                "version = 4\n[[package]]\nname = \"app\"\nversion = \"1.0.0\"\n\n\
                 [[package]]\nname = \"{name}\"\nversion = \"0.9.1\"\nsource = \"{source}\"\n\
                 checksum = \"{}\"\n",
                "c".repeat(64)
            )
        };
        let io = "registry+https://github.com/rust-lang/crates.io-index";
        let f = lock_facts(&lock("openssl-sys", io), Path::new("Cargo.lock")).unwrap();
        assert_eq!(
            f,
            LockFacts {
                crates: 1,
                tls: vec!["openssl-sys"],
                c_crates: vec!["openssl-sys".into()],
            }
        );
        assert!(
            lock_facts(&lock("itoa", io), Path::new("L"))
                .unwrap()
                .tls
                .is_empty()
        );
        let e = lock_facts(&lock("itoa", "git+https://x/y#1"), Path::new("L")).unwrap_err();
        assert!(
            e.to_string().contains("cannot be pinned by checksum"),
            "{e}"
        );

        let mut d = Draft::default();
        let m = Manifest {
            name: "app".into(),
            version: "1.0.0".into(),
            license: None,
            license_file: None,
            description: None,
            homepage: None,
            repository: None,
            bins: Vec::new(),
            features: [
                ("default".to_string(), vec!["native-tls".to_string()]),
                ("native-tls".to_string(), vec![]),
                ("rustls-tls".to_string(), vec![]),
            ]
            .into(),
        };
        features_and_tls(
            &mut d,
            &m,
            &LockFacts {
                crates: 3,
                tls: vec!["openssl-sys", "native-tls"],
                c_crates: vec!["openssl-sys".into()],
            },
        );
        assert!(
            d.build_comment[0].contains("on by default: native-tls"),
            "{:?}",
            d.build_comment
        );
        assert!(
            d.build_comment[1].contains("openssl-sys and native-tls"),
            "{:?}",
            d.build_comment
        );
        assert!(
            d.checks[0].contains("features that may: rustls-tls"),
            "{:?}",
            d.checks
        );
    }
}
